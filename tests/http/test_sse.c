/*
 * Server-sent events against the real server (in-process, port 0): a test-only route
 * answers with a stream whose render callback reports a global sequence number. Raw
 * sockets read the stream (HTTP/1.0, so the body is not chunked) with bounded waits.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "store/store.h"
#include "test_support.h"
#include "web/request.h"
#include "web/response.h"
#include "web/router.h"
#include "web/server.h"
#include "web/sse.h"

static char *tmp;
static struct store *store;
static struct web_server *server;
static struct sse_hub *hub;
static unsigned port;

static _Atomic int sequence;
static _Atomic bool finish;
static _Atomic int contexts_freed;

static int render_state(const char *topic, const char *last_event_id, struct buf *out,
                        bool *finished, void *ctx)
{
    (void)ctx;
    int seq = sequence;
    long last = *last_event_id ? atol(last_event_id) : -1;
    if (seq > last) {
        char id[16], data[160];
        snprintf(id, sizeof id, "%d", seq);
        snprintf(data, sizeof data, "%s seq %d\nsecond line\r\nthird", topic, seq);
        cr_assert_eq(sse_append_event(out, id, data), 0);
    }
    *finished = finish;
    return 0;
}

static void free_ctx(void *ctx)
{
    free(ctx);
    contexts_freed++;
}

static void stream_show(struct web_request *req, struct web_response *res)
{
    int *ctx = malloc(sizeof *ctx);
    cr_assert_not_null(ctx);
    web_response_sse(res, req, web_request_param(req, "name"), render_state, ctx, free_ctx);
}

static const struct route test_routes[] = {
    {WEB_METHOD_GET, "/test/stream/:name", stream_show, false},
};

static void start(unsigned keepalive_ms)
{
    struct sd_error err = SD_ERROR_INIT;
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = store;
    wc.root_dir = test_source_dir();
    wc.threads = 2;
    wc.extra_routes = test_routes;
    wc.nextra_routes = 1;
    wc.sse_keepalive_ms = keepalive_ms;
    wc.max_connections_per_ip = 0; /* 200 streams from one address */
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
    hub = web_server_sse_hub(server);
}

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    log_set_level(SD_LOG_ERROR);
    tmp = test_make_tmpdir();
    cr_assert_not_null(tmp);
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = tmp;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    sequence = 0;
    finish = false;
    contexts_freed = 0;
    start(60000);
}

static void teardown(void)
{
    web_server_stop(server);
    store_close(store);
    test_rmtree(tmp);
    free(tmp);
}

TestSuite(sse, .init = setup, .fini = teardown, .timeout = 90);

struct client {
    int fd;
    char *data;
    size_t len;
    bool eof;
};

static void client_open(struct client *c, const char *target, const char *version,
                        const char *extra)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(c->fd, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    struct pollfd p = {c->fd, POLLOUT, 0};
    cr_assert(rc == 0 || poll(&p, 1, 5000) == 1);
    char req[512];
    snprintf(req, sizeof req, "GET %s %s\r\nHost: 127.0.0.1:%u\r\n%s\r\n", target, version, port,
             extra ? extra : "");
    cr_assert_eq(send(c->fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
}

/* Reads what is available; false at EOF. */
static void client_pump(struct client *c)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            char *p = realloc(c->data, c->len + (size_t)n + 1);
            cr_assert_not_null(p);
            memcpy(p + c->len, chunk, (size_t)n);
            c->len += (size_t)n;
            p[c->len] = '\0';
            c->data = p;
            continue;
        }
        if (n == 0)
            c->eof = true;
        return;
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until the client's data holds `needle` (or EOF when needle is NULL). */
static bool client_wait(struct client *c, const char *needle, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        client_pump(c);
        if (needle ? (c->data && strstr(c->data, needle)) : c->eof)
            return true;
        if (c->eof || mono_ms() >= until)
            return false;
        struct pollfd p = {c->fd, POLLIN, 0};
        poll(&p, 1, 20);
    }
}

