/*
 * DESIGN
 * ------
 * The one database interface. Callers see `struct db` and `struct db_stmt` and call the
 * wrappers below; each backend (SQLite now, PostgreSQL later) fills a `static const struct
 * db_ops` table of function pointers and embeds `struct db` first in its own struct, the way
 * SQLite's VFS and PostgreSQL's table access methods do it (see db_backend.h).
 *
 * SQL is written once for both backends:
 *   - placeholders are `$1`, `$2`, ... (SQLite accepts them natively);
 *   - transactions are explicit (db_begin/db_commit/db_rollback);
 *   - types are the common subset: INTEGER/BIGINT, DOUBLE PRECISION, TEXT, BOOLEAN stored
 *     as 0/1 on SQLite.
 *
 * Error codes separate what a caller must treat differently:
 *   SD_ERETRY     the database was busy or a serialization failed: run the transaction again;
 *   SD_ENOTFOUND  a lookup found nothing (returned by the store's own functions);
 *   SD_EEXISTS    a unique constraint refused the row;
 *   SD_ERROR      anything else (a hard error, with the database's message).
 *
 * A `struct db` is one connection and is used by one thread at a time: SQLite wants one
 * connection per thread (see store.h for the per-thread handles).
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

/* Opens one connection. `url` is "sqlite:PATH" (or a bare path) or "postgres://...". */
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

int db_begin(struct db *db, struct sd_error *err);
int db_commit(struct db *db, struct sd_error *err);
/* Never fails in a way the caller can act on; safe to call when no transaction is open. */
void db_rollback(struct db *db);

/* The id the last INSERT produced (SQLite rowid; on PostgreSQL use RETURNING instead). */
int64_t db_last_insert_id(struct db *db);

/*
 * Bulk writing: the fast path for loading many rows into one table. One prepared statement
 * (SQLite) or one COPY/batched statement (PostgreSQL) is reused for every row; the caller
 * runs it inside a transaction it opened with db_begin.
 *
 * With `key_columns`, a row whose key already exists updates that row instead (an upsert)
 * and db_bulk_write_row reports it through *updated.
 */
enum db_value_type { DB_VALUE_NULL = 0, DB_VALUE_INT64, DB_VALUE_DOUBLE, DB_VALUE_BOOL, DB_VALUE_TEXT };

struct db_value {
    enum db_value_type type;
    int64_t i; /* INT64, BOOL */
    double d;  /* DOUBLE */
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
#define DB_BULK_OPTIONS_INIT {DB_BULK_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0}

struct db_bulk;

int db_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                 struct sd_error *err);
/* values has opts->ncolumns entries; *updated (may be NULL) is set true when an existing row
 * was updated instead of inserted. */
int db_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, bool *updated,
                      struct sd_error *err);
/* Flushes what is buffered (a no-op on SQLite). Call before db_commit. */
int db_bulk_flush(struct db_bulk *bulk, struct sd_error *err);
void db_bulk_close(struct db_bulk *bulk);

#endif
