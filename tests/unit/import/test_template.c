/* template_parse, template_to_json and template_header_normalize: every rule a template must
 * follow, with the exact sentence a person sees when it is broken. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/template.h"

static const char *design_example =
    "{ \"name\": \"Customers\", \"table\": \"customers\", \"mode\": \"all_or_nothing\", "
    "\"upsert_key\": [\"email\"],\n"
    "  \"columns\": [\n"
    "    {\"key\": \"email\",   \"header\": \"Email\", \"aliases\": [\"E-mail\", \"Mail\"], "
    "\"type\": \"email\", \"required\": true, \"unique\": true},\n"
    "    {\"key\": \"country\", \"header\": \"Country\", \"type\": \"enum\", \"values\": "
    "[\"Germany\", \"France\"]},\n"
    "    {\"key\": \"signup\",  \"header\": \"Signup Date\", \"type\": \"date\"},\n"
    "    {\"key\": \"amount\",  \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0}\n"
    "  ] }";

static struct import_template *parse_ok(const char *json)
{
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_parse(&t, json, strlen(json), &problems, &err);
    cr_assert_eq(rc, 0, "expected a valid template, got %d: %s", rc, err.message);
    cr_assert_eq(problems.count, 0);
    cr_assert_not_null(t);
    return t;
}

/* Parses `json` and checks that the problems are exactly the NULL-terminated list given. */
static void expect_problems(const char *json, ...)
{
    struct import_template *t = (struct import_template *)0x1;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_parse(&t, json, strlen(json), &problems, &err);
    cr_assert_eq(rc, SD_EINVALID, "expected SD_EINVALID for %s", json);
    cr_assert_null(t);
    cr_assert_eq(err.code, SD_EINVALID);
    va_list ap;
    va_start(ap, json);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)); i++) {
        cr_assert(i < problems.count, "missing problem %zu: %s", i, want);
        cr_assert_str_eq(problems.messages[i], want);
    }
    va_end(ap);
    cr_assert_eq(problems.count, i, "%zu problems, expected %zu; the first extra: %s",
                 problems.count, i, problems.count > i ? problems.messages[i] : "");
    template_problems_free(&problems);
}

/* A template with one column whose body is `column` (without braces). */
static char *with_column(const char *column)
{
    static const char *fmt = "{\"name\": \"T\", \"table\": \"t\", \"columns\": [{%s}]}";
    size_t n = strlen(fmt) + strlen(column) + 1;
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, fmt, column);
    return s;
}

static void expect_column_problem(const char *column, const char *want)
{
    char *json = with_column(column);
    expect_problems(json, want, NULL);
    free(json);
}

Test(template, parses_the_design_example)
{
    struct import_template *t = parse_ok(design_example);
    cr_assert_str_eq(t->name, "Customers");
    cr_assert_str_eq(t->table, "customers");
    cr_assert_eq(t->mode, TEMPLATE_MODE_ALL_OR_NOTHING);
    cr_assert_eq(t->id, 0);
    cr_assert_eq(t->nupsert_key, 1);
    cr_assert_str_eq(t->upsert_key[0], "email");
    cr_assert_eq(t->ncolumns, 4);

    const struct template_column *email = template_find_column(t, "email");
    cr_assert_not_null(email);
    cr_assert_str_eq(email->header, "Email");
    cr_assert_eq(email->naliases, 2);
    cr_assert_str_eq(email->aliases[0], "E-mail");
    cr_assert_str_eq(email->aliases[1], "Mail");
    cr_assert_eq(email->type, TEMPLATE_TYPE_EMAIL);
    cr_assert(email->required);
    cr_assert(email->unique);

    const struct template_column *country = template_find_column(t, "country");
    cr_assert_eq(country->type, TEMPLATE_TYPE_ENUM);
    cr_assert_eq(country->nvalues, 2);
    cr_assert_str_eq(country->values[1], "France");
    cr_assert_not(country->required);

    const struct template_column *amount = template_find_column(t, "amount");
    cr_assert_eq(amount->type, TEMPLATE_TYPE_DECIMAL);
    cr_assert(amount->has_min);
    cr_assert_not(amount->has_max);
    cr_assert_eq(amount->min, 0.0);
    cr_assert_eq(amount->max_length, -1);
    cr_assert_null(amount->pattern);
    cr_assert_null(template_find_column(t, "nope"));
    template_free(t);
}

Test(template, defaults_and_trimming)
{
    struct import_template *t = parse_ok(
        "{\"name\": \"  Orders \", \"table\": \"orders\", \"mode\": \"partial\", \"columns\": "
        "[{\"key\": \"ref\", \"header\": \" Ref \", \"type\": \"string\"}]}");
    cr_assert_str_eq(t->name, "Orders");
    cr_assert_str_eq(t->columns[0].header, "Ref");
    cr_assert_eq(t->mode, TEMPLATE_MODE_PARTIAL);
    cr_assert_eq(t->nupsert_key, 0);
    cr_assert_eq(t->columns[0].max_length, -1);
    template_free(t);
}

