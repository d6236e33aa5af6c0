/*
 * The job views' data: a status document (DESIGN.md, "Status document") turned into what the
 * mustache views need, so the views hold no logic and every handler that shows a job (the job
 * page, the partial sent on each stream event, the polling fallback, a dashboard row) renders
 * the same words from the same document.
 *
 *     struct job_view_extra extra = JOB_VIEW_EXTRA_INIT;
 *     extra.template_name = tmpl->name;
 *     extra.queue_position = 3;            // pending jobs ahead of it + 1; 0 when unknown
 *     extra.csrf_token = req->csrf_token;  // NULL when broadcast to many browsers
 *     json_t *view;
 *     if (job_view_build(&view, status_doc, clock_now_ms(clock), &extra, &err) < 0) ...
 *     views_render(views, "shared/_job_status", view, &out, &err);   // or "jobs/_row"
 *     json_decref(view);
 *
 * The context's keys (every one always present, so a view never tests a missing key):
 *   job_id, kind, kind_label, is_import, is_export, template_id, template_name, template_url,
 *   job_url, status_url, partial_url, stream_url, cancel_url, retry_url, download_url,
 *   report_url, has_downloads;
 *   status, status_label, is_pending, is_processing, is_completed, is_failed, is_cancelled,
 *   is_terminal, can_cancel, can_retry, message;
 *   has_position, queue_position, queue_text;
 *   has_progress, has_total, processed_text, total_text, percent, rate_text, elapsed_text;
 *   has_result, imported_text, updated_text, failed_text, rows_text, any_updated, any_failed,
 *   duration_text;
 *   errors [{row, column, value, message}] (the first JOB_VIEW_MAX_ERRORS), has_errors,
 *   error_count_text, errors_truncated, errors_shown_text;
 *   worker_pid, worker_hostname, has_worker; created_at, updated_at, finished_at, age_text;
 *   csrf_field, csrf_token, has_csrf.
 */
#ifndef SHEETD_WEB_JOB_VIEW_H
#define SHEETD_WEB_JOB_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

struct views;

/* Row errors shown on a page; the rest are in the error report. */
#define JOB_VIEW_MAX_ERRORS 100

/* What the status document does not hold; all optional. */
struct job_view_extra {
    unsigned version;
    const char *template_name; /* NULL: "Template <id>" */
    int64_t queue_position;    /* a pending job's place in the queue, 1 = next; 0 = unknown */
    /* The request's token for the cancel/retry forms. NULL for a partial rendered once for
     * many browsers (a stream broadcast): the forms then carry an empty token field, which
     * the page fills in from its <meta name="csrf-token"> before submitting
     * (assets/application.js), since each browser has its own token. */
    const char *csrf_token;
};

#define JOB_VIEW_EXTRA_VERSION 1
#define JOB_VIEW_EXTRA_INIT                                                                        \
    {                                                                                              \
        JOB_VIEW_EXTRA_VERSION, NULL, 0, NULL                                                      \
    }

/*
 * Builds the context of views/shared/_job_status (and views/jobs/_row) from a status
 * document (borrowed). `now_ms` is the wall clock (elapsed time and age); `extra` may be NULL.
 * SD_EINVALID when the document is not an object, its job_id is not a job id, or its status
 * or kind is not one DESIGN.md names; missing optional keys render as nothing. The caller
 * owns *out (json_decref).
 */
int job_view_build(json_t **out, const json_t *status_doc, int64_t now_ms,
                   const struct job_view_extra *extra, struct sd_error *err);

/* What a stream message replaces: the job page's partial or the job's dashboard row. */
enum job_view_target {
    JOB_VIEW_TARGET_PARTIAL = 1, /* views/shared/_job_status, target job_status_<id> */
    JOB_VIEW_TARGET_ROW,         /* views/jobs/_row, target job_row_<id> */
};

/*
 * Appends one Turbo Stream message for a status document to `out`:
 *   <turbo-stream action="replace" target="job_status_<id>"><template>...</template></turbo-stream>
 * (DESIGN.md, "Job page"), the body of one SSE event before it is cut into `data:` lines.
 * The message goes to every browser watching, so it is rendered WITHOUT a CSRF token
 * whatever extra->csrf_token says (the page fills its own in; see job_view_extra). On
 * failure nothing is appended.
 */
int job_view_stream_message(struct buf *out, struct views *views, const json_t *status_doc,
                            int64_t now_ms, const struct job_view_extra *extra,
                            enum job_view_target target, struct sd_error *err);

/*
 * The dashboard (views/jobs/index): one page of jobs, the counts and the filters. It
 * subscribes to `/jobs/stream`, whose events are turbo-stream messages for every job:
 *   - on progress, `<turbo-stream action="replace" target="job_row_<id>"><template>` + the
 *     row (views/jobs/_row rendered with job_view_build, csrf_token NULL) + `</template>`;
 *     a job not on a viewer's page has no such element and Turbo ignores the message;
 *   - on a change of state or a new job, `<turbo-stream action="refresh" method="morph"
 *     scroll="preserve"></turbo-stream>`: each browser reloads ITS OWN /jobs URL (its filters,
 *     its page) and Turbo morphs the difference in, counts included.
 * Without a stream, controllers/jobs_dashboard_controller.js polls the page instead.
 */
struct job_view_dashboard_input {
    unsigned version;
    const json_t *jobs;      /* array of status documents, newest first (this page only) */
    const json_t *templates; /* array of {"id", "name"}: row names and the template filter */
    const json_t *counts;    /* {"pending": 3, ...}: jobs by state; a missing state is 0 */
    const char *status;      /* the state filter; NULL or "" for every state */
    int64_t template_id;     /* the template filter; 0 for every template */
    int64_t page;            /* 1-based; below 1 reads as 1 */
    bool has_more;           /* there is a next page */
    const char *csrf_token;  /* for the rows' cancel/retry forms (see job_view_extra) */
};

#define JOB_VIEW_DASHBOARD_INPUT_VERSION 1
#define JOB_VIEW_DASHBOARD_INPUT_INIT                                                              \
    {                                                                                              \
        JOB_VIEW_DASHBOARD_INPUT_VERSION, NULL, NULL, NULL, NULL, 0, 1, false, NULL                \
    }

/*
 * Builds the context of views/jobs/index: "counts" [{state, label, count_text, url, current}],
 * "total_text", "status_options" and "template_options" [{value, label, selected}], "jobs"
 * (job_view_build contexts, each with its template's name), "any_jobs", "page",
 * "has_prev"/"prev_url", "has_next"/"next_url" (keeping the filters), "filtered".
 * SD_EINVALID for an unknown state filter or a job document job_view_build refuses.
 */
int job_view_dashboard(json_t **out, const struct job_view_dashboard_input *in, int64_t now_ms,
                       struct sd_error *err);

/* True for the five states of DESIGN.md's status document. */
bool job_view_status_known(const char *status);

#endif
