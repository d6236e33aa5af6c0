/* The job_completions table of the main database (queue_tables.h): the marker an import
 * commits together with its rows. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/queue_tables.h"

int completion_store_add(struct db *db, const char *job_id, const char *document, int64_t now_ms,
                         struct sd_error *err)
{
    assert(db && job_id && document);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "INSERT INTO job_completions (job_id, document, created_at) VALUES ($1, "
                        "$2, $3)",
                        err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, job_id);
    db_bind_cstr(stmt, 2, document);
    db_bind_int64(stmt, 3, now_ms);
    return db_run(stmt, NULL, err);
}

int completion_store_get(char **document, struct db *db, const char *job_id, struct sd_error *err)
{
    assert(document && db && job_id);
    *document = NULL;
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "SELECT document FROM job_completions WHERE job_id = $1", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, job_id);
    rc = db_step(stmt, err);
    if (rc == DB_ROW) {
        const char *text = db_column_text(stmt, 0);
        *document = str_dup(text ? text : "");
        rc = *document ? 0 : sd_error_nomem(err);
    } else if (rc == DB_DONE) {
        rc = sd_error_set(err, SD_ENOTFOUND, "job %.32s left no completion marker", job_id);
    }
    db_finalize(stmt);
    return rc;
}

int completion_store_delete(struct db *db, const char *job_id, struct sd_error *err)
{
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db, "DELETE FROM job_completions WHERE job_id = $1", err);
    if (rc)
        return rc;
    db_bind_cstr(stmt, 1, job_id);
    return db_run(stmt, NULL, err);
}