Test(template, type_names_and_storage_types)
{
    cr_assert_str_eq(template_type_name(TEMPLATE_TYPE_DATETIME), "datetime");
    cr_assert_str_eq(template_mode_name(TEMPLATE_MODE_PARTIAL), "partial");
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_EMAIL), DATA_COLUMN_TEXT);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_ENUM), DATA_COLUMN_TEXT);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_INTEGER), DATA_COLUMN_INTEGER);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_DECIMAL), DATA_COLUMN_DECIMAL);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_DATE), DATA_COLUMN_DATE);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_DATETIME), DATA_COLUMN_DATETIME);
    cr_assert_eq(template_type_column(TEMPLATE_TYPE_BOOLEAN), DATA_COLUMN_BOOLEAN);
}

Test(template, invalid_json_names_line_and_column)
{
    expect_problems("{\"name\": \"T\",\n  \"table\": }",
                    "the template is not valid JSON: unexpected token near '}' (line 2, "
                    "column 12)",
                    NULL);
    expect_problems("",
                    "the template is not valid JSON: '[' or '{' expected near end of file "
                    "(line 1, column 0)",
                    NULL);
}

Test(template, duplicate_object_keys_are_refused)
{
    expect_problems("{\"name\": \"A\", \"name\": \"B\"}",
                    "the template is not valid JSON: duplicate object key near '\"name\"' "
                    "(line 1, column 20)",
                    NULL);
}

Test(template, not_an_object)
{
    expect_problems("[1, 2]",
                    "the template must be a JSON object such as {\"name\": \"Customers\", "
                    "\"table\": \"customers\", \"columns\": [...]}",
                    NULL);
}

Test(template, missing_top_level_fields)
{
    expect_problems("{}",
                    "name is missing: give the template a name people will recognise, e.g. "
                    "\"Customers\"",
                    "table is missing: give the name of the database table the rows go to, "
                    "e.g. \"customers\"",
                    "columns is missing: list the columns the sheet must have", NULL);
}

Test(template, unknown_top_level_field)
{
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"colums\": [], \"columns\": "
                    "[{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]}",
                    "unknown field \"colums\"; a template has name, table, mode, upsert_key and "
                    "columns",
                    NULL);
}

Test(template, id_from_show_output_is_accepted_and_ignored)
{
    struct import_template *t = parse_ok("{\"id\": 9, \"name\": \"T\", \"table\": \"t\", "
                                         "\"columns\": [{\"key\": \"a\", \"header\": \"A\", "
                                         "\"type\": \"string\"}]}");
    cr_assert_eq(t->id, 0);
    template_free(t);
    expect_problems("{\"id\": \"x\", \"name\": \"T\", \"table\": \"t\", \"columns\": "
                    "[{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]}",
                    "id must be a whole number (it is ignored: the store gives each template "
                    "its id)",
                    NULL);
}

