#include "web/response.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/random.h"
#include "base/str.h"
#include "web/csrf.h"
#include "web/assets.h"
#include "web/request.h"
#include "web/views.h"

void web_response_init(struct web_response *res)
{
    memset(res, 0, sizeof *res);
    res->file_fd = -1;
    res->status = 200;
    res->content_type = "text/plain; charset=utf-8";
}

void web_response_free(struct web_response *res)
{
    sse_stream_discard(res->sse);
    res->sse = NULL;
    if (res->file_fd >= 0)
        close(res->file_fd);
    res->file_fd = -1;
    buf_free(&res->body);
    for (size_t i = 0; i < res->nheaders; i++)
        free(res->headers[i].value);
    res->nheaders = 0;
}

int web_response_header(struct web_response *res, const char *name, const char *value)
{
    if (res->nheaders == WEB_RESPONSE_MAX_HEADERS)
        return SD_ELIMIT;
    char *copy = str_dup(value);
    if (!copy)
        return SD_ENOMEM;
    res->headers[res->nheaders].name = name;
    res->headers[res->nheaders].value = copy;
    res->nheaders++;
    return 0;
}

/* The answer of last resort, used when even rendering an error page failed: static text
 * that needs no allocation beyond the buffer. */
static void plain_failure(struct web_response *res, int status, const char *message)
{
    buf_clear(&res->body);
    res->static_body = NULL;
    res->status = status;
    res->content_type = "text/plain; charset=utf-8";
    res->style_nonce[0] = '\0';
    if (buf_printf(&res->body, "%s\n", message) != 0)
        buf_free(&res->body);
}

void web_response_page(struct web_response *res, struct web_request *req, int status,
                       const char *view, const char *title, json_t *data)
{
    struct sd_error err = SD_ERROR_INIT;
    unsigned char raw[18];
    const char *importmap = assets_importmap(req->app->assets);
    if (random_bytes(raw, sizeof raw, &err) != 0)
        goto fail;
    crypto_base64(res->style_nonce, raw, sizeof raw);
    if (json_object_set_new(data, "title", json_string(title)) ||
        json_object_set_new(data, "csrf_token", json_string(req->csrf_token)) ||
        json_object_set_new(data, "csrf_field", json_string(CSRF_FIELD_NAME)) ||
        json_object_set_new(data, "csp_nonce", json_string(res->style_nonce)) ||
        json_object_set_new(data, "importmap", json_string(importmap))) {
        sd_error_nomem(&err);
        goto fail;
    }
    buf_clear(&res->body);
    if (views_render_page(req->app->views, view, data, &res->body, &err) != 0)
        goto fail;
    if (req->csrf_new) {
        char cookie[CSRF_COOKIE_SIZE];
        csrf_cookie_value(cookie, sizeof cookie, req->csrf_token);
        if (web_response_header(res, "Set-Cookie", cookie) != 0) {
            sd_error_nomem(&err);
            goto fail;
        }
    }
    res->status = status;
    res->content_type = "text/html; charset=utf-8";
    return;
fail:
    log_kv(SD_LOG_ERROR, "page rendering failed", "view", view, "error", sd_error_message(&err),
           NULL);
    plain_failure(res, 500, "The page could not be rendered; the server log says why.");
}

void web_response_json(struct web_response *res, int status, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    buf_clear(&res->body);
    if (!text || buf_puts(&res->body, text) != 0 || buf_putc(&res->body, '\n') != 0) {
        free(text);
        plain_failure(res, 500, "The server ran out of memory; try again.");
        return;
    }
    free(text);
    res->status = status;
    res->content_type = "application/json";
}

void web_response_redirect(struct web_response *res, const char *location)
{
    buf_clear(&res->body);
    if (web_response_header(res, "Location", location) != 0) {
        plain_failure(res, 500, "The server ran out of memory; try again.");
        return;
    }
    res->status = 303;
    res->content_type = "text/plain; charset=utf-8";
    if (buf_printf(&res->body, "See %s\n", location) != 0)
        buf_free(&res->body);
}

void web_response_sse(struct web_response *res, struct web_request *req, const char *topic,
                      sse_render_fn render, void *ctx, void (*ctx_free)(void *))
{
    struct sd_error err = SD_ERROR_INIT;
    struct sse_stream *stream = NULL;
    if (sse_stream_new(&stream, req->app->sse_hub, req->connection, topic,
                       web_request_header(req, "Last-Event-ID"), render, ctx, ctx_free, &err) != 0)
        goto fail;
    if (web_response_header(res, "Cache-Control", "no-cache") != 0 ||
        web_response_header(res, "X-Accel-Buffering", "no") != 0) {
        sse_stream_discard(stream);
        sd_error_nomem(&err);
        goto fail;
    }
    buf_clear(&res->body);
    res->sse = stream;
    res->status = 200;
    res->content_type = "text/event-stream";
    return;
fail:
    log_kv(SD_LOG_ERROR, "event stream failed", "error", sd_error_message(&err), NULL);
    plain_failure(res, 500, "The live updates could not be started; reload the page.");
}

