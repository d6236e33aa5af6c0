/*
 * The HTML pages against the real server, in-process on port 0, driven with libcurl: pages
 * render with the security headers, names are escaped, form posts need the CSRF token,
 * every bad input gets its status and writes nothing.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "http_client.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "store/store.h"
#include "test_support.h"
#include "web/server.h"
#include "base/crypto.h"

static char *tmp;
static struct store *store;
static struct web_server *server;
static unsigned port;

#define FORM_TYPE "application/x-www-form-urlencoded"
#define FORM_CAP (64 * 1024)

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    log_set_level(SD_LOG_WARN);
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
    wc.max_form_bytes = FORM_CAP;
    wc.threads = 2;
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
    cr_assert_gt(port, 0);
}

static void teardown(void)
{
    web_server_stop(server);
    store_close(store);
    test_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}

TestSuite(pages, .init = setup, .fini = teardown, .timeout = 60);

static void get(struct http_reply *r, const char *target)
{
    http_request(r, port, "GET", target, NULL, NULL, 0, NULL);
}

static size_t count_templates(void)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db *db = NULL;
    struct import_template **all = NULL;
    size_t count = 0;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0, "%s", err.message);
    cr_assert_eq(template_load_all(&all, &count, db, &err), 0, "%s", err.message);
    store_release(store, db);
    template_free_all(all, count);
    return count;
}

static void assert_security_headers(const struct http_reply *r)
{
    char *csp = http_header(r, "Content-Security-Policy");
    cr_assert_not_null(csp, "no CSP on a %ld response", r->status);
    cr_assert(strstr(csp, "default-src 'self'") && strstr(csp, "frame-ancestors 'none'") &&
                  strstr(csp, "form-action 'self'") && strstr(csp, "base-uri 'self'") &&
                  strstr(csp, "img-src 'self' data:") && strstr(csp, "connect-src 'self'"),
              "%s", csp);
    cr_assert_null(strstr(csp, "unsafe-inline"), "%s", csp);
    free(csp);
    char *nosniff = http_header(r, "X-Content-Type-Options");
    char *referrer = http_header(r, "Referrer-Policy");
    cr_assert_str_eq(nosniff ? nosniff : "", "nosniff");
    cr_assert_not_null(referrer);
    free(nosniff);
    free(referrer);
}

static void assert_html(const struct http_reply *r, long status)
{
    cr_assert_eq(r->status, status, "status %ld, body: %.300s", r->status, r->body);
    char *type = http_header(r, "Content-Type");
    cr_assert_str_eq(type ? type : "", "text/html; charset=utf-8");
    free(type);
    assert_security_headers(r);
    cr_assert(strstr(r->body, "<!DOCTYPE html>"), "not a page: %.200s", r->body);
}

/* Opens the form page and returns the CSRF token the browser would hold (from Set-Cookie)
 * after checking the hidden field carries the same token. */
static void fetch_token(char token[129])
{
    struct http_reply r;
    get(&r, "/import_templates/new");
    assert_html(&r, 200);
    char *cookie = http_header(&r, "Set-Cookie");
    cr_assert_not_null(cookie, "the form page sets the CSRF cookie");
    cr_assert(strstr(cookie, "HttpOnly") && strstr(cookie, "SameSite=Lax") &&
                  strstr(cookie, "Path=/"),
              "%s", cookie);
    cr_assert_eq(sscanf(cookie, "sheetd_csrf=%128[0-9a-f];", token), 1, "%s", cookie);
    cr_assert_eq(strlen(token), 128);
    char field[256];
    snprintf(field, sizeof field, "name=\"authenticity_token\" value=\"%s\"", token);
    cr_assert(strstr(r.body, field), "the form lacks the token field");
    free(cookie);
    http_reply_free(&r);
}

static void post_form(struct http_reply *r, const char *token, const char *cookie_token,
                      const char *definition)
{
    char *body = NULL;
    char cookie[256];
    const char *headers[] = {cookie, NULL};
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", cookie_token ? cookie_token : "");
    if (token)
        http_form_append(&body, "authenticity_token", token);
    http_form_append(&body, "definition", definition);
    http_request(r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body),
                 cookie_token ? headers : NULL);
    free(body);
}