Test(template, name_rules)
{
    const char *col = "\"columns\": [{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]";
    char json[2048];
    snprintf(json, sizeof json, "{\"name\": \"   \", \"table\": \"t\", %s}", col);
    expect_problems(json, "name is empty", NULL);
    snprintf(json, sizeof json, "{\"name\": 5, \"table\": \"t\", %s}", col);
    expect_problems(json, "name must be a string", NULL);
    snprintf(json, sizeof json, "{\"name\": \"a\\tb\", \"table\": \"t\", %s}", col);
    expect_problems(json,
                    "name contains a control character such as a tab or a line break; use "
                    "plain text",
                    NULL);
    char longname[202];
    memset(longname, 'x', 201);
    longname[201] = '\0';
    snprintf(json, sizeof json, "{\"name\": \"%s\", \"table\": \"t\", %s}", longname, col);
    expect_problems(json, "name is longer than 200 characters", NULL);
    /* 200 characters of two bytes each are still 200 characters */
    char wide[401];
    for (int i = 0; i < 200; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[400] = '\0';
    snprintf(json, sizeof json, "{\"name\": \"%s\", \"table\": \"t\", %s}", wide, col);
    template_free(parse_ok(json));
}

Test(template, table_rules)
{
    const char *col = "\"columns\": [{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]";
    char json[1024];
    /* An uppercase letter, a leading underscore, 64 characters: the same sentence each. */
    static const char *const invalid[] = {
        "Customers", "_t", "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        char want[256];
        snprintf(json, sizeof json, "{\"name\": \"T\", \"table\": \"%s\", %s}", invalid[i], col);
        snprintf(want, sizeof want,
                 "table \"%s\" is not a valid table name: use a lowercase letter, then up to 62 "
                 "lowercase letters, digits or underscores",
                 invalid[i]);
        expect_problems(json, want, NULL);
    }
    snprintf(json, sizeof json, "{\"name\": \"T\", \"table\": \"select\", %s}", col);
    expect_problems(json, "table \"select\" is an SQL keyword; choose another name", NULL);
    snprintf(json, sizeof json, "{\"name\": \"T\", \"table\": [], %s}", col);
    expect_problems(json, "table must be a string such as \"customers\"", NULL);
    /* 63 characters is the most */
    snprintf(json, sizeof json,
             "{\"name\": \"T\", \"table\": \"a23456789012345678901234567890123456789012345678901"
             "2345678901_3\", %s}",
             col);
    template_free(parse_ok(json));
}

Test(template, mode_rules)
{
    const char *col = "\"columns\": [{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]";
    char json[1024];
    snprintf(json, sizeof json, "{\"name\": \"T\", \"table\": \"t\", \"mode\": \"some\", %s}", col);
    expect_problems(json,
                    "mode \"some\" is unknown; use \"all_or_nothing\" (any invalid row stops "
                    "the import) or \"partial\" (valid rows are written)",
                    NULL);
    snprintf(json, sizeof json, "{\"name\": \"T\", \"table\": \"t\", \"mode\": true, %s}", col);
    expect_problems(json, "mode must be \"all_or_nothing\" or \"partial\"", NULL);
}

Test(template, columns_rules)
{
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": []}",
                    "columns is empty; a template needs at least one column", NULL);
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": {}}",
                    "columns must be a list of column definitions", NULL);
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": [\"email\"]}",
                    "columns[0] must be an object such as {\"key\": \"email\", \"header\": "
                    "\"Email\", \"type\": \"email\"}",
                    NULL);
}

Test(template, at_most_1000_columns)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "{\"name\": \"T\", \"table\": \"t\", \"columns\": ["), 0);
    for (int i = 0; i < 1001; i++)
        cr_assert_eq(buf_printf(&b,
                                "%s{\"key\": \"c%d\", \"header\": \"C%d\", \"type\": "
                                "\"string\"}",
                                i ? "," : "", i, i),
                     0);
    cr_assert_eq(buf_puts(&b, "]}"), 0);
    expect_problems(b.data, "columns has 1001 entries; a template may have at most 1000", NULL);
    /* 1000 is fine */
    char *last = strrchr(b.data, '{');
    last[-1] = ']';
    last[0] = '}';
    last[1] = '\0';
    struct import_template *t = parse_ok(b.data);
    cr_assert_eq(t->ncolumns, 1000);
    template_free(t);
    buf_free(&b);
}

Test(template, column_key_rules)
{
    expect_column_problem("\"header\": \"Email\", \"type\": \"email\"",
                          "columns[0] (\"Email\"): key is missing: the database column name, "
                          "e.g. \"email\"");
    expect_column_problem("\"key\": \"E-mail\", \"header\": \"Email\", \"type\": \"email\"",
                          "columns[0] (\"Email\"): key \"E-mail\" is not a valid column name: "
                          "use a lowercase letter, then up to 62 lowercase letters, digits or "
                          "underscores");
    expect_column_problem("\"key\": \"order\", \"header\": \"Order\", \"type\": \"string\"",
                          "columns[0] (\"Order\"): key \"order\" is an SQL keyword; choose "
                          "another name");
    expect_column_problem("\"key\": 3, \"header\": \"N\", \"type\": \"integer\"",
                          "columns[0] (\"N\"): key must be a string such as \"email\"");
}

/* sheetd's own columns (_id, _row, _job_id) start with an underscore, which keys cannot, so
 * a template may call a column "id". */
Test(template, a_column_may_be_called_id)
{
    struct import_template *t = parse_ok("{\"name\": \"T\", \"table\": \"t\", \"columns\": "
                                         "[{\"key\": \"id\", \"header\": \"ID\", "
                                         "\"type\": \"integer\"}]}");
    cr_assert_str_eq(t->columns[0].key, "id");
    template_free(t);
}

Test(template, column_header_rules)
{
    expect_column_problem("\"key\": \"a\", \"type\": \"string\"",
                          "columns[0]: header is missing: the title people write above the "
                          "column");
    expect_column_problem("\"key\": \"a\", \"header\": \"\", \"type\": \"string\"",
                          "columns[0]: header is empty");
    expect_column_problem("\"key\": \"a\", \"header\": \"- _\", \"type\": \"string\"",
                          "columns[0] (\"- _\"): header \"- _\" has nothing but spaces, "
                          "underscores and hyphens, so no sheet header could match it");
}

