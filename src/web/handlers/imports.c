/*
 * Uploads that become import jobs: the template page's form (POST
 * /import_templates/:tid/import_file, answered 303 to the job page) and the API's
 * (POST /api/v1/import_templates/:tid/imports, answered 202 with the job's document).
 *
 * The server has already streamed the file to a private temporary name in the uploads
 * directory (upload.h) and checked CSRF. Here the file is sniffed (its bytes, not its name,
 * must be a spreadsheet), renamed to uploads/<job_id>.<ext>, handed to the store (job_files.h:
 * with PostgreSQL it goes into the database, for a worker on any machine) and the job
 * enqueued. A refused file is deleted with the request (the upload is not taken); a file
 * whose job could not be enqueued is deleted here. Nothing is enqueued without its file, and
 * no file stays without its job.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "import/template.h"
#include "jobs/job_files.h"
#include "jobs/jobs.h"
#include "sheet/sheet.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/request.h"
#include "web/response.h"
#include "web/upload.h"

/* What became of an upload. */
enum upload_outcome {
    UPLOAD_ENQUEUED,
    UPLOAD_REFUSED, /* the file's fault: `message` says why; nothing was enqueued */
    UPLOAD_FAILED,  /* the server's, or no such template: a response was already written */
};

static enum upload_outcome enqueue_file(struct web_request *req, struct web_response *res,
                                        int64_t template_id, char id[JOB_ID_LEN + 1], char *message,
                                        size_t size);

/* The route's template, then the upload as its job; *template_id tells which. */
static enum upload_outcome enqueue_upload(struct web_request *req, struct web_response *res,
                                          int64_t *template_id, char id[JOB_ID_LEN + 1],
                                          char *message, size_t size)
{
    if (!job_support_ready(req, res))
        return UPLOAD_FAILED;
    struct import_template *tmpl = job_support_template(req, res);
    if (!tmpl)
        return UPLOAD_FAILED;
    *template_id = tmpl->id;
    template_free(tmpl);
    return enqueue_file(req, res, *template_id, id, message, size);
}

static enum upload_outcome enqueue_file(struct web_request *req, struct web_response *res,
                                        int64_t template_id, char id[JOB_ID_LEN + 1], char *message,
                                        size_t size)
{
    struct web_upload *upload = req->upload;
    struct sd_error err = SD_ERROR_INIT;
    if (!upload) {
        snprintf(message, size, "Choose a spreadsheet file to upload.");
        return UPLOAD_REFUSED;
    }
    enum sheet_format format;
    if (sheet_sniff_file(upload->path, upload->filename, &format, &err) != 0) {
        snprintf(message, size, "%s", sd_error_message(&err));
        return UPLOAD_REFUSED;
    }
    char ext[8], path[4096];
    job_file_extension(ext, upload->filename);
    if (!strcmp(ext, "bin"))
        snprintf(ext, sizeof ext, "%s", sheet_format_name(format));
    const char *data_dir = jobs_data_dir(req->app->jobs);
    json_t *payload = NULL;
    int rc = job_id_generate(id, &err);
    if (rc == 0)
        rc = job_file_path(path, sizeof path, data_dir, JOB_FILE_UPLOAD, id, ext, &err);
    if (rc == 0)
        rc = web_upload_move(upload, path, &err);
    if (rc == 0 &&
        (rc = job_file_store(req->app->store, data_dir, JOB_FILE_UPLOAD, id, ext, &err)) != 0)
        unlink(path);
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return UPLOAD_FAILED;
    }
    payload = json_pack("{s:s, s:s}", "ext", ext, "filename", upload->filename);
    rc = payload ? queue_enqueue(jobs_queue(req->app->jobs), id, "import", template_id, payload, 0,
                                 &err)
                 : sd_error_nomem(&err);
    json_decref(payload);
    if (rc) {
        job_files_remove_upload(req->app->store, data_dir, id);
        web_response_error(res, req, 503,
                           "The import could not be queued (the database is busy or full); "
                           "nothing was kept. Try again in a moment.");
        return UPLOAD_FAILED;
    }
    return UPLOAD_ENQUEUED;
}

void imports_create(struct web_request *req, struct web_response *res)
{
    int64_t template_id = 0;
    char id[JOB_ID_LEN + 1] = "", message[SD_ERROR_MESSAGE_MAX];
    switch (enqueue_upload(req, res, &template_id, id, message, sizeof message)) {
    case UPLOAD_ENQUEUED: {
        char location[96];
        snprintf(location, sizeof location, "/import_templates/%lld/jobs/%s",
                 (long long)template_id, id);
        web_response_redirect(res, location);
        break;
    }
    case UPLOAD_REFUSED:
        import_templates_show_refusal(req, res, 422, message);
        break;
    case UPLOAD_FAILED:
        break;
    }
}

void api_imports_create(struct web_request *req, struct web_response *res)
{
    int64_t template_id = 0;
    char id[JOB_ID_LEN + 1] = "", message[SD_ERROR_MESSAGE_MAX];
    enum upload_outcome outcome =
        enqueue_upload(req, res, &template_id, id, message, sizeof message);
    if (outcome == UPLOAD_REFUSED)
        web_response_error(res, req, 422, message);
    else if (outcome == UPLOAD_ENQUEUED)
        job_support_answer_queued(req, res, id);
}
