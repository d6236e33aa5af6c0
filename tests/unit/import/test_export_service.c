/* export_service_run and blank_template_write: typed cells, header styling, the round trip
 * through an import, cancellation, and the blank workbook's validations. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/blank_template.h"
#include "import/export_service.h"
#include "import_fixture.h"
#include "sheet/cell_format.h"
#include "sheet/sheet.h"
#include "test_support.h"

TestSuite(export, .init = fx_setup, .fini = fx_teardown);

/* libxlsxwriter 1.1.4 leaks a list validation's formula (see sheet/xlsx_writer.h). */
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

#define DATA_SQL                                                                                   \
    "SELECT email, name, country, born, seen, amount, qty, active FROM %s ORDER BY _row"

static char *dump(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, DATA_SQL, table);
    return fx_dump(sql);
}

static const char *people_csv =
    "Email,Name,Country,Born,Seen At,Amount,Qty,Active\n"
    "ada@example.com,Ada,Germany,10/12/1985,1999-07-01 09:15:30,1234.5,3,yes\n"
    "grace@example.com,\"Hopper, Grace\",,09/12/1906,,0.1,9007199254740993,no\n"
    "lin@example.com,=1+1,France,,2001-01-01 00:00:00,,-4,\n"
    "old@example.com,Old,,10/12/1815,1843-07-01 09:15:30,,,\n";

/* The cell in a column, or NULL: rows are sparse. */
static const struct sheet_cell *cell_at(const struct sheet_row *row, uint32_t column)
{
    for (size_t i = 0; i < row->ncells; i++)
        if (row->cells[i].column == column)
            return &row->cells[i];
    return NULL;
}

/* The cell that must be there (a failed assertion otherwise, never a NULL to follow). */
static const struct sheet_cell *present(const struct sheet_row *row, uint32_t column)
{
    const struct sheet_cell *cell = cell_at(row, column);
    cr_assert_not_null(cell, "row %u has no cell in column %u", row->number, column);
    return cell;
}

static void load_people(struct import_template *t)
{
    char *path = fx_file("people.csv", people_csv);
    struct import_result *res = fx_import(t, path, NULL);
    cr_assert(res->success && res->imported == 4, "%s", res->message);
    import_result_free(res);
    free(path);
}

/* Exports the template's table to `name` in fx_dir, failing the test unless it works; the
 * caller frees the returned path. */
static char *export_to(const struct import_template *t, const char *name, struct export_result *er)
{
    char *out = test_path(fx_dir, name);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(export_service_run(er, fx_db, t, out, NULL, &err), 0, "%s", err.message);
    return out;
}

Test(export, round_trip_gives_back_the_same_rows)
{
    struct import_template *t = fx_people("people", "partial");
    load_people(t);
    struct export_result er;
    char *out = export_to(t, "people.xlsx", &er);
    cr_assert_eq(er.rows, 4);

    struct import_template *copy = fx_people("people_copy", "all_or_nothing");
    struct import_result *res = fx_import(copy, out, NULL);
    cr_assert(res->success, "%s", res->message);
    cr_assert_eq(res->imported, 4);
    char *a = dump("people"), *b = dump("people_copy");
    cr_assert_str_eq(b, a);
    free(a);
    free(b);
    import_result_free(res);
    template_free(copy);
    free(out);
    template_free(t);
}