static const char customers[] =
    "{\"name\":\"Customers\",\"table\":\"customers\",\"columns\":["
    "{\"key\":\"email\",\"header\":\"Email\",\"type\":\"email\",\"required\":true,"
    "\"unique\":true},"
    "{\"key\":\"country\",\"header\":\"Country\",\"type\":\"enum\","
    "\"values\":[\"Germany\",\"France\"]},"
    "{\"key\":\"amount\",\"header\":\"Amount\",\"type\":\"decimal\",\"min\":0}]}";

Test(pages, index_renders_with_security_headers_and_a_hashed_import_map)
{
    struct http_reply r;
    get(&r, "/import_templates");
    assert_html(&r, 200);
    cr_assert(strstr(r.body, "Import templates"));
    cr_assert(strstr(r.body, "href=\"/import_templates/new\""), "a New template link");
    cr_assert(strstr(r.body, "/assets/app.css") && strstr(r.body, "/assets/application.js"));
    /* The inline import map is allowed by its hash, and by nothing broader. */
    const char *open_tag = "<script type=\"importmap\">";
    const char *start = strstr(r.body, open_tag);
    cr_assert_not_null(start);
    start += strlen(open_tag);
    const char *end = strstr(start, "</script>");
    cr_assert_not_null(end);
    cr_assert(memmem(start, (size_t)(end - start), "\"@hotwired/turbo\":\"/assets/turbo.js\"", 36));
    unsigned char digest[CRYPTO_SHA256_BYTES];
    char b64[CRYPTO_SHA256_BASE64_SIZE], expected[80];
    crypto_sha256(digest, start, (size_t)(end - start));
    crypto_base64(b64, digest, sizeof digest);
    snprintf(expected, sizeof expected, "script-src 'self' 'sha256-%s';", b64);
    char *csp = http_header(&r, "Content-Security-Policy");
    cr_assert(strstr(csp, expected), "CSP %s lacks %s", csp, expected);
    /* Turbo's progress-bar style is allowed through the nonce the page publishes. */
    char nonce_meta[80];
    const char *nonce = strstr(csp, "'nonce-");
    cr_assert_not_null(nonce);
    snprintf(nonce_meta, sizeof nonce_meta, "<meta name=\"csp-nonce\" content=\"%.24s\">",
             nonce + 7);
    cr_assert(strstr(r.body, nonce_meta), "no %s", nonce_meta);
    free(csp);
    http_reply_free(&r);
}

Test(pages, root_redirects_to_the_list)
{
    struct http_reply r;
    get(&r, "/");
    cr_assert_eq(r.status, 303);
    char *location = http_header(&r, "Location");
    cr_assert_str_eq(location, "/import_templates");
    free(location);
    assert_security_headers(&r);
    http_reply_free(&r);
}

