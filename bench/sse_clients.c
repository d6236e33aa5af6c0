/*
 * sse_clients: a load client for server-sent event fan-out (issue 8 §6), not part of the
 * server. It opens N connections to one event-stream URL with non-blocking sockets and one
 * epoll loop, waits until every stream has delivered its first event, then starts the
 * trigger (a shell command, or a line on stdin when none is given) and measures, per
 * connection, the time from just before the trigger to the arrival of the end of the next
 * event. Keep-alive comments (": ...") are not events.
 *
 *   sse_clients URL N [--trigger CMD | --trigger-http 'METHOD PATH' | --trigger-pipe 'W R LINE']
 *               [--timeout SECONDS] [--sources K]
 *
 * --trigger-http sends the request itself on a connection to the same server opened before
 * the streams, so the measured time holds no process start: it runs from just before the
 * request is written to each stream's event (the response is read and ignored).
 * --trigger-pipe asks a long-lived process in another process to make the change: it writes
 * LINE and a newline to the inherited descriptor W and reads one line back from the
 * descriptor R, whose last two fields are the CLOCK_MONOTONIC microseconds just before the
 * change and just after it committed (bench/job_bench.c canceller). Times then run from
 * that commit, not from the trigger, so they hold neither a process start nor the change's
 * own transaction; the output adds change_ms=, the time from before the change to its
 * commit.
 * --sources K spreads the connections over the source addresses 127.0.0.2 .. 127.0.0.(K+1)
 * (a per-address connection limit then sees N/K each). Requests are HTTP/1.0, so the body
 * is not chunked and every byte after the head is event-stream text. Output, one line:
 *
 *   clients=N connected=C first=F got=G p50_ms=.. p99_ms=.. max_ms=..
 *
 * The exit status is 0 when every client got the next event, 1 otherwise, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_BYTES 256 /* only the start of a line matters ("data:", ":") */

struct conn {
    int fd;
    bool connected;
    bool in_head;        /* before the blank line that ends the response head */
    unsigned head_match; /* how much of "\r\n\r\n" was seen */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    bool event_has_data;
    unsigned events;
    unsigned baseline;     /* events seen when the trigger started */
    size_t sent;           /* bytes of the request written */
    int64_t next_event_us; /* arrival of the event after the trigger; 0 = not yet */
    bool closed;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int usage(void)
{
    fprintf(stderr, "usage: sse_clients URL N [--trigger CMD | --trigger-http 'METHOD PATH' | "
                    "--trigger-pipe 'W R LINE'] [--timeout SECONDS] [--sources K]\n");
    return 2;
}

/* "http://HOST:PORT/PATH" -> host, port, path. */
static bool parse_url(const char *url, char *host, size_t host_size, char *port, size_t port_size,
                      const char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    *path = slash ? slash : "/";
    size_t hp_len = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = memchr(h, ':', hp_len);
    size_t host_len = colon ? (size_t)(colon - h) : hp_len;
    if (host_len == 0 || host_len >= host_size)
        return false;
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    size_t port_len = colon ? hp_len - host_len - 1 : 2;
    if (port_len == 0 || port_len >= port_size)
        return false;
    memcpy(port, colon ? colon + 1 : "80", port_len);
    port[port_len] = '\0';
    return true;
}

/* Feeds received bytes through the head skipper and the event-stream line parser; returns
 * the number of complete events (with data) they finished. */
static unsigned consume(struct conn *c, const char *p, size_t n)
{
    static const char end_of_head[] = "\r\n\r\n";
    unsigned finished = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (c->in_head) {
            c->head_match = ch == end_of_head[c->head_match] ? c->head_match + 1
                            : ch == '\r'                     ? 1
                                                             : 0;
            if (c->head_match == 4)
                c->in_head = false;
            continue;
        }
        if (ch == '\r')
            continue; /* sheetd sends LF; tolerate CRLF */
        if (ch != '\n') {
            if (c->line_len < LINE_MAX_BYTES)
                c->line[c->line_len++] = ch;
            continue;
        }
        if (c->line_len == 0) { /* blank line: the event ends */
            if (c->event_has_data)
                finished++;
            c->event_has_data = false;
        } else if (c->line_len >= 5 && !memcmp(c->line, "data:", 5)) {
            c->event_has_data = true;
        }
        c->line_len = 0;
    }
    return finished;
}

static pid_t run_trigger(const char *cmd)
{
    pid_t pid;
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return -1;
    return pid;
}

/* --trigger-pipe's answer: one line read byte by byte from `fd` (nothing of a later answer
 * is consumed), waiting up to `timeout_ms`; its last two fields are the times before the
 * change and after its commit. */
