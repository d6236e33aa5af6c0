/*
 * DESIGN
 * ------
 * The PostgreSQL backend: one `struct pg_db` per libpq connection, opened from a
 * "postgres://" / "postgresql://" URL or a "host=... dbname=..." string exactly as libpq
 * reads them (sslmode, passwords and the rest are libpq's business). Each connection then
 * sets DateStyle ISO and TimeZone UTC, so a DATE reads back as YYYY-MM-DD and a TIMESTAMP as
 * YYYY-MM-DD HH:MM:SS whatever the server's defaults, and client_encoding is UTF8.
 *
 * Statements. db.h's SQL already numbers its placeholders $1, $2 ..., which is PostgreSQL's
 * own syntax, so the text goes to the server unchanged. Parameters travel in libpq's text
 * format: integers as BIGINT, doubles as DOUBLE PRECISION, booleans as BOOLEAN, and text with
 * no type at all ("unknown"), so that the server reads it as whatever the column is: a TEXT
 * date lands in a DATE column as a date, which a parameter typed TEXT would not.
 *
 * Rows stream. db_step sends the statement (PQsendQueryParams) in single-row mode and hands
 * out one row per step, so an export of a million rows holds one row in memory, not the
 * whole result. While those rows arrive the connection can do nothing else; a caller that
 * runs another statement on the same connection before it has read every row (a loop that
 * updates as it reads, say) is served anyway: pg_settle first receives the rest of the
 * streaming statement into that statement's queue, which is then read from memory.
 *
 * Errors, by SQLSTATE:
 *   23505 unique_violation                         SD_EEXISTS, naming the key columns;
 *   other 23xxx (not null, check, foreign key)      SD_EINVALID "the database refused the row";
 *   22xxx data exceptions (a bad date, overflow)    SD_EINVALID "the database refused a value";
 *   40001 serialization, 40P01 deadlock, 55P03     SD_ERETRY;
 *   54xxx program limits                            SD_ELIMIT;
 *   a lost connection (08xxx, 57P0x, or libpq's     SD_ERROR saying the connection was lost;
 *     own CONNECTION_BAD)                            the connection is marked broken so the
 *                                                    store's pool drops it;
 *   anything else                                   SD_ERROR with the server's message.
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
#include <poll.h>
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
    /* Any constant works as long as every sheetd uses the same one: "sheetd" in ASCII. */
    .migration_lock = "SELECT pg_advisory_lock(7454601829766244)",
    .migration_unlock = "SELECT pg_advisory_unlock(7454601829766244)",
};

enum pg_stmt_state { PG_STMT_IDLE, PG_STMT_RUNNING, PG_STMT_DONE };

struct pg_stmt {
    struct db_stmt base; /* first */
    char *sql;
    struct pg_params params;
    enum pg_stmt_state state;
    PGresult *res; /* the result whose rows are being read, or NULL */
    int row;       /* the current row of res */
    int ncolumns;
    int64_t changes;
    /* Results received by pg_settle while another statement needed the connection. */
    PGresult **queue;
    size_t nqueue, qhead, qcap;
    /* The first bind failure (db_bind_* has no error argument), reported by db_step. */
    int bind_rc;
    int bind_idx;
};

