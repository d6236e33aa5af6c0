/*
 * DESIGN
 * ------
 * The SQLite backend: one `struct sqlite_db` per connection, opened with
 *
 *   journal_mode=WAL      readers never block the writer and the writer never blocks readers;
 *   busy_timeout          a statement that meets another connection's write lock waits this
 *                         long (5 s unless the URL says "?busy_timeout=MS") before it gives
 *                         up with SD_ERETRY (busy_wait below says how it waits);
 *   foreign_keys=ON       SQLite leaves them off unless asked;
 *   synchronous=NORMAL    with WAL, durable except for the last transactions before a power
 *                         cut, and much faster than FULL.
 *
 * Connections are opened SQLITE_OPEN_NOMUTEX: sheetd never shares one between threads at the
 * same time (the store's pool hands each to one thread), so SQLite's per-connection mutex
 * would be pure overhead.
 *
 * db_begin starts BEGIN IMMEDIATE, which takes the write lock at once. sheetd opens
 * transactions to write; a deferred transaction that reads first and then tries to write can
 * fail with SQLITE_BUSY without waiting at all (the busy handler cannot help a reader that
 * must upgrade), whereas an immediate one waits in the busy handler like any other writer.
 *
 * Placeholders are written `$1`, `$2` ...: SQLite reads "$1" as a parameter *named* "$1", and
 * gives named parameters the index of their first appearance, so callers must number them in
 * the order they first appear in the text (which is what anyone writes anyway). The index is
 * looked up by name so that a statement like "... WHERE b = $2 AND a = $1" still binds right.
 */
#include "store/db_sqlite.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/str.h"

static const struct db_dialect sqlite_dialect = {
    .id_column = "INTEGER PRIMARY KEY",
    .int64_type = "BIGINT",
    .double_type = "REAL",
    .text_type = "TEXT",
    .date_type = "TEXT",
    .datetime_type = "TEXT",
    .bool_type = "INTEGER",
    .skip_locked = "",
    .cheap_returning = false,
    .error_aborts_transaction = false,
    .migration_lock = "",
    .migration_unlock = "",
    .json_columns_count = "json_array_length(%s, '$.columns')",
};

static struct sqlite_db *as_db(struct db *db)
{
    return (struct sqlite_db *)db;
}

static struct sqlite_stmt *as_stmt(struct db_stmt *stmt)
{
    return (struct sqlite_stmt *)stmt;
}

int db_sqlite_error(int rc, const char *message, struct sd_error *err)
{
    if (!message)
        message = sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return sd_error_set(err, SD_ERETRY,
                            "the database is busy (another connection is writing to it); "
                            "try again");
    case SQLITE_NOMEM:
        return sd_error_nomem(err);
    case SQLITE_FULL:
        return sd_error_set(err, SD_ENOSPC, "the disk holding the database is full: %s", message);
    case SQLITE_TOOBIG:
        return sd_error_set(err, SD_ELIMIT, "a value is too large for the database: %s", message);
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
            rc == SQLITE_CONSTRAINT_ROWID) {
            const char *what = strstr(message, "failed: ");
            return sd_error_set(err, SD_EEXISTS,
                                "a row with the same %s already exists (a unique constraint "
                                "refused the new one)",
                                what ? what + strlen("failed: ") : "key");
        }
        return sd_error_set(err, SD_EINVALID, "the database refused the row: %s", message);
    default:
        return sd_error_set(err, SD_ERROR, "database error: %s", message);
    }
}

/*
 * The busy handler. SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10 ... 100 ms between
 * tries, which suits a lock held for seconds; the queue's write transactions last tens of
 * microseconds, and a worker that lost the lock by a hair then slept a whole millisecond or
 * more: that alone halved the queue's throughput. Here the sleeps start at 20 us and double
 * up to 2 ms, so short waits stay short and long ones cost at most 500 tries a second.
 */