Test(template, unknown_type)
{
    expect_column_problem("\"key\": \"price\", \"header\": \"Price\", \"type\": \"money\"",
                          "columns[0] (\"Price\"): unknown type \"money\"; use string, integer, "
                          "decimal, date, datetime, boolean, email or enum");
    expect_column_problem("\"key\": \"price\", \"header\": \"Price\"",
                          "columns[0] (\"Price\"): type is missing; use string, integer, "
                          "decimal, date, datetime, boolean, email or enum");
    expect_column_problem("\"key\": \"price\", \"header\": \"Price\", \"type\": 1",
                          "columns[0] (\"Price\"): type must be a string: one of string, "
                          "integer, decimal, date, datetime, boolean, email or enum");
}

Test(template, unknown_column_field)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"requird\": true",
                          "columns[0] (\"A\"): unknown field \"requird\"; a column may have "
                          "key, header, aliases, type, required, unique, min, max, max_length, "
                          "pattern, values and format");
}

Test(template, wrong_json_types_for_flags)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"required\": \"yes\"",
                          "columns[0] (\"A\"): required must be true or false");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"unique\": 1",
                          "columns[0] (\"A\"): unique must be true or false");
}

Test(template, min_greater_than_max)
{
    char *json = NULL;
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": ["
                    "{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"},"
                    "{\"key\": \"b\", \"header\": \"B\", \"type\": \"string\"},"
                    "{\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", "
                    "\"min\": 10, \"max\": 5}]}",
                    "columns[2] (\"Amount\"): min (10) is greater than max (5)", NULL);
    free(json);
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"decimal\", "
                          "\"min\": 0.3, \"max\": 0.1",
                          "columns[0] (\"A\"): min (0.3) is greater than max (0.1)");
}

Test(template, bounds_rules)
{
    expect_column_problem("\"key\": \"q\", \"header\": \"Q\", \"type\": \"integer\", "
                          "\"min\": 0.5",
                          "columns[0] (\"Q\"): min (0.5) must be a whole number for an integer "
                          "column");
    expect_column_problem("\"key\": \"q\", \"header\": \"Q\", \"type\": \"integer\", "
                          "\"max\": \"10\"",
                          "columns[0] (\"Q\"): max must be a number");
    expect_column_problem("\"key\": \"q\", \"header\": \"Q\", \"type\": \"integer\", "
                          "\"max\": 1e17",
                          "columns[0] (\"Q\"): max (1e+17) is beyond the whole numbers sheetd "
                          "checks exactly (-9007199254740991 to 9007199254740991)");
    char *json = with_column("\"key\": \"q\", \"header\": \"Q\", \"type\": \"integer\", "
                             "\"min\": -5, \"max\": 5.0");
    struct import_template *t = parse_ok(json);
    cr_assert(t->columns[0].has_min && t->columns[0].has_max);
    cr_assert_eq(t->columns[0].min, -5.0);
    cr_assert_eq(t->columns[0].max, 5.0);
    template_free(t);
    free(json);
}

Test(template, rules_only_on_types_they_fit)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", \"min\": 1",
                          "columns[0] (\"A\"): min applies only to integer and decimal columns, "
                          "not to a string column");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"integer\", "
                          "\"max_length\": 5",
                          "columns[0] (\"A\"): max_length applies only to string columns, not "
                          "to an integer column");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"email\", "
                          "\"pattern\": \"x\"",
                          "columns[0] (\"A\"): pattern applies only to string columns, not to "
                          "an email column");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"values\": [\"x\"]",
                          "columns[0] (\"A\"): values applies only to enum columns, not to a "
                          "string column");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"boolean\", "
                          "\"format\": \"DD/MM/YYYY\"",
                          "columns[0] (\"A\"): format applies only to date and datetime "
                          "columns, not to a boolean column");
}

Test(template, enum_values_rules)
{
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\"",
                          "columns[0] (\"C\"): an enum column needs values: a non-empty list "
                          "of the allowed strings");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": []",
                          "columns[0] (\"C\"): an enum column needs values: a non-empty list "
                          "of the allowed strings");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": "
                          "\"France\"",
                          "columns[0] (\"C\"): values must be a list of strings");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": "
                          "[\"France\", 2]",
                          "columns[0] (\"C\"): values[1] must be a string");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": "
                          "[\"France\", \"Spain\", \"France\"]",
                          "columns[0] (\"C\"): values has \"France\" twice");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": "
                          "[\"France\", \"FRANCE\"]",
                          "columns[0] (\"C\"): values has \"France\" and \"FRANCE\", which "
                          "differ only in case (values are matched ignoring case)");
    expect_column_problem("\"key\": \"c\", \"header\": \"C\", \"type\": \"enum\", \"values\": "
                          "[\" \"]",
                          "columns[0] (\"C\"): values[0] is empty");
}

