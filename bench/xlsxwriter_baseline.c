/*
 * The floor for `sheetd export`: libxlsxwriter alone, in constant_memory mode, writing the
 * same cells an export of the customers template writes (bold frozen header, autofilter,
 * typed cells), with the values made up in memory instead of read from a database.
 *
 *   xlsxwriter_baseline OUT.xlsx ROWS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

static const char *countries[] = {"Germany", "France", "Japan", "Brazil",
                                  "Canada",  "India",  "Kenya", "Chile"};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: xlsxwriter_baseline OUT.xlsx ROWS\n");
        return 2;
    }
    long rows = atol(argv[2]);
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
    lxw_workbook *wb = workbook_new_opt(argv[1], &opt);
    if (!wb)
        return 1;
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Customers");
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    lxw_format *datef = workbook_add_format(wb);
    format_set_num_format(datef, "yyyy-mm-dd");
    const char *hdr[] = {"ID",     "Name",   "Email",    "Country", "Signup Date",
                         "Amount", "Active", "Quantity", "Notes",   "Code"};
    for (int c = 0; c < 10; c++) {
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, 16, NULL);
        worksheet_write_string(ws, 0, (lxw_col_t)c, hdr[c], bold);
    }
    worksheet_freeze_panes(ws, 1, 0);
    worksheet_autofilter(ws, 0, 0, (lxw_row_t)rows, 9);
    char buf[256];
    unsigned s = 42;
    for (long r = 1; r <= rows; r++) {
        s = s * 1103515245u + 12345u;
        unsigned x = s >> 8;
        lxw_row_t row = (lxw_row_t)r;
        worksheet_write_number(ws, row, 0, (double)r, NULL);
        snprintf(buf, sizeof buf, "Name %u", x % 100);
        worksheet_write_string(ws, row, 1, buf, NULL);
        snprintf(buf, sizeof buf, "person%ld@example.com", r);
        worksheet_write_string(ws, row, 2, buf, NULL);
        worksheet_write_string(ws, row, 3, countries[(x / 100) % 8], NULL);
        lxw_datetime d = {
            (int)(2015 + x % 10), (int)(1 + (x / 7) % 12), (int)(1 + (x / 13) % 28), 0, 0, 0};
        worksheet_write_datetime(ws, row, 4, &d, datef);
        worksheet_write_number(ws, row, 5, (x % 1000000) / 100.0, NULL);
        worksheet_write_boolean(ws, row, 6, (int)(x & 1), NULL);
        worksheet_write_number(ws, row, 7, (double)(x % 500), NULL);
        snprintf(buf, sizeof buf, "Customer since %u, tier %c, referred by partner #%u",
                 2015 + (x % 10), 'A' + (x % 4), x % 977);
        worksheet_write_string(ws, row, 8, buf, NULL);
        snprintf(buf, sizeof buf, "C-%06ld-%c%c", r, 'A' + (x % 26), 'A' + ((x / 26) % 26));
        worksheet_write_string(ws, row, 9, buf, NULL);
    }
    return workbook_close(wb) == LXW_NO_ERROR ? 0 : 1;
}
