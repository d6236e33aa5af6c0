/* The small pieces under the web layer: SHA-256 and base64 (FIPS 180-4 and RFC 4648 test
 * vectors), percent-decoding, the CSRF token checks and the form parser. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/csrf.h"
#include "web/request.h"
#include "web/sha256.h"
#include "web/url.h"

static void hex_of(const char *text, size_t len, char out[65])
{
    unsigned char digest[SHA256_DIGEST_LEN];
    sha256_digest(text, len, digest);
    sha256_hex(out, digest, SHA256_DIGEST_LEN);
}

Test(sha256, known_vectors)
{
    char hex[65];
    hex_of("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two_blocks, strlen(two_blocks), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, incremental_updates_match_one_shot)
{
    struct sha256 ctx;
    unsigned char digest[SHA256_DIGEST_LEN];
    char hex[65];
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        sha256_update(&ctx, chunk, sizeof chunk);
    sha256_final(&ctx, digest);
    sha256_hex(hex, digest, SHA256_DIGEST_LEN);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, base64_padding)
{
    char out[16];
    sha256_base64(out, (const unsigned char *)"f", 1);
    cr_assert_str_eq(out, "Zg==");
    sha256_base64(out, (const unsigned char *)"fo", 2);
    cr_assert_str_eq(out, "Zm8=");
    sha256_base64(out, (const unsigned char *)"foobar", 6);
    cr_assert_str_eq(out, "Zm9vYmFy");
    sha256_base64(out, (const unsigned char *)"\xfb\xff", 2);
    cr_assert_str_eq(out, "+/8=");
}

Test(url, decodes_and_refuses_bad_escapes)
{
    char out[32];
    cr_assert_eq(url_decode(out, "a%20b+c", 7, false), 5);
    cr_assert_str_eq(out, "a b+c");
    cr_assert_eq(url_decode(out, "a%20b+c", 7, true), 5);
    cr_assert_str_eq(out, "a b c");
    cr_assert_eq(url_decode(out, "%C3%a9", 6, false), 2);
    cr_assert_str_eq(out, "\xc3\xa9");
    cr_assert_eq(url_decode(out, "%", 1, false), -1);
    cr_assert_eq(url_decode(out, "%4", 2, false), -1);
    cr_assert_eq(url_decode(out, "%4g", 3, false), -1);
    cr_assert_eq(url_decode(out, "x%00", 4, false), -1);
    cr_assert_eq(url_decode(out, "ab%41", 4, false), -1, "the escape is cut by the length");
}

Test(csrf, constant_time_compare_and_token_shape)
{
    cr_assert(csrf_equal("abcdef", "abcdef", 6));
    cr_assert_not(csrf_equal("abcdef", "abcdeF", 6));
    cr_assert_not(csrf_equal("xbcdef", "abcdef", 6));
    char token[CSRF_TOKEN_LEN + 1];
    memset(token, 'a', CSRF_TOKEN_LEN);
    token[CSRF_TOKEN_LEN] = '\0';
    cr_assert(csrf_token_valid(token));
    token[3] = 'G';
    cr_assert_not(csrf_token_valid(token));
    cr_assert_not(csrf_token_valid("abc"));
    cr_assert_not(csrf_token_valid(NULL));
    char cookie[160];
    csrf_cookie_value(cookie, sizeof cookie, "00ff");
    cr_assert_str_eq(cookie, "sheetd_csrf=00ff; Path=/; HttpOnly; SameSite=Lax");
}

/* A request without a connection: enough for the form parser and csrf_verify. */
static struct web_request *form_request(const char *body)
{
    struct web_request *req = web_request_new(NULL, "/import_templates", 0);
    cr_assert_not_null(req);
    cr_assert_eq(web_request_append_body(req, body, strlen(body), 4096), 0);
    return req;
}

Test(form, parses_pairs_and_decodes)
{
    struct web_request *req = form_request("a=1&definition=%7B%22x%22%3A+1%7D&&empty=&flag");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(web_request_parse_form(req, &err), 0, "%s", err.message);
    size_t len = 0;
    cr_assert_str_eq(web_request_form_value(req, "a", NULL), "1");
    cr_assert_str_eq(web_request_form_value(req, "definition", &len), "{\"x\": 1}");
    cr_assert_eq(len, 8);
    cr_assert_str_eq(web_request_form_value(req, "empty", NULL), "");
    cr_assert_str_eq(web_request_form_value(req, "flag", NULL), "");
    cr_assert_null(web_request_form_value(req, "missing", NULL));
    web_request_free(req);
}

Test(form, malformed_bodies_are_refused_whole)
{
    const char *bad[] = {"a=%zz", "a=1&b=%", "a=%00", "a=%ff%fe", "%41%=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct web_request *req = form_request(bad[i]);
        struct sd_error err = SD_ERROR_INIT;
        cr_assert_eq(web_request_parse_form(req, &err), SD_EINVALID, "%s", bad[i]);
        cr_assert_eq(req->nfields, 0);
        cr_assert(strstr(err.message, "malformed") != NULL, "%s", err.message);
        web_request_free(req);
    }
}

Test(form, body_cap_drops_the_rest)
{
    struct web_request *req = web_request_new(NULL, "/", 0);
    cr_assert_eq(web_request_append_body(req, "0123456789", 10, 15), 0);
    cr_assert_not(req->body_too_large);
    cr_assert_eq(web_request_append_body(req, "0123456789", 10, 15), 0);
    cr_assert(req->body_too_large);
    cr_assert_eq(req->body.len, 0);
    web_request_free(req);
}

Test(csrf, verify_needs_matching_cookie_token_and_field)
{
    char token[CSRF_TOKEN_LEN + 1];
    memset(token, 'b', CSRF_TOKEN_LEN);
    token[CSRF_TOKEN_LEN] = '\0';
    char body[200];
    snprintf(body, sizeof body, "authenticity_token=%s&x=1", token);

    struct web_request *req = form_request(body);
    cr_assert_eq(web_request_parse_form(req, NULL), 0);
    memcpy(req->csrf_token, token, sizeof token);
    cr_assert(csrf_verify(req));
    req->csrf_new = true; /* a token the browser never had */
    cr_assert_not(csrf_verify(req));
    req->csrf_new = false;
    req->csrf_token[10] = 'c';
    cr_assert_not(csrf_verify(req));
    web_request_free(req);

    req = form_request("x=1");
    cr_assert_eq(web_request_parse_form(req, NULL), 0);
    memcpy(req->csrf_token, token, sizeof token);
    cr_assert_not(csrf_verify(req), "a form without the field is refused");
    web_request_free(req);
}
