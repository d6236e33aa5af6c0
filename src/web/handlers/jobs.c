/*
 * Background jobs in the browser: the job page (the shared status partial plus its live
 * stream), the partial alone for the polling fallback, the status document as JSON, cancel
 * and retry, the files a job made, and the dashboard of every job. The job layer does the
 * work (jobs/jobs.h); this file turns documents into pages and outcomes into statuses.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/job_files.h"
#include "jobs/jobs.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/job_view.h"
#include "web/request.h"
#include "web/response.h"
#include "web/status_feed.h"
#include "web/views.h"

#define DASHBOARD_PAGE_SIZE 25

/* The context of the job's partial for this request (its own CSRF token). */
static int job_view_for(json_t **view, struct web_request *req, const json_t *doc,
                        struct sd_error *err)
{
    struct job_view_extra extra = JOB_VIEW_EXTRA_INIT;
    int64_t position = 0;
    const char *id = json_string_value(json_object_get(doc, "job_id"));
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (id && status && !strcmp(status, "pending") &&
        queue_position(jobs_queue(req->app->jobs), id, &position, NULL) == 0)
        extra.queue_position = position + 1;
    char *name = status_feed_template_name(req->app,
                                           json_integer_value(json_object_get(doc, "template_id")));
    extra.template_name = name;
    extra.csrf_token = req->csrf_token;
    int rc = job_view_build(view, doc, clock_now_ms(req->app->clock), &extra, err);
    free(name);
    return rc;
}

void jobs_show(struct web_request *req, struct web_response *res)
{
    json_t *doc = job_support_document(req, res);
    if (!doc)
        return;
    if (json_integer_value(json_object_get(doc, "template_id")) !=
        web_request_id_param(req, "tid")) {
        json_decref(doc);
        web_response_error(res, req, 404, "This template has no such job.");
        return;
    }
    json_t *view = NULL;
    struct sd_error err = SD_ERROR_INIT;
    if (job_view_for(&view, req, doc, &err) != 0)
        web_response_fail(res, req, SD_ERROR, &err);
    else
        web_response_page(res, req, 200, "job_status/show", "Job", view);
    json_decref(view);
    json_decref(doc);
}

/* Always JSON, also when the job is unknown: its callers are scripts and the polling
 * fallback, whatever their Accept header says. */
void jobs_status_json(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    json_t *doc = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = status_feed_document(req->app->status_feed, web_request_param(req, "job_id"), &doc,
                                  NULL, &err);
    if (rc == 0) {
        web_response_json(res, 200, doc);
        web_response_header(res, "Cache-Control", "no-cache");
    } else {
        json_t *body = json_pack("{s:s}", "error",
                                 rc == SD_ENOTFOUND ? "There is no such job: it never existed, or "
                                                      "it ended long enough ago to have been "
                                                      "deleted."
                                                    : sd_error_message(&err));
        web_response_json(res, rc == SD_ENOTFOUND ? 404 : 500, body);
        json_decref(body);
    }
    json_decref(doc);
}

/* The partial alone, for the page's polling fallback (controllers/live_stream.js). */
void jobs_partial(struct web_request *req, struct web_response *res)
{
    json_t *doc = job_support_document(req, res);
    if (!doc)
        return;
    json_t *view = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = job_view_for(&view, req, doc, &err);
    if (rc == 0)
        rc = views_render(req->app->views, "shared/_job_status", view, &res->body, &err);
    if (rc) {
        web_response_fail(res, req, SD_ERROR, &err);
    } else {
        res->status = 200;
        res->content_type = "text/html; charset=utf-8";
        web_response_header(res, "Cache-Control", "no-cache");
    }
    json_decref(view);
    json_decref(doc);
}

/* Back to the job's page after a button on it (or on the dashboard) was pressed. */
static void back_to_job(struct web_request *req, struct web_response *res, const char *id)
{
    json_t *doc = NULL;
    char location[96];
    if (status_feed_document(req->app->status_feed, id, &doc, NULL, NULL) == 0)
        snprintf(location, sizeof location, "/import_templates/%lld/jobs/%s",
                 (long long)json_integer_value(json_object_get(doc, "template_id")), id);
    else
        snprintf(location, sizeof location, "/jobs");
    json_decref(doc);
    web_response_redirect(res, location);
}

void jobs_cancel(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    const char *id = web_request_param(req, "job_id");
    const char *outcome = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = jobs_cancel_job(req->app->jobs, id, &outcome, &err);
    if (rc)
        web_response_fail(res, req, rc, &err);
    else
        back_to_job(req, res, id);
}

void jobs_retry(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    const char *id = web_request_param(req, "job_id");
    struct sd_error err = SD_ERROR_INIT;
    int rc = jobs_retry_job(req->app->jobs, id, &err);
    if (rc)
        web_response_fail(res, req, rc, &err);
    else
        back_to_job(req, res, id);
}

