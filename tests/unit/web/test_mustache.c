/* The mustache engine beyond the spec files: escaping, the raw path, error sentences,
 * limits, compiled templates reused across renders and threads, partial caching and
 * indentation, value formatting. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "web/mustache.h"

/* Compiles `src` as page.mustache and renders it with `json` (a JSON text); returns the
 * malloc'd output, or NULL with *rc and err set. */
static char *render(const char *src, const char *json, const struct mustache_partials *p,
                    int *rc_out, struct sd_error *err)
{
    struct mustache_template *t = NULL;
    int rc = mustache_compile(&t, src, strlen(src), "page.mustache", err);
    if (rc_out)
        *rc_out = rc;
    if (rc < 0)
        return NULL;
    json_error_t jerr;
    json_t *data = json ? json_loads(json, JSON_DECODE_ANY, &jerr) : NULL;
    cr_assert(!json || data, "bad test JSON: %s", jerr.text);
    struct buf out = BUF_INIT;
    rc = mustache_render(t, data, p, &out, err);
    if (rc_out)
        *rc_out = rc;
    json_decref(data);
    mustache_free(t);
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out);
}

static void expect_render(const char *src, const char *json, const char *expected)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc = 0;
    char *got = render(src, json, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s: %s", src, sd_error_message(&err));
    cr_expect_str_eq(got, expected, "template %s", src);
    free(got);
}

static void expect_compile_error(const char *src, int code, const char *message)
{
    struct mustache_template *t = (struct mustache_template *)&t; /* must become NULL */
    struct sd_error err = SD_ERROR_INIT;
    int rc = mustache_compile(&t, src, strlen(src), "page.mustache", &err);
    cr_expect_eq(rc, code, "template %s: rc %d", src, rc);
    cr_expect_null(t, "template %s: *out must be NULL after a failure", src);
    cr_expect_str_eq(sd_error_message(&err), message);
    mustache_free(t == (struct mustache_template *)&t ? NULL : t);
}

