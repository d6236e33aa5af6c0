/*
 * The jobs table (job_store.h). Each function is one or two statements on the caller's
 * queue connection. Two claimers never get the same job: PostgreSQL claims with one UPDATE
 * of the row a sub-select picks with the dialect's SKIP LOCKED, SQLite reads the next job
 * and updates it only if it is still pending (job_store_claim).
 */
#include "store/job_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_backend.h"

/* The columns record_from_row reads: the job's own, then its worker's pid and hostname. */
#define JOB_COLUMNS_OF_ROW                                                                         \
    "j.id, j.kind, j.template_id, j.status, j.payload, j.attempts, j.max_attempts, j.run_at, "     \
    "j.process_id, j.cancel_requested, j.message, j.document, j.created_at, j.claimed_at, "        \
    "j.finished_at, j.updated_at"
#define JOB_COLUMNS JOB_COLUMNS_OF_ROW ", p.pid, p.hostname"
/* A claim's worker, $1's process, in place of the join (RETURNING cannot join). */
#define CLAIMER_COLUMNS                                                                            \
    "(SELECT pid FROM processes WHERE id = $1), (SELECT hostname FROM processes WHERE id = $1)"
#define JOB_FROM " FROM jobs j LEFT JOIN processes p ON p.id = j.process_id"

static void record_clear(struct job_record *j)
{
    free(j->kind);
    free(j->status);
    free(j->payload);
    free(j->message);
    free(j->document);
    free(j->worker_hostname);
    memset(j, 0, sizeof *j);
}

void job_record_free(struct job_record *job)
{
    if (!job)
        return;
    record_clear(job);
    free(job);
}

void job_record_list_free(struct job_record *jobs, size_t count)
{
    if (!jobs)
        return;
    for (size_t i = 0; i < count; i++)
        record_clear(&jobs[i]);
    free(jobs);
}

/* A copy of a nullable text column; *ok goes false when a copy could not be made. */
static char *dup_nullable(struct db_stmt *stmt, int col, bool *ok)
{
    const char *text = db_column_text(stmt, col);
    if (!text)
        return NULL;
    char *copy = str_dup(text);
    if (!copy)
        *ok = false;
    return copy;
}

static int64_t int_or_zero(struct db_stmt *stmt, int col)
{
    return db_column_is_null(stmt, col) ? 0 : db_column_int64(stmt, col);
}

/* Copies the current row (JOB_COLUMNS order) into *j, which owns the copies. */
static int record_from_row(struct job_record *j, struct db_stmt *stmt, struct sd_error *err)
{
    bool ok = true;
    const char *id = db_column_text(stmt, 0);
    snprintf(j->id, sizeof j->id, "%s", id ? id : "");
    j->kind = dup_nullable(stmt, 1, &ok);
    j->template_id = int_or_zero(stmt, 2);
    j->status = dup_nullable(stmt, 3, &ok);
    j->payload = dup_nullable(stmt, 4, &ok);
    j->attempts = (int)int_or_zero(stmt, 5);
    j->max_attempts = (int)int_or_zero(stmt, 6);
    j->run_at = int_or_zero(stmt, 7);
    j->process_id = int_or_zero(stmt, 8);
    j->cancel_requested = int_or_zero(stmt, 9) != 0;
    j->message = dup_nullable(stmt, 10, &ok);
    j->document = dup_nullable(stmt, 11, &ok);
    j->created_at = int_or_zero(stmt, 12);
    j->claimed_at = int_or_zero(stmt, 13);
    j->finished_at = int_or_zero(stmt, 14);
    j->updated_at = int_or_zero(stmt, 15);
    j->worker_pid = int_or_zero(stmt, 16);
    j->worker_hostname = dup_nullable(stmt, 17, &ok);
    if (!ok || !j->kind || !j->status || !j->payload) {
        record_clear(j);
        return sd_error_nomem(err);
    }
    return 0;
}

