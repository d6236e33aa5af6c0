/* The XLSX writer: the package it produces (parts, frozen header, autofilter, validations,
 * styles) inspected with libzip, its refusals, and a round trip through sheet_open. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "sheet/numfmt.h"
#include "sheet/sheet.h"
#include "sheet/xlsx_writer.h"
#include "test_support.h"

/* libxlsxwriter 1.1.4 loses one copy of the formula of every list validation inside
 * worksheet_data_validation_range (a library bug, a few dozen bytes per list; see
 * xlsx_writer.h). Suppress exactly that stack; a full unwind is needed to see the frame. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:worksheet_data_validation_range\n";
}
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

TestSuite(xlsx_writer, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

static struct xlsx_writer *open_writer(const char *name, char **path_out)
{
    char *path = test_suite_path(name);
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = path;
    o.tmpdir = test_suite_tmpdir();
    struct xlsx_writer *w = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xlsx_writer_open(&w, &o, &err), 0, "%s", err.message);
    *path_out = path;
    return w;
}

/* The text of one zip entry, or NULL when the entry is missing. */
static char *zip_entry(const char *path, const char *entry)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    cr_assert_not_null(z, "%s is not a zip (%d)", path, zerr);
    zip_stat_t st;
    char *out = NULL;
    if (zip_stat(z, entry, 0, &st) == 0) {
        zip_file_t *f = zip_fopen(z, entry, 0);
        cr_assert_not_null(f);
        out = calloc(1, st.size + 1);
        cr_assert_eq(zip_fread(f, out, st.size), (zip_int64_t)st.size);
        zip_fclose(f);
    }
    zip_close(z);
    return out;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Every test names its error struct `err`, so a failure shows the writer's sentence. */
#define OK(call)                                                                                   \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        cr_assert_eq(rc_, 0, "%s failed (%d): %s", #call, rc_, err.message);                       \
    } while (0)

Test(xlsx_writer, typed_cells_header_and_styles)
{
    char *path;
    struct xlsx_writer *w = open_writer("typed.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    struct xlsx_column cols[] = {{"Name", 0},   {"Amount", 12}, {"Active", 0},
                                 {"Signup", 0}, {"Seen", 0},    {"At", 0}};
    OK(xlsx_writer_add_sheet(w, "Customers", &err));
    OK(xlsx_writer_set_columns(w, cols, 6, &err));
    OK(xlsx_writer_write_header(w, &err));
    cr_assert_eq(xlsx_writer_current_row(w), 1);
    OK(xlsx_writer_begin_row(w, &err));
    cr_assert_eq(xlsx_writer_current_row(w), 2);
    /* columns out of order, highlight before the value */
    OK(xlsx_writer_write_time(w, 5, 0.5, &err));
    OK(xlsx_writer_highlight(w, 0, &err));
    OK(xlsx_writer_write_string(w, 0, "=1+1", 4, &err));
    OK(xlsx_writer_write_number(w, 1, 12.5, &err));
    OK(xlsx_writer_write_bool(w, 2, true, &err));
    OK(xlsx_writer_write_date(w, 3, 16495, &err));    /* 2015-03-01 */
    OK(xlsx_writer_write_date(w, 4, 16495.75, &err)); /* 2015-03-01 18:00 */
    OK(xlsx_writer_begin_row(w, &err));
    OK(xlsx_writer_write_string(w, 0, "second", 6, &err));
    OK(xlsx_writer_highlight(w, 1, &err)); /* a highlighted empty cell */
    OK(xlsx_writer_close(w, &err));

    cr_assert(file_exists(path));
    char part[4096];
    snprintf(part, sizeof part, "%s.part", path);
    cr_assert_not(file_exists(part), "the .part file must be renamed away");

    char *sheet = zip_entry(path, "xl/worksheets/sheet1.xml");
    cr_assert_not_null(sheet);
    cr_assert_not_null(strstr(sheet, "state=\"frozen\""), "%s", sheet);
    cr_assert_not_null(strstr(sheet, "ySplit=\"1\""));
    cr_assert_not_null(strstr(sheet, "<autoFilter ref=\"A1:F3\"/>"), "%s", sheet);
    cr_assert_not_null(strstr(sheet, "<t>=1+1</t>"), "a formula-looking string stays a string");
    cr_assert_null(strstr(sheet, "<f>"), "no formula is ever written");
    cr_assert_not_null(strstr(sheet, "<v>12.5</v>"));
    cr_assert_not_null(strstr(sheet, "t=\"b\"><v>1</v>"));
    cr_assert_not_null(strstr(sheet, "<v>42064</v>"), "2015-03-01 is serial 42064: %s", sheet);
    cr_assert_not_null(strstr(sheet, "<v>42064.75</v>"));
    cr_assert_not_null(strstr(sheet, "<v>0.5</v>"));
    cr_assert_not_null(strstr(sheet, "<c r=\"B3\" s="), "the highlighted blank is written");
    cr_assert_not_null(strstr(sheet, "<col min=\"2\" max=\"2\" width=\"12"), "%s", sheet);
    free(sheet);

    char *styles = zip_entry(path, "xl/styles.xml");
    cr_assert_not_null(strstr(styles, "formatCode=\"yyyy-mm-dd\""));
    cr_assert_not_null(strstr(styles, "formatCode=\"yyyy-mm-dd hh:mm:ss\""));
    cr_assert_not_null(strstr(styles, "formatCode=\"hh:mm:ss\""));
    cr_assert_not_null(strstr(styles, "FFFFC7CE"), "highlight fill");
    cr_assert_not_null(strstr(styles, "<b/>"), "bold header font");
    free(styles);

    char *book = zip_entry(path, "xl/workbook.xml");
    cr_assert_not_null(strstr(book, "name=\"Customers\""));
    cr_assert_not_null(strstr(book, "_xlnm._FilterDatabase"));
    free(book);
    free(path);
}

