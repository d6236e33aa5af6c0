#include "web/csrf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/random.h"
#include "store/store.h"
#include "web/request.h"

/* What the HMAC covers: a label, so a MAC made for something else under the same key can
 * never pass as a CSRF token, and the nonce. */
#define CSRF_LABEL "sheetd csrf v1:"

static void token_mac(unsigned char mac[CRYPTO_HMAC_BYTES],
                      const unsigned char key[CRYPTO_KEY_BYTES],
                      const unsigned char nonce[CSRF_NONCE_BYTES])
{
    unsigned char message[sizeof CSRF_LABEL - 1 + CSRF_NONCE_BYTES];
    memcpy(message, CSRF_LABEL, sizeof CSRF_LABEL - 1);
    memcpy(message + sizeof CSRF_LABEL - 1, nonce, CSRF_NONCE_BYTES);
    crypto_hmac(mac, key, message, sizeof message);
}

int csrf_token_issue(char *out, const unsigned char key[CRYPTO_KEY_BYTES], struct sd_error *err)
{
    unsigned char raw[CSRF_NONCE_BYTES + CRYPTO_HMAC_BYTES];
    int rc = random_bytes(raw, CSRF_NONCE_BYTES, err);
    if (rc)
        return rc;
    token_mac(raw + CSRF_NONCE_BYTES, key, raw);
    crypto_hex(out, raw, sizeof raw);
    return 0;
}

/* Recomputes the MAC of the token's nonce and compares it with the token's, in constant
 * time. */
bool csrf_token_issued(const unsigned char key[CRYPTO_KEY_BYTES], const char *token)
{
    unsigned char raw[CSRF_NONCE_BYTES + CRYPTO_HMAC_BYTES], mac[CRYPTO_HMAC_BYTES];
    _Static_assert(2 * sizeof raw == CSRF_TOKEN_LEN, "CSRF_TOKEN_LEN is the hex of the token");
    if (!token || !crypto_unhex(raw, sizeof raw, token))
        return false;
    token_mac(mac, key, raw);
    bool issued = crypto_equal(mac, raw + CSRF_NONCE_BYTES, sizeof mac);
    crypto_wipe(mac, sizeof mac);
    return issued;
}

int csrf_prepare(struct web_request *req, struct sd_error *err)
{
    const unsigned char *key = store_secret_key(req->app->store);
    char cookie[CSRF_TOKEN_LEN + 1];
    size_t count = web_request_cookie_count(req, CSRF_COOKIE_NAME, cookie, sizeof cookie);
    req->csrf_duplicate = count > 1;
    if (count == 1 && csrf_token_issued(key, cookie)) {
        memcpy(req->csrf_token, cookie, CSRF_TOKEN_LEN + 1);
        req->csrf_new = false;
        return 0;
    }
    int rc = csrf_token_issue(req->csrf_token, key, err);
    if (rc)
        return rc;
    req->csrf_new = true;
    return 0;
}

/* An authority ("host", "host:port", "[v6]:port") split into host and port; the port is
 * `default_port` when absent. False when it is malformed or holds user information. */
static bool split_authority(const char *s, size_t len, const char **host, size_t *host_len,
                            unsigned *port, unsigned default_port)
{
    if (len == 0 || memchr(s, '@', len))
        return false;
    const char *colon = NULL;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return false;
        *host = s;
        *host_len = (size_t)(close - s) + 1;
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return false;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        *host = s;
        *host_len = colon ? (size_t)(colon - s) : len;
    }
    if (*host_len == 0)
        return false;
    *port = default_port;
    if (colon) {
        const char *p = colon + 1, *end = s + len;
        if (p == end || end - p > 5)
            return false;
        unsigned value = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            value = value * 10 + (unsigned)(*p - '0');
        }
        if (value == 0 || value > 65535)
            return false;
        *port = value;
    }
    return true;
}

/* True when `url` (an Origin "scheme://authority" or a Referer "scheme://authority/path")
 * names the same host and port as the request's Host header. */
static bool same_origin_as_host(const char *url, const char *host_header)
{
    unsigned default_port;
    size_t scheme_len;
    if (!strncasecmp(url, "http://", 7)) {
        default_port = 80;
        scheme_len = 7;
    } else if (!strncasecmp(url, "https://", 8)) {
        default_port = 443;
        scheme_len = 8;
    } else {
        return false; /* "null", file:, other schemes: never this site */
    }
    const char *auth = url + scheme_len;
    size_t auth_len = strcspn(auth, "/?#");
    const char *a_host, *b_host;
    size_t a_len, b_len;
    unsigned a_port, b_port;
    if (!host_header || !split_authority(auth, auth_len, &a_host, &a_len, &a_port, default_port) ||
        !split_authority(host_header, strlen(host_header), &b_host, &b_len, &b_port, default_port))
        return false;
    return a_port == b_port && a_len == b_len && !strncasecmp(a_host, b_host, a_len);
}

bool csrf_same_origin(const struct web_request *req)
{
    const char *host = web_request_header(req, "Host");
    const char *origin = web_request_header(req, "Origin");
    if (origin)
        return same_origin_as_host(origin, host);
    const char *site = web_request_header(req, "Sec-Fetch-Site");
    if (site && (!strcasecmp(site, "cross-site") || !strcasecmp(site, "same-site")))
        return false;
    const char *referer = web_request_header(req, "Referer");
    if (referer)
        return same_origin_as_host(referer, host);
    return true;
}

bool csrf_verify(const struct web_request *req)
{
    /* A token we just made up was never given to this browser, so nothing can match it;
     * and with two cookies of our name one of them was planted. */
    if (req->csrf_duplicate || req->csrf_new || strlen(req->csrf_token) != CSRF_TOKEN_LEN)
        return false;
    if (!csrf_same_origin(req))
        return false;
    size_t len = 0;
    const char *field = web_request_form_value(req, CSRF_FIELD_NAME, &len);
    if (!field || len != CSRF_TOKEN_LEN)
        return false;
    return crypto_equal(field, req->csrf_token, CSRF_TOKEN_LEN);
}

void csrf_cookie_value(char *out, size_t size, const char *token)
{
    snprintf(out, size, "%s=%s; Path=/; HttpOnly; SameSite=Lax", CSRF_COOKIE_NAME, token);
}