static int busy_wait(void *arg, int tries)
{
    struct sqlite_db *s = arg;
    int64_t now = clock_monotonic_ms(clock_system());
    if (tries == 0)
        s->busy_since_ms = now;
    if (now - s->busy_since_ms >= s->busy_timeout_ms)
        return 0;
    long sleep_us = tries < 7 ? 20L << tries : 2000;
    struct timespec ts = {0, sleep_us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

/*
 * Checkpoints. SQLite's own (after a commit that leaves 1,000 pages in the WAL) is PASSIVE: it
 * copies pages back without waiting for anyone, and the WAL starts over only if no reader is inside
 * it when the next write begins. The queue is read all the time, by other threads and processes, so
 * that moment rarely came: the WAL grew by hundreds of megabytes a minute, and every commit past
 * the threshold paid another checkpoint and its two fsyncs. Here WAL_CHECKPOINT_PAGES (four times
 * as many, so a quarter of the fsyncs) runs a RESTART checkpoint, which waits for the readers
 * already inside the WAL (new ones read the database file) and so lets it start over. It
 * waits at most CHECKPOINT_WAIT_MS, since a long reader such as an export must not stall
 * the writers, and a connection that found it busy leaves checkpoints alone for
 * CHECKPOINT_BACKOFF_MS rather than pay one per commit.
 */
#define WAL_CHECKPOINT_PAGES 4000
#define CHECKPOINT_WAIT_MS 5
#define CHECKPOINT_BACKOFF_MS 100

static int wal_committed(void *arg, sqlite3 *conn, const char *name, int pages)
{
    struct sqlite_db *s = arg;
    if (pages < WAL_CHECKPOINT_PAGES)
        return SQLITE_OK;
    int64_t now = clock_monotonic_ms(clock_system());
    if (now < s->checkpoint_after_ms)
        return SQLITE_OK;
    int timeout = s->busy_timeout_ms;
    s->busy_timeout_ms = CHECKPOINT_WAIT_MS < timeout ? CHECKPOINT_WAIT_MS : timeout;
    if (sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL) == SQLITE_BUSY)
        s->checkpoint_after_ms = now + CHECKPOINT_BACKOFF_MS;
    s->busy_timeout_ms = timeout;
    return SQLITE_OK;
}

static void sqlite_close(struct db *db)
{
    struct sqlite_db *s = as_db(db);
    for (int i = 0; i < SQLITE_STMT_CACHE; i++) {
        sqlite3_finalize(s->cache[i].stmt);
        free(s->cache[i].sql);
        free(s->cache[i].params);
    }
    /* sqlite3_close_v2 defers the close until forgotten statements are finalized instead of
     * failing with SQLITE_BUSY and leaking the connection. */
    sqlite3_close_v2(s->conn);
    free(s->path);
    free(s);
}

static int sqlite_exec(struct db *db, const char *sql, struct sd_error *err)
{
    struct sqlite_db *s = as_db(db);
    char *msg = NULL;
    int rc = sqlite3_exec(s->conn, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    int code = db_sqlite_error(sqlite3_extended_errcode(s->conn), msg, err);
    sqlite3_free(msg);
    return code;
}

/* "$N" is a named parameter in SQLite: find its index by name, falling back to N for the
 * other spellings SQLite allows ("?N"). 0 when the statement has no such parameter. */
static int param_index_by_name(sqlite3_stmt *stmt, int idx)
{
    char name[16];
    snprintf(name, sizeof name, "$%d", idx);
    int i = sqlite3_bind_parameter_index(stmt, name);
    if (i > 0)
        return i;
    if (idx > sqlite3_bind_parameter_count(stmt))
        return 0;
    const char *other = sqlite3_bind_parameter_name(stmt, idx);
    return !other || other[0] == '?' ? idx : 0;
}

/*
 * Looking a parameter up by name formats and compares strings on every bind, which cost a
 * tenth of a queue change; a statement kept in the cache looks each "$N" up once, here.
 * NULL for want of memory or past PARAM_MAP_MAX parameters (binds then look up by name).
 */
#define PARAM_MAP_MAX 4096

static int *param_map_new(sqlite3_stmt *stmt, int *nparams)
{
    *nparams = 0;
    int count = sqlite3_bind_parameter_count(stmt), largest = count;
    for (int i = 1; i <= count; i++) {
        const char *name = sqlite3_bind_parameter_name(stmt, i);
        if (name && name[0] == '$' && name[1] >= '1' && name[1] <= '9') {
            long n = strtol(name + 1, NULL, 10);
            if (n > PARAM_MAP_MAX)
                return NULL;
            largest = n > largest ? (int)n : largest;
        }
    }
    if (largest > PARAM_MAP_MAX)
        return NULL;
    int *map = calloc((size_t)largest + 1, sizeof *map);
    if (!map)
        return NULL;
    for (int n = 1; n <= largest; n++)
        map[n] = param_index_by_name(stmt, n);
    *nparams = largest;
    return map;
}

static int param_index(const struct sqlite_stmt *st, int idx)
{
    if (!st->params)
        return param_index_by_name(st->stmt, idx);
    return idx >= 1 && idx <= st->nparams ? st->params[idx] : 0;
}

/* Prepares one statement. Text after the first statement (other than white space and a
 * semicolon) is refused: a prepared statement runs one statement, and silently dropping the
 * rest would hide a mistake. db_exec runs several. */
static int sqlite_prepare(struct db_stmt **out, struct db *db, const char *sql,
                          struct sd_error *err)
{
    struct sqlite_db *s = as_db(db);
    struct sqlite_stmt *st = calloc(1, sizeof *st);
    if (!st)
        return sd_error_nomem(err);
    st->base.db = db;
    st->cache_slot = -1;
    int slot = -1; /* a free slot to keep the new statement in, the least recently used */
    for (int i = 0; i < SQLITE_STMT_CACHE; i++) {
        if (s->cache[i].in_use)
            continue;
        if (s->cache[i].sql && !strcmp(s->cache[i].sql, sql)) {
            s->cache[i].in_use = true;
            s->cache[i].last_used = ++s->uses;
            st->stmt = s->cache[i].stmt;
            st->cache_slot = i;
            st->params = s->cache[i].params;
            st->nparams = s->cache[i].nparams;
            *out = &st->base;
            return 0;
        }
        if (slot < 0 || s->cache[i].last_used < s->cache[slot].last_used)
            slot = i;
    }
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(s->conn, sql, -1, &st->stmt, &tail);
    if (rc != SQLITE_OK) {
        rc = db_sqlite_error(sqlite3_extended_errcode(s->conn), sqlite3_errmsg(s->conn), err);
        goto fail;
    }
    if (!st->stmt) {
        rc = sd_error_set(err, SD_EUSAGE, "there is no SQL statement to prepare");
        goto fail;
    }
    while (tail &&
           (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        rc = sd_error_set(err, SD_EUSAGE,
                          "db_prepare takes one SQL statement; use db_exec for several");
        goto fail;
    }
    char *copy = slot >= 0 ? str_dup(sql) : NULL;
    if (copy) { /* without memory for the copy, the statement is simply not kept */
        sqlite3_finalize(s->cache[slot].stmt);
        free(s->cache[slot].sql);
        free(s->cache[slot].params);
        s->cache[slot].sql = copy;
        s->cache[slot].stmt = st->stmt;
        s->cache[slot].params = param_map_new(st->stmt, &s->cache[slot].nparams);
        st->params = s->cache[slot].params;
        st->nparams = s->cache[slot].nparams;
        s->cache[slot].in_use = true;
        s->cache[slot].last_used = ++s->uses;
        st->cache_slot = slot;
    }
    *out = &st->base;
    return 0;
fail:
    sqlite3_finalize(st->stmt);
    free(st);
    return rc;
}

/* Records a bind failure for db_step to report and returns its code. */
static int bind_result(struct sqlite_stmt *st, int idx, int rc)
{
    if (rc == SQLITE_OK)
        return 0;
    int code = rc == SQLITE_NOMEM ? SD_ENOMEM : rc == SQLITE_TOOBIG ? SD_ELIMIT : SD_EUSAGE;
    if (!st->bind_rc) {
        st->bind_rc = code;
        st->bind_idx = idx;
    }
    return code;
}

static int sqlite_bind_null(struct db_stmt *stmt, int idx)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    int i = param_index(st, idx);
    return bind_result(st, idx, i ? sqlite3_bind_null(st->stmt, i) : SQLITE_RANGE);
}

static int sqlite_bind_int64(struct db_stmt *stmt, int idx, int64_t value)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    int i = param_index(st, idx);
    return bind_result(st, idx, i ? sqlite3_bind_int64(st->stmt, i, value) : SQLITE_RANGE);
}

static int sqlite_bind_double(struct db_stmt *stmt, int idx, double value)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    int i = param_index(st, idx);
    return bind_result(st, idx, i ? sqlite3_bind_double(st->stmt, i, value) : SQLITE_RANGE);
}

