/*
 * Opening and closing the SQLite bulk writer (db_sqlite_bulk.c's DESIGN note says how it
 * writes): the statements it prepares once, the batch size, and the connection settings it
 * holds while open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_sqlite_bulk.h"

/* Rows per multi-row statement (fewer when the columns would pass SQLite's parameter
 * limit). On the 100k-row customers import 32, 64 and 128 measured the same within the
 * noise; all are far from one row per statement. */
#define BULK_BATCH_ROWS 64

/* The page cache of the connection while a writer is open, in KiB (SQLite's default is
 * 2 MiB). An index on a random key (an email) is changed all over for every batch: with the
 * default cache its pages were written out to the WAL mid-import and read back again and
 * again (the index of 100k emails is about 5 MB). The cache only grows as pages are used. */
#define BULK_CACHE_KIB 8192

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
    buf_puts(sql, "INSERT INTO ");
    db_append_ident(sql, opts->table);
    buf_puts(sql, " (");
    for (size_t i = 0; i < opts->ncolumns; i++) {
        if (i)
            buf_puts(sql, ", ");
        db_append_ident(sql, opts->columns[i]);
    }
    buf_puts(sql, ") VALUES ");
    /* An empty tail must still be a valid C string. */
    buf_puts(&b->sql_tail, "");
    if (opts->nkey_columns) {
        buf_puts(&b->sql_tail, " ON CONFLICT (");
        for (size_t k = 0; k < opts->nkey_columns; k++) {
            if (k)
                buf_puts(&b->sql_tail, ", ");
            db_append_ident(&b->sql_tail, opts->key_columns[k]);
        }
        buf_puts(&b->sql_tail, ") DO NOTHING");
    }
    return buf_status(&b->sql_head) ? SD_ENOMEM : buf_status(&b->sql_tail);
}

/* Leaves `sql` empty when every column is a key column: there is nothing to update. */
static int build_update(struct buf *sql, const struct db_bulk_options *opts)
{
    bool any = false;
    for (size_t i = 0; i < opts->ncolumns; i++) {
        if (is_key(opts, opts->columns[i]))
            continue;
        if (!any) {
            buf_puts(sql, "UPDATE ");
            db_append_ident(sql, opts->table);
            buf_puts(sql, " SET ");
        } else {
            buf_puts(sql, ", ");
        }
        any = true;
        db_append_ident(sql, opts->columns[i]);
        buf_printf(sql, " = $%zu", i + 1);
    }
    if (!any)
        return buf_status(sql);
    buf_puts(sql, " WHERE ");
    for (size_t i = 0, n = 0; i < opts->ncolumns; i++) {
        if (!is_key(opts, opts->columns[i]))
            continue;
        if (n++)
            buf_puts(sql, " AND ");
        db_append_ident(sql, opts->columns[i]);
        buf_printf(sql, " = $%zu", i + 1);
    }
    return buf_status(sql);
}

/* Prepares an INSERT of `nrows` rows, its parameters numbered row by row. `flags` is
 * SQLITE_PREPARE_PERSISTENT for the statements that live as long as the writer. The caller
 * finalizes *out. */
int db_sqlite_bulk_prepare_insert(sqlite3_stmt **out, struct sqlite_bulk *b, size_t nrows,
                                  unsigned flags, struct sd_error *err)
{
    struct buf sql = BUF_INIT;
    buf_append(&sql, b->sql_head.data, b->sql_head.len);
    for (size_t r = 0; r < nrows && !buf_status(&sql); r++) {
        buf_puts(&sql, r ? ", (" : "(");
        for (size_t i = 0; i < b->ncolumns; i++)
            buf_puts(&sql, i ? ", ?" : "?");
        buf_putc(&sql, ')');
    }
    buf_puts(&sql, buf_cstr(&b->sql_tail));
    int rc = buf_status(&sql);
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
    buf_puts(&max_sql, "SELECT max(rowid) FROM ");
    db_append_ident(&max_sql, opts->table);
    buf_puts(&del_sql, "DELETE FROM ");
    db_append_ident(&del_sql, opts->table);
    buf_puts(&del_sql, " WHERE rowid > ?");
    int rc = buf_status(&max_sql) || buf_status(&del_sql) ? SD_ENOMEM : 0;
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
    if ((rc = db_sqlite_bulk_prepare_insert(&b->insert, b, 1, SQLITE_PREPARE_PERSISTENT, err)))
        goto fail;
    if (b->batch_rows > 1 && (rc = db_sqlite_bulk_prepare_insert(&b->insert_batch, b, b->batch_rows,
                                                                 SQLITE_PREPARE_PERSISTENT, err)))
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
