/*
 * Slow and greedy clients (issue 9 §3) and strict request framing (§4) against the real
 * server, in-process on port 0. Slow clients connect from 127.0.0.2 (any 127/8 address is
 * local on Linux), /healthz is asked from 127.0.0.1; every loop is bounded in time.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "http_client.h"
#include "store/store.h"
#include "test_support.h"
#include "web/conn_guard.h"
#include "web/server.h"

static char *tmp;
static struct store *store;
static struct web_server *server;
static unsigned port;

static void start(unsigned max_connections, unsigned per_ip, unsigned header_timeout_ms)
{
    struct sd_error err = SD_ERROR_INIT;
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = store;
    wc.root_dir = test_source_dir();
    wc.threads = 2;
    wc.max_connections = max_connections;
    wc.max_connections_per_ip = per_ip;
    wc.header_timeout_ms = header_timeout_ms;
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
}

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    log_set_level(SD_LOG_WARN);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    tmp = test_make_tmpdir();
    cr_assert_not_null(tmp);
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = tmp;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", err.message);
}

static void teardown(void)
{
    web_server_stop(server);
    store_close(store);
    test_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}

TestSuite(conn_limits, .init = setup, .fini = teardown, .timeout = 60);

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A non-blocking connection from `from` (e.g. "127.0.0.2") that has sent `start`. */
static int slow_open(const char *from, const char *start)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in local = {0};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    cr_assert_eq(bind(fd, (struct sockaddr *)&local, sizeof local), 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (start)
        send(fd, start, strlen(start), MSG_NOSIGNAL);
    return fd;
}

/* True once the server has closed (or reset) the connection. */
static bool slow_closed(int fd)
{
    char buf[512];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
        if (n < 0)
            return false;
    }
}