Test(pages, post_without_csrf_token_is_refused_and_writes_nothing)
{
    char token[129];
    fetch_token(token);
    struct http_reply r;
    post_form(&r, NULL, NULL, customers); /* neither cookie nor field */
    assert_html(&r, 422);
    cr_assert(strstr(r.body, "The form has expired or did not come from this site. Reload the "
                             "page and try again."),
              "%.400s", r.body);
    http_reply_free(&r);
    post_form(&r, NULL, token, customers); /* the cookie but no field */
    cr_assert_eq(r.status, 422);
    http_reply_free(&r);
    post_form(&r, token, NULL, customers); /* the field but no cookie */
    cr_assert_eq(r.status, 422);
    http_reply_free(&r);
    char wrong[129];
    memcpy(wrong, token, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    post_form(&r, wrong, token, customers); /* a field that does not match */
    cr_assert_eq(r.status, 422);
    http_reply_free(&r);
    cr_assert_eq(count_templates(), 0);
}

Test(pages, valid_post_redirects_and_the_template_is_listed_and_shown)
{
    char token[129];
    fetch_token(token);
    struct http_reply r;
    post_form(&r, token, token, customers);
    cr_assert_eq(r.status, 303, "%.500s", r.body);
    char *location = http_header(&r, "Location");
    cr_assert_not_null(location);
    cr_assert(!strncmp(location, "/import_templates/", 18), "%s", location);
    http_reply_free(&r);
    cr_assert_eq(count_templates(), 1);

    get(&r, "/import_templates");
    assert_html(&r, 200);
    cr_assert(strstr(r.body, ">Customers</a>"), "%.2000s", r.body);
    cr_assert(strstr(r.body, "<td class=\"num\">3</td>"), "the column count");
    char link[96];
    snprintf(link, sizeof link, "href=\"%s\"", location);
    cr_assert(strstr(r.body, link));
    http_reply_free(&r);

    get(&r, location);
    assert_html(&r, 200);
    cr_assert(strstr(r.body, "<h1>Customers</h1>"));
    cr_assert(strstr(r.body, "<td>required, unique</td>"), "%.3000s", r.body);
    cr_assert(strstr(r.body, "<td>one of Germany, France</td>"));
    cr_assert(strstr(r.body, "<td>min 0</td>"));
    cr_assert(strstr(r.body, "<code>email</code>") && strstr(r.body, ">decimal<"));
    free(location);
    http_reply_free(&r);
}

/* Issue 9: a page that only lists or shows templates compiles no pattern (each view of a
 * template of a thousand patterns once cost seconds and a gigabyte that was never given
 * back). The counter sees every regcomp sheetd makes, in this process. */
Test(pages, listing_and_showing_templates_compiles_no_pattern)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db *db = NULL;
    struct import_template *t = NULL;
    static const char codes[] =
        "{\"name\":\"Codes\",\"table\":\"codes\",\"columns\":["
        "{\"key\":\"a\",\"header\":\"A\",\"type\":\"string\",\"pattern\":\"^(ab|cd)+$\"},"
        "{\"key\":\"b\",\"header\":\"B\",\"type\":\"string\",\"pattern\":\"([a-z]{99}){99}\"}]}";
    cr_assert_eq(store_acquire_main(store, &db, &err), 0, "%s", err.message);
    cr_assert_eq(template_create(&t, db, codes, strlen(codes), NULL, &err), 0, "%s", err.message);
    store_release(store, db);
    char location[64];
    snprintf(location, sizeof location, "/import_templates/%lld", (long long)t->id);
    template_free(t);

    unsigned long before = template_patterns_compiled();
    struct http_reply r;
    for (int i = 0; i < 3; i++) {
        get(&r, "/import_templates");
        assert_html(&r, 200);
        cr_assert(strstr(r.body, ">Codes</a>") && strstr(r.body, "<td class=\"num\">2</td>"),
                  "%.2000s", r.body);
        http_reply_free(&r);
        get(&r, location);
        assert_html(&r, 200);
        cr_assert(strstr(r.body, "matches ([a-z]{99}){99}"), "%.3000s", r.body);
        http_reply_free(&r);
    }
    cr_assert_eq(template_patterns_compiled(), before, "a page view compiled a pattern");
}

Test(pages, invalid_template_is_422_with_every_problem_and_writes_nothing)
{
    char token[129];
    fetch_token(token);
    struct http_reply r;
    const char *broken = "{\"name\":\"\",\"table\":\"9 bad\",\"columns\":["
                         "{\"key\":\"a\",\"header\":\"A\",\"type\":\"money\"}]}";
    post_form(&r, token, token, broken);
    assert_html(&r, 422);
    cr_assert(strstr(r.body, "problems to fix"), "%.3000s", r.body);
    size_t items = 0;
    const char *list = strstr(r.body, "id=\"problems\"");
    cr_assert_not_null(list);
    for (const char *p = list; (p = strstr(p, "<li>")) != NULL; p++)
        items++;
    cr_assert_geq(items, 3, "name, table and type are each a problem: %.3000s", r.body);
    cr_assert(strstr(r.body, "money"), "the unknown type is named");
    /* the submitted text comes back in the box, escaped */
    cr_assert(strstr(r.body, "&quot;table&quot;:&quot;9 bad&quot;"), "%.3000s", r.body);
    http_reply_free(&r);

    post_form(&r, token, token, "{not json");
    assert_html(&r, 422);
    cr_assert(strstr(r.body, "1 problem to fix"), "%.3000s", r.body);
    http_reply_free(&r);

    post_form(&r, token, token, "   ");
    assert_html(&r, 422);
    cr_assert(strstr(r.body, "Paste the template"));
    http_reply_free(&r);
    cr_assert_eq(count_templates(), 0);
}