static int sqlite_bind_bool(struct db_stmt *stmt, int idx, bool value)
{
    return sqlite_bind_int64(stmt, idx, value ? 1 : 0);
}

static int sqlite_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    int i = param_index(st, idx);
    return bind_result(
        st, idx,
        i ? sqlite3_bind_text64(st->stmt, i, text, len, SQLITE_TRANSIENT, SQLITE_UTF8)
          : SQLITE_RANGE);
}

static int sqlite_step(struct db_stmt *stmt, struct sd_error *err)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    sqlite3 *conn = as_db(stmt->db)->conn;
    if (st->bind_rc) {
        if (st->bind_rc == SD_ENOMEM)
            return sd_error_nomem(err);
        return sd_error_set(err, st->bind_rc,
                            "parameter $%d could not be bound: the statement has %d parameters "
                            "or the value is too large",
                            st->bind_idx, sqlite3_bind_parameter_count(st->stmt));
    }
    sqlite3_int64 before = sqlite3_total_changes64(conn);
    int rc = sqlite3_step(st->stmt);
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        /* sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE on the
         * connection, even after a later CREATE; only trust it when this step changed rows. */
        st->changes = sqlite3_total_changes64(conn) != before ? sqlite3_changes64(conn) : 0;
        return DB_DONE;
    }
    return db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
}

