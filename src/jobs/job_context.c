/* What a running job is given (job_context.h). */
#include "jobs/job_context.h"

#include <string.h>
#include <time.h>

#include "base/log.h"
#include "jobs/job_files.h"

static bool should_stop(struct job_context *ctx, bool throttled)
{
    if (ctx->interrupt && atomic_load(ctx->interrupt))
        return true;
    if (ctx->cancel_requested)
        return true;
    int64_t now = clock_monotonic_ms(queue_clock(ctx->queue));
    if (throttled && now - ctx->last_cancel_check_ms < JOB_CANCEL_CHECK_MS)
        return false;
    ctx->last_cancel_check_ms = now;
    bool requested = false;
    struct sd_error err = SD_ERROR_INIT;
    if (queue_cancel_requested(ctx->queue, ctx->job->id, &requested, &err) == 0)
        ctx->cancel_requested = requested;
    return ctx->cancel_requested;
}

bool job_context_should_stop(struct job_context *ctx)
{
    return should_stop(ctx, true);
}

bool job_context_should_stop_now(struct job_context *ctx)
{
    return should_stop(ctx, false);
}

void job_context_progress(struct job_context *ctx, const char *message, uint64_t done,
                          uint64_t total)
{
    struct sd_error err = SD_ERROR_INIT;
    job_status_update_progress(queue_status(ctx->queue), ctx->job, &ctx->progress, message, done,
                               total, &err);
}

/*
 * The end of a job is written again while the database cannot take it (busy past its
 * timeout, a connection that went away): a job left "processing" under a live process is
 * one no recovery would ever touch, since its process keeps beating. It stops trying when
 * another process took the job over (SD_ENOTFOUND: the fence), when the end itself is
 * refused, when the process is stopping (its jobs are recovered once it is gone), or after
 * JOB_END_RETRY_MS, past which the process is presumed dead by the others anyway.
 */
static bool end_worth_retrying(struct job_context *ctx, int rc, int64_t since_ms)
{
    if (rc == SD_ENOTFOUND || rc == SD_EINVALID || rc == SD_EUSAGE)
        return false;
    if (ctx->interrupt && atomic_load(ctx->interrupt))
        return false;
    return clock_monotonic_ms(queue_clock(ctx->queue)) - since_ms < JOB_END_RETRY_MS;
}

/* One way of ending a job, as write_end retries it. */
struct end_write {
    const char *status; /* what the end is, for the log */
    int (*write)(struct job_context *ctx, const struct end_write *end, struct sd_error *err);
    const char *message;
    const json_t *result_part;
};

static int write_end(struct job_context *ctx, const struct end_write *end, struct sd_error *err)
{
    int64_t since = clock_monotonic_ms(queue_clock(ctx->queue)), delay_ms = 50;
    for (;;) {
        int rc = end->write(ctx, end, err);
        if (rc == 0 || !end_worth_retrying(ctx, rc, since))
            return rc;
        log_kv(SD_LOG_WARN, "could not record the end of a job; trying again", "job_id",
               ctx->job->id, "status", end->status, "retry_in_ms", LOG_NUM(delay_ms), "error",
               sd_error_message(err), NULL);
        struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000};
        nanosleep(&pause, NULL);
        delay_ms = delay_ms * 2 < 2000 ? delay_ms * 2 : 2000;
    }
}

static int write_finish(struct job_context *ctx, const struct end_write *end, struct sd_error *err)
{
    return queue_finish_and_claim(ctx->queue, ctx->job, end->status, end->message, end->result_part,
                                  ctx->claim_next ? &ctx->next : NULL, err);
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
    struct end_write end = {status, write_finish, message, result_part};
    return write_end(ctx, &end, err);
}

static int write_retry_later(struct job_context *ctx, const struct end_write *end,
                             struct sd_error *err)
{
    bool retried = false;
    return queue_retry_later(ctx->queue, ctx->job, end->message, &retried, err);
}

int job_context_retry_later(struct job_context *ctx, const char *message, struct sd_error *err)
{
    struct end_write end = {JOB_STATUS_PENDING, write_retry_later, message, NULL};
    return write_end(ctx, &end, err);
}
