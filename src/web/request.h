/*
 * Per-request state. The server allocates a `struct web_request` when libmicrohttpd first
 * sees the request line (its URI log callback, which also hands us the raw, undecoded
 * request-target) and frees it in the request-completed callback, whatever happened in
 * between (client gone, error, timeout). Everything a request owns hangs off this struct.
 *
 * Form bodies (application/x-www-form-urlencoded) are collected into `body` up to the
 * app's max_form_bytes and parsed once, strictly: a bad %-escape, an encoded NUL or text
 * that is not UTF-8 makes the whole form malformed (400), never half-read.
 */
#ifndef SHEETD_WEB_REQUEST_H
#define SHEETD_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "web/app.h"
#include "web/router.h"

#define CSRF_TOKEN_LEN 128 /* hex of a 32-byte nonce and its 32-byte HMAC (csrf.h) */

struct MHD_Connection;
struct web_multipart;
struct web_upload;

struct web_form_field {
    char *name;
    char *value;
    size_t value_len;
};

struct web_request {
    struct web_app *app;
    struct MHD_Connection *connection;
    char *target;       /* the raw request-target as received, owned */
    const char *method; /* libmicrohttpd's string, valid for the connection's life */
    bool head;          /* a HEAD request, routed as GET */
    int64_t started_ms; /* monotonic, for duration_ms in the access log */

    bool started;     /* the first access-handler call has been seen */
    int route_status; /* router_match's answer */
    struct route_match match;

    struct buf body;
    bool body_too_large;
    struct web_form_field *fields;
    size_t nfields;

    struct web_multipart *multipart; /* an upload route's body parser (upload.h) */
    struct web_upload *upload;       /* the uploaded file once the body is complete; NULL when the
                                        form had none. Deleted with the request unless taken. */

    char csrf_token[CSRF_TOKEN_LEN + 1]; /* this browser's token (from the cookie or new) */
    bool csrf_new;                       /* the response must set the cookie */
    bool csrf_duplicate;                 /* more than one sheetd_csrf cookie came */

    int status;     /* what was sent, for the access log */
    uint64_t bytes; /* body bytes sent */
};

/* Allocates the state for one request; NULL when out of memory. Free with
 * web_request_free. `target` is copied. */
struct web_request *web_request_new(struct web_app *app, const char *target, int64_t started_ms);
void web_request_free(struct web_request *req);

/* Request headers and cookies (borrowed from libmicrohttpd; NULL when absent). */
const char *web_request_header(const struct web_request *req, const char *name);
const char *web_request_cookie(const struct web_request *req, const char *name);

/*
 * How many cookies named `name` the request carries, across every Cookie header (libmicrohttpd
 * keeps only the first of a name, and a cookie planted with a narrower Path arrives as a
 * second one). The first one's value is copied into out (size bytes with the NUL); a value
 * that does not fit is copied as "" so it can never pass for a shorter one.
 */
size_t web_request_cookie_count(const struct web_request *req, const char *name, char *out,
                                size_t size);

/* The path part of the target, without the query string, as a fresh string for logging:
 * writes at most size - 1 bytes into out. */
void web_request_path(const struct web_request *req, char *out, size_t size);

/* A route parameter (already validated by the router), or NULL. */
const char *web_request_param(const struct web_request *req, const char *name);
/* The first value of query-string parameter `name`, decoded into out (size bytes with the
 * NUL). False when absent, malformed or too long for out. */
bool web_request_query(const struct web_request *req, const char *name, char *out, size_t size);

/* A numeric route parameter (`:tid`); 0 when absent or out of range. */
int64_t web_request_id_param(const struct web_request *req, const char *name);

/* True when the client wants a JSON answer: the path is under /api/ or the Accept header
 * prefers application/json to HTML (web_accept_prefers_json). */
bool web_request_wants_json(const struct web_request *req);

/* True when the Accept header value lists exactly application/json (type and subtype, any
 * case, parameters allowed) with a quality above 0 and above that of text/html. Wildcards
 * do not count (a browser accepting any type is not asking for JSON), and neither does
 * application/jsonx. */
bool web_accept_prefers_json(const char *accept);

/*
 * Refuses what a proxy in front of us could frame differently (request smuggling) or what
 * HTTP/1.1 forbids: a Content-Length given twice, Content-Length together with
 * Transfer-Encoding, a Transfer-Encoding other than chunked, a bare CR in a header name or
 * value, an HTTP/1.1 request without Host. Returns 0, 400 with *problem (a static
 * sentence), or -1 when the Content-Length libmicrohttpd reads is not a number: it answers
 * that with its own 400 before calling us (0.9.75 even writes that head twice, with no hook
 * in between), so should we be called anyway, the only clean answer is to close.
 */
int web_request_check_framing(const struct web_request *req, const char *version,
                              const char **problem);

/* Appends a chunk of the body, keeping at most `cap` bytes; beyond that the rest is
 * dropped and body_too_large is set. Returns 0 or SD_ENOMEM. */
int web_request_append_body(struct web_request *req, const char *data, size_t len, size_t cap);

/* Parses `body` as application/x-www-form-urlencoded into `fields`. SD_EINVALID with a
 * sentence for a malformed body; nothing is kept in that case. */
int web_request_parse_form(struct web_request *req, struct sd_error *err);

/* The first value of form field `name` (decoded, NUL-terminated), or NULL; *len (may be
 * NULL) receives its length. */
const char *web_request_form_value(const struct web_request *req, const char *name, size_t *len);

#endif