/* A file the job made, when its document names it. */
static void send_job_file(struct web_request *req, struct web_response *res,
                          enum job_file_kind kind, const char *files_key, const char *prefix)
{
    json_t *doc = job_support_document(req, res);
    if (!doc)
        return;
    const char *id = web_request_param(req, "job_id");
    bool named = json_is_string(json_object_get(json_object_get(doc, "files"), files_key));
    json_decref(doc);
    char name[64];
    if (!named) {
        web_response_error(res, req, 404,
                           kind == JOB_FILE_EXPORT
                               ? "This job has no export file (yet): it is not a finished export."
                               : "This job has no error report: no row failed.");
        return;
    }
    struct sd_error err = SD_ERROR_INIT;
    int fd = -1;
    int rc =
        job_file_open(&fd, req->app->store, jobs_data_dir(req->app->jobs), kind, id, NULL, &err);
    if (rc == SD_ENOTFOUND) {
        web_response_error(res, req, 404,
                           "The file of this job is gone; it is deleted with the job.");
        return;
    }
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return;
    }
    snprintf(name, sizeof name, "%s-%s.xlsx", prefix, id);
    web_response_fd(res, req, fd,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name);
}

void jobs_download(struct web_request *req, struct web_response *res)
{
    send_job_file(req, res, JOB_FILE_EXPORT, "download", "export");
}

void jobs_errors_report(struct web_request *req, struct web_response *res)
{
    send_job_file(req, res, JOB_FILE_REPORT, "report", "errors");
}

/* The template list for the dashboard's filter and row names. */
static json_t *template_options(struct web_request *req)
{
    struct template_summary *list = NULL;
    size_t n = 0;
    struct db *db = NULL;
    json_t *out = json_array();
    if (out && store_acquire_main(req->app->store, &db, NULL) == 0 &&
        template_list(&list, &n, db, NULL) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                out, json_pack("{s:I, s:s}", "id", (json_int_t)list[i].id, "name", list[i].name));
    store_release(req->app->store, db);
    template_summaries_free(list, n);
    return out;
}

void jobs_index(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return;
    struct job_filter filter = {.limit = DASHBOARD_PAGE_SIZE + 1};
    char status[16] = "";
    long long template_id = 0, page = 1;
    web_request_query(req, "status", status, sizeof status);
    char number[24];
    if (web_request_query(req, "template_id", number, sizeof number))
        str_to_int64(number, &template_id);
    if (web_request_query(req, "page", number, sizeof number) &&
        (!str_to_int64(number, &page) || page < 1 || page > 100000))
        page = 1;
    if (status[0] && !job_view_status_known(status)) {
        web_response_error(res, req, 400,
                           "The status filter must be pending, processing, completed, failed or "
                           "cancelled.");
        return;
    }
    filter.status = status[0] ? status : NULL;
    filter.template_id = template_id > 0 ? template_id : 0;
    filter.offset = (size_t)(page - 1) * DASHBOARD_PAGE_SIZE;
    struct sd_error err = SD_ERROR_INIT;
    struct job_record *rows = NULL;
    size_t n = 0;
    int64_t counts[5];
    if (job_support_list(req, res, &filter, &rows, &n, counts) != 0)
        return;
    int rc = 0;
    json_t *docs = json_array();
    for (size_t i = 0; docs && i < n && i < DASHBOARD_PAGE_SIZE; i++) {
        json_t *doc = NULL;
        if (status_feed_document(req->app->status_feed, rows[i].id, &doc, NULL, NULL) == 0 ||
            job_status_document(&doc, &rows[i], NULL, NULL) == 0)
            json_array_append_new(docs, doc);
    }
    json_t *templates = template_options(req);
    json_t *count_obj =
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "pending", (json_int_t)counts[0], "processing",
                  (json_int_t)counts[1], "completed", (json_int_t)counts[2], "failed",
                  (json_int_t)counts[3], "cancelled", (json_int_t)counts[4]);
    struct job_view_dashboard_input in = JOB_VIEW_DASHBOARD_INPUT_INIT;
    in.jobs = docs;
    in.templates = templates;
    in.counts = count_obj;
    in.status = filter.status;
    in.template_id = filter.template_id;
    in.page = page;
    in.has_more = n > DASHBOARD_PAGE_SIZE;
    in.csrf_token = req->csrf_token;
    json_t *view = NULL;
    if (!docs || !templates || !count_obj)
        rc = sd_error_nomem(&err);
    else
        rc = job_view_dashboard(&view, &in, clock_now_ms(req->app->clock), &err);
    if (rc)
        web_response_fail(res, req, rc == SD_EINVALID ? SD_ERROR : rc, &err);
    else
        web_response_page(res, req, 200, "jobs/index", "Jobs", view);
    json_decref(view);
    json_decref(docs);
    json_decref(templates);
    json_decref(count_obj);
    job_record_list_free(rows, n);
}
