/*
 * The small tables of queue.db beside jobs (store/job_store.h has the jobs themselves):
 *
 *   processes   every serve/work process: registered at start, heartbeating, pruned when
 *               silent (the job layer decides when; src/jobs/process.c);
 *   cache       key → value with an expiry and a sequence number (the job status documents,
 *               src/jobs/job_status.c);
 *   broadcasts  one row per published change, read by other processes to notice it
 *               (src/jobs/broadcast.c).
 *
 * and, in the main database, job_completions: the marker an import writes in its own
 * transaction (src/jobs/import_job.c). Times are milliseconds since the Unix epoch.
 */
#ifndef SHEETD_STORE_QUEUE_TABLES_H
#define SHEETD_STORE_QUEUE_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/db.h"

/* processes */
int process_store_register(struct db *db, int64_t pid, const char *hostname, const char *kind,
                           int64_t now_ms, int64_t *id_out, struct sd_error *err);
/* SD_ENOTFOUND when the row is gone (another process pruned this one as dead). */
int process_store_heartbeat(struct db *db, int64_t id, int64_t now_ms, struct sd_error *err);
int process_store_remove(struct db *db, int64_t id, struct sd_error *err);
/* Ids of processes whose last heartbeat is older than `before_ms` (malloc'd, caller frees). */
int process_store_silent(int64_t **ids, size_t *count, struct db *db, int64_t before_ms,
                         struct sd_error *err);

/* cache. Get: SD_ENOTFOUND when missing or expired at `now_ms`; *value malloc'd. */
int cache_store_get(char **value, int64_t *seq, struct db *db, const char *key, int64_t now_ms,
                    struct sd_error *err);
int cache_store_put(struct db *db, const char *key, const char *value, int64_t expires_at_ms,
                    int64_t seq, struct sd_error *err);
/* Puts `key` and adds the broadcasts row that announces it (*seq, its id, is also the
 * entry's seq), in the caller's transaction. A failure returns its code with *seq 0 and
 * leaves the transaction usable (cache_store.c says how). */
int cache_store_publish(struct db *db, const char *key, const char *value, int64_t expires_at_ms,
                        int64_t now_ms, int64_t *seq, struct sd_error *err);
int cache_store_delete(struct db *db, const char *key, struct sd_error *err);
/* Deletes entries that expired before `now_ms`; *removed (may be NULL) counts them. */
int cache_store_sweep(struct db *db, int64_t now_ms, int64_t *removed, struct sd_error *err);

/* broadcasts. Add returns the new row's id, which is also the change's sequence number. */
int broadcast_store_add(struct db *db, const char *channel, int64_t now_ms, int64_t *id_out,
                        struct sd_error *err);
struct broadcast_row {
    int64_t id;
    char *channel;
};
/* Rows with id > after_id in id order, at most `limit`; free with broadcast_rows_free. */
int broadcast_store_since(struct broadcast_row **rows, size_t *count, struct db *db,
                          int64_t after_id, size_t limit, struct sd_error *err);
void broadcast_rows_free(struct broadcast_row *rows, size_t count);
/* The highest id so far (0 when empty): where a new reader starts. */
int broadcast_store_last_id(struct db *db, int64_t *id, struct sd_error *err);
int broadcast_store_prune(struct db *db, int64_t before_ms, struct sd_error *err);

/* job_completions (main database). Get: SD_ENOTFOUND when the job left no marker. */
int completion_store_add(struct db *db, const char *job_id, const char *document, int64_t now_ms,
                         struct sd_error *err);
int completion_store_get(char **document, struct db *db, const char *job_id, struct sd_error *err);
int completion_store_delete(struct db *db, const char *job_id, struct sd_error *err);

#endif
