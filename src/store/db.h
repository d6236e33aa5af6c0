/*
 * DESIGN
 * ------
 * The one database interface. Callers see `struct db` and `struct db_stmt` and call the
 * wrappers below; each backend (SQLite, PostgreSQL) fills a `static const struct
 * db_ops` table of function pointers and embeds `struct db` first in its own struct, the way
 * SQLite's VFS and PostgreSQL's table access methods do it (see db_backend.h).
 *
 * SQL is written once for both backends:
 *   - placeholders are `$1`, `$2`, ... (SQLite accepts them natively);
 *   - transactions are explicit (db_begin/db_commit/db_rollback);
 *   - types are the common subset: INTEGER/BIGINT, DOUBLE PRECISION, TEXT, BOOLEAN stored
 *     as 0/1 on SQLite (db_column_int64 reads a PostgreSQL BOOLEAN as 1/0 too);
 *   - text parameters reach PostgreSQL untyped, so the server reads them as the column's
 *     type: a 'YYYY-MM-DD' text lands in a DATE column as that date.
 *
 * Error codes separate what a caller must treat differently:
 *   SD_ERETRY     the database was busy or a serialization failed: run the transaction again;
 *   SD_ENOTFOUND  a lookup found nothing (returned by the store's own functions);
 *   SD_EEXISTS    a unique constraint refused the row;
 *   SD_ERROR      anything else (a hard error, with the database's message).
 *
 * A `struct db` is one connection and is used by one thread at a time: SQLite wants one
 * connection per thread (see store.h for the per-thread handles). On PostgreSQL the rows of
 * a statement stream in as db_step asks for them; running another statement on the same
 * connection before the last row was read first buffers the rest in memory.
 */
#ifndef SHEETD_STORE_DB_H
#define SHEETD_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct db;
struct db_stmt;

/* db_step results */
#define DB_ROW 1
#define DB_DONE 0

/* Opens one connection. `url` is "sqlite:PATH" (or a bare path), a "postgres://..." or
 * "postgresql://..." URL, or a libpq "host=... dbname=..." connection string. */
int db_open(struct db **out, const char *url, struct sd_error *err);
void db_close(struct db *db);

/* "sqlite" or "postgres" */
const char *db_backend_name(const struct db *db);

/* Runs SQL with no parameters and no result rows; several statements separated by ';'. */
int db_exec(struct db *db, const char *sql, struct sd_error *err);

int db_prepare(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err);
/* Parameters are 1-based, like $1. Text is copied by the backend. */
int db_bind_null(struct db_stmt *stmt, int idx);
int db_bind_int64(struct db_stmt *stmt, int idx, int64_t value);
int db_bind_double(struct db_stmt *stmt, int idx, double value);
int db_bind_bool(struct db_stmt *stmt, int idx, bool value);
int db_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len);
/* Binds a C string, or NULL for a NULL string. */
int db_bind_cstr(struct db_stmt *stmt, int idx, const char *text);
/* DB_ROW, DB_DONE or a negative error code. */
int db_step(struct db_stmt *stmt, struct sd_error *err);
/* Columns are 0-based. Text is borrowed until the next step/reset/finalize; NULL for NULL. */
int db_column_count(struct db_stmt *stmt);
bool db_column_is_null(struct db_stmt *stmt, int col);
int64_t db_column_int64(struct db_stmt *stmt, int col);
double db_column_double(struct db_stmt *stmt, int col);
const char *db_column_text(struct db_stmt *stmt, int col);
/* Rows changed by the last INSERT/UPDATE/DELETE this statement ran. */
int64_t db_changes(struct db_stmt *stmt);
/* Makes the statement ready to bind and run again. */
int db_reset(struct db_stmt *stmt);
void db_finalize(struct db_stmt *stmt);
/* Runs a statement that returns no row, then finalizes it (also on failure): 0 or an error.
 * *changes (may be NULL) gets the rows it changed. */
int db_run(struct db_stmt *stmt, int64_t *changes, struct sd_error *err);
/* Runs `sql`, a query without parameters whose first row's first column is a whole number
 * (a COUNT(*)), into *out. A query that returns no row is an error naming `what` ("the rows
 * of \"orders\""). */
int db_query_int64(struct db *db, const char *sql, const char *what, int64_t *out,
                   struct sd_error *err);

