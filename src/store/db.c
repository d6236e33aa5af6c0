/*
 * The public database wrappers (db.h). Each one checks what only a programming error could
 * get wrong (asserts), then forwards to the backend's ops table; db_open is the one place
 * that knows which backends exist and picks one from the URL.
 */
#include "store/db.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_backend.h"

#define DB_DEFAULT_BUSY_TIMEOUT_MS 5000
#define DB_MAX_BUSY_TIMEOUT_MS 600000

/* Reads a whole number from [text, text + len) into *out; false when it is not one. */
static bool option_number(const char *text, size_t len, long *out)
{
    char value[32];
    char *stop;
    if (len == 0 || len >= sizeof value)
        return false;
    memcpy(value, text, len);
    value[len] = '\0';
    errno = 0;
    *out = strtol(value, &stop, 10);
    return !errno && !*stop;
}

/* Parses the options after '?' in a SQLite URL ("busy_timeout=50&page_size=4096"). Anything
 * else is a usage error, so a typo is not silently ignored. */
static int db_parse_sqlite_options(const char *opts, struct db_sqlite_options *o,
                                   struct sd_error *err)
{
    while (*opts) {
        const char *end = strchr(opts, '&');
        size_t len = end ? (size_t)(end - opts) : strlen(opts);
        const char *eq = memchr(opts, '=', len);
        if (!eq)
            return sd_error_set(err, SD_EUSAGE,
                                "the database URL option \"%.*s\" needs a value (NAME=VALUE)",
                                (int)len, opts);
        size_t klen = (size_t)(eq - opts);
        long n = -1;
        bool number = option_number(eq + 1, len - klen - 1, &n);
        if (klen == strlen("busy_timeout") && !memcmp(opts, "busy_timeout", klen)) {
            if (!number || n < 0 || n > DB_MAX_BUSY_TIMEOUT_MS)
                return sd_error_set(err, SD_EUSAGE,
                                    "busy_timeout in the database URL must be a whole number of "
                                    "milliseconds from 0 to %d",
                                    DB_MAX_BUSY_TIMEOUT_MS);
            o->busy_timeout_ms = (int)n;
        } else if (klen == strlen("page_size") && !memcmp(opts, "page_size", klen)) {
            if (!number || n < 512 || n > 65536 || (n & (n - 1)))
                return sd_error_set(err, SD_EUSAGE,
                                    "page_size in the database URL must be a power of two from "
                                    "512 to 65536");
            o->page_size = (int)n;
        } else {
            return sd_error_set(err, SD_EUSAGE,
                                "unknown database URL option \"%.*s\"; the options are "
                                "busy_timeout and page_size",
                                (int)klen, opts);
        }
        opts = end ? end + 1 : opts + len;
    }
    return 0;
}

const char *db_sqlite_url_options(const char *url)
{
    const char *q = strrchr(url, '?');
    return q && strchr(q, '=') && !strchr(q, '/') ? q : NULL;
}

bool db_url_is_postgres(const char *url)
{
    if (str_has_prefix(url, "postgres://") || str_has_prefix(url, "postgresql://"))
        return true;
    /* A libpq connection string starts with one of libpq's keywords and '='. */
    static const char *const keywords[] = {
        "host=",    "hostaddr=", "port=",    "dbname=",           "user=",           "password=",
        "service=", "sslmode=",  "options=", "application_name=", "connect_timeout="};
    while (*url == ' ' || *url == '\t')
        url++;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        size_t n = strlen(keywords[i]) - 1;
        if (!strncmp(url, keywords[i], n)) {
            const char *p = url + n;
            while (*p == ' ')
                p++;
            if (*p == '=')
                return true;
        }
    }
    return false;
}

/*
 * Picks the backend from the URL:
 *   "postgres://..." / "postgresql://..."  PostgreSQL, handed to libpq as it is;
 *   "host=... dbname=..."                  PostgreSQL (a libpq connection string);
 *   "sqlite:PATH[?busy_timeout=MS&page_size=N]" SQLite;
 *   a bare path (no "scheme://")             SQLite.
 * A last '?' followed by NAME=VALUE pairs is read as options; a '?' with no '=' after it,
 * or with a '/' after it, is part of the file name.
 */
