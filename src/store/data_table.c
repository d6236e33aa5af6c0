/*
 * DESIGN
 * ------
 * The per-template data tables (data_table.h). Table and column names are the one place
 * where text from a template ends up *inside* SQL rather than bound as a parameter, so they
 * pass data_table_identifier_ok first: lower-case ASCII letters, digits and '_', starting
 * with a letter, at most 63 bytes (PostgreSQL's limit), and not a reserved word of SQLite or
 * PostgreSQL. Every function here asserts that again before building SQL, and still writes
 * the names double-quoted.
 *
 * Names starting with '_' are sheetd's own (_row, _job_id, and the _upsert_key_<table>
 * index), so no template column or table can collide with them.
 *
 * The column types come from the backend's dialect (db_backend.h), and the column list of an
 * existing table from the backend's table_columns op, so this file holds no SQL that only
 * one backend understands.
 */
#include "store/data_table.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "store/db_backend.h"

#define IDENT_MAX 63
#define ROW_COLUMN "_row"
#define JOB_COLUMN "_job_id"
#define ID_COLUMN "_id"

/* The reserved words of SQLite (those it will not take as a bare column name) and
 * PostgreSQL ("reserved" and "reserved, can be function or type" in its key word table),
 * merged and sorted by strcmp for bsearch. Lower case. */
/* clang-format off */
static const char *const keywords[] = {
    "add", "all", "alter", "analyse", "analyze", "and", "any", "array", "as", "asc",
    "asymmetric", "authorization", "autoincrement", "between", "binary", "both", "case", "cast",
    "check", "collate", "collation", "column", "commit", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema",
    "current_time", "current_timestamp", "current_user", "default", "deferrable", "delete",
    "desc", "distinct", "do", "drop", "else", "end", "escape", "except", "exists", "false",
    "fetch", "filter", "for", "foreign", "freeze", "from", "full", "glob", "grant", "group",
    "having", "ilike", "in", "index", "indexed", "initially", "inner", "insert", "intersect",
    "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime",
    "localtimestamp", "match", "natural", "not", "nothing", "notnull", "null", "offset", "on",
    "only", "or", "order", "outer", "over", "overlaps", "placing", "primary", "raise",
    "references", "regexp", "returning", "right", "select", "session_user", "set", "similar",
    "some", "symmetric", "system_user", "table", "tablesample", "then", "to", "trailing",
    "transaction", "true", "union", "unique", "update", "user", "using", "values", "variadic",
    "verbose", "when", "where", "window", "with",
};
/* clang-format on */

static int compare_keyword(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *)entry);
}

bool data_table_is_keyword(const char *word)
{
    assert(word);
    char lower[32];
    size_t len = strlen(word);
    if (len == 0 || len >= sizeof lower)
        return false; /* longer than any keyword */
    for (size_t i = 0; i <= len; i++)
        lower[i] = (word[i] >= 'A' && word[i] <= 'Z') ? (char)(word[i] - 'A' + 'a') : word[i];
    return bsearch(lower, keywords, sizeof keywords / sizeof keywords[0], sizeof keywords[0],
                   compare_keyword) != NULL;
}

bool data_table_identifier_shape_ok(const char *name)
{
    if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    size_t len = 1;
    for (const char *p = name + 1; *p; p++, len++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (!ok || len >= IDENT_MAX)
            return false;
    }
    return true;
}

bool data_table_identifier_ok(const char *name)
{
    return data_table_identifier_shape_ok(name) && !data_table_is_keyword(name);
}

/* Appends `"a", "b", ...` for the columns. */
static int put_column_list(struct buf *b, const struct data_column *columns, size_t ncolumns)
{
    for (size_t i = 0; i < ncolumns; i++) {
        if (i)
            buf_puts(b, ", ");
        db_append_ident(b, columns[i].name);
    }
    return buf_status(b);
}

static const char *sql_type(const struct db_dialect *d, enum data_column_type type)
{
    switch (type) {
    case DATA_COLUMN_TEXT:
        return d->text_type;
    case DATA_COLUMN_INTEGER:
        return d->int64_type;
    case DATA_COLUMN_DECIMAL:
        return d->double_type;
    case DATA_COLUMN_DATE:
        return d->date_type;
    case DATA_COLUMN_DATETIME:
        return d->datetime_type;
    case DATA_COLUMN_BOOLEAN:
        return d->bool_type;
    }
    return NULL;
}

