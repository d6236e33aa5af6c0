/* Job files in the data directory or in PostgreSQL (file_store.h). */
#include "store/file_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/db_postgres.h"

/* A connection to the database that holds the files (the queue database), or NULL with the
 * data directory's backend. */
static bool is_postgres(struct db *db)
{
    return !strcmp(db_backend_name(db), "postgres");
}

static int local_path(char *out, size_t size, const char *data_dir, const char *name,
                      struct sd_error *err)
{
    int n = snprintf(out, size, "%s/%s", data_dir, name);
    if (n < 0 || (size_t)n >= size)
        return sd_error_set(err, SD_ELIMIT, "the data directory's path is too long");
    return 0;
}

bool file_store_shared(struct store *store)
{
    struct db *db = NULL;
    struct sd_error ignored = SD_ERROR_INIT;
    bool shared = store_acquire_queue(store, &db, &ignored) == 0 && is_postgres(db);
    store_release(store, db);
    return shared;
}

/* Acquires the queue connection; *postgres tells which backend it is. */
static int acquire(struct db **db, bool *postgres, struct store *store, struct sd_error *err)
{
    int rc = store_acquire_queue(store, db, err);
    *postgres = rc == 0 && is_postgres(*db);
    return rc;
}

int file_store_put(struct store *store, const char *data_dir, const char *name,
                   struct sd_error *err)
{
    char path[4096];
    struct db *db = NULL;
    bool postgres = false;
    int rc = local_path(path, sizeof path, data_dir, name, err);
    if (rc == 0)
        rc = acquire(&db, &postgres, store, err);
    if (rc == 0 && postgres) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            rc = sd_error_set(err, SD_ERROR, "cannot read %s to store it: %s", path,
                              strerror(errno));
        else {
            rc = pg_file_put(db, name, fd, (int64_t)time(NULL) * 1000, err);
            close(fd);
        }
        if (rc == 0)
            unlink(path);
    }
    store_release(store, db);
    return rc;
}

/* Streams the rows of `name` into a fresh temporary file in data_dir. */
static int fetch_rows(struct file_store_local *out, struct db *db, const char *data_dir,
                      const char *name, struct sd_error *err)
{
    /* The name's extension stays, for readers that look at it. */
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (!dot || strlen(dot) > 16)
        dot = "";
    int n = snprintf(out->path, sizeof out->path, "%s/.fetched-XXXXXX%s", data_dir, dot);
    if (n < 0 || (size_t)n >= sizeof out->path)
        return sd_error_set(err, SD_ELIMIT, "the data directory's path is too long");
    int fd = mkstemps(out->path, (int)strlen(dot));
    if (fd < 0)
        return sd_error_set(err, SD_ERROR, "could not create a temporary file in %s: %s", data_dir,
                            strerror(errno));
    /* Held until file_store_local_done; the kernel lets go when the process dies, which is
     * how file_store_clean_fetched tells an abandoned copy from one in use. */
    flock(fd, LOCK_SH);
    out->temporary = true;
    out->fd = fd;
    int rc = pg_file_fetch(db, name, fd, err);
    if (rc)
        file_store_local_done(out);
    return rc;
}

int file_store_fetch(struct file_store_local *out, struct store *store, const char *data_dir,
                     const char *name, struct sd_error *err)
{
    out->path[0] = '\0';
    out->temporary = false;
    out->fd = -1;
    struct db *db = NULL;
    bool postgres = false;
    int rc = acquire(&db, &postgres, store, err);
    if (rc == 0 && postgres)
        rc = fetch_rows(out, db, data_dir, name, err);
    else if (rc == 0 && (rc = local_path(out->path, sizeof out->path, data_dir, name, err)) == 0 &&
             access(out->path, R_OK) != 0) {
        rc = sd_error_set(err, SD_ENOTFOUND, "the file %s is not in %s", name, data_dir);
        out->path[0] = '\0';
    }
    store_release(store, db);
    return rc;
}

void file_store_local_done(struct file_store_local *local)
{
    if (local->temporary && local->path[0])
        unlink(local->path);
    if (local->fd >= 0)
        close(local->fd);
    local->path[0] = '\0';
    local->temporary = false;
    local->fd = -1;
}

void file_store_clean_fetched(const char *data_dir, size_t *removed)
{
    if (removed)
        *removed = 0;
    DIR *d = opendir(data_dir);
    if (!d)
        return;
    time_t limit = time(NULL) - 60;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".fetched-", 9) != 0)
            continue;
        char path[4096 + 300];
        snprintf(path, sizeof path, "%s/%s", data_dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        /* Young copies are spared: one just created may not hold its lock yet. */
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < limit &&
            flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) == 0 && removed)
            (*removed)++;
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