Test(template, max_length_rules)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"max_length\": 0",
                          "columns[0] (\"A\"): max_length must be a whole number from 1 to "
                          "1000000");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"max_length\": 2.5",
                          "columns[0] (\"A\"): max_length must be a whole number from 1 to "
                          "1000000");
    char *json = with_column("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                             "\"max_length\": 40");
    struct import_template *t = parse_ok(json);
    cr_assert_eq(t->columns[0].max_length, 40);
    template_free(t);
    free(json);
}

Test(template, pattern_is_kept_and_compiles)
{
    char *json = with_column("\"key\": \"code\", \"header\": \"Code\", \"type\": \"string\", "
                             "\"pattern\": \"^C-[0-9]{6}-[A-Z]{2}$\"");
    struct import_template *t = parse_ok(json);
    const struct template_column *c = &t->columns[0];
    cr_assert_str_eq(c->pattern, "^C-[0-9]{6}-[A-Z]{2}$");
    regex_t re;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_pattern_compile(&re, c->pattern, &err), 0, "%s", err.message);
    cr_assert_eq(regexec(&re, "C-000042-QX", 0, NULL, 0), 0);
    cr_assert_eq(regexec(&re, "C-42-QX", 0, NULL, 0), REG_NOMATCH);
    regfree(&re);
    template_free(t);
    free(json);
}

Test(template, pattern_rules)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"[a-\"",
                          "columns[0] (\"A\"): pattern \"[a-\" is not a valid regular "
                          "expression: Unmatched [, [^, [:, [., or [=");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"\"",
                          "columns[0] (\"A\"): pattern is empty; leave it out to accept any "
                          "text");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": 7",
                          "columns[0] (\"A\"): pattern must be a string: a POSIX extended "
                          "regular expression");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"(a)\\\\1\"",
                          "columns[0] (\"A\"): pattern \"(a)\\1\" uses the back-reference \\1, "
                          "which sheetd does not allow because it can make matching very slow");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"a{1,5000}\"",
                          "columns[0] (\"A\"): pattern \"a{1,5000}\" repeats something up to "
                          "5000 times; one repetition may go up to 255");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"(o*){1,250}*(o*){1,250}*\"",
                          "columns[0] (\"A\"): pattern \"(o*){1,250}*(o*){1,250}*\" repeats "
                          "something that can already match empty text, as in (a*)* or "
                          "(a?){2,5}; drop the outer repetition");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"x(a|b?)+\"",
                          "columns[0] (\"A\"): pattern \"x(a|b?)+\" repeats something that "
                          "can already match empty text, as in (a*)* or (a?){2,5}; drop the "
                          "outer repetition");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"o**\"",
                          "columns[0] (\"A\"): pattern \"o**\" repeats something that can "
                          "already match empty text, as in (a*)* or (a?){2,5}; drop the outer "
                          "repetition");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"((a{1,100}){1,100}){1,100}\"",
                          "columns[0] (\"A\"): pattern \"((a{1,100}){1,100}){1,100}\" is too "
                          "complex: its repetitions would expand to more than 10000 elements; "
                          "use smaller bounds, or + and *");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                          "\"pattern\": \"(a|b){1,3}++++++++++++++\"",
                          "columns[0] (\"A\"): pattern \"(a|b){1,3}++++++++++++++\" is too "
                          "complex: its repetitions would expand to more than 10000 elements; "
                          "use smaller bounds, or + and *");
    /* braces inside a bracket expression are not repetitions */
    const char *fine[] = {"^[{}*]+(x{1,50}){1,99}$", "^(ab?c|d)+[a-z]*(-[0-9]{2,4})?$",
                          "^([A-Z][a-z]+ ?)+$", "a*b*c?d{0,3}", "^\\\\d\\\\w+\\\\b$"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", \"pattern\": \"%s\"",
                 fine[i]);
        char *json = with_column(body);
        template_free(parse_ok(json));
        free(json);
    }
}

Test(template, pattern_length_cap)
{
    char body[1200];
    int n = snprintf(body, sizeof body,
                     "\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", \"pattern\": \"");
    memset(body + n, 'x', 1001);
    strcpy(body + n + 1001, "\"");
    expect_column_problem(body, "columns[0] (\"A\"): pattern is 1001 bytes long; a pattern may "
                                "be at most 1000");
}

