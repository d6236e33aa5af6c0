/*
 * Retention: what the job layer deletes so that nothing grows without bound. Ended jobs
 * are kept `retention_ms` (SHEETD_JOB_RETENTION_DAYS, 7 days by default) and then deleted
 * with their files, status cache entries and completion markers; expired cache entries and
 * broadcasts older than a minute go too, and files in the job directories older than the
 * retention whatever their job.
 */
#ifndef SHEETD_JOBS_RETENTION_H
#define SHEETD_JOBS_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "jobs/queue.h"

#define RETENTION_BROADCAST_AGE_MS 60000
/* How long ended jobs are kept unless SHEETD_JOB_RETENTION_DAYS says otherwise. */
#define RETENTION_DEFAULT_DAYS 7
#define RETENTION_DEFAULT_MS (RETENTION_DEFAULT_DAYS * 24 * 3600 * 1000LL)

struct retention_counts {
    size_t jobs, files, cache_entries;
};

int retention_sweep(struct queue *queue, const char *data_dir, int64_t retention_ms,
                    struct retention_counts *counts, struct sd_error *err);

#endif
