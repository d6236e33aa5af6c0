/*
 * The secret key shared by every process of a PostgreSQL setup (private to src/store/).
 * Each process starts with the key of its own data directory (<data_dir>/secret_key); on
 * PostgreSQL, store_migrate then offers it to the secret_keys table, where the first process
 * to get there wins, and every process adopts the stored one. So a CSRF token one web process
 * signed passes on every other, with no key file to copy between machines.
 */
#ifndef SHEETD_STORE_SECRET_STORE_H
#define SHEETD_STORE_SECRET_STORE_H

#include "base/crypto.h"
#include "base/error.h"
#include "store/db.h"

/* Offers `key` to the database and replaces it with the key stored there (which is `key`
 * when none was). Nothing to do on SQLite. */
int secret_store_share(struct db *db, unsigned char key[CRYPTO_KEY_BYTES], struct sd_error *err);

#endif
