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
#include "store/db_sqlite_bulk.h"

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
    int rc = stmt ? 0 : db_sqlite_bulk_prepare_insert(&stmt, b, n, 0, err);
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
