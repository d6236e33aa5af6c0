#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sheet/row_builder.h"

static struct sheet_limits limits = SHEET_LIMITS_INIT;

Test(row_builder, in_order_row)
{
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    row_builder_init(&rb, &limits, "t.xlsx");
    row_builder_begin(&rb, 3);
    cr_assert(row_builder_is_empty(&rb));
    cr_assert_eq(row_builder_add_string(&rb, 0, "abc", 3, &err), 0);
    cr_assert_eq(row_builder_add_string(&rb, 1, "", 0, &err), 0); /* empty: not a cell */
    cr_assert_eq(row_builder_add_number(&rb, 2, 4.5, &err), 0);
    cr_assert_eq(row_builder_add_bool(&rb, 3, true, &err), 0);
    cr_assert_eq(row_builder_add_error(&rb, 4, "#N/A", 4, &err), 0);
    cr_assert_eq(row_builder_finish(&rb, 3, &row, &err), 0);
    cr_assert_eq(row->number, 3);
    cr_assert_eq(row->ncells, 4);
    cr_assert_str_eq(row->cells[0].text, "abc");
    cr_assert_eq(row->cells[0].text_len, 3);
    cr_assert_eq(row->cells[1].column, 2);
    cr_assert_eq(row->cells[1].number, 4.5);
    cr_assert_null(row->cells[1].text);
    cr_assert_eq(row->cells[2].type, SHEET_CELL_BOOL);
    cr_assert_str_eq(row->cells[3].text, "#N/A");
    cr_assert_eq(row->cells[3].type, SHEET_CELL_ERROR);
    row_builder_free(&rb);
}

Test(row_builder, out_of_order_and_duplicates)
{
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    row_builder_init(&rb, &limits, "t.xlsx");
    for (int pass = 0; pass < 3; pass++) { /* memory is reused from row to row */
        row_builder_begin(&rb, 1);
        cr_assert_eq(row_builder_add_string(&rb, 5, "five", 4, &err), 0);
        cr_assert_eq(row_builder_add_string(&rb, 1, "one", 3, &err), 0);
        cr_assert_eq(row_builder_add_string(&rb, 5, "FIVE", 4, &err), 0);
        cr_assert_eq(row_builder_add_number(&rb, 3, 3, &err), 0);
        cr_assert_eq(row_builder_add_number(&rb, 1, 11, &err), 0);
        cr_assert_eq(row_builder_finish(&rb, 1, &row, &err), 0);
        cr_assert_eq(row->ncells, 3);
        cr_assert_eq(row->cells[0].column, 1);
        cr_assert_eq(row->cells[0].type, SHEET_CELL_NUMBER);
        cr_assert_eq(row->cells[0].number, 11);
        cr_assert_eq(row->cells[1].column, 3);
        cr_assert_eq(row->cells[2].column, 5);
        cr_assert_str_eq(row->cells[2].text, "FIVE");
    }
    /* consecutive duplicate keeps the last too */
    row_builder_begin(&rb, 2);
    row_builder_add_string(&rb, 0, "a", 1, &err);
    row_builder_add_string(&rb, 0, "b", 1, &err);
    cr_assert_eq(row_builder_finish(&rb, 2, &row, &err), 0);
    cr_assert_eq(row->ncells, 1);
    cr_assert_str_eq(row->cells[0].text, "b");
    row_builder_free(&rb);
}

