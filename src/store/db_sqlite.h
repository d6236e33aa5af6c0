/*
 * The SQLite backend's structs and helpers, shared by db_sqlite.c (connections, statements,
 * transactions) and the bulk writer (db_sqlite_bulk.c, db_sqlite_bulk_open.c; schema
 * questions). Private to src/store/.
 */
#ifndef SHEETD_STORE_DB_SQLITE_H
#define SHEETD_STORE_DB_SQLITE_H

#include <sqlite3.h>

#include "base/buf.h"
#include "store/db_backend.h"

/* Prepared statements a connection keeps for reuse, keyed by their SQL text. */
#define SQLITE_STMT_CACHE 32

struct sqlite_db {
    struct db base; /* first: a struct db * is a struct sqlite_db * */
    sqlite3 *conn;
    char *path;
    struct {
        char *sql;          /* NULL: the slot is empty */
        sqlite3_stmt *stmt; /* reset, with no bindings, while not in use */
        int *params;        /* params[N]: the index "$N" binds (db_sqlite.c), or NULL */
        int nparams;        /* the largest N params has */
        bool in_use;        /* handed out by db_prepare and not finalized yet */
        uint64_t last_used; /* for replacing the least recently used slot */
    } cache[SQLITE_STMT_CACHE];
    uint64_t uses;
    int busy_timeout_ms;
    int64_t busy_since_ms;       /* when the current wait for the write lock began */
    int64_t checkpoint_after_ms; /* no checkpoint before then (db_sqlite.c) */
};

struct sqlite_stmt {
    struct db_stmt base; /* first */
    sqlite3_stmt *stmt;
    int64_t changes;
    /* The first failure of a db_bind_* call (which has no error argument): reported by the
     * next db_step so it cannot be missed. 0 when every bind worked. */
    int bind_rc;
    int bind_idx;
    int cache_slot;    /* the connection's cache slot it came from, or -1 */
    const int *params; /* the slot's map of "$N" to indexes, or NULL: look each up */
    int nparams;
};

/* Turns an SQLite result code (with `message`, usually sqlite3_errmsg) into an SD_E* code and
 * a sentence in err:
 *   SQLITE_BUSY, SQLITE_LOCKED                     SD_ERETRY
 *   UNIQUE / PRIMARY KEY constraint failures        SD_EEXISTS
 *   NOT NULL / CHECK / FOREIGN KEY failures         SD_EINVALID
 *   SQLITE_NOMEM                                    SD_ENOMEM
 *   SQLITE_TOOBIG                                   SD_ELIMIT
 *   anything else                                   SD_ERROR with the database's message */
int db_sqlite_error(int rc, const char *message, struct sd_error *err);

int db_sqlite_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                        struct sd_error *err);
int db_sqlite_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                             struct sd_error *err);
int db_sqlite_bulk_flush(struct db_bulk *bulk, struct sd_error *err);
void db_sqlite_bulk_close(struct db_bulk *bulk);
int db_sqlite_table_columns(char ***out, size_t *count, struct db *db, const char *table,
                            struct sd_error *err);

#endif
