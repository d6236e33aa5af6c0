/* The XLS reader, against workbooks the tests write record by record (xls_fixture.c) and a
 * few files of the calamine corpus. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheet/sheet.h"
#include "sheet_dump.h"
#include "test_support.h"
#include "xls_fixture.h"

TestSuite(xls, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

/* XFs shared by the value tests: 0 General, 1 custom date, 2 built-in date (14), 3 built-in
 * time (20, h:mm), 4 built-in date-time (22). */
static void standard_xfs(struct xls_fixture *fx)
{
    xls_fixture_format(fx, 164, "yyyy\\-mm\\-dd");
    xls_fixture_xf(fx, 0);
    xls_fixture_xf(fx, 164);
    xls_fixture_xf(fx, 14);
    xls_fixture_xf(fx, 20);
    xls_fixture_xf(fx, 22);
}

static uint32_t rk_int(int32_t v)
{
    return ((uint32_t)v << 2) | 2;
}

Test(xls, every_cell_record_biff8)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    xls_fixture_codepage(&fx, 1200);
    standard_xfs(&fx);
    /* "Zoë €uro" splits after "Zoë " (8-bit) and goes on in UTF-16 in the CONTINUE. */
    const char *sst[] = {"Name", "Zoë €uro", "tab\there", "😀 emoji"};
    xls_fixture_sst_split(&fx, sst, 4, 4, 1, 4);
    size_t s = xls_fixture_sheet(&fx, "Data", 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 0, 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 1, 0, 1);
    xls_fixture_labelsst(&fx, s, 0, 2, 0, 2);
    xls_fixture_labelsst(&fx, s, 0, 3, 0, 3);
    xls_fixture_number(&fx, s, 1, 0, 0, 3.25);
    xls_fixture_rk(&fx, s, 1, 1, 0, rk_int(42));
    xls_fixture_rk(&fx, s, 1, 2, 0, (1234u << 2) | 3); /* 12.34: integer / 100 */
    xls_fixture_rk(&fx, s, 1, 3, 0, rk_int(-5));
    xls_fixture_rk(&fx, s, 1, 4, 0, 0x3FE00000u); /* 0.5 as the top of a double */
    uint16_t xfs[3] = {0, 0, 0};
    uint32_t rks[3] = {rk_int(7), rk_int(8), rk_int(9)};
    xls_fixture_mulrk(&fx, s, 2, 1, xfs, rks, 3);
    xls_fixture_boolerr(&fx, s, 3, 0, 1, false);
    xls_fixture_boolerr(&fx, s, 3, 1, 0, false);
    xls_fixture_boolerr(&fx, s, 3, 2, 0x07, true);
    xls_fixture_boolerr(&fx, s, 3, 3, 0x2A, true);
    xls_fixture_formula(&fx, s, 4, 0, 0, 'n', 6.5, NULL);
    xls_fixture_formula(&fx, s, 4, 1, 0, 's', 0, "from a formula");
    xls_fixture_formula(&fx, s, 4, 2, 0, 'b', 1, NULL);
    xls_fixture_formula(&fx, s, 4, 3, 0, 'e', 0x0F, NULL);
    xls_fixture_formula(&fx, s, 4, 4, 0, 'E', 0, NULL);
    xls_fixture_label(&fx, s, 5, 0, "inline ∑ label");
    char *path = xls_fixture_save(&fx, "all.xls", "Workbook");
    sheet_dump_expect(path, NULL,
                      "A1\ts\tName\nB1\ts\tZoë €uro\nC1\ts\ttab\\there\nD1\ts\t😀 emoji\n"
                      "A2\tn\t3.25\nB2\tn\t42\nC2\tn\t12.34\nD2\tn\t-5\nE2\tn\t0.5\n"
                      "B3\tn\t7\nC3\tn\t8\nD3\tn\t9\n"
                      "A4\tb\tTRUE\nB4\tb\tFALSE\nC4\te\t#DIV/0!\nD4\te\t#N/A\n"
                      "A5\tn\t6.5\nB5\ts\tfrom a formula\nC5\tb\tTRUE\nD5\te\t#VALUE!\n"
                      "A6\ts\tinline ∑ label\n");
    free(path);
}