/* The new row is made of `job`'s fields alone (queue.c renders its document from them). */
int job_store_insert(struct db *db, const struct job_record *job, struct sd_error *err)
{
    assert(db && job && job_id_valid(job->id) && job->kind && job->payload);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "INSERT INTO jobs (id, kind, template_id, status, payload, max_attempts, "
                        "run_at, created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, "
                        "$6, $7, $7)",
                        err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, job->id);
    db_bind_cstr(stmt, 2, job->kind);
    db_bind_int64(stmt, 3, job->template_id);
    db_bind_cstr(stmt, 4, job->payload);
    db_bind_int64(stmt, 5, job->max_attempts);
    db_bind_int64(stmt, 6, job->run_at);
    db_bind_int64(stmt, 7, job->created_at);
    return db_run(stmt, NULL, err);
}

int job_store_any_due(struct db *db, int64_t now_ms, bool *due, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    *due = false;
    int rc = db_prepare(
        &stmt, db, "SELECT 1 FROM jobs WHERE status = 'pending' AND run_at <= $1 LIMIT 1", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, now_ms);
    rc = db_step(stmt, err);
    *due = rc == DB_ROW;
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

/* Reads the job with `id` through JOB_COLUMNS. */
int job_store_get(struct job_record **out, struct db *db, const char *id, struct sd_error *err)
{
    assert(out && db && id);
    *out = NULL;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "SELECT " JOB_COLUMNS JOB_FROM " WHERE j.id = $1", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, id);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        struct job_record *j = calloc(1, sizeof *j);
        if (!j)
            rc = sd_error_nomem(err);
        else if ((rc = record_from_row(j, stmt, err)) < 0)
            free(j);
        else
            *out = j;
    } else if (rc == DB_DONE) {
        rc = sd_error_set(err, SD_ENOTFOUND, "there is no job %.32s", id);
    }
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

/*
 * PostgreSQL: one statement, which locks the row the sub-select found and lets a concurrent
 * claimer skip it (the dialect's SKIP LOCKED), and returns the claimed row in JOB_COLUMNS
 * order.
 */
static int claim_returning(struct job_record **out, struct db *db, int64_t process_id,
                           int64_t now_ms, struct sd_error *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE jobs AS j SET status = 'processing', attempts = attempts + 1, process_id = "
             "$1, claimed_at = $2, updated_at = $2 WHERE id = (SELECT id FROM jobs WHERE status "
             "= 'pending' AND run_at <= $2 ORDER BY run_at, created_at LIMIT 1%s) "
             "RETURNING " JOB_COLUMNS_OF_ROW ", " CLAIMER_COLUMNS,
             db_dialect_of(db)->skip_locked);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, process_id);
    db_bind_int64(stmt, 2, now_ms);
    struct job_record *job = NULL;
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        if (!(job = calloc(1, sizeof *job)))
            rc = sd_error_nomem(err);
        else if ((rc = record_from_row(job, stmt, err)) == 0)
            rc = db_step(stmt, err);
    }
    db_finalize(stmt);
    if (rc < 0 || !job) {
        job_record_free(job);
        return rc < 0 ? rc : SD_ENOTFOUND;
    }
    *out = job;
    return 0;
}

/* Marks the job `rowid` claimed if it is still pending: 1 when it was, 0 when another
 * claimer took it first. */
static int claim_rowid(struct db *db, int64_t rowid, int64_t process_id, int64_t now_ms,
                       struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "UPDATE jobs SET status = 'processing', attempts = attempts + 1, "
                        "process_id = $1, claimed_at = $2, updated_at = $2 WHERE rowid = $3 AND "
                        "status = 'pending'",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, process_id);
    db_bind_int64(stmt, 2, now_ms);
    db_bind_int64(stmt, 3, rowid);
    int64_t changed = 0;
    rc = db_run(stmt, &changed, err);
    return rc ? rc : changed == 1;
}