static int sqlite_column_count(struct db_stmt *stmt)
{
    return sqlite3_column_count(as_stmt(stmt)->stmt);
}

static bool sqlite_column_is_null(struct db_stmt *stmt, int col)
{
    return sqlite3_column_type(as_stmt(stmt)->stmt, col) == SQLITE_NULL;
}

static int64_t sqlite_column_int64(struct db_stmt *stmt, int col)
{
    return sqlite3_column_int64(as_stmt(stmt)->stmt, col);
}

static double sqlite_column_double(struct db_stmt *stmt, int col)
{
    return sqlite3_column_double(as_stmt(stmt)->stmt, col);
}

static const char *sqlite_column_text(struct db_stmt *stmt, int col)
{
    return (const char *)sqlite3_column_text(as_stmt(stmt)->stmt, col);
}

static int64_t sqlite_changes(struct db_stmt *stmt)
{
    return as_stmt(stmt)->changes;
}

/* Bindings stay as they were (SQLite's own rule), so a caller may rebind only what
 * changes. sqlite3_reset repeats the last step's error code; that error was already
 * reported by db_step, so it is not an error of the reset. */
static int sqlite_reset(struct db_stmt *stmt)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    sqlite3_reset(st->stmt);
    st->bind_rc = 0;
    st->bind_idx = 0;
    st->changes = 0;
    return 0;
}

static void sqlite_finalize(struct db_stmt *stmt)
{
    struct sqlite_stmt *st = as_stmt(stmt);
    if (st->cache_slot >= 0) {
        struct sqlite_db *s = as_db(st->base.db);
        sqlite3_reset(st->stmt);
        sqlite3_clear_bindings(st->stmt);
        s->cache[st->cache_slot].in_use = false;
    } else {
        sqlite3_finalize(st->stmt);
    }
    free(st);
}

/* BEGIN and COMMIT go through the statement cache like any statement: sqlite3_exec would
 * parse them again for every transaction, and the queue runs thousands a second. */
static int run_cached(struct db *db, const char *sql, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = sqlite_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    rc = sqlite_step(stmt, err);
    sqlite_finalize(stmt);
    return rc < 0 ? rc : 0;
}

static int sqlite_begin(struct db *db, struct sd_error *err)
{
    return run_cached(db, "BEGIN IMMEDIATE", err);
}

static int sqlite_commit(struct db *db, struct sd_error *err)
{
    return run_cached(db, "COMMIT", err);
}

static void sqlite_rollback(struct db *db)
{
    struct sqlite_db *s = as_db(db);
    if (!sqlite3_get_autocommit(s->conn))
        sqlite3_exec(s->conn, "ROLLBACK", NULL, NULL, NULL);
}

static int64_t sqlite_last_insert_id(struct db *db)
{
    return sqlite3_last_insert_rowid(as_db(db)->conn);
}

/* SQLite is one file on one machine: nobody to wake up but ourselves, and writers poll. */
static int sqlite_notify(struct db *db, const char *channel, struct sd_error *err)
{
    (void)db;
    (void)channel;
    (void)err;
    return 0;
}

