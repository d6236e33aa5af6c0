/* The libmicrohttpd callbacks and the request life cycle (see server.h). */
#include "web/server.h"

#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/str.h"
#include "web/app.h"
#include "web/conn_guard.h"
#include "web/csrf.h"
#include "web/metrics.h"
#include "web/status_feed.h"
#include "web/assets.h"
#include "web/request.h"
#include "web/response.h"
#include "web/sse.h"
#include "web/upload.h"
#include "web/views.h"

struct web_server {
    struct MHD_Daemon *daemon;
    struct conn_guard *guard;
    struct web_app app;
    unsigned port;
};

/* Called by libmicrohttpd with the raw request-target before anything is decoded; what we
 * return becomes the request's state (*req_cls), freed in on_completed. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct web_app *app = cls;
    struct web_request *req = web_request_new(app, uri, clock_monotonic_ms(app->clock));
    if (req)
        req->connection = connection;
    return req;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct web_app *app = cls;
    struct web_request *req = *req_cls;
    conn_guard_request_done(connection);
    if (!req)
        return;
    if (req->method) {
        web_metrics_count(app->metrics,
                          req->route_status == 200 && req->match.route ? req->match.route->pattern
                                                                       : NULL,
                          req->method, req->status);
        /* The method and path come from the client; log_kv quotes them, so a method like
         * `X="level=error` cannot add fields of its own to the line. */
        char path[256];
        web_request_path(req, path, sizeof path);
        bool completed = code == MHD_REQUEST_TERMINATED_COMPLETED_OK;
        log_kv(SD_LOG_INFO, "request", "method", req->method, "path", path, "status",
               LOG_NUM(req->status), "bytes", LOG_NUM(req->bytes), "duration_ms",
               LOG_NUM(clock_monotonic_ms(app->clock) - req->started_ms),
               /* a NULL key ends the fields: "completed=false" only when it was cut short */
               completed ? NULL : "completed", "false", NULL);
    }
    web_request_free(req);
    *req_cls = NULL;
}

/* libmicrohttpd writes a line per dropped connection; the guard throttles them. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    conn_guard_log_mhd(cls, fmt, ap);
}

/* Hands the response to libmicrohttpd, notes what was sent for the access log, and frees
 * what the response still owns. */
static enum MHD_Result send_response(struct web_request *req, struct web_response *res)
{
    size_t len = res->static_body ? res->static_len : res->body.len;
    struct MHD_Response *r = web_response_to_mhd(res, req->app->script_hash);
    enum MHD_Result ok = MHD_NO;
    if (r) {
        ok = MHD_queue_response(req->connection, (unsigned)res->status, r);
        MHD_destroy_response(r);
    }
    req->status = res->status;
    req->bytes = req->head ? 0 : len;
    web_response_free(res);
    return ok;
}

/* An error page or JSON error, with one extra header when `header` is not NULL. */
static enum MHD_Result send_error_with(struct web_request *req, int status, const char *message,
                                       const char *header, const char *value)
{
    struct web_response res;
    web_response_init(&res);
    web_response_error(&res, req, status, message);
    if (header && web_response_header(&res, header, value) != 0) {
        web_response_free(&res);
        return MHD_NO;
    }
    return send_response(req, &res);
}

static enum MHD_Result send_error(struct web_request *req, int status, const char *message,
                                  const char *allow)
{
    return send_error_with(req, status, message, allow ? "Allow" : NULL, allow);
}

static enum MHD_Result dispatch(struct web_request *req)
{
    struct web_response res;
    web_response_init(&res);
    req->match.route->handler(req, &res);
    return send_response(req, &res);
}

static enum MHD_Result route_failed(struct web_request *req)
{
    char message[200];
    switch (req->route_status) {
    case 404:
        return send_error(req, 404, "There is no page at this address.", NULL);
    case 405:
        snprintf(message, sizeof message, "This address does not accept %s; it accepts %s.",
                 req->method, req->match.allow);
        return send_error(req, 405, message, req->match.allow);
    default:
        return send_error(req, req->route_status,
                          req->match.problem ? req->match.problem : "The request is malformed.",
                          NULL);
    }
}

/* The built-in table first; a test's extra routes only where it has no page at all. */
static int match_route(const struct web_app *app, struct route_match *match, const char *method,
                       const char *target)
{
    int status = router_match(match, method, target);
    if (status == 404 && app->nextra_routes > 0)
        status = router_match_table(match, app->extra_routes, app->nextra_routes, method, target);
    return status;
}

#define FORM_TYPE "application/x-www-form-urlencoded"