/*
 * SQLite: RETURNING there keeps its rows in a temporary table before handing out the first,
 * which cost half of every claim. The caller's transaction holds the write lock, so reading
 * the next job and then updating it by rowid is as atomic; and the update's own "still
 * pending" condition keeps it so outside a transaction too (a claim that lost the row to
 * another connection reads the next one).
 */
static int claim_select_update(struct job_record **out, struct db *db, int64_t process_id,
                               int64_t now_ms, struct sd_error *err)
{
    for (;;) {
        struct db_stmt *stmt = NULL;
        int rc = db_prepare(&stmt, db,
                            "SELECT " JOB_COLUMNS_OF_ROW ", " CLAIMER_COLUMNS
                            ", j.rowid FROM jobs j WHERE j.status = 'pending' AND j.run_at <= $2 "
                            "ORDER BY j.run_at, j.created_at LIMIT 1",
                            err);
        if (rc)
            return rc;
        db_bind_int64(stmt, 1, process_id);
        db_bind_int64(stmt, 2, now_ms);
        struct job_record *job = NULL;
        int64_t rowid = 0;
        rc = db_step(stmt, err);
        if (rc == DB_ROW) {
            rowid = db_column_int64(stmt, 18); /* after the 18 columns record_from_row reads */
            if (!(job = calloc(1, sizeof *job)))
                rc = sd_error_nomem(err);
            else
                rc = record_from_row(job, stmt, err);
        }
        db_finalize(stmt);
        if (rc < 0 || !job) {
            job_record_free(job);
            return rc < 0 ? rc : SD_ENOTFOUND;
        }
        /* allocated first, so that a row once claimed is always handed out */
        char *status = str_dup("processing");
        if (!status) {
            job_record_free(job);
            return sd_error_nomem(err);
        }
        if ((rc = claim_rowid(db, rowid, process_id, now_ms, err)) == 1) {
            free(job->status);
            job->status = status;
            job->attempts++;
            job->process_id = process_id;
            job->claimed_at = job->updated_at = now_ms;
            *out = job;
            return 0;
        }
        free(status);
        job_record_free(job);
        if (rc < 0)
            return rc;
        /* taken by another connection first: the next one */
    }
}

int job_store_claim(struct job_record **out, struct db *db, int64_t process_id, int64_t now_ms,
                    struct sd_error *err)
{
    assert(out && db);
    *out = NULL;
    return db_dialect_of(db)->cheap_returning
               ? claim_returning(out, db, process_id, now_ms, err)
               : claim_select_update(out, db, process_id, now_ms, err);
}

/* queue_finish_and_claim (queue.c) renders the ended job's document from the columns this
 * sets, before the transaction: a column added here belongs there too. */
int job_store_finish(struct db *db, const char *id, int64_t process_id, const char *status,
                     const char *message, const char *document, int64_t rows, int64_t now_ms,
                     struct sd_error *err)
{
    assert(db && id && status);
    struct db_stmt *stmt = NULL;
    int rc =
        db_prepare(&stmt, db,
                   "UPDATE jobs SET status = $1, message = $2, document = $3, "
                   "finished_at = $4, updated_at = $4, process_id = NULL, row_count = $7 WHERE "
                   "id = $5 AND status = 'processing' AND process_id = $6",
                   err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, status);
    db_bind_cstr(stmt, 2, message);
    db_bind_cstr(stmt, 3, document);
    db_bind_int64(stmt, 4, now_ms);
    db_bind_cstr(stmt, 5, id);
    db_bind_int64(stmt, 6, process_id);
    db_bind_int64(stmt, 7, rows);
    int64_t changed = 0;
    rc = db_run(stmt, &changed, err);
    if (rc == 0 && changed == 0)
        return sd_error_set(err, SD_ENOTFOUND,
                            "job %s is no longer held by this process (it was recovered by "
                            "another one)",
                            id);
    return rc;
}

