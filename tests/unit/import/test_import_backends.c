/* End to end on both backends (tests/unit/store/contract.h): `sheetd template create`, then
 * `sheetd import` of a generated XLSX with every column type (twice: the second run updates
 * every row through the upsert key), then `sheetd export`; the exported sheet must read
 * exactly like the imported one. On PostgreSQL this goes through SHEETD_DATABASE_URL's
 * database (a fresh schema), COPY and ON CONFLICT. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "../store/contract.h"
#include "sheet/xlsx_writer.h"
#include "../sheet/sheet_dump.h"
#include "test_support.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:worksheet_data_validation_range\n";
}

#define NROWS 2500

static const char *const template_json =
    "{\"name\": \"Everything\", \"table\": \"everything\", \"mode\": \"all_or_nothing\","
    " \"upsert_key\": [\"code\"], \"columns\": ["
    " {\"key\": \"code\", \"header\": \"Code\", \"type\": \"integer\", \"required\": true,"
    "  \"unique\": true},"
    " {\"key\": \"name\", \"header\": \"Name\", \"type\": \"string\"},"
    " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\"},"
    " {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\"},"
    " {\"key\": \"signup\", \"header\": \"Signup\", \"type\": \"date\"},"
    " {\"key\": \"seen\", \"header\": \"Seen\", \"type\": \"datetime\"},"
    " {\"key\": \"active\", \"header\": \"Active\", \"type\": \"boolean\"},"
    " {\"key\": \"tier\", \"header\": \"Tier\", \"type\": \"enum\", \"values\": [\"A\", \"B\"]}"
    "]}";

/* Rows with text that needs escaping on the way into PostgreSQL, empty cells, big and
 * fractional numbers, dates before 1970 and datetimes with seconds. */
static char *generate_xlsx(const char *name)
{
    char *path = test_suite_path(name);
    struct xlsx_writer *w = NULL;
    struct xlsx_writer_options opts = XLSX_WRITER_OPTIONS_INIT;
    opts.path = path;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xlsx_writer_open(&w, &opts, &err), 0, "%s", sd_error_message(&err));
    static const struct xlsx_column cols[] = {
        {"Code", 0},   {"Name", 0}, {"Email", 0},  {"Amount", 0},
        {"Signup", 0}, {"Seen", 0}, {"Active", 0}, {"Tier", 0},
    };
    cr_assert_eq(xlsx_writer_add_sheet(w, "Data", &err), 0);
    cr_assert_eq(xlsx_writer_set_columns(w, cols, 8, &err), 0);
    cr_assert_eq(xlsx_writer_write_header(w, &err), 0);
    static const char *const names[] = {"Ada Lovelace",    "tab\there",    "two\nlines",
                                        "back\\slash \\N", "Grüße 東京 🚀", "\"quoted\""};
    for (int r = 0; r < NROWS; r++) {
        char email[48];
        snprintf(email, sizeof email, "person%d@example.com", r);
        cr_assert_eq(xlsx_writer_begin_row(w, &err), 0);
        cr_assert_eq(xlsx_writer_write_number(w, 0, 1000000000 + r, &err), 0);
        if (r % 7 != 3) {
            const char *n = names[r % 6];
            cr_assert_eq(xlsx_writer_write_string(w, 1, n, strlen(n), &err), 0);
        }
        cr_assert_eq(xlsx_writer_write_string(w, 2, email, strlen(email), &err), 0);
        cr_assert_eq(xlsx_writer_write_number(w, 3, r * 1.25 - 100, &err), 0);
        cr_assert_eq(xlsx_writer_write_date(w, 4, -3000 + r * 11, &err), 0);
        cr_assert_eq(xlsx_writer_write_date(w, 5, 16495 + r + (r % 86400) / 86400.0, &err), 0);
        cr_assert_eq(xlsx_writer_write_bool(w, 6, r % 2, &err), 0);
        cr_assert_eq(xlsx_writer_write_string(w, 7, r % 3 ? "A" : "B", 1, &err), 0);
    }
    cr_assert_eq(xlsx_writer_close(w, &err), 0, "%s", sd_error_message(&err));
    return path;
}

