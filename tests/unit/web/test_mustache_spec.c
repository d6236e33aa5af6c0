/* Runs every case of the official mustache spec files in ../shared/mustache-spec/ through
 * the engine: compile the case's template, render it with the case's data and partials,
 * compare with the expected text. Each failing case is reported by file and name with the
 * expected and actual output; each file also checks it ran the number of cases it holds. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"
#include "web/mustache.h"

/* Serves a case's "partials" object to the engine. */
static const char *spec_partial(void *ctx, const char *name, size_t *len)
{
    json_t *partial = json_object_get((const json_t *)ctx, name);
    if (!json_is_string(partial))
        return NULL;
    *len = json_string_length(partial);
    return json_string_value(partial);
}

/* Runs one case; returns true when it passed (a failure is reported with cr_expect). */
static bool run_case(const char *file, const json_t *tcase)
{
    const char *name = json_string_value(json_object_get(tcase, "name"));
    json_t *tmpl_text = json_object_get(tcase, "template");
    const char *expected = json_string_value(json_object_get(tcase, "expected"));
    cr_assert(name && json_is_string(tmpl_text) && expected, "%s: malformed case", file);

    struct mustache_partials partials = {spec_partial, json_object_get(tcase, "partials")};
    struct mustache_template *tmpl = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = mustache_compile(&tmpl, json_string_value(tmpl_text), json_string_length(tmpl_text),
                              name, &err);
    cr_expect_eq(rc, 0, "%s / %s: compile failed: %s", file, name, sd_error_message(&err));
    if (rc < 0)
        return false;
    struct buf out = BUF_INIT;
    rc = mustache_render(tmpl, json_object_get(tcase, "data"), &partials, &out, &err);
    cr_expect_eq(rc, 0, "%s / %s: render failed: %s", file, name, sd_error_message(&err));
    bool ok = rc == 0 && strcmp(buf_cstr(&out), expected) == 0;
    cr_expect(ok, "%s / %s:\n  expected: \"%s\"\n  got:      \"%s\"", file, name, expected,
              buf_cstr(&out));
    buf_free(&out);
    mustache_free(tmpl);
    return ok;
}

static void run_spec_file(const char *file, size_t min_cases)
{
    const char *shared = test_shared_dir();
    if (!shared)
        cr_skip("../shared is absent, so the mustache spec files cannot be read");
    char path[4096];
    snprintf(path, sizeof path, "%s/mustache-spec/%s", shared, file);
    json_error_t jerr;
    json_t *spec = json_load_file(path, 0, &jerr);
    cr_assert(spec, "cannot read %s: %s (line %d)", path, jerr.text, jerr.line);
    json_t *tests = json_object_get(spec, "tests");
    cr_assert(json_is_array(tests), "%s has no \"tests\" array", file);
    size_t passed = 0, index;
    json_t *tcase;
    json_array_foreach(tests, index, tcase)
    {
        if (run_case(file, tcase))
            passed++;
    }
    cr_expect_geq(json_array_size(tests), min_cases, "%s holds fewer cases than expected", file);
    cr_expect_eq(passed, json_array_size(tests), "%s: %zu of %zu cases passed", file, passed,
                 json_array_size(tests));
    json_decref(spec);
}

Test(mustache_spec, comments)
{
    run_spec_file("comments.json", 12);
}

Test(mustache_spec, interpolation)
{
    run_spec_file("interpolation.json", 42);
}

Test(mustache_spec, inverted)
{
    run_spec_file("inverted.json", 22);
}

Test(mustache_spec, partials)
{
    run_spec_file("partials.json", 12);
}

Test(mustache_spec, sections)
{
    run_spec_file("sections.json", 34);
}
