/*
 * The cache table (queue_tables.h): a key-value store with expiry, like the Rails cache
 * Solid Cache keeps in a database. An expired entry reads as missing before any sweep has
 * deleted it, so expiry does not depend on the sweeper's timing.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_backend.h"
#include "store/queue_tables.h"

int cache_store_get(char **value, int64_t *seq, struct db *db, const char *key, int64_t now_ms,
                    struct sd_error *err)
{
    assert(value && db && key);
    *value = NULL;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "SELECT value, seq FROM cache WHERE key = $1 AND expires_at > $2", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, key);
    db_bind_int64(stmt, 2, now_ms);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        const char *text = db_column_text(stmt, 0);
        if (seq)
            *seq = db_column_int64(stmt, 1);
        *value = str_dup(text ? text : "");
        rc = *value ? 0 : sd_error_nomem(err);
    } else if (rc == DB_DONE) {
        rc = sd_error_set(err, SD_ENOTFOUND, "no cache entry for %.64s", key);
    }
    db_finalize(stmt);
    return rc;
}

/*
 * A job's document is written three times or more in its first second, each time with an
 * expiry a few milliseconds later than the last. Moving the expiry rewrites its index entry,
 * so an expiry within CACHE_EXPIRY_SLACK_MS before the one asked for is kept: the entry
 * lives at most that much less than asked, and the write touches only the row. An entry
 * that is not there, or whose expiry is further off, is written whole. PostgreSQL's
 * publish, sheetd_publish (migration 1006), applies the same rule, given this slack.
 */
#define CACHE_EXPIRY_SLACK_MS 60000

static void bind_entry(struct db_stmt *stmt, const char *key, const char *value,
                       int64_t expires_at_ms, int64_t seq)
{
    db_bind_cstr(stmt, 1, key);
    db_bind_cstr(stmt, 2, value);
    db_bind_int64(stmt, 3, expires_at_ms);
    db_bind_int64(stmt, 4, seq);
}

int cache_store_put(struct db *db, const char *key, const char *value, int64_t expires_at_ms,
                    int64_t seq, struct sd_error *err)
{
    assert(db && key && value);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "UPDATE cache SET value = $2, seq = $4 WHERE key = $1 AND expires_at "
                        "BETWEEN $3 - $5 AND $3",
                        err);
    if (rc)
        return rc;
    bind_entry(stmt, key, value, expires_at_ms, seq);
    db_bind_int64(stmt, 5, CACHE_EXPIRY_SLACK_MS);
    int64_t changed = 0;
    if ((rc = db_run(stmt, &changed, err)) != 0 || changed == 1)
        return rc;
    rc = db_prepare(&stmt, db,
                    "INSERT INTO cache (key, value, expires_at, seq) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = "
                    "excluded.expires_at, seq = excluded.seq",
                    err);
    if (rc)
        return rc;
    bind_entry(stmt, key, value, expires_at_ms, seq);
    return db_run(stmt, NULL, err);
}

/*
 * Both writes leave the caller's transaction usable when they fail, so the change they
 * belong to still commits. SQLite undoes just a failed statement (a broadcast row written
 * before a failed cache write stays: a subscriber it wakes reads the status again, which is
 * harmless). PostgreSQL aborts the whole transaction at an error, so there both writes are
 * one call of sheetd_publish (migrations 1005 and 1006), whose exception block is a savepoint the
 * server takes and releases itself: the guard costs no round trip, where SAVEPOINT and
 * RELEASE cost two of the few a state change of a job makes.
 */
int cache_store_publish(struct db *db, const char *key, const char *value, int64_t expires_at_ms,
                        int64_t now_ms, int64_t *seq, struct sd_error *err)
{
    assert(db && key && value && seq);
    *seq = 0;
    if (!db_dialect_of(db)->error_aborts_transaction) {
        int64_t id = 0;
        int rc = broadcast_store_add(db, key, now_ms, &id, err);
        if (rc == 0 && (rc = cache_store_put(db, key, value, expires_at_ms, id, err)) == 0)
            *seq = id;
        return rc;
    }
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "SELECT out_seq, out_error FROM sheetd_publish($1, $2, $3, $4, $5)", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, key);
    db_bind_cstr(stmt, 2, value);
    db_bind_int64(stmt, 3, expires_at_ms);
    db_bind_int64(stmt, 4, now_ms);
    db_bind_int64(stmt, 5, CACHE_EXPIRY_SLACK_MS);
    rc = db_step(stmt, err);
    if (rc == DB_ROW && !db_column_is_null(stmt, 1))
        rc = sd_error_set(err, SD_ERROR, "the status cache could not be written: %s",
                          db_column_text(stmt, 1));
    else if (rc == DB_ROW)
        *seq = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return rc < 0 ? rc : 0;
}

int cache_store_delete(struct db *db, const char *key, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "DELETE FROM cache WHERE key = $1", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, key);
    return db_run(stmt, NULL, err);
}

int cache_store_sweep(struct db *db, int64_t now_ms, int64_t *removed, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "DELETE FROM cache WHERE expires_at <= $1", err);
    if (rc)
        return rc;
    db_bind_int64(stmt, 1, now_ms);
    return db_run(stmt, removed, err);
}
