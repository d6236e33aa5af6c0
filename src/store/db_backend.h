/*
 * DESIGN
 * ------
 * What a database backend provides, for the wrappers in db.c. This header is private to
 * src/store/: the rest of the program sees only db.h.
 *
 * A backend fills one `static const struct db_ops` table and embeds the base structs first
 * in its own:
 *
 *     struct sqlite_db   { struct db base;      sqlite3 *conn; ... };
 *     struct sqlite_stmt { struct db_stmt base; sqlite3_stmt *stmt; ... };
 *     struct sqlite_bulk { struct db_bulk base; ... };
 *
 * so a `struct db *` handed to a backend function can be cast to its own struct, the way
 * SQLite's VFS objects and PostgreSQL's table access methods work. The wrappers in db.c check
 * their arguments and forward to `db->ops`; a statement or bulk writer reaches the table
 * through the connection that made it.
 *
 * A backend also describes its dialect (`struct db_dialect`): the few type names and column
 * definitions that differ between SQLite and PostgreSQL, so that code such as data_table.c
 * writes one CREATE TABLE for both without asking which backend it is talking to.
 *
 * The PostgreSQL backend (db_postgres*.c) is the second table; db_open (db.c) picks one from
 * the URL.
 */
#ifndef SHEETD_STORE_DB_BACKEND_H
#define SHEETD_STORE_DB_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/buf.h"
#include "store/db.h"

/* SQL fragments that differ between backends. */
struct db_dialect {
    const char *id_column;     /* e.g. "INTEGER PRIMARY KEY" / "BIGSERIAL PRIMARY KEY" */
    const char *int64_type;    /* BIGINT */
    const char *double_type;   /* REAL / DOUBLE PRECISION */
    const char *text_type;     /* TEXT */
    const char *date_type;     /* TEXT / DATE */
    const char *datetime_type; /* TEXT / TIMESTAMP */
    const char *bool_type;     /* INTEGER / BOOLEAN */
    /* Appended to a SELECT that claims rows for this connection alone: "" on SQLite (whose
     * write transaction already excludes everyone), " FOR UPDATE SKIP LOCKED" on PostgreSQL. */
    const char *skip_locked;
    /* Whether "... RETURNING" costs no more than the statement (PostgreSQL). SQLite keeps the
     * returned rows in a temporary table first, which doubles the cost of a small write:
     * there the store reads a new row's id from the rowid and claims a job with a SELECT
     * and an UPDATE (broadcast_store.c, job_store.c). */
    bool cheap_returning;
    /* Whether a failed statement aborts the whole transaction (PostgreSQL) rather than only
     * itself (SQLite): a write whose failure must leave the transaction usable then needs a
     * savepoint (cache_store_publish). */
    bool error_aborts_transaction;
    /* Run by migrations_apply around its work so two processes migrating at once apply each
     * migration once: "" on SQLite (BEGIN IMMEDIATE serializes the writers), a session-level
     * advisory lock and its release on PostgreSQL. */
    const char *migration_lock;
    const char *migration_unlock;
    /* The number of entries of the JSON array under key "columns" of the text column
     * `definition`: a printf format taking the column name. */
    const char *json_columns_count;
};

struct db_ops {
    const char *name; /* "sqlite", "postgres" */
    const struct db_dialect *dialect;

    void (*close)(struct db *db);
    int (*exec)(struct db *db, const char *sql, struct sd_error *err);

    int (*prepare)(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err);
    int (*bind_null)(struct db_stmt *stmt, int idx);
    int (*bind_int64)(struct db_stmt *stmt, int idx, int64_t value);
    int (*bind_double)(struct db_stmt *stmt, int idx, double value);
    int (*bind_bool)(struct db_stmt *stmt, int idx, bool value);
    int (*bind_text)(struct db_stmt *stmt, int idx, const char *text, size_t len);
    int (*step)(struct db_stmt *stmt, struct sd_error *err);
    int (*column_count)(struct db_stmt *stmt);
    bool (*column_is_null)(struct db_stmt *stmt, int col);
    int64_t (*column_int64)(struct db_stmt *stmt, int col);
    double (*column_double)(struct db_stmt *stmt, int col);
    const char *(*column_text)(struct db_stmt *stmt, int col);
    int64_t (*changes)(struct db_stmt *stmt);
    int (*reset)(struct db_stmt *stmt);
    void (*finalize)(struct db_stmt *stmt);

