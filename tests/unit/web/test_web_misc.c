/* The small pieces under the web layer: percent-decoding, the CSRF tokens and checks, and the
 * form parser. (SHA-256 and base64 are base/crypto.h's, tested in tests/unit/base.) */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/csrf.h"
#include "web/request.h"
#include "web/url.h"

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

static const unsigned char key[CRYPTO_KEY_BYTES] = "0123456789abcdef0123456789abcdef";

/* Tokens are the server's own: a nonce and its HMAC under the secret key. Anything else, a
 * well-shaped hex string of the right length included, is not a token. */
Test(csrf, only_tokens_the_server_issued_pass)
{
    char token[CSRF_TOKEN_LEN + 1], other[CSRF_TOKEN_LEN + 1];
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(csrf_token_issue(token, key, &err), 0, "%s", err.message);
    cr_assert_eq(strlen(token), CSRF_TOKEN_LEN);
    cr_assert_eq(strspn(token, "0123456789abcdef"), CSRF_TOKEN_LEN);
    cr_assert(csrf_token_issued(key, token));
    cr_assert_eq(csrf_token_issue(other, key, &err), 0);
    cr_assert_str_neq(token, other, "each token has its own nonce");

    unsigned char other_key[CRYPTO_KEY_BYTES];
    memcpy(other_key, key, sizeof other_key);
    other_key[5] ^= 1;
    cr_assert_not(csrf_token_issued(other_key, token), "another server's token");
    char forged[CSRF_TOKEN_LEN + 1];
    memset(forged, 'a', CSRF_TOKEN_LEN);
    forged[CSRF_TOKEN_LEN] = '\0';
    cr_assert_not(csrf_token_issued(key, forged), "an attacker's value of the right shape");
    memcpy(forged, token, sizeof forged);
    forged[3] = forged[3] == '0' ? '1' : '0';
    cr_assert_not(csrf_token_issued(key, forged), "a changed nonce");
    memcpy(forged, token, sizeof forged);
    forged[CSRF_TOKEN_LEN - 1] = forged[CSRF_TOKEN_LEN - 1] == '0' ? '1' : '0';
    cr_assert_not(csrf_token_issued(key, forged), "a changed MAC");
    cr_assert_not(csrf_token_issued(key, "abc"));
    cr_assert_not(csrf_token_issued(key, NULL));
    token[10] = 'G';
    cr_assert_not(csrf_token_issued(key, token));

    char cookie[200];
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

Test(csrf, verify_needs_one_matching_cookie_token_and_field)
{
    char token[CSRF_TOKEN_LEN + 1];
    cr_assert_eq(csrf_token_issue(token, key, NULL), 0);
    char body[300];
    snprintf(body, sizeof body, "authenticity_token=%s&x=1", token);

    struct web_request *req = form_request(body);
    cr_assert_eq(web_request_parse_form(req, NULL), 0);
    memcpy(req->csrf_token, token, sizeof token);
    cr_assert(csrf_verify(req));
    req->csrf_new = true; /* a token the browser never had */
    cr_assert_not(csrf_verify(req));
    req->csrf_new = false;
    req->csrf_duplicate = true; /* two sheetd_csrf cookies came */
    cr_assert_not(csrf_verify(req));
    req->csrf_duplicate = false;
    req->csrf_token[10] = req->csrf_token[10] == 'c' ? 'd' : 'c';
    cr_assert_not(csrf_verify(req));
    web_request_free(req);

    req = form_request("x=1");
    cr_assert_eq(web_request_parse_form(req, NULL), 0);
    memcpy(req->csrf_token, token, sizeof token);
    cr_assert_not(csrf_verify(req), "a form without the field is refused");
    web_request_free(req);
}

/* Issue 9: "application/jsonx" counted as JSON because the header was searched for the
 * substring. Media types are compared whole, with parameters and q-values. */
Test(accept, json_is_chosen_by_exact_media_type_and_quality)
{
    cr_assert(web_accept_prefers_json("application/json"));
    cr_assert(web_accept_prefers_json("Application/JSON"));
    cr_assert(web_accept_prefers_json("application/json; charset=utf-8"));
    cr_assert(web_accept_prefers_json("text/plain, application/json;q=0.9"));
    cr_assert(web_accept_prefers_json("text/html;q=0.5, application/json"));
    cr_assert(web_accept_prefers_json(" application/json ;q=1.000 "));

    cr_assert_not(web_accept_prefers_json("application/jsonx"));
    cr_assert_not(web_accept_prefers_json("application/json+x, text/plain"));
    cr_assert_not(web_accept_prefers_json("xapplication/json"));
    cr_assert_not(web_accept_prefers_json("application/json;q=0"));
    cr_assert_not(web_accept_prefers_json("application/json;q=0.000"));
    cr_assert_not(web_accept_prefers_json("application/json;q=2"), "an invalid q is no vote");
    cr_assert_not(web_accept_prefers_json("text/html, application/json"), "a tie goes to HTML");
    cr_assert_not(web_accept_prefers_json("application/json;q=0.5, text/html;q=0.9"));
    cr_assert_not(web_accept_prefers_json("*/*"));
    cr_assert_not(web_accept_prefers_json("application/*"));
    cr_assert_not(
        web_accept_prefers_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    cr_assert_not(web_accept_prefers_json(""));
    cr_assert_not(web_accept_prefers_json(NULL));
}