Test(export, typed_cells_bold_frozen_header_and_autofilter)
{
    struct import_template *t = fx_people("people", "partial");
    load_people(t);
    struct export_result er;
    char *out = export_to(t, "people.xlsx", &er);
    struct sd_error err = SD_ERROR_INIT;

    struct sheet_book *book;
    struct sheet_open_options o = SHEET_OPEN_OPTIONS_INIT;
    cr_assert_eq(sheet_open(&book, out, &o, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_select_default(book, &err), 0);
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "people");
    const struct sheet_row *row;
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->ncells, 8);
    cr_assert_str_eq(row->cells[4].text, "Seen At");
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->cells[0].type, SHEET_CELL_STRING);
    cr_assert_eq(row->cells[3].type, SHEET_CELL_DATE);   /* born */
    cr_assert_eq(row->cells[4].type, SHEET_CELL_DATE);   /* seen */
    cr_assert_eq(row->cells[5].type, SHEET_CELL_NUMBER); /* amount */
    cr_assert_float_eq(row->cells[5].number, 1234.5, 1e-9);
    cr_assert_eq(row->cells[7].type, SHEET_CELL_BOOL);
    char when[32];
    cell_format_date(row->cells[4].number, when);
    cr_assert_str_eq(when, "1999-07-01T09:15:30");
    /* a whole number a double cannot hold stays exact as text; "=1+1" stays text */
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_str_eq(present(row, 1)->text, "Hopper, Grace");
    cr_assert_null(cell_at(row, 2));
    cr_assert_eq(present(row, 6)->type, SHEET_CELL_STRING);
    cr_assert_str_eq(present(row, 6)->text, "9007199254740993");
    cr_assert_eq(present(row, 7)->type, SHEET_CELL_BOOL);
    cr_assert_eq(present(row, 7)->number, 0);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(present(row, 1)->type, SHEET_CELL_STRING);
    cr_assert_str_eq(present(row, 1)->text, "=1+1");
    cr_assert_eq(present(row, 6)->type, SHEET_CELL_NUMBER);
    cr_assert_eq(present(row, 6)->number, -4);
    /* dates Excel cannot show (before 1900) are exported as their ISO text */
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(present(row, 3)->type, SHEET_CELL_STRING);
    cr_assert_str_eq(present(row, 3)->text, "1815-12-10");
    cr_assert_str_eq(present(row, 4)->text, "1843-07-01 09:15:30");
    cr_assert_eq(sheet_next_row(book, &row, &err), 0);
    sheet_close(book);

    char *xml = fx_zip_entry(out, "xl/worksheets/sheet1.xml");
    cr_assert(strstr(xml, "state=\"frozen\""), "header frozen");
    cr_assert(strstr(xml, "<autoFilter ref=\"A1:H5\""), "autofilter over the rows");
    free(xml);
    char *styles = fx_zip_entry(out, "xl/styles.xml");
    cr_assert(strstr(styles, "<b/>"), "a bold font for the header");
    free(styles);
    free(out);
    template_free(t);
}

static bool cancel_now(void *ctx)
{
    (void)ctx;
    return true;
}

Test(export, cancelled_export_leaves_no_file)
{
    struct import_template *t = fx_people("people", "partial");
    load_people(t);
    char *out = test_path(fx_dir, "cancelled.xlsx");
    struct export_options opts = EXPORT_OPTIONS_INIT;
    opts.cancelled = cancel_now;
    struct export_result er;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(export_service_run(&er, fx_db, t, out, &opts, &err), SD_ECANCELLED);
    cr_assert_str_eq(err.message, "the export was cancelled; no file was written");
    cr_assert_null(test_read_file(out, NULL));
    free(out);
    template_free(t);
}

Test(export, altered_table_is_an_error)
{
    struct import_template *t = fx_people("people", "partial");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(fx_db, "DROP TABLE people", &err), 0);
    char *out = test_path(fx_dir, "x.xlsx");
    struct export_result er;
    int rc = export_service_run(&er, fx_db, t, out, NULL, &err);
    cr_assert(rc == SD_ENOTFOUND || rc == SD_EINVALID, "%d %s", rc, err.message);
    cr_assert_null(test_read_file(out, NULL));
    free(out);
    template_free(t);
}

Test(export, empty_table_gives_the_header_only)
{
    struct import_template *t = fx_people("people", "partial");
    struct export_result er;
    char *out = export_to(t, "empty.xlsx", &er);
    cr_assert_eq(er.rows, 0);
    struct import_result *res = fx_import(t, out, NULL);
    cr_assert(res->success);
    cr_assert_eq(res->rows_read, 0);
    import_result_free(res);
    free(out);
    template_free(t);
}

Test(export, blank_template_has_headers_dropdowns_and_rules)
{
    struct import_template *t = fx_people("people", "partial");
    char *out = test_path(fx_dir, "blank.xlsx");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(blank_template_write(t, out, &err), 0, "%s", err.message);
    /* importing the blank template finds its header and no rows */
    struct import_result *res = fx_import(t, out, NULL);
    cr_assert(res->success, "%s", res->message);
    cr_assert_eq(res->header_row, 1);
    cr_assert_eq(res->nignored, 0);
    import_result_free(res);

    char *xml = fx_zip_entry(out, "xl/worksheets/sheet1.xml");
    cr_assert(strstr(xml, "type=\"list\""), "enum dropdown");
    cr_assert(strstr(xml, "\"Germany,France\""), "enum values in the list");
    cr_assert(strstr(xml, "type=\"date\""), "date validation");
    cr_assert(strstr(xml, "type=\"decimal\""), "number-range validation");
    cr_assert(strstr(xml, "type=\"textLength\""), "max_length validation");
    cr_assert(strstr(xml, "promptTitle=\"Country\""), "input title");
    cr_assert(strstr(xml, "prompt=\"One of: Germany, France.\""), "enum rule as input message");
    cr_assert(strstr(xml, "prompt=\"A number of at least 0.\""), "range rule as input message");
    cr_assert(strstr(xml, "prompt=\"Required. An email address. Unique in the file.\"") == NULL,
              "no validation (so no message) for an email column");
    cr_assert(strstr(xml, "prompt=\"A date (DD/MM/YYYY).\""), "date format in the message");
    free(xml);
    free(out);
    template_free(t);
}
