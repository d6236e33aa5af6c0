/* `sheetd import`, `sheetd export` and `sheetd template blank` in-process: output and the
 * exit codes of DESIGN.md (0 imported, 1 the file failed, 2 usage or environment). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli_fixture.h"
#include "import/template_catalog.h"
#include "test_support.h"

static struct cli_config config;

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

static char *file(const char *name, const char *content)
{
    char *path = test_suite_path(name);
    cr_assert(test_write_file(path, content, strlen(content)));
    return path;
}

static void setup(void)
{
    test_suite_tmpdir_setup();
    config = cli_fixture_config(0);
    static const char *json =
        "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"all_or_nothing\","
        " \"columns\": [{\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\","
        " \"required\": true}, {\"key\": \"qty\", \"header\": \"Qty\","
        " \"type\": \"integer\"}]}";
    cli_fixture_store_with_template(json);
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void teardown(void)
{
    test_suite_tmpdir_teardown();
}

TestSuite(import_cli, .init = setup, .fini = teardown);

static int import(char **argv, int argc)
{
    return test_cli_call(cmd_import, &config, argc, argv);
}

Test(import_cli, success_prints_the_summary)
{
    char *csv = file("ok.csv", "Email,Qty\na@example.com,1\nb@example.com,2\n");
    char *argv[] = {"import", "people", csv};
    cr_assert_eq(import(argv, 3), CLI_EXIT_OK);
    cr_assert_stdout_eq_str("Imported 2 rows\n");
    free(csv);
}

Test(import_cli, failed_validation_exits_1_with_the_errors)
{
    char *csv = file("bad.csv", "Email,Qty\nnope,1\nb@example.com,2.5\n");
    char *argv[] = {"import", "1", csv, "--dry-run"};
    cr_assert_eq(import(argv, 4), CLI_EXIT_FAILED);
    cr_assert_stdout_eq_str("Nothing was imported: 2 rows failed validation\n"
                            "  Row 2, Email: \"nope\" is not a valid email address\n"
                            "  Row 3, Qty: \"2.5\" is not a whole number\n");
    free(csv);
}

Test(import_cli, file_level_failure_is_one_line_on_stderr)
{
    char *csv = file("x.csv", "Name,Other\n1,2\n");
    char *argv[] = {"import", "people", csv};
    cr_assert_eq(import(argv, 3), CLI_EXIT_FAILED);
    cr_assert_stderr_eq_str("sheetd: no header row found: none of the first 10 rows holds at "
                            "least half of the template's headers (\"Email\", \"Qty\")\n");
    free(csv);
}

Test(import_cli, usage_errors_exit_2)
{
    char *a1[] = {"import", "people"};
    cr_assert_eq(import(a1, 2), CLI_EXIT_USAGE);
    char *a2[] = {"import", "people", "/nonexistent/file.csv"};
    cr_assert_eq(import(a2, 3), CLI_EXIT_USAGE);
    char *csv = file("ok.csv", "Email,Qty\na@example.com,1\n");
    char *a3[] = {"import", "nosuchtable", csv};
    cr_assert_eq(import(a3, 3), CLI_EXIT_USAGE);
    char *a4[] = {"import", "people", csv, "--bogus"};
    cr_assert_eq(import(a4, 4), CLI_EXIT_USAGE);
    free(csv);
}

/* A template that does not exist is the user's argument: every command that takes one exits
 * 2 (DESIGN.md: 1 is for work that failed) and says which template it did not find. */
Test(import_cli, a_missing_template_exits_2_from_every_command)
{
    char *csv = file("ok.csv", "Email,Qty\na@example.com,1\n");
    char *out = test_suite_path("out.xlsx");
    struct {
        test_cli_command *command;
        int argc;
        char *argv[5];
    } cases[] = {
        {cmd_import, 3, {"import", "nosuch", csv}},
        {cmd_import, 4, {"import", "nosuch", csv, "--async"}},
        {cmd_export, 3, {"export", "nosuch", out}},
        {cmd_export, 3, {"export", "nosuch", "--async"}},
        {cmd_template, 3, {"template", "show", "nosuch"}},
        {cmd_template, 4, {"template", "blank", "nosuch", out}},
        {cmd_jobs, 4, {"jobs", "list", "--template", "nosuch"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(test_cli_call(cases[i].command, &config, cases[i].argc, cases[i].argv),
                     CLI_EXIT_USAGE, "%s %s", cases[i].argv[0], cases[i].argv[1]);
    fflush(stderr);
    FILE *err = cr_get_redirected_stderr();
    char text[4096] = {0};
    size_t n = fread(text, 1, sizeof text - 1, err);
    size_t lines = 0;
    for (const char *p = text; (p = strstr(p, "there is no template with table \"nosuch\"\n")); p++)
        lines++;
    cr_assert_eq(lines, sizeof cases / sizeof cases[0], "%.*s", (int)n, text);
    free(out);
    free(csv);
}

Test(import_cli, json_result)
{
    char *csv = file("ok.csv", "Email,Qty\na@example.com,1\n");
    char *argv[] = {"import", "people", csv, "--json"};
    cr_assert_eq(import(argv, 4), CLI_EXIT_OK);
    FILE *out = cr_get_redirected_stdout();
    char text[4096] = {0};
    size_t n = fread(text, 1, sizeof text - 1, out);
    json_error_t jerr;
    json_t *doc = json_loadb(text, n, 0, &jerr);
    cr_assert_not_null(doc, "%s", text);
    cr_assert(json_is_true(json_object_get(doc, "success")));
    cr_assert_eq(json_integer_value(json_object_get(doc, "imported")), 1);
    cr_assert_eq(json_array_size(json_object_get(doc, "errors")), 0);
    json_decref(doc);
    free(csv);
}

Test(import_cli, export_and_blank)
{
    char *csv = file("ok.csv", "Email,Qty\na@example.com,1\n");
    char *a1[] = {"import", "people", csv};
    cr_assert_eq(import(a1, 3), 0);
    char *out = test_suite_path("out.xlsx");
    char *a2[] = {"export", "people", out};
    cr_assert_eq(cmd_export(3, a2, &config), 0);
    char *blank = test_suite_path("blank.xlsx");
    char *a3[] = {"blank", "people", blank};
    cr_assert_eq(cmd_template_blank(3, a3, &config), 0);
    fflush(stdout);
    char *expect = NULL;
    cr_assert(asprintf(&expect,
                       "Imported 1 row\nExported 1 row to %s\n"
                       "Wrote the blank template for People to %s\n",
                       out, blank) > 0);
    cr_assert_stdout_eq_str(expect);
    free(expect);
    free(out);
    free(blank);
    free(csv);
}
