/*
 * DESIGN
 * ------
 * Each database records the migrations it has had in
 *
 *     schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT)
 *
 * and migrations_apply runs, in version order, every migration whose version is not there.
 * Each migration runs in its own transaction together with the INSERT that records it, so a
 * migration is either fully applied and recorded or not at all; running again applies
 * nothing.
 *
 * The version is checked *inside* the migration's transaction (BEGIN IMMEDIATE holds the
 * write lock), so two processes migrating at the same time cannot both apply the same
 * migration: the second one waits, then finds the version recorded and skips it. A database
 * that records every version already is seen by one read first and not locked at all
 * (migrations_apply).
 *
 * The two sets own disjoint version ranges (sheetd.db 1-999, queue.db 1001-1999). With SQLite
 * they live in different files and could share numbers, but with PostgreSQL both sets go
 * into one database and one schema_migrations table, where equal numbers would collide.
 *
 * A migration's SQL is written for SQLite; a migration whose SQL does not work on PostgreSQL
 * (INTEGER PRIMARY KEY is no identity column there, INTEGER is 32 bits) also has a `pg_sql`
 * text, chosen by the backend's name (migration_sql). Migrations never change once released;
 * new ones are appended.
 *
 * On PostgreSQL, BEGIN takes no lock, and two processes creating schema_migrations at the
 * same time can collide in the catalog, so migrations_apply runs under the dialect's
 * migration lock (a session-level advisory lock) from before it creates schema_migrations to
 * after the last migration: a second process waits, then finds everything recorded.
 */
#include "store/migrations.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "store/db_backend.h"

/* sheetd.db: templates. The data tables of the templates are created by data_table_create
 * when a template is stored, not here. */
static const struct migration main_migrations[] = {
    {1, "create import_templates",
     "CREATE TABLE import_templates ("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"       /* what people call the template */
     " table_name TEXT NOT NULL UNIQUE," /* the data table its rows go to */
     " definition TEXT NOT NULL,"        /* the template JSON as submitted */
     " created_at TEXT NOT NULL"         /* ISO 8601 UTC */
     ")",
     "CREATE TABLE import_templates ("
     " id BIGSERIAL PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE,"
     " table_name TEXT NOT NULL UNIQUE,"
     " definition TEXT NOT NULL,"
     " created_at TEXT NOT NULL"
     ")"},
    /* job_completions: the marker an import job writes in the same transaction as its rows
     * (jobs/import_job.c), so "rows committed" and "job done" can never disagree: a worker
     * that re-runs the job after a crash finds the marker and finishes without importing
     * again. `document` is the result part of the status document. Times are milliseconds
     * since the Unix epoch. */
    {2, "create job_completions",
     "CREATE TABLE job_completions ("
     " job_id TEXT PRIMARY KEY,"
     " document TEXT NOT NULL,"
     " created_at BIGINT NOT NULL"
     ")",
     NULL},
};

/*
 * queue.db: the tables the background-job layer (src/jobs/) builds on. Only the tables live
 * here; how rows move through them is that layer's business.
 *
 * jobs: one row per background job.
 *   id          16 lowercase hex characters (base/job_id.h), also the job's URL segment
 *   kind        "import" or "export"
 *   template_id import_templates.id (in sheetd.db, so no foreign key)
 *   status      pending | processing | completed | failed | cancelled
 *   payload     what the job needs to run, as JSON (e.g. the upload's path)
 *   attempts    how many times a worker has claimed it
 *   run_at      when it may run (retries are pushed into the future)
 *   claimed_at  when a worker took it; finished_at when it ended
 *   created_at  when it was enqueued; all times ISO 8601 UTC
 * The (status, run_at) index serves the "next runnable job" query.
 *
 * cache: a small key-value store with expiry, for the job status documents
 * ("job_status:<job_id>", 24 h). expires_at is milliseconds since the Unix epoch (the unit of
 * base/clock.h); the index serves purging expired entries.
 */
