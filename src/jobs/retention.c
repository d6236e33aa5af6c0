/* Deleting what has served its time (retention.h). */
#include "jobs/retention.h"

#include <stdlib.h>

#include "base/log.h"
#include "jobs/job_files.h"
#include "store/queue_tables.h"

/* Jobs deleted per statement, so one sweep never holds the write lock for long. */
#define RETENTION_BATCH 500

/* Deletes one batch of old jobs and everything that belongs to them. */
static int prune_jobs(struct queue *queue, const char *data_dir, int64_t before_ms, size_t *pruned,
                      struct sd_error *err)
{
    struct store *store = queue_store(queue);
    char(*ids)[JOB_ID_LEN + 1] = NULL;
    size_t n = 0;
    struct db *db = NULL;
    int rc = store_acquire_queue(store, &db, err);
    if (rc == 0)
        rc = job_store_prune(&ids, &n, db, before_ms, RETENTION_BATCH, err);
    store_release(store, db);
    if (rc)
        return rc;
    db = NULL;
    rc = store_acquire_main(store, &db, err);
    for (size_t i = 0; i < n; i++) {
        struct sd_error ignored = SD_ERROR_INIT;
        job_files_remove_all(store, data_dir, ids[i]);
        job_status_forget(queue_status(queue), ids[i], &ignored);
        if (rc == 0)
            completion_store_delete(db, ids[i], &ignored);
    }
    store_release(store, db);
    free(ids);
    *pruned = n;
    return rc;
}

int retention_sweep(struct queue *queue, const char *data_dir, int64_t retention_ms,
                    struct retention_counts *counts, struct sd_error *err)
{
    struct retention_counts c = {0};
    int64_t now = clock_now_ms(queue_clock(queue));
    size_t n = RETENTION_BATCH;
    int rc = 0;
    while (rc == 0 && n == RETENTION_BATCH) {
        rc = prune_jobs(queue, data_dir, now - retention_ms, &n, err);
        c.jobs += n;
    }
    int64_t removed = 0;
    if (rc == 0)
        rc = job_status_sweep(queue_status(queue), &removed, err);
    c.cache_entries = (size_t)removed;
    struct db *db = NULL;
    if (rc == 0 && (rc = store_acquire_queue(queue_store(queue), &db, err)) == 0)
        rc = broadcast_store_prune(db, now - RETENTION_BROADCAST_AGE_MS, err);
    store_release(queue_store(queue), db);
    if (rc == 0)
        rc = job_files_sweep(queue_store(queue), data_dir, (now - retention_ms) / 1000, &c.files,
                             err);
    if (counts)
        *counts = c;
    if (rc == 0 && (c.jobs || c.files))
        log_kv(SD_LOG_INFO, "retention sweep", "jobs", LOG_NUM(c.jobs), "files", LOG_NUM(c.files),
               "cache_entries", LOG_NUM(c.cache_entries), NULL);
    return rc;
}
