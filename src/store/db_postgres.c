/*
 * DESIGN
 * ------
 * The PostgreSQL backend: one `struct pg_db` per libpq connection, opened from a
 * "postgres://" / "postgresql://" URL or a "host=... dbname=..." string exactly as libpq
 * reads them (sslmode, passwords and the rest are libpq's business). Each connection then
 * sets DateStyle ISO and TimeZone UTC, so a DATE reads back as YYYY-MM-DD and a TIMESTAMP as
 * YYYY-MM-DD HH:MM:SS whatever the server's defaults, and client_encoding is UTF8.
 *
 * Statements (db_postgres_stmt.c) send db.h's SQL unchanged, stream their rows and are
 * prepared on the server when they run again. Errors are mapped by SQLSTATE in
 * db_postgres_error.c; LISTEN/NOTIFY live in db_postgres_notify.c.
 *
 * Transactions are plain BEGIN/COMMIT (READ COMMITTED). A COMMIT of a transaction in which a
 * statement failed is answered "ROLLBACK" by the server; db_commit reports that as an error
 * rather than a success.
 *
 * last_insert_id has no cheap, always-safe PostgreSQL counterpart (lastval() fails, and so
 * aborts the caller's transaction, when no sequence was used yet): it returns 0, and callers
 * write INSERT ... RETURNING id, which both backends understand.
 */
#include "store/db_postgres.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"

static const struct db_dialect pg_dialect = {
    .id_column = "BIGSERIAL PRIMARY KEY",
    .int64_type = "BIGINT",
    .double_type = "DOUBLE PRECISION",
    .text_type = "TEXT",
    .date_type = "DATE",
    .datetime_type = "TIMESTAMP",
    .bool_type = "BOOLEAN",
    .skip_locked = " FOR UPDATE SKIP LOCKED",
    .cheap_returning = true,
    .error_aborts_transaction = true,
    /* Any constant works as long as every sheetd uses the same one: "sheetd" in ASCII. */
    .migration_lock = "SELECT pg_advisory_lock(126892214940772)",
    .migration_unlock = "SELECT pg_advisory_unlock(126892214940772)",
    .json_columns_count = "json_array_length((%s::json) -> 'columns')",
};

static struct pg_db *as_db(struct db *db)
{
    return (struct pg_db *)db;
}

int pg_command(struct pg_db *db, const char *sql, struct sd_error *err)
{
    pg_settle(db);
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (s == PGRES_COPY_IN) {
        PQputCopyEnd(db->conn, "db_exec does not run COPY");
        PQclear(res);
        while ((res = PQgetResult(db->conn)) != NULL)
            PQclear(res);
        return sd_error_set(err, SD_EUSAGE, "db_exec cannot run COPY; use the bulk writer");
    }
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
        rc = pg_result_error(db, res, err);
    PQclear(res);
    return rc;
}

void pg_format_double(char out[32], double value)
{
    if (isnan(value))
        strcpy(out, "NaN");
    else if (isinf(value))
        strcpy(out, value > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(out, 32, "%.17g", value);
}

static void pg_close(struct db *db)
{
    struct pg_db *p = as_db(db);
    PQfinish(p->conn);
    free(p);
}

static int pg_exec(struct db *db, const char *sql, struct sd_error *err)
{
    return pg_command(as_db(db), sql, err);
}

static int pg_begin(struct db *db, struct sd_error *err)
{
    return pg_command(as_db(db), "BEGIN", err);
}

static int pg_commit(struct db *db, struct sd_error *err)
{
    struct pg_db *p = as_db(db);
    pg_settle(p);
    PGresult *res = pg_exec_after_notify(p, "COMMIT");
    int rc = 0;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_result_error(p, res, err);
    else if (str_eq(PQcmdStatus(res), "ROLLBACK"))
        rc = sd_error_set(err, SD_ERROR,
                          "the transaction was rolled back because a statement in it failed");
    PQclear(res);
    return rc;
}

static void pg_rollback(struct db *db)
{
    struct pg_db *p = as_db(db);
    pg_settle(p);
    p->pending_notify[0] = '\0';
    PGTransactionStatusType t = PQtransactionStatus(p->conn);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
        PQclear(PQexec(p->conn, "ROLLBACK"));
}

static int64_t pg_last_insert_id(struct db *db)
{
    (void)db;
    return 0;
}

/* The columns of the relation an unqualified reference to `table` reaches through the
 * search_path (to_regclass takes the quoted name, so case and odd characters are kept);
 * none means there is no such table. */
int db_pg_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                        struct sd_error *err)
{
    struct pg_db *p = (struct pg_db *)db;
    struct buf quoted = BUF_INIT;
    if (db_append_ident(&quoted, table))
        return sd_error_nomem(err);
    pg_settle(p);
    const char *values[1] = {buf_cstr(&quoted)};
    PGresult *res = PQexecParams(p->conn,
                                 "SELECT attname FROM pg_attribute WHERE attrelid = "
                                 "to_regclass($1::text) AND attnum > 0 AND NOT attisdropped "
                                 "ORDER BY attnum",
                                 1, NULL, values, NULL, NULL, 0);
    buf_free(&quoted);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = pg_result_error(p, res, err);
        PQclear(res);
        return rc;
    }
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return sd_error_set(err, SD_ENOTFOUND, "there is no table \"%s\" in the database", table);
    }
    char **names = calloc((size_t)n, sizeof *names);
    for (int i = 0; names && i < n; i++) {
        if (!(names[i] = str_dup(PQgetvalue(res, i, 0)))) {
            db_free_names(names, (size_t)i);
            names = NULL;
        }
    }
    PQclear(res);
    if (!names)
        return sd_error_nomem(err);
    *out = names;
    *count = (size_t)n;
    return 0;
}