/* Migration 1001 for both backends; they differ only in the type of a 64-bit integer
 * (SQLite's INTEGER is 64 bits, PostgreSQL's 32). */
#define MIGRATION_1001(INT64_TYPE)                                                                 \
    "CREATE TABLE jobs ("                                                                          \
    " id TEXT PRIMARY KEY,"                                                                        \
    " kind TEXT NOT NULL,"                                                                         \
    " template_id " INT64_TYPE ","                                                                 \
    " status TEXT NOT NULL,"                                                                       \
    " payload TEXT,"                                                                               \
    " attempts INTEGER NOT NULL DEFAULT 0,"                                                        \
    " run_at TEXT,"                                                                                \
    " claimed_at TEXT,"                                                                            \
    " finished_at TEXT,"                                                                           \
    " created_at TEXT NOT NULL"                                                                    \
    ");"                                                                                           \
    "CREATE INDEX jobs_status_run_at ON jobs (status, run_at);"                                    \
    "CREATE TABLE cache ("                                                                         \
    " key TEXT PRIMARY KEY,"                                                                       \
    " value TEXT NOT NULL,"                                                                        \
    " expires_at " INT64_TYPE " NOT NULL"                                                          \
    ");"                                                                                           \
    "CREATE INDEX cache_expires_at ON cache (expires_at);"

/* Migration 1002 for both backends; they differ only in how a row id is generated. */
#define MIGRATION_1002(ID_COLUMN)                                                                  \
    "DROP TABLE jobs;"                                                                             \
    "CREATE TABLE jobs ("                                                                          \
    " id TEXT PRIMARY KEY,"                                                                        \
    " kind TEXT NOT NULL,"                                                                         \
    " template_id BIGINT NOT NULL,"                                                                \
    " status TEXT NOT NULL,"                                                                       \
    " payload TEXT NOT NULL,"                                                                      \
    " attempts INTEGER NOT NULL DEFAULT 0,"                                                        \
    " max_attempts INTEGER NOT NULL,"                                                              \
    " run_at BIGINT NOT NULL,"                                                                     \
    " process_id BIGINT,"                                                                          \
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"                                                \
    " message TEXT,"                                                                               \
    " document TEXT,"                                                                              \
    " row_count BIGINT NOT NULL DEFAULT 0,"                                                        \
    " created_at BIGINT NOT NULL,"                                                                 \
    " claimed_at BIGINT,"                                                                          \
    " finished_at BIGINT,"                                                                         \
    " updated_at BIGINT NOT NULL"                                                                  \
    ");"                                                                                           \
    "CREATE INDEX jobs_status_run_at ON jobs (status, run_at);"                                    \
    "CREATE INDEX jobs_created_at ON jobs (created_at);"                                           \
    "CREATE INDEX jobs_template_created_at ON jobs (template_id, created_at);"                     \
    "CREATE INDEX jobs_process_id ON jobs (process_id);"                                           \
    "CREATE TABLE processes ("                                                                     \
    " id " ID_COLUMN ","                                                                           \
    " pid BIGINT NOT NULL,"                                                                        \
    " hostname TEXT NOT NULL,"                                                                     \
    " kind TEXT NOT NULL,"                                                                         \
    " started_at BIGINT NOT NULL,"                                                                 \
    " heartbeat_at BIGINT NOT NULL"                                                                \
    ");"                                                                                           \
    "CREATE TABLE broadcasts ("                                                                    \
    " id " ID_COLUMN ","                                                                           \
    " channel TEXT NOT NULL,"                                                                      \
    " created_at BIGINT NOT NULL"                                                                  \
    ");"                                                                                           \
    "CREATE INDEX broadcasts_created_at ON broadcasts (created_at);"                               \
    "ALTER TABLE cache ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;"