static long healthz_ms(void)
{
    int64_t t0 = mono_ms();
    struct http_reply r;
    http_request(&r, port, "GET", "/healthz", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    http_reply_free(&r);
    return (long)(mono_ms() - t0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

Test(conn_limits,
     slow_clients_from_one_address_neither_starve_others_nor_outlive_the_header_deadline)
{
    enum { SLOW = 24, PER_IP = 8 };
    /* stderr to a file, to count the warnings */
    char *log_path = test_path(tmp, "stderr.log");
    int log_fd = open(log_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    int saved = dup(2);
    dup2(log_fd, 2);
    start(1000, PER_IP, 1200);
    int fds[SLOW];
    for (int i = 0; i < SLOW; i++)
        fds[i] = slow_open("127.0.0.2", "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    bool closed[SLOW] = {false};
    long worst = 0;
    int refused_early = -1;
    int64_t t0 = mono_ms();
    /* trickle one header byte per connection every 100 ms for 3 s */
    while (mono_ms() - t0 < 3000) {
        for (int i = 0; i < SLOW; i++)
            if (!closed[i]) {
                send(fds[i], "X", 1, MSG_NOSIGNAL);
                closed[i] = slow_closed(fds[i]);
            }
        if (refused_early < 0 && mono_ms() - t0 >= 500) {
            refused_early = 0;
            for (int i = 0; i < SLOW; i++)
                refused_early += closed[i];
        }
        long took = healthz_ms();
        if (took > worst)
            worst = took;
        sleep_ms(100);
    }
    int still_open = 0;
    for (int i = 0; i < SLOW; i++) {
        still_open += !slow_closed(fds[i]) && !closed[i];
        close(fds[i]);
    }
    dup2(saved, 2);
    close(saved);
    close(log_fd);
    cr_assert_lt(worst, 1000, "/healthz took %ld ms while one address trickled", worst);
    /* one more may slip in when both request threads accept at once (conn_guard.h) */
    cr_assert_geq(refused_early, SLOW - PER_IP - 1,
                  "only %d of %d over the per-address limit were "
                  "refused",
                  refused_early, SLOW - PER_IP);
    cr_assert_eq(still_open, 0, "%d trickling connections outlived the header deadline",
                 still_open);
    size_t len = 0;
    char *log = test_read_file(log_path, &len);
    int refusals = 0, deadlines = 0;
    for (const char *p = log; (p = strstr(p, "msg=\"connection refused\"")); p++)
        refusals++;
    for (const char *p = log; (p = strstr(p, "msg=\"slow request header\"")); p++)
        deadlines++;
    cr_assert_eq(refusals, 1, "refusals are logged throttled: %s", log);
    cr_assert_eq(deadlines, 1, "deadline cuts are logged throttled: %s", log);
    free(log);
    free(log_path);
}

Test(conn_limits, room_is_kept_for_other_addresses_near_the_total_limit)
{
    enum { MAX = 20 };
    start(MAX, 0, 0);
    int fds[MAX];
    for (int i = 0; i < MAX; i++)
        fds[i] = slow_open("127.0.0.2", "GET / HTTP/1.1\r\n");
    sleep_ms(300);
    int refused = 0;
    for (int i = 0; i < MAX; i++)
        refused += slow_closed(fds[i]);
    /* above 80% (16) an address holding a tenth (2) or more gets no more: 17 get in, or 18
     * when the two request threads accept at the same instant (conn_guard.h) */
    cr_assert(refused == MAX - 17 || refused == MAX - 18, "%d refused", refused);
    cr_assert_lt(healthz_ms(), 1000);
    int other = slow_open("127.0.0.3", "GET / HTTP/1.1\r\n");
    sleep_ms(200);
    cr_assert_not(slow_closed(other), "a new address still gets in");
    close(other);
    for (int i = 0; i < MAX; i++)
        close(fds[i]);
}

Test(conn_limits, the_rule)
{
    struct conn_guard_options o = CONN_GUARD_OPTIONS_INIT;
    o.max_connections = 1000;
    o.max_per_ip = 64;
    cr_assert(conn_guard_admits(&o, 0, 0));
    cr_assert(conn_guard_admits(&o, 500, 63));
    cr_assert_not(conn_guard_admits(&o, 500, 64));
    o.max_per_ip = 0;
    cr_assert(conn_guard_admits(&o, 800, 500), "at 80%% exactly nobody is refused yet");
    cr_assert_not(conn_guard_admits(&o, 801, 100));
    cr_assert(conn_guard_admits(&o, 801, 99));
    cr_assert(conn_guard_admits(&o, 999, 0));
}

/* Sends a raw request and returns what came back before the server closed (bounded). */
static char *raw(const char *request)
{
    size_t len = 0;
    return http_raw(port, request, &len);
}

/* Response heads: "HTTP/1.1 " and a status digit (a message may mention HTTP/1.1). */
static int count_heads(const char *reply)
{
    int n = 0;
    for (const char *p = reply; (p = strstr(p, "HTTP/1.1 ")); p++)
        n += p[9] >= '1' && p[9] <= '5';
    return n;
}

static void assert_refused_400(const char *request, const char *why)
{
    char *reply = raw(request);
    cr_assert(!strncmp(reply, "HTTP/1.1 400", 12), "%s: %.300s", why, reply);
    cr_assert_eq(count_heads(reply), 1, "%s: one head only: %s", why, reply);
    cr_assert(strstr(reply, "Content-Type: text/html; charset=utf-8\r\n"), "%s: %s", why, reply);
    cr_assert(strstr(reply, "X-Content-Type-Options: nosniff\r\n"), "%s", why);
    cr_assert(strstr(reply, "X-Frame-Options: DENY\r\n"), "%s", why);
    cr_assert(strstr(reply, "Content-Security-Policy: default-src 'self'"), "%s", why);
    cr_assert(strstr(reply, "Connection: close\r\n"), "%s: %s", why, reply);
    free(reply);
}

Test(conn_limits, ambiguous_framing_is_refused)
{
    start(1000, 64, 20000);
    assert_refused_400("POST /import_templates HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                       "Content-Length: 5\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       "\r\na=bcd",
                       "two Content-Length values");
    assert_refused_400(
        "POST /import_templates HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n3\r\na=b\r\n0\r\n\r\n",
        "Content-Length with Transfer-Encoding");
    assert_refused_400("POST /import_templates HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n\r\n",
                       "a Transfer-Encoding other than chunked");
    assert_refused_400("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", "a bare CR");
    assert_refused_400("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", "no Host");
    char *reply = raw("GET /healthz HTTP/1.0\r\n\r\n");
    cr_assert(!strncmp(reply, "HTTP/1.1 200", 12), "HTTP/1.0 needs no Host: %.200s", reply);
    free(reply);
}

/*
 * libmicrohttpd 0.9.75 answers a Content-Length that is not a number itself, before any
 * callback of ours runs, and writes its head twice (its header parser queues the 400, then
 * its state machine builds the head again). No application hook exists in between, so
 * this only checks what we can: a 400, the connection closed, the server unharmed.
 */
Test(conn_limits, an_invalid_content_length_is_refused_and_the_connection_closed)
{
    start(1000, 64, 20000);
    const char *requests[] = {
        ("POST /import_templates HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
         "Content-Type: application/x-www-form-urlencoded\r\n\r\n"),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        char *reply = raw(requests[i]); /* returns only once the server closed */
        cr_assert(!strncmp(reply, "HTTP/1.1 400", 12), "request %zu: %s", i, reply);
        free(reply);
    }
    cr_assert_lt(healthz_ms(), 1000, "the server is fine afterwards");
}

Test(conn_limits, the_per_address_limit_comes_from_the_environment)
{
    struct cli_config config;
    unsetenv("SHEETD_MAX_CONNECTIONS_PER_IP");
    cr_assert_eq(cli_config_from_env(&config), 0);
    cr_assert_eq(config.max_connections_per_ip, WEB_DEFAULT_MAX_CONNECTIONS_PER_IP);
    setenv("SHEETD_MAX_CONNECTIONS_PER_IP", "0", 1);
    cr_assert_eq(cli_config_from_env(&config), 0);
    cr_assert_eq(config.max_connections_per_ip, 0, "0 means no limit");
    setenv("SHEETD_MAX_CONNECTIONS_PER_IP", "20000", 1);
    cr_assert_eq(cli_config_from_env(&config), 0);
    cr_assert_eq(config.max_connections_per_ip, 20000);
    setenv("SHEETD_MAX_CONNECTIONS_PER_IP", "lots", 1);
    cr_assert_eq(cli_config_from_env(&config), CLI_EXIT_USAGE);
    setenv("SHEETD_MAX_CONNECTIONS_PER_IP", "-1", 1);
    cr_assert_eq(cli_config_from_env(&config), CLI_EXIT_USAGE);
    unsetenv("SHEETD_MAX_CONNECTIONS_PER_IP");
}

Test(conn_limits, the_total_limit_comes_from_the_environment)
{
    struct cli_config config;
    unsetenv("SHEETD_MAX_CONNECTIONS");
    cr_assert_eq(cli_config_from_env(&config), 0);
    cr_assert_eq(config.max_connections, WEB_DEFAULT_MAX_CONNECTIONS);
    setenv("SHEETD_MAX_CONNECTIONS", "20000", 1);
    cr_assert_eq(cli_config_from_env(&config), 0);
    cr_assert_eq(config.max_connections, 20000);
    const char *refused[] = {"0", "-5", "lots", "20k", "1000001"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setenv("SHEETD_MAX_CONNECTIONS", refused[i], 1);
        cr_assert_eq(cli_config_from_env(&config), CLI_EXIT_USAGE, "\"%s\" is refused", refused[i]);
    }
    unsetenv("SHEETD_MAX_CONNECTIONS");
}