int db_open(struct db **out, const char *url, struct sd_error *err)
{
    assert(out && url);
    *out = NULL;
    if (db_url_is_postgres(url))
        return db_postgres_open(out, url, err);
    const char *path = url;
    if (str_has_prefix(url, "sqlite:"))
        path = url + strlen("sqlite:");
    else if (strstr(url, "://"))
        return sd_error_set(err, SD_EUSAGE,
                            "the database URL \"%s\" names an unknown kind of database; use "
                            "sqlite:PATH or postgres://USER@HOST/DATABASE",
                            url);

    struct db_sqlite_options o = {.busy_timeout_ms = DB_DEFAULT_BUSY_TIMEOUT_MS,
                                  .page_size = DB_SQLITE_DEFAULT_PAGE_SIZE};
    size_t path_len = strlen(path);
    const char *q = db_sqlite_url_options(path);
    if (q) {
        int rc = db_parse_sqlite_options(q + 1, &o, err);
        if (rc)
            return rc;
        path_len = (size_t)(q - path);
    }
    if (path_len == 0)
        return sd_error_set(err, SD_EUSAGE,
                            "the database URL \"%s\" has no file name; use sqlite:PATH", url);
    char *file = str_ndup(path, path_len);
    if (!file)
        return sd_error_nomem(err);
    int rc = db_sqlite_open(out, file, &o, err);
    free(file);
    return rc;
}

void db_close(struct db *db)
{
    if (db)
        db->ops->close(db);
}

const char *db_backend_name(const struct db *db)
{
    assert(db);
    return db->ops->name;
}

int db_exec(struct db *db, const char *sql, struct sd_error *err)
{
    assert(db && sql);
    return db->ops->exec(db, sql, err);
}

int db_prepare(struct db_stmt **out, struct db *db, const char *sql, struct sd_error *err)
{
    assert(out && db && sql);
    *out = NULL;
    return db->ops->prepare(out, db, sql, err);
}

int db_bind_null(struct db_stmt *stmt, int idx)
{
    assert(stmt && idx >= 1);
    return stmt->db->ops->bind_null(stmt, idx);
}

int db_bind_int64(struct db_stmt *stmt, int idx, int64_t value)
{
    assert(stmt && idx >= 1);
    return stmt->db->ops->bind_int64(stmt, idx, value);
}

int db_bind_double(struct db_stmt *stmt, int idx, double value)
{
    assert(stmt && idx >= 1);
    return stmt->db->ops->bind_double(stmt, idx, value);
}

int db_bind_bool(struct db_stmt *stmt, int idx, bool value)
{
    assert(stmt && idx >= 1);
    return stmt->db->ops->bind_bool(stmt, idx, value);
}

int db_bind_text(struct db_stmt *stmt, int idx, const char *text, size_t len)
{
    assert(stmt && idx >= 1 && (text || len == 0));
    if (!text)
        text = "";
    return stmt->db->ops->bind_text(stmt, idx, text, len);
}

int db_bind_cstr(struct db_stmt *stmt, int idx, const char *text)
{
    return text ? db_bind_text(stmt, idx, text, strlen(text)) : db_bind_null(stmt, idx);
}

int db_step(struct db_stmt *stmt, struct sd_error *err)
{
    assert(stmt);
    return stmt->db->ops->step(stmt, err);
}

int db_column_count(struct db_stmt *stmt)
{
    assert(stmt);
    return stmt->db->ops->column_count(stmt);
}

bool db_column_is_null(struct db_stmt *stmt, int col)
{
    assert(stmt && col >= 0);
    return stmt->db->ops->column_is_null(stmt, col);
}

int64_t db_column_int64(struct db_stmt *stmt, int col)
{
    assert(stmt && col >= 0);
    return stmt->db->ops->column_int64(stmt, col);
}

double db_column_double(struct db_stmt *stmt, int col)
{
    assert(stmt && col >= 0);
    return stmt->db->ops->column_double(stmt, col);
}

const char *db_column_text(struct db_stmt *stmt, int col)
{
    assert(stmt && col >= 0);
    return stmt->db->ops->column_text(stmt, col);
}

int64_t db_changes(struct db_stmt *stmt)
{
    assert(stmt);
    return stmt->db->ops->changes(stmt);
}

int db_reset(struct db_stmt *stmt)
{
    assert(stmt);
    return stmt->db->ops->reset(stmt);
}

