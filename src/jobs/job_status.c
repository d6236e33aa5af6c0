/* JobStatusService (job_status.h). */
#include "jobs/job_status.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/queue_tables.h"

struct job_status_service {
    struct store *store;
    struct broadcaster *broadcaster;
    const struct sd_clock *clock;
};

int job_status_service_new(struct job_status_service **out, struct store *store,
                           struct broadcaster *broadcaster, const struct sd_clock *clock,
                           struct sd_error *err)
{
    assert(out && store && broadcaster);
    struct job_status_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return sd_error_nomem(err);
    svc->store = store;
    svc->broadcaster = broadcaster;
    svc->clock = clock ? clock : clock_system();
    *out = svc;
    return 0;
}

void job_status_service_free(struct job_status_service *svc)
{
    free(svc);
}

char *job_status_key(char *out, size_t size, const char *job_id)
{
    snprintf(out, size, "job_status:%s", job_id);
    return out;
}

/* An ISO 8601 string for a time in ms, or JSON null for 0. */
static json_t *time_or_null(int64_t ms)
{
    if (!ms)
        return json_null();
    char text[40];
    return json_string(clock_format_iso8601(text, sizeof text, ms));
}

/* The sentence a row without a message of its own gets. */
static const char *default_message(const struct job_record *job)
{
    bool import = !strcmp(job->kind, "import");
    if (!strcmp(job->status, JOB_STATUS_PENDING))
        return job->attempts > 0 ? "Waiting to be retried" : "Waiting for a worker";
    if (!strcmp(job->status, JOB_STATUS_PROCESSING))
        return import ? "Importing" : "Exporting";
    if (!strcmp(job->status, JOB_STATUS_CANCELLED))
        return "Cancelled";
    if (!strcmp(job->status, JOB_STATUS_COMPLETED))
        return "Completed";
    return "Failed";
}

int job_status_document(json_t **out, const struct job_record *job, const json_t *progress,
                        struct sd_error *err)
{
    assert(out && job);
    *out = NULL;
    json_t *doc = json_object();
    json_t *files = json_pack("{s:n, s:n}", "report", "download");
    if (!doc || !files)
        goto nomem;
    int bad = 0;
    bad |= json_object_set_new(doc, "job_id", json_string(job->id));
    bad |= json_object_set_new(doc, "kind", json_string(job->kind));
    bad |= json_object_set_new(doc, "template_id", json_integer(job->template_id));
    bad |= json_object_set_new(doc, "status", json_string(job->status));
    bad |= json_object_set_new(doc, "message",
                               json_string(job->message ? job->message : default_message(job)));
    if (progress)
        bad |= json_object_set(doc, "progress", (json_t *)progress);
    bad |= json_object_set_new(doc, "attempts", json_integer(job->attempts));
    bad |= json_object_set_new(doc, "created_at", time_or_null(job->created_at));
    /* When the current attempt began: rate and elapsed time count from here, not from the
     * time spent waiting in the queue. */
    bad |= json_object_set_new(doc, "started_at", time_or_null(job->claimed_at));
    bad |= json_object_set_new(doc, "updated_at", time_or_null(job->updated_at));
    bad |= json_object_set_new(doc, "finished_at", time_or_null(job->finished_at));
    if (job->worker_hostname)
        bad |= json_object_set_new(doc, "worker",
                                   json_pack("{s:I, s:s}", "pid", (json_int_t)job->worker_pid,
                                             "hostname", job->worker_hostname));
    bad |= json_object_set(doc, "files", files);
    if (bad)
        goto nomem;
    /* The stored result part (result, errors, error_count, files) of an ended job. */
    if (job->document) {
        json_error_t jerr;
        json_t *part = json_loads(job->document, 0, &jerr);
        if (json_is_object(part)) {
            json_t *part_files = json_object_get(part, "files");
            if (json_is_object(part_files))
                json_object_update(files, part_files);
            json_object_del(part, "files");
            json_object_update(doc, part);
        } else {
            log_kv(SD_LOG_WARN, "a job's stored result is not JSON", "job_id", job->id, NULL);
        }
        json_decref(part);
    }
    json_decref(files);
    *out = doc;
    return 0;
nomem:
    json_decref(files);
    json_decref(doc);
    return sd_error_nomem(err);
}

/* Reads the row and builds its document. */
static int document_from_row(json_t **out, struct job_status_service *svc, const char *id,
                             struct sd_error *err)
{
    struct db *db = NULL;
    struct job_record *job = NULL;
    int rc = store_acquire_queue(svc->store, &db, err);
    if (rc == 0)
        rc = job_store_get(&job, db, id, err);
    store_release(svc->store, db);
    if (rc == 0)
        rc = job_status_document(out, job, NULL, err);
    job_record_free(job);
    return rc;
}

