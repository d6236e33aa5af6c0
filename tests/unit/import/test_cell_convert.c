#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "../base/civil_cases.h"
#include "base/civil.h"
#include "import/cell_convert.h"
#include "import/date_format.h"

static double num(const char *s, char delim, bool *ok)
{
    double v = NAN;
    *ok = convert_parse_number(s, strlen(s), delim, &v);
    return v;
}

Test(cell_convert, numbers_from_text)
{
    bool ok;
    cr_assert_float_eq(num("1,234.50", ',', &ok), 1234.5, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("  42  ", ',', &ok), 42, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("$1,000", ',', &ok), 1000, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("\xe2\x82\xac 3.25", ',', &ok), 3.25, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("-\xc2\xa3"
                           "7",
                           ',', &ok),
                       -7, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("1e3", ',', &ok), 1000, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num(".5", ',', &ok), 0.5, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("1,234,567.5", ',', &ok), 1234567.5, 1e-9);
    cr_assert(ok);
}

Test(cell_convert, european_numbers_only_in_semicolon_csv)
{
    bool ok;
    cr_assert_float_eq(num("1.234,50", ';', &ok), 1234.5, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("1234,5", ';', &ok), 1234.5, 1e-9);
    cr_assert(ok);
    cr_assert_float_eq(num("3.5", ';', &ok), 3.5, 1e-9);
    cr_assert(ok);
    num("1.234,50", ',', &ok);
    cr_assert_not(ok);
    num("1234,5", ',', &ok);
    cr_assert_not(ok);
    num("1234,5", 0, &ok);
    cr_assert_not(ok);
}

Test(cell_convert, not_numbers)
{
    const char *bad[] = {"",   " ", "abc",   "1,5", "12,34.5", "1.2.3", "--1",
                         "1e", "$", "1 000", "nan", "inf",     "0x10",  "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        cr_assert_not(convert_parse_number(bad[i], strlen(bad[i]), ',', &v), "%s", bad[i]);
    }
}

Test(cell_convert, integers_exact_and_fractions_rejected)
{
    int64_t v = 0;
    cr_assert_eq(convert_parse_integer("9223372036854775807", 19, ',', &v), CONVERT_OK);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(convert_parse_integer("-9,223,372,036,854,775,808", 26, ',', &v), CONVERT_OK);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(convert_parse_integer("9223372036854775808", 19, ',', &v), CONVERT_OUT_OF_RANGE);
    cr_assert_eq(convert_parse_integer("12.5", 4, ',', &v), CONVERT_NOT_WHOLE);
    cr_assert_eq(convert_parse_integer("12.00", 5, ',', &v), CONVERT_OK);
    cr_assert_eq(v, 12);
    cr_assert_eq(convert_parse_integer("1e30", 4, ',', &v), CONVERT_OUT_OF_RANGE);
    cr_assert_eq(convert_parse_integer("twelve", 6, ',', &v), CONVERT_NOT_NUMBER);
}

Test(cell_convert, booleans)
{
    const char *yes[] = {"TRUE", "true", " Yes ", "y", "1", "x", "X"};
    const char *no[] = {"FALSE", "no", "N", "0"};
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        cr_assert(convert_parse_bool(yes[i], strlen(yes[i]), &b), "%s", yes[i]);
        cr_assert(b, "%s", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        cr_assert(convert_parse_bool(no[i], strlen(no[i]), &b), "%s", no[i]);
        cr_assert_not(b, "%s", no[i]);
    }
    cr_assert_not(convert_parse_bool("maybe", 5, &b));
    cr_assert_not(convert_parse_bool("2", 1, &b));
}

static double civil(int y, int m, int d)
{
    return (double)civil_days_from_ymd(y, m, d);
}

