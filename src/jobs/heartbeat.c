/* Process registry, heartbeats, recovery of silent processes (heartbeat.h). */
#include "jobs/heartbeat.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "jobs/job_files.h"
#include "jobs/retention.h"
#include "store/queue_tables.h"

struct heartbeat {
    struct queue *queue;
    struct heartbeat_options opts;
    char hostname[256];
    atomic_int_least64_t process_id;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* CLOCK_MONOTONIC */
    bool stopping;
    pthread_t thread;
    bool started;
};

static int register_process(struct heartbeat *hb, struct sd_error *err)
{
    struct store *store = queue_store(hb->queue);
    struct db *db = NULL;
    int64_t id = 0;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = process_store_register(db, (int64_t)getpid(), hb->hostname, hb->opts.kind,
                                    clock_now_ms(queue_clock(hb->queue)), &id, err);
    store_release(store, db);
    if (rc == 0) {
        atomic_store(&hb->process_id, id);
        log_kv(SD_LOG_INFO, "process registered", "process_id", LOG_NUM(id), "pid",
               LOG_NUM(getpid()), "kind", hb->opts.kind, NULL);
    }
    return rc;
}

/* Recovers the jobs of one silent process and removes its row, in one transaction. */
static int recover_process(struct queue *queue, int64_t process_id, size_t *recovered,
                           struct sd_error *err)
{
    struct store *store = queue_store(queue);
    struct db *db = NULL;
    char(*ids)[JOB_ID_LEN + 1] = NULL;
    size_t n = 0;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = db_begin(db, err);
    if (rc == 0)
        rc = job_store_recover(&ids, &n, db, process_id, clock_now_ms(queue_clock(queue)),
                               HEARTBEAT_EXHAUSTED_MESSAGE, err);
    if (rc == 0)
        rc = process_store_remove(db, process_id, err);
    if (rc == 0)
        rc = db_commit(db, err);
    store_release(store, db);
    if (rc) {
        free(ids);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct sd_error ignored = SD_ERROR_INIT;
        struct job_record *job = NULL;
        job_status_refresh(queue_status(queue), ids[i], &ignored);
        queue_get(&job, queue, ids[i], &ignored);
        log_kv(SD_LOG_WARN, "job recovered from a silent process", "job_id", ids[i], "process_id",
               LOG_NUM(process_id), "status", job ? job->status : "unknown", NULL);
        job_record_free(job);
    }
    free(ids);
    *recovered += n;
    if (n)
        waker_poke(queue_waker(queue));
    return 0;
}

int heartbeat_prune_silent(struct queue *queue, int64_t silence_ms, size_t *recovered,
                           struct sd_error *err)
{
    *recovered = 0;
    struct store *store = queue_store(queue);
    struct db *db = NULL;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = process_store_silent(&ids, &n, db, clock_now_ms(queue_clock(queue)) - silence_ms, err);
    store_release(store, db);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        log_kv(SD_LOG_WARN, "pruning a silent process", "process_id", LOG_NUM(ids[i]), NULL);
        rc = recover_process(queue, ids[i], recovered, err);
    }
    free(ids);
    return rc;
}

static int beat(struct heartbeat *hb, struct sd_error *err)
{
    struct store *store = queue_store(hb->queue);
    struct db *db = NULL;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = process_store_heartbeat(db, atomic_load(&hb->process_id),
                                     clock_now_ms(queue_clock(hb->queue)), err);
    store_release(store, db);
    if (rc == SD_ENOTFOUND) {
        log_kv(SD_LOG_WARN, "this process was pruned as silent; registering again", "process_id",
               LOG_NUM(atomic_load(&hb->process_id)), NULL);
        rc = register_process(hb, err);
    }
    return rc;
}

