/* The durable queue (queue.h). */
#include "jobs/queue.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct change_request;

struct queue {
    struct store *store;
    struct waker *waker;
    struct job_status_service *status;
    struct queue_options opts;
    /* Changes waiting to be written, oldest first, and whether a thread is writing a group
     * of them now (in_transaction). */
    pthread_mutex_t lock;
    pthread_cond_t written;
    struct change_request *waiting, *waiting_tail;
    bool writing;
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
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->written, NULL);
    *out = q;
    return 0;
}

void queue_free(struct queue *q)
{
    if (!q)
        return;
    pthread_cond_destroy(&q->written);
    pthread_mutex_destroy(&q->lock);
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
 * Every state change of a job goes through here: the changes to rows and the status
 * documents they imply commit in one transaction on a queue connection, so a reader never
 * sees the one without the other. A commit costs far more than the statements in it, so
 * that is where the queue gets its throughput: a transaction may change several jobs (a
 * batch enqueue, a finish that claims the next job), and changes that threads of this
 * process ask for at the same moment are written together, as LevelDB groups its writes:
 * the first thread to find no group being written writes every change waiting, in one
 * transaction, and the others wait for it. A change that fails takes its group's
 * transaction down with it, so then each change of the group is written again on its own,
 * and gets its own answer. Subscribers in this process hear of the changes after the
 * commit; other processes through their watchers.
 */
struct queue_tx {
    struct queue *q;
    struct db *db;
    struct changed_job {
        char id[JOB_ID_LEN + 1];
        int64_t seq; /* 0: its document could not be written (logged) */
    } * changed;
    size_t nchanged, cap;
};

/* A change runs again if its group failed: it must start by forgetting what an earlier run
 * left in its arguments. */
typedef int (*queue_change_fn)(struct queue_tx *tx, void *arg, struct sd_error *err);

struct change_request {
    queue_change_fn change;
    void *arg;
    int rc;
    struct sd_error err;
    bool done;
    struct change_request *next;
};

/* At most this many changes share a transaction. */
#define QUEUE_GROUP_MAX 32

/* Writes the status document of a job `tx` changed and remembers it for the announcement:
 * `text` when the caller rendered it before the transaction (job_status_render), else built
 * from `row`, the job as just read in `tx`, or read again when that is NULL. */
static int tx_changed(struct queue_tx *tx, const char *id, const struct job_record *row,
                      const char *text, struct sd_error *err)
{
    if (tx->nchanged == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 2;
        struct changed_job *grown = realloc(tx->changed, cap * sizeof *grown);
        if (!grown)
            return sd_error_nomem(err);
        tx->changed = grown;
        tx->cap = cap;
    }
    struct changed_job *c = &tx->changed[tx->nchanged];
    snprintf(c->id, sizeof c->id, "%s", id);
    int rc = 0;
    if (text)
        job_status_publish_in(tx->q->status, tx->db, id, text, &c->seq);
    else
        rc = job_status_refresh_in(tx->q->status, tx->db, id, row, &c->seq, err);
    if (rc == 0)
        tx->nchanged++;
    return rc;
}

/* Runs `count` requests in one transaction. 0 when all of them committed; else the failed
 * request's code (or the transaction's, in each request's err), and nothing committed. */
static int write_group(struct queue *q, struct change_request **group, size_t count)
{
    struct queue_tx tx = {.q = q};
    struct sd_error err = SD_ERROR_INIT;
    int rc = store_acquire_queue(q->store, &tx.db, &err);
    if (rc == 0)
        rc = db_begin(tx.db, &err);
    for (size_t i = 0; rc == 0 && i < count; i++)
        if ((rc = group[i]->change(&tx, group[i]->arg, &group[i]->err)) != 0)
            group[i]->rc = rc;
    if (rc == 0)
        rc = db_commit(tx.db, &err);
    store_release(q->store, tx.db); /* rolls back what did not commit */
    for (size_t i = 0; rc == 0 && i < tx.nchanged; i++)
        job_status_announce(q->status, tx.changed[i].id, tx.changed[i].seq);
    free(tx.changed);
    for (size_t i = 0; i < count; i++) {
        if (rc == 0 || !group[i]->rc) {
            group[i]->rc = rc;
            if (rc)
                group[i]->err = err;
        }
    }
    return rc;
}

static int in_transaction(struct queue *q, queue_change_fn change, void *arg, struct sd_error *err)
{
    struct change_request me = {.change = change, .arg = arg, .err = SD_ERROR_INIT};
    pthread_mutex_lock(&q->lock);
    if (q->waiting_tail)
        q->waiting_tail->next = &me;
    else
        q->waiting = &me;
    q->waiting_tail = &me;
    while (!me.done && (q->writing || q->waiting != &me))
        pthread_cond_wait(&q->written, &q->lock);
    if (!me.done) {
        /* This thread writes the group: every change waiting, up to QUEUE_GROUP_MAX. */
        struct change_request *group[QUEUE_GROUP_MAX];
        size_t count = 0;
        for (struct change_request *r = q->waiting; r && count < QUEUE_GROUP_MAX; r = r->next)
            group[count++] = r;
        q->waiting = group[count - 1]->next;
        if (!q->waiting)
            q->waiting_tail = NULL;
        q->writing = true;
        pthread_mutex_unlock(&q->lock);
        if (write_group(q, group, count) != 0 && count > 1)
            for (size_t i = 0; i < count; i++) {
                group[i]->rc = 0;
                group[i]->err = (struct sd_error)SD_ERROR_INIT;
                write_group(q, &group[i], 1);
            }
        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < count; i++)
            group[i]->done = true;
        q->writing = false;
        pthread_cond_broadcast(&q->written);
    }
    pthread_mutex_unlock(&q->lock);
    if (me.rc && err)
        *err = me.err;
    return me.rc;
}

