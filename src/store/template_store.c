/*
 * The import_templates rows (template_store.h). Every function takes the caller's
 * connection and runs inside whatever transaction the caller has open, so storing a template
 * and creating its data table can commit together.
 */
#include "store/template_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "store/db_backend.h"

#define TEMPLATE_COLUMNS "id, name, table_name, definition, created_at"

static void record_clear(struct template_record *r)
{
    free(r->name);
    free(r->table_name);
    free(r->definition);
    free(r->created_at);
    memset(r, 0, sizeof *r);
}

void template_record_free(struct template_record *record)
{
    if (!record)
        return;
    record_clear(record);
    free(record);
}

void template_record_list_free(struct template_record *records, size_t count)
{
    if (!records)
        return;
    for (size_t i = 0; i < count; i++)
        record_clear(&records[i]);
    free(records);
}

static char *dup_column(struct db_stmt *stmt, int col)
{
    const char *text = db_column_text(stmt, col);
    return str_dup(text ? text : "");
}

/* Copies the current row (in TEMPLATE_COLUMNS order) into *r, which owns the copies. */
static int record_from_row(struct template_record *r, struct db_stmt *stmt, struct sd_error *err)
{
    r->id = db_column_int64(stmt, 0);
    r->name = dup_column(stmt, 1);
    r->table_name = dup_column(stmt, 2);
    r->definition = dup_column(stmt, 3);
    r->created_at = dup_column(stmt, 4);
    if (!r->name || !r->table_name || !r->definition || !r->created_at) {
        record_clear(r);
        return sd_error_nomem(err);
    }
    return 0;
}

/* True (1) when `sql` with one text parameter finds a row, 0 when not, or an error code. */
static int text_lookup_exists(struct db *db, const char *sql, const char *value,
                              struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    db_bind_text(stmt, 1, value, strlen(value));
    rc = db_step(stmt, err);
    db_finalize(stmt);
    return rc == DB_ROW ? 1 : rc;
}

/*
 * Inserts the row with RETURNING id (which PostgreSQL has too, unlike a last-insert-id). The
 * name and the table are looked up first, so that what is taken is named in a sentence: on
 * PostgreSQL a refused INSERT aborts the caller's transaction, after which no lookup could
 * run. The unique constraints still guard against a concurrent insert between the lookups and
 * the INSERT; that one gets the database's own sentence.
 */
int template_store_insert(struct db *db, const char *name, const char *table_name,
                          const char *definition, int64_t *id_out, struct sd_error *err)
{
    assert(db && name && table_name && definition);
    int rc = text_lookup_exists(db, "SELECT 1 FROM import_templates WHERE name = $1", name, err);
    if (rc == 1)
        return sd_error_set(err, SD_EEXISTS,
                            "a template named \"%s\" already exists; choose another name", name);
    if (rc < 0)
        return rc;
    rc = text_lookup_exists(db, "SELECT 1 FROM import_templates WHERE table_name = $1", table_name,
                            err);
    if (rc == 1)
        return sd_error_set(err, SD_EEXISTS,
                            "the table \"%s\" is already used by another template; choose "
                            "another table name",
                            table_name);
    if (rc < 0)
        return rc;
    char now[40];
    clock_format_iso8601(now, sizeof now, clock_now_ms(clock_system()));
    struct db_stmt *stmt = NULL;
    rc = db_prepare(&stmt, db,
                    "INSERT INTO import_templates (name, table_name, definition, created_at)"
                    " VALUES ($1, $2, $3, $4) RETURNING id",
                    err);
    if (rc)
        return rc;
    db_bind_text(stmt, 1, name, strlen(name));
    db_bind_text(stmt, 2, table_name, strlen(table_name));
    db_bind_text(stmt, 3, definition, strlen(definition));
    db_bind_text(stmt, 4, now, strlen(now));
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        if (id_out)
            *id_out = db_column_int64(stmt, 0);
        rc = db_step(stmt, err);
    }
    db_finalize(stmt);
    return rc == DB_DONE ? 0 : rc;
}

/* Runs a lookup that finds at most one template; SD_ENOTFOUND (with `what` in the sentence)
 * when it finds none. */
