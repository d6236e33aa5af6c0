/*
 * CSRF against the real server (issue 9 §2): a template is created only by a post that
 * carries one sheetd_csrf cookie the server issued, the same token in the form, and no
 * header saying it came from another origin. Every refusal is 422 and writes nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "http_fixture.h"

static struct http_fixture fx;

#define FORM_TYPE "application/x-www-form-urlencoded"
#define TOKEN_LEN HTTP_FIXTURE_TOKEN_LEN

static void setup(void)
{
    http_fixture_start(&fx, 0);
}

static void teardown(void)
{
    http_fixture_stop(&fx, 0);
}

TestSuite(csrf, .init = setup, .fini = teardown, .timeout = 60);

static void fetch_token(char token[TOKEN_LEN + 1])
{
    http_fixture_token(&fx, token);
}

static long long templates_stored(void)
{
    return http_fixture_templates(&fx);
}

static const char customers[] = "{\"name\":\"Customers\",\"table\":\"customers\",\"columns\":["
                                "{\"key\":\"email\",\"header\":\"Email\",\"type\":\"email\"}]}";

/* Posts the customers template with `field` as authenticity_token and the extra headers
 * given (a NULL-terminated list); returns the status. */
static long post(const char *field, const char *const *headers)
{
    char *body = NULL;
    http_form_append(&body, "authenticity_token", field);
    http_form_append(&body, "definition", customers);
    struct http_reply r;
    http_request(&r, fx.port, "POST", "/import_templates", FORM_TYPE, body, strlen(body), headers);
    long status = r.status;
    if (status == 422)
        cr_assert(strstr(r.body, "did not come from this site"), "%.300s", r.body);
    http_reply_free(&r);
    free(body);
    return status;
}

static void cookie_header(char *out, size_t size, const char *token)
{
    snprintf(out, size, "Cookie: sheetd_csrf=%s", token);
}

/* The reproduction: a page on another port planted its own value as the cookie and posted
 * the same value in the form. The server never issued it, so it never passes. */
Test(csrf, a_planted_cookie_with_the_attackers_token_is_refused)
{
    char attacker[TOKEN_LEN + 1], cookie[300];
    memset(attacker, 'a', TOKEN_LEN);
    attacker[TOKEN_LEN] = '\0';
    cookie_header(cookie, sizeof cookie, attacker);
    const char *headers[] = {cookie, NULL};
    cr_assert_eq(post(attacker, headers), 422);
    /* nor is an issued token with one character changed */
    char other[TOKEN_LEN + 1];
    fetch_token(other);
    other[0] = other[0] == 'f' ? 'e' : 'f';
    cookie_header(cookie, sizeof cookie, other);
    cr_assert_eq(post(other, headers), 422);
    cr_assert_eq(templates_stored(), 0);
}

/* A victim holding the real cookie, plus one the attacker planted with a narrower Path:
 * the browser sends both, the planted one first. Whichever the form carries, refused. */
Test(csrf, duplicate_cookies_are_refused)
{
    char real[TOKEN_LEN + 1], planted[TOKEN_LEN + 1], cookie[600];
    fetch_token(real);
    fetch_token(planted); /* even a token the server did issue, to someone */
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s; sheetd_csrf=%s", planted, real);
    const char *headers[] = {cookie, NULL};
    cr_assert_eq(post(planted, headers), 422);
    cr_assert_eq(post(real, headers), 422);
    /* the same, as two Cookie header lines */
    char first[300], second[300];
    cookie_header(first, sizeof first, planted);
    cookie_header(second, sizeof second, real);
    const char *two_lines[] = {first, second, NULL};
    cr_assert_eq(post(real, two_lines), 422);
    cr_assert_eq(templates_stored(), 0);
}

