/*
 * The PostgreSQL backend's structs and helpers, shared by db_postgres.c (connections,
 * transactions), db_postgres_stmt.c (statements), db_postgres_error.c (SQLSTATE -> SD_E*),
 * db_postgres_notify.c (LISTEN/NOTIFY) and db_postgres_bulk.c (bulk writing).
 * Private to src/store/.
 */
#ifndef SHEETD_STORE_DB_POSTGRES_H
#define SHEETD_STORE_DB_POSTGRES_H

#include <libpq-fe.h>

#include "base/buf.h"
#include "store/db_backend.h"

struct pg_stmt;

struct pg_db {
    struct db base; /* first: a struct db * is a struct pg_db * */
    PGconn *conn;
    /* The statement whose rows are still arriving (single-row mode), or NULL. Anything else
     * sent on the connection first calls pg_settle, which moves those rows into the
     * statement's queue. */
    struct pg_stmt *streaming;
    unsigned prepared_seq; /* the last number in a prepared statement's name "sd_p<N>" */
    /* "NOTIFY <channel>" asked for inside the open transaction, sent with its COMMIT
     * (db_postgres_notify.c); "" when none. */
    char pending_notify[96];
};

/* Sends what db_pg_notify deferred, followed by `sql` ("COMMIT"), in one round trip, and
 * returns the last result (that of `sql`). */
PGresult *pg_exec_after_notify(struct pg_db *db, const char *sql);

/* The text PostgreSQL reads back as exactly `value` ("NaN", "Infinity", or %.17g). */
void pg_format_double(char out[32], double value);

/* Receives the rest of a streaming statement's results so the connection is free. */
void pg_settle(struct pg_db *db);

/* Turns a failed result into an SD_E* code and a sentence in err (db_postgres_error.c has
 * the table). `res` may be NULL when libpq could not even produce a result. */
int pg_result_error(struct pg_db *db, const PGresult *res, struct sd_error *err);

/* The length of the first line of a libpq message (at most 400 bytes), for "%.*s". */
int pg_first_line_len(const char *msg);

/* Runs one command without parameters and checks that it worked (SD_E* code otherwise). */
int pg_command(struct pg_db *db, const char *sql, struct sd_error *err);

/* The statement functions of the ops table (db_postgres_stmt.c). */
int db_pg_prepare(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err);
int db_pg_bind_null(struct db_stmt *stmt, int idx);
int db_pg_bind_int64(struct db_stmt *stmt, int idx, int64_t value);
int db_pg_bind_double(struct db_stmt *stmt, int idx, double value);
int db_pg_bind_bool(struct db_stmt *stmt, int idx, bool value);
int db_pg_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len);
int db_pg_step(struct db_stmt *stmt, struct sd_error *err);
int db_pg_column_count(struct db_stmt *stmt);
bool db_pg_column_is_null(struct db_stmt *stmt, int col);
int64_t db_pg_column_int64(struct db_stmt *stmt, int col);
double db_pg_column_double(struct db_stmt *stmt, int col);
const char *db_pg_column_text(struct db_stmt *stmt, int col);
int64_t db_pg_changes(struct db_stmt *stmt);
int db_pg_reset(struct db_stmt *stmt);
void db_pg_finalize(struct db_stmt *stmt);

int db_pg_notify(struct db *db, const char *channel, struct sd_error *err);
int db_pg_listen(struct db *db, const char *channel, struct sd_error *err);
int db_pg_wait_notification(struct db *db, int timeout_ms, bool *notified, struct sd_error *err);

int db_pg_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                    struct sd_error *err);
int db_pg_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                         struct sd_error *err);
int db_pg_bulk_flush(struct db_bulk *bulk, struct sd_error *err);
void db_pg_bulk_close(struct db_bulk *bulk);
/* Files as chunked bytea rows (db_postgres_files.c, for file_store.c): pg_file_put replaces
 * the stored file `name` by the bytes of fd in one transaction; pg_file_fetch writes them
 * into fd, SD_ENOTFOUND when there is no such file. */
int pg_file_put(struct db *db, const char *name, int fd, int64_t now_ms, struct sd_error *err);
int pg_file_fetch(struct db *db, const char *name, int fd, struct sd_error *err);

int db_pg_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                        struct sd_error *err);

#endif
