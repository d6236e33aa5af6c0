/*
 * The job layer as one object, the way `serve`, `work` and the CLI use it:
 *
 *     jobs_open      the waker, the broadcaster, JobStatusService and the queue; enough to
 *                    enqueue, cancel or read jobs, and cheap: no thread, one connection each
 *     jobs_run       starts watching for other processes' changes (waker.h), registers this
 *                    process (heartbeat.h) and starts N workers (worker.h); 0 workers for a
 *                    web process that only heartbeats and prunes
 *     jobs_close     stops the workers (graceful, then interrupt), the heartbeat, the rest
 *
 * Everything is borrowed from the store, which must outlive it.
 */
#ifndef SHEETD_JOBS_JOBS_H
#define SHEETD_JOBS_JOBS_H

#include <stdint.h>

#include "base/clock.h"
#include "base/error.h"
#include "jobs/broadcast.h"
#include "jobs/job_context.h"
#include "jobs/job_status.h"
#include "jobs/queue.h"
#include "jobs/retention.h"
#include "store/store.h"

struct jobs_config {
    const char *data_dir;
    int max_attempts;
    int64_t retention_ms;
    int64_t shutdown_timeout_ms;
    int64_t heartbeat_interval_ms; /* 0: HEARTBEAT_INTERVAL_MS (tests shorten these) */
    int64_t heartbeat_silence_ms;  /* 0: HEARTBEAT_SILENCE_MS */
    int64_t backoff_base_ms;       /* 0: QUEUE_BACKOFF_BASE_MS */
    const struct sd_clock *clock;  /* NULL: the system clock */
    const struct job_kind *kinds;  /* NULL: job_kinds_default (job_context.h) */
};

/* How long running jobs get to finish when the process stops (SHEETD_SHUTDOWN_TIMEOUT). */
#define JOBS_DEFAULT_SHUTDOWN_TIMEOUT_S 30

#define JOBS_CONFIG_INIT                                                                           \
    {                                                                                              \
        .data_dir = STORE_DEFAULT_DATA_DIR, .max_attempts = 3,                                     \
        .retention_ms = RETENTION_DEFAULT_MS,                                                      \
        .shutdown_timeout_ms = JOBS_DEFAULT_SHUTDOWN_TIMEOUT_S * 1000LL                            \
    }

struct jobs;

int jobs_open(struct jobs **out, struct store *store, const struct jobs_config *config,
              struct sd_error *err);

/* Registers this process as `kind` ("serve", "work") and starts `workers` worker threads. */
int jobs_run(struct jobs *jobs, const char *kind, int workers, struct sd_error *err);

/* Stops workers (waiting up to the shutdown timeout, then interrupting), the heartbeat and
 * everything else, and frees the object. */
void jobs_close(struct jobs *jobs);

/* Cancels job `id` as queue_cancel does (its upload stays for a retry). */
int jobs_cancel_job(struct jobs *jobs, const char *id, const char **outcome, struct sd_error *err);
/* Runs a failed or cancelled job again as queue_retry does. An import whose file is gone
 * (pruned, or removed by hand) is refused with a sentence saying to upload it again. */
int jobs_retry_job(struct jobs *jobs, const char *id, struct sd_error *err);

struct queue *jobs_queue(struct jobs *jobs);
struct job_status_service *jobs_status(struct jobs *jobs);
struct broadcaster *jobs_broadcaster(struct jobs *jobs);
const char *jobs_data_dir(struct jobs *jobs);
/* Jobs running in this process right now. */
int jobs_busy(struct jobs *jobs);

#endif