static int get_one(struct template_record **out, struct db_stmt *stmt, const char *what,
                   struct sd_error *err)
{
    int rc = db_step(stmt, err);
    if (rc == DB_DONE)
        return sd_error_set(err, SD_ENOTFOUND, "there is no template %s", what);
    if (rc < 0)
        return rc;
    struct template_record *r = calloc(1, sizeof *r);
    if (!r)
        return sd_error_nomem(err);
    rc = record_from_row(r, stmt, err);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int template_store_get(struct template_record **out, struct db *db, int64_t id,
                       struct sd_error *err)
{
    assert(out && db);
    *out = NULL;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "SELECT " TEMPLATE_COLUMNS " FROM import_templates WHERE id = $1", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, id);
    char what[48];
    snprintf(what, sizeof what, "with id %lld", (long long)id);
    rc = get_one(out, stmt, what, err);
    db_finalize(stmt);
    return rc;
}

int template_store_get_by_table(struct template_record **out, struct db *db, const char *table_name,
                                struct sd_error *err)
{
    assert(out && db && table_name);
    *out = NULL;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(
        &stmt, db, "SELECT " TEMPLATE_COLUMNS " FROM import_templates WHERE table_name = $1", err);
    if (rc)
        return rc;
    db_bind_text(stmt, 1, table_name, strlen(table_name));
    char what[160];
    snprintf(what, sizeof what, "for the table \"%.100s\"", table_name);
    rc = get_one(out, stmt, what, err);
    db_finalize(stmt);
    return rc;
}

/* The row of a summary query: id, name, table_name, created_at, column count. */
static int summary_from_row(struct template_record *r, struct db_stmt *stmt, struct sd_error *err)
{
    r->id = db_column_int64(stmt, 0);
    r->name = dup_column(stmt, 1);
    r->table_name = dup_column(stmt, 2);
    r->created_at = dup_column(stmt, 3);
    r->column_count = db_column_is_null(stmt, 4) ? 0 : db_column_int64(stmt, 4);
    if (!r->name || !r->table_name || !r->created_at) {
        record_clear(r);
        return sd_error_nomem(err);
    }
    return 0;
}

/* Runs a query that lists templates, one record per row read by `from_row`. */
static int list_records(struct template_record **out, size_t *count, struct db *db, const char *sql,
                        int (*from_row)(struct template_record *, struct db_stmt *,
                                        struct sd_error *),
                        struct sd_error *err)
{
    assert(out && count && db);
    *out = NULL;
    *count = 0;
    struct db_stmt *stmt = NULL;
    struct template_record *list = NULL;
    size_t n = 0, cap = 0;
    int rc = db_prepare(&stmt, db, sql, err);
    if (rc)
        return rc;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct template_record *grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                rc = sd_error_nomem(err);
                goto fail;
            }
            list = grown;
            cap = ncap;
        }
        memset(&list[n], 0, sizeof list[n]);
        rc = from_row(&list[n], stmt, err);
        if (rc)
            goto fail;
        n++;
    }
    if (rc < 0)
        goto fail;
    db_finalize(stmt);
    *out = list;
    *count = n;
    return 0;
fail:
    db_finalize(stmt);
    template_record_list_free(list, n);
    return rc;
}

int template_store_list(struct template_record **out, size_t *count, struct db *db,
                        struct sd_error *err)
{
    return list_records(out, count, db,
                        "SELECT " TEMPLATE_COLUMNS " FROM import_templates ORDER BY id",
                        record_from_row, err);
}

int template_store_summaries(struct template_record **out, size_t *count, struct db *db,
                             struct sd_error *err)
{
    /* The column count is read by the database from the stored JSON, so listing parses no
     * definition here; the two backends spell that differently (db_backend.h). */
    char count_sql[96], sql[256];
    snprintf(count_sql, sizeof count_sql, db_dialect_of(db)->json_columns_count, "definition");
    snprintf(sql, sizeof sql,
             "SELECT id, name, table_name, created_at, %s FROM import_templates ORDER BY id",
             count_sql);
    return list_records(out, count, db, sql, summary_from_row, err);
}

int template_store_count(struct db *db, int64_t *count, struct sd_error *err)
{
    assert(db && count);
    return db_query_int64(db, "SELECT COUNT(*) FROM import_templates", "the templates", count, err);
}
