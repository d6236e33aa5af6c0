/*
 * DESIGN
 * ------
 * Bulk writing on SQLite, and the schema questions the store asks (which columns a table
 * has).
 *
 * Rows are written in batches: db_bulk_write_row copies the row into the writer (the caller's
 * text is only borrowed for the call) and, once BULK_BATCH_ROWS rows are waiting, one
 * multi-row statement writes them all:
 *
 *     INSERT INTO t (a, b) VALUES (?, ?), (?, ?), ... [ON CONFLICT (key...) DO NOTHING]
 *
 * prepared once for the full batch size and reused; the last, shorter batch (db_bulk_flush)
 * gets a statement of its own size. Inside the caller's transaction one statement per 64 rows
 * costs far less than one per row: the per-statement work (binding, stepping, opening the
 * b-tree cursors, the statement journal) is paid once per batch.
 *
 * The text of a waiting row lives in one arena (`text`) that grows as rows arrive, so it may
 * move: a waiting TEXT value keeps its offset into the arena in `i` and gets its pointer only
 * when the batch is bound, after which the arena stands still until the batch is done. Values
 * are bound SQLITE_STATIC (no copy); the statement keeps those pointers after it ran but never
 * reads them again, because every parameter is bound afresh before the next step and closing
 * the writer finalizes without stepping.
 *
 * With key columns a row whose key exists must update that row and be counted as an update.
 * The batch INSERT skips such rows (DO NOTHING), and the number of rows it changed tells what
 * happened without asking which rows those were:
 *
 *   all inserted  nothing more to do;
 *   none inserted every key existed: each row runs the one-row
 *                     UPDATE t SET <other columns> = ... WHERE <key columns> = ...
 *                 in order, and must find its row;
 *   some          each row runs the UPDATE in order. A row the INSERT just wrote is set to the
 *                 values it already has; a skipped row gets its values; and when one key
 *                 appears twice in the batch the later row's UPDATE runs last, so the later
 *                 row wins, as it would row by row. The counts are the INSERT's changes
 *                 (inserted) and the rest (updated).
 *
 * Asking first (SELECT the batch's keys) or INSERT ... RETURNING the keys would need the
 * returned keys matched back to the batch's rows in C, with SQLite's type affinity in
 * between (RETURNING's row order is not defined either). The counts need no matching, and
 * the common cases (a fresh import, re-importing the same file) are the first two lines
 * above: one statement per batch, or one batch statement that changes nothing plus one UPDATE
 * per row. Only a batch that mixes new and existing keys pays an UPDATE for its new rows.
 *
 * A statement that fails undoes its own changes (SQLite's default ABORT), so when a batch
 * fails the writer replays it row by row with one-row statements, to write the rows before
 * the bad one and to say which row the database refused (the caller's `tag` for it, see
 * db_bulk_refused_row). The bad row and the rest of its batch are not written; the writer
 * stays usable for new rows.
 *
 * An upsert batch can also fail in one of its UPDATEs, after its INSERT has already written
 * the new rows of the whole batch, including those after the refused row. So a batch of
 * several rows that needs UPDATEs runs inside a savepoint: when an UPDATE fails, the batch is
 * rolled back to it and replayed row by row like a failed INSERT.
 *
 * A savepoint is not free: until it is released, SQLite copies every page the batch changes
 * into a sub-journal first, and the unique index of a random key (an email) has a different
 * page for nearly every row, so an import into an empty table wrote 1.3 GB of sub-journal for
 * 100k rows and took about twice as long as reading the file. Most batches need no UPDATE at
 * all, so the savepoint is taken only when one does:
 *
 *   1. remember the table's largest rowid, and run the batch INSERT without a savepoint;
 *   2. all rows inserted: done (a fresh import never goes further);
 *   3. otherwise the INSERT's own rows are exactly those past the remembered rowid (a new
 *      row gets the largest rowid + 1, and no column written is the rowid): they are deleted
 *      again, which leaves the table as before the batch, and the batch runs once more inside
 *      a savepoint as above.
 *
 * The first try is made only when its assumptions hold: the table has a rowid and none of the
 * columns written is it (checked when the writer opens), and the largest rowid leaves room
 * for the batch below the rowid limit (checked per batch). A DELETE that does not remove
 * exactly the rows the INSERT wrote is reported as an error rather than left behind.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_sqlite.h"

/* Rows per multi-row statement (fewer when the columns would pass SQLite's parameter
 * limit). On the 100k-row customers import 32, 64 and 128 measured the same within the
 * noise; all are far from one row per statement. */
