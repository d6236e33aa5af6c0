/*
 * Cross-site request forgery protection, the double-submit way: each browser gets a random
 * token in a cookie (`sheetd_csrf`: HttpOnly, SameSite=Lax, Path=/) and every form carries
 * the same token in a hidden `authenticity_token` field. A cross-site page can make the
 * browser send the cookie but cannot read it, so it cannot fill in the field. The server
 * checks every form post (server.c, before any handler runs) and compares in constant time.
 */
#ifndef SHEETD_WEB_CSRF_H
#define SHEETD_WEB_CSRF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define CSRF_COOKIE_NAME "sheetd_csrf"
#define CSRF_FIELD_NAME "authenticity_token"
#define CSRF_MESSAGE                                                                               \
    "The form has expired or did not come from this site. Reload the page and try again."

struct web_request;

/* Gives `req` its token: the cookie's when it holds a well-formed one, else a fresh random
 * one (req->csrf_new is then set so the page sets the cookie). */
int csrf_prepare(struct web_request *req, struct sd_error *err);

/* True when the form's authenticity_token equals the browser's cookie token. A request
 * without the cookie (or with a malformed one) never passes. */
bool csrf_verify(const struct web_request *req);

/* Compares two strings of `len` bytes without an early exit, so the time taken does not
 * tell an attacker how many leading characters were right. */
bool csrf_equal(const char *a, const char *b, size_t len);

/* True when `token` is exactly CSRF_TOKEN_LEN lowercase hex characters. */
bool csrf_token_valid(const char *token);

/* Writes the Set-Cookie value for `token` into out. */
void csrf_cookie_value(char *out, size_t size, const char *token);

#endif
