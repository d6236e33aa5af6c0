/*
 * DESIGN
 * ------
 * JobStatusService: the status document of every job (DESIGN.md, "Status document") lives in
 * the cache under "job_status:<job_id>" for 24 hours, refreshed on every write, and every
 * write is broadcast on the channel of the same name. Anyone (a web request, the CLI, a
 * process on another machine) reads the document with job_status_get.
 *
 * The jobs row stays the source of truth: it holds the state, the message and, once the job
 * ended, the result part of the document. When the cache cannot be read or written, or the
 * entry has expired, job_status_get builds the document from the row instead, so a cache
 * failure is logged and survived, never fatal.
 *
 * Progress is the one frequent write: job_status_update_progress writes at most
 * JOB_STATUS_PROGRESS_PER_SECOND times per second per job (the job keeps the throttle
 * state); job_status_flush_progress writes the last one it held back.
 *
 * Sequence numbers: each write's broadcast id is stored with the cache entry, so a reader
 * knows which change it holds (the SSE event id).
 */
#ifndef SHEETD_JOBS_JOB_STATUS_H
#define SHEETD_JOBS_JOB_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/error.h"
#include "jobs/broadcast.h"
#include "store/job_store.h"
#include "store/store.h"

#define JOB_STATUS_TTL_MS (24 * 60 * 60 * 1000LL)
#define JOB_STATUS_PROGRESS_PER_SECOND 4

struct job_status_service;

int job_status_service_new(struct job_status_service **out, struct store *store,
                           struct broadcaster *broadcaster, const struct sd_clock *clock,
                           struct sd_error *err);
void job_status_service_free(struct job_status_service *svc);

/* "job_status:<id>" into out (at least 32 bytes). */
char *job_status_key(char *out, size_t size, const char *job_id);

/*
 * The document of job `id`, from the cache or, failing that, from the jobs row. The caller
 * owns *out (json_decref). *seq (may be NULL) gets the sequence number of the change it
 * reflects (0 when built from the row). SD_ENOTFOUND when the job is unknown or pruned.
 */
int job_status_get(json_t **out, int64_t *seq, struct job_status_service *svc, const char *id,
                   struct sd_error *err);

/*
 * Builds the document of `job` as its row says: status, message, times, worker, and the
 * stored result part. `progress` (may be NULL) is added as given. The caller owns *out.
 */
int job_status_document(json_t **out, const struct job_record *job, const json_t *progress,
                        struct sd_error *err);

/* Writes `doc` as job `id`'s whole document (24 h expiry), and broadcasts it. A cache
 * failure is logged and returns 0: the row is the source of truth. */
int job_status_update(struct job_status_service *svc, const char *id, json_t *doc,
                      struct sd_error *err);

/* Re-reads job `id`'s row and writes the document it implies, in a transaction of its own:
 * for a change made outside the queue's transactions (recovery, heartbeat.c). The queue
 * writes its changes' documents with job_status_refresh_in or job_status_publish_in. */
int job_status_refresh(struct job_status_service *svc, const char *id, struct sd_error *err);

/* The same inside the caller's transaction on a queue connection `db` (the queue makes each
 * state change and its document commit together); after the commit, job_status_announce
 * tells this process's subscribers of change *seq. `row`, when the caller has just read the
 * job in this transaction, saves reading it again (NULL: read job `id`). A cache write that
 * fails is logged and leaves the transaction usable (cache_store_publish), so the change
 * still commits (0 returned); SD_ENOTFOUND when the job does not exist. */
int job_status_refresh_in(struct job_status_service *svc, struct db *db, const char *id,
                          const struct job_record *row, int64_t *seq, struct sd_error *err);

/* The two halves of job_status_refresh_in with a row in hand, for a caller that renders the
 * document before its transaction begins, so that building JSON does not hold the database's
 * write lock: the text of `row`'s document (NULL for want of memory), and writing that text
 * in the transaction (a failure is logged, as above, and leaves *seq 0). */
char *job_status_render(struct job_status_service *svc, const struct job_record *row);
void job_status_publish_in(struct job_status_service *svc, struct db *db, const char *id,
                           const char *text, int64_t *seq);
void job_status_announce(struct job_status_service *svc, const char *id, int64_t seq);

/* Per-job throttle state, kept by the running job. Zeroed = nothing written yet. */
struct job_progress {
    int64_t last_write_ms;
    bool held_back; /* a call was skipped since the last write */
    uint64_t processed, total;
    char message[160];
};

/*
 * Progress of a processing job: `message` ("Importing rows"), rows processed, total (0 when
 * unknown). Written when JOB_STATUS_PROGRESS_PER_SECOND allows, else remembered for
 * job_status_flush_progress.
 */
int job_status_update_progress(struct job_status_service *svc, const struct job_record *job,
                               struct job_progress *progress, const char *message,
                               uint64_t processed, uint64_t total, struct sd_error *err);
int job_status_flush_progress(struct job_status_service *svc, const struct job_record *job,
                              struct job_progress *progress, struct sd_error *err);

/* Deletes expired cache entries; *removed (may be NULL) counts them. */
int job_status_sweep(struct job_status_service *svc, int64_t *removed, struct sd_error *err);

/* Forgets job `id`'s cache entry (the job was pruned). */
int job_status_forget(struct job_status_service *svc, const char *id, struct sd_error *err);

#endif