/* Rules the identifiers alone do not cover: at least one column, no duplicates, and every key
 * column one of the columns. (sheetd's own columns start with '_', which identifiers cannot,
 * so a template is free to have a column called "id".) */
static int check_definition(const char *table, const struct data_column *columns, size_t ncolumns,
                            const char *const *key_columns, size_t nkey_columns,
                            struct sd_error *err)
{
    assert(data_table_identifier_ok(table));
    if (ncolumns == 0)
        return sd_error_set(err, SD_EINVALID, "the table \"%s\" needs at least one column", table);
    for (size_t i = 0; i < ncolumns; i++) {
        assert(data_table_identifier_ok(columns[i].name));
        if (columns[i].type < DATA_COLUMN_TEXT || columns[i].type > DATA_COLUMN_BOOLEAN)
            return sd_error_set(err, SD_EINVALID, "the column \"%s\" has an unknown type",
                                columns[i].name);
        for (size_t j = 0; j < i; j++)
            if (str_eq(columns[i].name, columns[j].name))
                return sd_error_set(err, SD_EINVALID,
                                    "the column \"%s\" appears twice in the table \"%s\"",
                                    columns[i].name, table);
    }
    for (size_t k = 0; k < nkey_columns; k++) {
        bool found = false;
        for (size_t i = 0; i < ncolumns && !found; i++)
            found = str_eq(key_columns[k], columns[i].name);
        if (!found)
            return sd_error_set(err, SD_EINVALID,
                                "the upsert key column \"%s\" is not a column of the table "
                                "\"%s\"",
                                key_columns[k], table);
    }
    return 0;
}

/*
 * CREATE TABLE and, for an upsert key, CREATE UNIQUE INDEX. Both run inside the caller's
 * transaction, so a failure leaves nothing behind once the caller rolls back. The table's
 * existence is checked first to give SD_EEXISTS with a sentence instead of the database's
 * generic error.
 */
int data_table_create(struct db *db, const char *table, const struct data_column *columns,
                      size_t ncolumns, const char *const *key_columns, size_t nkey_columns,
                      struct sd_error *err)
{
    assert(db && table && (columns || ncolumns == 0) && (key_columns || nkey_columns == 0));
    int rc = check_definition(table, columns, ncolumns, key_columns, nkey_columns, err);
    if (rc)
        return rc;
    char **existing = NULL;
    size_t nexisting = 0;
    rc = db_table_columns(&existing, &nexisting, db, table, err);
    db_free_names(existing, nexisting);
    if (rc == 0)
        return sd_error_set(err, SD_EEXISTS,
                            "the table \"%s\" already exists in the database; choose another "
                            "table name",
                            table);
    if (rc != SD_ENOTFOUND)
        return rc;

    const struct db_dialect *d = db_dialect_of(db);
    struct buf sql = BUF_INIT;
    buf_printf(&sql, "CREATE TABLE \"%s\" (\"" ID_COLUMN "\" %s", table, d->id_column);
    for (size_t i = 0; i < ncolumns; i++)
        buf_printf(&sql, ", \"%s\" %s", columns[i].name, sql_type(d, columns[i].type));
    buf_printf(&sql, ", \"" ROW_COLUMN "\" %s, \"" JOB_COLUMN "\" %s)", d->int64_type,
               d->text_type);
    rc = buf_status(&sql);
    if (!rc && nkey_columns) {
        buf_printf(&sql, "; CREATE UNIQUE INDEX \"_upsert_key_%s\" ON \"%s\" (", table, table);
        for (size_t k = 0; k < nkey_columns; k++) {
            assert(data_table_identifier_ok(key_columns[k]));
            if (k)
                buf_puts(&sql, ", ");
            db_append_ident(&sql, key_columns[k]);
        }
        buf_puts(&sql, ")");
        rc = buf_status(&sql);
    }
    if (rc) {
        buf_free(&sql);
        return sd_error_nomem(err);
    }
    rc = db_exec(db, buf_cstr(&sql), err);
    buf_free(&sql);
    if (rc && rc != SD_ENOMEM && rc != SD_ERETRY)
        sd_error_prefix(err, "could not create the table \"%s\"", table);
    return rc;
}