#define BULK_BATCH_ROWS 64

/* The page cache of the connection while a writer is open, in KiB (SQLite's default is
 * 2 MiB). An index on a random key (an email) is changed all over for every batch: with the
 * default cache its pages were written out to the WAL mid-import and read back again and
 * again (the index of 100k emails is about 5 MB). The cache only grows as pages are used. */
#define BULK_CACHE_KIB 8192

struct sqlite_bulk {
    struct db_bulk base;        /* first */
    sqlite3_stmt *insert_batch; /* batch_rows rows; NULL when batch_rows is 1 */
    sqlite3_stmt *insert;       /* one row */
    sqlite3_stmt *update;       /* NULL without key columns, or when every column is a key */
    /* For upserts whose first try may run without a savepoint (see the DESIGN note): the
     * largest rowid, and the DELETE of the rows past it. NULL when that way is not safe. */
    sqlite3_stmt *max_rowid;
    sqlite3_stmt *undo_insert;
    /* For value i, the UPDATE's parameter index of "$<i+1>" (0: not used), looked up once
     * here instead of once per row. The INSERTs number their parameters row by row. */
    int *update_params;
    struct buf sql_head; /* "INSERT INTO t (a, b) VALUES " */
    struct buf sql_tail; /* " ON CONFLICT (...) DO NOTHING" or "" */
    size_t ncolumns;
    size_t batch_rows;
    size_t npending;
    struct db_value *pending; /* batch_rows * ncolumns, see the DESIGN note for TEXT */
    int64_t *tags;            /* the caller's tag of each waiting row */
    struct buf text;
    bool upsert;
    int saved_cache_size; /* PRAGMA cache_size before the writer opened; 0: not changed */
};

static sqlite3 *bulk_conn(struct sqlite_bulk *b)
{
    return ((struct sqlite_db *)b->base.db)->conn;
}

static bool is_key(const struct db_bulk_options *opts, const char *column)
{
    for (size_t k = 0; k < opts->nkey_columns; k++)
        if (str_eq(opts->key_columns[k], column))
            return true;
    return false;
}

/* The parts of the INSERT around its VALUES rows, kept so a statement for any number of rows
 * can be built later (the last batch). */
static int build_insert_parts(struct sqlite_bulk *b, const struct db_bulk_options *opts)
{
    struct buf *sql = &b->sql_head;
    int rc = buf_puts(sql, "INSERT INTO ");
    rc = rc ? rc : db_sqlite_append_ident(sql, opts->table);
    rc = rc ? rc : buf_puts(sql, " (");
    for (size_t i = 0; !rc && i < opts->ncolumns; i++) {
        rc = i ? buf_puts(sql, ", ") : 0;
        rc = rc ? rc : db_sqlite_append_ident(sql, opts->columns[i]);
    }
    rc = rc ? rc : buf_puts(sql, ") VALUES ");
    /* An empty tail must still be a valid C string. */
    rc = rc ? rc : buf_puts(&b->sql_tail, "");
    if (!rc && opts->nkey_columns) {
        sql = &b->sql_tail;
        rc = buf_puts(sql, " ON CONFLICT (");
        for (size_t k = 0; !rc && k < opts->nkey_columns; k++) {
            rc = k ? buf_puts(sql, ", ") : 0;
            rc = rc ? rc : db_sqlite_append_ident(sql, opts->key_columns[k]);
        }
        rc = rc ? rc : buf_puts(sql, ") DO NOTHING");
    }
    return rc;
}