static bool read_commit_time(int fd, int timeout_ms, int64_t *before_us, int64_t *commit_us)
{
    char line[256];
    size_t len = 0;
    int64_t deadline = now_us() + (int64_t)timeout_ms * 1000;
    while (len + 1 < sizeof line) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)((deadline - now_us()) / 1000);
        if (left <= 0 || poll(&p, 1, left) != 1)
            return false;
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r != 1)
            return false;
        if (ch == '\n')
            break;
        line[len++] = ch;
    }
    line[len] = '\0';
    long long before = 0, after = 0;
    const char *last = strrchr(line, ' ');
    if (!last || last == line)
        return false;
    const char *prev = last - 1;
    while (prev > line && *prev != ' ')
        prev--;
    if (sscanf(prev, "%lld %lld", &before, &after) != 2 || strstr(line, " error "))
        return false;
    *before_us = before;
    *commit_us = after;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *url = argv[1];
    long n = strtol(argv[2], NULL, 10);
    const char *trigger = NULL, *trigger_http = NULL, *trigger_pipe = NULL;
    long timeout_s = 60, sources = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--trigger") && i + 1 < argc)
            trigger = argv[++i];
        else if (!strcmp(argv[i], "--trigger-http") && i + 1 < argc)
            trigger_http = argv[++i];
        else if (!strcmp(argv[i], "--trigger-pipe") && i + 1 < argc)
            trigger_pipe = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sources") && i + 1 < argc)
            sources = strtol(argv[++i], NULL, 10);
        else
            return usage();
    }
    char host[256], port[16];
    const char *path;
    int pipe_w = -1, pipe_r = -1, pipe_line_at = 0;
    if (trigger_pipe && (sscanf(trigger_pipe, "%d %d %n", &pipe_w, &pipe_r, &pipe_line_at) != 2 ||
                         pipe_w < 0 || pipe_r < 0 || !trigger_pipe[pipe_line_at]))
        return usage();
    if (n <= 0 || n > 1000000 || timeout_s <= 0 || sources < 0 || sources > 250 ||
        (!!trigger + !!trigger_http + !!trigger_pipe > 1) ||
        (trigger_http && !strchr(trigger_http, ' ')) ||
        !parse_url(url, host, sizeof host, port, sizeof port, &path))
        return usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n + 64 ? rl.rlim_max : (rlim_t)n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "sse_clients: cannot resolve %s:%s\n", host, port);
        return 2;
    }
    char request[1024];
    int request_len = snprintf(
        request, sizeof request,
        "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n\r\n", path, host, port);
    /* The HTTP trigger's connection is open before the streams, so connecting costs it
     * nothing at the trigger. */
    char trigger_request[1024];
    int trigger_len = 0, trigger_fd = -1;
    if (trigger_http) {
        const char *space = strchr(trigger_http, ' ');
        trigger_len = snprintf(trigger_request, sizeof trigger_request,
                               "%.*s %s HTTP/1.0\r\nHost: %s:%s\r\nContent-Length: 0\r\n\r\n",
                               (int)(space - trigger_http), trigger_http, space + 1, host, port);
        trigger_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (trigger_fd < 0 || trigger_len >= (int)sizeof trigger_request ||
            connect(trigger_fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
            setsockopt(trigger_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            fprintf(stderr, "sse_clients: cannot open the trigger connection\n");
            return 2;
        }
    }
    struct conn *conns = calloc((size_t)n, sizeof *conns);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0)
        return 2;
    for (long i = 0; i < n; i++) {
        struct conn *c = &conns[i];
        c->in_head = true;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            fprintf(stderr, "sse_clients: socket %ld: %s\n", i, strerror(errno));
            c->closed = true;
            continue;
        }
        if (sources > 0) {
            struct sockaddr_in local = {0};
            local.sin_family = AF_INET;
            local.sin_addr.s_addr = htonl(0x7F000002u + (uint32_t)(i % sources));
            bind(c->fd, (struct sockaddr *)&local, sizeof local);
        }
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            close(c->fd);
            c->closed = true;
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    freeaddrinfo(ai);

    enum { WAIT_FIRST, WAIT_NEXT } phase = WAIT_FIRST;
    long first = 0, got = 0, connected = 0, open_conns = n;
    int64_t deadline = now_us() + (int64_t)timeout_s * 1000000;
    int64_t t0 = 0;
    pid_t trigger_pid = -1;
    struct epoll_event events[256];
    char buf[16384];
    while (open_conns > 0) {
        bool first_phase_over = first + (n - open_conns) >= n || now_us() >= deadline;
        if (phase == WAIT_FIRST && first_phase_over) {
            if (first < n)
                fprintf(stderr, "sse_clients: only %ld of %ld streams sent a first event\n", first,
                        n);
            phase = WAIT_NEXT;
            deadline = now_us() + (int64_t)timeout_s * 1000000;
            if (!trigger && !trigger_http && !trigger_pipe) {
                printf("ready\n");
                fflush(stdout);
                if (!fgets(buf, sizeof buf, stdin))
                    break;
            }
            for (long i = 0; i < n; i++)
                conns[i].baseline = conns[i].events;
            t0 = now_us();
            if (trigger && (trigger_pid = run_trigger(trigger)) < 0) {
                fprintf(stderr, "sse_clients: cannot run the trigger\n");
                break;
            }
            if (trigger_http && send(trigger_fd, trigger_request, (size_t)trigger_len,
                                     MSG_NOSIGNAL) != trigger_len) {
                fprintf(stderr, "sse_clients: cannot send the trigger request\n");
                break;
            }
            if (trigger_pipe) {
                const char *line = trigger_pipe + pipe_line_at;
                size_t len = strlen(line);
                if (write(pipe_w, line, len) != (ssize_t)len || write(pipe_w, "\n", 1) != 1) {
                    fprintf(stderr, "sse_clients: cannot write to the trigger pipe\n");
                    break;
                }
            }
        }
        if (phase == WAIT_NEXT && got >= first)
            break;
        int64_t left_ms = (deadline - now_us()) / 1000;
        if (left_ms <= 0)
            break;
        int k = epoll_wait(ep, events, 256, left_ms > 200 ? 200 : (int)left_ms);
        int64_t now = now_us();
        for (int e = 0; e < k; e++) {
            struct conn *c = events[e].data.ptr;
            if (c->closed)
                continue;
            if (!c->connected && (events[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int so = 0;
                socklen_t len = sizeof so;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &len);
                if (so == 0) {
                    c->connected = true;
                    connected++;
                }
            }
            if (c->connected && c->sent < (size_t)request_len) {
                ssize_t w =
                    send(c->fd, request + c->sent, (size_t)request_len - c->sent, MSG_NOSIGNAL);
                if (w > 0)
                    c->sent += (size_t)w;
                if (c->sent == (size_t)request_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            bool gone = (events[e].events & (EPOLLERR | EPOLLHUP)) && !c->connected;
            for (;;) {
                ssize_t r = recv(c->fd, buf, sizeof buf, 0);
                if (r > 0) {
                    unsigned done = consume(c, buf, (size_t)r);
                    for (unsigned d = 0; d < done; d++) {
                        c->events++;
                        if (c->events == 1)
                            first++;
                        else if (phase == WAIT_NEXT && c->events == c->baseline + 1 &&
                                 !c->next_event_us) {
                            c->next_event_us = now;
                            got++;
                        }
                    }
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                    gone = true;
                break;
            }
            if (gone) {
                close(c->fd);
                c->closed = true;
                open_conns--;
            }
        }
    }
    if (trigger_pid > 0)
        waitpid(trigger_pid, NULL, 0);
    if (trigger_fd >= 0) {
        struct timeval limit = {.tv_sec = 5};
        setsockopt(trigger_fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        shutdown(trigger_fd, SHUT_WR);
        while (recv(trigger_fd, buf, sizeof buf, 0) > 0)
            ; /* the response: read so the server finishes its side cleanly */
        close(trigger_fd);
    }

    /* With --trigger-pipe the times run from the other process's commit. */
    int64_t from = t0, before_us = 0, commit_us = 0;
    bool commit_known = false;
    if (trigger_pipe && t0) {
        commit_known = read_commit_time(pipe_r, (int)timeout_s * 1000, &before_us, &commit_us);
        if (!commit_known)
            fprintf(stderr, "sse_clients: the trigger process sent no commit time\n");
        from = commit_us;
    }
    int64_t *lat = calloc((size_t)n, sizeof *lat);
    long m = 0;
    for (long i = 0; i < n && (!trigger_pipe || commit_known); i++)
        if (conns[i].next_event_us)
            lat[m++] = conns[i].next_event_us - from;
    qsort(lat, (size_t)m, sizeof *lat, cmp_i64);
    double p50 = m ? lat[(m - 1) / 2] / 1000.0 : 0;
    double p99 = m ? lat[(size_t)((m - 1) * 0.99)] / 1000.0 : 0;
    double max = m ? lat[m - 1] / 1000.0 : 0;
    printf("clients=%ld connected=%ld first=%ld got=%ld p50_ms=%.1f p99_ms=%.1f max_ms=%.1f", n,
           connected, first, got, p50, p99, max);
    if (commit_known)
        printf(" change_ms=%.1f", (commit_us - before_us) / 1000.0);
    printf("\n");
    for (long i = 0; i < n; i++)
        if (!conns[i].closed)
            close(conns[i].fd);
    free(lat);
    free(conns);
    close(ep);
    return got == n && (!trigger_pipe || commit_known) ? 0 : 1;
}
