/* `sheetd template ...` run in-process: what a person sees on stdout and stderr, and the exit
 * codes of DESIGN.md (0 done, 1 the work failed, 2 usage or environment). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli_fixture.h"
#include "import/template.h"
#include "test_support.h"

static struct cli_config config;

static void setup(void)
{
    test_suite_tmpdir_setup();
    config = cli_fixture_config(0);
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void teardown(void)
{
    test_suite_tmpdir_teardown();
}

TestSuite(template_cli, .init = setup, .fini = teardown);

#define run(...) test_cli_run(cmd_template, &config, __VA_ARGS__)

static char *write_template(const char *name, const char *json)
{
    char *path = test_suite_path(name);
    cr_assert(test_write_file(path, json, strlen(json)));
    return path;
}

static char *example_path(void)
{
    return test_path(test_source_dir(), "examples/customers.template.json");
}

Test(template_cli, create_then_list_then_show)
{
    char *path = write_template(
        "orders.json", "{\"name\": \"Bestellungen \u00fcber alles\", \"table\": \"orders\", "
                       "\"mode\": \"partial\", \"columns\": [{\"key\": \"ref\", \"header\": "
                       "\"Ref\", \"type\": \"string\", \"required\": true, \"pattern\": "
                       "\"^O-[0-9]+$\"}, {\"key\": \"qty\", \"header\": \"Qty\", \"type\": "
                       "\"integer\", \"min\": 1}]}");
    char *example = example_path();
    cr_assert_eq(run(4, "template", "create", "--file", path), CLI_EXIT_OK);
    cr_assert_eq(run(4, "template", "create", "--file", example), CLI_EXIT_OK);
    /* listing and showing compile no pattern (creating checked them with regcomp) */
    unsigned long compiled = template_patterns_compiled();
    cr_assert_eq(run(2, "template", "list"), CLI_EXIT_OK);
    cr_assert_eq(run(3, "template", "list", "--count"), CLI_EXIT_OK);
    cr_assert_eq(run(3, "template", "show", "orders"), CLI_EXIT_OK);
    cr_assert_eq(run(3, "template", "show", "1"), CLI_EXIT_OK);
    cr_assert_eq(template_patterns_compiled(), compiled);
    const char *shown = "{\n"
                        "  \"id\": 1,\n"
                        "  \"name\": \"Bestellungen \xc3\xbc"
                        "ber alles\",\n"
                        "  \"table\": \"orders\",\n"
                        "  \"mode\": \"partial\",\n"
                        "  \"columns\": [\n"
                        "    {\"key\": \"ref\", \"header\": \"Ref\", \"type\": \"string\", "
                        "\"required\": true, \"pattern\": \"^O-[0-9]+$\"},\n"
                        "    {\"key\": \"qty\", \"header\": \"Qty\", \"type\": \"integer\", "
                        "\"min\": 1}\n"
                        "  ]\n"
                        "}\n";
    char want[4096];
    /* names are padded by characters, not bytes: the u-umlaut is one column wide */
    snprintf(want, sizeof want,
             "created template 1 \"Bestellungen \xc3\xbc"
             "ber alles\" (table orders)\n"
             "created template 2 \"Customers\" (table customers)\n"
             "ID  NAME                     TABLE      COLUMNS\n"
             "1   Bestellungen \xc3\xbc"
             "ber alles  orders     2\n"
             "2   Customers                customers  10\n"
             "2\n"
             "%s%s",
             shown, shown);
    cr_assert_stdout_eq_str(want);
    free(path);
    free(example);
}

Test(template_cli, an_invalid_template_prints_every_problem)
{
    char *path = write_template("bad.json", "{\"name\": \"\", \"table\": \"t\", \"columns\": "
                                            "[{\"key\": \"a\", \"header\": \"A\", \"type\": "
                                            "\"money\"}]}");
    cr_assert_eq(run(4, "template", "create", "--file", path), CLI_EXIT_FAILED);
    cr_assert_eq(run(2, "template", "list"), CLI_EXIT_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "sheetd: %s: name is empty\n"
             "sheetd: %s: columns[0] (\"A\"): unknown type \"money\"; use string, integer, "
             "decimal, date, datetime, boolean, email or enum\n"
             "no templates yet; create one with: sheetd template create --file T.json\n",
             path, path);
    cr_assert_stderr_eq_str(want);
    free(path);
}

Test(template_cli, a_duplicate_name_fails_with_one_line)
{
    char *path = example_path();
    cr_assert_eq(run(3, "template", "create", "--file=x"), CLI_EXIT_USAGE);
    cr_assert_eq(run(4, "template", "create", "--file", path), CLI_EXIT_OK);
    cr_assert_eq(run(4, "template", "create", "--file", path), CLI_EXIT_FAILED);
    cr_assert_stderr_eq_str("sheetd: cannot open x: No such file or directory\n"
                            "sheetd: a template named \"Customers\" already exists; choose "
                            "another name\n");
    free(path);
}

Test(template_cli, show_of_an_unknown_template)
{
    cr_assert_eq(run(3, "template", "show", "42"), CLI_EXIT_USAGE);
    cr_assert_eq(run(3, "template", "show", "orders"), CLI_EXIT_USAGE);
    cr_assert_stderr_eq_str("sheetd: there is no template with id 42\n"
                            "sheetd: there is no template with table \"orders\"\n");
}

Test(template_cli, usage_errors_exit_2)
{
    cr_assert_eq(run(1, "template"), CLI_EXIT_USAGE);
    cr_assert_eq(run(2, "template", "frob"), CLI_EXIT_USAGE);
    cr_assert_eq(run(2, "template", "create"), CLI_EXIT_USAGE);
    cr_assert_eq(run(5, "template", "create", "--file", "a", "b"), CLI_EXIT_USAGE);
    cr_assert_eq(run(2, "template", "show"), CLI_EXIT_USAGE);
    cr_assert_eq(run(3, "template", "list", "all"), CLI_EXIT_USAGE);
    cr_assert_stderr_eq_str(
        "usage: sheetd template create --file T.json   (\"-\" reads standard input)\n"
        "       sheetd template list [--count]\n"
        "       sheetd template show ID|TABLE\n"
        "       sheetd template blank ID|TABLE OUT.xlsx\n"
        "sheetd: unknown template command \"frob\"; use create, list, show or blank\n"
        "sheetd: template create needs --file T.json (the template definition)\n"
        "sheetd: template create takes --file T.json once, not \"b\"\n"
        "sheetd: template show needs one template: its id or table name\n"
        "sheetd: template list takes only --count, not \"all\"\n");
}

Test(template_cli, an_unusable_data_dir_is_an_environment_error)
{
    char *file = write_template("plain", "x");
    config.data_dir = file; /* a file, not a directory */
    cr_assert_eq(run(2, "template", "list"), CLI_EXIT_USAGE);
    char want[1024];
    snprintf(want, sizeof want,
             "sheetd: the data directory %s exists but is not a directory; set "
             "SHEETD_DATA_DIR to a directory\n",
             file);
    cr_assert_stderr_eq_str(want);
    free(file);
}