/* A batch of new jobs, rows and documents rendered before the transaction. */
struct enqueue_args {
    struct job_record *rows;
    char **documents;
    size_t count;
};

static int do_insert(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct enqueue_args *e = arg;
    int rc = 0;
    for (size_t i = 0; i < e->count && rc == 0; i++)
        if ((rc = job_store_insert(tx->db, &e->rows[i], err)) == 0)
            rc = tx_changed(tx, e->rows[i].id, NULL, e->documents[i], err);
    return rc;
}

static void enqueue_args_free(struct enqueue_args *e)
{
    for (size_t i = 0; i < e->count; i++) {
        if (e->rows)
            free(e->rows[i].payload);
        if (e->documents)
            free(e->documents[i]);
    }
    free(e->rows);
    free(e->documents);
}

/* The rows as they will be inserted (job_store_insert's columns), which is all their
 * documents need. */
static int enqueue_args_init(struct enqueue_args *e, struct queue *q, struct queue_new_job *jobs,
                             size_t count, struct sd_error *err)
{
    int64_t now = now_ms(q);
    e->count = count;
    e->rows = calloc(count ? count : 1, sizeof *e->rows);
    e->documents = calloc(count ? count : 1, sizeof *e->documents);
    if (!e->rows || !e->documents)
        return sd_error_nomem(err);
    for (size_t i = 0; i < count; i++) {
        struct queue_new_job *n = &jobs[i];
        struct job_record *row = &e->rows[i];
        memcpy(row->id, n->id, sizeof row->id);
        row->kind = (char *)n->kind;
        row->template_id = n->template_id;
        row->status = JOB_STATUS_PENDING;
        row->max_attempts = q->opts.max_attempts;
        row->run_at = n->run_at_ms ? n->run_at_ms : now;
        row->created_at = row->updated_at = now;
        if (!(row->payload = json_dumps(n->payload, JSON_COMPACT | JSON_SORT_KEYS)) ||
            !(e->documents[i] = job_status_render(q->status, row)))
            return sd_error_nomem(err);
    }
    return 0;
}