static const struct migration queue_migrations[] = {
    {1001, "create jobs and cache", MIGRATION_1001("INTEGER"), MIGRATION_1001("BIGINT")},
    /*
     * The job layer as built (src/jobs/). jobs is recreated (nothing wrote to 1001's table:
     * no code used it before this migration) with every time in milliseconds since the Unix
     * epoch, which compare and sort as numbers, and with:
     *   max_attempts      claims allowed before a crashed job fails for good
     *   process_id        the processes row that holds a processing job (NULL otherwise)
     *   cancel_requested  set by cancel on a processing job; the worker sees it at its next
     *                     progress tick
     *   message           the last sentence (why it failed, what it did)
     *   document          the result part of the final status document (result, errors,
     *                     error_count, files): the source of truth when the cache has lost
     *                     the job
     * processes: every serve/work process, heartbeating every 5 s; a row silent for 30 s
     * is pruned by any live process and its jobs recovered.
     * broadcasts: one row per status change, so processes that did not make the change can
     * notice it (src/jobs/broadcast.c); pruned after a minute.
     * cache.seq: the broadcast id of the change that wrote the entry, used as the SSE event
     * id.
     */
    {1002, "jobs with workers, processes and broadcasts", MIGRATION_1002("INTEGER PRIMARY KEY"),
     MIGRATION_1002("BIGSERIAL PRIMARY KEY")},
    /*
     * The files of jobs (uploads, error reports, exports) for PostgreSQL, where processes on
     * several machines share no disk (store/file_store.h): one row per 1 MiB chunk, created_ms
     * for the retention sweep. Their bytes are spreadsheets, mostly zip archives already, so
     * PostgreSQL is told not to try compressing them (STORAGE EXTERNAL); names compare
     * bytewise (COLLATE "C"), so a name prefix is a range of the primary key's index for
     * file_store_remove_prefix. And the secret key
     * every process of a PostgreSQL setup signs its tokens with (store.c, secret_store.c).
     * SQLite keeps its files and its key in the data directory; the tables are created there
     * too, empty, so both backends have the same schema.
     */
    {1003, "job files and the shared secret key",
     "CREATE TABLE job_files ("
     " name TEXT NOT NULL,"
     " chunk INTEGER NOT NULL,"
     " data BLOB NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " PRIMARY KEY (name, chunk));"
     "CREATE TABLE secret_keys (id INTEGER PRIMARY KEY, hex TEXT NOT NULL)",
     "CREATE TABLE job_files ("
     " name TEXT COLLATE \"C\" NOT NULL,"
     " chunk INTEGER NOT NULL,"
     " data BYTEA NOT NULL,"
     " created_ms BIGINT NOT NULL,"
     " PRIMARY KEY (name, chunk));"
     "ALTER TABLE job_files ALTER COLUMN data SET STORAGE EXTERNAL;"
     "CREATE TABLE secret_keys (id INTEGER PRIMARY KEY, hex TEXT NOT NULL)"},
    /*
     * Indexes for what the queue does most. The claim orders pending jobs by (run_at,
     * created_at); jobs enqueued in one batch share both, and with created_at outside the
     * index every claim sorted all of them: now the index yields the order, and a claim reads
     * one entry. Every index is written by every state change, and a commit's cost is the
     * pages it writes: jobs_process_id served only recovery, which finds a process's jobs
     * among the few processing ones through the claim order's status prefix, and the
     * broadcasts' created_at index only the prune, which reads the table in id order instead
     * (broadcast_store.c).
     */
    {1004, "claim order in one index, two fewer indexes to write",
     "DROP INDEX jobs_status_run_at;"
     "DROP INDEX jobs_process_id;"
     "DROP INDEX broadcasts_created_at;"
     "CREATE INDEX jobs_claim_order ON jobs (status, run_at, created_at)",
     NULL},
    /* A status document and its broadcast row in one call on PostgreSQL, guarded by the
     * exception block's own savepoint (cache_store.c, cache_store_publish). SQLite needs
     * nothing: it undoes a failed statement by itself. */
    {1005, "status writes in one call on PostgreSQL", "SELECT 1",
     "CREATE FUNCTION sheetd_publish(p_key TEXT, p_value TEXT, p_expires_at BIGINT, "
     "p_now BIGINT, OUT out_seq BIGINT, OUT out_error TEXT) AS $$ "
     "BEGIN "
     "INSERT INTO broadcasts (channel, created_at) VALUES (p_key, p_now) RETURNING id INTO "
     "out_seq; "
     "INSERT INTO cache (key, value, expires_at, seq) VALUES (p_key, p_value, p_expires_at, "
     "out_seq) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = "
     "excluded.expires_at, seq = excluded.seq; "
     "EXCEPTION WHEN OTHERS THEN out_seq := 0; out_error := SQLERRM; "
     "END $$ LANGUAGE plpgsql"},
    /* The expiry rule of cache_store_put on PostgreSQL too: an expiry within p_slack before
     * the new one is kept, so the write changes no indexed column and can be a heap-only
     * update. A new overload, so that processes of the previous version, still calling the
     * four-argument one during a rolling upgrade, keep working. */
    {1006, "status writes keep an expiry within a minute on PostgreSQL", "SELECT 1",
     "CREATE FUNCTION sheetd_publish(p_key TEXT, p_value TEXT, p_expires_at BIGINT, "
     "p_now BIGINT, p_slack BIGINT, OUT out_seq BIGINT, OUT out_error TEXT) AS $$ "
     "BEGIN "
     "INSERT INTO broadcasts (channel, created_at) VALUES (p_key, p_now) RETURNING id INTO "
     "out_seq; "
     "UPDATE cache SET value = p_value, seq = out_seq WHERE key = p_key AND expires_at "
     "BETWEEN p_expires_at - p_slack AND p_expires_at; "
     "IF NOT FOUND THEN "
     "INSERT INTO cache (key, value, expires_at, seq) VALUES (p_key, p_value, p_expires_at, "
     "out_seq) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = "
     "excluded.expires_at, seq = excluded.seq; "
     "END IF; "
     "EXCEPTION WHEN OTHERS THEN out_seq := 0; out_error := SQLERRM; "
     "END $$ LANGUAGE plpgsql"},
};

