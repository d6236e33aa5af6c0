/* Per-address connection limits and the request-header deadline (see conn_guard.h). */
#include "web/conn_guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"

#define BUCKETS 512
#define THROTTLE_KINDS 16

struct address {
    unsigned char bytes[16]; /* IPv4 as ::ffff:a.b.c.d, so both families share one key */
};

struct address_count {
    struct address addr;
    unsigned count;
    struct address_count *next;
};

struct conn_record {
    struct conn_guard *guard;
    struct address_count *counted; /* NULL when the address could not be read */
    int fd;
    int64_t since_ms; /* the header's deadline counts from here */
    bool in_header;   /* waiting for a request's header */
    bool shut;        /* the reaper already shut it down */
    struct conn_record *prev, *next;
};

struct throttle {
    const void *kind; /* a format string's address: one kind of message */
    int64_t last_ms;
    unsigned long left_out;
};

struct conn_guard {
    struct conn_guard_options opts;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
    bool reaper_started;
    bool stopping;
    struct address_count *buckets[BUCKETS];
    struct conn_record *records;
    size_t open;
    struct throttle throttles[THROTTLE_KINDS];
};

static int64_t now_ms(void)
{
    return clock_monotonic_ms(clock_system());
}

static bool address_of(struct address *out, const struct sockaddr *sa, socklen_t len)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->bytes[10] = 0xFF;
        out->bytes[11] = 0xFF;
        memcpy(out->bytes + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(out->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

static size_t bucket_of(const struct address *a)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < sizeof a->bytes; i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return h % BUCKETS;
}

/* Called with the lock held. */
static struct address_count *find(struct conn_guard *g, const struct address *a)
{
    for (struct address_count *c = g->buckets[bucket_of(a)]; c; c = c->next)
        if (!memcmp(&c->addr, a, sizeof *a))
            return c;
    return NULL;
}

/* Logs at most one line per kind per interval; the next one says how many were left out.
 * Called with the lock held; logging takes no lock of ours. */
static bool throttle_allows(struct conn_guard *g, const void *kind, unsigned long *left_out)
{
    int64_t now = now_ms();
    struct throttle *slot = NULL;
    for (size_t i = 0; i < THROTTLE_KINDS; i++) {
        if (g->throttles[i].kind == kind || !g->throttles[i].kind) {
            slot = &g->throttles[i];
            break;
        }
    }
    if (!slot)
        slot = &g->throttles[THROTTLE_KINDS - 1]; /* more kinds than slots: they share one */
    if (slot->kind == kind && now - slot->last_ms < (int64_t)g->opts.warn_interval_ms) {
        slot->left_out++;
        return false;
    }
    *left_out = slot->kind == kind ? slot->left_out : 0;
    slot->kind = kind;
    slot->last_ms = now;
    slot->left_out = 0;
    return true;
}

bool conn_guard_admits(const struct conn_guard_options *opts, unsigned total, unsigned from_address)
{
    if (opts->max_per_ip && from_address >= opts->max_per_ip)
        return false;
    unsigned share = opts->max_connections / 10 ? opts->max_connections / 10 : 1;
    if ((uint64_t)total * 5 > (uint64_t)opts->max_connections * 4 && from_address >= share)
        return false;
    return true;
}

static const char REFUSED_KIND[] = "refused";
static const char DEADLINE_KIND[] = "deadline";

enum MHD_Result conn_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct conn_guard *g = cls;
    struct address a;
    if (!address_of(&a, addr, addrlen))
        return MHD_YES;
    pthread_mutex_lock(&g->lock);
    struct address_count *c = find(g, &a);
    unsigned from = c ? c->count : 0;
    bool ok = conn_guard_admits(&g->opts, (unsigned)g->open, from);
    unsigned long left_out = 0;
    bool log = !ok && throttle_allows(g, REFUSED_KIND, &left_out);
    size_t open = g->open;
    pthread_mutex_unlock(&g->lock);
    if (log) {
        char text[INET6_ADDRSTRLEN] = "?";
        if (addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, text, sizeof text);
        else
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, text, sizeof text);
        log_kv(SD_LOG_WARN, "connection refused", "client", text, "held", LOG_NUM(from), "open",
               LOG_NUM(open), "max_per_ip", LOG_NUM(g->opts.max_per_ip), "max",
               LOG_NUM(g->opts.max_connections), "refused_since_last", LOG_NUM(left_out), NULL);
    }
    return ok ? MHD_YES : MHD_NO;
}