Test(template, format_rules)
{
    char *json = with_column("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                             "\"format\": \"DD/MM/YYYY\"");
    struct import_template *t = parse_ok(json);
    cr_assert_str_eq(t->columns[0].format, "DD/MM/YYYY");
    template_free(t);
    free(json);
    json = with_column("\"key\": \"d\", \"header\": \"D\", \"type\": \"datetime\", "
                       "\"format\": \"YYYY-MM-DDTHH:mm:ss\"");
    template_free(parse_ok(json));
    free(json);
    json = with_column("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                       "\"format\": \"YYMMDD\"");
    template_free(parse_ok(json));
    free(json);

    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"DD/MM/YYYX\"",
                          "columns[0] (\"D\"): format \"DD/MM/YYYX\" has \"Y\" at character 9, "
                          "which is neither a token (DD, MM, YYYY, YY, HH, mm, ss) nor a "
                          "separator (/ - . : , T or a space)");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"DD|MM|YYYY\"",
                          "columns[0] (\"D\"): format \"DD|MM|YYYY\" has \"|\" at character 3, "
                          "which is neither a token (DD, MM, YYYY, YY, HH, mm, ss) nor a "
                          "separator (/ - . : , T or a space)");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"DD/DD/YYYY\"",
                          "columns[0] (\"D\"): format \"DD/DD/YYYY\" has DD twice");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"MM/YYYY\"",
                          "columns[0] (\"D\"): format \"MM/YYYY\" needs DD, MM and YYYY (or YY)");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"DD.MM.YYYY HH:mm\"",
                          "columns[0] (\"D\"): format \"DD.MM.YYYY HH:mm\" has a time of day, "
                          "but the column is a date; use \"type\": \"datetime\" or drop HH, mm "
                          "and ss");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"datetime\", "
                          "\"format\": \"DD/MM/YYYY\"",
                          "columns[0] (\"D\"): format \"DD/MM/YYYY\" needs DD, MM, YYYY (or "
                          "YY), HH and mm (ss is optional)");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"DD/MM/YYYY/YY\"",
                          "columns[0] (\"D\"): format \"DD/MM/YYYY/YY\" has both YYYY and YY; "
                          "use one");
    expect_column_problem("\"key\": \"d\", \"header\": \"D\", \"type\": \"date\", "
                          "\"format\": \"\"",
                          "columns[0] (\"D\"): format is empty; leave it out to accept ISO "
                          "dates");
}

Test(template, duplicate_keys)
{
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": ["
                    "{\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\"},"
                    "{\"key\": \"email\", \"header\": \"Backup Email\", \"type\": \"email\"}]}",
                    "columns[1] (\"Backup Email\"): key \"email\" is already the key of "
                    "columns[0] (\"Email\"); keys must be unique",
                    NULL);
}

Test(template, duplicate_headers_and_aliases_across_columns)
{
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"columns\": ["
                    "{\"key\": \"email\", \"header\": \"Email\", \"aliases\": [\"E-mail\", "
                    "\"Mail\"], \"type\": \"email\"},"
                    "{\"key\": \"mail2\", \"header\": \"E_MAIL\", \"type\": \"email\"},"
                    "{\"key\": \"post\", \"header\": \"Post\", \"aliases\": [\"mail\"], "
                    "\"type\": \"string\"}]}",
                    "columns[1] (\"E_MAIL\"): header \"E_MAIL\" is the same as the header "
                    "\"Email\" of columns[0] (\"Email\") (headers and aliases are compared "
                    "ignoring case, spaces, underscores and hyphens)",
                    "columns[2] (\"Post\"): alias \"mail\" is the same as the alias \"Mail\" "
                    "of columns[0] (\"Email\") (headers and aliases are compared ignoring "
                    "case, spaces, underscores and hyphens)",
                    NULL);
}

Test(template, aliases_rules)
{
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"aliases\": \"B\", "
                          "\"type\": \"string\"",
                          "columns[0] (\"A\"): aliases must be a list of strings");
    expect_column_problem("\"key\": \"a\", \"header\": \"A\", \"aliases\": [\"B\", \"\"], "
                          "\"type\": \"string\"",
                          "columns[0] (\"A\"): aliases[1] is empty");
}

Test(template, upsert_key_rules)
{
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"upsert_key\": [\"emial\"], "
                    "\"columns\": [{\"key\": \"email\", \"header\": \"Email\", \"type\": "
                    "\"email\", \"required\": true}]}",
                    "upsert_key[0] \"emial\" is not the key of any column", NULL);
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"upsert_key\": \"email\", "
                    "\"columns\": [{\"key\": \"email\", \"header\": \"Email\", \"type\": "
                    "\"email\", \"required\": true}]}",
                    "upsert_key must be a list of column keys, e.g. [\"email\"]", NULL);
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"upsert_key\": [\"email\", "
                    "\"email\"], \"columns\": [{\"key\": \"email\", \"header\": \"Email\", "
                    "\"type\": \"email\", \"required\": true}]}",
                    "upsert_key names \"email\" twice", NULL);
    expect_problems("{\"name\": \"T\", \"table\": \"t\", \"upsert_key\": [\"email\"], "
                    "\"columns\": [{\"key\": \"email\", \"header\": \"Email\", \"type\": "
                    "\"email\"}]}",
                    "columns[0] (\"Email\"): is in upsert_key, so it must be \"required\": true "
                    "(a row without its key could never be matched to update)",
                    NULL);
}