int job_store_release(struct db *db, const char *id, int64_t process_id, int64_t run_at,
                      bool refund_attempt, const char *message, int64_t now_ms,
                      struct sd_error *err)
{
    assert(db && id);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "UPDATE jobs SET status = 'pending', process_id = NULL, run_at = $1, "
                        "attempts = attempts - $2, message = $3, updated_at = $4, "
                        "cancel_requested = 0 WHERE id = $5 AND status = 'processing' AND "
                        "process_id = $6",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, run_at);
    db_bind_int64(stmt, 2, refund_attempt ? 1 : 0);
    db_bind_cstr(stmt, 3, message);
    db_bind_int64(stmt, 4, now_ms);
    db_bind_cstr(stmt, 5, id);
    db_bind_int64(stmt, 6, process_id);
    int64_t changed = 0;
    rc = db_run(stmt, &changed, err);
    if (rc == 0 && changed == 0)
        return sd_error_set(err, SD_ENOTFOUND, "job %s is no longer held by this process", id);
    return rc;
}

/* Runs `sql` (one parameter: the id, then now) and reports whether it changed the row. */
static int update_by_id(struct db *db, const char *sql, const char *id, int64_t now_ms,
                        bool *changed, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, id);
    db_bind_int64(stmt, 2, now_ms);
    int64_t n = 0;
    rc = db_run(stmt, &n, err);
    *changed = n > 0;
    return rc;
}

/* The sentence for a job that exists but is in the wrong state for `action`. */
static int wrong_state(struct db *db, const char *id, const char *action, struct sd_error *err)
{
    struct job_record *job = NULL;
    int rc = job_store_get(&job, db, id, err);
    if (rc)
        return rc;
    rc = sd_error_set(err, SD_EINVALID, "job %s is %s and cannot be %s", id, job->status, action);
    job_record_free(job);
    return rc;
}

int job_store_cancel(struct db *db, const char *id, int64_t now_ms, const char **outcome,
                     struct sd_error *err)
{
    assert(db && id && outcome);
    bool changed = false;
    int rc = update_by_id(db,
                          "UPDATE jobs SET status = 'cancelled', finished_at = $2, updated_at = "
                          "$2, message = 'Cancelled before it started' WHERE id = $1 AND status "
                          "= 'pending'",
                          id, now_ms, &changed, err);
    if (rc || changed) {
        *outcome = JOB_STATUS_CANCELLED;
        return rc;
    }
    rc = update_by_id(db,
                      "UPDATE jobs SET cancel_requested = 1, updated_at = $2 WHERE id = $1 AND "
                      "status = 'processing'",
                      id, now_ms, &changed, err);
    if (rc || changed) {
        *outcome = JOB_STATUS_PROCESSING;
        return rc;
    }
    return wrong_state(db, id, "cancelled", err);
}

int job_store_cancel_requested(struct db *db, const char *id, bool *requested, struct sd_error *err)
{
    assert(db && id && requested);
    *requested = false;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "SELECT cancel_requested FROM jobs WHERE id = $1", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, id);
    rc = db_step(stmt, err);
    if (rc == DB_ROW)
        *requested = db_column_int64(stmt, 0) != 0;
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

int job_store_retry(struct db *db, const char *id, int64_t now_ms, struct sd_error *err)
{
    assert(db && id);
    bool changed = false;
    int rc = update_by_id(db,
                          "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $2, "
                          "updated_at = $2, finished_at = NULL, cancel_requested = 0, message = "
                          "NULL, document = NULL WHERE id = $1 AND status IN ('failed', "
                          "'cancelled')",
                          id, now_ms, &changed, err);
    if (rc || changed)
        return rc;
    return wrong_state(db, id, "retried", err);
}

/* Appends the WHERE conditions of `f` from parameter $first on; returns the next index. */
static int filter_sql(char *out, size_t size, const struct job_filter *f, bool with_status)
{
    int n = 1;
    size_t len = 0;
    out[0] = '\0';
    const char *sep = " WHERE ";
    if (with_status && f->status) {
        len += (size_t)snprintf(out + len, size - len, "%sj.status = $%d", sep, n++);
        sep = " AND ";
    }
    if (f->kind) {
        len += (size_t)snprintf(out + len, size - len, "%sj.kind = $%d", sep, n++);
        sep = " AND ";
    }
    if (f->template_id)
        snprintf(out + len, size - len, "%sj.template_id = $%d", sep, n++);
    return n;
}