Test(xlsx_writer, text_is_cleaned_and_long_text_truncated)
{
    char *path;
    struct xlsx_writer *w = open_writer("text.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    OK(xlsx_writer_add_sheet(w, "T", &err));
    OK(xlsx_writer_begin_row(w, &err));
    OK(xlsx_writer_write_string(w, 0,
                                "a\xff"
                                "b",
                                3, &err));
    OK(xlsx_writer_write_string(w, 1, "keep _x0041_ literal", 20, &err));
    OK(xlsx_writer_write_string(w, 2, "nul\0here", 8, &err));
    size_t big = 40000;
    char *long_text = malloc(big);
    memset(long_text, 'q', big);
    OK(xlsx_writer_write_string(w, 3, long_text, big, &err));
    free(long_text);
    cr_assert_eq(xlsx_writer_truncated_cells(w), 1);
    OK(xlsx_writer_close(w, &err));

    char *sheet = zip_entry(path, "xl/worksheets/sheet1.xml");
    cr_assert_not_null(strstr(sheet, "a\xEF\xBF\xBD"
                                     "b"),
                       "invalid UTF-8 becomes U+FFFD");
    cr_assert_not_null(strstr(sheet, "keep _x005F_x0041_ literal"), "%s", sheet);
    cr_assert_not_null(strstr(sheet, "nul\xEF\xBF\xBDhere"));
    char *q = strstr(sheet, "qqqq");
    cr_assert_not_null(q);
    size_t run = strspn(q, "q");
    cr_assert_eq(run, 32767, "long text is cut to Excel's 32,767 characters, got %zu", run);
    free(sheet);
    free(path);
}

Test(xlsx_writer, validations_inline_and_hidden_sheet)
{
    char *path;
    struct xlsx_writer *w = open_writer("valid.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    OK(xlsx_writer_add_sheet(w, "Data", &err));
    struct xlsx_column cols[] = {{"Country", 0}, {"Big", 0},   {"Comma", 0}, {"Signup", 0},
                                 {"Qty", 0},     {"Price", 0}, {"Code", 0}};
    OK(xlsx_writer_set_columns(w, cols, 7, &err));
    OK(xlsx_writer_write_header(w, &err));

    const char *short_items[] = {"Germany", "France", "Spain"};
    struct xlsx_validation v = XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_LIST;
    v.column = 0;
    v.items = short_items;
    v.nitems = 3;
    v.input_title = "Pick a country from the list please, it is required";
    v.input_message = "One of the countries we ship to.";
    OK(xlsx_writer_add_validation(w, &v, &err));

    /* 100 items of 10 characters: 1,099 characters, far past the inline limit */
    char storage[100][16];
    const char *many[100];
    for (int i = 0; i < 100; i++) {
        snprintf(storage[i], sizeof storage[i], "item-%05d", i);
        many[i] = storage[i];
    }
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.column = 1;
    v.items = many;
    v.nitems = 100;
    OK(xlsx_writer_add_validation(w, &v, &err));

    const char *comma[] = {"a,b", "c"};
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.column = 2;
    v.items = comma;
    v.nitems = 2;
    OK(xlsx_writer_add_validation(w, &v, &err));

    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_DATE;
    v.column = 3;
    v.has_min = v.has_max = true;
    v.min = 16495; /* 2015-03-01 */
    v.max = 16496;
    OK(xlsx_writer_add_validation(w, &v, &err));

    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_INTEGER;
    v.column = 4;
    v.has_min = true;
    v.min = 1;
    v.first_row = 2;
    v.last_row = 500;
    OK(xlsx_writer_add_validation(w, &v, &err));

    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_DECIMAL;
    v.column = 5;
    v.has_max = true;
    v.max = 99.5;
    OK(xlsx_writer_add_validation(w, &v, &err));

    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_TEXT_LENGTH;
    v.column = 6;
    v.has_max = true;
    v.max = 8;
    OK(xlsx_writer_add_validation(w, &v, &err));
    OK(xlsx_writer_close(w, &err));

    char *sheet = zip_entry(path, "xl/worksheets/sheet1.xml");
    cr_assert_not_null(strstr(sheet, "<dataValidations count=\"7\">"), "%s", sheet);
    cr_assert_not_null(strstr(sheet, "<formula1>\"Germany,France,Spain\"</formula1>"));
    cr_assert_not_null(strstr(sheet, "sqref=\"A2:A1048576\""));
    cr_assert_not_null(strstr(sheet, "promptTitle=\"Pick a country from the list ple\""),
                       "the title is cut to 32 characters: %s", sheet);
    cr_assert_not_null(strstr(sheet, "<formula1>_sheetd_lists!$A$1:$CV$1</formula1>"), "%s", sheet);
    cr_assert_not_null(strstr(sheet, "<formula1>_sheetd_lists!$A$2:$B$2</formula1>"));
    cr_assert_not_null(strstr(sheet, "type=\"date\""));
    cr_assert_not_null(strstr(sheet, "<formula1>42064</formula1><formula2>42065</formula2>"));
    cr_assert_not_null(strstr(sheet, "type=\"whole\" operator=\"greaterThanOrEqual\""));
    cr_assert_not_null(strstr(sheet, "sqref=\"E2:E500\""));
    cr_assert_not_null(strstr(sheet, "type=\"decimal\" operator=\"lessThanOrEqual\""));
    cr_assert_not_null(strstr(sheet, "<formula1>99.5</formula1>"));
    cr_assert_not_null(strstr(sheet, "type=\"textLength\" operator=\"lessThanOrEqual\""));
    free(sheet);

    char *book = zip_entry(path, "xl/workbook.xml");
    cr_assert_not_null(strstr(book, "name=\"_sheetd_lists\""));
    cr_assert_not_null(strstr(book, "state=\"hidden\""), "%s", book);
    free(book);
    char *lists = zip_entry(path, "xl/worksheets/sheet2.xml");
    cr_assert_not_null(lists);
    cr_assert_not_null(strstr(lists, "<c r=\"CV1\" t=\"inlineStr\"><is><t>item-00099</t>"));
    cr_assert_not_null(strstr(lists, "<c r=\"A2\" t=\"inlineStr\"><is><t>a,b</t>"));
    free(lists);
    free(path);
}

Test(xlsx_writer, refusals)
{
    char *path;
    struct xlsx_writer *w = open_writer("refuse.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xlsx_writer_begin_row(w, &err), SD_EUSAGE, "no sheet yet");
    cr_assert_eq(xlsx_writer_add_sheet(w, "", &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_add_sheet(w, "a/b", &err), SD_EINVALID);
    cr_assert_not_null(strstr(err.message, "[]:*?/\\"), "%s", err.message);
    cr_assert_eq(xlsx_writer_add_sheet(w, "'quoted'", &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_add_sheet(w, "history", &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_add_sheet(w, "_SHEETD_LISTS", &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_add_sheet(w, "0123456789012345678901234567890x", &err), SD_EINVALID);
    OK(xlsx_writer_add_sheet(w, "0123456789012345678901234567890", &err));
    cr_assert_eq(xlsx_writer_add_sheet(w, "0123456789012345678901234567890", &err), SD_EINVALID);
    OK(xlsx_writer_add_sheet(w, "Données", &err));
    cr_assert_eq(xlsx_writer_add_sheet(w, "DONNéES", &err), SD_EINVALID,
                 "names differing in ASCII case clash");
    cr_assert_eq(xlsx_writer_write_number(w, 0, 1, &err), SD_EUSAGE, "no row begun");
    OK(xlsx_writer_begin_row(w, &err));
    cr_assert_eq(xlsx_writer_write_header(w, &err), SD_EUSAGE, "header after a row");
    struct xlsx_column col = {"x", 0};
    cr_assert_eq(xlsx_writer_set_columns(w, &col, 1, &err), SD_EUSAGE);
    cr_assert_eq(xlsx_writer_write_number(w, 0, NAN, &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_write_number(w, 0, INFINITY, &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_write_date(w, 0, -25568, &err), SD_EINVALID, "1899-12-31");
    OK(xlsx_writer_write_date(w, 0, -25567, &err)); /* 1900-01-01 */
    cr_assert_eq(xlsx_writer_write_date(w, 0, 2932897, &err), SD_EINVALID, "10000-01-01");
    cr_assert_eq(xlsx_writer_write_time(w, 0, 1.0, &err), SD_EINVALID);
    cr_assert_eq(xlsx_writer_write_string(w, 16384, "x", 1, &err), SD_ELIMIT);

    struct xlsx_validation v = XLSX_VALIDATION_INIT;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "empty list");
    const char *items[] = {"a", ""};
    v.items = items;
    v.nitems = 2;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "empty item");
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_DECIMAL;
    v.has_min = v.has_max = true;
    v.min = 5;
    v.max = 1;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "min > max");
    v.kind = XLSX_VALIDATE_TEXT_LENGTH;
    v.has_min = v.has_max = false;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "no bounds");
    v.kind = XLSX_VALIDATE_DATE;
    v.has_min = true;
    v.min = -30000;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "date before 1900");
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_INTEGER;
    v.first_row = 10;
    v.last_row = 5;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_EINVALID, "rows reversed");
    const char **many = calloc(16385, sizeof *many);
    for (size_t i = 0; i < 16385; i++)
        many[i] = "x";
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.items = many;
    v.nitems = 16385;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_ELIMIT);
    free(many);
    v = (struct xlsx_validation)XLSX_VALIDATION_INIT;
    v.kind = XLSX_VALIDATE_DECIMAL;
    for (unsigned i = 0; i < XLSX_WRITER_MAX_VALIDATIONS; i++) {
        v.column = i;
        OK(xlsx_writer_add_validation(w, &v, &err));
    }
    v.column = 300;
    cr_assert_eq(xlsx_writer_add_validation(w, &v, &err), SD_ELIMIT);
    OK(xlsx_writer_close(w, &err));
    char *sheet = zip_entry(path, "xl/worksheets/sheet2.xml");
    cr_assert_not_null(strstr(sheet, "<dataValidations count=\"255\">"));
    free(sheet);
    free(path);
}

Test(xlsx_writer, discard_and_failed_close_leave_no_file)
{
    char *path;
    struct xlsx_writer *w = open_writer("discarded.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    OK(xlsx_writer_add_sheet(w, "S", &err));
    OK(xlsx_writer_begin_row(w, &err));
    OK(xlsx_writer_write_number(w, 0, 1, &err));
    xlsx_writer_free(w);
    cr_assert_not(file_exists(path));
    free(path);

    char *missing = test_suite_path("no/such/dir/out.xlsx");
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = missing;
    o.tmpdir = test_suite_tmpdir();
    cr_assert_eq(xlsx_writer_open(&w, &o, &err), 0);
    OK(xlsx_writer_add_sheet(w, "S", &err));
    int rc = xlsx_writer_close(w, &err);
    cr_assert_eq(rc, SD_ERROR);
    cr_assert_not_null(strstr(err.message, missing), "%s", err.message);
    cr_assert_not(file_exists(missing));
    free(missing);

    struct xlsx_writer_options bad = XLSX_WRITER_OPTIONS_INIT;
    cr_assert_eq(xlsx_writer_open(&w, &bad, &err), SD_EUSAGE);
    cr_assert_null(w);
}

/* open_table is open, one sheet named after the title, the columns and the header row; when
 * a step fails nothing is handed back and nothing is written. */
Test(xlsx_writer, open_table_starts_a_sheet_or_leaves_nothing)
{
    char *path = test_suite_path("table.xlsx");
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = path;
    o.tmpdir = test_suite_tmpdir();
    struct xlsx_column cols[2] = {{.header = "Email"}, {.header = "Qty"}};
    struct xlsx_writer *w = NULL;
    struct sd_error err = SD_ERROR_INIT;
    OK(xlsx_writer_open_table(&w, &o, "Orders: 2026/Q1", cols, 2, &err));
    cr_assert_eq(xlsx_writer_current_row(w), 1);
    OK(xlsx_writer_close(w, &err));
    char *book = zip_entry(path, "xl/workbook.xml");
    cr_assert_not_null(strstr(book, "name=\"Orders_ 2026_Q1\""), "%s", book);
    free(book);
    char *strings = zip_entry(path, "xl/worksheets/sheet1.xml");
    cr_assert(strings && strstr(strings, "Email") && strstr(strings, "Qty"));
    free(strings);
    free(path);

    char *refused = test_suite_path("refused.xlsx");
    o.path = refused;
    w = (struct xlsx_writer *)1; /* overwritten: NULL on failure */
    cr_assert_lt(xlsx_writer_open_table(&w, &o, "T", cols, XLSX_WRITER_MAX_COLUMNS + 1u, &err), 0);
    cr_assert_null(w);
    cr_assert_not(file_exists(refused));
    free(refused);
}

Test(xlsx_writer, empty_workbook_gets_a_sheet)
{
    char *path;
    struct xlsx_writer *w = open_writer("empty.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    OK(xlsx_writer_close(w, &err));
    char *book = zip_entry(path, "xl/workbook.xml");
    cr_assert_not_null(strstr(book, "name=\"Sheet1\""));
    free(book);
    free(path);
}

Test(xlsx_writer, sheet_name_sanitizer)
{
    char out[XLSX_WRITER_SHEET_NAME_SIZE];
    xlsx_writer_sheet_name("Q1/Q2 [draft]", out);
    cr_assert_str_eq(out, "Q1_Q2 _draft_");
    xlsx_writer_sheet_name("''", out);
    cr_assert_str_eq(out, "Sheet");
    xlsx_writer_sheet_name("'Customers'", out);
    cr_assert_str_eq(out, "Customers");
    xlsx_writer_sheet_name("ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", out);
    cr_assert_eq(strlen(out), 62, "31 two-byte characters");
    xlsx_writer_sheet_name("abcdefghijklmnopqrstuvwxyz1234'x", out);
    cr_assert_str_eq(out, "abcdefghijklmnopqrstuvwxyz1234", "a cut exposing ' drops it");
}

/* Writer round trip: typed cells written here come back from the XLSX reader with the same
 * values and types. */
Test(xlsx_writer, round_trip_through_the_reader)
{
    char *path;
    struct xlsx_writer *w = open_writer("round.xlsx", &path);
    struct sd_error err = SD_ERROR_INIT;
    struct xlsx_column cols[] = {{"Text", 0}, {"Number", 0}, {"Flag", 0},
                                 {"Day", 0},  {"Moment", 0}, {"Clock", 0}};
    OK(xlsx_writer_add_sheet(w, "Round", &err));
    OK(xlsx_writer_set_columns(w, cols, 6, &err));
    OK(xlsx_writer_write_header(w, &err));
    OK(xlsx_writer_begin_row(w, &err));
    OK(xlsx_writer_write_string(w, 0, "=SUM(A1)", 8, &err));
    OK(xlsx_writer_write_number(w, 1, -1234.5678, &err));
    OK(xlsx_writer_write_bool(w, 2, true, &err));
    OK(xlsx_writer_write_date(w, 3, 16495, &err));
    OK(xlsx_writer_write_date(w, 4, 16495.5, &err));
    OK(xlsx_writer_write_time(w, 5, 0.75, &err));
    OK(xlsx_writer_highlight(w, 1, &err));
    OK(xlsx_writer_begin_row(w, &err));
    OK(xlsx_writer_write_string(w, 0, "tab\there _x0041_ \x01", 18, &err));
    OK(xlsx_writer_write_bool(w, 2, false, &err));
    OK(xlsx_writer_write_date(w, 3, -25508, &err)); /* 1900-03-01 */
    OK(xlsx_writer_close(w, &err));

    struct sheet_book *book;
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    cr_assert_eq(sheet_open(&book, path, &opts, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_book_format(book), SHEET_FORMAT_XLSX);
    cr_assert_eq(sheet_count(book), 1);
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "Round");
    OK(sheet_select_default(book, &err));
    const struct sheet_row *row;
    cr_assert_eq(sheet_next_row(book, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row->number, 1);
    cr_assert_eq(row->ncells, 6);
    cr_assert_str_eq(row->cells[5].text, "Clock");

    cr_assert_eq(sheet_next_row(book, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row->number, 2);
    cr_assert_eq(row->ncells, 6);
    cr_assert_eq(row->cells[0].type, SHEET_CELL_STRING);
    cr_assert_str_eq(row->cells[0].text, "=SUM(A1)");
    cr_assert_eq(row->cells[1].type, SHEET_CELL_NUMBER);
    cr_assert_eq(row->cells[1].number, -1234.5678);
    cr_assert_eq(row->cells[2].type, SHEET_CELL_BOOL);
    cr_assert_eq(row->cells[2].number, 1);
    cr_assert_eq(row->cells[3].type, SHEET_CELL_DATE);
    cr_assert_eq(row->cells[3].number, 16495);
    cr_assert_eq(row->cells[4].type, SHEET_CELL_DATE);
    cr_assert_eq(row->cells[4].number, 16495.5);
    cr_assert_eq(row->cells[5].type, SHEET_CELL_TIME);
    cr_assert_eq(row->cells[5].number, 0.75);

    cr_assert_eq(sheet_next_row(book, &row, &err), 1, "%s", err.message);
    cr_assert_eq(row->number, 3);
    cr_assert_eq(row->ncells, 3);
    cr_assert_str_eq(row->cells[0].text, "tab\there _x0041_ \x01",
                     "escapes and control characters survive: [%s]", row->cells[0].text);
    cr_assert_eq(row->cells[1].type, SHEET_CELL_BOOL);
    cr_assert_eq(row->cells[1].number, 0);
    cr_assert_eq(row->cells[2].type, SHEET_CELL_DATE);
    cr_assert_eq(row->cells[2].number, -25508);
    cr_assert_eq(sheet_next_row(book, &row, &err), 0);
    sheet_close(book);
    free(path);
}
