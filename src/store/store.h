/*
 * DESIGN
 * ------
 * The store is where sheetd keeps everything: a `struct store` knows where the databases
 * are and hands out connections. With SQLite there are two files, like Rails 8's defaults:
 *
 *   <data_dir>/sheetd.db   templates and the imported rows   (store_acquire_main)
 *   <data_dir>/queue.db    jobs, processes, cache, broadcasts (store_acquire_queue)
 *   <data_dir>/secret_key  the server's secret for the tokens it signs (store_secret_key)
 *
 * so a long import transaction on sheetd.db never blocks a status write on queue.db. With
 * PostgreSQL (SHEETD_DATABASE_URL=postgres://...) both kinds of connection go to the same
 * database.
 *
 * SQLite wants one connection per thread, so the store keeps a small pool of open
 * connections per file: acquire takes one (opening a new one when the pool is empty),
 * release puts it back. A connection is used by one thread at a time. A connection whose
 * server went away is dropped at release and a new one opened at the next acquire (with a
 * short backoff while the database stays unreachable; see store.c).
 */
#ifndef SHEETD_STORE_STORE_H
#define SHEETD_STORE_STORE_H

#include "base/error.h"
#include "store/db.h"

/* Where the databases live when neither the caller nor SHEETD_DATA_DIR says. */
#define STORE_DEFAULT_DATA_DIR "./var"

struct store_config {
    unsigned version;
    const char *data_dir;     /* created when missing */
    const char *database_url; /* NULL: SQLite files in data_dir */
};

#define STORE_CONFIG_VERSION 1
#define STORE_CONFIG_INIT                                                                          \
    {                                                                                              \
        .version = STORE_CONFIG_VERSION, .data_dir = STORE_DEFAULT_DATA_DIR, .database_url = NULL  \
    }

struct store;

/* Creates the data dir when needed and checks that the databases can be opened. Does not
 * migrate (store_migrate does). The caller owns *out. */
int store_open(struct store **out, const struct store_config *config, struct sd_error *err);
void store_close(struct store *store);

const char *store_data_dir(const struct store *store);

/* The server's secret key (CRYPTO_KEY_BYTES bytes), kept in <data_dir>/secret_key: created
 * with mode 0600 by the first store_open, read by every later one, so tokens the server
 * signs (CSRF) stay valid across restarts and between processes sharing the data dir. With
 * PostgreSQL, store_migrate replaces it by the key stored in the database, the same for
 * every process on every machine (secret_store.h). */
const unsigned char *store_secret_key(const struct store *store);

/* Applies every pending migration to both databases, each in its own transaction;
 * idempotent. *applied (may be NULL) receives how many were applied. */
int store_migrate(struct store *store, int *applied, struct sd_error *err);

/* Connections from the pool; give each back with store_release. */
int store_acquire_main(struct store *store, struct db **out, struct sd_error *err);
int store_acquire_queue(struct store *store, struct db **out, struct sd_error *err);
void store_release(struct store *store, struct db *db);

/* One round trip to each database: 0 when both answer, else the error of the first that
 * does not (for /healthz). A connection found broken is dropped and reopened on the way. */
int store_ping(struct store *store, struct sd_error *err);

#endif