int queue_enqueue_batch(struct queue *q, struct queue_new_job *jobs, size_t count,
                        struct sd_error *err)
{
    assert(q && (jobs || count == 0));
    int rc;
    for (size_t i = 0; i < count; i++) {
        assert(jobs[i].kind && jobs[i].payload);
        if (!jobs[i].id[0] && (rc = job_id_generate(jobs[i].id, err)) < 0)
            return rc;
        assert(job_id_valid(jobs[i].id));
    }
    struct enqueue_args e = {0};
    rc = enqueue_args_init(&e, q, jobs, count, err);
    if (rc == 0)
        rc = in_transaction(q, do_insert, &e, err);
    enqueue_args_free(&e);
    if (rc)
        return count == 1 ? sd_error_prefix(err, "could not enqueue the %s job", jobs[0].kind)
                          : sd_error_prefix(err, "could not enqueue %zu jobs", count);
    waker_poke(q->waker);
    if (count == 1)
        log_kv(SD_LOG_INFO, "job enqueued", "job_id", jobs[0].id, "kind", jobs[0].kind,
               "template_id", LOG_NUM(jobs[0].template_id), NULL);
    else if (count > 1) /* one line for a batch, not a thousand */
        log_kv(SD_LOG_INFO, "jobs enqueued", "count", LOG_NUM((long long)count), "first_job_id",
               jobs[0].id, "last_job_id", jobs[count - 1].id, NULL);
    return 0;
}

int queue_enqueue(struct queue *q, char id[JOB_ID_LEN + 1], const char *kind, int64_t template_id,
                  const json_t *payload, int64_t run_at_ms, struct sd_error *err)
{
    assert(id);
    struct queue_new_job job = {
        .kind = kind, .template_id = template_id, .payload = payload, .run_at_ms = run_at_ms};
    memcpy(job.id, id, sizeof job.id);
    int rc = queue_enqueue_batch(q, &job, 1, err);
    if (rc == 0)
        memcpy(id, job.id, sizeof job.id);
    return rc;
}

/* Claims the next due job in `tx`: 0 with *out, or SD_ENOTFOUND. */
static int claim_in(struct job_record **out, struct queue_tx *tx, int64_t process_id, int64_t now,
                    struct sd_error *err)
{
    int rc = job_store_claim(out, tx->db, process_id, now, err);
    if (rc == 0 && (rc = tx_changed(tx, (*out)->id, *out, NULL, err)) != 0) {
        job_record_free(*out);
        *out = NULL;
    }
    return rc;
}

struct claim_args {
    struct job_record **out;
    int64_t process_id, now;
};

static int do_claim(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct claim_args *c = arg;
    job_record_free(*c->out); /* from a run of a group that failed */
    *c->out = NULL;
    /* Nothing due is no failure of the group's transaction: *out stays NULL. */
    int rc = claim_in(c->out, tx, c->process_id, c->now, err);
    return rc == SD_ENOTFOUND ? 0 : rc;
}

int queue_claim(struct job_record **out, struct queue *q, int64_t process_id, struct sd_error *err)
{
    assert(out && q);
    *out = NULL;
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
        rc = in_transaction(q, do_claim, &c, err);
    if (rc) {
        job_record_free(*out);
        *out = NULL;
    }
    return rc ? rc : *out ? 0 : SD_ENOTFOUND;
}

struct finish_args {
    const struct job_record *job;
    const char *status, *message;
    char *document;
    char *ended_text; /* the ended job's status document, rendered before the transaction */
    int64_t rows, now;
    struct job_record **next; /* NULL: claim nothing */
    bool claim_failed;
};

static int do_finish(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct finish_args *f = arg;
    const struct job_record *job = f->job;
    if (f->next) { /* a run of a group that failed may have claimed one */
        job_record_free(*f->next);
        *f->next = NULL;
    }
    f->claim_failed = false;
    int rc = job_store_finish(tx->db, job->id, job->process_id, f->status, f->message, f->document,
                              f->rows, f->now, err);
    if (rc == 0)
        rc = tx_changed(tx, job->id, NULL, f->ended_text, err);
    if (rc == 0 && f->next) {
        rc = claim_in(f->next, tx, job->process_id, f->now, err);
        if (rc == SD_ENOTFOUND)
            rc = 0;
        f->claim_failed = rc != 0;
    }
    return rc;
}

