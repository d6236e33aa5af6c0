/*
 * DESIGN
 * ------
 * Bulk writing on SQLite, and the schema questions the store asks (which columns a table
 * has).
 *
 * A bulk writer is one prepared INSERT reused for every row: inside the caller's transaction
 * that is as fast as SQLite goes (no parsing per row, no fsync per row). Text values are
 * bound SQLITE_STATIC (no copy) because db_bulk_write_row steps the statement before it
 * returns, while the caller's strings are still alive. After the step the statement still
 * holds those pointers, but it never reads them again: every parameter is bound afresh
 * before the next step, and closing the writer finalizes the statement without stepping
 * it. Clearing the bindings after each row would cost a pass over every parameter per row
 * for nothing.
 *
 * With key columns the writer upserts in two steps:
 *
 *     INSERT INTO t (...) VALUES (...) ON CONFLICT (key...) DO NOTHING
 *     -- changed nothing? then the key exists:
 *     UPDATE t SET <other columns> = ... WHERE <key columns> = ...
 *
 * rather than one "ON CONFLICT DO UPDATE", because the caller must be told whether the row
 * was new or an update (the import result counts both), and the two-step form says so
 * without a second query. Both statements use the same $N numbering (the column's position),
 * so one row of values binds to either.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_sqlite.h"

struct sqlite_bulk {
    struct db_bulk base; /* first */
    sqlite3_stmt *insert;
    sqlite3_stmt *update; /* NULL without key columns, or when every column is a key */
    /* For value i, the statement's parameter index of "$<i+1>" (0: not used), looked up once
     * here instead of once per row. */
    int *insert_params;
    int *update_params;
    size_t ncolumns;
    bool upsert;
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

static int build_insert(struct buf *sql, const struct db_bulk_options *opts)
{
    int rc = buf_puts(sql, "INSERT INTO ");
    rc = rc ? rc : db_sqlite_append_ident(sql, opts->table);
    rc = rc ? rc : buf_puts(sql, " (");
    for (size_t i = 0; !rc && i < opts->ncolumns; i++) {
        rc = i ? buf_puts(sql, ", ") : 0;
        rc = rc ? rc : db_sqlite_append_ident(sql, opts->columns[i]);
    }
    rc = rc ? rc : buf_puts(sql, ") VALUES (");
    for (size_t i = 0; !rc && i < opts->ncolumns; i++)
        rc = buf_printf(sql, "%s$%zu", i ? ", " : "", i + 1);
    rc = rc ? rc : buf_puts(sql, ")");
    if (!rc && opts->nkey_columns) {
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

/* Prepares a statement that lives as long as the writer, and maps each value's "$N" to the
 * statement's parameter index (*params, malloc'd, owned by the writer). */
static int prepare(sqlite3_stmt **out, int **params, sqlite3 *conn, const char *sql,
                   size_t ncolumns, struct sd_error *err)
{
    int rc = sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK)
        return db_sqlite_error(sqlite3_extended_errcode(conn), sqlite3_errmsg(conn), err);
    *params = calloc(ncolumns, sizeof **params);
    if (!*params)
        return sd_error_nomem(err);
    for (size_t i = 0; i < ncolumns; i++) {
        char name[24];
        snprintf(name, sizeof name, "$%zu", i + 1);
        (*params)[i] = sqlite3_bind_parameter_index(*out, name);
    }
    return 0;
}

/* Prepares the INSERT (and the UPDATE for upserts) once. Every key column must be one of the
 * columns written, or the UPDATE could not find its row. The caller owns *out and closes it
 * with db_bulk_close. */
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
    struct buf sql = BUF_INIT;
    int rc = build_insert(&sql, opts);
    if (rc) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    rc = prepare(&b->insert, &b->insert_params, bulk_conn(b), buf_cstr(&sql), b->ncolumns, err);
    if (rc)
        goto fail;
    if (b->upsert) {
        buf_clear(&sql);
        if (build_update(&sql, opts)) {
            rc = sd_error_nomem(err);
            goto fail;
        }
        if (sql.len) {
            rc = prepare(&b->update, &b->update_params, bulk_conn(b), buf_cstr(&sql), b->ncolumns,
                         err);
            if (rc)
                goto fail;
        }
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

static int bind_values(sqlite3_stmt *stmt, const int *params, const struct db_value *values,
                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int idx = params[i];
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

/* Binds, steps and resets one statement; *changed receives how many rows it changed. */
static int run(struct sqlite_bulk *b, sqlite3_stmt *stmt, const int *params,
               const struct db_value *values, int64_t *changed, struct sd_error *err)
{
    sqlite3 *conn = bulk_conn(b);
    int code = 0;
    int rc = bind_values(stmt, params, values, b->ncolumns);
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

int db_sqlite_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, bool *updated,
                             struct sd_error *err)
{
    struct sqlite_bulk *b = (struct sqlite_bulk *)bulk;
    int64_t changed = 0;
    int rc = run(b, b->insert, b->insert_params, values, &changed, err);
    if (rc || !b->upsert || changed > 0)
        return rc;
    /* ON CONFLICT DO NOTHING skipped the row: its key exists. */
    if (b->update) {
        rc = run(b, b->update, b->update_params, values, &changed, err);
        if (rc)
            return rc;
        if (changed == 0)
            return sd_error_set(err, SD_ERROR,
                                "a row's key already existed but no row with that key could be "
                                "updated");
    }
    if (updated)
        *updated = true;
    return 0;
}

int db_sqlite_bulk_flush(struct db_bulk *bulk, struct sd_error *err)
{
    (void)bulk;
    (void)err;
    return 0;
}

void db_sqlite_bulk_close(struct db_bulk *bulk)
{
    struct sqlite_bulk *b = (struct sqlite_bulk *)bulk;
    sqlite3_finalize(b->insert);
    sqlite3_finalize(b->update);
    free(b->insert_params);
    free(b->update_params);
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
