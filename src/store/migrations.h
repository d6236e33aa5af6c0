/*
 * Versioned schema migrations, one list per database (sheetd.db and queue.db). Private to
 * src/store/: the rest of the program calls store_migrate.
 */
#ifndef SHEETD_STORE_MIGRATIONS_H
#define SHEETD_STORE_MIGRATIONS_H

#include <stddef.h>

#include "base/error.h"
#include "store/db.h"

struct migration {
    int version;
    const char *name; /* a few words for error messages */
    const char *sql;  /* one or more statements */
    /* The same migration for PostgreSQL where `sql` does not work there (INTEGER PRIMARY KEY
     * is no identity column, INTEGER is 32 bits); NULL when `sql` works on both. */
    const char *pg_sql;
};

struct migration_set {
    const char *database; /* "sheetd.db", "queue.db": for messages */
    int first_version;    /* the versions this set owns: [first_version, last_version] */
    int last_version;
    const struct migration *migrations; /* ascending versions */
    size_t count;
};

const struct migration_set *migrations_main(void);
const struct migration_set *migrations_queue(void);

/* Applies every migration of `set` that the database has not recorded yet, each in its own
 * transaction, and adds *applied (may be NULL) the number applied. Refuses (SD_ERROR) a
 * database that records a version of this set newer than any this program knows. */
int migrations_apply(struct db *db, const struct migration_set *set, int *applied,
                     struct sd_error *err);

#endif
