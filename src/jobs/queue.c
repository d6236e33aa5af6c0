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

/*
 * Every state change of a job goes through here: the change to its row and the status
 * document it implies commit in one transaction on a queue connection, so a reader never
 * sees the one without the other, and one transaction instead of two is what a job costs.
 * `change` fills `id` when it learns it (a claim). Subscribers in this process hear of it
 * after the commit; other processes through their watchers.
 */
typedef int (*queue_change_fn)(struct db *db, char id[JOB_ID_LEN + 1], void *arg,
                               struct sd_error *err);

static int change_and_follow(struct queue *q, char id[JOB_ID_LEN + 1], queue_change_fn change,
                             void *arg, struct sd_error *err)
{
    struct db *db = NULL;
    int64_t seq = 0;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = db_begin(db, err);
    if (rc == 0)
        rc = change(db, id, arg, err);
    if (rc == 0)
        rc = job_status_refresh_in(q->status, db, id, &seq, err);
    if (rc == 0)
        rc = db_commit(db, err);
    store_release(q->store, db); /* rolls back what did not commit */
    if (rc == 0)
        job_status_announce(q->status, id, seq);
    return rc;
}

static int do_insert(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    (void)id;
    return job_store_insert(db, arg, err);
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
    rc = change_and_follow(q, id, do_insert, &job, err);
    free(text);
    if (rc)
        return sd_error_prefix(err, "could not enqueue the %s job", kind);
    waker_poke(q->waker);
    log_kv(SD_LOG_INFO, "job enqueued", "job_id", id, "kind", kind, "template_id",
           LOG_NUM(template_id), NULL);
    return 0;
}

struct claim_args {
    struct job_record **out;
    int64_t process_id, now;
};

static int do_claim(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    struct claim_args *c = arg;
    int rc = job_store_claim(c->out, db, c->process_id, c->now, err);
    if (rc == 0)
        memcpy(id, (*c->out)->id, JOB_ID_LEN + 1);
    return rc;
}

int queue_claim(struct job_record **out, struct queue *q, int64_t process_id, struct sd_error *err)
{
    assert(out && q);
    *out = NULL;
    char id[JOB_ID_LEN + 1] = "";
    struct claim_args c = {out, process_id, now_ms(q)};
    /* Most wake-ups find nothing to do (every status write wakes idle workers): look first,
     * without the write lock, and take it only when a job is due. */
    struct db *db = NULL;
    bool due = false;
    int rc = store_acquire_queue(q->store, &db, err);
    if (rc == 0)
        rc = job_store_any_due(db, c.now, &due, err);
    store_release(q->store, db);
    if (rc == 0 && !due)
        return SD_ENOTFOUND;
    if (rc == 0)
        rc = change_and_follow(q, id, do_claim, &c, err);
    if (rc) {
        job_record_free(*out);
        *out = NULL;
    }
    return rc;
}

struct finish_args {
    const struct job_record *job;
    const char *status, *message;
    char *document;
    int64_t rows, now;
};

static int do_finish(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    struct finish_args *f = arg;
    return job_store_finish(db, id, f->job->process_id, f->status, f->message, f->document, f->rows,
                            f->now, err);
}

int queue_finish(struct queue *q, const struct job_record *job, const char *status,
                 const char *message, const json_t *result_part, struct sd_error *err)
{
    assert(q && job && status);
    struct finish_args f = {job, status, message, NULL, 0, now_ms(q)};
    if (result_part && !(f.document = json_dumps(result_part, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        return sd_error_nomem(err);
    /* The rows it moved, for /metrics: inserted and updated by an import, written by an
     * export. */
    json_t *result = json_object_get(result_part, "result");
    f.rows = json_integer_value(json_object_get(result, "imported")) +
             json_integer_value(json_object_get(result, "updated")) +
             json_integer_value(json_object_get(result, "exported"));
    char id[JOB_ID_LEN + 1];
    memcpy(id, job->id, sizeof id);
    int rc = change_and_follow(q, id, do_finish, &f, err);
    free(f.document);
    if (rc == 0)
        log_kv(SD_LOG_INFO, "job finished", "job_id", job->id, "kind", job->kind, "status", status,
               "attempts", LOG_NUM(job->attempts), NULL);
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

struct release_args {
    const struct job_record *job;
    int64_t run_at, now;
    bool refund;
    const char *message;
};

static int do_release(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    struct release_args *r = arg;
    return job_store_release(db, id, r->job->process_id, r->run_at, r->refund, r->message, r->now,
                             err);
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
    struct release_args r = {job, now_ms(q) + delay, now_ms(q), false, message};
    char id[JOB_ID_LEN + 1];
    memcpy(id, job->id, sizeof id);
    int rc = change_and_follow(q, id, do_release, &r, err);
    if (rc == 0)
        log_kv(SD_LOG_INFO, "job will be retried", "job_id", job->id, "attempt",
               LOG_NUM(job->attempts), "delay_ms", LOG_NUM(delay), NULL);
    return rc;
}

int queue_hand_back(struct queue *q, const struct job_record *job, struct sd_error *err)
{
    struct release_args r = {job, now_ms(q), now_ms(q), true,
                             "Handed back: its worker was stopping"};
    char id[JOB_ID_LEN + 1];
    memcpy(id, job->id, sizeof id);
    int rc = change_and_follow(q, id, do_release, &r, err);
    if (rc == 0)
        waker_poke(q->waker);
    return rc;
}

struct cancel_args {
    int64_t now;
    const char **outcome;
};

static int do_cancel(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    struct cancel_args *c = arg;
    return job_store_cancel(db, id, c->now, c->outcome, err);
}

int queue_cancel(struct queue *q, const char *id, const char **outcome, struct sd_error *err)
{
    char copy[JOB_ID_LEN + 1];
    snprintf(copy, sizeof copy, "%s", id);
    struct cancel_args c = {now_ms(q), outcome};
    return change_and_follow(q, copy, do_cancel, &c, err);
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

static int do_retry(struct db *db, char id[JOB_ID_LEN + 1], void *arg, struct sd_error *err)
{
    return job_store_retry(db, id, *(int64_t *)arg, err);
}

int queue_retry(struct queue *q, const char *id, struct sd_error *err)
{
    char copy[JOB_ID_LEN + 1];
    snprintf(copy, sizeof copy, "%s", id);
    int64_t now = now_ms(q);
    int rc = change_and_follow(q, copy, do_retry, &now, err);
    if (rc == 0)
        waker_poke(q->waker);
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