static bool has_name(char **names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (str_eq(names[i], name))
            return true;
    return false;
}

int data_table_check(struct db *db, const char *table, const struct data_column *columns,
                     size_t ncolumns, struct sd_error *err)
{
    assert(db && table && (columns || ncolumns == 0));
    assert(data_table_identifier_ok(table));
    char **names = NULL;
    size_t count = 0;
    int rc = db_table_columns(&names, &count, db, table, err);
    if (rc == SD_ENOTFOUND)
        return sd_error_set(err, SD_ENOTFOUND,
                            "the table \"%s\" no longer exists in the database; restore it or "
                            "create the template again",
                            table);
    if (rc)
        return rc;
    const char *missing = NULL;
    for (size_t i = 0; i < ncolumns && !missing; i++)
        if (!has_name(names, count, columns[i].name))
            missing = columns[i].name;
    if (!missing && !has_name(names, count, ROW_COLUMN))
        missing = ROW_COLUMN;
    if (!missing && !has_name(names, count, JOB_COLUMN))
        missing = JOB_COLUMN;
    if (missing)
        rc = sd_error_set(err, SD_EINVALID,
                          "the table \"%s\" has no column \"%s\" any more (it was altered "
                          "outside sheetd); add the column back or create the template again",
                          table, missing);
    db_free_names(names, count);
    return rc;
}

int data_table_count_rows(struct db *db, const char *table, int64_t *count, struct sd_error *err)
{
    assert(db && table && count);
    assert(data_table_identifier_ok(table));
    struct buf sql = BUF_INIT;
    if (buf_printf(&sql, "SELECT COUNT(*) FROM \"%s\"", table))
        return sd_error_nomem(err);
    char what[128];
    snprintf(what, sizeof what, "the rows of \"%s\"", table);
    int rc = db_query_int64(db, buf_cstr(&sql), what, count, err);
    buf_free(&sql);
    return rc;
}

int data_table_select_all(struct db_stmt **out, struct db *db, const char *table,
                          const struct data_column *columns, size_t ncolumns, struct sd_error *err)
{
    assert(out && db && table && columns && ncolumns > 0);
    assert(data_table_identifier_ok(table));
    *out = NULL;
    for (size_t i = 0; i < ncolumns; i++)
        assert(data_table_identifier_ok(columns[i].name));
    struct buf sql = BUF_INIT;
    buf_puts(&sql, "SELECT ");
    put_column_list(&sql, columns, ncolumns);
    buf_printf(&sql, " FROM \"%s\" ORDER BY \"" ID_COLUMN "\"", table);
    int rc = buf_status(&sql);
    if (rc) {
        buf_free(&sql);
        return sd_error_nomem(err);
    }
    rc = db_prepare(out, db, buf_cstr(&sql), err);
    buf_free(&sql);
    return rc;
}

/* The bulk writer's column list is the template's columns followed by _row and _job_id; the
 * names are borrowed from `columns` for the duration of db_bulk_open, which copies what it
 * needs into its prepared statements. */
int data_table_bulk_open(struct db_bulk **out, struct db *db, const char *table,
                         const struct data_column *columns, size_t ncolumns,
                         const char *const *key_columns, size_t nkey_columns, struct sd_error *err)
{
    assert(out && db && table && columns && ncolumns > 0);
    assert(data_table_identifier_ok(table));
    *out = NULL;
    const char **names = calloc(ncolumns + 2, sizeof *names);
    if (!names)
        return sd_error_nomem(err);
    for (size_t i = 0; i < ncolumns; i++) {
        assert(data_table_identifier_ok(columns[i].name));
        names[i] = columns[i].name;
    }
    for (size_t k = 0; k < nkey_columns; k++)
        assert(data_table_identifier_ok(key_columns[k]));
    names[ncolumns] = ROW_COLUMN;
    names[ncolumns + 1] = JOB_COLUMN;
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = table;
    opts.columns = names;
    opts.ncolumns = ncolumns + 2;
    opts.key_columns = key_columns;
    opts.nkey_columns = nkey_columns;
    int rc = db_bulk_open(out, db, &opts, err);
    free(names);
    return rc;
}
