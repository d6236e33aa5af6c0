/* The durable queue (queue.h). */
#include "jobs/queue.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct queue {
    struct store *store;
    struct waker *waker;
    struct job_status_service *status;
    struct queue_options opts;
};

int queue_new(struct queue **out, struct store *store, struct waker *waker,
              struct job_status_service *status, const struct queue_options *opts,
              struct sd_error *err)
{
    static const struct queue_options defaults = QUEUE_OPTIONS_INIT;
    assert(out && store && waker && status);
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        return sd_error_nomem(err);
    q->store = store;
    q->waker = waker;
    q->status = status;
    q->opts = opts ? *opts : defaults;
    if (!q->opts.clock)
        q->opts.clock = clock_system();
    if (q->opts.max_attempts < 1)
        q->opts.max_attempts = defaults.max_attempts;
    if (q->opts.backoff_base_ms <= 0)
        q->opts.backoff_base_ms = defaults.backoff_base_ms;
    *out = q;
    return 0;
}

void queue_free(struct queue *q)
{
    free(q);
}

struct store *queue_store(struct queue *q)
{
    return q->store;
}

struct waker *queue_waker(struct queue *q)
{
    return q->waker;
}

struct job_status_service *queue_status(struct queue *q)
{
    return q->status;
}

const struct sd_clock *queue_clock(struct queue *q)
{
    return q->opts.clock;
}

static int64_t now_ms(const struct queue *q)
{
    return clock_now_ms(q->opts.clock);
}

/* Writes the document of a job whose row just changed. The change itself is done; a status
 * that cannot be written is logged by job_status and read from the row later. */
static void follow_row(struct queue *q, const char *id)
{
    struct sd_error err = SD_ERROR_INIT;
    if (job_status_refresh(q->status, id, &err) != 0)
        log_warn("job status not refreshed", "job_id=%s", id);
}

int queue_enqueue(struct queue *q, char id[JOB_ID_LEN + 1], const char *kind, int64_t template_id,
                  const json_t *payload, int64_t run_at_ms, struct sd_error *err)
{
    assert(q && id && kind && payload);
    int rc;
    if (!id[0] && (rc = job_id_generate(id, err)) < 0)
        return rc;
    assert(job_id_valid(id));
    char *text = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return sd_error_nomem(err);
    int64_t now = now_ms(q);
    struct job_record job = {
        .kind = (char *)kind,
        .template_id = template_id,
        .payload = text,
        .max_attempts = q->opts.max_attempts,
        .run_at = run_at_ms ? run_at_ms : now,
        .created_at = now,
    };
    memcpy(job.id, id, sizeof job.id);
    struct db *db = NULL;
    rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_insert(db, &job, err);
    store_release(q->store, db);
    free(text);
    if (rc)
        return sd_error_prefix(err, "could not enqueue the %s job", kind);
    follow_row(q, id);
    waker_poke(q->waker);
    log_info("job enqueued", "job_id=%s kind=%s template_id=%lld", id, kind,
             (long long)template_id);
    return 0;
}

int queue_claim(struct job_record **out, struct queue *q, int64_t process_id, struct sd_error *err)
{
    assert(out && q);
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_claim(out, db, process_id, now_ms(q), err);
    store_release(q->store, db);
    if (rc == 0)
        follow_row(q, (*out)->id);
    return rc;
}

