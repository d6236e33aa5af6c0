/*
 * The new-template form's refusals (issue 9 §4): JSON clients get JSON, chosen by the exact
 * media type; the 422 page echoes at most 64 KiB of what was sent, and says so.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "http_fixture.h"

static struct http_fixture fx;

#define FORM_TYPE "application/x-www-form-urlencoded"

static void setup(void)
{
    http_fixture_start(&fx, 0); /* the default form cap: 1 MiB */
}

static void teardown(void)
{
    http_fixture_stop(&fx, 0);
}

TestSuite(template_form, .init = setup, .fini = teardown, .timeout = 60);

/* Posts `body_tail` (already form-encoded: "definition=...") with a valid token and `accept`
 * (NULL: no Accept header). */
static void post_raw(struct http_reply *r, const char *body_tail, const char *accept)
{
    char token[HTTP_FIXTURE_TOKEN_LEN + 1], cookie[300], accept_header[200];
    http_fixture_token(&fx, token);
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", token);
    snprintf(accept_header, sizeof accept_header, "Accept: %s", accept ? accept : "");
    const char *headers[] = {cookie, accept ? accept_header : NULL, NULL};
    size_t tail = strlen(body_tail);
    char *body = malloc(HTTP_FIXTURE_TOKEN_LEN + 32 + tail);
    cr_assert_not_null(body);
    int n = sprintf(body, "authenticity_token=%s&", token);
    memcpy(body + n, body_tail, tail + 1);
    http_request(r, fx.port, "POST", "/import_templates", FORM_TYPE, body, strlen(body), headers);
    free(body);
}

static void post_definition(struct http_reply *r, const char *definition, const char *accept)
{
    char *tail = NULL;
    http_form_append(&tail, "definition", definition);
    post_raw(r, tail, accept);
    free(tail);
}

static const char two_problems[] =
    "{\"name\":\"X\",\"table\":\"select\",\"columns\":[{\"key\":\"a\",\"header\":\"A\","
    "\"type\":\"money\"}]}";

Test(template_form, a_json_client_gets_422_json_with_every_problem)
{
    struct http_reply r;
    post_definition(&r, two_problems, "application/json");
    cr_assert_eq(r.status, 422, "%.300s", r.body);
    char *type = http_header(&r, "Content-Type");
    cr_assert_str_eq(type ? type : "", "application/json");
    free(type);
    json_error_t jerr;
    json_t *doc = json_loads(r.body, 0, &jerr);
    cr_assert_not_null(doc, "%s: %.300s", jerr.text, r.body);
    const char *error = json_string_value(json_object_get(doc, "error"));
    cr_assert(error && strstr(error, "the template has 2 problems: "), "%s", r.body);
    json_t *problems = json_object_get(doc, "problems");
    cr_assert_eq(json_array_size(problems), 2, "%s", r.body);
    cr_assert_str_eq(json_string_value(json_array_get(problems, 0)),
                     "table \"select\" is an SQL keyword; choose another name");
    cr_assert(strstr(json_string_value(json_array_get(problems, 1)), "unknown type \"money\""),
              "%s", r.body);
    json_decref(doc);
    http_reply_free(&r);

    post_definition(&r, "   ", "text/plain, application/json;q=0.9");
    cr_assert_eq(r.status, 422);
    cr_assert_str_eq(r.body, "{\"error\":\"Paste the template's JSON into the box.\","
                             "\"problems\":[\"Paste the template's JSON into the box.\"]}\n");
    http_reply_free(&r);
    cr_assert_eq(http_fixture_templates(&fx), 0);
}

Test(template_form, a_similar_media_type_is_not_json)
{
    const char *not_json[] = {"application/jsonx", "application/json;q=0",
                              "text/html, application/json", "*/*"};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++) {
        struct http_reply r;
        post_definition(&r, two_problems, not_json[i]);
        cr_assert_eq(r.status, 422);
        char *type = http_header(&r, "Content-Type");
        cr_assert_str_eq(type ? type : "", "text/html; charset=utf-8", "Accept: %s", not_json[i]);
        free(type);
        cr_assert(strstr(r.body, "2 problems to fix"), "%.300s", r.body);
        http_reply_free(&r);
        /* the error pages choose the same way (a substring match once made jsonx JSON) */
        char accept[100];
        snprintf(accept, sizeof accept, "Accept: %s", not_json[i]);
        const char *headers[] = {accept, NULL};
        http_request(&r, fx.port, "GET", "/import_templates/999", NULL, NULL, 0, headers);
        cr_assert_eq(r.status, 404);
        type = http_header(&r, "Content-Type");
        cr_assert_str_eq(type ? type : "", "text/html; charset=utf-8", "Accept: %s", not_json[i]);
        free(type);
        http_reply_free(&r);
    }
}

/* The reproduction: 1 MiB of %22 (349,000 quotes) once came back as 2.1 MB of &quot;. */
Test(template_form, the_422_page_echoes_at_most_64_kib_of_the_definition)
{
    size_t quotes = 349000;
    char *tail = malloc(strlen("definition=") + 3 * quotes + 1);
    cr_assert_not_null(tail);
    strcpy(tail, "definition=");
    char *p = tail + strlen(tail);
    for (size_t i = 0; i < quotes; i++, p += 3)
        memcpy(p, "%22", 3);
    *p = '\0';
    struct http_reply r;
    post_raw(&r, tail, NULL);
    free(tail);
    cr_assert_eq(r.status, 422, "%.300s", r.body);
    cr_assert(strstr(r.body, "The definition you sent is 349000 bytes long; only its first 65536 "
                             "bytes are shown below."),
              "the page says the echo is cut");
    size_t echoed = 0;
    for (const char *q = r.body; (q = strstr(q, "&quot;")); q += 6)
        echoed++;
    cr_assert_geq(echoed, 65536);
    cr_assert_lt(echoed, 65536 + 100, "only the first 64 KiB come back (plus the problem text)");
    cr_assert_lt(r.body_len, (size_t)450 * 1024, "%zu bytes came back", r.body_len);
    http_reply_free(&r);

    /* a short definition is echoed whole, without the sentence */
    post_definition(&r, two_problems, NULL);
    cr_assert_eq(r.status, 422);
    cr_assert_null(strstr(r.body, "The definition you sent is"));
    cr_assert(strstr(r.body, "&quot;money&quot;"));
    http_reply_free(&r);
}