static int sqlite_listen(struct db *db, const char *channel, struct sd_error *err)
{
    (void)db;
    (void)channel;
    return sd_error_set(err, SD_EUSAGE, "SQLite does not support listening for notifications");
}

static int sqlite_wait_notification(struct db *db, int timeout_ms, bool *notified,
                                    struct sd_error *err)
{
    (void)db;
    (void)timeout_ms;
    *notified = false;
    return sd_error_set(err, SD_EUSAGE, "SQLite does not support waiting for notifications");
}

static const struct db_ops sqlite_ops = {
    .name = "sqlite",
    .dialect = &sqlite_dialect,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .prepare = sqlite_prepare,
    .bind_null = sqlite_bind_null,
    .bind_int64 = sqlite_bind_int64,
    .bind_double = sqlite_bind_double,
    .bind_bool = sqlite_bind_bool,
    .bind_text = sqlite_bind_text,
    .step = sqlite_step,
    .column_count = sqlite_column_count,
    .column_is_null = sqlite_column_is_null,
    .column_int64 = sqlite_column_int64,
    .column_double = sqlite_column_double,
    .column_text = sqlite_column_text,
    .changes = sqlite_changes,
    .reset = sqlite_reset,
    .finalize = sqlite_finalize,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .last_insert_id = sqlite_last_insert_id,
    .bulk_open = db_sqlite_bulk_open,
    .bulk_write_row = db_sqlite_bulk_write_row,
    .bulk_flush = db_sqlite_bulk_flush,
    .bulk_close = db_sqlite_bulk_close,
    .table_columns = db_sqlite_table_columns,
    .notify = sqlite_notify,
    .listen = sqlite_listen,
    .wait_notification = sqlite_wait_notification,
};

/*
 * Opens (creating when missing) the database file and applies the settings in the DESIGN
 * block. Setting journal_mode=WAL is the first statement that reads the file, so a file that
 * is not a database, or a directory that cannot be written, is reported here rather than at
 * the first query. The caller owns *out and closes it with db_close.
 */
int db_sqlite_open(struct db **out, const char *path, const struct db_sqlite_options *opts,
                   struct sd_error *err)
{
    struct sqlite_db *s = calloc(1, sizeof *s);
    if (!s)
        return sd_error_nomem(err);
    s->base.ops = &sqlite_ops;
    int code;
    s->path = str_dup(path);
    if (!s->path) {
        code = sd_error_nomem(err);
        goto fail;
    }
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int rc = sqlite3_open_v2(path, &s->conn, flags, NULL);
    if (rc != SQLITE_OK) {
        if (!s->conn) {
            code = sd_error_nomem(err);
            goto fail;
        }
        code = db_sqlite_error(rc, sqlite3_errmsg(s->conn), err);
        goto fail_open;
    }
    s->busy_timeout_ms = opts->busy_timeout_ms;
    sqlite3_busy_handler(s->conn, busy_wait, s);
    sqlite3_wal_hook(s->conn, wal_committed, s);
    /* journal_mode answers with a row; a database that cannot do WAL (":memory:") answers
     * "memory" and keeps working, which is fine. */
    /* The page size (DB_SQLITE_DEFAULT_PAGE_SIZE) only a new database takes, so this must
     * precede journal_mode. No memory map: it would make an export's resident memory grow
     * with the table it reads. */
    char pragma[48];
    snprintf(pragma, sizeof pragma, "PRAGMA page_size=%d", opts->page_size);
    code = sqlite_exec(&s->base, pragma, err);
    if (!code)
        code = sqlite_exec(&s->base, "PRAGMA journal_mode=WAL", err);
    if (!code)
        code = sqlite_exec(&s->base, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", err);
    if (code)
        goto fail_open;
    *out = &s->base;
    return 0;
fail_open:
    if (code != SD_ERETRY && code != SD_ENOMEM && err)
        sd_error_set(err, code, "could not open the database %s: %s%s", path,
                     sqlite3_errmsg(s->conn),
                     (sqlite3_errcode(s->conn) & 0xff) == SQLITE_CANTOPEN
                         ? " (check that its directory exists and is writable)"
                         : "");
    else if (code == SD_ERETRY)
        sd_error_prefix(err, "could not open the database %s", path);
fail:
    if (s->conn)
        sqlite3_close_v2(s->conn);
    free(s->path);
    free(s);
    return code;
}