void web_response_error(struct web_response *res, struct web_request *req, int status,
                        const char *message)
{
    if (web_request_wants_json(req)) {
        json_t *doc = json_pack("{s:s}", "error", message);
        if (!doc) {
            plain_failure(res, 500, "The server ran out of memory; try again.");
            return;
        }
        web_response_json(res, status, doc);
        json_decref(doc);
        return;
    }
    json_t *data = json_pack("{s:i,s:s,s:s}", "status", status, "reason",
                             web_response_reason(status), "message", message);
    if (!data) {
        plain_failure(res, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_page(res, req, status, "errors/show", web_response_reason(status), data);
    json_decref(data);
}

static int add_security_headers(struct MHD_Response *r, const struct web_response *res,
                                const char *script_hash)
{
    char csp[512];
    char style_nonce[WEB_NONCE_SIZE + 16] = "";
    if (res->style_nonce[0])
        snprintf(style_nonce, sizeof style_nonce, " 'nonce-%s'", res->style_nonce);
    snprintf(csp, sizeof csp,
             "default-src 'self'; script-src 'self'%s%s; style-src 'self'%s; "
             "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
             "base-uri 'self'; form-action 'self'",
             script_hash && *script_hash ? " " : "", script_hash ? script_hash : "", style_nonce);
    if (MHD_add_response_header(r, "Content-Security-Policy", csp) != MHD_YES ||
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") != MHD_YES ||
        MHD_add_response_header(r, "Referrer-Policy", "strict-origin-when-cross-origin") !=
            MHD_YES ||
        MHD_add_response_header(r, "X-Frame-Options", "DENY") != MHD_YES)
        return -1;
    return 0;
}

void web_response_fail(struct web_response *res, struct web_request *req, int rc,
                       const struct sd_error *err)
{
    switch (rc) {
    case SD_ENOTFOUND:
        web_response_error(res, req, 404, sd_error_message(err));
        return;
    case SD_EINVALID:
    case SD_EEXISTS:
        web_response_error(res, req, 422, sd_error_message(err));
        return;
    case SD_ELIMIT:
        web_response_error(res, req, 413, sd_error_message(err));
        return;
    case SD_ERETRY:
        web_response_error(res, req, 503, "The database is busy; try again in a moment.");
        return;
    default:
        log_kv(SD_LOG_ERROR, "request failed", "error", sd_error_message(err), NULL);
        web_response_error(res, req, 500,
                           "Something went wrong on the server; it has been logged. Try again.");
    }
}

void web_response_file(struct web_response *res, struct web_request *req, const char *path,
                       const char *content_type, const char *download_name,
                       const char *missing_message)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        web_response_error(res, req, 404, missing_message);
        return;
    }
    web_response_fd(res, req, fd, content_type, download_name);
}

void web_response_fd(struct web_response *res, struct web_request *req, int fd,
                     const char *content_type, const char *download_name)
{
    struct stat st;
    char disposition[300];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", download_name);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        web_response_header(res, "Content-Disposition", disposition) != 0) {
        close(fd);
        web_response_error(res, req, 500, "The file could not be sent; try again.");
        return;
    }
    res->status = 200;
    res->content_type = content_type;
    res->file_fd = fd;
    res->file_size = (uint64_t)st.st_size;
}

struct MHD_Response *web_response_to_mhd(struct web_response *res, const char *script_hash)
{
    struct MHD_Response *r;
    if (res->sse) {
        r = sse_stream_to_mhd(res->sse); /* the stream now belongs to the response */
        res->sse = NULL;
    } else if (res->file_fd >= 0) {
        r = MHD_create_response_from_fd(res->file_size, res->file_fd);
        if (r)
            res->file_fd = -1; /* libmicrohttpd closes it with the response */
    } else if (res->static_body) {
        r = MHD_create_response_from_buffer(res->static_len, (void *)res->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = res->body.len;
        char *data = buf_detach(&res->body);
        if (!data)
            return NULL;
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(data);
    }
    if (!r)
        return NULL;
    if (MHD_add_response_header(r, "Content-Type", res->content_type) != MHD_YES ||
        add_security_headers(r, res, script_hash) != 0)
        goto fail;
    for (size_t i = 0; i < res->nheaders; i++)
        if (MHD_add_response_header(r, res->headers[i].name, res->headers[i].value) != MHD_YES)
            goto fail;
    return r;
fail:
    MHD_destroy_response(r);
    return NULL;
}

const char *web_response_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}