int queue_finish(struct queue *q, const struct job_record *job, const char *status,
                 const char *message, const json_t *result_part, struct sd_error *err)
{
    assert(q && job && status);
    char *document = NULL;
    if (result_part && !(document = json_dumps(result_part, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        return sd_error_nomem(err);
    /* The rows it moved, for /metrics: inserted and updated by an import, written by an export. */
    json_t *result = json_object_get(result_part, "result");
    int64_t rows = json_integer_value(json_object_get(result, "imported")) +
                   json_integer_value(json_object_get(result, "updated")) +
                   json_integer_value(json_object_get(result, "exported"));
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_finish(db, job->id, job->process_id, status, message, document, rows,
                              now_ms(q), err);
    store_release(q->store, db);
    free(document);
    if (rc == 0) {
        follow_row(q, job->id);
        log_info("job finished", "job_id=%s kind=%s status=%s attempts=%d", job->id, job->kind,
                 status, job->attempts);
    }
    return rc;
}

int64_t queue_backoff_ms(const struct queue *q, int attempt, double random_unit)
{
    if (attempt < 1)
        attempt = 1;
    if (attempt > 20)
        attempt = 20;
    double base = (double)q->opts.backoff_base_ms * ldexp(1.0, attempt - 1);
    return (int64_t)(base * (0.5 + random_unit));
}

static double random_unit(void)
{
    uint32_t r = 0;
    if (random_bytes(&r, sizeof r, NULL) < 0)
        return 0.5;
    return (double)r / 4294967296.0;
}

int queue_retry_later(struct queue *q, const struct job_record *job, const char *message,
                      bool *retried, struct sd_error *err)
{
    assert(q && job && message && retried);
    *retried = job->attempts < job->max_attempts;
    if (!*retried) {
        char final[SD_ERROR_MESSAGE_MAX + 64];
        snprintf(final, sizeof final, "%s (gave up after %d attempts)", message, job->attempts);
        return queue_finish(q, job, JOB_STATUS_FAILED, final, NULL, err);
    }
    int64_t delay = queue_backoff_ms(q, job->attempts, random_unit());
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_release(db, job->id, job->process_id, now_ms(q) + delay, false, message,
                               now_ms(q), err);
    store_release(q->store, db);
    if (rc == 0) {
        follow_row(q, job->id);
        log_info("job will be retried", "job_id=%s attempt=%d delay_ms=%lld", job->id,
                 job->attempts, (long long)delay);
    }
    return rc;
}

int queue_hand_back(struct queue *q, const struct job_record *job, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_release(db, job->id, job->process_id, now_ms(q), true,
                               "Handed back: its worker was stopping", now_ms(q), err);
    store_release(q->store, db);
    if (rc == 0) {
        follow_row(q, job->id);
        waker_poke(q->waker);
    }
    return rc;
}

int queue_cancel(struct queue *q, const char *id, const char **outcome, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_cancel(db, id, now_ms(q), outcome, err);
    store_release(q->store, db);
    if (rc == 0)
        follow_row(q, id);
    return rc;
}

int queue_cancel_requested(struct queue *q, const char *id, bool *requested, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_cancel_requested(db, id, requested, err);
    store_release(q->store, db);
    return rc;
}

int queue_retry(struct queue *q, const char *id, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_retry(db, id, now_ms(q), err);
    store_release(q->store, db);
    if (rc == 0) {
        follow_row(q, id);
        waker_poke(q->waker);
    }
    return rc;
}

int queue_get(struct job_record **out, struct queue *q, const char *id, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_get(out, db, id, err);
    store_release(q->store, db);
    return rc;
}

int queue_list(struct job_record **out, size_t *count, struct queue *q,
               const struct job_filter *filter, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_list(out, count, db, filter, err);
    store_release(q->store, db);
    return rc;
}

int queue_counts(struct queue *q, const struct job_filter *filter, int64_t counts[5],
                 struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_count_by_status(db, filter, counts, err);
    store_release(q->store, db);
    return rc;
}

int queue_position(struct queue *q, const char *id, int64_t *position, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_queue_position(db, id, position, err);
    store_release(q->store, db);
    return rc;
}

int queue_stats(struct queue *q, struct job_stats stats[2], struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_stats(db, stats, err);
    store_release(q->store, db);
    return rc;
}

int queue_next_due_in(struct queue *q, int64_t *ms, struct sd_error *err)
{
    struct db *db = NULL;
    int64_t run_at = 0;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_next_run_at(db, &run_at, err);
    store_release(q->store, db);
    if (rc == 0) {
        int64_t delta = run_at - now_ms(q);
        *ms = run_at == 0 ? -1 : delta > 0 ? delta : 0;
    }
    return rc;
}
