/*
 * GET /metrics in Prometheus text format: HTTP requests by route and status (counted by
 * this process), open event streams, and from the queue (every process's jobs): jobs by
 * kind and state, their run time and the rows they imported or exported.
 */
#include <stdio.h>

#include "jobs/jobs.h"
#include "web/handlers/handlers.h"
#include "web/metrics.h"
#include "web/request.h"
#include "web/response.h"
#include "web/sse.h"

static int render_jobs(struct web_request *req, struct buf *out, struct sd_error *err)
{
    struct job_stats stats[2];
    int rc = queue_stats(jobs_queue(req->app->jobs), stats, err);
    if (rc)
        return rc;
    static const char *const states[5] = {"pending", "processing", "completed", "failed",
                                          "cancelled"};
    rc = buf_puts(out, "# HELP sheetd_jobs Jobs in the queue by kind and state.\n"
                       "# TYPE sheetd_jobs gauge\n");
    for (int k = 0; k < 2 && !rc; k++)
        for (int s = 0; s < 5 && !rc; s++)
            rc = buf_printf(out, "sheetd_jobs{kind=\"%s\",state=\"%s\"} %lld\n", stats[k].kind,
                            states[s], (long long)stats[k].by_status[s]);
    if (!rc)
        rc = buf_puts(out, "# HELP sheetd_job_duration_seconds Time from claim to end of the "
                           "ended jobs still kept.\n"
                           "# TYPE sheetd_job_duration_seconds summary\n");
    for (int k = 0; k < 2 && !rc; k++)
        rc = buf_printf(out,
                        "sheetd_job_duration_seconds_sum{kind=\"%s\"} %.3f\n"
                        "sheetd_job_duration_seconds_count{kind=\"%s\"} %lld\n",
                        stats[k].kind, (double)stats[k].duration_ms_sum / 1000.0, stats[k].kind,
                        (long long)stats[k].ended);
    if (!rc)
        rc = buf_puts(out, "# HELP sheetd_job_rows Rows imported (inserted or updated) or "
                           "exported by the completed jobs still kept.\n"
                           "# TYPE sheetd_job_rows gauge\n");
    for (int k = 0; k < 2 && !rc; k++)
        rc = buf_printf(out, "sheetd_job_rows{kind=\"%s\"} %lld\n", stats[k].kind,
                        (long long)stats[k].rows);
    return rc < 0 && rc != SD_ENOMEM ? rc : rc ? sd_error_nomem(err) : 0;
}

void metrics_show(struct web_request *req, struct web_response *res)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc = web_metrics_render(req->app->metrics, &res->body);
    if (!rc)
        rc = buf_printf(&res->body,
                        "# HELP sheetd_open_streams Live event streams open now.\n"
                        "# TYPE sheetd_open_streams gauge\n"
                        "sheetd_open_streams %zu\n",
                        sse_hub_open_streams(req->app->sse_hub));
    if (!rc && req->app->jobs)
        rc = render_jobs(req, &res->body, &err);
    if (rc) {
        buf_clear(&res->body);
        web_response_fail(res, req, rc == SD_ENOMEM ? SD_ERROR : rc, &err);
        return;
    }
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