/* On PostgreSQL, runs a statement with one text parameter and gives the first column of its
 * first row in *out (0 without a row); *postgres says whether it ran. */
static int query_int(int64_t *out, bool *postgres, struct store *store, const char *sql,
                     const char *param, struct sd_error *err)
{
    *out = 0;
    struct db *db = NULL;
    int rc = acquire(&db, postgres, store, err);
    if (rc == 0 && *postgres) {
        struct db_stmt *stmt = NULL;
        rc = db_prepare(&stmt, db, sql, err);
        if (rc == 0 && (rc = db_bind_cstr(stmt, 1, param)) == 0) {
            rc = db_step(stmt, err);
            if (rc == DB_ROW)
                *out = db_column_int64(stmt, 0);
            rc = rc < 0 ? rc : 0;
        }
        db_finalize(stmt);
    }
    store_release(store, db);
    return rc;
}

int file_store_exists(bool *out, struct store *store, const char *data_dir, const char *name,
                      struct sd_error *err)
{
    *out = false;
    int64_t n = 0;
    bool postgres = false;
    int rc = query_int(&n, &postgres, store,
                       "SELECT count(*) FROM job_files WHERE name = $1 AND chunk = 0", name, err);
    if (rc || postgres) {
        *out = n > 0;
        return rc;
    }
    char path[4096];
    if ((rc = local_path(path, sizeof path, data_dir, name, err)) == 0)
        *out = access(path, R_OK) == 0;
    return rc;
}

/* Runs one statement with text parameters on the database's files; nothing on SQLite. */
static int run_on_rows(struct store *store, const char *sql, const char *p1, const char *p2,
                       struct sd_error *err)
{
    struct db *db = NULL;
    bool postgres = false;
    int rc = acquire(&db, &postgres, store, err);
    if (rc == 0 && postgres) {
        struct db_stmt *stmt = NULL;
        rc = db_prepare(&stmt, db, sql, err);
        if (rc == 0 && (rc = db_bind_cstr(stmt, 1, p1)) == 0 &&
            (!p2 || (rc = db_bind_cstr(stmt, 2, p2)) == 0))
            rc = db_run(stmt, NULL, err);
        else
            db_finalize(stmt);
    }
    store_release(store, db);
    return rc;
}

int file_store_remove(struct store *store, const char *data_dir, const char *name,
                      struct sd_error *err)
{
    char path[4096];
    if (local_path(path, sizeof path, data_dir, name, err) == 0)
        unlink(path);
    return run_on_rows(store, "DELETE FROM job_files WHERE name = $1", name, NULL, err);
}

/*
 * The names that begin with `prefix` are, in bytewise order (the column is COLLATE "C"), the
 * range from the prefix up to the prefix with its last byte raised by one, so the primary
 * key's index finds them without reading the table.
 */
int file_store_remove_prefix(struct store *store, const char *prefix, struct sd_error *err)
{
    size_t len = strlen(prefix);
    char upper[256];
    if (len == 0 || len >= sizeof upper || (unsigned char)prefix[len - 1] >= 0x7f)
        return sd_error_set(err, SD_EUSAGE,
                            "a file name prefix must be 1-255 bytes ending in ASCII");
    memcpy(upper, prefix, len + 1);
    upper[len - 1]++;
    return run_on_rows(store, "DELETE FROM job_files WHERE name >= $1 AND name < $2", prefix, upper,
                       err);
}

int file_store_sweep(struct store *store, int64_t before_ms, size_t *removed, struct sd_error *err)
{
    char before[24];
    snprintf(before, sizeof before, "%lld", (long long)before_ms);
    int64_t n = 0;
    bool postgres = false;
    /* Every chunk of a file put before the limit; the files are counted by their first. */
    int rc = query_int(&n, &postgres, store,
                       "WITH gone AS (DELETE FROM job_files WHERE name IN (SELECT name FROM "
                       "job_files WHERE chunk = 0 AND created_ms < $1::bigint) RETURNING chunk) "
                       "SELECT count(*) FROM gone WHERE chunk = 0",
                       before, err);
    *removed = (size_t)n;
    return rc;
}

int file_store_chunks(int64_t *out, struct store *store, const char *name, struct sd_error *err)
{
    bool postgres = false;
    return query_int(out, &postgres, store, "SELECT count(*) FROM job_files WHERE name = $1", name,
                     err);
}