CONTRACT_TEST(backends, an_xlsx_imported_twice_then_exported_reads_back_the_same)
{
    struct cli_config config = {.data_dir = contract.dir,
                                .database_url = contract.url,
                                .listen = "127.0.0.1:0",
                                .workers = 0,
                                .max_upload_mb = 10,
                                .log_level = "off"};
    cr_redirect_stdout();
    char *tmpl = test_suite_path("everything.json");
    cr_assert(test_write_file(tmpl, template_json, strlen(template_json)));
    char *in = generate_xlsx("in.xlsx");
    char *out = test_suite_path("out.xlsx");
    cr_assert_eq(test_cli_run(cmd_migrate, &config, 1, "migrate"), 0);
    cr_assert_eq(test_cli_run(cmd_template, &config, 4, "template", "create", "--file", tmpl), 0);
    cr_assert_eq(test_cli_run(cmd_import, &config, 3, "import", "everything", in), 0);
    cr_assert_eq(test_cli_run(cmd_import, &config, 3, "import", "everything", in), 0);
    cr_assert_eq(test_cli_run(cmd_export, &config, 3, "export", "everything", out), 0);
    fflush(stdout);
    char said[4096] = "";
    size_t n = fread(said, 1, sizeof said - 1, cr_get_redirected_stdout());
    said[n] = '\0';
    char line[128];
    snprintf(line, sizeof line, "Imported %d,%03d rows\n", NROWS / 1000, NROWS % 1000);
    cr_assert(strstr(said, line), "%s", said);
    snprintf(line, sizeof line, "updated %d,%03d rows", NROWS / 1000, NROWS % 1000);
    cr_assert(strstr(said, line), "the second import updates every row: %s", said);
    char *want = sheet_dump(in, NULL, NULL, &(int){0}, NULL);
    cr_assert_not_null(want);
    sheet_dump_expect(out, NULL, want);
    free(want);
    free(tmpl);
    free(in);
    free(out);
}

/* A row the database itself refuses (here a unique index the template does not know about)
 * fails an all_or_nothing import naming that row, and nothing is committed, although the rows
 * before it were already sent in earlier batches. */
CONTRACT_TEST(backends, a_row_the_database_refuses_is_named_and_nothing_is_committed)
{
    struct cli_config config = {.data_dir = contract.dir,
                                .database_url = contract.url,
                                .listen = "127.0.0.1:0",
                                .workers = 0,
                                .max_upload_mb = 10,
                                .log_level = "off"};
    cr_redirect_stdout();
    cr_redirect_stderr();
    static const char *const json =
        "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"all_or_nothing\","
        " \"columns\": [{\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\"},"
        " {\"key\": \"qty\", \"header\": \"Qty\", \"type\": \"integer\"}]}";
    char *tmpl = test_suite_path("people.json");
    cr_assert(test_write_file(tmpl, json, strlen(json)));
    cr_assert_eq(test_cli_run(cmd_template, &config, 4, "template", "create", "--file", tmpl), 0);
    struct db *db = contract_open();
    contract_exec(db, "CREATE UNIQUE INDEX people_email ON people (email)");
    /* 5,000 rows; spreadsheet row 4,502 repeats row 2's email. */
    char *csv = test_suite_path("people.csv");
    FILE *f = fopen(csv, "w");
    cr_assert_not_null(f);
    fputs("Email,Qty\n", f);
    for (int i = 0; i < 5000; i++)
        fprintf(f, "p%d@example.com,%d\n", i == 4500 ? 0 : i, i);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(test_cli_run(cmd_import, &config, 3, "import", "people", csv), CLI_EXIT_FAILED);
    fflush(stderr);
    char said[2048] = "";
    size_t n = fread(said, 1, sizeof said - 1, cr_get_redirected_stderr());
    said[n] = '\0';
    cr_assert(strstr(said, "Row 4502 could not be written: a row with the same"), "%s", said);
    cr_assert(strstr(said, "email"), "%s", said);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM people"), 0);
    db_close(db);
    free(tmpl);
    free(csv);
}