Test(template, reports_every_problem_at_once)
{
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    const char *json =
        "{\"name\": \"\", \"table\": \"Bad Table\", \"upsert_key\": [\"nope\"], \"columns\": ["
        "{\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 10, "
        "\"max\": 5},"
        "{\"key\": \"kind\", \"header\": \"Kind\", \"type\": \"money\"}]}";
    int rc = template_parse(&t, json, strlen(json), &problems, &err);
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert_null(t);
    cr_assert_eq(problems.count, 5);
    cr_assert_str_eq(problems.messages[0], "name is empty");
    cr_assert_str_eq(problems.messages[1],
                     "table \"Bad Table\" is not a valid table name: use a lowercase letter, "
                     "then up to 62 lowercase letters, digits or underscores");
    cr_assert_str_eq(problems.messages[2],
                     "columns[0] (\"Amount\"): min (10) is greater than max (5)");
    cr_assert_str_eq(problems.messages[3],
                     "columns[1] (\"Kind\"): unknown type \"money\"; use string, integer, "
                     "decimal, date, datetime, boolean, email or enum");
    cr_assert_str_eq(problems.messages[4], "upsert_key[0] \"nope\" is not the key of any column");
    cr_assert(strncmp(err.message, "the template has 5 problems: name is empty; table", 49) == 0,
              "%s", err.message);
    template_problems_free(&problems);

    /* without a problems list, err still carries the single sentence */
    const char *one = "{\"name\": \"T\", \"table\": \"t\", \"columns\": []}";
    cr_assert_eq(template_parse(&t, one, strlen(one), NULL, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "columns is empty; a template needs at least one column");
}

Test(template, problem_list_is_capped)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "{\"name\": \"T\", \"table\": \"t\", \"columns\": ["), 0);
    for (int i = 0; i < 300; i++)
        cr_assert_eq(buf_printf(&b,
                                "%s{\"key\": \"c%d\", \"header\": \"C%d\", \"type\": "
                                "\"money\"}",
                                i ? "," : "", i, i),
                     0);
    cr_assert_eq(buf_puts(&b, "]}"), 0);
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    cr_assert_eq(template_parse(&t, b.data, b.len, &problems, NULL), SD_EINVALID);
    cr_assert_eq(problems.count, 201);
    cr_assert_str_eq(problems.messages[200], "... and 100 more problems");
    template_problems_free(&problems);
    buf_free(&b);
}

Test(template, oversized_document)
{
    size_t len = 4u * 1024 * 1024 + 1;
    char *big = malloc(len + 1);
    cr_assert_not_null(big);
    memset(big, ' ', len);
    big[len] = '\0';
    expect_problems(big, "the template is 4194305 bytes; a template may be at most 4194304 bytes",
                    NULL);
    free(big);
}

Test(template, canonical_json)
{
    struct import_template *t = parse_ok(design_example);
    struct buf out = BUF_INIT;
    cr_assert_eq(template_to_json(t, &out, NULL), 0);
    cr_assert_str_eq(
        out.data,
        "{\n"
        "  \"name\": \"Customers\",\n"
        "  \"table\": \"customers\",\n"
        "  \"mode\": \"all_or_nothing\",\n"
        "  \"upsert_key\": [\"email\"],\n"
        "  \"columns\": [\n"
        "    {\"key\": \"email\", \"header\": \"Email\", \"aliases\": [\"E-mail\", \"Mail\"], "
        "\"type\": \"email\", \"required\": true, \"unique\": true},\n"
        "    {\"key\": \"country\", \"header\": \"Country\", \"type\": \"enum\", \"values\": "
        "[\"Germany\", \"France\"]},\n"
        "    {\"key\": \"signup\", \"header\": \"Signup Date\", \"type\": \"date\"},\n"
        "    {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0}\n"
        "  ]\n"
        "}\n");
    t->id = 12;
    buf_clear(&out);
    cr_assert_eq(template_to_json(t, &out, NULL), 0);
    cr_assert(strncmp(out.data, "{\n  \"id\": 12,\n  \"name\": \"Customers\",", 36) == 0, "%s",
              out.data);
    buf_free(&out);
    template_free(t);
}