static int filter_bind(struct db_stmt *stmt, const struct job_filter *f, bool with_status)
{
    int n = 1;
    if (with_status && f->status)
        db_bind_cstr(stmt, n++, f->status);
    if (f->kind)
        db_bind_cstr(stmt, n++, f->kind);
    if (f->template_id)
        db_bind_int64(stmt, n++, f->template_id);
    return n;
}

int job_store_list(struct job_record **out, size_t *count, struct db *db,
                   const struct job_filter *filter, struct sd_error *err)
{
    assert(out && count && db && filter);
    *out = NULL;
    *count = 0;
    char where[256], sql[1024];
    int next = filter_sql(where, sizeof where, filter, true);
    snprintf(sql, sizeof sql,
             "SELECT " JOB_COLUMNS JOB_FROM "%s ORDER BY j.created_at DESC, j.id LIMIT $%d "
             "OFFSET $%d",
             where, next, next + 1);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    next = filter_bind(stmt, filter, true);
    db_bind_int64(stmt, next, (int64_t)(filter->limit ? filter->limit : 50));
    db_bind_int64(stmt, next + 1, (int64_t)filter->offset);
    struct job_record *list = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct job_record *grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                rc = sd_error_nomem(err);
                break;
            }
            list = grown;
            cap = ncap;
        }
        memset(&list[n], 0, sizeof list[n]);
        if ((rc = record_from_row(&list[n], stmt, err)) < 0)
            break;
        n++;
    }
    db_finalize(stmt);
    if (rc < 0) {
        job_record_list_free(list, n);
        return rc;
    }
    *out = list;
    *count = n;
    return 0;
}

int job_store_count_by_status(struct db *db, const struct job_filter *filter, int64_t counts[5],
                              struct sd_error *err)
{
    static const char *const order[5] = {JOB_STATUS_PENDING, JOB_STATUS_PROCESSING,
                                         JOB_STATUS_COMPLETED, JOB_STATUS_FAILED,
                                         JOB_STATUS_CANCELLED};
    assert(db && filter && counts);
    memset(counts, 0, 5 * sizeof counts[0]);
    char where[256], sql[512];
    filter_sql(where, sizeof where, filter, false);
    snprintf(sql, sizeof sql, "SELECT j.status, COUNT(*) FROM jobs j%s GROUP BY j.status", where);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    filter_bind(stmt, filter, false);
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        const char *status = db_column_text(stmt, 0);
        for (int i = 0; i < 5; i++)
            if (status && !strcmp(status, order[i]))
                counts[i] = db_column_int64(stmt, 1);
    }
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

