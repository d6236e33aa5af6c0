/* `sheetd read` run in-process: the cells and CSV layouts on stdout, one sentence on stderr,
 * and the exit codes (0 read, 1 the file could not be read, 2 usage). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "test_support.h"
#include "../sheet/xlsx_fixture.h"

static char *book;
static struct cli_config config;

static const char *body =
    "<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>name</t></is></c>"
    "<c r=\"C1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">a,\"b\"\ttab</t></is></c></row>"
    "<row r=\"3\"><c r=\"B3\"><v>1.5</v></c><c r=\"C3\" t=\"b\"><v>1</v></c>"
    "<c r=\"D3\" s=\"1\"><v>42064.5</v></c><c r=\"E3\" t=\"e\"><v>#N/A</v></c></row></sheetData>";

static void setup(void)
{
    test_suite_tmpdir_setup();
    book = test_suite_path("orders.xlsx");
    cr_assert(xlsx_fixture_minimal(book, body, NULL,
                                   "<styleSheet xmlns=\"" XLSX_NS "\"><cellXfs><xf numFmtId=\"0\"/>"
                                   "<xf numFmtId=\"22\"/></cellXfs></styleSheet>"));
    config = (struct cli_config){.data_dir = test_suite_tmpdir(), .log_level = "off"};
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void teardown(void)
{
    test_suite_tmpdir_teardown();
    free(book);
}

TestSuite(cmd_read, .init = setup, .fini = teardown);

#define run(...) test_cli_run(cmd_read, &config, __VA_ARGS__)

Test(cmd_read, cells_layout)
{
    cr_assert_eq(run(2, "read", book), CLI_EXIT_OK);
    cr_assert_stdout_eq_str("A1\ts\tname\nC1\ts\ta,\"b\"\\ttab\nB3\tn\t1.5\nC3\tb\tTRUE\n"
                            "D3\td\t2015-03-01T12:00:00\nE3\te\t#N/A\n");
}

Test(cmd_read, csv_layout)
{
    cr_assert_eq(run(4, "read", book, "--format", "csv"), CLI_EXIT_OK);
    cr_assert_stdout_eq_str(
        "name,,\"a,\"\"b\"\"\ttab\"\r\n\r\n,1.5,TRUE,2015-03-01T12:00:00,#N/A\r\n");
}

Test(cmd_read, sheet_argument)
{
    cr_assert_eq(run(4, "read", book, "--sheet", "Sheet1"), CLI_EXIT_OK);
    cr_assert_eq(run(4, "read", book, "--sheet", "0"), CLI_EXIT_OK);
    cr_assert_eq(run(4, "read", book, "--sheet", "Orders"), CLI_EXIT_FAILED);
    cr_assert_stderr_eq_str(
        "sheetd: orders.xlsx has no sheet named \"Orders\"; its only sheet is \"Sheet1\"\n");
}

Test(cmd_read, unreadable_file)
{
    char *text = test_suite_path("plain.xlsx");
    cr_assert(test_write_file(text, "a,b\n", 4));
    cr_assert_eq(run(2, "read", text), CLI_EXIT_FAILED);
    cr_assert_stdout_eq_str("");
    cr_assert_stderr_eq_str("sheetd: plain.xlsx is not a spreadsheet: it looks like plain text\n");
    free(text);
}

Test(cmd_read, usage_errors)
{
    cr_assert_eq(run(1, "read"), CLI_EXIT_USAGE);
    cr_assert_eq(run(4, "read", book, "--format", "json"), CLI_EXIT_USAGE);
    cr_assert_eq(run(3, "read", book, "--bogus"), CLI_EXIT_USAGE);
    cr_assert_eq(run(3, "read", book, "other.xlsx"), CLI_EXIT_USAGE);
    cr_assert_stdout_eq_str("");
}
