/*
 * DESIGN
 * ------
 * The status feed: how job status changes reach the event streams of this web process.
 *
 * It subscribes to every job broadcast (jobs/broadcast.h), from this process or any other,
 * and for each change of "job_status:<id>" (sequence N) it notes N as the newest known for
 * that job, appends the job to a short log of recent changes, and publishes the job's topic
 * and the dashboard's (WEB_JOBS_TOPIC) into the SSE hub. It never touches the database on
 * the broadcasting thread.
 *
 * The streams then render on request threads. Ten thousand browsers may follow one job, so
 * the feed keeps, per job, the newest document it read and the turbo-stream messages it
 * rendered from it: the first stream to render change N reads and renders, the rest copy.
 * The cache holds FEED_CACHE_JOBS jobs, least recently used out first.
 */
#ifndef SHEETD_WEB_STATUS_FEED_H
#define SHEETD_WEB_STATUS_FEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/job_id.h"
#include "web/job_view.h"

#define FEED_CACHE_JOBS 256
#define FEED_LOG_SIZE 512

struct web_app;
struct status_feed;

int status_feed_new(struct status_feed **out, struct web_app *app, struct sd_error *err);
/* Unsubscribes (no publish follows) and frees; call before the hub goes. */
void status_feed_free(struct status_feed *feed);

/*
 * Appends the turbo-stream message of job `id`'s newest state for `target` and sets *seq to
 * the change it reflects and *terminal when the job has ended. SD_ENOTFOUND for an unknown
 * or pruned job.
 */
int status_feed_message(struct status_feed *feed, const char *id, enum job_view_target target,
                        struct buf *out, int64_t *seq, bool *terminal, struct sd_error *err);

/* The name of template `template_id` (malloc'd), or NULL when it cannot be read (the views
 * then say "Template <id>"). */
char *status_feed_template_name(struct web_app *app, int64_t template_id);

/* A copy of the newest document of job `id`; the caller decrefs *doc. */
int status_feed_document(struct status_feed *feed, const char *id, json_t **doc, int64_t *seq,
                         struct sd_error *err);

/*
 * The jobs that changed since *cursor (a position in the change log; start with
 * status_feed_cursor), at most `max` distinct ids into ids; *cursor moves to the end.
 * Returns how many, or -1 when changes were missed (the reader fell more than FEED_LOG_SIZE
 * behind): the reader should then reload everything.
 */
int status_feed_changes(struct status_feed *feed, uint64_t *cursor, char (*ids)[JOB_ID_LEN + 1],
                        int max);
uint64_t status_feed_cursor(struct status_feed *feed);

#endif
