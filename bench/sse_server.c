/*
 * sse_server: the real web server with two bench-only routes, for measuring event-stream
 * fan-out without a job behind it (sse_clients is the load). Not installed.
 *
 *   sse_server LISTEN MAX_CONNECTIONS
 *
 *   GET /bench/stream/:name   an event stream of topic :name; each event carries the
 *                             current sequence number
 *   GET /bench/publish/:name  bumps the sequence number and publishes topic :name
 *
 * Prints "port=N" once listening; runs until SIGINT or SIGTERM. The store lives in a fresh
 * temporary directory, removed at exit.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "store/store.h"
#include "web/request.h"
#include "web/response.h"
#include "web/router.h"
#include "web/server.h"
#include "web/sse.h"

static _Atomic long sequence;

static int render(const char *topic, const char *last_event_id, struct buf *out, bool *finished,
                  void *ctx)
{
    (void)ctx;
    (void)finished;
    long seq = sequence;
    if (*last_event_id && atol(last_event_id) >= seq)
        return 0;
    char id[32], data[200];
    snprintf(id, sizeof id, "%ld", seq);
    snprintf(data, sizeof data, "<turbo-stream action=\"replace\" target=\"%s\">%ld</turbo-stream>",
             topic, seq);
    return sse_append_event(out, id, data);
}

static void stream_show(struct web_request *req, struct web_response *res)
{
    web_response_sse(res, req, web_request_param(req, "name"), render, NULL, NULL);
}

static void publish(struct web_request *req, struct web_response *res)
{
    sequence++;
    sse_hub_publish(req->app->sse_hub, web_request_param(req, "name"));
    buf_puts(&res->body, "published\n");
}

static const struct route routes[] = {
    {WEB_METHOD_GET, "/bench/stream/:name", stream_show, false},
    {WEB_METHOD_GET, "/bench/publish/:name", publish, false},
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sse_server LISTEN MAX_CONNECTIONS\n");
        return 2;
    }
    log_set_level(SD_LOG_WARN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    char dir[] = "/tmp/sheetd-sse-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct sd_error err = SD_ERROR_INIT;
    struct store *store = NULL;
    struct web_server *server = NULL;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = dir;
    int status = 1;
    if (store_open(&store, &sc, &err) != 0)
        goto done;
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = argv[1];
    wc.store = store;
    wc.max_connections = (unsigned)strtoul(argv[2], NULL, 10);
    wc.max_connections_per_ip = 0;
    wc.extra_routes = routes;
    wc.nextra_routes = sizeof routes / sizeof routes[0];
    if (web_server_start(&server, &wc, &err) != 0)
        goto done;
    printf("port=%u\n", web_server_port(server));
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    status = 0;
done:
    if (status)
        fprintf(stderr, "sse_server: %s\n", sd_error_message(&err));
    web_server_stop(server);
    store_close(store);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        status = 1;
    return status;
}