Test(cell_convert, iso_dates)
{
    double d;
    cr_assert(convert_parse_iso("2015-03-01", 10, false, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1), 1e-9);
    cr_assert(convert_parse_iso("2024-02-29", 10, false, &d));
    cr_assert_not(convert_parse_iso("2023-02-29", 10, false, &d));
    cr_assert_not(convert_parse_iso("2015-13-01", 10, false, &d));
    cr_assert_not(convert_parse_iso("2015-04-31", 10, false, &d));
    cr_assert_not(convert_parse_iso("2015-03-01 10:00", 16, false, &d));
    cr_assert(convert_parse_iso("2015-03-01 10:30", 16, true, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1) + 10.5 / 24, 1e-9);
    cr_assert(convert_parse_iso("2015-03-01T10:30:15Z", 20, true, &d));
    cr_assert_not(convert_parse_iso("2015-03-01T24:00", 16, true, &d));
    cr_assert_not(convert_parse_iso("15-03-01", 8, false, &d));
    cr_assert(convert_parse_iso("  2015-03-01 ", 13, false, &d));  /* spaces around are trimmed */
    cr_assert_not(convert_parse_iso("0000-01-01", 10, false, &d)); /* years 1..9999 only */
    cr_assert_not(convert_parse_iso("10000-01-01", 11, false, &d));
}

/* The importer reads the shared ISO table exactly as base/civil.c does. */
Test(cell_convert, iso_table)
{
    for (size_t i = 0; i < CIVIL_NCASES; i++) {
        const struct civil_case *c = &civil_cases[i];
        double v = -1;
        bool ok = convert_parse_iso(c->text, strlen(c->text), true, &v);
        cr_assert_eq(ok, c->ok, "%s: parsed %d, want %d", c->text, ok, c->ok);
        if (ok)
            cr_assert_float_eq(v, civil(c->y, c->m, c->d) + c->secs / 86400, 1e-9, "%s", c->text);
        bool date_only = convert_parse_iso(c->text, strlen(c->text), false, &v);
        cr_assert_eq(date_only, c->ok && !strchr(c->text, ':'), "%s as a date", c->text);
    }
}

Test(cell_convert, formats)
{
    double d;
    const char *s = "01/03/2015";
    cr_assert(date_format_parse("DD/MM/YYYY", s, strlen(s), false, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1), 1e-9);
    cr_assert(date_format_parse("DD/MM/YYYY", "1/3/2015", 8, false, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1), 1e-9);
    /* lower-case tokens are no tokens (the template check refuses such a format) */
    cr_assert_not(date_format_parse("dd/mm/yyyy", "1/3/2015", 8, false, &d));
    cr_assert(date_format_parse("MM/DD/YY", "03/01/15", 8, false, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1), 1e-9);
    cr_assert(date_format_parse("DD.MM.YYYY HH:mm", "01.03.2015 07:45", 16, true, &d));
    cr_assert_float_eq(d, civil(2015, 3, 1) + (7 * 60 + 45) / 1440.0, 1e-9);
    cr_assert_not(date_format_parse("DD/MM/YYYY", "31/02/2015", 10, false, &d));
    cr_assert_not(date_format_parse("DD/MM/YYYY", "2015-03-01", 10, false, &d));
    cr_assert_not(date_format_parse("DD/MM/YYYY", "01/03/2015x", 11, false, &d));
}

Test(cell_convert, storage_text)
{
    char out[24];
    cr_assert(convert_format_date(civil(2015, 3, 1), out));
    cr_assert_str_eq(out, "2015-03-01");
    cr_assert(convert_format_datetime(civil(2015, 3, 1) + 0.75 + 0.4 / 86400, out));
    cr_assert_str_eq(out, "2015-03-01 18:00:00");
    cr_assert(convert_format_datetime(civil(1999, 12, 31) + 86399.6 / 86400, out));
    cr_assert_str_eq(out, "2000-01-01 00:00:00");
    cr_assert_not(convert_format_date(civil(10000, 1, 1), out));
}

Test(cell_convert, storage_text_pads_every_field)
{
    char out[24];
    cr_assert(convert_format_date(civil(1, 1, 1), out));
    cr_assert_str_eq(out, "0001-01-01");
    cr_assert(convert_format_datetime(civil(9, 2, 3) + (4 * 3600 + 5 * 60 + 6) / 86400.0, out));
    cr_assert_str_eq(out, "0009-02-03 04:05:06");
    cr_assert(convert_format_datetime(civil(9999, 12, 31) + 86399.0 / 86400, out));
    cr_assert_str_eq(out, "9999-12-31 23:59:59");
    cr_assert(convert_format_date(civil(987, 10, 20), out));
    cr_assert_str_eq(out, "0987-10-20");
}