/* Leaves `sql` empty when every column is a key column: there is nothing to update. */
static int build_update(struct buf *sql, const struct db_bulk_options *opts)
{
    int rc = 0;
    bool any = false;
    for (size_t i = 0; !rc && i < opts->ncolumns; i++) {
        if (is_key(opts, opts->columns[i]))
            continue;
        if (!any) {
            rc = buf_puts(sql, "UPDATE ");
            rc = rc ? rc : db_sqlite_append_ident(sql, opts->table);
            rc = rc ? rc : buf_puts(sql, " SET ");
        } else {
            rc = buf_puts(sql, ", ");
        }
        any = true;
        rc = rc ? rc : db_sqlite_append_ident(sql, opts->columns[i]);
        rc = rc ? rc : buf_printf(sql, " = $%zu", i + 1);
    }
    if (!any)
        return rc;
    rc = rc ? rc : buf_puts(sql, " WHERE ");
    for (size_t i = 0, n = 0; !rc && i < opts->ncolumns; i++) {
        if (!is_key(opts, opts->columns[i]))
            continue;
        rc = n++ ? buf_puts(sql, " AND ") : 0;
        rc = rc ? rc : db_sqlite_append_ident(sql, opts->columns[i]);
        rc = rc ? rc : buf_printf(sql, " = $%zu", i + 1);
    }
    return rc;
}

/* Prepares an INSERT of `nrows` rows, its parameters numbered row by row. `flags` is
 * SQLITE_PREPARE_PERSISTENT for the statements that live as long as the writer. The caller
 * finalizes *out. */
static int prepare_insert(sqlite3_stmt **out, struct sqlite_bulk *b, size_t nrows, unsigned flags,
                          struct sd_error *err)
{
    struct buf sql = BUF_INIT;
    int rc = buf_append(&sql, b->sql_head.data, b->sql_head.len);
    for (size_t r = 0; !rc && r < nrows; r++) {
        rc = buf_puts(&sql, r ? ", (" : "(");
        for (size_t i = 0; !rc && i < b->ncolumns; i++)
            rc = buf_puts(&sql, i ? ", ?" : "?");
        rc = rc ? rc : buf_putc(&sql, ')');
    }
    rc = rc ? rc : buf_puts(&sql, buf_cstr(&b->sql_tail));
    if (rc) {
        buf_free(&sql);
        return sd_error_nomem(err);
    }
    sqlite3 *conn = bulk_conn(b);
    rc = sqlite3_prepare_v3(conn, sql.data, (int)sql.len, flags, out, NULL);
    buf_free(&sql);
    if (rc != SQLITE_OK)
        return db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    return 0;
}

/* Prepares the UPDATE and maps each value's "$N" to its parameter index (b->update_params,
 * owned by the writer). */
static int prepare_update(struct sqlite_bulk *b, const char *sql, struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    int rc = sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &b->update, NULL);
    if (rc != SQLITE_OK)
        return db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    b->update_params = calloc(b->ncolumns, sizeof *b->update_params);
    if (!b->update_params)
        return sd_error_nomem(err);
    for (size_t i = 0; i < b->ncolumns; i++) {
        char name[24];
        snprintf(name, sizeof name, "$%zu", i + 1);
        b->update_params[i] = sqlite3_bind_parameter_index(b->update, name);
    }
    return 0;
}

/* The batch size: BULK_BATCH_ROWS rows unless that many rows' values would pass the
 * connection's limit on parameters in one statement. */