Test(row_builder, invalid_utf8_is_replaced)
{
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    row_builder_init(&rb, &limits, "t.csv");
    row_builder_begin(&rb, 1);
    cr_assert_eq(row_builder_add_string(&rb, 0,
                                        "a\xFF"
                                        "b\xC3",
                                        4, &err),
                 0);
    cr_assert_eq(row_builder_add_string(&rb, 1, "\xED\xA0\x80", 3, &err), 0); /* surrogate */
    cr_assert_eq(row_builder_add_string(&rb, 2, "\xC3\xA9t\xC3\xA9", 5, &err), 0);
    cr_assert_eq(row_builder_finish(&rb, 1, &row, &err), 0);
    cr_assert_str_eq(row->cells[0].text, "a\xEF\xBF\xBD"
                                         "b\xEF\xBF\xBD");
    cr_assert_str_eq(row->cells[1].text, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    cr_assert_str_eq(row->cells[2].text, "\xC3\xA9t\xC3\xA9");
    row_builder_free(&rb);
}

Test(row_builder, limits)
{
    struct sheet_limits small = SHEET_LIMITS_INIT;
    small.max_cell_chars = 3;
    small.max_columns = 4;
    small.max_rows = 10;
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    row_builder_init(&rb, &small, "orders.xlsx");
    row_builder_begin(&rb, 2);
    cr_assert_eq(row_builder_add_string(&rb, 0, "\xC3\xA9\xC3\xA9\xC3\xA9", 6, &err), 0,
                 "3 code points fit although 6 bytes");
    cr_assert_eq(row_builder_add_string(&rb, 1, "abcd", 4, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "orders.xlsx: cell B2 holds 4 characters, more than the limit of 3");
    cr_assert_eq(row_builder_add_number(&rb, 4, 1, &err), SD_ELIMIT);
    cr_assert(strstr(err.message, "column E, beyond the limit of 4 columns"), "%s", err.message);
    cr_assert_eq(row_builder_finish(&rb, 2, &row, &err), 0);
    cr_assert_eq(row->ncells, 1, "refused cells are not kept");
    row_builder_begin(&rb, 11);
    row_builder_add_number(&rb, 0, 1, &err);
    cr_assert_eq(row_builder_finish(&rb, 11, &row, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "orders.xlsx: row 11 is beyond the limit of 10 rows");
    row_builder_free(&rb);
}

Test(row_builder, many_cells_reverse_order)
{
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    row_builder_init(&rb, &limits, "t.xlsx");
    row_builder_begin(&rb, 1);
    for (int c = 999; c >= 0; c--) {
        char t[8];
        int n = snprintf(t, sizeof t, "%d", c);
        cr_assert_eq(row_builder_add_string(&rb, (uint32_t)c, t, (size_t)n, &err), 0);
    }
    cr_assert_eq(row_builder_finish(&rb, 1, &row, &err), 0);
    cr_assert_eq(row->ncells, 1000);
    for (uint32_t c = 0; c < 1000; c++) {
        char t[8];
        snprintf(t, sizeof t, "%u", c);
        cr_assert_eq(row->cells[c].column, c);
        cr_assert_str_eq(row->cells[c].text, t);
    }
    row_builder_free(&rb);
}

Test(row_builder, borrowed_text)
{
    struct sheet_limits small = SHEET_LIMITS_INIT;
    small.max_cell_chars = 3;
    struct row_builder rb;
    struct sd_error err = SD_ERROR_INIT;
    const struct sheet_row *row;
    static const char table[] = "ab\0\xC3\xA9\xC3\xA9\xC3\xA9\0abcd";
    row_builder_init(&rb, &small, "t.xlsx");
    row_builder_begin(&rb, 4);
    cr_assert_eq(row_builder_add_string_ref(&rb, 1, table, 2, &err), 0);
    cr_assert_eq(row_builder_add_string_ref(&rb, 0, table + 3, 6, &err), 0,
                 "3 characters in 6 bytes");
    cr_assert_eq(row_builder_add_string_ref(&rb, 2, table + 10, 4, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "t.xlsx: cell C4 holds 4 characters, more than the limit of 3");
    cr_assert_eq(row_builder_add_string(&rb, 3, "xy", 2, &err), 0);
    cr_assert_eq(row_builder_finish(&rb, 4, &row, &err), 0);
    cr_assert_eq(row->ncells, 3);
    cr_assert_eq(row->cells[0].text, table + 3, "points at the caller's text, sorted along");
    cr_assert_eq(row->cells[1].text, table);
    cr_assert_eq(row->cells[1].text_len, 2);
    cr_assert_str_eq(row->cells[2].text, "xy");
    row_builder_free(&rb);
}
