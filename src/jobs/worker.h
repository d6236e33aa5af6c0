/*
 * DESIGN
 * ------
 * The worker pool: N threads that claim jobs from the queue and run them, in `sheetd serve`
 * (SHEETD_WORKERS, default 2) and `sheetd work`.
 *
 * An idle worker sleeps on the waker (waker.h) until something in the queue changed or the
 * next delayed job is due; it never spins. Any change wakes every idle worker of the
 * process, each tries one claim, and the one claim that wins runs the job: the claim
 * statement is atomic, so the others simply find nothing.
 *
 * Stopping (SIGINT/SIGTERM) is two-staged: worker_pool_stop first stops claiming and gives
 * running jobs `shutdown_timeout_ms` to finish; then it raises the interrupt flag every job
 * asks through job_context_should_stop, the job rolls back and the worker hands it back to
 * the queue without counting the attempt. A process killed outright (kill -9, a second
 * signal) leaves its jobs processing; the heartbeat rule recovers them (heartbeat.h).
 */
#ifndef SHEETD_JOBS_WORKER_H
#define SHEETD_JOBS_WORKER_H

#include <stdint.h>

#include "base/error.h"
#include "jobs/heartbeat.h"
#include "jobs/job_context.h"
#include "jobs/queue.h"

struct worker_pool_options {
    int threads;                  /* 1 or more */
    const char *data_dir;         /* where job files live (job_files.h) */
    struct heartbeat *heartbeat;  /* this process's registration (heartbeat.h) */
    int64_t idle_wait_ms;         /* longest sleep without a wake-up: a safety net only */
    const struct job_kind *kinds; /* NULL: job_kinds_default (benchmarks add a no-op kind) */
};

#define WORKER_POOL_OPTIONS_INIT                                                                   \
    {                                                                                              \
        .threads = 2, .data_dir = STORE_DEFAULT_DATA_DIR, .idle_wait_ms = 5000                     \
    }

struct worker_pool;

int worker_pool_start(struct worker_pool **out, struct queue *queue,
                      const struct worker_pool_options *opts, struct sd_error *err);

/* Stops claiming, waits up to `timeout_ms` for running jobs, interrupts what is left (handed
 * back to the queue), joins the threads and frees the pool. */
void worker_pool_stop(struct worker_pool *pool, int64_t timeout_ms);

/* Jobs running right now. */
int worker_pool_busy(struct worker_pool *pool);

#endif
