/*
 * Building responses. A handler fills a `struct web_response` (status, content type, body,
 * a few headers); the server turns it into a libmicrohttpd response with
 * web_response_to_mhd, which is also where the security headers are added, so no response
 * (errors included) can leave without them:
 *
 *   Content-Security-Policy   default-src 'self'; script-src 'self' 'sha256-<import map>';
 *                             style-src 'self' ['nonce-<n>']; img-src 'self' data:;
 *                             connect-src 'self'; frame-ancestors 'none'; base-uri 'self';
 *                             form-action 'self'
 *   X-Content-Type-Options    nosniff
 *   Referrer-Policy           strict-origin-when-cross-origin
 *   X-Frame-Options           DENY
 *
 * The import map has to be an inline <script type="importmap"> (browsers do not load
 * external import maps), so script-src allows exactly its SHA-256 hash, computed at start.
 * HTML pages also get a fresh style nonce, published in <meta name="csp-nonce">: Turbo reads
 * it for the one <style> element it inserts (its progress bar); nothing else is inline.
 *
 * Errors are answered in the client's language: an HTML page inside the layout, or
 * {"error": "..."} when web_request_wants_json says so.
 */
#ifndef SHEETD_WEB_RESPONSE_H
#define SHEETD_WEB_RESPONSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "web/sse.h"

#define WEB_RESPONSE_MAX_HEADERS 8
#define WEB_NONCE_SIZE 25 /* base64 of 18 random bytes + NUL */

struct web_request;
struct MHD_Response;
struct sse_stream;

struct web_response_header {
    const char *name; /* static text */
    char *value;      /* owned */
};

struct web_response {
    int status;
    const char *content_type; /* static text */
    struct buf body;
    const void *static_body; /* instead of body: memory that outlives the server (assets) */
    size_t static_len;
    struct web_response_header headers[WEB_RESPONSE_MAX_HEADERS];
    size_t nheaders;
    char style_nonce[WEB_NONCE_SIZE]; /* "" unless an HTML page was rendered */
    struct sse_stream *sse;           /* an event stream instead of a body (web_response_sse) */
    int file_fd;                      /* a file sent from disk instead of a body, or -1 */
    uint64_t file_size;
};

void web_response_init(struct web_response *res);
void web_response_free(struct web_response *res);

/* Adds a header (value copied). Returns 0 or SD_ENOMEM (or SD_ELIMIT past the fixed
 * number of headers, a programming error). */
int web_response_header(struct web_response *res, const char *name, const char *value);

/*
 * Renders view `view` inside the layout with `data` (borrowed; the layout's keys are added
 * to it: title, csrf_token, csp_nonce, importmap) and sets status and content type. On a
 * rendering failure it answers 500 instead, so the caller has nothing to check.
 */
void web_response_page(struct web_response *res, struct web_request *req, int status,
                       const char *view, const char *title, json_t *data);

/* Serializes `doc` (borrowed) as the JSON body. */
void web_response_json(struct web_response *res, int status, const json_t *doc);

/* 303 See Other to `location` (a path on this server). */
void web_response_redirect(struct web_response *res, const char *location);

/*
 * Answers with a text/event-stream (sse.h) following `topic` in the server's hub: `render`
 * is called with `ctx` at once (the current state, with the request's Last-Event-ID) and
 * after every sse_hub_publish of the topic, until it sets *finished. Sets status 200, the
 * content type and Cache-Control: no-cache, X-Accel-Buffering: no. ctx_free (may be NULL)
 * frees ctx when the stream ends, or at once when this fails (then a 500 is answered).
 */
void web_response_sse(struct web_response *res, struct web_request *req, const char *topic,
                      sse_render_fn render, void *ctx, void (*ctx_free)(void *));

/*
 * Sends the file at `path` as the body, read by libmicrohttpd straight from disk (a large
 * export never passes through memory), with `download_name` in Content-Disposition. A file
 * that cannot be opened answers 404 with `missing_message`.
 */
void web_response_file(struct web_response *res, struct web_request *req, const char *path,
                       const char *content_type, const char *download_name,
                       const char *missing_message);

/* Sends the open regular file `fd` (taken: closed with the response, also on failure). A
 * file already unlinked is fine: the descriptor keeps it until it is sent. */
void web_response_fd(struct web_response *res, struct web_request *req, int fd,
                     const char *content_type, const char *download_name);

/* Answers a failed store, queue or template call: 404 (not found), 422 (invalid, exists),
 * 413 (limit), 503 (busy), else 500 (logged; the page then says nothing internal). */
void web_response_fail(struct web_response *res, struct web_request *req, int rc,
                       const struct sd_error *err);

/* An error page (HTML, inside the layout) or {"error": message} for JSON clients. The
 * message is one sentence a person can act on. */
void web_response_error(struct web_response *res, struct web_request *req, int status,
                        const char *message);

/*
 * Turns `res` into a libmicrohttpd response with the security headers added; the body
 * moves into it (res->body is left empty). `script_hash` is the import map's CSP source.
 * NULL when out of memory.
 */
struct MHD_Response *web_response_to_mhd(struct web_response *res, const char *script_hash);

/* The reason phrase for a status ("Not Found"). */
const char *web_response_reason(int status);

#endif