static const struct migration_set main_set = {
    "sheetd.db", 1, 999, main_migrations, sizeof main_migrations / sizeof main_migrations[0],
};

static const struct migration_set queue_set = {
    "queue.db", 1001, 1999, queue_migrations, sizeof queue_migrations / sizeof queue_migrations[0],
};

const struct migration_set *migrations_main(void)
{
    return &main_set;
}

const struct migration_set *migrations_queue(void)
{
    return &queue_set;
}

/* The highest version of this set the database records, 0 when none. */
static int newest_recorded(struct db *db, const struct migration_set *set, int64_t *newest,
                           struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "SELECT MAX(version) FROM schema_migrations "
                        "WHERE version BETWEEN $1 AND $2",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, set->first_version);
    db_bind_int64(stmt, 2, set->last_version);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        *newest = db_column_is_null(stmt, 0) ? 0 : db_column_int64(stmt, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        *newest = 0;
    }
    db_finalize(stmt);
    return rc;
}

/* The text of `m` for the backend `db` talks to. */
static const char *migration_sql(const struct db *db, const struct migration *m)
{
    return m->pg_sql && !strcmp(db_backend_name(db), "postgres") ? m->pg_sql : m->sql;
}

/* Applies one migration in its own transaction; *done is false when it was already there. */
static int apply_one(struct db *db, const struct migration *m, bool *done, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    *done = false;
    int rc = db_begin(db, err);
    if (rc)
        return rc;
    rc = db_prepare(&stmt, db, "SELECT 1 FROM schema_migrations WHERE version = $1", err);
    if (rc)
        goto fail;
    db_bind_int64(stmt, 1, m->version);
    rc = db_step(stmt, err);
    db_finalize(stmt);
    stmt = NULL;
    if (rc == DB_ROW) {
        db_rollback(db);
        return 0;
    }
    if (rc < 0)
        goto fail;
    rc = db_exec(db, migration_sql(db, m), err);
    if (rc)
        goto fail;
    char now[40];
    clock_format_iso8601(now, sizeof now, clock_now_ms(clock_system()));
    rc = db_prepare(&stmt, db,
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", err);
    if (rc)
        goto fail;
    db_bind_int64(stmt, 1, m->version);
    db_bind_text(stmt, 2, now, strlen(now));
    rc = db_step(stmt, err);
    db_finalize(stmt);
    stmt = NULL;
    if (rc < 0)
        goto fail;
    rc = db_commit(db, err);
    if (rc)
        goto fail;
    *done = true;
    return 0;
fail:
    db_finalize(stmt);
    db_rollback(db);
    return rc;
}

static int apply_all(struct db *db, const struct migration_set *set, int *applied,
                     struct sd_error *err)
{
    int rc = db_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at TEXT)",
                     err);
    if (rc)
        return sd_error_prefix(err, "could not prepare %s for migrations", set->database);
    int64_t newest = 0;
    rc = newest_recorded(db, set, &newest, err);
    if (rc)
        return sd_error_prefix(err, "could not read the migrations of %s", set->database);
    int known = set->migrations[set->count - 1].version;
    if (newest > known)
        return sd_error_set(err, SD_ERROR,
                            "%s has schema version %lld but this sheetd knows only up to %d; "
                            "run a newer sheetd",
                            set->database, (long long)newest, known);
    for (size_t i = 0; i < set->count; i++) {
        const struct migration *m = &set->migrations[i];
        assert(m->version >= set->first_version && m->version <= set->last_version);
        assert(i == 0 || m->version > set->migrations[i - 1].version);
        bool done = false;
        rc = apply_one(db, m, &done, err);
        if (rc)
            return sd_error_prefix(err, "migration %d of %s (%s) failed", m->version, set->database,
                                   m->name);
        if (done && applied)
            (*applied)++;
    }
    return 0;
}