static struct pg_db *as_db(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *as_stmt(struct db_stmt *stmt)
{
    return (struct pg_stmt *)stmt;
}

/* The first line of a libpq message, without its trailing newline. */
static int first_line_len(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    return (int)(n > 400 ? 400 : n);
}

static bool lost_connection(const char *state)
{
    return str_has_prefix(state, "08") || str_eq(state, "57P01") || str_eq(state, "57P02") ||
           str_eq(state, "57P03");
}

/* "Key (email)=(a@example.com) already exists." -> "email"; the values stay out of the
 * message, as on SQLite. */
static int key_columns_of(const char *detail, const char **start)
{
    if (!detail || !str_has_prefix(detail, "Key ("))
        return 0;
    *start = detail + strlen("Key (");
    const char *end = strstr(*start, ")=(");
    return end ? (int)(end - *start) : 0;
}

int pg_result_error(struct pg_db *db, const PGresult *res, struct sd_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(db->conn);
    if (!state)
        state = "";
    if (PQstatus(db->conn) == CONNECTION_BAD || lost_connection(state)) {
        db->base.broken = true;
        return sd_error_set(err, SD_ERROR,
                            "lost the connection to the PostgreSQL database (%.*s); check that "
                            "the server is running and reachable",
                            first_line_len(msg), msg);
    }
    if (str_eq(state, "23505")) {
        const char *cols = NULL;
        int len =
            key_columns_of(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL, &cols);
        const char *table = res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
        if (len > 0)
            return sd_error_set(err, SD_EEXISTS,
                                "a row with the same %s%s%.*s already exists (a unique "
                                "constraint refused the new one)",
                                table ? table : "", table ? "." : "", len, cols);
        return sd_error_set(err, SD_EEXISTS, "a row with the same key already exists: %.*s",
                            first_line_len(msg), msg);
    }
    if (str_has_prefix(state, "23"))
        return sd_error_set(err, SD_EINVALID, "the database refused the row: %.*s",
                            first_line_len(msg), msg);
    if (str_has_prefix(state, "22"))
        return sd_error_set(err, SD_EINVALID, "the database refused a value: %.*s",
                            first_line_len(msg), msg);
    if (str_eq(state, "40001") || str_eq(state, "40P01") || str_eq(state, "55P03"))
        return sd_error_set(err, SD_ERETRY,
                            "the database is busy (a concurrent transaction conflicted with this "
                            "one); try again");
    if (str_eq(state, "53200"))
        return sd_error_nomem(err);
    if (str_has_prefix(state, "54"))
        return sd_error_set(err, SD_ELIMIT,
                            "a value or statement is too large for the database: "
                            "%.*s",
                            first_line_len(msg), msg);
    return sd_error_set(err, SD_ERROR, "database error: %.*s", first_line_len(msg), msg);
}

/* Appends one result of PQgetResult to the statement's queue (pg_settle's storage). */
static bool queue_push(struct pg_stmt *st, PGresult *r)
{
    if (st->nqueue == st->qcap) {
        size_t ncap = st->qcap ? st->qcap * 2 : 64;
        PGresult **grown = realloc(st->queue, ncap * sizeof *grown);
        if (!grown)
            return false;
        st->queue = grown;
        st->qcap = ncap;
    }
    st->queue[st->nqueue++] = r;
    return true;
}

/* Why: a statement in single-row mode owns the connection until its last row is received,
 * but db.h lets a caller run other statements meanwhile. The remaining results are moved
 * into the statement (which then reads them from memory) so the connection is free. When
 * memory runs out the results are dropped and the statement ends with an error result of our
 * own. */
void pg_settle(struct pg_db *db)
{
    struct pg_stmt *st = db->streaming;
    if (!st)
        return;
    db->streaming = NULL;
    bool ok = true;
    PGresult *r;
    while ((r = PQgetResult(db->conn)) != NULL) {
        if (ok && !queue_push(st, r)) {
            ok = false;
            for (size_t i = st->qhead; i < st->nqueue; i++)
                PQclear(st->queue[i]);
            st->nqueue = st->qhead = 0;
        }
        if (!ok)
            PQclear(r);
    }
    if (!ok) {
        PGresult *fail = PQmakeEmptyPGresult(db->conn, PGRES_FATAL_ERROR);
        if (fail && !queue_push(st, fail))
            PQclear(fail);
    }
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

int pg_append_ident(struct buf *b, const char *name)
{
    if (buf_putc(b, '"'))
        return SD_ENOMEM;
    for (const char *p = name; *p; p++)
        if ((*p == '"' && buf_putc(b, '"')) || buf_putc(b, *p))
            return SD_ENOMEM;
    return buf_putc(b, '"') ? SD_ENOMEM : 0;
}

int pg_params_set(struct pg_params *p, int idx, const char *text, size_t len, Oid type)
{
    if (idx > p->cap) {
        int ncap = p->cap ? p->cap : 8;
        while (ncap < idx)
            ncap *= 2;
        char **v = realloc(p->values, (size_t)ncap * sizeof *v);
        if (!v)
            return SD_ENOMEM;
        p->values = v;
        int *l = realloc(p->lengths, (size_t)ncap * sizeof *l);
        if (!l)
            return SD_ENOMEM;
        p->lengths = l;
        Oid *t = realloc(p->types, (size_t)ncap * sizeof *t);
        if (!t)
            return SD_ENOMEM;
        p->types = t;
        for (int i = p->cap; i < ncap; i++) {
            p->values[i] = NULL;
            p->lengths[i] = 0;
            p->types[i] = PG_OID_UNKNOWN;
        }
        p->cap = ncap;
    }
    char *copy = NULL;
    if (text && !(copy = str_ndup(text, len)))
        return SD_ENOMEM;
    free(p->values[idx - 1]);
    p->values[idx - 1] = copy;
    p->lengths[idx - 1] = (int)len;
    p->types[idx - 1] = text ? type : PG_OID_UNKNOWN;
    if (idx > p->count)
        p->count = idx;
    return 0;
}

void pg_params_free(struct pg_params *p)
{
    for (int i = 0; i < p->cap; i++)
        free(p->values[i]);
    free(p->values);
    free(p->lengths);
    free(p->types);
    memset(p, 0, sizeof *p);
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

static int pg_prepare(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err)
{
    struct pg_stmt *st = calloc(1, sizeof *st);
    if (!st || !(st->sql = str_dup(sql))) {
        free(st);
        return sd_error_nomem(err);
    }
    st->base.db = db;
    *out = &st->base;
    return 0;
}

static int bind_result(struct pg_stmt *st, int idx, int rc)
{
    if (rc && !st->bind_rc) {
        st->bind_rc = rc;
        st->bind_idx = idx;
    }
    return rc;
}

static int pg_bind_null(struct db_stmt *stmt, int idx)
{
    struct pg_stmt *st = as_stmt(stmt);
    return bind_result(st, idx, pg_params_set(&st->params, idx, NULL, 0, PG_OID_UNKNOWN));
}

static int pg_bind_int64(struct db_stmt *stmt, int idx, int64_t value)
{
    struct pg_stmt *st = as_stmt(stmt);
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    return bind_result(st, idx, pg_params_set(&st->params, idx, text, (size_t)n, PG_OID_INT8));
}

static int pg_bind_double(struct db_stmt *stmt, int idx, double value)
{
    struct pg_stmt *st = as_stmt(stmt);
    char text[32];
    pg_format_double(text, value);
    return bind_result(st, idx, pg_params_set(&st->params, idx, text, strlen(text), PG_OID_FLOAT8));
}

static int pg_bind_bool(struct db_stmt *stmt, int idx, bool value)
{
    struct pg_stmt *st = as_stmt(stmt);
    return bind_result(st, idx, pg_params_set(&st->params, idx, value ? "t" : "f", 1, PG_OID_BOOL));
}

static int pg_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len)
{
    struct pg_stmt *st = as_stmt(stmt);
    if (len > (size_t)0x7fffffff)
        return bind_result(st, idx, SD_ELIMIT);
    return bind_result(st, idx, pg_params_set(&st->params, idx, text, len, PG_OID_UNKNOWN));
}

/* The next result of a running statement: from its queue when pg_settle moved its results
 * there, else from the connection. NULL when there are no more. */
static PGresult *next_result(struct pg_stmt *st)
{
    if (st->qhead < st->nqueue)
        return st->queue[st->qhead++];
    struct pg_db *db = as_db(st->base.db);
    return db->streaming == st ? PQgetResult(db->conn) : NULL;
}

/* Ends a running statement: receives (and drops) whatever it has not read yet, so the
 * connection is free for the next command. */
static void finish(struct pg_stmt *st)
{
    struct pg_db *db = as_db(st->base.db);
    PQclear(st->res);
    st->res = NULL;
    if (db->streaming == st) {
        PGresult *r;
        while ((r = PQgetResult(db->conn)) != NULL)
            PQclear(r);
        db->streaming = NULL;
    }
    for (size_t i = st->qhead; i < st->nqueue; i++)
        PQclear(st->queue[i]);
    st->nqueue = st->qhead = 0;
    if (st->state == PG_STMT_RUNNING)
        st->state = PG_STMT_DONE;
}

static int64_t cmd_tuples(PGresult *r)
{
    const char *n = PQcmdTuples(r);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

static int pg_step(struct db_stmt *stmt, struct sd_error *err)
{
    struct pg_stmt *st = as_stmt(stmt);
    struct pg_db *db = as_db(stmt->db);
    if (st->bind_rc) {
        if (st->bind_rc == SD_ENOMEM)
            return sd_error_nomem(err);
        return sd_error_set(err, st->bind_rc, "parameter $%d could not be bound: it is too large",
                            st->bind_idx);
    }
    if (st->state == PG_STMT_DONE)
        return DB_DONE;
    if (st->state == PG_STMT_IDLE) {
        pg_settle(db);
        if (!PQsendQueryParams(db->conn, st->sql, st->params.count, st->params.types,
                               (const char *const *)st->params.values, st->params.lengths, NULL,
                               0)) {
            st->state = PG_STMT_DONE;
            return pg_result_error(db, NULL, err);
        }
        PQsetSingleRowMode(db->conn);
        st->state = PG_STMT_RUNNING;
        db->streaming = st;
    }
    if (st->res && st->row + 1 < PQntuples(st->res)) {
        st->row++;
        return DB_ROW;
    }
    PQclear(st->res);
    st->res = NULL;
    PGresult *r = next_result(st);
    if (!r) {
        finish(st);
        return DB_DONE;
    }
    int rc;
    switch (PQresultStatus(r)) {
    case PGRES_SINGLE_TUPLE:
    case PGRES_TUPLES_OK:
        st->ncolumns = PQnfields(r);
        if (PQntuples(r) > 0) {
            if (PQresultStatus(r) == PGRES_TUPLES_OK)
                st->changes = cmd_tuples(r);
            st->res = r;
            st->row = 0;
            return DB_ROW;
        }
        /* the end of the rows */
        __attribute__((fallthrough));
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        st->changes = cmd_tuples(r);
        PQclear(r);
        finish(st);
        return DB_DONE;
    case PGRES_COPY_IN:
        PQputCopyEnd(db->conn, "db_step does not run COPY");
        PQclear(r);
        finish(st);
        return sd_error_set(err, SD_EUSAGE, "db_step cannot run COPY; use the bulk writer");
    default:
        rc = pg_result_error(db, r, err);
        PQclear(r);
        finish(st);
        return rc;
    }
}

static int pg_column_count(struct db_stmt *stmt)
{
    struct pg_stmt *st = as_stmt(stmt);
    return st->res ? PQnfields(st->res) : st->ncolumns;
}

static const char *value_at(struct pg_stmt *st, int col)
{
    if (!st->res || col >= PQnfields(st->res) || PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

static bool pg_column_is_null(struct db_stmt *stmt, int col)
{
    return value_at(as_stmt(stmt), col) == NULL;
}

/* A BOOLEAN reads as 1/0 like SQLite's integers; anything else as the number it starts with. */
static int64_t pg_column_int64(struct db_stmt *stmt, int col)
{
    const char *v = value_at(as_stmt(stmt), col);
    if (!v)
        return 0;
    if (str_eq(v, "t"))
        return 1;
    if (str_eq(v, "f"))
        return 0;
    return strtoll(v, NULL, 10);
}

static double pg_column_double(struct db_stmt *stmt, int col)
{
    const char *v = value_at(as_stmt(stmt), col);
    if (!v)
        return 0;
    if (str_eq(v, "t") || str_eq(v, "f"))
        return v[0] == 't';
    return strtod(v, NULL);
}

static const char *pg_column_text(struct db_stmt *stmt, int col)
{
    return value_at(as_stmt(stmt), col);
}

static int64_t pg_changes(struct db_stmt *stmt)
{
    return as_stmt(stmt)->changes;
}

/* Bindings stay (SQLite's rule, which callers rely on); a statement still running is ended. */
static int pg_reset(struct db_stmt *stmt)
{
    struct pg_stmt *st = as_stmt(stmt);
    finish(st);
    st->state = PG_STMT_IDLE;
    st->changes = 0;
    st->bind_rc = 0;
    st->bind_idx = 0;
    return 0;
}

static void pg_finalize(struct db_stmt *stmt)
{
    struct pg_stmt *st = as_stmt(stmt);
    finish(st);
    free(st->queue);
    pg_params_free(&st->params);
    free(st->sql);
    free(st);
}

static int pg_begin(struct db *db, struct sd_error *err)
{
    return pg_command(as_db(db), "BEGIN", err);
}

static int pg_commit(struct db *db, struct sd_error *err)
{
    struct pg_db *p = as_db(db);
    pg_settle(p);
    PGresult *res = PQexec(p->conn, "COMMIT");
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
    PGTransactionStatusType t = PQtransactionStatus(p->conn);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
        PQclear(PQexec(p->conn, "ROLLBACK"));
}

static int64_t pg_last_insert_id(struct db *db)
{
    (void)db;
    return 0;
}

/* pg_notify takes the channel as a value, so it is bound, never spliced into SQL. */
static int pg_notify(struct db *db, const char *channel, struct sd_error *err)
{
    struct pg_db *p = as_db(db);
    pg_settle(p);
    const char *values[1] = {channel};
    PGresult *res =
        PQexecParams(p->conn, "SELECT pg_notify($1, '')", 1, NULL, values, NULL, NULL, 0);
    int rc = res && PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : pg_result_error(p, res, err);
    PQclear(res);
    return rc;
}

/* LISTEN takes an identifier, so the channel is quoted by libpq. */
static int pg_listen(struct db *db, const char *channel, struct sd_error *err)
{
    struct pg_db *p = as_db(db);
    char *ident = PQescapeIdentifier(p->conn, channel, strlen(channel));
    if (!ident)
        return sd_error_nomem(err);
    struct buf sql = BUF_INIT;
    int rc = buf_printf(&sql, "LISTEN %s", ident);
    PQfreemem(ident);
    rc = rc ? sd_error_nomem(err) : pg_command(p, buf_cstr(&sql), err);
    buf_free(&sql);
    return rc;
}

/* True (and every queued notification consumed) when a notification has arrived. */
static bool take_notifications(PGconn *conn)
{
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

/* Why poll(): libpq only reads the socket when asked, so a connection that is not running a
 * query must wait on its socket itself; PQconsumeInput then reads what arrived and
 * PQnotifies hands out the notifications. */
static int pg_wait_notification(struct db *db, int timeout_ms, bool *notified, struct sd_error *err)
{
    struct pg_db *p = as_db(db);
    pg_settle(p);
    *notified = false;
    if (!PQconsumeInput(p->conn))
        return pg_result_error(p, NULL, err);
    if ((*notified = take_notifications(p->conn)))
        return 0;
    int64_t deadline = clock_monotonic_ms(clock_system()) + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = deadline - clock_monotonic_ms(clock_system());
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
        if (pfd.fd < 0)
            return pg_result_error(p, NULL, err);
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno != EINTR)
            return sd_error_set(err, SD_ERROR, "waiting for a database notification failed: %s",
                                strerror(errno));
        if (n > 0) {
            if (!PQconsumeInput(p->conn))
                return pg_result_error(p, NULL, err);
            if ((*notified = take_notifications(p->conn)))
                return 0;
        }
        if (left == 0)
            return 0;
    }
}

static const struct db_ops pg_ops = {
    .name = "postgres",
    .dialect = &pg_dialect,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_null = pg_bind_null,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_bool = pg_bind_bool,
    .bind_text = pg_bind_text,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .changes = pg_changes,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .last_insert_id = pg_last_insert_id,
    .bulk_open = db_pg_bulk_open,
    .bulk_write_row = db_pg_bulk_write_row,
    .bulk_flush = db_pg_bulk_flush,
    .bulk_close = db_pg_bulk_close,
    .table_columns = db_pg_table_columns,
    .notify = pg_notify,
    .listen = pg_listen,
    .wait_notification = pg_wait_notification,
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
                          port && *port ? port : "5432", first_line_len(msg), msg);
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
