/*
 * CSRF against the real server (issue 9 §2): a template is created only by a post that
 * carries one sheetd_csrf cookie the server issued, the same token in the form, and no
 * header saying it came from another origin. Every refusal is 422 and writes nothing.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "http_client.h"
#include "store/store.h"
#include "store/template_store.h"
#include "test_support.h"
#include "web/server.h"

static char *tmp;
static struct store *store;
static struct web_server *server;
static unsigned port;

#define FORM_TYPE "application/x-www-form-urlencoded"
#define TOKEN_LEN 128

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    log_set_level(LOG_WARN);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    tmp = test_make_tmpdir();
    cr_assert_not_null(tmp);
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = tmp;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", err.message);
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = store;
    wc.root_dir = test_source_dir();
    wc.threads = 2;
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
}

static void teardown(void)
{
    web_server_stop(server);
    store_close(store);
    test_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}

TestSuite(csrf, .init = setup, .fini = teardown, .timeout = 60);

static int64_t templates_stored(void)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db *db = NULL;
    int64_t n = -1;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0, "%s", err.message);
    cr_assert_eq(template_store_count(db, &n, &err), 0, "%s", err.message);
    store_release(store, db);
    return n;
}

/* The token a browser gets from the form page. */
static void fetch_token(char token[TOKEN_LEN + 1])
{
    struct http_reply r;
    http_request(&r, port, "GET", "/import_templates/new", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *cookie = http_header(&r, "Set-Cookie");
    cr_assert_not_null(cookie);
    cr_assert_eq(sscanf(cookie, "sheetd_csrf=%128[0-9a-f];", token), 1, "%s", cookie);
    cr_assert_eq(strlen(token), TOKEN_LEN);
    free(cookie);
    http_reply_free(&r);
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
    http_request(&r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body), headers);
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
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", port + 1);
    cr_assert_eq(post(token, headers), 422, "another port is another origin");
    snprintf(origin, sizeof origin, "Origin: http://evil.example");
    cr_assert_eq(post(token, headers), 422);
    snprintf(origin, sizeof origin, "Origin: null");
    cr_assert_eq(post(token, headers), 422);
    snprintf(origin, sizeof origin, "Origin: http://user@127.0.0.1:%u", port);
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
             port + 1);
    cr_assert_eq(post(token, headers), 422);
    snprintf(referer, sizeof referer, "Referer: https://evil.example/?u=http://127.0.0.1:%u/",
             port);
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
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u", port);
    snprintf(referer, sizeof referer, "Referer: http://127.0.0.1:%u/import_templates/new", port);
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
    http_request(&r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body),
                 referer_only);
    cr_assert_eq(r.status, 422);
    cr_assert(strstr(r.body, "already exists"), "%.300s", r.body);
    http_reply_free(&r);
    free(body);

    /* the token survives a restart: the key is read back from the data directory */
    web_server_stop(server);
    store_close(store);
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = tmp;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = store;
    wc.root_dir = test_source_dir();
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
    snprintf(origin, sizeof origin, "Origin: HTTP://127.0.0.1:%u", port);
    const char *after_restart[] = {cookie, origin, NULL};
    body = NULL;
    http_form_append(&body, "authenticity_token", token);
    http_form_append(&body, "definition",
                     "{\"name\":\"Orders\",\"table\":\"orders\",\"columns\":["
                     "{\"key\":\"ref\",\"header\":\"Ref\",\"type\":\"string\"}]}");
    http_request(&r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body),
                 after_restart);
    cr_assert_eq(r.status, 303, "%.300s", r.body);
    http_reply_free(&r);
    free(body);
    cr_assert_eq(templates_stored(), 2);
}