static void *run(void *arg)
{
    struct heartbeat *hb = arg;
    const struct sd_clock *clock = queue_clock(hb->queue);
    int64_t next_housekeeping = 0, next_beat = 0;
    /* Silent processes are looked for more often than this one beats: a process killed
     * just after its last beat is then pruned within a second of its 30 s, not up to a
     * whole interval later. The look is one read of a small table. */
    int64_t tick = hb->opts.interval_ms < HEARTBEAT_PRUNE_CHECK_MS ? hb->opts.interval_ms
                                                                   : HEARTBEAT_PRUNE_CHECK_MS;
    pthread_mutex_lock(&hb->lock);
    while (!hb->stopping) {
        pthread_mutex_unlock(&hb->lock);
        struct sd_error err = SD_ERROR_INIT;
        size_t recovered = 0;
        int64_t now = clock_monotonic_ms(clock);
        if (now >= next_beat) {
            next_beat = now + hb->opts.interval_ms;
            if (beat(hb, &err) != 0)
                log_kv(SD_LOG_WARN, "heartbeat failed", "error", sd_error_message(&err), NULL);
        }
        if (heartbeat_prune_silent(hb->queue, hb->opts.silence_ms, &recovered, &err) != 0)
            log_kv(SD_LOG_WARN, "pruning silent processes failed", "error", sd_error_message(&err),
                   NULL);
        if (now >= next_housekeeping) {
            next_housekeeping = now + hb->opts.housekeeping_ms;
            if (retention_sweep(hb->queue, hb->opts.data_dir, hb->opts.retention_ms, NULL, &err) !=
                0)
                log_kv(SD_LOG_WARN, "retention sweep failed", "error", sd_error_message(&err),
                       NULL);
        }
        pthread_mutex_lock(&hb->lock);
        struct timespec until = clock_deadline_ms(tick);
        while (!hb->stopping && pthread_cond_timedwait(&hb->wake, &hb->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&hb->lock);
    return NULL;
}

int heartbeat_start(struct heartbeat **out, struct queue *queue,
                    const struct heartbeat_options *opts, struct sd_error *err)
{
    static const struct heartbeat_options defaults = HEARTBEAT_OPTIONS_INIT;
    assert(out && queue);
    *out = NULL;
    struct heartbeat *hb = calloc(1, sizeof *hb);
    if (!hb)
        return sd_error_nomem(err);
    hb->queue = queue;
    hb->opts = opts ? *opts : defaults;
    if (gethostname(hb->hostname, sizeof hb->hostname - 1) != 0)
        strcpy(hb->hostname, "unknown");
    pthread_mutex_init(&hb->lock, NULL);
    clock_cond_init(&hb->wake);
    int rc = register_process(hb, err);
    if (rc == 0 && (rc = pthread_create(&hb->thread, NULL, run, hb)) != 0)
        rc = sd_error_set(err, SD_ERROR, "could not start the heartbeat thread: %s", strerror(rc));
    if (rc) {
        heartbeat_stop(hb);
        return rc;
    }
    hb->started = true;
    *out = hb;
    return 0;
}

void heartbeat_stop(struct heartbeat *hb)
{
    if (!hb)
        return;
    pthread_mutex_lock(&hb->lock);
    hb->stopping = true;
    pthread_cond_broadcast(&hb->wake);
    pthread_mutex_unlock(&hb->lock);
    if (hb->started)
        pthread_join(hb->thread, NULL);
    /* Through recovery rather than a bare delete, so a job still held (the workers could
     * not hand it back) is not left processing under a process that no longer exists. */
    if (atomic_load(&hb->process_id)) {
        struct sd_error err = SD_ERROR_INIT;
        size_t recovered = 0;
        if (recover_process(hb->queue, atomic_load(&hb->process_id), &recovered, &err) != 0)
            log_kv(SD_LOG_WARN, "could not remove this process's row", "error",
                   sd_error_message(&err), NULL);
    }
    pthread_cond_destroy(&hb->wake);
    pthread_mutex_destroy(&hb->lock);
    free(hb);
}

int64_t heartbeat_process_id(struct heartbeat *hb)
{
    return atomic_load(&hb->process_id);
}
