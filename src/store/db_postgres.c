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
 * db_prepare only keeps the text: the server sees the statement at the first db_step, which is
 * where a mistake in the SQL is reported (SQLite reports it at db_prepare; callers check both).
 * A statement run a second time (after db_reset) is prepared on the server under a name of
 * its own, for the parameter types of that run, and runs prepared from then on (re-prepared
 * if the types bound change); db_finalize deallocates it. In a loop of small statements that
 * halves the time, since the server no longer parses and plans each run.
 *
 * Rows stream. db_step sends the statement (PQsendQueryParams) in single-row mode and hands
 * out one row per step, so an export of a million rows holds one row in memory, not the
 * whole result. While those rows arrive the connection can do nothing else; a caller that
 * runs another statement on the same connection before it has read every row (a loop that
 * updates as it reads, say) is served anyway: pg_settle first receives the rest of the
 * streaming statement into that statement's queue, which is then read from memory.
 *
 * Errors are mapped by SQLSTATE in db_postgres_error.c; LISTEN/NOTIFY live in
 * db_postgres_notify.c.
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
    /* Any constant works as long as every sheetd uses the same one: "sheetd" in ASCII. */
    .migration_lock = "SELECT pg_advisory_lock(126892214940772)",
    .migration_unlock = "SELECT pg_advisory_unlock(126892214940772)",
};

/* The type OIDs parameters are sent with (PostgreSQL's catalog numbers, stable since
 * forever; 0 lets the server infer the type from the statement). */
#define PG_OID_UNKNOWN 0
#define PG_OID_BOOL 16
#define PG_OID_INT8 20
#define PG_OID_FLOAT8 701

/* A statement's parameters as text (libpq's text format), with the types they are sent as. */
struct pg_params {
    int count; /* highest index bound so far */
    int cap;
    char **values; /* malloc'd, NUL-terminated; NULL for SQL NULL */
    int *lengths;
    Oid *types;
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
    /* A statement run a second time is prepared on the server ("sd_p<N>") for the parameter
     * types it was then bound with; `name` is "" while it is not. */
    unsigned runs;
    bool unpreparable;
    char name[24];
    int prepared_nparams;
    Oid *prepared_types;
};

static struct pg_db *as_db(struct db *db)
{
    return (struct pg_db *)db;
}

static struct pg_stmt *as_stmt(struct db_stmt *stmt)
{
    return (struct pg_stmt *)stmt;
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

static int pg_params_set(struct pg_params *p, int idx, const char *text, size_t len, Oid type)
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

static void pg_params_free(struct pg_params *p)
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

/* libpq's text parameters end at a NUL byte, and PostgreSQL text cannot hold one anyway: such
 * text is refused (reported by db_step) rather than cut short. */
static int pg_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len)
{
    struct pg_stmt *st = as_stmt(stmt);
    if (len > (size_t)0x7fffffff)
        return bind_result(st, idx, SD_ELIMIT);
    if (memchr(text, '\0', len))
        return bind_result(st, idx, SD_EINVALID);
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

/* Drops the statement's server-side preparation. A transaction that failed refuses even
 * DEALLOCATE; the preparation then lives on until the connection closes, which only costs the
 * server a little memory. */
static void unprepare(struct pg_stmt *st)
{
    struct pg_db *db = as_db(st->base.db);
    if (st->name[0] && !db->base.broken) {
        pg_settle(db);
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        if (PQtransactionStatus(db->conn) != PQTRANS_INERROR)
            PQclear(PQexec(db->conn, sql));
    }
    st->name[0] = '\0';
    free(st->prepared_types);
    st->prepared_types = NULL;
}

static bool prepared_for_these_types(const struct pg_stmt *st)
{
    return st->name[0] && st->prepared_nparams == st->params.count &&
           (st->params.count == 0 || !memcmp(st->prepared_types, st->params.types,
                                             (size_t)st->params.count * sizeof *st->params.types));
}

/* Why: a statement that runs again (a loop's INSERT, a queue's claim) is parsed and planned
 * once instead of at every run. The first run goes unprepared, so one-off statements cost no
 * extra round trip; a statement the server will not prepare keeps going unprepared. Returns
 * libpq's 1 (sent) or 0. */
static int send_statement(struct pg_stmt *st)
{
    struct pg_db *db = as_db(st->base.db);
    const struct pg_params *p = &st->params;
    if (st->runs++ > 0 && !st->unpreparable && !prepared_for_these_types(st)) {
        unprepare(st);
        Oid *types = malloc((size_t)(p->count ? p->count : 1) * sizeof *types);
        if (types) {
            if (p->count)
                memcpy(types, p->types, (size_t)p->count * sizeof *types);
            snprintf(st->name, sizeof st->name, "sd_p%u", ++db->prepared_seq);
            PGresult *r = PQprepare(db->conn, st->name, st->sql, p->count, types);
            if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
                st->prepared_types = types;
                st->prepared_nparams = p->count;
            } else {
                st->name[0] = '\0';
                st->unpreparable = true;
                free(types);
            }
            PQclear(r);
        }
    }
    if (st->name[0])
        return PQsendQueryPrepared(db->conn, st->name, p->count, (const char *const *)p->values,
                                   p->lengths, NULL, 0);
    return PQsendQueryParams(db->conn, st->sql, p->count, p->types, (const char *const *)p->values,
                             p->lengths, NULL, 0);
}

static int pg_step(struct db_stmt *stmt, struct sd_error *err)
{
    struct pg_stmt *st = as_stmt(stmt);
    struct pg_db *db = as_db(stmt->db);
    if (st->bind_rc) {
        if (st->bind_rc == SD_ENOMEM)
            return sd_error_nomem(err);
        if (st->bind_rc == SD_EINVALID)
            return sd_error_set(err, SD_EINVALID,
                                "the database refused a value: parameter $%d is text with a NUL "
                                "byte, which PostgreSQL cannot store",
                                st->bind_idx);
        return sd_error_set(err, st->bind_rc, "parameter $%d could not be bound: it is too large",
                            st->bind_idx);
    }
    if (st->state == PG_STMT_DONE)
        return DB_DONE;
    if (st->state == PG_STMT_IDLE) {
        pg_settle(db);
        if (!send_statement(st)) {
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
    unprepare(st);
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