    int (*begin)(struct db *db, struct sd_error *err);
    int (*commit)(struct db *db, struct sd_error *err);
    void (*rollback)(struct db *db);
    int64_t (*last_insert_id)(struct db *db);

    int (*bulk_open)(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                     struct sd_error *err);
    /* Updates the counts and the refusal in struct db_bulk (the wrappers clear the refusal
     * before each call). */
    int (*bulk_write_row)(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                          struct sd_error *err);
    int (*bulk_flush)(struct db_bulk *bulk, struct sd_error *err);
    void (*bulk_close)(struct db_bulk *bulk);

    /* The column names of `table` in definition order: a malloc'd array of malloc'd strings
     * (free with db_free_names). SD_ENOTFOUND when there is no such table. */
    int (*table_columns)(char ***out, size_t *count, struct db *db, const char *table,
                         struct sd_error *err);

    /* Wake-ups between processes (the seam for the jobs queue): notify wakes every
     * connection that listens on `channel`; wait_notification waits up to timeout_ms for one
     * and sets *notified. SQLite has no such thing: notify does nothing, listen and wait are
     * SD_EUSAGE. */
    int (*notify)(struct db *db, const char *channel, struct sd_error *err);
    int (*listen)(struct db *db, const char *channel, struct sd_error *err);
    int (*wait_notification)(struct db *db, int timeout_ms, bool *notified, struct sd_error *err);
};

struct db {
    const struct db_ops *ops;
    void *owner; /* free for the code that owns the connection (the store's pool) */
    /* Set by the backend when the connection to the server is lost for good: the pool closes
     * such a connection instead of handing it out again. */
    bool broken;
};

struct db_stmt {
    struct db *db;
};

struct db_bulk {
    struct db *db;
    uint64_t inserted, updated; /* rows written so far, kept by the backend */
    bool refused;               /* the last failed write_row/flush names a row: */
    int64_t refused_tag;        /* ...its tag */
};

/* Backend open functions, called by db_open after it has picked the backend from the URL.
 * `path` is the file name; `busy_timeout_ms` how long a statement waits for a lock before
 * reporting SD_ERETRY. */
struct db_sqlite_options {
    int busy_timeout_ms; /* how long a statement waits for another writer's lock */
    int page_size;       /* bytes per page, which only a new database takes */
};
/* 16 KiB pages: bulk imports write whole tables, and larger pages cut the page writes to a
 * quarter. queue.db, many small transactions, takes 4 KiB (store.c). */
#define DB_SQLITE_DEFAULT_PAGE_SIZE 16384
int db_sqlite_open(struct db **out, const char *path, const struct db_sqlite_options *opts,
                   struct sd_error *err);
/* `conninfo` is a "postgres://" / "postgresql://" URL or a "host=... dbname=..." string,
 * handed to libpq as it is. */
int db_postgres_open(struct db **out, const char *conninfo, struct sd_error *err);

/* True when `url` names a PostgreSQL database: a postgres:// or postgresql:// URL, or a
 * libpq "keyword=value ..." connection string (one that starts with host=, dbname=, user=,
 * port=, service= or another of libpq's common keywords). */
bool db_url_is_postgres(const char *url);

/* The options part of a SQLite URL or path: the last '?' when NAME=VALUE pairs follow it
 * (an '=' and no '/' after it), else NULL, since such a '?' belongs to the file name. db_open
 * reads the options there; the store gives queue.db the same ones. */
const char *db_sqlite_url_options(const char *url);

/* Appends `name` as a quoted SQL identifier ("a""b" for a"b), the same on both backends. */
int db_append_ident(struct buf *b, const char *name);

/* Helpers for the store's own files (data_table.c, ...). */
const struct db_dialect *db_dialect_of(const struct db *db);
int db_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                     struct sd_error *err);
void db_free_names(char **names, size_t count);

#endif