Test(xls, dates_and_times_by_format)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    standard_xfs(&fx);
    size_t s = xls_fixture_sheet(&fx, "Dates", 0, 0);
    xls_fixture_number(&fx, s, 0, 0, 1, 42064);   /* custom yyyy-mm-dd */
    xls_fixture_rk(&fx, s, 0, 1, 2, rk_int(61));  /* built-in 14 */
    xls_fixture_number(&fx, s, 0, 2, 3, 0.75);    /* built-in 20: a time */
    xls_fixture_number(&fx, s, 0, 3, 4, 42064.5); /* built-in 22 */
    xls_fixture_number(&fx, s, 0, 4, 1, -1);      /* no date before 1900: a number */
    xls_fixture_number(&fx, s, 0, 5, 99, 42064);  /* XF out of range: a number */
    uint16_t xfs[2] = {1, 0};
    uint32_t rks[2] = {rk_int(42064), rk_int(42064)};
    xls_fixture_mulrk(&fx, s, 1, 0, xfs, rks, 2); /* each MULRK entry has its XF */
    xls_fixture_formula(&fx, s, 2, 0, 2, 'n', 42064, NULL);
    char *path = xls_fixture_save(&fx, "dates.xls", "Workbook");
    sheet_dump_expect(path, NULL,
                      "A1\td\t2015-03-01\nB1\td\t1900-03-01\nC1\td\t18:00:00\n"
                      "D1\td\t2015-03-01T12:00:00\nE1\tn\t-1\nF1\tn\t42064\n"
                      "A2\td\t2015-03-01\nB2\tn\t42064\nA3\td\t2015-03-01\n");
    free(path);
}

Test(xls, date_system_1904)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    xls_fixture_datemode(&fx, true);
    standard_xfs(&fx);
    size_t s = xls_fixture_sheet(&fx, "D", 0, 0);
    xls_fixture_number(&fx, s, 0, 0, 1, 0);
    xls_fixture_number(&fx, s, 0, 1, 1, 40602);
    /* negative serials are the days before 1904-01-01, down to 1900-01-01 */
    xls_fixture_number(&fx, s, 0, 2, 1, -1460);
    xls_fixture_number(&fx, s, 0, 3, 1, -1);
    xls_fixture_number(&fx, s, 0, 4, 1, -0.25);
    xls_fixture_number(&fx, s, 0, 5, 1, -1460.5);
    xls_fixture_number(&fx, s, 0, 6, 0, -1);
    char *path = xls_fixture_save(&fx, "d1904.xls", "Workbook");
    sheet_dump_expect(path, NULL,
                      "A1\td\t1904-01-01\nB1\td\t2015-03-01\nC1\td\t1900-01-01\n"
                      "D1\td\t1903-12-31\nE1\td\t1903-12-31T18:00:00\nF1\tn\t-1460.5\n"
                      "G1\tn\t-1\n");
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0);
    cr_assert(sheet_uses_1904(book));
    sheet_close(book);
    free(path);
}

Test(xls, sheet_list_visibility_and_kinds)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t hidden = xls_fixture_sheet(&fx, "Hidden", 1, 0);
    xls_fixture_sheet(&fx, "Chart1", 0, 2);
    size_t veryhidden = xls_fixture_sheet(&fx, "Secret", 2, 0);
    size_t visible = xls_fixture_sheet(&fx, "Größe", 0, 0);
    xls_fixture_label(&fx, hidden, 0, 0, "in hidden");
    xls_fixture_label(&fx, veryhidden, 0, 0, "in very hidden");
    xls_fixture_label(&fx, visible, 4, 2, "in visible");
    char *path = xls_fixture_save(&fx, "sheets.xls", "Workbook");

    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_book_format(book), SHEET_FORMAT_XLS);
    cr_assert_eq(sheet_count(book), 3, "the chart sheet is not listed");
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "Hidden");
    cr_assert_not(sheet_get_info(book, 0)->visible);
    cr_assert_str_eq(sheet_get_info(book, 1)->name, "Secret");
    cr_assert_not(sheet_get_info(book, 1)->visible);
    cr_assert_str_eq(sheet_get_info(book, 2)->name, "Größe");
    cr_assert(sheet_get_info(book, 2)->visible);
    sheet_close(book);

    sheet_dump_expect(path, NULL, "C5\ts\tin visible\n"); /* the default: first visible */
    sheet_dump_expect(path, "Secret", "A1\ts\tin very hidden\n");
    sheet_dump_expect(path, "0", "A1\ts\tin hidden\n");
    free(path);
}

/* Rows out of order (and columns out of order within a row) come out sorted; a cell given
 * twice keeps its last value. */
Test(xls, rows_out_of_order_are_sorted)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "Mixed", 0, 0);
    xls_fixture_number(&fx, s, 2, 1, 0, 32);
    xls_fixture_number(&fx, s, 2, 0, 0, 31);
    xls_fixture_number(&fx, s, 0, 0, 0, 11);
    xls_fixture_number(&fx, s, 1, 0, 0, 21);
    xls_fixture_number(&fx, s, 0, 0, 0, 12);
    xls_fixture_formula(&fx, s, 0, 2, 0, 's', 0, "text");
    char *path = xls_fixture_save(&fx, "order.xls", "Workbook");
    sheet_dump_expect(path, NULL, "A1\tn\t12\nC1\ts\ttext\nA2\tn\t21\nA3\tn\t31\nB3\tn\t32\n");
    free(path);
}

