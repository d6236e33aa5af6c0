/* Broadcasts across threads and processes (broadcast.h). */
#include "jobs/broadcast.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/queue_tables.h"

/* Rows the reader takes per query; more are read in the next round at once. */
#define BROADCAST_READ_BATCH 512
/* The reader looks this far below the newest id it has seen, and remembers this many ids it
 * delivered. On PostgreSQL ids come from a sequence, and a transaction that took a lower id
 * can commit after one that took a higher id; looking back catches it, remembering keeps
 * every change from being told twice. */
#define BROADCAST_LOOKBACK 64
#define BROADCAST_RECENT 256

struct broadcast_subscription {
    struct broadcaster *owner;
    char channel[BROADCAST_CHANNEL_MAX]; /* "" for every channel */
    broadcast_fn fn;
    void *ctx;
    struct broadcast_subscription *next;
};

struct broadcaster {
    struct store *store;
    struct waker *waker; /* watched from the first subscription on */
    const struct sd_clock *clock;
    /* Held while callbacks run, so unsubscribe cannot return while its callback runs. */
    pthread_mutex_t lock;
    struct broadcast_subscription *subs;
    size_t nsubs;
    /* The reader's position; only the watcher thread reads and writes it. */
    int64_t last_id;
    bool warned;
    /* Ids delivered lately (a ring, under `lock`), by the reader or at once by publishers. */
    int64_t recent[BROADCAST_RECENT];
    size_t recent_next;
};

/* True when `seq` was delivered lately; else remembers it. Under b->lock. */
static bool delivered_before(struct broadcaster *b, int64_t seq)
{
    for (size_t i = 0; i < BROADCAST_RECENT; i++)
        if (b->recent[i] == seq)
            return true;
    b->recent[b->recent_next++ % BROADCAST_RECENT] = seq;
    return false;
}

void broadcast_deliver(struct broadcaster *b, const char *channel, int64_t seq)
{
    pthread_mutex_lock(&b->lock);
    if (delivered_before(b, seq)) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    for (struct broadcast_subscription *s = b->subs; s; s = s->next)
        if (!s->channel[0] || !strcmp(s->channel, channel))
            s->fn(channel, seq, s->ctx);
    pthread_mutex_unlock(&b->lock);
}

/* The waker's listener: delivers what other connections recorded since the last look. A
 * failure is logged once and retried at the next change; the position only moves past rows
 * that were delivered. */
static void read_new(void *ctx)
{
    struct broadcaster *b = ctx;
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = store_acquire_queue(b->store, &db, &err);
    for (size_t n = BROADCAST_READ_BATCH; rc == 0 && n == BROADCAST_READ_BATCH;) {
        struct broadcast_row *rows = NULL;
        int64_t from = b->last_id > BROADCAST_LOOKBACK ? b->last_id - BROADCAST_LOOKBACK : 0;
        rc = broadcast_store_since(&rows, &n, db, from, BROADCAST_READ_BATCH, &err);
        if (rc)
            break;
        for (size_t i = 0; i < n; i++) {
            broadcast_deliver(b, rows[i].channel, rows[i].id);
            if (rows[i].id > b->last_id)
                b->last_id = rows[i].id;
        }
        broadcast_rows_free(rows, n);
    }
    store_release(b->store, db);
    if (rc && !b->warned)
        log_kv(SD_LOG_WARN, "reading broadcasts failed", "error", sd_error_message(&err), NULL);
    b->warned = rc != 0;
}

int broadcaster_new(struct broadcaster **out, struct store *store, struct waker *waker,
                    const struct sd_clock *clock, struct sd_error *err)
{
    assert(out && store && waker);
    *out = NULL;
    struct broadcaster *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    b->store = store;
    b->waker = waker;
    b->clock = clock ? clock : clock_system();
    pthread_mutex_init(&b->lock, NULL);
    struct db *db = NULL;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = broadcast_store_last_id(db, &b->last_id, err);
    store_release(store, db);
    if (rc == 0 && waker_add_listener(waker, read_new, b) != 0)
        rc = sd_error_set(err, SD_ELIMIT, "too many queue listeners");
    if (rc) {
        pthread_mutex_destroy(&b->lock);
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void broadcaster_free(struct broadcaster *b)
{
    if (!b)
        return;
    if (b->subs)
        log_kv(SD_LOG_WARN, "broadcaster freed with subscribers left", "count", LOG_NUM(b->nsubs),
               NULL);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

int broadcast_subscribe(struct broadcast_subscription **out, struct broadcaster *b,
                        const char *channel, broadcast_fn fn, void *ctx, struct sd_error *err)
{
    assert(out && b && fn);
    *out = NULL;
    if (channel && strlen(channel) >= BROADCAST_CHANNEL_MAX)
        return sd_error_set(err, SD_EUSAGE, "channel name too long");
    /* Other processes' broadcasts arrive through the waker's watcher. */
    int rc = waker_watch(b->waker, err);
    if (rc)
        return rc;
    struct broadcast_subscription *s = calloc(1, sizeof *s);
    if (!s)
        return sd_error_nomem(err);
    s->owner = b;
    snprintf(s->channel, sizeof s->channel, "%s", channel ? channel : "");
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_lock(&b->lock);
    s->next = b->subs;
    b->subs = s;
    b->nsubs++;
    pthread_mutex_unlock(&b->lock);
    *out = s;
    return 0;
}

void broadcast_unsubscribe(struct broadcast_subscription *sub)
{
    if (!sub)
        return;
    struct broadcaster *b = sub->owner;
    pthread_mutex_lock(&b->lock);
    for (struct broadcast_subscription **p = &b->subs; *p; p = &(*p)->next)
        if (*p == sub) {
            *p = sub->next;
            b->nsubs--;
            break;
        }
    pthread_mutex_unlock(&b->lock);
    free(sub);
}

size_t broadcast_subscribers(struct broadcaster *b)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->nsubs;
    pthread_mutex_unlock(&b->lock);
    return n;
}

int broadcast_prune(struct broadcaster *b, int64_t age_ms, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(b->store, &db, err);
    if (rc == 0)
        rc = broadcast_store_prune(db, clock_now_ms(b->clock) - age_ms, err);
    store_release(b->store, db);
    return rc;
}
