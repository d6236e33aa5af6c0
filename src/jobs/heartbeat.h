/*
 * DESIGN
 * ------
 * Processes and their heartbeats: every `serve` and `work` process registers a row in
 * `processes` (pid, hostname, kind, started) and a thread of its own writes a heartbeat every
 * HEARTBEAT_INTERVAL_MS. The same thread, in every live process, looks every
 * HEARTBEAT_PRUNE_CHECK_MS for processes silent for HEARTBEAT_SILENCE_MS and prunes them: in one
 * transaction their processing jobs go back to pending (the claim already counted the attempt) or,
 * with no attempts left, fail with "the worker stopped and attempts are exhausted"; then the row
 * goes. Whichever live process looks first does it; the others find nothing left.
 *
 * So a job whose process was killed outright is running again within about
 * HEARTBEAT_SILENCE_MS + HEARTBEAT_PRUNE_CHECK_MS, and a process that was only slow (paused,
 * swapped out) and was pruned finds its row gone at its next heartbeat, registers again, and
 * cannot finish the jobs it lost: their rows are fenced by process id (store/job_store.h).
 *
 * The thread also does the housekeeping nothing else owns (retention.h): once a minute it
 * sweeps expired cache entries and old broadcasts, and prunes ended jobs past the retention
 * together with their files.
 */
#ifndef SHEETD_JOBS_HEARTBEAT_H
#define SHEETD_JOBS_HEARTBEAT_H

#include <stdint.h>

#include "base/error.h"
#include "jobs/queue.h"
#include "jobs/retention.h"

#define HEARTBEAT_INTERVAL_MS 5000
#define HEARTBEAT_SILENCE_MS 30000
#define HEARTBEAT_PRUNE_CHECK_MS 1000
#define HEARTBEAT_EXHAUSTED_MESSAGE "the worker stopped and attempts are exhausted"

struct heartbeat_options {
    const char *kind; /* "serve" or "work" */
    const char *data_dir;
    int64_t interval_ms;
    int64_t silence_ms;
    int64_t retention_ms;    /* ended jobs older than this are pruned */
    int64_t housekeeping_ms; /* how often the sweeps run */
};

#define HEARTBEAT_OPTIONS_INIT                                                                     \
    {                                                                                              \
        .kind = "serve", .data_dir = STORE_DEFAULT_DATA_DIR, .interval_ms = HEARTBEAT_INTERVAL_MS, \
        .silence_ms = HEARTBEAT_SILENCE_MS, .retention_ms = RETENTION_DEFAULT_MS,                  \
        .housekeeping_ms = 60000                                                                   \
    }

struct heartbeat;

/* Registers this process and starts the heartbeat thread. */
int heartbeat_start(struct heartbeat **out, struct queue *queue,
                    const struct heartbeat_options *opts, struct sd_error *err);
/* Stops the thread and removes this process's row. */
void heartbeat_stop(struct heartbeat *hb);

/* This process's row id (it changes if the process had to register again). */
int64_t heartbeat_process_id(struct heartbeat *hb);

/* One round of pruning silent processes, as the thread does it; *recovered counts the jobs
 * it put back or failed. For tests and `sheetd jobs prune`. */
int heartbeat_prune_silent(struct queue *queue, int64_t silence_ms, size_t *recovered,
                           struct sd_error *err);

#endif