int job_status_get(json_t **out, int64_t *seq, struct job_status_service *svc, const char *id,
                   struct sd_error *err)
{
    assert(out && svc && id);
    *out = NULL;
    if (seq)
        *seq = 0;
    char key[48];
    job_status_key(key, sizeof key, id);
    struct db *db = NULL;
    char *text = NULL;
    struct sd_error cache_err = SD_ERROR_INIT;
    int rc = store_acquire_queue(svc->store, &db, &cache_err);
    if (rc == 0)
        rc = cache_store_get(&text, seq, db, key, clock_now_ms(svc->clock), &cache_err);
    store_release(svc->store, db);
    if (rc == 0) {
        json_error_t jerr;
        *out = json_loads(text, 0, &jerr);
        free(text);
        if (json_is_object(*out))
            return 0;
        json_decref(*out);
        *out = NULL;
        log_kv(SD_LOG_WARN, "a cached job status is not JSON; reading the job instead", "job_id",
               id, NULL);
    } else if (rc != SD_ENOTFOUND) {
        log_kv(SD_LOG_WARN, "job status cache read failed; reading the job instead", "job_id", id,
               "error", sd_error_message(&cache_err), NULL);
    }
    if (seq)
        *seq = 0;
    return document_from_row(out, svc, id, err);
}

