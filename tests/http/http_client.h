/* A small libcurl client for the HTTP tests: one request, everything captured. */
#ifndef SHEETD_TEST_HTTP_CLIENT_H
#define SHEETD_TEST_HTTP_CLIENT_H

#include <stddef.h>

struct http_reply {
    long status;
    char *body; /* NUL-terminated */
    size_t body_len;
    char *headers; /* the raw header block, lines as received */
};

/* Sends `method` to http://127.0.0.1:port + target. `body` (may be NULL) is sent with
 * `content_type`; `extra_headers` is a NULL-terminated list ("Cookie: a=b") or NULL.
 * Fails the test when curl itself fails. */
void http_request(struct http_reply *out, unsigned port, const char *method, const char *target,
                  const char *content_type, const char *body, size_t body_len,
                  const char *const *extra_headers);
void http_reply_free(struct http_reply *reply);

/* The value of header `name` (case-insensitive) in a malloc'd string, or NULL. */
char *http_header(const struct http_reply *reply, const char *name);

/* Writes `request` to a raw TCP connection and returns everything the server sent until it
 * closed the connection (malloc'd). For what curl would hide (e.g. a body after HEAD). */
char *http_raw(unsigned port, const char *request, size_t *len);

/* The same for a connection that stays open (an event stream): what arrived within
 * `timeout_ms`, NUL-terminated. */
char *http_raw_for(unsigned port, const char *request, int timeout_ms);

/* Appends the form-urlencoded form of `value` to a malloc'd string (*out grows). */
void http_form_append(char **out, const char *name, const char *value);

#endif
