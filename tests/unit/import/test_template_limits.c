/* What a whole template may cost (issue 9 §1): the patterns of all columns together are
 * bounded, nothing is compiled before the bound is checked, a stored definition is read
 * without compiling its patterns, and lists across columns are bounded too. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/template.h"
#include "import/template_internal.h"

static struct import_template *parse_ok(const char *json)
{
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_parse(&t, json, strlen(json), NULL, &err);
    cr_assert_eq(rc, 0, "expected a valid template, got %d: %s", rc, err.message);
    cr_assert_not_null(t);
    return t;
}

/* Parses `json` and checks that it has exactly one problem, `want`. */
static void expect_one_problem(const char *json, const char *want)
{
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_parse(&t, json, strlen(json), &problems, &err), SD_EINVALID);
    cr_assert_null(t);
    cr_assert_eq(problems.count, 1, "%zu problems: %s", problems.count, err.message);
    cr_assert_str_eq(problems.messages[0], want);
    cr_assert_str_eq(err.message, want);
    template_problems_free(&problems);
}

/* A template of `n` string columns c0, c1, ... each with `pattern` (JSON-escaped already). */
static char *patterned_columns(size_t n, const char *pattern)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "{\"name\": \"Costly\", \"table\": \"costly\", \"columns\": ["), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(buf_printf(&b,
                                "%s{\"key\": \"c%zu\", \"header\": \"C%zu\", \"type\": "
                                "\"string\", \"pattern\": \"%s\"}",
                                i ? "," : "", i, i, pattern),
                     0);
    cr_assert_eq(buf_puts(&b, "]}"), 0);
    return buf_detach(&b);
}

/* The reproduction from issue 9: each pattern is just under the per-pattern limit, and a
 * thousand of them once took 2.5 s and ~1 GB to compile. The whole template is refused with a
 * sentence naming the limit, and nothing is compiled on the way. */
Test(template_limits, a_thousand_costly_patterns_are_refused_by_the_template_limit)
{
    char *json = patterned_columns(1000, "([a-z]{99}){99}");
    cr_assert_lt(strlen(json), (size_t)100 * 1024);
    unsigned long before = template_patterns_compiled();
    expect_one_problem(json,
                       "the patterns of all columns together expand to 10000000 elements; a "
                       "template's patterns may expand to at most 100000 together (each at most "
                       "10000): use fewer or simpler patterns");
    cr_assert_eq(template_patterns_compiled(), before);
    free(json);
}

Test(template_limits, patterns_may_reach_the_template_limit_but_not_pass_it)
{
    /* ([a-z]{99}){99} weighs exactly 10000: ten of them are the limit, eleven are over */
    char *json = patterned_columns(10, "([a-z]{99}){99}");
    unsigned long before = template_patterns_compiled();
    template_free(parse_ok(json));
    cr_assert_eq(template_patterns_compiled(), before + 10, "a submitted pattern is checked once");
    free(json);
    json = patterned_columns(11, "([a-z]{99}){99}");
    expect_one_problem(json,
                       "the patterns of all columns together expand to 110000 elements; a "
                       "template's patterns may expand to at most 100000 together (each at most "
                       "10000): use fewer or simpler patterns");
    free(json);
    /* a thousand ordinary patterns fit easily */
    json = patterned_columns(1000, "^C-[0-9]{6}-[A-Z]{2}$");
    template_free(parse_ok(json));
    free(json);
}

Test(template_limits, a_stored_definition_is_read_without_compiling_its_patterns)
{
    char *json = patterned_columns(3, "^(ab|cd)+[0-9]{2}$");
    struct import_template *t = parse_ok(json);
    struct buf canonical = BUF_INIT;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_to_json(t, &canonical, &err), 0, "%s", err.message);
    unsigned long before = template_patterns_compiled();
    struct import_template *again = NULL;
    cr_assert_eq(template_parse_sized(&again, canonical.data, canonical.len,
                                      TEMPLATE_STORED_JSON_MAX, NULL, &err),
                 0, "%s", err.message);
    cr_assert_eq(template_patterns_compiled(), before);
    cr_assert_str_eq(again->columns[2].pattern, "^(ab|cd)+[0-9]{2}$");
    template_free(again);
    template_free(t);
    buf_free(&canonical);
    free(json);
}

/* Each upsert_key entry is looked up among the columns: 350,000 of them against 1,000
 * columns once took 1.6 s. A list longer than any template's columns is refused whole. */
Test(template_limits, an_upsert_key_longer_than_any_template_is_refused_at_once)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "{\"name\": \"U\", \"table\": \"u\", \"columns\": ["
                              "{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                              "\"required\": true},"
                              "{\"key\": \"b\", \"header\": \"B\", \"type\": \"string\"}], "
                              "\"upsert_key\": ["),
                 0);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(buf_printf(&b, "%s\"k%d\"", i ? "," : "", i), 0);
    cr_assert_eq(buf_puts(&b, "]}"), 0);
    expect_one_problem(
        b.data, "upsert_key has 100000 entries; it may name at most 1000 columns, each once");
    buf_free(&b);
}
