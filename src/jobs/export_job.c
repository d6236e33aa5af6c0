/*
 * ExportGenerationJob: every row of a template's table into exports/<job_id>.xlsx through
 * the same export_service `sheetd export` runs. The service writes to a temporary name and
 * renames the finished file into place, so a crash or a cancel never leaves half a workbook
 * to download; running it again simply writes the file again. The finished file is handed
 * to the store (job_file_store: with PostgreSQL, into the database) before the job's end is
 * written, so the download link works through every web process once it shows.
 */
#include <stdio.h>

#include "import/export_service.h"
#include "import/import_service.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/job_context.h"
#include "jobs/job_files.h"

static void on_progress(uint64_t done, uint64_t total, void *arg)
{
    job_context_progress(arg, "Exporting rows", done, total);
}

static bool on_cancelled(void *arg)
{
    return job_context_should_stop(arg);
}

static int run_export(struct job_context *ctx, struct db *db, struct sd_error *err)
{
    struct job_record *job = ctx->job;
    char path[4096];
    int rc = job_file_path(path, sizeof path, ctx->data_dir, JOB_FILE_EXPORT, job->id, NULL, err);
    if (rc)
        return rc;
    struct import_template *tmpl = NULL;
    if ((rc = template_load(&tmpl, db, job->template_id, err)) < 0) {
        if (rc != SD_ENOTFOUND)
            return rc;
        return sd_error_set(err, SD_EINVALID, "the template (id %lld) was deleted",
                            (long long)job->template_id);
    }
    struct export_options opts = EXPORT_OPTIONS_INIT;
    opts.progress = on_progress;
    opts.cancelled = on_cancelled;
    opts.ctx = ctx;
    opts.clock = queue_clock(ctx->queue);
    struct export_result res = {0};
    job_context_progress(ctx, "Exporting rows", 0, 0);
    rc = export_service_run(&res, db, tmpl, path, &opts, err);
    template_free(tmpl);
    if (rc == 0)
        rc = job_file_store(queue_store(ctx->queue), ctx->data_dir, JOB_FILE_EXPORT, job->id, NULL,
                            err);
    if (rc < 0)
        return rc;
    char count[32], message[96], download[64];
    snprintf(message, sizeof message, "Exported %s row%s", import_format_count(count, res.rows),
             res.rows == 1 ? "" : "s");
    snprintf(download, sizeof download, "/jobs/%s/download", job->id);
    json_t *part =
        json_pack("{s:s, s:{s:I, s:I}, s:[], s:i, s:{s:s}}", "message", message, "result",
                  "exported", (json_int_t)res.rows, "duration_ms", (json_int_t)res.duration_ms,
                  "errors", "error_count", 0, "files", "download", download);
    if (!part)
        return sd_error_nomem(err);
    rc = job_context_finish(ctx, JOB_STATUS_COMPLETED, message, part, err);
    json_decref(part);
    return rc;
}

int export_job_run(struct job_context *ctx, struct sd_error *err)
{
    struct store *store = queue_store(ctx->queue);
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, err);
    if (rc == 0)
        rc = run_export(ctx, db, err);
    store_release(store, db);
    return rc;
}
