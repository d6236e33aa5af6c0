/*
 * /api/v1/jobs: the jobs as JSON status documents (DESIGN.md), listed newest first with the
 * same filters as the dashboard, one by one, cancelled and retried.
 *
 *   GET  /api/v1/jobs?status=&template_id=&kind=&limit=&offset=   {"jobs": [...], "counts": {...}}
 *   GET  /api/v1/jobs/:job_id                                       the document
 *   POST /api/v1/jobs/:job_id/cancel | retry                        the document after it
 */
#include <jansson.h>
#include <string.h>

#include "base/str.h"
#include "jobs/jobs.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/job_view.h"
#include "web/request.h"
#include "web/response.h"
#include "web/status_feed.h"

#define API_JOBS_MAX_LIMIT 500

/* A whole-number query parameter within [min, max]; *ok goes false when it is malformed. */
static long long query_number(struct web_request *req, const char *name, long long fallback,
                              long long min, long long max, bool *ok)
{
    char text[24];
    long long v = fallback;
    if (web_request_query(req, name, text, sizeof text) &&
        (!str_to_int64(text, &v) || v < min || v > max))
        *ok = false;
    return v;
}

void api_jobs_index(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    char status[16] = "", kind[16] = "";
    bool ok = true;
    struct job_filter filter = {0};
    filter.limit = (size_t)query_number(req, "limit", 50, 1, API_JOBS_MAX_LIMIT, &ok);
    filter.offset = (size_t)query_number(req, "offset", 0, 0, 1000000000, &ok);
    filter.template_id = query_number(req, "template_id", 0, 1, INT64_MAX, &ok);
    web_request_query(req, "status", status, sizeof status);
    web_request_query(req, "kind", kind, sizeof kind);
    if (!ok || (status[0] && !job_view_status_known(status)) ||
        (kind[0] && strcmp(kind, "import") && strcmp(kind, "export"))) {
        web_response_error(res, req, 400,
                           "Filters: status (pending, processing, completed, failed, "
                           "cancelled), kind (import, export), template_id, limit (1-500) and "
                           "offset must be valid.");
        return;
    }
    filter.status = status[0] ? status : NULL;
    filter.kind = kind[0] ? kind : NULL;
    struct job_record *rows = NULL;
    size_t n = 0;
    int64_t counts[5];
    if (job_support_list(req, res, &filter, &rows, &n, counts) != 0)
        return;
    json_t *jobs = json_array();
    for (size_t i = 0; jobs && i < n; i++) {
        json_t *doc = job_support_api_document(req, rows[i].id);
        if (doc)
            json_array_append_new(jobs, doc);
    }
    json_t *body = json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "jobs", jobs, "counts",
                             "pending", (json_int_t)counts[0], "processing", (json_int_t)counts[1],
                             "completed", (json_int_t)counts[2], "failed", (json_int_t)counts[3],
                             "cancelled", (json_int_t)counts[4]);
    job_record_list_free(rows, n);
    if (!body) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_json(res, 200, body);
    json_decref(body);
}

static void answer_document(struct web_request *req, struct web_response *res, int status)
{
    json_t *doc = job_support_api_document(req, web_request_param(req, "job_id"));
    if (!doc) {
        web_response_error(res, req, 404,
                           "There is no such job: it never existed, or it ended long enough ago "
                           "to have been deleted.");
        return;
    }
    web_response_json(res, status, doc);
    json_decref(doc);
}

void api_jobs_show(struct web_request *req, struct web_response *res)
{
    if (job_support_ready(req, res))
        answer_document(req, res, 200);
}

void api_jobs_cancel(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    const char *outcome = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = jobs_cancel_job(req->app->jobs, web_request_param(req, "job_id"), &outcome, &err);
    if (rc)
        web_response_fail(res, req, rc, &err);
    else
        answer_document(req, res, 202);
}

void api_jobs_retry(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    struct sd_error err = SD_ERROR_INIT;
    int rc = jobs_retry_job(req->app->jobs, web_request_param(req, "job_id"), &err);
    if (rc)
        web_response_fail(res, req, rc, &err);
    else
        answer_document(req, res, 202);
}