Test(pages, duplicate_template_is_422_not_a_crash)
{
    char token[129];
    fetch_token(token);
    struct http_reply r;
    post_form(&r, token, token, customers);
    cr_assert_eq(r.status, 303);
    http_reply_free(&r);
    post_form(&r, token, token, customers);
    assert_html(&r, 422);
    cr_assert(strstr(r.body, "1 problem to fix"), "%.3000s", r.body);
    http_reply_free(&r);
    cr_assert_eq(count_templates(), 1);
}

Test(pages, script_in_a_template_name_is_escaped_on_both_pages)
{
    struct sd_error err = SD_ERROR_INIT;
    const char *json = "{\"name\":\"<script>alert(1)</script>\",\"table\":\"xss\",\"columns\":["
                       "{\"key\":\"a\",\"header\":\"<b>A</b>\",\"type\":\"string\"}]}";
    struct db *db = NULL;
    struct import_template *t = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(template_create(&t, db, json, strlen(json), NULL, &err), 0, "%s", err.message);
    store_release(store, db);
    char show[64];
    snprintf(show, sizeof show, "/import_templates/%lld", (long long)t->id);
    template_free(t);

    const char *targets[] = {"/import_templates", show};
    for (size_t i = 0; i < 2; i++) {
        struct http_reply r;
        get(&r, targets[i]);
        assert_html(&r, 200);
        cr_assert_null(strstr(r.body, "<script>alert(1)"), "%s is not escaped", targets[i]);
        cr_assert(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"), "%s", targets[i]);
        http_reply_free(&r);
    }
    struct http_reply r;
    get(&r, show);
    cr_assert(strstr(r.body, "&lt;b&gt;A&lt;/b&gt;") && !strstr(r.body, "<b>A</b>"));
    http_reply_free(&r);
}

Test(pages, unknown_template_is_404_page_or_json)
{
    struct http_reply r;
    get(&r, "/import_templates/7");
    assert_html(&r, 404);
    cr_assert(strstr(r.body, "There is no template with id 7."), "%.2000s", r.body);
    http_reply_free(&r);
    const char *accept[] = {"Accept: application/json", NULL};
    http_request(&r, port, "GET", "/import_templates/7", NULL, NULL, 0, accept);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, "{\"error\":\"There is no template with id 7.\"}\n");
    assert_security_headers(&r);
    http_reply_free(&r);
    get(&r, "/no/such/page");
    assert_html(&r, 404);
    http_reply_free(&r);
}

Test(pages, wrong_method_is_405_with_allow)
{
    struct http_reply r;
    http_request(&r, port, "DELETE", "/import_templates", NULL, NULL, 0, NULL);
    assert_html(&r, 405);
    char *allow = http_header(&r, "Allow");
    cr_assert_str_eq(allow ? allow : "", "GET, HEAD, POST");
    free(allow);
    http_reply_free(&r);
    http_request(&r, port, "POST", "/healthz", FORM_TYPE, "a=1", 3, NULL);
    cr_assert_eq(r.status, 405);
    allow = http_header(&r, "Allow");
    cr_assert_str_eq(allow ? allow : "", "GET, HEAD");
    free(allow);
    http_reply_free(&r);
}

Test(pages, oversized_body_is_413_and_writes_nothing)
{
    char token[129];
    fetch_token(token);
    size_t big = FORM_CAP + 1000;
    char *definition = malloc(big + 1);
    memset(definition, ' ', big);
    definition[big] = '\0';
    memcpy(definition, customers, strlen(customers));
    struct http_reply r;
    post_form(&r, token, token, definition); /* refused from its Content-Length */
    assert_html(&r, 413);
    http_reply_free(&r);

    /* chunked: no length up front, so the body is read, capped and dropped */
    char *body = NULL;
    char cookie[256];
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", token);
    const char *headers[] = {cookie, "Transfer-Encoding: chunked", NULL};
    http_form_append(&body, "authenticity_token", token);
    http_form_append(&body, "definition", definition);
    http_request(&r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body), headers);
    assert_html(&r, 413);
    http_reply_free(&r);
    free(body);
    free(definition);
    cr_assert_eq(count_templates(), 0);
}