static void assert_same_template(const struct import_template *a, const struct import_template *b)
{
    cr_assert_str_eq(a->name, b->name);
    cr_assert_str_eq(a->table, b->table);
    cr_assert_eq(a->mode, b->mode);
    cr_assert_eq(a->nupsert_key, b->nupsert_key);
    for (size_t i = 0; i < a->nupsert_key; i++)
        cr_assert_str_eq(a->upsert_key[i], b->upsert_key[i]);
    cr_assert_eq(a->ncolumns, b->ncolumns);
    for (size_t i = 0; i < a->ncolumns; i++) {
        const struct template_column *x = &a->columns[i], *y = &b->columns[i];
        cr_assert_str_eq(x->key, y->key);
        cr_assert_str_eq(x->header, y->header);
        cr_assert_eq(x->naliases, y->naliases);
        for (size_t k = 0; k < x->naliases; k++)
            cr_assert_str_eq(x->aliases[k], y->aliases[k]);
        cr_assert_eq(x->type, y->type);
        cr_assert_eq(x->required, y->required);
        cr_assert_eq(x->unique, y->unique);
        cr_assert_eq(x->has_min, y->has_min);
        cr_assert_eq(x->has_max, y->has_max);
        cr_assert_eq(x->min, y->min);
        cr_assert_eq(x->max, y->max);
        cr_assert_eq(x->max_length, y->max_length);
        cr_assert_eq(!x->pattern, !y->pattern);
        if (x->pattern)
            cr_assert_str_eq(x->pattern, y->pattern);
        cr_assert_eq(x->nvalues, y->nvalues);
        for (size_t k = 0; k < x->nvalues; k++)
            cr_assert_str_eq(x->values[k], y->values[k]);
        cr_assert_eq(!x->format, !y->format);
        if (x->format)
            cr_assert_str_eq(x->format, y->format);
    }
}

Test(template, json_round_trip_keeps_everything)
{
    const char *json =
        "{\"name\": \"Quote \\\" and \\\\ back\", \"table\": \"rt\", \"mode\": \"partial\", "
        "\"upsert_key\": [\"code\", \"n\"], \"columns\": ["
        "{\"key\": \"code\", \"header\": \"C\\u00f6de\", \"aliases\": [\"Ref\"], \"type\": "
        "\"string\", \"required\": true, \"unique\": true, \"max_length\": 12, \"pattern\": "
        "\"^[A-Z]+\\\\.[0-9]{2}$\"},"
        "{\"key\": \"n\", \"header\": \"N\", \"type\": \"integer\", \"required\": true, "
        "\"min\": -9007199254740991, \"max\": 9007199254740991},"
        "{\"key\": \"price\", \"header\": \"Price\", \"type\": \"decimal\", \"min\": 0.1, "
        "\"max\": 1234567.890123456789},"
        "{\"key\": \"tiny\", \"header\": \"Tiny\", \"type\": \"decimal\", \"max\": 1e-300},"
        "{\"key\": \"at\", \"header\": \"At\", \"type\": \"datetime\", \"format\": \"DD/MM/YYYY "
        "HH:mm\"},"
        "{\"key\": \"ok\", \"header\": \"OK?\", \"type\": \"boolean\"},"
        "{\"key\": \"kind\", \"header\": \"Kind\", \"type\": \"enum\", \"values\": [\"A\", "
        "\"B \\\"quoted\\\"\"]}]}";
    struct import_template *a = parse_ok(json);
    struct buf first = BUF_INIT, second = BUF_INIT;
    cr_assert_eq(template_to_json(a, &first, NULL), 0);
    struct import_template *b = parse_ok(first.data);
    assert_same_template(a, b);
    cr_assert_eq(template_to_json(b, &second, NULL), 0);
    cr_assert_str_eq(first.data, second.data);
    cr_assert(strstr(first.data, "\"min\": 0.1,"), "%s", first.data);
    cr_assert(strstr(first.data, "\"min\": -9007199254740991,"), "%s", first.data);
    buf_free(&first);
    buf_free(&second);
    template_free(a);
    template_free(b);
}

Test(template, header_normalize)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(template_header_normalize(&b, " E-Mail_Address ", 16), 0);
    cr_assert_str_eq(b.data, "emailaddress");
    cr_assert_eq(template_header_normalize(&b,
                                           "Signup\xc2\xa0"
                                           "Date",
                                           12),
                 0);
    cr_assert_str_eq(b.data, "signupdate");
    cr_assert_eq(template_header_normalize(&b,
                                           "Stra\xc3\x9f"
                                           "e",
                                           7),
                 0);
    cr_assert_str_eq(b.data, "stra\xc3\x9f"
                             "e");
    cr_assert_eq(template_header_normalize(&b, "AB", 1), 0); /* only len bytes */
    cr_assert_str_eq(b.data, "a");
    cr_assert_eq(template_header_normalize(&b, "-_ ", 3), 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}