/* True when a Content-Type header names `media` (parameters such as charset allowed). */
static bool is_type(const char *type, const char *media)
{
    size_t n = strlen(media);
    return type && !strncasecmp(type, media, n) &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

static bool is_api(const struct web_request *req);

/* Before the body arrives: refuse what we would refuse anyway once it had been read, so a
 * client is not made to send megabytes first. Returns 0, or the status it answered with
 * (the connection then closes, since the body is never read). */
static int check_body_headers(struct web_request *req, enum MHD_Result *result)
{
    const char *type = web_request_header(req, "Content-Type");
    const char *length = web_request_header(req, "Content-Length");
    long long declared = -1;
    int status = 0;
    const char *message = NULL;
    if (length && !str_to_int64(length, &declared)) {
        status = 400;
        message = "The Content-Length header is not a number.";
    } else if (is_api(req) ? type && !is_type(type, "application/json") && declared > 0
                           : (type ? !is_type(type, FORM_TYPE) : declared > 0)) {
        status = 415;
        message = is_api(req)
                      ? "This address accepts JSON (application/json) only."
                      : "This address accepts form data (application/x-www-form-urlencoded) only.";
    } else if (declared > 0 && (unsigned long long)declared > req->app->max_form_bytes) {
        status = 413;
        message = "The form is too large to accept.";
    }
    if (status)
        *result = send_error(req, status, message, NULL);
    return status;
}

/* An upload route, before its body: refuse what is not multipart or declares more than
 * max_body_bytes, else start the streaming parser. Returns 0, or the status it answered. */
static int begin_upload(struct web_request *req, enum MHD_Result *result)
{
    struct sd_error err = SD_ERROR_INIT;
    const char *type = web_request_header(req, "Content-Type");
    const char *length = web_request_header(req, "Content-Length");
    long long declared = -1;
    char message[300];
    int status = 0;
    if (length && !str_to_int64(length, &declared)) {
        status = 400;
        snprintf(message, sizeof message, "The Content-Length header is not a number.");
    } else if (!web_multipart_is_multipart(type)) {
        status = 415;
        snprintf(message, sizeof message,
                 "This address accepts a file upload (multipart/form-data) only.");
    } else if (declared > 0 && (unsigned long long)declared > req->app->max_body_bytes) {
        status = 413;
        web_upload_too_large_message(message, sizeof message, req->app->max_body_bytes);
    } else {
        struct web_multipart_options opts = WEB_MULTIPART_OPTIONS_INIT;
        opts.dir = req->app->upload_dir;
        opts.max_body_bytes = req->app->max_body_bytes;
        req->multipart = web_multipart_new(req->connection, &opts, &status, &err);
        if (!req->multipart)
            snprintf(message, sizeof message, "%s", sd_error_message(&err));
    }
    if (status)
        *result = send_error(req, status, message, NULL);
    return status;
}

static bool is_api(const struct web_request *req)
{
    return str_has_prefix(req->target, "/api/");
}

/* The request's bearer token equals SHEETD_API_TOKEN (compared in constant time). */
static bool bearer_ok(const struct web_request *req)
{
    const char *auth = web_request_header(req, "Authorization");
    return req->app->api_token && auth && !strncasecmp(auth, "Bearer ", 7) &&
           crypto_token_equal(auth + 7, req->app->api_token);
}

/*
 * The CSRF rule for every state-changing request with a body, form or upload. The JSON API
 * is for scripts: with SHEETD_API_TOKEN set every /api/ request carries the token (checked
 * before this, api_refused), which no other site can, so no cookie check is needed; without
 * a token a script's request carries no Origin, while a browser's post from another site
 * does and is refused.
 */
static bool csrf_ok(const struct web_request *req)
{
    if (is_api(req))
        return bearer_ok(req) || (!req->app->api_token && csrf_same_origin(req));
    return csrf_verify(req);
}

/* With SHEETD_API_TOKEN set, an /api/ request without it is answered 401 at once. */
static bool api_refused(const struct web_request *req)
{
    return is_api(req) && req->app->api_token && !bearer_ok(req);
}

/* The whole body has arrived and the answer is decided: a file the handler did not take is
 * deleted now, before the client hears back (the completion callback runs only after the
 * answer went out), so nobody who got a 404 or 422 can still find the upload on disk. */
static void drop_upload(struct web_request *req)
{
    web_multipart_free(req->multipart);
    req->multipart = NULL;
    req->upload = NULL;
}

/* The upload's body is complete: the file is on disk, the text fields are the request's form
 * fields; CSRF is checked exactly as for a urlencoded form. */
static enum MHD_Result upload_complete(struct web_request *req)
{
    struct sd_error err = SD_ERROR_INIT;
    int status = 0;
    if (web_multipart_finish(req->multipart, &status, &err) != 0) {
        drop_upload(req);
        return send_error(req, status, sd_error_message(&err), NULL);
    }
    web_multipart_take_fields(req->multipart, &req->fields, &req->nfields);
    req->upload = web_multipart_upload(req->multipart);
    if (!csrf_ok(req)) {
        drop_upload(req);
        return send_error(req, 422, CSRF_MESSAGE, NULL);
    }
    struct web_response res;
    web_response_init(&res);
    req->match.route->handler(req, &res);
    drop_upload(req);
    return send_response(req, &res);
}

static enum MHD_Result body_complete(struct web_request *req)
{
    struct sd_error err = SD_ERROR_INIT;
    if (req->body_too_large)
        return send_error(req, 413, "The form is too large to accept.", NULL);
    /* An API body is the handler's to read (JSON); a form is parsed here, strictly. */
    if (!is_api(req) && web_request_parse_form(req, &err) != 0)
        return send_error(req, err.code == SD_ENOMEM ? 500 : 400, sd_error_message(&err), NULL);
    if (!csrf_ok(req))
        return send_error(req, 422, CSRF_MESSAGE, NULL);
    return dispatch(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct web_request *req = *req_cls;
    struct sd_error err = SD_ERROR_INIT;
    (void)cls;
    (void)url; /* already decoded by libmicrohttpd; we route on the raw target instead */
    if (!req)
        return MHD_NO; /* the state could not be allocated: drop the connection */
    /* First call: only the headers are here. An answer queued now makes libmicrohttpd close
     * the connection afterwards, so only a body not worth reading is refused now; every
     * other answer waits for the last call, which keeps the connection alive. */
    if (!req->started) {
        enum MHD_Result result = MHD_YES;
        const char *problem = NULL;
        req->started = true;
        req->connection = connection;
        req->method = method;
        req->head = !strcmp(method, "HEAD");
        conn_guard_header_received(connection);
        int framing = web_request_check_framing(req, version, &problem);
        if (framing < 0) /* libmicrohttpd answers this itself; never add a second head */
            return MHD_NO;
        if (framing)
            return send_error_with(req, framing, problem, "Connection", "close");
        if (csrf_prepare(req, &err) != 0)
            return send_error(req, 500, sd_error_message(&err), NULL);
        if (api_refused(req))
            return send_error_with(req, 401,
                                   "This API needs the token the server was started with "
                                   "(SHEETD_API_TOKEN), sent as Authorization: Bearer <token>.",
                                   "WWW-Authenticate", "Bearer");
        req->route_status = match_route(req->app, &req->match, method, req->target);
        if (req->route_status == 200 && req->match.route->method != WEB_METHOD_GET &&
            (req->match.route->upload ? begin_upload(req, &result)
                                      : check_body_headers(req, &result)) != 0)
            return result;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        if (req->route_status != 200 || req->match.route->method == WEB_METHOD_GET)
            return MHD_YES; /* a body nobody will read is dropped */
        if (req->multipart) {
            web_multipart_feed(req->multipart, upload_data, len);
            return MHD_YES;
        }
        if (web_request_append_body(req, upload_data, len, req->app->max_form_bytes) != 0)
            return send_error(req, 500, "The server ran out of memory; try again.", NULL);
        return MHD_YES;
    }
    if (req->route_status != 200)
        return route_failed(req);
    if (req->match.route->method == WEB_METHOD_GET)
        return dispatch(req);
    if (req->multipart)
        return upload_complete(req);
    return body_complete(req);
}

/* Splits "HOST:PORT" (or "[v6]:PORT") and resolves it; SD_EUSAGE with a sentence. */
static int resolve_listen(struct addrinfo **out, const char *listen, struct sd_error *err)
{
    const char *colon = strrchr(listen, ':');
    char host[256];
    const char *port = colon ? colon + 1 : "";
    long long port_number;
    if (!colon || !str_to_int64(port, &port_number) || port_number < 0 || port_number > 65535 ||
        *port == '+' || *port == '-')
        return sd_error_set(err, SD_EUSAGE,
                            "the listen address \"%s\" must be HOST:PORT, e.g. 127.0.0.1:8080",
                            listen);
    size_t host_len = (size_t)(colon - listen);
    const char *h = listen;
    if (host_len >= 2 && h[0] == '[' && h[host_len - 1] == ']') {
        h++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof host)
        return sd_error_set(err, SD_EUSAGE, "the listen address \"%s\" has no usable host", listen);
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, out);
    if (rc != 0)
        return sd_error_set(err, SD_EUSAGE, "cannot use the listen address \"%s\": %s", listen,
                            gai_strerror(rc));
    return 0;
}

static int start_daemon(struct web_server *server, const struct web_server_config *config,
                        struct sd_error *err)
{
    struct addrinfo *ai = NULL;
    struct conn_guard_options guard_opts = CONN_GUARD_OPTIONS_INIT;
    guard_opts.max_connections =
        config->max_connections ? config->max_connections : WEB_DEFAULT_MAX_CONNECTIONS;
    guard_opts.max_per_ip = config->max_connections_per_ip;
    guard_opts.header_timeout_ms = config->header_timeout_ms;
    int rc = conn_guard_new(&server->guard, &guard_opts, err);
    if (rc)
        return rc;
    rc = resolve_listen(&ai, config->listen, err);
    if (rc)
        return rc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    server->daemon = MHD_start_daemon(
        flags, 0, conn_guard_accept, server->guard, on_request, &server->app,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server->guard, MHD_OPTION_NOTIFY_CONNECTION,
        conn_guard_notify, server->guard, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(config->threads ? config->threads : 4),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        config->connection_memory_bytes ? config->connection_memory_bytes
                                        : (size_t)WEB_DEFAULT_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, guard_opts.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(config->connection_timeout_s ? config->connection_timeout_s : 30),
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, &server->app, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, &server->app, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!server->daemon)
        return sd_error_set(err, SD_ERROR,
                            "cannot listen on %s; is another program using that port?",
                            config->listen);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : 0;
    return 0;
}

/* The import map sits inline in every page; the CSP allows exactly this hash of it. */
static void hash_importmap(struct web_app *app)
{
    unsigned char digest[CRYPTO_SHA256_BYTES];
    char b64[CRYPTO_SHA256_BASE64_SIZE];
    const char *map = assets_importmap(app->assets);
    crypto_sha256(digest, map, strlen(map));
    crypto_base64(b64, digest, sizeof digest);
    snprintf(app->script_hash, sizeof app->script_hash, "'sha256-%s'", b64);
}

int web_server_start(struct web_server **out, const struct web_server_config *config,
                     struct sd_error *err)
{
    if (!config || config->version != WEB_SERVER_CONFIG_VERSION || !config->store ||
        !config->listen)
        return sd_error_set(err, SD_EUSAGE, "web_server_start needs a store and an address");
    struct web_server *server = calloc(1, sizeof *server);
    if (!server)
        return sd_error_nomem(err);
    struct web_app *app = &server->app;
    app->store = config->store;
    app->clock = config->clock ? config->clock : clock_system();
    app->max_body_bytes = config->max_body_bytes;
    app->max_form_bytes = config->max_form_bytes ? config->max_form_bytes : 1024 * 1024;
    app->upload_dir = config->upload_dir;
    app->jobs = config->jobs;
    app->api_token = config->api_token && *config->api_token ? config->api_token : NULL;
    app->extra_routes = config->extra_routes;
    app->nextra_routes = config->nextra_routes;
    if (app->upload_dir && mkdir(app->upload_dir, 0700) != 0 && errno != EEXIST) {
        int rc = sd_error_set(err, SD_ERROR, "cannot create the upload directory %s: %s",
                              app->upload_dir, strerror(errno));
        free(server);
        return rc;
    }
    const char *root = config->root_dir;
    if (!root || !*root)
        root = getenv("SHEETD_ROOT");
    if (!root || !*root)
        root = ".";
    char views_dir[PATH_MAX];
    snprintf(views_dir, sizeof views_dir, "%s/views", root);
    struct sse_hub_options hub_opts = SSE_HUB_OPTIONS_INIT;
    if (config->sse_keepalive_ms)
        hub_opts.keepalive_ms = config->sse_keepalive_ms;
    int rc = sse_hub_new(&app->sse_hub, &hub_opts, err);
    if (!rc)
        rc = web_metrics_new(&app->metrics, err);
    if (!rc && app->jobs)
        rc = status_feed_new(&app->status_feed, app, err);
    if (!rc)
        rc = views_load(&app->views, views_dir, err);
    if (!rc)
        rc = assets_load(&app->assets, root, err);
    if (!rc) {
        hash_importmap(app);
        rc = start_daemon(server, config, err);
    }
    if (rc) {
        web_server_stop(server);
        return rc;
    }
    *out = server;
    return 0;
}

struct sse_hub *web_server_sse_hub(struct web_server *server)
{
    return server->app.sse_hub;
}

unsigned web_server_port(const struct web_server *server)
{
    return server->port;
}

void web_server_stop(struct web_server *server)
{
    if (!server)
        return;
    /* Nothing may publish into the hub once it is being shut down. */
    status_feed_free(server->app.status_feed);
    /* libmicrohttpd must not be stopped with suspended connections: end the streams first */
    sse_hub_shutdown(server->app.sse_hub);
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    sse_hub_free(server->app.sse_hub);
    conn_guard_free(server->guard);
    web_metrics_free(server->app.metrics);
    views_free(server->app.views);
    assets_free(server->app.assets);
    free(server);
}
