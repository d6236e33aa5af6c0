/* What a running job is given (job_context.h). */
#include "jobs/job_context.h"

#include <string.h>

#include "base/log.h"
#include "jobs/job_files.h"

bool job_context_should_stop(struct job_context *ctx)
{
    if (ctx->interrupt && atomic_load(ctx->interrupt))
        return true;
    if (ctx->cancel_requested)
        return true;
    int64_t now = clock_monotonic_ms(queue_clock(ctx->queue));
    if (now - ctx->last_cancel_check_ms < JOB_CANCEL_CHECK_MS)
        return false;
    ctx->last_cancel_check_ms = now;
    bool requested = false;
    struct sd_error err = SD_ERROR_INIT;
    if (queue_cancel_requested(ctx->queue, ctx->job->id, &requested, &err) == 0)
        ctx->cancel_requested = requested;
    return ctx->cancel_requested;
}

void job_context_progress(struct job_context *ctx, const char *message, uint64_t done,
                          uint64_t total)
{
    struct sd_error err = SD_ERROR_INIT;
    job_status_update_progress(queue_status(ctx->queue), ctx->job, &ctx->progress, message, done,
                               total, &err);
}

/*
 * The upload of an import goes when it is imported (completed), and before that end is
 * written, so that whoever sees the end sees no file left; if the process dies between the
 * two, the job runs again and finds its completion marker (the rows were committed: no file
 * needed). A failed or cancelled import keeps its file so that Retry can run it again; it
 * goes with the job when the retention prunes it (retention.h).
 */
int job_context_finish(struct job_context *ctx, const char *status, const char *message,
                       const json_t *result_part, struct sd_error *err)
{
    struct sd_error ignored = SD_ERROR_INIT;
    if (!strcmp(ctx->job->kind, "import") && !strcmp(status, JOB_STATUS_COMPLETED))
        job_files_remove_upload(queue_store(ctx->queue), ctx->data_dir, ctx->job->id);
    job_status_flush_progress(queue_status(ctx->queue), ctx->job, &ctx->progress, &ignored);
    return queue_finish_and_claim(ctx->queue, ctx->job, status, message, result_part,
                                  ctx->claim_next ? &ctx->next : NULL, err);
}
