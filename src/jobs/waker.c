/* The wake-up seam (waker.h). */
#include "jobs/waker.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "store/db.h"

#define WAKER_MAX_LISTENERS 4

struct waker {
    struct store *store;
    int poll_ms;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* CLOCK_MONOTONIC */
    pthread_cond_t stop;    /* CLOCK_MONOTONIC; the watcher sleeps on this one alone, so
                             * waker_poke wakes the waiters and not the watcher too */
    uint64_t generation;
    bool stopping;
    pthread_t thread;
    bool thread_started;
    struct {
        waker_listener_fn fn;
        void *ctx;
    } listeners[WAKER_MAX_LISTENERS];
    int nlisteners;
};

static void notify_change(struct waker *w)
{
    pthread_mutex_lock(&w->lock);
    w->generation++;
    int n = w->nlisteners;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < n; i++)
        w->listeners[i].fn(w->listeners[i].ctx);
}

/* Calls the listeners without waking the workers: a look for changes that a lost
 * notification would otherwise hide (the PostgreSQL watcher's timeout). */
static void run_listeners(struct waker *w)
{
    pthread_mutex_lock(&w->lock);
    int n = w->nlisteners;
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < n; i++)
        w->listeners[i].fn(w->listeners[i].ctx);
}

/* One look for changes made by other connections: *changed says whether there were any.
 * SQLite compares data_version with the last one; PostgreSQL (first LISTENing on a
 * connection kept for it) waits up to WAKER_PG_WAIT_MS for a NOTIFY. The first look of a
 * connection counts as a change: whatever happened before it (between the start of the
 * process and the watcher's first look, or while it reconnected) was seen by nobody. */
static int look(struct db *db, bool postgres, bool *listening, int64_t *last, bool *changed,
                struct sd_error *err)
{
    *changed = false;
    if (postgres) {
        if (!*listening) {
            int rc = db_listen(db, WAKER_CHANNEL, err);
            *listening = *changed = rc == 0;
            return rc;
        }
        return db_wait_notification(db, WAKER_PG_WAIT_MS, changed, err);
    }
    int64_t version = 0;
    int rc = db_change_counter(db, &version, err);
    if (rc == 0) {
        *changed = *last < 0 || version != *last;
        *last = version;
    }
    return rc;
}

/* The watcher: one connection of its own, looked at until stop. A failed look (the database
 * busy or briefly unreachable) is logged once and retried on a fresh connection; it never
 * ends the thread. */
static void *watch(void *arg)
{
    struct waker *w = arg;
    struct db *db = NULL;
    int64_t last = -1;
    bool warned = false, listening = false, postgres = false;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        pthread_mutex_unlock(&w->lock);
        struct sd_error err = SD_ERROR_INIT;
        bool changed = false;
        int rc = 0;
        if (!db && (rc = store_acquire_queue(w->store, &db, &err)) == 0)
            postgres = !strcmp(db_backend_name(db), "postgres");
        if (rc == 0)
            rc = look(db, postgres, &listening, &last, &changed, &err);
        if (rc == 0) {
            warned = false;
            if (changed)
                notify_change(w);
            else if (postgres)
                run_listeners(w);
        } else {
            if (!warned)
                log_kv(SD_LOG_WARN, "queue watch failed", "error", sd_error_message(&err), NULL);
            warned = true;
            if (listening)
                db_unlisten_all(db);
            store_release(w->store, db);
            db = NULL;
            listening = false;
            last = -1;
        }
        pthread_mutex_lock(&w->lock);
        /* PostgreSQL waited in the look already; SQLite polls, and both back off after an
         * error. */
        struct timespec until = clock_deadline_ms(w->poll_ms);
        while (!w->stopping && (!postgres || rc) &&
               pthread_cond_timedwait(&w->stop, &w->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->lock);
    /* A pooled connection must not go on listening for someone else. */
    if (listening)
        db_unlisten_all(db);
    store_release(w->store, db);
    return NULL;
}

int waker_new(struct waker **out, struct store *store, int poll_ms, struct sd_error *err)
{
    assert(out && store);
    *out = NULL;
    struct waker *w = calloc(1, sizeof *w);
    if (!w)
        return sd_error_nomem(err);
    w->store = store;
    w->poll_ms = poll_ms > 0 ? poll_ms : WAKER_POLL_MS;
    pthread_mutex_init(&w->lock, NULL);
    clock_cond_init(&w->changed);
    clock_cond_init(&w->stop);
    *out = w;
    return 0;
}

int waker_watch(struct waker *w, struct sd_error *err)
{
    assert(w);
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    if (!w->thread_started && !w->stopping) {
        rc = pthread_create(&w->thread, NULL, watch, w);
        w->thread_started = rc == 0;
    }
    pthread_mutex_unlock(&w->lock);
    if (rc != 0)
        return sd_error_set(err, SD_ERROR, "could not start the queue watcher thread: %s",
                            strerror(rc));
    return 0;
}

void waker_free(struct waker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    bool started = w->thread_started;
    pthread_cond_broadcast(&w->changed);
    pthread_cond_broadcast(&w->stop);
    pthread_mutex_unlock(&w->lock);
    if (started)
        pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->changed);
    pthread_cond_destroy(&w->stop);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int waker_add_listener(struct waker *w, waker_listener_fn fn, void *ctx)
{
    assert(w && fn);
    pthread_mutex_lock(&w->lock);
    int rc = SD_ELIMIT;
    if (w->nlisteners < WAKER_MAX_LISTENERS) {
        w->listeners[w->nlisteners].fn = fn;
        w->listeners[w->nlisteners].ctx = ctx;
        w->nlisteners++;
        rc = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

void waker_poke(struct waker *w)
{
    pthread_mutex_lock(&w->lock);
    w->generation++;
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->lock);
}

uint64_t waker_generation(struct waker *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t g = w->generation;
    pthread_mutex_unlock(&w->lock);
    return g;
}

uint64_t waker_wait(struct waker *w, uint64_t seen, int64_t timeout_ms)
{
    pthread_mutex_lock(&w->lock);
    struct timespec until = clock_deadline_ms(timeout_ms > 0 ? timeout_ms : 0);
    while (w->generation == seen && !w->stopping &&
           pthread_cond_timedwait(&w->changed, &w->lock, &until) != ETIMEDOUT)
        ;
    uint64_t g = w->generation;
    pthread_mutex_unlock(&w->lock);
    return g;
}
