/*
 * DESIGN
 * ------
 * The HTTP server: GNU libmicrohttpd with its own epoll thread and a small thread pool, so
 * there is no event loop to write here. Each request moves through the same steps
 * (server.c):
 *
 *   accept         the connection guard (conn_guard.h) refuses an address over its share
 *                  and starts the request-header deadline
 *   request line   the URI log callback allocates the request state (request.h) and keeps
 *                  the raw request-target for the router
 *   headers        ambiguous framing refused (400, web_request_check_framing); router_match
 *                  (404 / 405 + Allow / 414 / 400 answered at once); for a form post:
 *                  content type (415) and declared length (413) checked before any body is
 *                  read
 *   body chunks    collected up to the form cap; the rest is dropped and answered with 413
 *   body complete  form parsed strictly (400), CSRF token checked (422), handler runs
 *   completed      one logfmt access line (method, path, status, bytes, duration_ms), then
 *                  the request state is freed
 *
 * Two kinds of routes differ: upload routes (`.upload = true`) stream a multipart body to
 * a temporary file (upload.h) instead of collecting a form; a handler may answer with an
 * event stream (web_response_sse, sse.h) whose connection is suspended while it has
 * nothing to send and resumed by sse_hub_publish (hence MHD_ALLOW_SUSPEND_RESUME). The
 * server owns the hub and ends every stream before stopping libmicrohttpd.
 */
#ifndef SHEETD_WEB_SERVER_H
#define SHEETD_WEB_SERVER_H

#include <stddef.h>

#include "base/clock.h"
#include "base/error.h"
#include "store/store.h"

struct web_server_config {
    unsigned version;
    const char *listen;               /* "HOST:PORT"; port 0 picks a free port (tests) */
    struct store *store;              /* required; borrowed, must outlive the server */
    struct jobs *jobs;                /* borrowed, must outlive the server: uploads become its
                                         jobs, its broadcasts feed the streams; NULL (tests of
                                         the web layer alone): job routes answer 503 */
    const char *api_token;            /* SHEETD_API_TOKEN: /api/ requests must carry it as a
                                         bearer token; NULL or "": no token asked */
    const char *root_dir;             /* holds views/ assets/ node_modules/; NULL: $SHEETD_ROOT
                                         or the current directory */
    size_t max_body_bytes;            /* uploads; SHEETD_MAX_UPLOAD_MB turned into bytes */
    size_t max_form_bytes;            /* urlencoded form bodies, held in memory */
    unsigned threads;                 /* request threads in the pool */
    unsigned connection_timeout_s;    /* idle connections are closed after this */
    const struct sd_clock *clock;     /* NULL: the system clock */
    const char *upload_dir;           /* upload routes stream their file here (created 0700 when
                                         missing); NULL: upload routes answer 500 */
    const struct route *extra_routes; /* tried when the built-in table has no match: lets
                                         tests mount routes of their own; NULL in production */
    size_t nextra_routes;
    unsigned sse_keepalive_ms;       /* a comment line on event streams idle this long */
    unsigned max_connections;        /* all clients together */
    unsigned max_connections_per_ip; /* one client address (SHEETD_MAX_CONNECTIONS_PER_IP);
                                        0 = no limit */
    unsigned header_timeout_ms;      /* a request's whole header must arrive within this,
                                        however slowly it trickles; 0 = no deadline */
    size_t connection_memory_bytes;  /* libmicrohttpd's memory per connection, which also
                                        bounds a request's head */
};

#define WEB_DEFAULT_MAX_CONNECTIONS 1000
#define WEB_DEFAULT_MAX_CONNECTIONS_PER_IP 64
/* 32 KB: 10,000 open event streams measured 264 MB peak RSS (64 KB: 423 MB) */
#define WEB_DEFAULT_CONNECTION_MEMORY (32 * 1024)
#define WEB_SERVER_CONFIG_VERSION 1
#define WEB_SERVER_CONFIG_INIT                                                                     \
    {                                                                                              \
        .version = WEB_SERVER_CONFIG_VERSION, .listen = "127.0.0.1:8080", .store = NULL,           \
        .jobs = NULL, .api_token = NULL, .root_dir = NULL, .max_body_bytes = 100u * 1024 * 1024,   \
        .max_form_bytes = 1024 * 1024, .threads = 4, .connection_timeout_s = 30, .clock = NULL,    \
        .upload_dir = NULL, .extra_routes = NULL, .nextra_routes = 0, .sse_keepalive_ms = 15000,   \
        .max_connections = WEB_DEFAULT_MAX_CONNECTIONS,                                            \
        .max_connections_per_ip = WEB_DEFAULT_MAX_CONNECTIONS_PER_IP, .header_timeout_ms = 20000,  \
        .connection_memory_bytes = WEB_DEFAULT_CONNECTION_MEMORY,                                  \
    }

struct web_server;
struct route;
struct sse_hub;

/* Loads the views and assets, binds the address and starts serving. SD_EUSAGE for a bad
 * listen address, SD_ERROR when the port cannot be bound or a view does not compile. The
 * caller stops and frees *out with web_server_stop. */
int web_server_start(struct web_server **out, const struct web_server_config *config,
                     struct sd_error *err);

/* The port actually bound (the answer to "port 0"). */
unsigned web_server_port(const struct web_server *server);

/* The hub of the server's event streams: the job layer calls sse_hub_publish on it when a
 * topic changes, /metrics reads sse_hub_open_streams. Borrowed; lives until
 * web_server_stop. */
struct sse_hub *web_server_sse_hub(struct web_server *server);

/* Stops accepting, finishes or closes the open connections, frees everything. */
void web_server_stop(struct web_server *server);

#endif