/* Single-value query helper: binds `id` as $1 and reads column 0 of the first row. */
static int query_int_by_id(struct db *db, const char *sql, const char *id, int64_t *value,
                           struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    if (id)
        db_bind_cstr(stmt, 1, id);
    rc = db_step(stmt, err);
    *value = rc == DB_ROW ? int_or_zero(stmt, 0) : 0;
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

int job_store_queue_position(struct db *db, const char *id, int64_t *position, struct sd_error *err)
{
    assert(db && id && position);
    return query_int_by_id(db,
                           "SELECT COUNT(*) FROM jobs o, jobs j WHERE j.id = $1 AND o.status = "
                           "'pending' AND (o.run_at < j.run_at OR (o.run_at = j.run_at AND "
                           "o.created_at < j.created_at))",
                           id, position, err);
}

int job_store_stats(struct db *db, struct job_stats stats[2], struct sd_error *err)
{
    static const char *const states[5] = {JOB_STATUS_PENDING, JOB_STATUS_PROCESSING,
                                          JOB_STATUS_COMPLETED, JOB_STATUS_FAILED,
                                          JOB_STATUS_CANCELLED};
    memset(stats, 0, 2 * sizeof stats[0]);
    stats[0].kind = "import";
    stats[1].kind = "export";
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "SELECT kind, status, COUNT(*), SUM(CASE WHEN finished_at IS NOT NULL "
                        "AND claimed_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN "
                        "finished_at IS NOT NULL AND claimed_at IS NOT NULL THEN finished_at - "
                        "claimed_at ELSE 0 END), SUM(row_count) FROM jobs GROUP BY kind, status",
                        err);
    if (rc)
        return rc;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        const char *kind = db_column_text(stmt, 0), *status = db_column_text(stmt, 1);
        for (int k = 0; k < 2; k++) {
            if (!kind || strcmp(kind, stats[k].kind))
                continue;
            for (int i = 0; i < 5; i++)
                if (status && !strcmp(status, states[i]))
                    stats[k].by_status[i] = db_column_int64(stmt, 2);
            stats[k].ended += int_or_zero(stmt, 3);
            stats[k].duration_ms_sum += int_or_zero(stmt, 4);
            stats[k].rows += int_or_zero(stmt, 5);
        }
    }
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

int job_store_next_run_at(struct db *db, int64_t *run_at, struct sd_error *err)
{
    assert(db && run_at);
    return query_int_by_id(db, "SELECT MIN(run_at) FROM jobs WHERE status = 'pending'", NULL,
                           run_at, err);
}

/* Reads every id a statement returns into a malloc'd array. */
static int collect_ids(char (**ids)[JOB_ID_LEN + 1], size_t *count, struct db_stmt *stmt,
                       struct sd_error *err)
{
    char(*list)[JOB_ID_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            void *grown = realloc(list, ncap * sizeof *list);
            if (!grown) {
                rc = sd_error_nomem(err);
                break;
            }
            list = grown;
            cap = ncap;
        }
        const char *text = db_column_text(stmt, 0);
        snprintf(list[n++], JOB_ID_LEN + 1, "%s", text ? text : "");
    }
    if (rc < 0) {
        free(list);
        return rc;
    }
    *ids = list;
    *count = n;
    return 0;
}

/* One UPDATE that returns what it changed: when two processes prune the same dead one at
 * once, the second finds nothing left to recover (PostgreSQL re-checks the WHERE clause of a
 * row another transaction changed), instead of listing jobs it did not recover. */
int job_store_recover(char (**ids)[JOB_ID_LEN + 1], size_t *count, struct db *db,
                      int64_t process_id, int64_t now_ms, const char *exhausted_message,
                      struct sd_error *err)
{
    assert(ids && count && db && exhausted_message);
    *ids = NULL;
    *count = 0;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "UPDATE jobs SET status = CASE WHEN attempts < max_attempts THEN "
                        "'pending' ELSE 'failed' END, message = CASE WHEN attempts < "
                        "max_attempts THEN message ELSE $1 END, finished_at = CASE WHEN "
                        "attempts < max_attempts THEN NULL ELSE $2 END, run_at = $2, "
                        "updated_at = $2, process_id = NULL WHERE status = 'processing' AND "
                        "process_id = $3 RETURNING id",
                        err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, exhausted_message);
    db_bind_int64(stmt, 2, now_ms);
    db_bind_int64(stmt, 3, process_id);
    rc = collect_ids(ids, count, stmt, err);
    db_finalize(stmt);
    return rc;
}

int job_store_prune(char (**ids)[JOB_ID_LEN + 1], size_t *count, struct db *db, int64_t before_ms,
                    size_t limit, struct sd_error *err)
{
    assert(ids && count && db);
    *ids = NULL;
    *count = 0;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN "
                        "('completed', 'failed', 'cancelled') AND finished_at < $1 LIMIT $2) "
                        "RETURNING id",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, before_ms);
    db_bind_int64(stmt, 2, (int64_t)limit);
    rc = collect_ids(ids, count, stmt, err);
    db_finalize(stmt);
    return rc;
}