/* Stamps updated_at and serializes a document for the cache. NULL for want of memory. */
static char *document_text(struct job_status_service *svc, json_t *doc)
{
    char updated[40];
    clock_format_iso8601(updated, sizeof updated, clock_now_ms(svc->clock));
    if (json_object_set_new(doc, "updated_at", json_string(updated)))
        return NULL;
    return json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

char *job_status_render(struct job_status_service *svc, const struct job_record *row)
{
    json_t *doc = NULL;
    struct sd_error err = SD_ERROR_INIT;
    char *text = job_status_document(&doc, row, NULL, &err) == 0 ? document_text(svc, doc) : NULL;
    json_decref(doc);
    return text;
}

/*
 * Writes a document's text and its broadcast row through `db`, inside the caller's
 * transaction, and queues the NOTIFY that wakes other processes (sent at commit on
 * PostgreSQL; nothing on SQLite, whose watchers see the commit itself). *seq gets the
 * change's sequence number.
 */
static int write_in(struct job_status_service *svc, struct db *db, const char *key,
                    const char *text, int64_t *seq, struct sd_error *err)
{
    int64_t now = clock_now_ms(svc->clock);
    int rc = cache_store_publish(db, key, text, now + JOB_STATUS_TTL_MS, now, seq, err);
    return rc ? rc : db_notify(db, WAKER_CHANNEL, err);
}

/* The text of `doc`, or with `id_to_read` (doc NULL) of the document job id_to_read's row
 * implies, as read through `db`, so it always says what the row says. */
static int render_in(char **text, struct job_status_service *svc, struct db *db, json_t *doc,
                     const char *id_to_read, struct sd_error *err)
{
    struct job_record *row = NULL;
    json_t *built = NULL;
    int rc = 0;
    if (id_to_read && (rc = job_store_get(&row, db, id_to_read, err)) == 0 &&
        (rc = job_status_document(&built, row, NULL, err)) == 0)
        doc = built;
    if (rc == 0 && !(*text = document_text(svc, doc)))
        rc = sd_error_nomem(err);
    json_decref(built);
    job_record_free(row);
    return rc;
}

/* `doc` (or job id_to_read's row, read in the transaction) written in a transaction of its
 * own, then this process's subscribers told. */
static int write_cache(struct job_status_service *svc, const char *key, json_t *doc,
                       const char *id_to_read, struct sd_error *err)
{
    struct db *db = NULL;
    char *text = NULL;
    int64_t seq = 0;
    int rc = store_acquire_queue(svc->store, &db, err);
    if (rc == 0)
        rc = db_begin(db, err);
    if (rc == 0)
        rc = render_in(&text, svc, db, doc, id_to_read, err);
    if (rc == 0)
        rc = write_in(svc, db, key, text, &seq, err);
    if (rc == 0)
        rc = db_commit(db, err);
    store_release(svc->store, db);
    free(text);
    if (rc == 0)
        broadcast_deliver(svc->broadcaster, key, seq);
    return rc;
}

static void log_cache_failure(const char *id, const struct sd_error *cache_err)
{
    log_kv(SD_LOG_WARN, "job status cache write failed; the job's row still has its state",
           "job_id", id, "error", sd_error_message(cache_err), NULL);
}

/*
 * The status half of a queue change (queue.c), in the caller's transaction: a cache that
 * cannot be written is logged and the change to the jobs row still commits (the write
 * leaves the transaction usable: cache_store_publish); the row stays the source of truth.
 */
void job_status_publish_in(struct job_status_service *svc, struct db *db, const char *id,
                           const char *text, int64_t *seq)
{
    char key[48];
    job_status_key(key, sizeof key, id);
    struct sd_error cache_err = SD_ERROR_INIT;
    if (write_in(svc, db, key, text, seq, &cache_err)) {
        log_cache_failure(id, &cache_err);
        *seq = 0;
    }
}

int job_status_refresh_in(struct job_status_service *svc, struct db *db, const char *id,
                          const struct job_record *row, int64_t *seq, struct sd_error *err)
{
    *seq = 0;
    char *text = NULL;
    struct sd_error cache_err = SD_ERROR_INIT;
    int rc = row ? ((text = job_status_render(svc, row)) ? 0 : sd_error_nomem(&cache_err))
                 : render_in(&text, svc, db, NULL, id, &cache_err);
    if (rc == SD_ENOTFOUND)
        return sd_error_set(err, rc, "%s", sd_error_message(&cache_err));
    if (rc == 0)
        job_status_publish_in(svc, db, id, text, seq);
    else
        log_cache_failure(id, &cache_err);
    free(text);
    return 0;
}

void job_status_announce(struct job_status_service *svc, const char *id, int64_t seq)
{
    char key[48];
    if (seq > 0)
        broadcast_deliver(svc->broadcaster, job_status_key(key, sizeof key, id), seq);
}

int job_status_update(struct job_status_service *svc, const char *id, json_t *doc,
                      struct sd_error *err)
{
    assert(svc && id && doc);
    (void)err;
    char key[48];
    job_status_key(key, sizeof key, id);
    struct sd_error cache_err = SD_ERROR_INIT;
    if (write_cache(svc, key, doc, NULL, &cache_err))
        log_cache_failure(id, &cache_err);
    return 0;
}

int job_status_refresh(struct job_status_service *svc, const char *id, struct sd_error *err)
{
    assert(svc && id);
    char key[48];
    job_status_key(key, sizeof key, id);
    struct sd_error cache_err = SD_ERROR_INIT;
    int rc = write_cache(svc, key, NULL, id, &cache_err);
    if (rc == SD_ENOTFOUND)
        return sd_error_set(err, rc, "%s", sd_error_message(&cache_err));
    if (rc)
        log_cache_failure(id, &cache_err);
    return 0;
}

/* Writes the progress the throttle state holds. */
static int write_progress(struct job_status_service *svc, const struct job_record *job,
                          struct job_progress *p, struct sd_error *err)
{
    json_int_t percent = p->total ? (json_int_t)(p->processed * 100 / p->total) : 0;
    if (percent > 100)
        percent = 100;
    json_t *progress = json_pack("{s:I, s:I, s:I}", "processed", (json_int_t)p->processed, "total",
                                 (json_int_t)p->total, "percent", percent);
    if (!progress)
        return sd_error_nomem(err);
    /* The row's message is the last sentence of the previous attempt; while processing,
     * the progress sentence is the one to show. */
    struct job_record shown = *job;
    shown.message = p->message;
    json_t *doc = NULL;
    int rc = job_status_document(&doc, &shown, progress, err);
    json_decref(progress);
    if (rc == 0)
        rc = job_status_update(svc, job->id, doc, err);
    json_decref(doc);
    p->last_write_ms = clock_monotonic_ms(svc->clock);
    p->held_back = false;
    return rc;
}

int job_status_update_progress(struct job_status_service *svc, const struct job_record *job,
                               struct job_progress *p, const char *message, uint64_t processed,
                               uint64_t total, struct sd_error *err)
{
    assert(svc && job && p && message);
    p->processed = processed;
    p->total = total;
    snprintf(p->message, sizeof p->message, "%s", message);
    int64_t now = clock_monotonic_ms(svc->clock);
    if (p->last_write_ms && now - p->last_write_ms < 1000 / JOB_STATUS_PROGRESS_PER_SECOND) {
        p->held_back = true;
        return 0;
    }
    return write_progress(svc, job, p, err);
}

int job_status_flush_progress(struct job_status_service *svc, const struct job_record *job,
                              struct job_progress *p, struct sd_error *err)
{
    return p->held_back ? write_progress(svc, job, p, err) : 0;
}

int job_status_sweep(struct job_status_service *svc, int64_t *removed, struct sd_error *err)
{
    struct db *db = NULL;
    int rc = store_acquire_queue(svc->store, &db, err);
    if (rc == 0)
        rc = cache_store_sweep(db, clock_now_ms(svc->clock), removed, err);
    store_release(svc->store, db);
    return rc;
}

int job_status_forget(struct job_status_service *svc, const char *id, struct sd_error *err)
{
    char key[48];
    job_status_key(key, sizeof key, id);
    struct db *db = NULL;
    int rc = store_acquire_queue(svc->store, &db, err);
    if (rc == 0)
        rc = cache_store_delete(db, key, err);
    store_release(svc->store, db);
    return rc;
}
