/*
 * DESIGN
 * ------
 * Cross-site request forgery protection, in three layers, all checked on every form post
 * (server.c, before any handler runs):
 *
 *   1. Tokens the server signs. Each browser gets a token in a cookie (`sheetd_csrf`:
 *      HttpOnly, SameSite=Lax, Path=/) and every form carries the same token in a hidden
 *      `authenticity_token` field (double submit). A token is 32 random bytes followed by
 *      their HMAC-SHA256 under the server's secret key (store_secret_key, kept in
 *      <data_dir>/secret_key), in hex: a value the server did not issue never passes, so a
 *      page on another port of the same host cannot plant a cookie of its own choosing and
 *      submit the same value. Comparisons are constant-time (base/crypto.h).
 *   2. One cookie only. A request carrying two `sheetd_csrf` cookies (a planted one with a
 *      narrower Path is sent first) is refused rather than guessing which one is real.
 *   3. The request's origin. A post whose `Origin` names another origin than its `Host` is
 *      refused, token or not; without `Origin`, `Sec-Fetch-Site: cross-site` or `same-site`,
 *      or a `Referer` of another origin, is refused too. A request with none of these
 *      headers (curl, scripts) is judged by the token alone.
 *
 * The JSON API (/api/) authenticates with a bearer token instead (crypto_token_equal).
 */
#ifndef SHEETD_WEB_CSRF_H
#define SHEETD_WEB_CSRF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/crypto.h"
#include "base/error.h"

#define CSRF_COOKIE_NAME "sheetd_csrf"
#define CSRF_FIELD_NAME "authenticity_token"
#define CSRF_MESSAGE                                                                               \
    "The form has expired or did not come from this site. Reload the page and try again."
/* hex of 32 random bytes and their 32-byte HMAC (request.h's CSRF_TOKEN_LEN) */
#define CSRF_NONCE_BYTES 32

struct web_request;

/* Gives `req` its token: the cookie's when the request carries exactly one `sheetd_csrf`
 * cookie and the server issued it, else a fresh one (req->csrf_new is then set so the page
 * sets the cookie). Two or more cookies of that name set req->csrf_duplicate. */
int csrf_prepare(struct web_request *req, struct sd_error *err);

/* True when the post may change state: one cookie, issued by this server, equal to the
 * form's authenticity_token, and no header saying the request came from another origin. */
bool csrf_verify(const struct web_request *req);

/* False when Origin, Sec-Fetch-Site or Referer say the request came from another origin
 * than its Host (layer 3 above); true when they agree or are absent. */
bool csrf_same_origin(const struct web_request *req);

/* A fresh token signed with `key`: CSRF_TOKEN_LEN hex characters and a NUL. */
int csrf_token_issue(char *out, const unsigned char key[CRYPTO_KEY_BYTES], struct sd_error *err);

/* True when `token` is a token csrf_token_issue made with `key`. */
bool csrf_token_issued(const unsigned char key[CRYPTO_KEY_BYTES], const char *token);

/* Writes the Set-Cookie value for `token` into out, which holds CSRF_COOKIE_SIZE bytes. */
#define CSRF_COOKIE_SIZE 256
void csrf_cookie_value(char *out, size_t size, const char *token);

#endif