static void record_open(struct conn_guard *g, struct MHD_Connection *connection, void **ctx)
{
    struct conn_record *r = calloc(1, sizeof *r);
    if (!r)
        return; /* the connection then simply is not counted */
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ca =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    r->guard = g;
    r->fd = fd ? fd->connect_fd : -1;
    r->in_header = true;
    r->since_ms = now_ms();
    struct address a;
    bool known = ca && ca->client_addr &&
                 address_of(&a, ca->client_addr,
                            ca->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                   : sizeof(struct sockaddr_in));
    pthread_mutex_lock(&g->lock);
    if (known) {
        struct address_count *c = find(g, &a);
        if (!c && (c = calloc(1, sizeof *c))) {
            c->addr = a;
            size_t b = bucket_of(&a);
            c->next = g->buckets[b];
            g->buckets[b] = c;
        }
        if (c) {
            c->count++;
            r->counted = c;
        }
    }
    r->next = g->records;
    if (g->records)
        g->records->prev = r;
    g->records = r;
    g->open++;
    pthread_mutex_unlock(&g->lock);
    *ctx = r;
}

static void record_close(struct conn_guard *g, struct conn_record *r)
{
    pthread_mutex_lock(&g->lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        g->records = r->next;
    if (r->next)
        r->next->prev = r->prev;
    g->open--;
    struct address_count *c = r->counted;
    if (c && --c->count == 0) {
        struct address_count **link = &g->buckets[bucket_of(&c->addr)];
        while (*link != c)
            link = &(*link)->next;
        *link = c->next;
        free(c);
    }
    pthread_mutex_unlock(&g->lock);
    free(r);
}

void conn_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    struct conn_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        record_open(g, connection, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        record_close(g, *socket_context);
        *socket_context = NULL;
    }
}

static struct conn_record *record_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void set_in_header(struct MHD_Connection *connection, bool in_header)
{
    struct conn_record *r = record_of(connection);
    if (!r)
        return;
    pthread_mutex_lock(&r->guard->lock);
    r->in_header = in_header;
    r->since_ms = now_ms();
    pthread_mutex_unlock(&r->guard->lock);
}

void conn_guard_header_received(struct MHD_Connection *connection)
{
    set_in_header(connection, false);
}

void conn_guard_request_done(struct MHD_Connection *connection)
{
    set_in_header(connection, true);
}

/* Why a thread: libmicrohttpd's timeout restarts with every byte, so a client sending one
 * header byte every few seconds would hold its connection forever; only a clock that does
 * not restart can end it. */
static void *reaper_main(void *arg)
{
    struct conn_guard *g = arg;
    unsigned tick = g->opts.header_timeout_ms / 4;
    if (tick < 20)
        tick = 20;
    if (tick > 1000)
        tick = 1000;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until = clock_deadline_ms(tick);
        int rc = 0;
        while (!g->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&g->wake, &g->lock, &until);
        int64_t now = now_ms();
        unsigned cut = 0;
        for (struct conn_record *r = g->records; r && !g->stopping; r = r->next) {
            if (r->in_header && !r->shut && r->fd >= 0 &&
                now - r->since_ms > (int64_t)g->opts.header_timeout_ms) {
                shutdown(r->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
                r->shut = true;
                cut++;
            }
        }
        unsigned long left_out = 0;
        if (cut && throttle_allows(g, DEADLINE_KIND, &left_out))
            log_kv(SD_LOG_WARN, "slow request header", "connections_closed", LOG_NUM(cut),
                   "header_timeout_ms", LOG_NUM(g->opts.header_timeout_ms), "closed_since_last",
                   LOG_NUM(left_out), NULL);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int conn_guard_new(struct conn_guard **out, const struct conn_guard_options *opts,
                   struct sd_error *err)
{
    struct conn_guard *g = calloc(1, sizeof *g);
    if (!g)
        return sd_error_nomem(err);
    g->opts = *opts;
    if (!g->opts.max_connections)
        g->opts.max_connections = 1000;
    pthread_mutex_init(&g->lock, NULL);
    clock_cond_init(&g->wake);
    if (g->opts.header_timeout_ms) {
        if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
            conn_guard_free(g);
            return sd_error_set(err, SD_ERROR, "cannot start the connection reaper thread");
        }
        g->reaper_started = true;
    }
    *out = g;
    return 0;
}

void conn_guard_free(struct conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->lock);
    if (g->reaper_started)
        pthread_join(g->reaper, NULL);
    /* the daemon has stopped, so every record was closed; free what a failed start left */
    for (size_t b = 0; b < BUCKETS; b++) {
        while (g->buckets[b]) {
            struct address_count *next = g->buckets[b]->next;
            free(g->buckets[b]);
            g->buckets[b] = next;
        }
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

size_t conn_guard_open(struct conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->open;
    pthread_mutex_unlock(&g->lock);
    return n;
}

void conn_guard_log_mhd(struct conn_guard *g, const char *fmt, va_list ap)
{
    char text[512];
    unsigned long left_out = 0;
    pthread_mutex_lock(&g->lock);
    bool ok = throttle_allows(g, fmt, &left_out);
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        return;
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\r\n")] = '\0';
    log_kv(SD_LOG_WARN, "libmicrohttpd", "detail", text, "left_out_since_last", LOG_NUM(left_out),
           NULL);
}