static const struct db_ops pg_ops = {
    .name = "postgres",
    .dialect = &pg_dialect,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = db_pg_prepare,
    .bind_null = db_pg_bind_null,
    .bind_int64 = db_pg_bind_int64,
    .bind_double = db_pg_bind_double,
    .bind_bool = db_pg_bind_bool,
    .bind_text = db_pg_bind_text,
    .step = db_pg_step,
    .column_count = db_pg_column_count,
    .column_is_null = db_pg_column_is_null,
    .column_int64 = db_pg_column_int64,
    .column_double = db_pg_column_double,
    .column_text = db_pg_column_text,
    .changes = db_pg_changes,
    .reset = db_pg_reset,
    .finalize = db_pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .last_insert_id = pg_last_insert_id,
    .bulk_open = db_pg_bulk_open,
    .bulk_write_row = db_pg_bulk_write_row,
    .bulk_flush = db_pg_bulk_flush,
    .bulk_close = db_pg_bulk_close,
    .table_columns = db_pg_table_columns,
    .notify = db_pg_notify,
    .listen = db_pg_listen,
    .wait_notification = db_pg_wait_notification,
};

/* Server notices ("table already exists, skipping") are not errors; libpq would print them
 * on stderr. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * Connects and applies the session settings of the DESIGN block. The caller's string is
 * libpq's (expand_dbname); client_encoding is forced to UTF8 after it, connect_timeout and
 * the application name only default before it. The message of a failed connection names the
 * host, port and database but never the password. The caller owns *out.
 */
int db_postgres_open(struct db **out, const char *conninfo, struct sd_error *err)
{
    struct pg_db *p = calloc(1, sizeof *p);
    if (!p)
        return sd_error_nomem(err);
    p->base.ops = &pg_ops;
    static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                       "client_encoding", NULL};
    const char *values[] = {"10", "sheetd", conninfo, "UTF8", NULL};
    p->conn = PQconnectdbParams(keys, values, 1);
    if (!p->conn) {
        free(p);
        return sd_error_nomem(err);
    }
    int rc;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(p->conn);
        /* libpq prefixes "connection to server at ... failed: "; the sentence says that. */
        const char *colon = strstr(msg, "failed: ");
        if (colon)
            msg = colon + strlen("failed: ");
        const char *host = PQhost(p->conn), *port = PQport(p->conn), *dbname = PQdb(p->conn);
        rc = sd_error_set(err, SD_ERROR,
                          "could not connect to the PostgreSQL database %s on %s port %s: %.*s; "
                          "check SHEETD_DATABASE_URL and that the server is running",
                          dbname ? dbname : "?", host && *host ? host : "localhost",
                          port && *port ? port : "5432", pg_first_line_len(msg), msg);
        goto fail;
    }
    PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
    rc = pg_command(p, "SET DateStyle TO ISO, YMD; SET TimeZone TO 'UTC'", err);
    if (rc)
        goto fail;
    *out = &p->base;
    return 0;
fail:
    PQfinish(p->conn);
    free(p);
    return rc;
}
