/* The secret key in the database (secret_store.h). */
#include "store/secret_store.h"

#include <string.h>

int secret_store_share(struct db *db, unsigned char key[CRYPTO_KEY_BYTES], struct sd_error *err)
{
    if (strcmp(db_backend_name(db), "postgres") != 0)
        return 0;
    char hex[2 * CRYPTO_KEY_BYTES + 1];
    crypto_hex(hex, key, CRYPTO_KEY_BYTES);
    struct db_stmt *stmt = NULL;
    int rc = db_prepare(&stmt, db,
                        "INSERT INTO secret_keys (id, hex) VALUES (1, $1) ON CONFLICT (id) DO "
                        "NOTHING",
                        err);
    if (rc == 0 && (rc = db_bind_cstr(stmt, 1, hex)) == 0)
        rc = db_run(stmt, NULL, err);
    else
        db_finalize(stmt);
    crypto_wipe(hex, sizeof hex);
    stmt = NULL;
    if (rc == 0)
        rc = db_prepare(&stmt, db, "SELECT hex FROM secret_keys WHERE id = 1", err);
    if (rc == 0 && (rc = db_step(stmt, err)) == DB_ROW) {
        const char *stored = db_column_text(stmt, 0);
        rc = stored && strlen(stored) == 2 * CRYPTO_KEY_BYTES &&
                     crypto_unhex(key, CRYPTO_KEY_BYTES, stored)
                 ? 0
                 : sd_error_set(err, SD_ERROR,
                                "the secret key in the secret_keys table is damaged; delete its "
                                "row and restart sheetd to make a new one");
    } else if (rc == DB_DONE)
        rc = sd_error_set(err, SD_ERROR, "the secret key could not be stored in the database");
    db_finalize(stmt);
    return rc;
}
