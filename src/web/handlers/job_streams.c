/*
 * Live updates as server-sent events (DESIGN.md, "Job page"):
 *
 *   GET /jobs/:job_id/stream   each event is `id: <sequence>` and a turbo-stream that replaces
 *                              job_status_<id> with the partial; the first is the current
 *                              state; the stream ends after a terminal state. A client that
 *                              comes back with Last-Event-ID of the newest change gets
 *                              nothing again.
 *   GET /jobs/stream           the dashboard: a job whose progress moved gets its row
 *                              replaced; a job that changed state or is new makes the page
 *                              refresh itself (Turbo's morphing refresh keeps each browser's
 *                              own filters and page).
 *
 * The connections are suspended between events (web/sse.h) and woken by the status feed
 * (web/status_feed.h), which also renders each change once for every stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "jobs/job_status.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/request.h"
#include "web/response.h"
#include "web/sse.h"
#include "web/status_feed.h"

struct job_stream {
    struct status_feed *feed;
    char id[JOB_ID_LEN + 1];
};

static int render_job(const char *topic, const char *last_event_id, struct buf *out, bool *finished,
                      void *arg)
{
    (void)topic;
    struct job_stream *s = arg;
    struct buf message = BUF_INIT;
    int64_t seq = 0;
    bool terminal = false;
    int rc = status_feed_message(s->feed, s->id, JOB_VIEW_TARGET_PARTIAL, &message, &seq, &terminal,
                                 NULL);
    long long last = -1;
    if (rc == 0 && !(last_event_id[0] && str_to_int64(last_event_id, &last) && seq <= last)) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)seq);
        rc = sse_append_event(out, id, buf_cstr(&message));
    }
    buf_free(&message);
    *finished = rc == 0 && terminal;
    return rc;
}

void job_streams_show(struct web_request *req, struct web_response *res)
{
    json_t *doc = job_support_document(req, res);
    if (!doc)
        return;
    json_decref(doc);
    struct job_stream *s = calloc(1, sizeof *s);
    if (!s) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    s->feed = req->app->status_feed;
    snprintf(s->id, sizeof s->id, "%s", web_request_param(req, "job_id"));
    char topic[48];
    job_status_key(topic, sizeof topic, s->id);
    web_response_sse(res, req, topic, render_job, s, free);
}

/* The dashboard stream remembers the state it last told of, per job. */
#define DASHBOARD_KNOWN 64
#define DASHBOARD_BATCH 32

struct dashboard_stream {
    struct status_feed *feed;
    uint64_t cursor;
    struct {
        char id[JOB_ID_LEN + 1];
        char status[16];
    } known[DASHBOARD_KNOWN];
    unsigned next_slot;
    uint64_t events;
};

/* True when `status` is new for job `id` (remembering it). */
static bool state_changed(struct dashboard_stream *d, const char *id, const char *status)
{
    for (unsigned i = 0; i < DASHBOARD_KNOWN; i++)
        if (!strcmp(d->known[i].id, id)) {
            bool changed = strcmp(d->known[i].status, status) != 0;
            snprintf(d->known[i].status, sizeof d->known[i].status, "%.15s", status);
            return changed;
        }
    unsigned slot = d->next_slot++ % DASHBOARD_KNOWN;
    snprintf(d->known[slot].id, sizeof d->known[slot].id, "%.16s", id);
    snprintf(d->known[slot].status, sizeof d->known[slot].status, "%.15s", status);
    return true;
}

static int render_dashboard(const char *topic, const char *last_event_id, struct buf *out,
                            bool *finished, void *arg)
{
    (void)topic;
    (void)last_event_id;
    *finished = false;
    struct dashboard_stream *d = arg;
    char ids[DASHBOARD_BATCH][JOB_ID_LEN + 1];
    int n = status_feed_changes(d->feed, &d->cursor, ids, DASHBOARD_BATCH);
    bool refresh = n < 0;
    struct buf rows = BUF_INIT;
    for (int i = 0; i < n && !refresh; i++) {
        json_t *doc = NULL;
        if (status_feed_document(d->feed, ids[i], &doc, NULL, NULL) != 0)
            continue; /* pruned meanwhile */
        const char *status = json_string_value(json_object_get(doc, "status"));
        refresh = state_changed(d, ids[i], status ? status : "");
        json_decref(doc);
        int64_t seq;
        bool terminal;
        if (!refresh)
            status_feed_message(d->feed, ids[i], JOB_VIEW_TARGET_ROW, &rows, &seq, &terminal, NULL);
    }
    int rc = 0;
    if (refresh || rows.len) {
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)++d->events);
        rc = sse_append_event(out, id,
                              refresh ? "<turbo-stream action=\"refresh\" method=\"morph\" "
                                        "scroll=\"preserve\"></turbo-stream>"
                                      : buf_cstr(&rows));
    }
    buf_free(&rows);
    return rc;
}

void job_streams_index(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    struct dashboard_stream *d = calloc(1, sizeof *d);
    if (!d) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    d->feed = req->app->status_feed;
    d->cursor = status_feed_cursor(d->feed);
    web_response_sse(res, req, WEB_JOBS_TOPIC, render_dashboard, d, free);
}