static void client_close(struct client *c)
{
    close(c->fd);
    free(c->data);
}

static bool wait_open_streams(size_t want, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    while (sse_hub_open_streams(hub) != want) {
        if (mono_ms() >= until)
            return false;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

Test(sse, the_first_event_is_the_current_state_and_each_publish_sends_one_more)
{
    sequence = 3;
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.0", NULL);
    cr_assert(client_wait(&c, "\n\n", 5000) && client_wait(&c, "third\n\n", 5000), "%s",
              c.data ? c.data : "(nothing)");
    cr_assert(strstr(c.data, "Content-Type: text/event-stream\r\n"), "%s", c.data);
    cr_assert(strstr(c.data, "Cache-Control: no-cache\r\n"), "%s", c.data);
    cr_assert(strstr(c.data, "X-Accel-Buffering: no\r\n"), "%s", c.data);
    cr_assert(strstr(c.data, "X-Content-Type-Options: nosniff\r\n"), "%s", c.data);
    cr_assert(strstr(c.data, "\r\n\r\nid: 3\ndata: alpha seq 3\ndata: second line\ndata: "
                             "third\n\n"),
              "%s", c.data);
    cr_assert_eq(sse_hub_open_streams(hub), 1);
    sse_hub_publish(hub, "beta"); /* another topic: nothing comes */
    cr_assert_not(client_wait(&c, "id: 4", 300));
    for (int i = 4; i <= 6; i++) {
        sequence = i;
        sse_hub_publish(hub, "alpha");
        char want[64];
        snprintf(want, sizeof want, "id: %d\ndata: alpha seq %d\n", i, i);
        cr_assert(client_wait(&c, want, 5000), "publish %d: %s", i, c.data);
    }
    cr_assert_not(c.eof);
    client_close(&c);
}

Test(sse, last_event_id_reaches_the_render_callback)
{
    sequence = 5;
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.0", "Last-Event-ID: 5\r\n");
    cr_assert(client_wait(&c, "\r\n\r\n", 5000));
    cr_assert_not(client_wait(&c, "id: 5", 300), "the client already had event 5: %s", c.data);
    sequence = 6;
    sse_hub_publish(hub, "alpha");
    cr_assert(client_wait(&c, "id: 6\n", 5000), "%s", c.data);
    cr_assert_null(strstr(c.data, "id: 5"));
    client_close(&c);
}

Test(sse, finished_ends_the_stream_after_flushing)
{
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.0", NULL);
    cr_assert(client_wait(&c, "id: 0\n", 5000));
    sequence = 1;
    finish = true;
    sse_hub_publish(hub, "alpha");
    cr_assert(client_wait(&c, NULL, 5000), "the stream ends");
    cr_assert(strstr(c.data, "id: 1\ndata: alpha seq 1\n"), "the last event is flushed: %s",
              c.data);
    cr_assert(wait_open_streams(0, 5000));
    cr_assert_eq(contexts_freed, 1, "the handler's context is freed");
    client_close(&c);
}

Test(sse, chunked_http_1_1_streams_too)
{
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.1", NULL);
    cr_assert(client_wait(&c, "id: 0\n", 5000), "%s", c.data ? c.data : "");
    cr_assert(strstr(c.data, "Transfer-Encoding: chunked"), "%s", c.data);
    sequence = 1;
    sse_hub_publish(hub, "alpha");
    cr_assert(client_wait(&c, "id: 1\n", 5000), "%s", c.data);
    client_close(&c);
}

Test(sse, an_idle_stream_gets_a_keep_alive_comment)
{
    web_server_stop(server);
    start(150);
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.0", NULL);
    cr_assert(client_wait(&c, "id: 0\n", 5000));
    cr_assert(client_wait(&c, "\n\n: keep-alive\n\n", 3000), "%s", c.data);
    cr_assert_not(c.eof);
    client_close(&c);
}

Test(sse, a_client_that_vanishes_is_forgotten_and_publishing_to_it_is_harmless)
{
    web_server_stop(server);
    start(100);
    struct client c[3];
    for (int i = 0; i < 3; i++) {
        client_open(&c[i], "/test/stream/alpha", "HTTP/1.0", NULL);
        cr_assert(client_wait(&c[i], "id: 0\n", 5000));
    }
    cr_assert_eq(sse_hub_open_streams(hub), 3);
    /* one vanishes while suspended, one right as a publish arrives */
    client_close(&c[0]);
    for (int i = 1; i <= 50; i++) {
        sequence = i;
        sse_hub_publish(hub, "alpha");
        if (i == 25)
            client_close(&c[1]);
    }
    cr_assert(client_wait(&c[2], "id: 50\n", 5000), "the survivor still gets events");
    cr_assert(wait_open_streams(1, 5000), "the hub forgets vanished clients (%zu open)",
              sse_hub_open_streams(hub));
    cr_assert_eq(contexts_freed, 2);
    client_close(&c[2]);
    cr_assert(wait_open_streams(0, 5000));
}

Test(sse, stopping_the_server_ends_open_streams)
{
    struct client c;
    client_open(&c, "/test/stream/alpha", "HTTP/1.0", NULL);
    cr_assert(client_wait(&c, "id: 0\n", 5000));
    web_server_stop(server);
    cr_assert(client_wait(&c, NULL, 5000), "the client sees the end");
    cr_assert_eq(contexts_freed, 1);
    client_close(&c);
    start(60000); /* for the teardown */
}

Test(sse, two_hundred_streams_all_get_one_publish)
{
    enum { N = 200 };
    struct client *c = calloc(N, sizeof *c);
    for (int i = 0; i < N; i++)
        client_open(&c[i], "/test/stream/many", "HTTP/1.0", NULL);
    for (int i = 0; i < N; i++)
        cr_assert(client_wait(&c[i], "id: 0\n", 10000), "stream %d: %s", i, c[i].data);
    cr_assert_eq(sse_hub_open_streams(hub), N);
    sequence = 1;
    sse_hub_publish(hub, "many");
    for (int i = 0; i < N; i++)
        cr_assert(client_wait(&c[i], "id: 1\ndata: many seq 1\n", 10000), "stream %d", i);
    for (int i = 0; i < N; i++)
        client_close(&c[i]);
    free(c);
}

Test(sse, data_lines_never_end_an_event_early)
{
    struct buf out = BUF_INIT;
    cr_assert_eq(sse_append_event(&out, "7", "a\n\nb\r\rc\r\n"), 0);
    cr_assert_str_eq(buf_cstr(&out),
                     "id: 7\ndata: a\ndata: \ndata: b\ndata: \ndata: c\ndata: \n\n");
    buf_clear(&out);
    cr_assert_eq(sse_append_event(&out, NULL, "x"), 0);
    cr_assert_str_eq(buf_cstr(&out), "data: x\n\n");
    cr_assert_eq(sse_append_event(&out, "1\n2", "x"), SD_EINVALID);
    buf_free(&out);
}

Test(sse, a_head_request_leaves_no_stream_behind)
{
    struct client h;
    memset(&h, 0, sizeof h);
    h.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(h.fd, (struct sockaddr *)&addr, sizeof addr), 0);
    const char *req = "HEAD /test/stream/alpha HTTP/1.0\r\n\r\n";
    cr_assert_eq(send(h.fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    cr_assert(client_wait(&h, NULL, 5000), "a HEAD answer ends");
    cr_assert(strstr(h.data, "Content-Type: text/event-stream"), "%s", h.data);
    cr_assert_null(strstr(h.data, "id: "), "no body after HEAD: %s", h.data);
    client_close(&h);
    cr_assert(wait_open_streams(0, 5000), "%zu streams left", sse_hub_open_streams(hub));
    cr_assert_eq(contexts_freed, 1);
}