Test(mustache, escapes_the_five_html_characters)
{
    struct buf out = BUF_INIT;
    cr_assert_eq(mustache_escape_html(&out, "a&b<c>d\"e'f", 11), 0);
    cr_expect_str_eq(buf_cstr(&out), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    buf_free(&out);
    expect_render("<p title=\"{{t}}\">{{t}}</p>", "{\"t\": \"<script>alert('x') & \\\"y\\\"\"}",
                  "<p title=\"&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;\">"
                  "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;</p>");
    /* Escaping applies to numbers and JSON text as well as strings. */
    expect_render("{{o}}", "{\"o\": {\"a\": \"<\"}}", "{&quot;a&quot;:&quot;&lt;&quot;}");
}

Test(mustache, triple_and_ampersand_are_raw)
{
    expect_render("{{{h}}}|{{&h}}|{{h}}", "{\"h\": \"<b>'&'</b>\"}",
                  "<b>'&'</b>|<b>'&'</b>|&lt;b&gt;&#39;&amp;&#39;&lt;/b&gt;");
    /* Template text itself is never escaped. */
    expect_render("<a href=\"/x?a=1&b=2\">", "{}", "<a href=\"/x?a=1&b=2\">");
}

Test(mustache, formats_values)
{
    expect_render("{{i}} {{r}} {{s}} {{b}} {{f}} [{{n}}] [{{missing}}] {{big}} {{neg}}",
                  "{\"i\": -42, \"r\": 0.30000000000000004, \"s\": \"x\", \"b\": true, "
                  "\"f\": false, \"n\": null, \"big\": 1e300, \"neg\": -2.5}",
                  "-42 0.30000000000000004 x true false [] [] 1e+300 -2.5");
    expect_render("{{{a}}}", "{\"a\": [1, \"two\", {\"k\": null}]}", "[1,\"two\",{\"k\":null}]");
}

/* Reals are spelled by base/number.h like every other number sheetd writes: an integral
 * real as an integer, negative zero as 0, the rest in the shortest form that reads back. */
Test(mustache, reals_are_spelled_like_every_other_number)
{
    expect_render("{{a}} {{b}} {{c}} {{d}}",
                  "{\"a\": 3.0, \"b\": -0.0, \"c\": 123456789012345.0, \"d\": 0.1}",
                  "3 0 123456789012345 0.1");
}

Test(mustache, falsey_values_follow_the_spec_bang_bang)
{
    expect_render("{{#e}}E{{/e}}{{#z}}Z{{/z}}{{#zr}}R{{/zr}}{{#o}}O{{/o}}{{#s}}S{{/s}}"
                  "{{^e}}e{{/e}}{{^z}}z{{/z}}{{^o}}o{{/o}}",
                  "{\"e\": \"\", \"z\": 0, \"zr\": 0.0, \"o\": {}, \"s\": \" \"}", "OSez");
}

Test(mustache, set_delimiters_change_the_tags_until_reset)
{
    expect_render("{{=<% %>=}}<% x %>{{x}}<%{x}%><%={{ }}=%>{{x}}", "{\"x\": \"<\"}",
                  "&lt;{{x}}<&lt;");
    /* A standalone set-delimiter tag takes its line with it. */
    expect_render("a\n  {{=| |=}}  \n|x|\n", "{\"x\": 1}", "a\n1\n");
}

Test(mustache, compile_errors_name_the_template_and_line)
{
    expect_compile_error("a\nb\n{{#items}}\n{{name}}\n", SD_EINVALID,
                         "page.mustache: unclosed section \"items\" opened on line 3");
    expect_compile_error("1\n2\n3\n4\n5\n6\nHello {{name}\n", SD_EINVALID,
                         "page.mustache: unclosed tag on line 7: \"{{\" has no matching \"}}\"");
    expect_compile_error("{{{raw}}", SD_EINVALID,
                         "page.mustache: unclosed tag on line 1: \"{{\" has no matching \"}}}\"");
    expect_compile_error("{{#a}}\n{{#b}}\n{{/a}}\n", SD_EINVALID,
                         "page.mustache: closing tag \"a\" on line 3 does not match section "
                         "\"b\" opened on line 2");
    expect_compile_error("x\n{{/a}}", SD_EINVALID,
                         "page.mustache: closing tag \"a\" on line 2 has no open section");
    expect_compile_error("{{ }}", SD_EINVALID, "page.mustache: empty tag on line 1");
    expect_compile_error("{{a b}}", SD_EINVALID,
                         "page.mustache: tag \"a b\" on line 1 has white space or a control "
                         "character inside its name");
    expect_compile_error("{{a..b}}", SD_EINVALID,
                         "page.mustache: tag \"a..b\" on line 1 has an empty part between dots");
    expect_compile_error("{{=<%=}}", SD_EINVALID,
                         "page.mustache: the set-delimiter tag on line 1 needs two delimiters "
                         "of at most 16 characters without '=' or spaces, like {{=<% %>=}}");
}

Test(mustache, compile_limits)
{
    size_t len = MUSTACHE_MAX_SOURCE + 1;
    char *big = malloc(len);
    cr_assert_not_null(big);
    memset(big, 'x', len);
    struct mustache_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_expect_eq(mustache_compile(&t, big, len, "big.mustache", &err), SD_ELIMIT);
    cr_expect_null(t);
    cr_expect(strstr(sd_error_message(&err), "big.mustache: the template is 1048577 bytes"));
    /* Exactly at the limit is fine. */
    cr_expect_eq(mustache_compile(&t, big, len - 1, "big.mustache", &err), 0);
    mustache_free(t);
    free(big);

    char deep[MUSTACHE_MAX_NESTING * 12 + 64] = "";
    for (int i = 0; i <= MUSTACHE_MAX_NESTING; i++)
        strcat(deep, "{{#a}}");
    expect_compile_error(deep, SD_ELIMIT,
                         "page.mustache: sections nest more than 64 deep on "
                         "line 1");
}

static const char *self_partial(void *ctx, const char *name, size_t *len)
{
    (void)ctx;
    if (strcmp(name, "self") != 0)
        return NULL;
    *len = strlen("x{{>self}}");
    return "x{{>self}}";
}

Test(mustache, partial_recursion_is_capped_and_leaves_output_untouched)
{
    struct mustache_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(mustache_compile(&t, "{{>self}}", 9, "page.mustache", &err), 0);
    struct mustache_partials p = {self_partial, NULL};
    struct buf out = BUF_INIT;
    cr_assert_eq(buf_puts(&out, "before|"), 0);
    json_t *data = json_object();
    cr_expect_eq(mustache_render(t, data, &p, &out, &err), SD_ELIMIT);
    json_decref(data);
    cr_expect_str_eq(sd_error_message(&err),
                     "self: partial \"self\" on line 1 nests more than 64 deep; a partial "
                     "that includes itself needs a section that ends the recursion");
    cr_expect_str_eq(buf_cstr(&out), "before|");
    buf_free(&out);
    mustache_free(t);
}

struct counting_partials {
    int calls;
    const char *source;
};

static const char *counting_lookup(void *ctx, const char *name, size_t *len)
{
    struct counting_partials *c = ctx;
    if (strcmp(name, "row") != 0)
        return NULL;
    __atomic_add_fetch(&c->calls, 1, __ATOMIC_SEQ_CST);
    *len = strlen(c->source);
    return c->source;
}

Test(mustache, compiled_once_rendered_twice_with_different_data)
{
    const char *src = "<ul>\n{{#rows}}\n  {{>row}}\n{{/rows}}\n</ul>\n{{^rows}}none{{/rows}}";
    struct mustache_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(mustache_compile(&t, src, strlen(src), "list.mustache", &err), 0);
    struct counting_partials c = {0, "<li>{{name}}</li>\n"};
    struct mustache_partials p = {counting_lookup, &c};

    json_t *one = json_pack("{s:[{s:s},{s:s}]}", "rows", "name", "a&b", "name", "c");
    json_t *two = json_pack("{s:[]}", "rows");
    struct buf out = BUF_INIT;
    cr_assert_eq(mustache_render(t, one, &p, &out, &err), 0, "%s", sd_error_message(&err));
    cr_expect_str_eq(buf_cstr(&out), "<ul>\n  <li>a&amp;b</li>\n  <li>c</li>\n</ul>\n");
    buf_clear(&out);
    cr_assert_eq(mustache_render(t, two, &p, &out, &err), 0);
    cr_expect_str_eq(buf_cstr(&out), "<ul>\n</ul>\nnone");
    buf_clear(&out);
    cr_assert_eq(mustache_render(t, one, &p, &out, &err), 0);
    cr_expect_str_eq(buf_cstr(&out), "<ul>\n  <li>a&amp;b</li>\n  <li>c</li>\n</ul>\n");
    /* The partial was compiled on first use and reused afterwards. */
    cr_expect_eq(c.calls, 1);
    buf_free(&out);
    json_decref(one);
    json_decref(two);
    mustache_free(t);
}

static const char *nested_lookup(void *ctx, const char *name, size_t *len)
{
    (void)ctx;
    const char *src = NULL;
    if (strcmp(name, "outer") == 0)
        src = "<div>\n  {{>inner}}\n  {{! note }}\n</div>\n";
    else if (strcmp(name, "inner") == 0)
        src = "<p>{{text}}</p>\n{{#items}}\n<i>{{.}}</i>\n{{/items}}\n";
    else if (strcmp(name, "broken") == 0)
        src = "ok\n{{#open}}";
    if (!src)
        return NULL;
    *len = strlen(src);
    return src;
}

Test(mustache, standalone_partials_indent_every_line_of_nested_partials)
{
    struct mustache_partials p = {nested_lookup, NULL};
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = render("<body>\n    {{>outer}}\n</body>\n",
                       "{\"text\": \"a\\nb\", \"items\": [1, 2]}", &p, &rc, &err);
    cr_assert_eq(rc, 0, "%s", sd_error_message(&err));
    /* Values with newlines are not indented; template lines are, by both levels. */
    cr_expect_str_eq(got, "<body>\n"
                          "    <div>\n"
                          "      <p>a\nb</p>\n"
                          "      <i>1</i>\n"
                          "      <i>2</i>\n"
                          "    </div>\n"
                          "</body>\n");
    free(got);
    /* An inline partial is not indented. */
    got = render("x {{>inner}}", "{\"text\": \"t\"}", &p, &rc, &err);
    cr_expect_str_eq(got, "x <p>t</p>\n");
    free(got);
}

Test(mustache, missing_partials_render_empty_and_broken_ones_fail)
{
    struct mustache_partials p = {nested_lookup, NULL};
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = render("[{{>nope}}]", "{}", &p, &rc, &err);
    cr_expect_str_eq(got, "[]");
    free(got);
    got = render("[{{>outer}}]", "{}", NULL, &rc, &err);
    cr_expect_str_eq(got, "[]");
    free(got);
    got = render("a\n{{>broken}}", "{}", &p, &rc, &err);
    cr_expect_null(got);
    cr_expect_eq(rc, SD_EINVALID);
    cr_expect_str_eq(sd_error_message(&err), "broken: unclosed section \"open\" opened on line 2");
}

Test(mustache, render_limits_stop_hostile_templates)
{
    /* Eight nested sections over a ten-element list: 10^8 visits without limits. */
    const char *src = "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}x"
                      "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}";
    struct mustache_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(mustache_compile(&t, src, strlen(src), "bomb.mustache", &err), 0);
    json_t *data = json_pack("{s:[iiiiiiiiii]}", "l", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    struct buf out = BUF_INIT;
    struct mustache_render_options opts = MUSTACHE_RENDER_OPTIONS_INIT;
    opts.max_steps = 100000;
    cr_expect_eq(mustache_render_opts(t, data, NULL, &opts, &out, &err), SD_ELIMIT);
    cr_expect_str_eq(sd_error_message(&err),
                     "bomb.mustache: rendering stopped after 100000 steps; a section probably "
                     "repeats over large or deeply nested lists");
    cr_expect_eq(out.len, 0);

    opts.max_steps = 0;
    opts.max_output = 1000;
    cr_expect_eq(mustache_render_opts(t, data, NULL, &opts, &out, &err), SD_ELIMIT);
    cr_expect_str_eq(sd_error_message(&err),
                     "bomb.mustache: the rendered output grew past the limit of 1000 bytes");
    cr_expect_eq(out.len, 0);
    buf_free(&out);
    json_decref(data);
    mustache_free(t);
}

struct thread_arg {
    struct mustache_template *t;
    struct mustache_partials *p;
    json_t *data;
    int failures;
};

static void *render_many(void *arg)
{
    struct thread_arg *a = arg;
    for (int i = 0; i < 200; i++) {
        struct buf out = BUF_INIT;
        if (mustache_render(a->t, a->data, a->p, &out, NULL) != 0 ||
            strcmp(buf_cstr(&out), "<ul>\n  <li>z</li>\n</ul>\n") != 0)
            a->failures++;
        buf_free(&out);
    }
    return NULL;
}

Test(mustache, one_template_renders_on_many_threads)
{
    const char *src = "<ul>\n{{#rows}}\n  {{>row}}\n{{/rows}}\n</ul>\n";
    struct mustache_template *t = NULL;
    cr_assert_eq(mustache_compile(&t, src, strlen(src), "list.mustache", NULL), 0);
    struct counting_partials c = {0, "<li>{{name}}</li>\n"};
    struct mustache_partials p = {counting_lookup, &c};
    json_t *data = json_pack("{s:[{s:s}]}", "rows", "name", "z");
    pthread_t th[8];
    struct thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (struct thread_arg){t, &p, data, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, render_many, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(args[i].failures, 0, "thread %d failed %d renders", i, args[i].failures);
    }
    /* Racing threads may each compile the partial once, but the cache keeps one. */
    cr_expect_leq(c.calls, 8);
    json_decref(data);
    mustache_free(t);
}

Test(mustache, dotted_names_and_the_context_stack)
{
    expect_render("{{#user}}{{name}} of {{team.name}} ({{site}}){{/user}} {{user.team.name}}",
                  "{\"site\": \"S\", \"user\": {\"name\": \"U\", \"team\": {\"name\": \"T\"}}}",
                  "U of T (S) T");
    /* A name found on the stack stops the search even when its later parts miss. */
    expect_render("{{#a}}[{{b.c}}]{{/a}}", "{\"a\": {\"b\": 1}, \"b\": {\"c\": \"no\"}}", "[]");
    expect_render("{{#.}}{{.}},{{/.}}", "[1, 2.5, \"x\"]", "1,2.5,x,");
}

Test(mustache, binary_and_nul_bytes_in_text_pass_through)
{
    const char src[] = "a\0b{{x}}";
    struct mustache_template *t = NULL;
    cr_assert_eq(mustache_compile(&t, src, sizeof src - 1, "bin", NULL), 0);
    json_t *data = json_pack("{s:s}", "x", "y");
    struct buf out = BUF_INIT;
    cr_assert_eq(mustache_render(t, data, NULL, &out, NULL), 0);
    cr_expect_eq(out.len, 4);
    cr_expect_eq(memcmp(out.data, "a\0by", 4), 0);
    cr_expect_str_eq(mustache_name(t), "bin");
    buf_free(&out);
    json_decref(data);
    mustache_free(t);
}
