/* The job layer as one object (jobs.h). */
#include "jobs/jobs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "jobs/heartbeat.h"
#include "jobs/job_files.h"
#include "jobs/waker.h"
#include "jobs/worker.h"

struct jobs {
    struct jobs_config config;
    char *data_dir;
    struct store *store;
    struct waker *waker;
    struct broadcaster *broadcaster;
    struct job_status_service *status;
    struct queue *queue;
    struct heartbeat *heartbeat;
    struct worker_pool *pool;
};

int jobs_open(struct jobs **out, struct store *store, const struct jobs_config *config,
              struct sd_error *err)
{
    static const struct jobs_config defaults = JOBS_CONFIG_INIT;
    assert(out && store);
    *out = NULL;
    struct jobs *j = calloc(1, sizeof *j);
    if (!j)
        return sd_error_nomem(err);
    j->config = config ? *config : defaults;
    j->store = store;
    j->data_dir = str_dup(j->config.data_dir ? j->config.data_dir : store_data_dir(store));
    if (!j->data_dir) {
        free(j);
        return sd_error_nomem(err);
    }
    j->config.data_dir = j->data_dir;
    struct queue_options qopts = QUEUE_OPTIONS_INIT;
    qopts.max_attempts = j->config.max_attempts;
    qopts.clock = j->config.clock;
    if (j->config.backoff_base_ms > 0)
        qopts.backoff_base_ms = j->config.backoff_base_ms;
    int rc = job_files_prepare(j->data_dir, err);
    if (rc == 0)
        rc = waker_new(&j->waker, store, 0, err);
    if (rc == 0)
        rc = broadcaster_new(&j->broadcaster, store, j->waker, j->config.clock, err);
    if (rc == 0)
        rc = job_status_service_new(&j->status, store, j->broadcaster, j->config.clock, err);
    if (rc == 0)
        rc = queue_new(&j->queue, store, j->waker, j->status, &qopts, err);
    if (rc) {
        jobs_close(j);
        return rc;
    }
    *out = j;
    return 0;
}

int jobs_run(struct jobs *j, const char *kind, int workers, struct sd_error *err)
{
    assert(j && kind && !j->heartbeat);
    struct heartbeat_options hopts = HEARTBEAT_OPTIONS_INIT;
    hopts.kind = kind;
    hopts.data_dir = j->data_dir;
    hopts.retention_ms = j->config.retention_ms;
    if (j->config.heartbeat_interval_ms > 0)
        hopts.interval_ms = j->config.heartbeat_interval_ms;
    if (j->config.heartbeat_silence_ms > 0)
        hopts.silence_ms = j->config.heartbeat_silence_ms;
    /* A running process hears of other processes' changes: its workers claim their jobs,
     * its subscribers see their status. */
    int rc = waker_watch(j->waker, err);
    if (rc == 0)
        rc = heartbeat_start(&j->heartbeat, j->queue, &hopts, err);
    if (rc || workers <= 0)
        return rc;
    struct worker_pool_options wopts = WORKER_POOL_OPTIONS_INIT;
    wopts.threads = workers;
    wopts.data_dir = j->data_dir;
    wopts.heartbeat = j->heartbeat;
    wopts.kinds = j->config.kinds;
    return worker_pool_start(&j->pool, j->queue, &wopts, err);
}

void jobs_close(struct jobs *j)
{
    if (!j)
        return;
    /* Workers first (they need the heartbeat's process row to hand jobs back), the
     * watcher last (the broadcaster is one of its listeners). */
    worker_pool_stop(j->pool, j->config.shutdown_timeout_ms);
    heartbeat_stop(j->heartbeat);
    waker_free(j->waker);
    queue_free(j->queue);
    job_status_service_free(j->status);
    broadcaster_free(j->broadcaster);
    free(j->data_dir);
    free(j);
}

int jobs_cancel_job(struct jobs *j, const char *id, const char **outcome, struct sd_error *err)
{
    return queue_cancel(j->queue, id, outcome, err);
}

/* True when an import job's upload is still kept (job_files.h). */
static bool upload_present(struct jobs *j, const struct job_record *job)
{
    json_error_t jerr;
    json_t *payload = json_loads(job->payload, 0, &jerr);
    const char *ext = json_string_value(json_object_get(payload, "ext"));
    bool present = false;
    if (ext &&
        job_file_exists(&present, j->store, j->data_dir, JOB_FILE_UPLOAD, job->id, ext, NULL) != 0)
        present = false;
    json_decref(payload);
    return present;
}

int jobs_retry_job(struct jobs *j, const char *id, struct sd_error *err)
{
    struct job_record *job = NULL;
    int rc = queue_get(&job, j->queue, id, err);
    if (rc)
        return rc;
    bool refused =
        !strcmp(job->kind, "import") &&
        (!strcmp(job->status, JOB_STATUS_FAILED) || !strcmp(job->status, JOB_STATUS_CANCELLED)) &&
        !upload_present(j, job);
    job_record_free(job);
    if (refused)
        return sd_error_set(err, SD_EINVALID,
                            "the file of job %s was deleted when the job ended; upload it "
                            "again to import it",
                            id);
    return queue_retry(j->queue, id, err);
}

struct queue *jobs_queue(struct jobs *j)
{
    return j->queue;
}

struct job_status_service *jobs_status(struct jobs *j)
{
    return j->status;
}

struct broadcaster *jobs_broadcaster(struct jobs *j)
{
    return j->broadcaster;
}

const char *jobs_data_dir(struct jobs *j)
{
    return j->data_dir;
}

int jobs_busy(struct jobs *j)
{
    return j->pool ? worker_pool_busy(j->pool) : 0;
}