int queue_finish_and_claim(struct queue *q, const struct job_record *job, const char *status,
                           const char *message, const json_t *result_part, struct job_record **next,
                           struct sd_error *err)
{
    assert(q && job && status);
    if (next)
        *next = NULL;
    struct finish_args f = {job, status, message, NULL, NULL, 0, now_ms(q), next, false};
    if (result_part && !(f.document = json_dumps(result_part, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        return sd_error_nomem(err);
    /* The rows it moved, for /metrics: inserted and updated by an import, written by an
     * export. */
    json_t *result = json_object_get(result_part, "result");
    f.rows = json_integer_value(json_object_get(result, "imported")) +
             json_integer_value(json_object_get(result, "updated")) +
             json_integer_value(json_object_get(result, "exported"));
    /* The fenced update (job_store_finish) changes exactly these columns of the row the
     * worker holds. */
    struct job_record ended = *job;
    ended.status = (char *)status;
    ended.message = (char *)message;
    ended.document = f.document;
    ended.finished_at = ended.updated_at = f.now;
    ended.process_id = ended.worker_pid = 0;
    ended.worker_hostname = NULL;
    if (!(f.ended_text = job_status_render(q->status, &ended))) {
        free(f.document);
        return sd_error_nomem(err);
    }
    int rc = in_transaction(q, do_finish, &f, err);
    if (rc && next) { /* claimed in a transaction that did not commit */
        job_record_free(*next);
        *next = NULL;
    }
    if (rc && f.claim_failed) {
        /* The claim took the finish down with it (PostgreSQL aborts a transaction at its
         * first error): the end of this job must not depend on the next one. */
        log_kv(SD_LOG_WARN, "claiming the next job failed", "error", sd_error_message(err), NULL);
        f.next = NULL;
        rc = in_transaction(q, do_finish, &f, err);
    }
    free(f.document);
    free(f.ended_text);
    if (rc == 0)
        log_kv(SD_LOG_INFO, "job finished", "job_id", job->id, "kind", job->kind, "status", status,
               "attempts", LOG_NUM(job->attempts), NULL);
    return rc;
}

int queue_finish(struct queue *q, const struct job_record *job, const char *status,
                 const char *message, const json_t *result_part, struct sd_error *err)
{
    return queue_finish_and_claim(q, job, status, message, result_part, NULL, err);
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

static int do_release(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct release_args *r = arg;
    int rc = job_store_release(tx->db, r->job->id, r->job->process_id, r->run_at, r->refund,
                               r->message, r->now, err);
    return rc ? rc : tx_changed(tx, r->job->id, NULL, NULL, err);
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
    int rc = in_transaction(q, do_release, &r, err);
    if (rc == 0)
        log_kv(SD_LOG_INFO, "job will be retried", "job_id", job->id, "attempt",
               LOG_NUM(job->attempts), "delay_ms", LOG_NUM(delay), NULL);
    return rc;
}

int queue_hand_back(struct queue *q, const struct job_record *job, struct sd_error *err)
{
    struct release_args r = {job, now_ms(q), now_ms(q), true,
                             "Handed back: its worker was stopping"};
    int rc = in_transaction(q, do_release, &r, err);
    if (rc == 0)
        waker_poke(q->waker);
    return rc;
}

struct cancel_args {
    const char *id;
    int64_t now;
    const char **outcome;
};

static int do_cancel(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct cancel_args *c = arg;
    int rc = job_store_cancel(tx->db, c->id, c->now, c->outcome, err);
    return rc ? rc : tx_changed(tx, c->id, NULL, NULL, err);
}

int queue_cancel(struct queue *q, const char *id, const char **outcome, struct sd_error *err)
{
    struct cancel_args c = {id, now_ms(q), outcome};
    return in_transaction(q, do_cancel, &c, err);
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

struct retry_args {
    const char *id;
    int64_t now;
};

static int do_retry(struct queue_tx *tx, void *arg, struct sd_error *err)
{
    struct retry_args *r = arg;
    int rc = job_store_retry(tx->db, r->id, r->now, err);
    return rc ? rc : tx_changed(tx, r->id, NULL, NULL, err);
}

int queue_retry(struct queue *q, const char *id, struct sd_error *err)
{
    struct retry_args r = {id, now_ms(q)};
    int rc = in_transaction(q, do_retry, &r, err);
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
