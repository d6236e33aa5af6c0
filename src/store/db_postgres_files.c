/*
 * Files as chunked bytea rows (file_store.h): the two loops that move a file's bytes between
 * a file descriptor and the job_files table, one FILE_STORE_CHUNK_BYTES row at a time.
 * The bytes travel in libpq's binary format (no hex or escape encoding, no copy of the
 * chunk beyond the one buffer and the one result), so memory stays constant whatever the
 * file's size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db_postgres.h"
#include "store/file_store.h"

/* Runs one parameterized statement; text parameters except `binary_param` (1-based, 0 for
 * none), whose length is `binary_len`. The caller clears *out (may be NULL to discard). */
static int run(PGresult **out, struct pg_db *db, const char *sql, int nparams,
               const char *const *values, int binary_param, int binary_len, int result_format,
               struct sd_error *err)
{
    int lengths[4] = {0}, formats[4] = {0};
    if (binary_param) {
        lengths[binary_param - 1] = binary_len;
        formats[binary_param - 1] = 1;
    }
    pg_settle(db);
    PGresult *res =
        PQexecParams(db->conn, sql, nparams, NULL, values, lengths, formats, result_format);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        int rc = pg_result_error(db, res, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

/* Reads up to `size` bytes (fewer only at the end of the file). */
static ssize_t read_full(int fd, char *buffer, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buffer + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/*
 * Replaces the stored file `name` by the bytes of `fd`, in one transaction: a reader sees the
 * old file or the whole new one. An empty file is one empty chunk, so that it exists.
 */
int pg_file_put(struct db *base, const char *name, int fd, int64_t now_ms, struct sd_error *err)
{
    struct pg_db *db = (struct pg_db *)base;
    char *buffer = malloc(FILE_STORE_CHUNK_BYTES);
    if (!buffer)
        return sd_error_nomem(err);
    char chunk_text[24], now_text[24];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now_ms);
    const char *del[1] = {name};
    int rc = pg_command(db, "BEGIN", err);
    if (rc == 0)
        rc = run(NULL, db, "DELETE FROM job_files WHERE name = $1", 1, del, 0, 0, 0, err);
    for (long chunk = 0; rc == 0; chunk++) {
        ssize_t n = read_full(fd, buffer, FILE_STORE_CHUNK_BYTES);
        if (n < 0) {
            rc = sd_error_set(err, SD_ERROR, "could not read the file %s to store it: %s", name,
                              strerror(errno));
            break;
        }
        if (n == 0 && chunk > 0)
            break;
        snprintf(chunk_text, sizeof chunk_text, "%ld", chunk);
        const char *values[4] = {name, chunk_text, buffer, now_text};
        rc = run(NULL, db,
                 "INSERT INTO job_files (name, chunk, data, created_ms) VALUES ($1, $2, $3, $4)", 4,
                 values, 3, (int)n, 0, err);
        if (n < FILE_STORE_CHUNK_BYTES)
            break;
    }
    if (rc == 0)
        rc = pg_command(db, "COMMIT", err);
    else
        pg_command(db, "ROLLBACK", NULL);
    free(buffer);
    return rc;
}

/* Writes every byte of `size` to fd. */
static int write_full(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        data += w;
        size -= (size_t)w;
    }
    return 0;
}

/*
 * Streams the stored file `name` into fd, chunk by chunk, in one REPEATABLE READ transaction
 * so a file replaced meanwhile is read whole, old or new. SD_ENOTFOUND when there is none.
 */
int pg_file_fetch(struct db *base, const char *name, int fd, struct sd_error *err)
{
    struct pg_db *db = (struct pg_db *)base;
    int rc = pg_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", err);
    for (long chunk = 0; rc == 0; chunk++) {
        char chunk_text[24];
        snprintf(chunk_text, sizeof chunk_text, "%ld", chunk);
        const char *values[2] = {name, chunk_text};
        PGresult *res = NULL;
        rc = run(&res, db, "SELECT data FROM job_files WHERE name = $1 AND chunk = $2", 2, values,
                 0, 0, 1, err);
        if (rc)
            break;
        if (PQntuples(res) == 0) {
            PQclear(res);
            if (chunk == 0)
                rc = sd_error_set(err, SD_ENOTFOUND, "the file %s is not stored", name);
            break;
        }
        if (write_full(fd, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) != 0)
            rc = sd_error_set(err, errno == ENOSPC ? SD_ENOSPC : SD_ERROR,
                              "could not write the fetched file %s: %s", name, strerror(errno));
        PQclear(res);
    }
    if (rc == 0)
        rc = pg_command(db, "COMMIT", err);
    else
        pg_command(db, "ROLLBACK", NULL);
    return rc;
}