Test(pages, malformed_percent_encoding_is_400)
{
    struct http_reply r;
    get(&r, "/import_templates/%zz");
    assert_html(&r, 400);
    cr_assert(strstr(r.body, "malformed"));
    http_reply_free(&r);

    char token[129];
    fetch_token(token);
    char body[400], cookie[256];
    const char *headers[] = {cookie, NULL};
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", token);
    snprintf(body, sizeof body, "authenticity_token=%s&definition=%%7B%%zz", token);
    http_request(&r, port, "POST", "/import_templates", FORM_TYPE, body, strlen(body), headers);
    assert_html(&r, 400);
    http_reply_free(&r);
    cr_assert_eq(count_templates(), 0);
}

Test(pages, other_bad_requests_get_their_status)
{
    struct http_reply r;
    http_request(&r, port, "POST", "/import_templates", "application/json", "{}", 2, NULL);
    assert_html(&r, 415);
    http_reply_free(&r);
    char target[3000] = "/import_templates/";
    memset(target + strlen(target), '1', sizeof target - strlen(target) - 1);
    target[sizeof target - 1] = '\0';
    get(&r, target);
    assert_html(&r, 414);
    http_reply_free(&r);
    get(&r, "/assets/..%2f..%2fsrc%2fmain.c");
    assert_html(&r, 400);
    http_reply_free(&r);
}

Test(pages, healthz_checks_the_database)
{
    struct http_reply r;
    get(&r, "/healthz");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}\n");
    char *type = http_header(&r, "Content-Type");
    cr_assert_str_eq(type, "application/json");
    free(type);
    assert_security_headers(&r);
    http_reply_free(&r);
}

Test(pages, assets_are_served_with_types_and_etags)
{
    struct http_reply r;
    get(&r, "/assets/turbo.js");
    cr_assert_eq(r.status, 200);
    char *type = http_header(&r, "Content-Type");
    cr_assert_str_eq(type, "text/javascript; charset=utf-8");
    free(type);
    cr_assert_gt(r.body_len, 10000);
    cr_assert(strstr(r.body, "export {"), "the ES module build");
    char *etag = http_header(&r, "ETag");
    cr_assert_not_null(etag);
    /* the ETag is the first 128 bits of the body's SHA-256, in hex and quotes */
    unsigned char digest[CRYPTO_SHA256_BYTES];
    char hex[33], want[40];
    crypto_sha256(digest, r.body, r.body_len);
    crypto_hex(hex, digest, 16);
    snprintf(want, sizeof want, "\"%s\"", hex);
    cr_assert_str_eq(etag, want);
    assert_security_headers(&r);
    http_reply_free(&r);

    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *headers[] = {inm, NULL};
    http_request(&r, port, "GET", "/assets/turbo.js", NULL, NULL, 0, headers);
    cr_assert_eq(r.status, 304);
    cr_assert_eq(r.body_len, 0);
    http_reply_free(&r);
    free(etag);

    get(&r, "/assets/stimulus.js");
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    get(&r, "/assets/app.css");
    type = http_header(&r, "Content-Type");
    cr_assert_str_eq(type, "text/css; charset=utf-8");
    free(type);
    http_reply_free(&r);
    get(&r, "/assets/controllers/json_format_controller.js");
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    get(&r, "/assets/meson.build");
    cr_assert_eq(r.status, 404, "only listed assets are served");
    http_reply_free(&r);
}

Test(pages, head_sends_headers_without_a_body)
{
    size_t len = 0;
    char *raw = http_raw(port,
                         "HEAD /import_templates HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\n\r\n",
                         &len);
    cr_assert(!strncmp(raw, "HTTP/1.1 200", 12), "%s", raw);
    cr_assert(strstr(raw, "Content-Security-Policy:"), "%s", raw);
    const char *end = strstr(raw, "\r\n\r\n");
    cr_assert_not_null(end);
    cr_assert_eq((size_t)(end + 4 - raw), len, "bytes after the headers: %s", end + 4);
    free(raw);

    struct http_reply r;
    http_request(&r, port, "HEAD", "/healthz", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    http_reply_free(&r);
}
