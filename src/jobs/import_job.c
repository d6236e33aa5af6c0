/*
 * ImportProcessingJob: one uploaded file into its template's table, through the same
 * import_service the foreground `sheetd import` runs.
 *
 * Exactly once. The rows and the job's completion marker (job_completions, main database)
 * commit in one transaction, through import_service's before_commit hook. So whatever
 * instant the process dies at, either both are there or neither: a worker that runs the job
 * again after a crash first looks for the marker, and when it finds one finishes the job
 * with the stored result without importing again; otherwise nothing was committed and it
 * imports from scratch.
 *
 * Payload: {"ext": "xlsx", "filename": "orders.xlsx", "sheet": "Sheet1" (optional)}; the
 * file is uploads/<job_id>.<ext> (job_files.h), never a path taken from the payload. With
 * PostgreSQL it is fetched from the database into a temporary local copy for the run, and the
 * error report is handed to the database once written, before the job's end is, so whoever
 * sees the end can download it through any web process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/failpoint.h"
#include "base/log.h"
#include "import/import_service.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/job_context.h"
#include "jobs/job_files.h"
#include "store/queue_tables.h"

/* The result part of the status document (message, result, errors, error_count, files). */
static json_t *result_part(const struct import_result *res, const char *job_id)
{
    json_t *result = NULL, *errors = NULL;
    if (import_result_to_json(&result, &errors, res, NULL) < 0)
        return NULL;
    char report[64];
    snprintf(report, sizeof report, "/jobs/%s/errors.xlsx", job_id);
    return json_pack("{s:s?, s:o, s:o, s:I, s:{s:o}}", "message", res->message, "result", result,
                     "errors", errors, "error_count", (json_int_t)res->error_count, "files",
                     "report", res->errors_written ? json_string(report) : json_null());
}

struct import_job {
    struct job_context *ctx;
    int64_t now_ms;
};

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
    struct import_job *ij = arg;
    job_context_progress(ij->ctx, "Importing rows", done, total);
}

static bool on_cancelled(void *arg)
{
    struct import_job *ij = arg;
    return job_context_should_stop(ij->ctx);
}

/* Writes the completion marker in the import's own transaction, unless a cancel came in
 * since the last look: then the rows are rolled back, as at any other tick. */
static int on_before_commit(struct db *db, const struct import_result *res, void *arg,
                            struct sd_error *err)
{
    struct import_job *ij = arg;
    if (job_context_should_stop_now(ij->ctx))
        return sd_error_set(err, SD_ECANCELLED, "the import was cancelled; nothing was written");
    json_t *part = result_part(res, ij->ctx->job->id);
    char *text = part ? json_dumps(part, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(part);
    if (!text)
        return sd_error_nomem(err);
    int rc = completion_store_add(db, ij->ctx->job->id, text, ij->now_ms, err);
    free(text);
    return rc;
}

/* A previous attempt committed: finish with what it recorded. 1 when it did, 0 when there
 * is no marker. */
static int finish_from_marker(struct job_context *ctx, struct db *db, struct sd_error *err)
{
    char *text = NULL;
    int rc = completion_store_get(&text, db, ctx->job->id, err);
    if (rc == SD_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *part = json_loads(text, 0, &jerr);
    free(text);
    if (!part)
        return sd_error_set(err, SD_ERROR, "the completion marker of job %s is damaged",
                            ctx->job->id);
    const char *message = json_string_value(json_object_get(part, "message"));
    rc = job_context_finish(ctx, JOB_STATUS_COMPLETED,
                            message ? message : "Imported (recorded by an earlier attempt)", part,
                            err);
    json_decref(part);
    return rc < 0 ? rc : 1;
}

static const char *payload_string(json_t *payload, const char *key)
{
    return json_string_value(json_object_get(payload, key));
}

/* Runs the import proper once the marker check found nothing. */
static int run_import(struct job_context *ctx, struct db *db, json_t *payload, struct sd_error *err)
{
    struct job_record *job = ctx->job;
    struct store *store = queue_store(ctx->queue);
    char report[4096];
    int rc =
        job_file_path(report, sizeof report, ctx->data_dir, JOB_FILE_REPORT, job->id, NULL, err);
    if (rc)
        return rc;
    struct import_template *tmpl = NULL;
    if ((rc = template_load(&tmpl, db, job->template_id, err)) < 0) {
        if (rc == SD_ENOTFOUND)
            sd_error_set(err, SD_EINVALID,
                         "the template (id %lld) was deleted after the file was uploaded",
                         (long long)job->template_id);
        return rc == SD_ENOTFOUND ? SD_EINVALID : rc;
    }
    const char *ext = payload_string(payload, "ext");
    struct file_store_local upload;
    rc = job_file_fetch(&upload, store, ctx->data_dir, JOB_FILE_UPLOAD, job->id, ext ? ext : "bin",
                        err);
    if (rc == SD_ENOTFOUND)
        rc = sd_error_set(err, SD_EINVALID,
                          "the uploaded file is no longer there (it was removed from %s)",
                          job_file_dir(JOB_FILE_UPLOAD));
    if (rc) {
        template_free(tmpl);
        return rc;
    }
    struct import_job ij = {ctx, clock_now_ms(queue_clock(ctx->queue))};
    struct import_options opts = IMPORT_OPTIONS_INIT;
    opts.sheet = payload_string(payload, "sheet");
    opts.job_id = job->id;
    opts.display_name = payload_string(payload, "filename");
    opts.errors_out = report;
    opts.progress = on_progress;
    opts.cancelled = on_cancelled;
    opts.before_commit = on_before_commit;
    opts.ctx = &ij;
    opts.clock = queue_clock(ctx->queue);
    struct import_result *res = NULL;
    job_context_progress(ctx, "Reading the file", 0, 0);
    rc = import_service_run(&res, db, tmpl, upload.path, &opts, err);
    template_free(tmpl);
    file_store_local_done(&upload);
    if (rc < 0)
        return rc;
    /* The rows and the marker are committed; the job's end is not written yet. */
    FAILPOINT("import_job.after_commit");
    if (!res->errors_written)
        unlink(report);
    else {
        /* The rows are committed: the job's outcome stands even if its report cannot be
         * kept (the download link then says the file is gone). */
        struct sd_error report_err = SD_ERROR_INIT;
        if (job_file_store(store, ctx->data_dir, JOB_FILE_REPORT, job->id, NULL, &report_err))
            log_kv(SD_LOG_WARN, "could not keep the error report", "job_id", job->id, "error",
                   sd_error_message(&report_err), NULL);
    }
    json_t *part = result_part(res, job->id);
    if (!part) {
        import_result_free(res);
        return sd_error_nomem(err);
    }
    rc = job_context_finish(ctx, res->success ? JOB_STATUS_COMPLETED : JOB_STATUS_FAILED,
                            res->message, part, err);
    json_decref(part);
    import_result_free(res);
    return rc;
}

int import_job_run(struct job_context *ctx, struct sd_error *err)
{
    json_error_t jerr;
    json_t *payload = json_loads(ctx->job->payload, 0, &jerr);
    if (!json_is_object(payload)) {
        json_decref(payload);
        return sd_error_set(err, SD_EINVALID, "the job's payload is not a JSON object");
    }
    struct store *store = queue_store(ctx->queue);
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, err);
    if (rc == 0 && (rc = finish_from_marker(ctx, db, err)) == 0)
        rc = run_import(ctx, db, payload, err);
    store_release(store, db);
    json_decref(payload);
    return rc < 0 ? rc : 0;
}
