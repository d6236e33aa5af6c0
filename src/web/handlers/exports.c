/*
 * Export jobs: the template page's "Export to XLSX" (POST /import_templates/:tid/exports,
 * answered 303 to the job page, whose partial offers the download when it completes) and the
 * API's (POST /api/v1/import_templates/:tid/exports, answered 202 with the job's document).
 */
#include <jansson.h>
#include <stdio.h>

#include "import/template.h"
#include "jobs/jobs.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/request.h"
#include "web/response.h"

/* Enqueues the export of the route's template; 0 with the job id, or the answer written. */
static int enqueue_export(struct web_request *req, struct web_response *res, int64_t *template_id,
                          char id[JOB_ID_LEN + 1])
{
    if (!job_support_ready(req, res))
        return -1;
    struct import_template *tmpl = job_support_template(req, res);
    if (!tmpl)
        return -1;
    *template_id = tmpl->id;
    template_free(tmpl);
    struct sd_error err = SD_ERROR_INIT;
    json_t *payload = json_object();
    int rc = payload ? queue_enqueue(jobs_queue(req->app->jobs), id, "export", *template_id,
                                     payload, 0, &err)
                     : sd_error_nomem(&err);
    json_decref(payload);
    if (rc) {
        web_response_error(res, req, 503,
                           "The export could not be queued (the database is busy or full); try "
                           "again in a moment.");
        return -1;
    }
    return 0;
}

void exports_create(struct web_request *req, struct web_response *res)
{
    int64_t template_id = 0;
    char id[JOB_ID_LEN + 1] = "";
    if (enqueue_export(req, res, &template_id, id) != 0)
        return;
    char location[96];
    snprintf(location, sizeof location, "/import_templates/%lld/jobs/%s", (long long)template_id,
             id);
    web_response_redirect(res, location);
}

void api_exports_create(struct web_request *req, struct web_response *res)
{
    int64_t template_id = 0;
    char id[JOB_ID_LEN + 1] = "";
    if (enqueue_export(req, res, &template_id, id) != 0)
        return;
    job_support_answer_queued(req, res, id);
}
