/*
 * DESIGN
 * ------
 * Where the files of jobs (uploads, error reports, exports) are kept, so that every process
 * that shares the database can read them.
 *
 * A file has a name relative to the data directory, "uploads/3f9a0c1d2e4b5a69.xlsx". It is
 * always written locally first, at <data_dir>/<name>, by whoever produces it (the upload
 * handler, the import's report writer, the export writer); file_store_put then makes it the
 * stored file of that name:
 *
 *   SQLite      one machine: the file stays where it is, in the data directory; the other
 *               calls look at <data_dir>/<name>.
 *   PostgreSQL  several machines, no shared disk: the file is copied into the job_files
 *               table as rows of FILE_STORE_CHUNK_BYTES (one transaction, so nobody ever sees
 *               half a file) and the local copy removed. file_store_fetch streams the rows
 *               back into a private temporary file in the data directory of the machine
 *               that wants it, one chunk at a time.
 *
 * Memory stays constant either way: one chunk in and one chunk out, whatever the file's size.
 * Why chunked bytea rather than large objects: the rows belong to an ordinary table (a
 * DELETE removes a file, no lo_unlink bookkeeping or orphaned objects when a transaction
 * dies), they travel with pg_dump of the schema, and a fresh test schema holds its own
 * files; large objects live in one database-wide catalog outside any schema.
 */
#ifndef SHEETD_STORE_FILE_STORE_H
#define SHEETD_STORE_FILE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

/* The size of one row of a stored file on PostgreSQL. */
#define FILE_STORE_CHUNK_BYTES (1024 * 1024)

/* A stored file made readable on this machine (file_store_fetch). */
struct file_store_local {
    char path[4096];
    bool temporary; /* a copy fetched from the database: file_store_local_done removes it */
    int fd;         /* a fetched copy's descriptor, holding a shared flock(2) while in use */
};

/* True when files are kept in the database (PostgreSQL), false when they stay in the data
 * directory (SQLite). */
bool file_store_shared(struct store *store);

/* Makes the complete local file <data_dir>/<name> the stored file `name`, replacing one of
 * that name. PostgreSQL: copied into the database, then the local file is removed; SQLite:
 * nothing to do. On failure the local file is left as it was. */
int file_store_put(struct store *store, const char *data_dir, const char *name,
                   struct sd_error *err);

/* Makes the stored file `name` readable here: SQLite, out->path is <data_dir>/<name>;
 * PostgreSQL, a temporary file in data_dir the rows were streamed into. SD_ENOTFOUND when
 * there is no such file. Call file_store_local_done when finished with it (also after a
 * failure: it is then a no-op). */
int file_store_fetch(struct file_store_local *out, struct store *store, const char *data_dir,
                     const char *name, struct sd_error *err);
void file_store_local_done(struct file_store_local *local);

/* Removes fetched copies in data_dir that a process that died while using one (SIGKILL, a
 * lost machine) left behind: those older than a minute that no live process holds a lock
 * on. *removed (may be NULL) counts them. Run when a process starts and by the retention
 * sweep. */
void file_store_clean_fetched(const char *data_dir, size_t *removed);

/* Whether the stored file `name` exists. */
int file_store_exists(bool *out, struct store *store, const char *data_dir, const char *name,
                      struct sd_error *err);

/* Removes the stored file `name` (and <data_dir>/<name>). A missing file is fine. */
int file_store_remove(struct store *store, const char *data_dir, const char *name,
                      struct sd_error *err);

/* Removes every stored file whose name starts with `prefix` ("uploads/<job_id>.") from the
 * database; local files are the caller's (job_files.c scans its directories). Nothing to do
 * on SQLite. */
int file_store_remove_prefix(struct store *store, const char *prefix, struct sd_error *err);

/* Removes the database's stored files put before `before_ms` (Unix milliseconds); *removed
 * counts the files. Nothing to do on SQLite (job_files_sweep looks at the directories). */
int file_store_sweep(struct store *store, int64_t before_ms, size_t *removed, struct sd_error *err);

/* How many chunks the database holds for `name` (0 on SQLite): for tests and diagnostics. */
int file_store_chunks(int64_t *out, struct store *store, const char *name, struct sd_error *err);

#endif