Test(csrf, a_cross_site_origin_is_refused_even_with_a_valid_token)
{
    char token[TOKEN_LEN + 1], cookie[300], origin[80];
    fetch_token(token);
    cookie_header(cookie, sizeof cookie, token);
    const char *headers[] = {cookie, origin, NULL};
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", fx.port + 1);
    cr_assert_eq(post(token, headers), 422, "another port is another origin");
    snprintf(origin, sizeof origin, "Origin: http://evil.example");
    cr_assert_eq(post(token, headers), 422);
    snprintf(origin, sizeof origin, "Origin: null");
    cr_assert_eq(post(token, headers), 422);
    snprintf(origin, sizeof origin, "Origin: http://user@127.0.0.1:%u", fx.port);
    cr_assert_eq(post(token, headers), 422);
    cr_assert_eq(templates_stored(), 0);
}

Test(csrf, without_origin_a_cross_site_fetch_is_refused)
{
    char token[TOKEN_LEN + 1], cookie[300];
    fetch_token(token);
    cookie_header(cookie, sizeof cookie, token);
    const char *cross[] = {cookie, "Sec-Fetch-Site: cross-site", NULL};
    cr_assert_eq(post(token, cross), 422);
    const char *same_site[] = {cookie, "Sec-Fetch-Site: same-site", NULL};
    cr_assert_eq(post(token, same_site), 422, "another port or subdomain of the same site");
    cr_assert_eq(templates_stored(), 0);
}

Test(csrf, without_origin_a_referer_of_another_origin_is_refused)
{
    char token[TOKEN_LEN + 1], cookie[300], referer[120];
    fetch_token(token);
    cookie_header(cookie, sizeof cookie, token);
    const char *headers[] = {cookie, referer, NULL};
    snprintf(referer, sizeof referer, "Referer: http://127.0.0.1:%u/import_templates/new",
             fx.port + 1);
    cr_assert_eq(post(token, headers), 422);
    snprintf(referer, sizeof referer, "Referer: https://evil.example/?u=http://127.0.0.1:%u/",
             fx.port);
    cr_assert_eq(post(token, headers), 422);
    cr_assert_eq(templates_stored(), 0);
}

/* What a browser on the page itself sends: its own origin, same-origin fetch metadata and a
 * referer of the form page. Host names compare ignoring case. */
Test(csrf, a_same_origin_post_with_the_issued_token_passes)
{
    char token[TOKEN_LEN + 1], cookie[300], origin[80], referer[120];
    fetch_token(token);
    cookie_header(cookie, sizeof cookie, token);
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", fx.port);
    snprintf(referer, sizeof referer, "Referer: http://127.0.0.1:%u/import_templates/new", fx.port);
    const char *headers[] = {cookie, origin, "Sec-Fetch-Site: same-origin", referer, NULL};
    cr_assert_eq(post(token, headers), 303);
    cr_assert_eq(templates_stored(), 1);

    /* no Origin, a same-origin Referer: accepted too (the name is taken now: 422 from the
     * template, not from CSRF) */
    const char *referer_only[] = {cookie, referer, NULL};
    char *body = NULL;
    http_form_append(&body, "authenticity_token", token);
    http_form_append(&body, "definition", customers);
    struct http_reply r;
    http_request(&r, fx.port, "POST", "/import_templates", FORM_TYPE, body, strlen(body),
                 referer_only);
    cr_assert_eq(r.status, 422);
    cr_assert(strstr(r.body, "already exists"), "%.300s", r.body);
    http_reply_free(&r);
    free(body);

    /* the token survives a restart: the key is read back from the data directory */
    http_fixture_restart(&fx);
    snprintf(origin, sizeof origin, "Origin: HTTP://127.0.0.1:%u", fx.port);
    const char *after_restart[] = {cookie, origin, NULL};
    body = NULL;
    http_form_append(&body, "authenticity_token", token);
    http_form_append(&body, "definition",
                     "{\"name\":\"Orders\",\"table\":\"orders\",\"columns\":["
                     "{\"key\":\"ref\",\"header\":\"Ref\",\"type\":\"string\"}]}");
    http_request(&r, fx.port, "POST", "/import_templates", FORM_TYPE, body, strlen(body),
                 after_restart);
    cr_assert_eq(r.status, 303, "%.300s", r.body);
    http_reply_free(&r);
    free(body);
    cr_assert_eq(templates_stored(), 2);
}
