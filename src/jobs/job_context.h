/*
 * What a running job gets from its worker (worker.c) and gives back: the claimed row, the
 * queue to finish it through, progress reporting, and one question asked between rows,
 * "should I stop?", which is true when someone cancelled the job or the process is shutting
 * down. The job kinds (import_job.c, export_job.c) are written against this alone.
 *
 * A job's run function returns
 *   0               it ended the job itself (job_context_finish: completed or failed for
 *                   good);
 *   SD_ECANCELLED   it stopped because job_context_should_stop said so, with nothing written;
 *   other < 0       it could not run; the worker decides: transient errors (SD_ERETRY,
 *                   SD_ENOMEM, SD_ENOSPC) are retried with backoff, the rest fail the job with
 *                   err's sentence.
 */
#ifndef SHEETD_JOBS_JOB_CONTEXT_H
#define SHEETD_JOBS_JOB_CONTEXT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "jobs/job_status.h"
#include "jobs/queue.h"
#include "store/job_store.h"

/* How often a running job looks at its row for a cancel request. */
#define JOB_CANCEL_CHECK_MS 250

/* How long a job's end (job_context_finish, job_context_retry_later) keeps being tried while
 * the database cannot take it. */
#define JOB_END_RETRY_MS 60000

struct job_context {
    struct queue *queue;
    struct job_record *job; /* the claimed row, owned by the worker */
    const char *data_dir;
    const atomic_bool *interrupt; /* set when the process stops: hand the job back */
    struct job_progress progress;
    int64_t last_cancel_check_ms;
    bool cancel_requested;
    /* Set by the worker when it wants more work: job_context_finish then claims the next
     * job in the finish's own transaction, into `next`, which the worker owns. */
    bool claim_next;
    struct job_record *next;
};

/* True when the job should stop now: cancelled (looked up at most every
 * JOB_CANCEL_CHECK_MS) or interrupted. */
bool job_context_should_stop(struct job_context *ctx);

/* The same, asking the queue whatever the time since the last look: for the last moment
 * before a job's work commits, so that a cancel answered before it is never lost. */
bool job_context_should_stop_now(struct job_context *ctx);

/* Reports progress ("Importing rows", done, total or 0); throttled by job_status. */
void job_context_progress(struct job_context *ctx, const char *message, uint64_t done,
                          uint64_t total);

/* Ends the job through the queue (fenced by its process) with `status` and the result part
 * of its document, after writing the last progress held back; claims the next job with
 * `claim_next`. An end the database cannot take yet is tried again for up to
 * JOB_END_RETRY_MS (job_context.c says when it stops). */
int job_context_finish(struct job_context *ctx, const char *status, const char *message,
                       const json_t *result_part, struct sd_error *err);

/* After a transient error, while attempts remain: back to pending with backoff
 * (queue_retry_later), tried again as job_context_finish is. */
int job_context_retry_later(struct job_context *ctx, const char *message, struct sd_error *err);

typedef int (*job_run_fn)(struct job_context *ctx, struct sd_error *err);

/* A kind of job and the function that runs it. */
struct job_kind {
    const char *name;
    job_run_fn run;
};

/* The kinds sheetd runs ("import", "export"), ending with {NULL, NULL}. */
extern const struct job_kind job_kinds_default[];

/* The two job kinds. */
int import_job_run(struct job_context *ctx, struct sd_error *err);
int export_job_run(struct job_context *ctx, struct sd_error *err);

#endif