Test(xls, columns_out_of_order_in_streamed_rows)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_number(&fx, s, 0, 3, 0, 4);
    xls_fixture_number(&fx, s, 0, 1, 0, 2);
    xls_fixture_boolerr(&fx, s, 3, 1, 1, false);
    xls_fixture_number(&fx, s, 3, 0, 0, 1);
    char *path = xls_fixture_save(&fx, "cols.xls", "Workbook");
    sheet_dump_expect(path, NULL, "B1\tn\t2\nD1\tn\t4\nA4\tn\t1\nB4\tb\tTRUE\n");
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0);
    cr_assert_eq(sheet_select_default(book, &err), 0);
    cr_assert_eq(sheet_row_count_hint(book), 2);
    sheet_close(book);
    free(path);
}

/* An embedded chart is a BOF..EOF block inside the sheet; its records are not cells and
 * its EOF does not end the sheet. */
Test(xls, embedded_chart_substream_is_skipped)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_number(&fx, s, 0, 0, 0, 1);
    struct buf bof = BUF_INIT;
    xls_put_u16(&bof, 0x0600);
    xls_put_u16(&bof, 0x0020);
    xls_put_u32(&bof, 0);
    xls_fixture_record(&fx.sheets[s].records, 0x0809, bof.data, bof.len);
    buf_free(&bof);
    xls_fixture_number(&fx, s, 0, 5, 0, 99); /* inside the chart: not a cell */
    xls_fixture_record(&fx.sheets[s].records, 0x000A, NULL, 0);
    xls_fixture_number(&fx, s, 1, 0, 0, 2);
    char *path = xls_fixture_save(&fx, "chart.xls", "Workbook");
    sheet_dump_expect(path, NULL, "A1\tn\t1\nA2\tn\t2\n");
    free(path);
}

Test(xls, biff5_book_stream_with_codepage)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, false);
    xls_fixture_codepage(&fx, 1251);
    xls_fixture_format(&fx, 164, "dd.mm.yyyy");
    xls_fixture_xf(&fx, 0);
    xls_fixture_xf(&fx, 164);
    /* "Лист1" and "Привет" in Windows-1251 */
    size_t s = xls_fixture_sheet(&fx,
                                 "\xCB\xE8\xF1\xF2"
                                 "1",
                                 0, 0);
    xls_fixture_label_bytes(&fx, s, 0, 0, "\xCF\xF0\xE8\xE2\xE5\xF2");
    xls_fixture_number(&fx, s, 0, 1, 1, 42064);
    xls_fixture_formula(&fx, s, 1, 0, 0, 's', 0, "\xE4\xE0");
    char *path = xls_fixture_save(&fx, "biff5.xls", "Book");
    sheet_dump_expect(path, "Лист1", "A1\ts\tПривет\nB1\td\t2015-03-01\nA2\ts\tда\n");
    free(path);
}

Test(xls, workbook_stream_name_is_case_insensitive)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_label(&fx, s, 0, 0, "found");
    char *path = xls_fixture_save(&fx, "upper.xls", "WORKBOOK");
    sheet_dump_expect(path, NULL, "A1\ts\tfound\n");
    free(path);
}

/* A long formula result: the STRING record is continued, and the continuation switches
 * from 8-bit to UTF-16 characters. */
Test(xls, string_record_continued)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    struct buf *r = &fx.sheets[s].records;
    struct buf body = BUF_INIT;
    xls_put_u16(&body, 0);
    xls_put_u16(&body, 0);
    xls_put_u16(&body, 0);
    uint8_t res[8] = {0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    buf_append(&body, res, 8);
    xls_put_u16(&body, 0);
    xls_put_u32(&body, 0);
    xls_put_u16(&body, 0);
    xls_fixture_record(r, 0x0006, body.data, body.len);
    buf_clear(&body);
    xls_put_u16(&body, 5); /* 5 characters */
    xls_put_u8(&body, 0);  /* 8-bit */
    buf_append(&body, "abc", 3);
    xls_fixture_record(r, 0x0207, body.data, body.len);
    buf_clear(&body);
    xls_put_u8(&body, 1); /* the rest is UTF-16 */
    xls_put_u16(&body, 0x20AC);
    xls_put_u16(&body, 0x00E9);
    xls_fixture_record(r, 0x003C, body.data, body.len);
    buf_free(&body);
    char *path = xls_fixture_save(&fx, "string.xls", "Workbook");
    sheet_dump_expect(path, NULL, "A1\ts\tabc€é\n");
    free(path);
}

Test(xls, cell_text_limit)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_label(&fx, s, 2, 1, "exactly ten");
    char *path = xls_fixture_save(&fx, "limit.xls", "Workbook");
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_cell_chars = 10;
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    free(sheet_dump(path, &opts, NULL, &rc, &err));
    cr_assert_eq(rc, SD_ELIMIT, "%s", err.message);
    cr_assert(strstr(err.message, "B3"), "%s", err.message);
    opts.limits.max_cell_chars = 11;
    char *got = sheet_dump(path, &opts, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_str_eq(got, "B3\ts\texactly ten\n");
    free(got);
    free(path);
}
