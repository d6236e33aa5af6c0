/* The broadcasts table (queue_tables.h): an append-only log of changes that other processes
 * read by id, pruned by age. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_backend.h"
#include "store/queue_tables.h"

/* The id is the new row's: SQLite knows it without RETURNING, which would cost a third of
 * this insert (every state change of a job makes one; db_dialect.cheap_returning). */
int broadcast_store_add(struct db *db, const char *channel, int64_t now_ms, int64_t *id_out,
                        struct sd_error *err)
{
    assert(db && channel && id_out);
    bool returning = db_dialect_of(db)->cheap_returning;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        returning ? "INSERT INTO broadcasts (channel, created_at) VALUES ($1, $2) "
                                    "RETURNING id"
                                  : "INSERT INTO broadcasts (channel, created_at) VALUES ($1, $2)",
                        err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, channel);
    db_bind_int64(stmt, 2, now_ms);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        *id_out = db_column_int64(stmt, 0);
        rc = db_step(stmt, err);
    } else if (rc == DB_DONE && !returning) {
        *id_out = db_last_insert_id(db);
    }
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

void broadcast_rows_free(struct broadcast_row *rows, size_t count)
{
    if (!rows)
        return;
    for (size_t i = 0; i < count; i++)
        free(rows[i].channel);
    free(rows);
}

int broadcast_store_since(struct broadcast_row **rows, size_t *count, struct db *db,
                          int64_t after_id, size_t limit, struct sd_error *err)
{
    assert(rows && count && db);
    *rows = NULL;
    *count = 0;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(
        &stmt, db, "SELECT id, channel FROM broadcasts WHERE id > $1 ORDER BY id LIMIT $2", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, after_id);
    db_bind_int64(stmt, 2, (int64_t)limit);
    struct broadcast_row *list = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct broadcast_row *grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                rc = sd_error_nomem(err);
                break;
            }
            list = grown;
            cap = ncap;
        }
        const char *channel = db_column_text(stmt, 1);
        list[n].id = db_column_int64(stmt, 0);
        list[n].channel = str_dup(channel ? channel : "");
        if (!list[n].channel) {
            rc = sd_error_nomem(err);
            break;
        }
        n++;
    }
    db_finalize(stmt);
    if (rc < 0) {
        broadcast_rows_free(list, n);
        return rc;
    }
    *rows = list;
    *count = n;
    return 0;
}

int broadcast_store_last_id(struct db *db, int64_t *id, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "SELECT MAX(id) FROM broadcasts", err);
    if (rc)
        return rc;
    rc = db_step(stmt, err);
    *id = rc == DB_ROW && !db_column_is_null(stmt, 0) ? db_column_int64(stmt, 0) : 0;
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

/* Ids grow with time, so the old rows are the ones before the first new one: found by
 * reading from the oldest row on, which needs no index on created_at for every change to
 * keep up to date. A row a little older than one after it (two processes' clocks) waits for
 * the next prune. */
int broadcast_store_prune(struct db *db, int64_t before_ms, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "DELETE FROM broadcasts WHERE id < COALESCE((SELECT id FROM broadcasts "
                        "WHERE created_at >= $1 ORDER BY id LIMIT 1), (SELECT MAX(id) + 1 FROM "
                        "broadcasts))",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, before_ms);
    return db_run(stmt, NULL, err);
}
