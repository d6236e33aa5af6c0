/*
 * The SQLite bulk writer's state, shared by db_sqlite_bulk_open.c (opening and closing it:
 * its statements and connection settings) and db_sqlite_bulk.c (writing batches, whose DESIGN
 * note explains both). Private to src/store/.
 */
#ifndef SHEETD_STORE_DB_SQLITE_BULK_H
#define SHEETD_STORE_DB_SQLITE_BULK_H

#include "store/db_sqlite.h"

struct sqlite_bulk {
    struct db_bulk base;        /* first */
    sqlite3_stmt *insert_batch; /* batch_rows rows; NULL when batch_rows is 1 */
    sqlite3_stmt *insert;       /* one row */
    sqlite3_stmt *update;       /* NULL without key columns, or when every column is a key */
    /* For upserts whose first try may run without a savepoint (see the DESIGN note): the
     * largest rowid, and the DELETE of the rows past it. NULL when that way is not safe. */
    sqlite3_stmt *max_rowid;
    sqlite3_stmt *undo_insert;
    /* For value i, the UPDATE's parameter index of "$<i+1>" (0: not used), looked up once
     * here instead of once per row. The INSERTs number their parameters row by row. */
    int *update_params;
    struct buf sql_head; /* "INSERT INTO t (a, b) VALUES " */
    struct buf sql_tail; /* " ON CONFLICT (...) DO NOTHING" or "" */
    size_t ncolumns;
    size_t batch_rows;
    size_t npending;
    struct db_value *pending; /* batch_rows * ncolumns, see the DESIGN note for TEXT */
    int64_t *tags;            /* the caller's tag of each waiting row */
    struct buf text;
    bool upsert;
    int saved_cache_size; /* PRAGMA cache_size before the writer opened; 0: not changed */
};

static inline sqlite3 *bulk_conn(struct sqlite_bulk *b)
{
    return ((struct sqlite_db *)b->base.db)->conn;
}

/* Prepares an INSERT of `nrows` rows, its parameters numbered row by row. `flags` is
 * SQLITE_PREPARE_PERSISTENT for the statements that live as long as the writer. The caller
 * finalizes *out. */
int db_sqlite_bulk_prepare_insert(sqlite3_stmt **out, struct sqlite_bulk *b, size_t nrows,
                                  unsigned flags, struct sd_error *err);

#endif