/* A number that changes whenever another connection committed to the database (SQLite's
 * data_version, which reads shared memory, no file); SD_EUSAGE on PostgreSQL, whose
 * connections learn of changes through LISTEN instead. */
int db_change_counter(struct db *db, int64_t *counter, struct sd_error *err);
/* Stops every LISTEN of this connection (before it goes back to a pool); nothing on SQLite. */
void db_unlisten_all(struct db *db);

int db_begin(struct db *db, struct sd_error *err);
int db_commit(struct db *db, struct sd_error *err);
/* Never fails in a way the caller can act on; safe to call when no transaction is open. */
void db_rollback(struct db *db);

/* The id the last INSERT produced on SQLite (its rowid). PostgreSQL has no safe equivalent
 * and returns 0: write INSERT ... RETURNING id, which works on both. */
int64_t db_last_insert_id(struct db *db);

/*
 * Wake-ups between connections, possibly in other processes. db_notify wakes every
 * connection listening on `channel` (once the notifying transaction commits); db_listen makes
 * this connection listen; db_wait_notification waits up to timeout_ms for a notification and
 * sets *notified (false after the timeout), consuming every notification already arrived.
 * PostgreSQL only (LISTEN/NOTIFY): on SQLite db_notify does nothing and the other two are
 * SD_EUSAGE, so callers poll there.
 */
int db_notify(struct db *db, const char *channel, struct sd_error *err);
int db_listen(struct db *db, const char *channel, struct sd_error *err);
int db_wait_notification(struct db *db, int timeout_ms, bool *notified, struct sd_error *err);

/*
 * Bulk writing: the fast path for loading many rows into one table. The writer collects rows
 * and writes them in batches (one multi-row statement per batch on SQLite, COPY or batched
 * statements on PostgreSQL); the caller runs it inside a transaction it opened with db_begin
 * and calls db_bulk_flush before db_commit. Rows not flushed when the writer is closed are
 * dropped.
 *
 * With `key_columns`, a row whose key already exists updates that row instead (an upsert);
 * when one key comes twice the later row wins. How many rows were new and how many were
 * updates is known once they are written: db_bulk_counts after db_bulk_flush.
 *
 * Because a row may be written after db_bulk_write_row returned, a database error can surface
 * on a later db_bulk_write_row or on db_bulk_flush. Each row carries the caller's `tag` (the
 * import passes its spreadsheet row number), and db_bulk_refused_row says which row the
 * database refused. The rows before it are written; it and the rows buffered after it are
 * not; the writer stays usable.
 */
enum db_value_type {
    DB_VALUE_NULL = 0,
    DB_VALUE_INT64,
    DB_VALUE_DOUBLE,
    DB_VALUE_BOOL,
    DB_VALUE_TEXT
};

struct db_value {
    enum db_value_type type;
    int64_t i;        /* INT64, BOOL */
    double d;         /* DOUBLE */
    const char *text; /* TEXT: borrowed for the call */
    size_t len;
};

struct db_bulk_options {
    unsigned version;
    const char *table;
    const char *const *columns; /* column names, already validated identifiers */
    size_t ncolumns;
    const char *const *key_columns; /* NULL/0: plain inserts */
    size_t nkey_columns;
};

#define DB_BULK_OPTIONS_VERSION 1
#define DB_BULK_OPTIONS_INIT                                                                       \
    {                                                                                              \
        .version = DB_BULK_OPTIONS_VERSION, .table = NULL, .columns = NULL, .ncolumns = 0,         \
        .key_columns = NULL, .nkey_columns = 0                                                     \
    }

struct db_bulk;

int db_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                 struct sd_error *err);
/* values has opts->ncolumns entries; text is copied, so it need only live for the call.
 * Returns 0, or an error met while writing this row or rows buffered before it. */
int db_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                      struct sd_error *err);
/* Writes every buffered row. Call before db_commit. */
int db_bulk_flush(struct db_bulk *bulk, struct sd_error *err);
/* Rows written so far as new rows and as updates of existing ones (either may be NULL). */
void db_bulk_counts(const struct db_bulk *bulk, uint64_t *inserted, uint64_t *updated);
/* After db_bulk_write_row or db_bulk_flush failed: true, with *tag set to the tag of the row
 * the database refused, when the failure belongs to one row (false for a busy database or a
 * lack of memory). */
bool db_bulk_refused_row(const struct db_bulk *bulk, int64_t *tag);
void db_bulk_close(struct db_bulk *bulk);

#endif
