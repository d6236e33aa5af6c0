/*
 * DESIGN
 * ------
 * The statements of the PostgreSQL backend: db_prepare ... db_finalize of db.h.
 *
 * db.h's SQL already numbers its placeholders $1, $2 ..., which is PostgreSQL's
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
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_postgres.h"

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

int db_pg_prepare(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err)
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

int db_pg_bind_null(struct db_stmt *stmt, int idx)
{
    struct pg_stmt *st = as_stmt(stmt);
    return bind_result(st, idx, pg_params_set(&st->params, idx, NULL, 0, PG_OID_UNKNOWN));
}

int db_pg_bind_int64(struct db_stmt *stmt, int idx, int64_t value)
{
    struct pg_stmt *st = as_stmt(stmt);
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    return bind_result(st, idx, pg_params_set(&st->params, idx, text, (size_t)n, PG_OID_INT8));
}

int db_pg_bind_double(struct db_stmt *stmt, int idx, double value)
{
    struct pg_stmt *st = as_stmt(stmt);
    char text[32];
    pg_format_double(text, value);
    return bind_result(st, idx, pg_params_set(&st->params, idx, text, strlen(text), PG_OID_FLOAT8));
}

int db_pg_bind_bool(struct db_stmt *stmt, int idx, bool value)
{
    struct pg_stmt *st = as_stmt(stmt);
    return bind_result(st, idx, pg_params_set(&st->params, idx, value ? "t" : "f", 1, PG_OID_BOOL));
}

/* libpq's text parameters end at a NUL byte, and PostgreSQL text cannot hold one anyway: such
 * text is refused (reported by db_step) rather than cut short. */
int db_pg_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len)
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

int db_pg_step(struct db_stmt *stmt, struct sd_error *err)
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

int db_pg_column_count(struct db_stmt *stmt)
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

bool db_pg_column_is_null(struct db_stmt *stmt, int col)
{
    return value_at(as_stmt(stmt), col) == NULL;
}

/* A BOOLEAN reads as 1/0 like SQLite's integers; anything else as the number it starts with. */
int64_t db_pg_column_int64(struct db_stmt *stmt, int col)
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

double db_pg_column_double(struct db_stmt *stmt, int col)
{
    const char *v = value_at(as_stmt(stmt), col);
    if (!v)
        return 0;
    if (str_eq(v, "t") || str_eq(v, "f"))
        return v[0] == 't';
    return strtod(v, NULL);
}

const char *db_pg_column_text(struct db_stmt *stmt, int col)
{
    return value_at(as_stmt(stmt), col);
}

int64_t db_pg_changes(struct db_stmt *stmt)
{
    return as_stmt(stmt)->changes;
}

/* Bindings stay (SQLite's rule, which callers rely on); a statement still running is ended. */
int db_pg_reset(struct db_stmt *stmt)
{
    struct pg_stmt *st = as_stmt(stmt);
    finish(st);
    st->state = PG_STMT_IDLE;
    st->changes = 0;
    st->bind_rc = 0;
    st->bind_idx = 0;
    return 0;
}

void db_pg_finalize(struct db_stmt *stmt)
{
    struct pg_stmt *st = as_stmt(stmt);
    finish(st);
    unprepare(st);
    free(st->queue);
    pg_params_free(&st->params);
    free(st->sql);
    free(st);
}