static size_t batch_rows_for(sqlite3 *conn, size_t ncolumns)
{
    int limit = sqlite3_limit(conn, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    size_t most = limit > 0 ? (size_t)limit / ncolumns : 1;
    if (most > BULK_BATCH_ROWS)
        most = BULK_BATCH_ROWS;
    return most ? most : 1;
}

/* True when `column` of the table is its rowid (an INTEGER PRIMARY KEY), whose values the
 * INSERT would then choose instead of SQLite. */
static bool is_rowid_alias(sqlite3 *conn, const char *table, const char *column)
{
    const char *type = NULL;
    int pk = 0;
    if (sqlite3_table_column_metadata(conn, NULL, table, column, &type, NULL, NULL, &pk, NULL) !=
        SQLITE_OK)
        return true; /* unknown: do not assume */
    return pk && type && str_ieq(type, "INTEGER");
}

/* Prepares the two statements of the savepoint-free first try (DESIGN note), or leaves them
 * NULL when the table has no rowid or a column written is the rowid. */
static int prepare_undo(struct sqlite_bulk *b, const struct db_bulk_options *opts,
                        struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    for (size_t i = 0; i < opts->ncolumns; i++)
        if (is_rowid_alias(conn, opts->table, opts->columns[i]))
            return 0;
    struct buf max_sql = BUF_INIT, del_sql = BUF_INIT;
    int rc = buf_puts(&max_sql, "SELECT max(rowid) FROM ");
    rc = rc ? rc : db_sqlite_append_ident(&max_sql, opts->table);
    rc = rc ? rc : buf_puts(&del_sql, "DELETE FROM ");
    rc = rc ? rc : db_sqlite_append_ident(&del_sql, opts->table);
    rc = rc ? rc : buf_puts(&del_sql, " WHERE rowid > ?");
    if (rc) {
        rc = sd_error_nomem(err);
        goto done;
    }
    /* A table WITHOUT ROWID refuses both: the writer then always takes the savepoint. */
    if (sqlite3_prepare_v3(conn, max_sql.data, -1, SQLITE_PREPARE_PERSISTENT, &b->max_rowid,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(conn, del_sql.data, -1, SQLITE_PREPARE_PERSISTENT, &b->undo_insert,
                           NULL) != SQLITE_OK) {
        if ((sqlite3_errcode(conn) & 0xff) == SQLITE_NOMEM)
            rc = sd_error_nomem(err);
        sqlite3_finalize(b->max_rowid);
        sqlite3_finalize(b->undo_insert);
        b->max_rowid = b->undo_insert = NULL;
    }
done:
    buf_free(&max_sql);
    buf_free(&del_sql);
    return rc;
}

/* Reads an integer PRAGMA; 0 when it cannot be read. */
static int pragma_int(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *stmt;
    int v = 0;
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

/* Grows the page cache to BULK_CACHE_KIB for the writer's life (see there) and remembers the
 * setting to put back; a cache already as large is left alone. A negative cache_size is in
 * KiB, a positive one in pages. */
static void grow_cache(struct sqlite_bulk *b)
{
    sqlite3 *conn = bulk_conn(b);
    int was = pragma_int(conn, "PRAGMA cache_size");
    long long was_kib =
        was < 0 ? -(long long)was : (long long)was * pragma_int(conn, "PRAGMA page_size") / 1024;
    if (was == 0 || was_kib >= BULK_CACHE_KIB)
        return;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", BULK_CACHE_KIB);
    if (sqlite3_exec(conn, sql, NULL, NULL, NULL) == SQLITE_OK)
        b->saved_cache_size = was;
}

/* Prepares the INSERTs (and the UPDATE for upserts) once and allocates the batch. Every key
 * column must be one of the columns written, or the UPDATE could not find its row. The caller
 * owns *out and closes it with db_bulk_close. */
int db_sqlite_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                        struct sd_error *err)
{
    for (size_t k = 0; k < opts->nkey_columns; k++) {
        bool found = false;
        for (size_t i = 0; i < opts->ncolumns && !found; i++)
            found = str_eq(opts->key_columns[k], opts->columns[i]);
        if (!found)
            return sd_error_set(err, SD_EUSAGE,
                                "the key column \"%s\" is not one of the columns written to "
                                "%s",
                                opts->key_columns[k], opts->table);
    }
    struct sqlite_bulk *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    b->base.db = db;
    b->ncolumns = opts->ncolumns;
    b->upsert = opts->nkey_columns > 0;
    b->batch_rows = batch_rows_for(bulk_conn(b), b->ncolumns);
    grow_cache(b);
    struct buf sql = BUF_INIT;
    int rc;
    b->pending = calloc(b->batch_rows * b->ncolumns, sizeof *b->pending);
    b->tags = calloc(b->batch_rows, sizeof *b->tags);
    if (!b->pending || !b->tags || build_insert_parts(b, opts)) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    if ((rc = prepare_insert(&b->insert, b, 1, SQLITE_PREPARE_PERSISTENT, err)))
        goto fail;
    if (b->batch_rows > 1 &&
        (rc = prepare_insert(&b->insert_batch, b, b->batch_rows, SQLITE_PREPARE_PERSISTENT, err)))
        goto fail;
    if (b->upsert) {
        if (build_update(&sql, opts)) {
            rc = sd_error_nomem(err);
            goto fail;
        }
        if (sql.len && (rc = prepare_update(b, buf_cstr(&sql), err)))
            goto fail;
        if (b->update && b->batch_rows > 1 && (rc = prepare_undo(b, opts, err)))
            goto fail;
    }
    buf_free(&sql);
    *out = &b->base;
    return 0;
fail:
    if (err && rc != SD_ENOMEM)
        sd_error_prefix(err, "could not prepare writing rows to %s", opts->table);
    buf_free(&sql);
    db_sqlite_bulk_close(&b->base);
    return rc;
}

/* Binds one row. `params` maps value i to its parameter index (0: not in the statement);
 * without it value i is parameter first + i. */
static int bind_row(sqlite3_stmt *stmt, int first, const int *params, const struct db_value *values,
                    size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int idx = params ? params[i] : first + (int)i;
        if (idx == 0)
            continue;
        int rc;
        const struct db_value *v = &values[i];
        switch (v->type) {
        case DB_VALUE_NULL:
            rc = sqlite3_bind_null(stmt, idx);
            break;
        case DB_VALUE_INT64:
        case DB_VALUE_BOOL:
            rc = sqlite3_bind_int64(stmt, idx, v->type == DB_VALUE_BOOL ? v->i != 0 : v->i);
            break;
        case DB_VALUE_DOUBLE:
            rc = sqlite3_bind_double(stmt, idx, v->d);
            break;
        case DB_VALUE_TEXT:
            rc = sqlite3_bind_text64(stmt, idx, v->text ? v->text : "", v->text ? v->len : 0,
                                     SQLITE_STATIC, SQLITE_UTF8);
            break;
        default:
            assert(!"unknown db_value type");
            rc = SQLITE_MISUSE;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Binds `nrows` rows, steps and resets one statement; *changed receives how many rows it
 * changed. */
static int run(struct sqlite_bulk *b, sqlite3_stmt *stmt, const int *params,
               const struct db_value *rows, size_t nrows, int64_t *changed, struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    int code = 0;
    int rc = SQLITE_OK;
    for (size_t r = 0; rc == SQLITE_OK && r < nrows; r++)
        rc =
            bind_row(stmt, (int)(r * b->ncolumns) + 1, params, rows + r * b->ncolumns, b->ncolumns);
    *changed = 0;
    if (rc == SQLITE_OK) {
        sqlite3_int64 before = sqlite3_total_changes64(conn);
        rc = sqlite3_step(stmt);
        *changed = sqlite3_total_changes64(conn) != before ? sqlite3_changes64(conn) : 0;
    }
    if (rc != SQLITE_DONE)
        code = db_sqlite_error(rc == SQLITE_ROW ? SQLITE_MISUSE : sqlite3_extended_errcode(conn),
                               sqlite3_errmsg(conn), err);
    sqlite3_reset(stmt);
    return code;
}

/* One row the slow way: INSERT, and for an existing key the UPDATE. Used to replay a batch
 * that failed. */
static int write_one(struct sqlite_bulk *b, const struct db_value *values, struct sd_error *err)
{
    int64_t changed = 0;
    int rc = run(b, b->insert, NULL, values, 1, &changed, err);
    if (rc)
        return rc;
    if (!b->upsert || changed > 0) {
        b->base.inserted++;
        return 0;
    }
    if (b->update) {
        if ((rc = run(b, b->update, b->update_params, values, 1, &changed, err)))
            return rc;
        if (changed == 0)
            return sd_error_set(err, SD_ERROR,
                                "a row's key already existed but no row with that key could be "
                                "updated");
    }
    b->base.updated++;
    return 0;
}

/* After a batch INSERT with key columns changed `inserted` of `n` rows: runs the UPDATE for
 * the rows as the DESIGN note explains. */
static int update_batch(struct sqlite_bulk *b, size_t n, int64_t inserted, struct sd_error *err)
{
    if (b->update) {
        for (size_t r = 0; r < n; r++) {
            int64_t changed = 0;
            int rc =
                run(b, b->update, b->update_params, b->pending + r * b->ncolumns, 1, &changed, err);
            if (rc) {
                /* A busy database or a lack of memory belongs to no row. */
                b->base.refused = rc != SD_ERETRY && rc != SD_ENOMEM;
                b->base.refused_tag = b->tags[r];
                return rc;
            }
            if (inserted == 0 && changed == 0) {
                b->base.refused = true;
                b->base.refused_tag = b->tags[r];
                return sd_error_set(err, SD_ERROR,
                                    "a row's key already existed but no row with that key "
                                    "could be updated");
            }
        }
    }
    b->base.inserted += (uint64_t)inserted;
    b->base.updated += n - (uint64_t)inserted;
    return 0;
}

/* Runs SAVEPOINT, ROLLBACK TO or RELEASE of the savepoint around an upsert batch. */
static int savepoint_exec(struct sqlite_bulk *b, const char *sql, struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    if (sqlite3_exec(conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    return 0;
}

/* A batch statement failed (and undid itself): writes its rows one at a time up to the one
 * the database refuses, and reports that one. A busy database or a lack of memory is passed
 * on as it is: replaying would only meet it again. */
static int replay_batch(struct sqlite_bulk *b, size_t n, int code, struct sd_error *err)
{
    if (code == SD_ERETRY || code == SD_ENOMEM)
        return code;
    for (size_t r = 0; r < n; r++) {
        int rc = write_one(b, b->pending + r * b->ncolumns, err);
        if (rc) {
            b->base.refused = true;
            b->base.refused_tag = b->tags[r];
            return rc;
        }
    }
    return 0;
}

/* The savepoint-free first try of an upsert batch (DESIGN note): sets *all_new when the
 * INSERT wrote every row. Otherwise the table is left as it was before the batch (the rows the
 * INSERT wrote are deleted again) and the caller runs the batch inside a savepoint. A failed
 * INSERT undid itself and is not reported here: the fenced run meets it again and replays the
 * batch. Returns 0, or an error of the database (then the batch is not written). */
static int try_unfenced(struct sqlite_bulk *b, sqlite3_stmt *stmt, size_t n, bool *all_new,
                        struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    int rc = sqlite3_step(b->max_rowid);
    sqlite3_int64 max = rc == SQLITE_ROW ? sqlite3_column_int64(b->max_rowid, 0) : 0;
    int code = rc == SQLITE_ROW
                   ? 0
                   : db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    sqlite3_reset(b->max_rowid);
    if (code)
        return code;
    if (max > INT64_MAX - (sqlite3_int64)n)
        return 0; /* SQLite would pick random rowids: take the savepoint */
    int64_t changed = 0;
    struct sd_error ignored = SD_ERROR_INIT;
    if (run(b, stmt, NULL, b->pending, n, &changed, &ignored) != 0 || changed == 0)
        return 0;
    if (changed == (int64_t)n) {
        *all_new = true;
        return 0;
    }
    sqlite3_bind_int64(b->undo_insert, 1, max);
    rc = sqlite3_step(b->undo_insert);
    int64_t deleted = sqlite3_changes64(conn);
    code = rc == SQLITE_DONE
               ? 0
               : db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    sqlite3_reset(b->undo_insert);
    if (code)
        return code;
    if (deleted != changed)
        return sd_error_set(err, SD_ERROR,
                            "%lld new rows of a batch could not be told apart from the table's "
                            "other rows (%lld matched); import into a table sheetd created",
                            (long long)changed, (long long)deleted);
    return 0;
}

/* Writes the waiting rows (a full batch, or the last short one) and empties the batch
 * whatever happens. */
static int flush_batch(struct sqlite_bulk *b, struct sd_error *err)
{
    size_t n = b->npending;
    if (n == 0)
        return 0;
    /* The arena stands still from here on: the text pointers are final. */
    for (size_t v = 0; v < n * b->ncolumns; v++)
        if (b->pending[v].type == DB_VALUE_TEXT && b->pending[v].len)
            b->pending[v].text = b->text.data + b->pending[v].i;
    sqlite3_stmt *stmt = n == 1 ? b->insert : n == b->batch_rows ? b->insert_batch : NULL;
    int64_t changed = 0;
    int rc = stmt ? 0 : prepare_insert(&stmt, b, n, 0, err);
    /* Only UPDATEs after a multi-row INSERT can fail with rows of the batch already written
     * after the refused one (see the DESIGN note). */
    bool fenced = rc == 0 && b->update && n > 1;
    if (fenced && b->undo_insert) {
        bool all_new = false;
        rc = try_unfenced(b, stmt, n, &all_new, err);
        if (rc == 0 && all_new) {
            b->base.inserted += n;
            goto done;
        }
        fenced = rc == 0;
    }
    if (fenced && (rc = savepoint_exec(b, "SAVEPOINT sd_bulk", err)) != 0)
        fenced = false;
    if (rc == 0)
        rc = run(b, stmt, NULL, b->pending, n, &changed, err);
    if (rc) {
        rc = replay_batch(b, n, rc, err);
    } else if (!b->upsert || changed == (int64_t)n) {
        b->base.inserted += n;
    } else if ((rc = update_batch(b, n, changed, err)) != 0 && fenced) {
        /* update_batch's refusal is replaced by the replay's, which names the same row. */
        b->base.refused = false;
        savepoint_exec(b, "ROLLBACK TO sd_bulk", NULL);
        rc = replay_batch(b, n, rc, err);
    }
    if (fenced) {
        int released = savepoint_exec(b, "RELEASE sd_bulk", rc ? NULL : err);
        rc = rc ? rc : released;
    }
done:
    if (stmt != b->insert && stmt != b->insert_batch)
        sqlite3_finalize(stmt);
    b->npending = 0;
    buf_clear(&b->text);
    return rc;
}

/* Copies the row into the batch (text into the arena) and writes the batch once it is full. */
int db_sqlite_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                             struct sd_error *err)
{
    struct sqlite_bulk *b = (struct sqlite_bulk *)bulk;
    struct db_value *row = b->pending + b->npending * b->ncolumns;
    size_t mark = b->text.len;
    for (size_t i = 0; i < b->ncolumns; i++) {
        row[i] = values[i];
        if (values[i].type != DB_VALUE_TEXT)
            continue;
        row[i].text = NULL;
        row[i].i = (int64_t)b->text.len;
        row[i].len = values[i].text ? values[i].len : 0;
        if (row[i].len && buf_append(&b->text, values[i].text, row[i].len)) {
            buf_truncate(&b->text, mark);
            return sd_error_nomem(err);
        }
    }
    b->tags[b->npending++] = tag;
    return b->npending == b->batch_rows ? flush_batch(b, err) : 0;
}

int db_sqlite_bulk_flush(struct db_bulk *bulk, struct sd_error *err)
{
    return flush_batch((struct sqlite_bulk *)bulk, err);
}

void db_sqlite_bulk_close(struct db_bulk *bulk)
{
    struct sqlite_bulk *b = (struct sqlite_bulk *)bulk;
    if (b->saved_cache_size) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=%d", b->saved_cache_size);
        sqlite3_exec(bulk_conn(b), sql, NULL, NULL, NULL); /* a failure only costs memory */
    }
    sqlite3_finalize(b->insert_batch);
    sqlite3_finalize(b->insert);
    sqlite3_finalize(b->update);
    sqlite3_finalize(b->max_rowid);
    sqlite3_finalize(b->undo_insert);
    free(b->update_params);
    free(b->pending);
    free(b->tags);
    buf_free(&b->text);
    buf_free(&b->sql_head);
    buf_free(&b->sql_tail);
    free(b);
}

/* PRAGMA table_info as a table-valued function, so the table name is a bound parameter and
 * never spliced into SQL. An empty answer means there is no such table. */
int db_sqlite_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                            struct sd_error *err)
{
    sqlite3 *conn = ((struct sqlite_db *)db)->conn;
    sqlite3_stmt *stmt = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int code;
    int rc = sqlite3_prepare_v2(conn, "SELECT name FROM pragma_table_info($1) ORDER BY cid", -1,
                                &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK)
        goto db_fail;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(names, ncap * sizeof *grown);
            if (!grown)
                goto nomem;
            names = grown;
            cap = ncap;
        }
        const char *name = (const char *)sqlite3_column_text(stmt, 0);
        names[n] = str_dup(name ? name : "");
        if (!names[n])
            goto nomem;
        n++;
    }
    if (rc != SQLITE_DONE)
        goto db_fail;
    sqlite3_finalize(stmt);
    if (n == 0) {
        free(names);
        return sd_error_set(err, SD_ENOTFOUND, "there is no table \"%s\" in the database", table);
    }
    *out = names;
    *count = n;
    return 0;
nomem:
    code = sd_error_nomem(err);
    goto fail;
db_fail:
    code = db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
fail:
    sqlite3_finalize(stmt);
    db_free_names(names, n);
    return code;
}
