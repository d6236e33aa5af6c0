/*
 * DESIGN
 * ------
 * The durable queue: the job layer's rules on top of the jobs table (store/job_store.h).
 *
 *   enqueue   a pending row plus its status document; pokes this process's workers, and
 *             other processes' watchers see the commit (waker.h)
 *   claim     atomic: two workers, in one process or in two, never get the same job
 *             (job_store_claim says how on each backend); the attempt is counted when it
 *             is claimed
 *   finish    completed / failed / cancelled, fenced by the claiming process (job_store.h)
 *   retry     only for crashes and transient errors (busy database, out of memory, full
 *             disk): back to pending after an exponential backoff with jitter,
 *             QUEUE_BACKOFF_BASE_MS * 2^(attempt-1) * [0.5, 1.5), until max_attempts; a file
 *             that fails validation is a final `failed`, never retried
 *   cancel    a pending job at once; a processing one is flagged and the worker notices at
 *             its next progress tick (queue_cancel_requested)
 *
 * Every state change writes the job's status document (job_status.h) so readers follow it,
 * in the transaction of the change. A commit costs far more than the statements in it, so
 * the queue puts several changes in one where it can: a batch enqueue, a worker's finish
 * that claims its next job (as BullMQ's moveToFinished does), and the changes that threads
 * of one process ask for at the same moment (queue.c: written as one group, and one by one
 * again when one of them fails).
 */
#ifndef SHEETD_JOBS_QUEUE_H
#define SHEETD_JOBS_QUEUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/error.h"
#include "jobs/job_status.h"
#include "jobs/waker.h"
#include "store/job_store.h"
#include "store/store.h"

#define QUEUE_BACKOFF_BASE_MS 2000

struct queue_options {
    int max_attempts;             /* claims before a crashing job fails for good */
    int64_t backoff_base_ms;      /* first retry delay (before jitter) */
    const struct sd_clock *clock; /* NULL: the system clock */
};

#define QUEUE_OPTIONS_INIT                                                                         \
    {                                                                                              \
        .max_attempts = 3, .backoff_base_ms = QUEUE_BACKOFF_BASE_MS                                \
    }

struct queue;

int queue_new(struct queue **out, struct store *store, struct waker *waker,
              struct job_status_service *status, const struct queue_options *opts,
              struct sd_error *err);
void queue_free(struct queue *q);

struct store *queue_store(struct queue *q);
struct waker *queue_waker(struct queue *q);
struct job_status_service *queue_status(struct queue *q);
const struct sd_clock *queue_clock(struct queue *q);

/* Enqueues a job of `kind` ("import", "export") for `template_id`, runnable from `run_at_ms`
 * (0: now). `payload` is borrowed. With `id` non-empty that id is used (the web layer names
 * the upload after the job before enqueueing); otherwise a fresh one is written into id. */
int queue_enqueue(struct queue *q, char id[JOB_ID_LEN + 1], const char *kind, int64_t template_id,
                  const json_t *payload, int64_t run_at_ms, struct sd_error *err);

/* One job of a batch, as queue_enqueue takes it; `payload` is borrowed. */
struct queue_new_job {
    char id[JOB_ID_LEN + 1]; /* "": a fresh one is written here */
    const char *kind;
    int64_t template_id;
    const json_t *payload;
    int64_t run_at_ms;
};

/* Enqueues `count` jobs in one transaction: all or none. */
int queue_enqueue_batch(struct queue *q, struct queue_new_job *jobs, size_t count,
                        struct sd_error *err);

/* Claims the next due job for `process_id`: 0 with *out, or SD_ENOTFOUND. */
int queue_claim(struct job_record **out, struct queue *q, int64_t process_id, struct sd_error *err);

/* Ends a claimed job. `result_part` (may be NULL) is the result part of its document
 * (result, errors, error_count, files). */
int queue_finish(struct queue *q, const struct job_record *job, const char *status,
                 const char *message, const json_t *result_part, struct sd_error *err);

/* queue_finish, and in the same transaction claims the next due job for the same process
 * into *next (NULL when none is due, or when the claim failed: that is logged, and the
 * finish still commits). */
int queue_finish_and_claim(struct queue *q, const struct job_record *job, const char *status,
                           const char *message, const json_t *result_part, struct job_record **next,
                           struct sd_error *err);

/* After a transient error: back to pending with backoff while attempts remain, else failed
 * with `message`. *retried says which. */
int queue_retry_later(struct queue *q, const struct job_record *job, const char *message,
                      bool *retried, struct sd_error *err);

/* Hands a job back without counting the attempt (the process is shutting down). */
int queue_hand_back(struct queue *q, const struct job_record *job, struct sd_error *err);

/* Cancels: *outcome is JOB_STATUS_CANCELLED (it was pending) or JOB_STATUS_PROCESSING (the
 * worker will stop it). SD_EINVALID when it has ended, SD_ENOTFOUND when unknown. */
int queue_cancel(struct queue *q, const char *id, const char **outcome, struct sd_error *err);
int queue_cancel_requested(struct queue *q, const char *id, bool *requested, struct sd_error *err);

/* Re-runs a failed or cancelled job from its first attempt. */
int queue_retry(struct queue *q, const char *id, struct sd_error *err);

int queue_get(struct job_record **out, struct queue *q, const char *id, struct sd_error *err);
int queue_list(struct job_record **out, size_t *count, struct queue *q,
               const struct job_filter *filter, struct sd_error *err);
int queue_counts(struct queue *q, const struct job_filter *filter, int64_t counts[5],
                 struct sd_error *err);
int queue_position(struct queue *q, const char *id, int64_t *position, struct sd_error *err);

/* Jobs by kind and state, run times and rows (job_store_stats), for /metrics. */
int queue_stats(struct queue *q, struct job_stats stats[2], struct sd_error *err);

/* Milliseconds until the next pending job is due (0: one is due now), or -1 when none is
 * pending. */
int queue_next_due_in(struct queue *q, int64_t *ms, struct sd_error *err);

/* The delay before retry number `attempt` (1-based) with jitter from `random_unit` in [0,1). */
int64_t queue_backoff_ms(const struct queue *q, int attempt, double random_unit);

#endif