static struct template_column column(enum template_type type)
{
    struct template_column c;
    memset(&c, 0, sizeof c);
    c.key = "k";
    c.header = "K";
    c.type = type;
    c.max_length = -1;
    return c;
}

Test(cell_convert, cells_by_type)
{
    struct convert_context ctx = {',', false};
    struct cell_value v;
    struct template_column c = column(TEMPLATE_TYPE_DATE);

    struct sheet_cell serial = {0, SHEET_CELL_NUMBER, 42064, NULL, 0}; /* 2015-03-01 */
    cr_assert_eq(cell_convert(&v, &c, &serial, &ctx), CONVERT_OK);
    cr_assert_str_eq(v.text, "2015-03-01");
    struct convert_context ctx1904 = {0, true};
    struct sheet_cell serial1904 = {0, SHEET_CELL_NUMBER, 42064 - 1462, NULL, 0};
    cr_assert_eq(cell_convert(&v, &c, &serial1904, &ctx1904), CONVERT_OK);
    cr_assert_str_eq(v.text, "2015-03-01");

    struct sheet_cell date = {0, SHEET_CELL_DATE, civil(2015, 3, 1), NULL, 0};
    cr_assert_eq(cell_convert(&v, &c, &date, &ctx), CONVERT_OK);
    cr_assert_str_eq(v.text, "2015-03-01");

    struct sheet_cell text = {0, SHEET_CELL_STRING, 0, "not a date", 10};
    cr_assert_eq(cell_convert(&v, &c, &text, &ctx), CONVERT_NOT_DATE);
    cr_assert_eq(cell_convert(&v, &c, NULL, &ctx), CONVERT_EMPTY);

    struct template_column b = column(TEMPLATE_TYPE_BOOLEAN);
    cr_assert_eq(cell_convert(&v, &b, NULL, &ctx), CONVERT_OK);
    cr_assert_not(v.null);
    cr_assert_not(v.b);
    struct sheet_cell x = {0, SHEET_CELL_STRING, 0, "x", 1};
    cr_assert_eq(cell_convert(&v, &b, &x, &ctx), CONVERT_OK);
    cr_assert(v.b);

    struct template_column s = column(TEMPLATE_TYPE_STRING);
    struct sheet_cell n = {0, SHEET_CELL_NUMBER, 12.5, NULL, 0};
    cr_assert_eq(cell_convert(&v, &s, &n, &ctx), CONVERT_OK);
    cr_assert_eq(v.len, 4);
    cr_assert(!memcmp(v.text, "12.5", 4));
    struct sheet_cell e = {0, SHEET_CELL_ERROR, 0, "#N/A", 4};
    cr_assert_eq(cell_convert(&v, &s, &e, &ctx), CONVERT_ERROR_CELL);

    struct template_column i = column(TEMPLATE_TYPE_INTEGER);
    struct sheet_cell big = {0, SHEET_CELL_NUMBER, 1e19, NULL, 0};
    cr_assert_eq(cell_convert(&v, &i, &big, &ctx), CONVERT_OUT_OF_RANGE);
    struct sheet_cell frac = {0, SHEET_CELL_NUMBER, 2.5, NULL, 0};
    cr_assert_eq(cell_convert(&v, &i, &frac, &ctx), CONVERT_NOT_WHOLE);
    struct sheet_cell bool_cell = {0, SHEET_CELL_BOOL, 1, NULL, 0};
    cr_assert_eq(cell_convert(&v, &i, &bool_cell, &ctx), CONVERT_NOT_NUMBER);

    struct template_column dt = column(TEMPLATE_TYPE_DATETIME);
    struct sheet_cell when = {0, SHEET_CELL_NUMBER, 42064.5, NULL, 0};
    cr_assert_eq(cell_convert(&v, &dt, &when, &ctx), CONVERT_OK);
    cr_assert_str_eq(v.text, "2015-03-01 12:00:00");
}
