#include "web/csrf.h"

#include <stdio.h>
#include <string.h>

#include "base/job_id.h"
#include "web/request.h"
#include "web/sha256.h"

bool csrf_token_valid(const char *token)
{
    if (!token || strlen(token) != CSRF_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < CSRF_TOKEN_LEN; i++)
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return false;
    return true;
}

int csrf_prepare(struct web_request *req, struct sd_error *err)
{
    const char *cookie = web_request_cookie(req, CSRF_COOKIE_NAME);
    if (csrf_token_valid(cookie)) {
        memcpy(req->csrf_token, cookie, CSRF_TOKEN_LEN + 1);
        req->csrf_new = false;
        return 0;
    }
    unsigned char raw[CSRF_TOKEN_LEN / 2];
    int rc = random_bytes(raw, sizeof raw, err);
    if (rc)
        return rc;
    sha256_hex(req->csrf_token, raw, sizeof raw);
    req->csrf_new = true;
    return 0;
}

bool csrf_equal(const char *a, const char *b, size_t len)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool csrf_verify(const struct web_request *req)
{
    /* A token we just made up was never given to this browser, so nothing can match it. */
    if (req->csrf_new || !csrf_token_valid(req->csrf_token))
        return false;
    size_t len = 0;
    const char *field = web_request_form_value(req, CSRF_FIELD_NAME, &len);
    if (!field || len != CSRF_TOKEN_LEN)
        return false;
    return csrf_equal(field, req->csrf_token, CSRF_TOKEN_LEN);
}

void csrf_cookie_value(char *out, size_t size, const char *token)
{
    snprintf(out, size, "%s=%s; Path=/; HttpOnly; SameSite=Lax", CSRF_COOKIE_NAME, token);
}
