/* Fuzzes the import's cell conversion and validation with arbitrary text: the first byte
 * picks the CSV delimiter and the date format, the rest is the cell. Checks the invariants
 * the importer relies on: parsed numbers are finite, a parsed date formats as storage text
 * that reads back to the same second (storage keeps whole seconds, rounded to the nearest:
 * 10:30:15.87 is stored as 10:30:16), and validation never crashes or leaks. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/cell_convert.h"
#include "import/date_format.h"
#include "import/validate.h"

static const char *formats[] = {"DD/MM/YYYY", "MM-DD-YY", "YYYY.MM.DD HH:mm:ss", "D.M.YYYY",
                                "dd/mm/yyyy hh:mm"};

static const char *tmpl_json =
    "{\"name\": \"F\", \"table\": \"f\", \"mode\": \"partial\", \"columns\": ["
    " {\"key\": \"e\", \"header\": \"E\", \"type\": \"email\", \"unique\": true},"
    " {\"key\": \"n\", \"header\": \"N\", \"type\": \"enum\", \"values\": [\"A\", \"b\"]},"
    " {\"key\": \"i\", \"header\": \"I\", \"type\": \"integer\", \"min\": -5, \"max\": 1e12},"
    " {\"key\": \"d\", \"header\": \"D\", \"type\": \"decimal\"},"
    " {\"key\": \"s\", \"header\": \"S\", \"type\": \"string\", \"max_length\": 9,"
    "  \"pattern\": \"^(a|b)*c$\"},"
    " {\"key\": \"t\", \"header\": \"T\", \"type\": \"date\", \"format\": \"DD/MM/YYYY\"},"
    " {\"key\": \"u\", \"header\": \"U\", \"type\": \"datetime\"},"
    " {\"key\": \"b\", \"header\": \"B\", \"type\": \"boolean\", \"required\": true}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char delim = (data[0] & 1) ? ';' : ',';
    const char *format = formats[(data[0] >> 1) % (sizeof formats / sizeof formats[0])];
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    size_t len = size - 1;

    double d;
    if (convert_parse_number(text, len, delim, &d))
        assert(isfinite(d));
    int64_t i;
    convert_parse_integer(text, len, delim, &i);
    bool b;
    convert_parse_bool(text, len, &b);
    char out[24];
    for (int with_time = 0; with_time < 2; with_time++) {
        double days;
        if (convert_parse_iso(text, len, with_time, &days) ||
            date_format_parse(format, text, len, with_time, &days)) {
            assert(convert_format_datetime(days, out));
            double again;
            assert(convert_parse_iso(out, strlen(out), true, &again));
            assert(fabs(again - days) * 86400.0 <= 0.5 + 1e-6);
        }
    }

    struct import_template *tmpl = NULL;
    struct validator *v = NULL;
    if (template_parse(&tmpl, tmpl_json, strlen(tmpl_json), NULL, NULL) == 0) {
        struct convert_context ctx = {delim, (data[0] & 0x80) != 0};
        if (validator_new(&v, tmpl, &ctx, NULL) == 0) {
            struct sheet_cell cell = {0, SHEET_CELL_STRING, 0, text, len};
            struct cell_value values[8];
            struct buf msg = BUF_INIT;
            bool ok = true;
            for (size_t c = 0; c < tmpl->ncolumns; c++)
                ok &= validator_check_cell(v, c, &cell, &values[c], &msg) == 0;
            (void)ok;
            buf_free(&msg);
        }
    }
    validator_free(v);
    template_free(tmpl);
    free(text);
    return 0;
}
