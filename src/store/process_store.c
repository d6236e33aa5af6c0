/* The processes table (queue_tables.h): one row per running serve/work process. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "store/queue_tables.h"

int process_store_register(struct db *db, int64_t pid, const char *hostname, const char *kind,
                           int64_t now_ms, int64_t *id_out, struct sd_error *err)
{
    assert(db && hostname && kind && id_out);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "INSERT INTO processes (pid, hostname, kind, started_at, heartbeat_at) "
                        "VALUES ($1, $2, $3, $4, $4) RETURNING id",
                        err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, pid);
    db_bind_cstr(stmt, 2, hostname);
    db_bind_cstr(stmt, 3, kind);
    db_bind_int64(stmt, 4, now_ms);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        *id_out = db_column_int64(stmt, 0);
        rc = db_step(stmt, err);
    }
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

int process_store_heartbeat(struct db *db, int64_t id, int64_t now_ms, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "UPDATE processes SET heartbeat_at = $1 WHERE id = $2", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, now_ms);
    db_bind_int64(stmt, 2, id);
    int64_t changed = 0;
    rc = db_run(stmt, &changed, err);
    if (rc == 0 && changed == 0)
        return sd_error_set(err, SD_ENOTFOUND,
                            "this process was pruned as silent; it registers again");
    return rc;
}

int process_store_remove(struct db *db, int64_t id, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "DELETE FROM processes WHERE id = $1", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, id);
    return db_run(stmt, NULL, err);
}

int process_store_silent(int64_t **ids, size_t *count, struct db *db, int64_t before_ms,
                         struct sd_error *err)
{
    assert(ids && count && db);
    *ids = NULL;
    *count = 0;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "SELECT id FROM processes WHERE heartbeat_at < $1", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, before_ms);
    int64_t *list = NULL;
    size_t n = 0, cap = 0;
    while ((rc = db_step(stmt, err)) == DB_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            int64_t *grown = realloc(list, ncap * sizeof *grown);
            if (!grown) {
                rc = sd_error_nomem(err);
                break;
            }
            list = grown;
            cap = ncap;
        }
        list[n++] = db_column_int64(stmt, 0);
    }
    db_finalize(stmt);
    if (rc < 0) {
        free(list);
        return rc;
    }
    *ids = list;
    *count = n;
    return 0;
}