/* True when the database records exactly the versions of `set`, no more and no fewer: the
 * common case of every process start, answered by one read. Any doubt (no
 * schema_migrations table yet, a version missing, one this program does not know, a failed
 * read) answers false, and the caller takes the careful path. */
static bool all_recorded(struct db *db, const struct migration_set *set)
{
    struct db_stmt *stmt = NULL;
    if (db_prepare(&stmt, db,
                   "SELECT version FROM schema_migrations WHERE version BETWEEN $1 AND $2 "
                   "ORDER BY version",
                   NULL) != 0)
        return false;
    db_bind_int64(stmt, 1, set->first_version);
    db_bind_int64(stmt, 2, set->last_version);
    size_t i = 0;
    int rc;
    while ((rc = db_step(stmt, NULL)) == DB_ROW) {
        if (i == set->count || db_column_int64(stmt, 0) != set->migrations[i].version)
            break;
        i++;
    }
    db_finalize(stmt);
    return rc == DB_DONE && i == set->count;
}

/* apply_all under the dialect's migration lock (see the DESIGN note). The lock is released
 * on every path; a lost connection releases it on the server's side.
 *
 * A database that already records every migration is left alone after one read, without
 * the lock or a write transaction: every sheetd command starts by migrating, and a short one
 * (`sheetd jobs cancel`) would otherwise queue for the write lock once per migration behind
 * the workers of a busy server. Nothing is skipped that the careful path would apply, since
 * the read has to find each known version. */
int migrations_apply(struct db *db, const struct migration_set *set, int *applied,
                     struct sd_error *err)
{
    assert(db && set && set->count > 0);
    if (all_recorded(db, set))
        return 0;
    const struct db_dialect *d = db_dialect_of(db);
    if (*d->migration_lock) {
        int rc = db_exec(db, d->migration_lock, err);
        if (rc)
            return sd_error_prefix(err, "could not lock %s for migrations", set->database);
    }
    int rc = apply_all(db, set, applied, err);
    if (*d->migration_unlock) {
        db_rollback(db);
        db_exec(db, d->migration_unlock, NULL);
    }
    return rc;
}
