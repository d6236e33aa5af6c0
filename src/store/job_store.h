/*
 * The jobs table (queue.db): how a background job's row moves between states. The rules
 * of the queue (who claims, when to retry, what a crash means) are the job layer's
 * (src/jobs/queue.c); this file only runs the statements, each atomic on its own.
 *
 *     pending ──claim──▶ processing ──finish──▶ completed | failed | cancelled
 *        ▲                   │
 *        └──── release ──────┘   (a retry after a transient error, a shutdown, a crash)
 *
 * Every write that ends or hands back a processing job is fenced by the claiming process's
 * id (`WHERE status = 'processing' AND process_id = $n`): a process that was presumed dead
 * and whose job went to another one can no longer finish it, and learns so (SD_ENOTFOUND).
 *
 * Times are milliseconds since the Unix epoch; 0 stands for NULL in the record.
 */
#ifndef SHEETD_STORE_JOB_STORE_H
#define SHEETD_STORE_JOB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/job_id.h"
#include "store/db.h"

#define JOB_STATUS_PENDING "pending"
#define JOB_STATUS_PROCESSING "processing"
#define JOB_STATUS_COMPLETED "completed"
#define JOB_STATUS_FAILED "failed"
#define JOB_STATUS_CANCELLED "cancelled"

struct job_record {
    char id[JOB_ID_LEN + 1];
    char *kind;
    int64_t template_id;
    char *status;
    char *payload; /* JSON text */
    int attempts;
    int max_attempts;
    int64_t run_at;
    int64_t process_id; /* 0: not held */
    bool cancel_requested;
    char *message;  /* NULL when none */
    char *document; /* NULL when none */
    int64_t created_at, claimed_at, finished_at, updated_at;
    /* From the processes row that holds the job, when one does. */
    int64_t worker_pid;
    char *worker_hostname; /* NULL when not held */
};

void job_record_free(struct job_record *job);
void job_record_list_free(struct job_record *jobs, size_t count);

/* Inserts a pending job. `job` supplies id, kind, template_id, payload, max_attempts, run_at
 * and created_at. */
int job_store_insert(struct db *db, const struct job_record *job, struct sd_error *err);

/* Takes the pending job that is due first (run_at <= now), marks it processing for
 * `process_id` and counts the attempt. SD_ENOTFOUND when none is due. The caller owns *out. */
int job_store_claim(struct job_record **out, struct db *db, int64_t process_id, int64_t now_ms,
                    struct sd_error *err);

/* True in *due when some pending job is due at `now_ms`: a read that takes no lock, so idle
 * workers woken by any change do not queue up for the write lock to find nothing. */
int job_store_any_due(struct db *db, int64_t now_ms, bool *due, struct sd_error *err);

/* SD_ENOTFOUND when there is no such job. */
int job_store_get(struct job_record **out, struct db *db, const char *id, struct sd_error *err);

/* Ends a processing job held by `process_id` with `status` (completed, failed, cancelled)
 * and the rows it moved. `message` and `document` may be NULL. SD_ENOTFOUND when the job is
 * not held by it. */
int job_store_finish(struct db *db, const char *id, int64_t process_id, const char *status,
                     const char *message, const char *document, int64_t rows, int64_t now_ms,
                     struct sd_error *err);

/* Hands a processing job held by `process_id` back to the queue, due at `run_at`. With
 * `refund_attempt` the claim does not count (a shutdown interrupted it). */
int job_store_release(struct db *db, const char *id, int64_t process_id, int64_t run_at,
                      bool refund_attempt, const char *message, int64_t now_ms,
                      struct sd_error *err);

/* Cancels a job: a pending one at once (*outcome = JOB_STATUS_CANCELLED), a processing one by
 * setting cancel_requested (*outcome = JOB_STATUS_PROCESSING). SD_EINVALID when it has
 * already ended, SD_ENOTFOUND when it does not exist. */
int job_store_cancel(struct db *db, const char *id, int64_t now_ms, const char **outcome,
                     struct sd_error *err);

/* True in *requested when someone asked to cancel this job. */
int job_store_cancel_requested(struct db *db, const char *id, bool *requested,
                               struct sd_error *err);

/* Puts a failed or cancelled job back in the queue with its attempts reset. SD_EINVALID when
 * it is pending, processing or completed; SD_ENOTFOUND when it does not exist. */
int job_store_retry(struct db *db, const char *id, int64_t now_ms, struct sd_error *err);

struct job_filter {
    const char *status;  /* NULL: any */
    const char *kind;    /* NULL: any */
    int64_t template_id; /* 0: any */
    size_t limit;        /* 0: 50 */
    size_t offset;
};

/* Newest first. The caller frees with job_record_list_free. */
int job_store_list(struct job_record **out, size_t *count, struct db *db,
                   const struct job_filter *filter, struct sd_error *err);

/* Jobs per status for the filter's template/kind (status and paging ignored), in the order
 * pending, processing, completed, failed, cancelled. */
int job_store_count_by_status(struct db *db, const struct job_filter *filter, int64_t counts[5],
                              struct sd_error *err);

/* How many pending jobs are due before this one (0: it is next). */
int job_store_queue_position(struct db *db, const char *id, int64_t *position,
                             struct sd_error *err);

/* Recovers the processing jobs of a process that stopped, in one transaction the caller
 * opened: each goes back to pending (due now) when it has attempts left, else fails with
 * `exhausted_message`. The ids of the jobs it touched come back in *ids (malloc'd, caller
 * frees) so their status documents can follow. */
int job_store_recover(char (**ids)[JOB_ID_LEN + 1], size_t *count, struct db *db,
                      int64_t process_id, int64_t now_ms, const char *exhausted_message,
                      struct sd_error *err);

/* Deletes jobs that ended before `before_ms` and returns their ids (malloc'd, caller frees)
 * so their files can go too. At most `limit` per call. */
int job_store_prune(char (**ids)[JOB_ID_LEN + 1], size_t *count, struct db *db, int64_t before_ms,
                    size_t limit, struct sd_error *err);

/* Per kind ("import", then "export"): jobs by status (pending, processing, completed,
 * failed, cancelled), the ended ones, their summed run time (claim to end) and rows. */
struct job_stats {
    const char *kind;
    int64_t by_status[5];
    int64_t ended;
    int64_t duration_ms_sum;
    int64_t rows;
};
int job_store_stats(struct db *db, struct job_stats stats[2], struct sd_error *err);

/* The earliest run_at among pending jobs, or 0 when none is pending. */
int job_store_next_run_at(struct db *db, int64_t *run_at, struct sd_error *err);

#endif
