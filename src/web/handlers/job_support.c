#include "web/handlers/job_support.h"

#include <stdio.h>
#include <stdlib.h>

#include "import/template.h"
#include "import/template_catalog.h"
#include "web/request.h"
#include "web/response.h"
#include "jobs/jobs.h"
#include "web/status_feed.h"

bool job_support_ready(struct web_request *req, struct web_response *res)
{
    if (req->app->jobs && req->app->status_feed)
        return true;
    web_response_error(res, req, 503, "This server runs without background jobs.");
    return false;
}

json_t *job_support_document(struct web_request *req, struct web_response *res)
{
    if (!job_support_ready(req, res))
        return NULL;
    const char *id = web_request_param(req, "job_id");
    json_t *doc = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = status_feed_document(req->app->status_feed, id, &doc, NULL, &err);
    if (rc == SD_ENOTFOUND) {
        web_response_error(res, req, 404,
                           "There is no such job: it never existed, or it ended long enough ago "
                           "to have been deleted.");
        return NULL;
    }
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return NULL;
    }
    return doc;
}

struct import_template *job_support_template(struct web_request *req, struct web_response *res)
{
    int64_t id = web_request_id_param(req, "tid");
    struct import_template *t = NULL;
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = store_acquire_main(req->app->store, &db, &err);
    if (rc == 0)
        rc = template_load(&t, db, id, &err);
    store_release(req->app->store, db);
    if (rc == SD_ENOTFOUND) {
        char message[96];
        snprintf(message, sizeof message, "There is no template with id %lld.", (long long)id);
        web_response_error(res, req, 404, message);
    } else if (rc) {
        web_response_fail(res, req, rc, &err);
    }
    return rc ? NULL : t;
}

json_t *job_support_api_document(struct web_request *req, const char *id)
{
    json_t *doc = NULL;
    if (status_feed_document(req->app->status_feed, id, &doc, NULL, NULL) != 0)
        return NULL;
    char url[64];
    snprintf(url, sizeof url, "/api/v1/jobs/%s", id);
    json_object_set_new(doc, "status_url", json_string(url));
    snprintf(url, sizeof url, "/import_templates/%lld/jobs/%s",
             (long long)json_integer_value(json_object_get(doc, "template_id")), id);
    json_object_set_new(doc, "job_url", json_string(url));
    return doc;
}

void job_support_answer_queued(struct web_request *req, struct web_response *res, const char *id)
{
    json_t *doc = job_support_api_document(req, id);
    if (!doc) {
        web_response_error(res, req, 500, "The job was queued but its status cannot be read.");
        return;
    }
    web_response_json(res, 202, doc);
    json_decref(doc);
}

int job_support_list(struct web_request *req, struct web_response *res,
                     const struct job_filter *filter, struct job_record **rows, size_t *n,
                     int64_t counts[5])
{
    struct sd_error err = SD_ERROR_INIT;
    struct job_filter for_counts = {.template_id = filter->template_id, .kind = filter->kind};
    *rows = NULL;
    *n = 0;
    int rc = queue_list(rows, n, jobs_queue(req->app->jobs), filter, &err);
    if (rc == 0)
        rc = queue_counts(jobs_queue(req->app->jobs), &for_counts, counts, &err);
    if (rc) {
        job_record_list_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        web_response_fail(res, req, rc, &err);
    }
    return rc;
}