void db_finalize(struct db_stmt *stmt)
{
    if (stmt)
        stmt->db->ops->finalize(stmt);
}

int db_run(struct db_stmt *stmt, int64_t *changes, struct sd_error *err)
{
    assert(stmt);
    int rc = db_step(stmt, err);
    if (rc == DB_DONE && changes)
        *changes = db_changes(stmt);
    db_finalize(stmt);
    if (rc == DB_ROW)
        return sd_error_set(err, SD_EUSAGE, "a statement run for its effect returned a row");
    return rc;
}

int db_query_int64(struct db *db, const char *sql, const char *what, int64_t *out,
                   struct sd_error *err)
{
    assert(db && sql && what && out);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        *out = db_column_int64(stmt, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = sd_error_set(err, SD_ERROR, "counting %s returned no row", what);
    }
    db_finalize(stmt);
    return rc;
}

int db_begin(struct db *db, struct sd_error *err)
{
    assert(db);
    return db->ops->begin(db, err);
}

int db_commit(struct db *db, struct sd_error *err)
{
    assert(db);
    return db->ops->commit(db, err);
}

void db_rollback(struct db *db)
{
    assert(db);
    db->ops->rollback(db);
}

int64_t db_last_insert_id(struct db *db)
{
    assert(db);
    return db->ops->last_insert_id(db);
}

int db_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                 struct sd_error *err)
{
    assert(out && db && opts);
    assert(opts->version == DB_BULK_OPTIONS_VERSION);
    assert(opts->table && opts->columns && opts->ncolumns > 0);
    assert(opts->nkey_columns == 0 || opts->key_columns);
    *out = NULL;
    return db->ops->bulk_open(out, db, opts, err);
}

int db_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                      struct sd_error *err)
{
    assert(bulk && values);
    bulk->refused = false;
    return bulk->db->ops->bulk_write_row(bulk, values, tag, err);
}

int db_bulk_flush(struct db_bulk *bulk, struct sd_error *err)
{
    assert(bulk);
    bulk->refused = false;
    return bulk->db->ops->bulk_flush(bulk, err);
}

void db_bulk_counts(const struct db_bulk *bulk, uint64_t *inserted, uint64_t *updated)
{
    assert(bulk);
    if (inserted)
        *inserted = bulk->inserted;
    if (updated)
        *updated = bulk->updated;
}

bool db_bulk_refused_row(const struct db_bulk *bulk, int64_t *tag)
{
    assert(bulk);
    if (bulk->refused && tag)
        *tag = bulk->refused_tag;
    return bulk->refused;
}

void db_bulk_close(struct db_bulk *bulk)
{
    if (bulk)
        bulk->db->ops->bulk_close(bulk);
}

int db_notify(struct db *db, const char *channel, struct sd_error *err)
{
    assert(db && channel);
    return db->ops->notify(db, channel, err);
}

int db_listen(struct db *db, const char *channel, struct sd_error *err)
{
    assert(db && channel);
    return db->ops->listen(db, channel, err);
}

int db_wait_notification(struct db *db, int timeout_ms, bool *notified, struct sd_error *err)
{
    assert(db && notified);
    *notified = false;
    return db->ops->wait_notification(db, timeout_ms, notified, err);
}

const struct db_dialect *db_dialect_of(const struct db *db)
{
    assert(db);
    return db->ops->dialect;
}

int db_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                     struct sd_error *err)
{
    assert(out && count && db && table);
    *out = NULL;
    *count = 0;
    return db->ops->table_columns(out, count, db, table, err);
}

void db_free_names(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int db_append_ident(struct buf *b, const char *name)
{
    buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            buf_putc(b, '"');
        buf_putc(b, *p);
    }
    buf_putc(b, '"');
    return buf_status(b);
}

int db_change_counter(struct db *db, int64_t *counter, struct sd_error *err)
{
    if (strcmp(db_backend_name(db), "sqlite") != 0)
        return sd_error_set(err, SD_EUSAGE, "only SQLite has a change counter");
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "PRAGMA data_version", err);
    if (rc)
        return rc;
    rc = db_step(stmt, err);
    if (rc == DB_ROW)
        *counter = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

void db_unlisten_all(struct db *db)
{
    if (!strcmp(db_backend_name(db), "postgres"))
        db_exec(db, "UNLISTEN *", NULL);
}
