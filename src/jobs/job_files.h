/*
 * The files of jobs, and the one place that knows where they are:
 *
 *   uploads/<job_id>.<ext>   the spreadsheet an import reads (deleted after its final attempt)
 *   reports/<job_id>.xlsx    the error report of an import with failed rows
 *   exports/<job_id>.xlsx    an export's workbook
 *
 * Each is written into the data directory at that path first, then handed to the store
 * (job_file_store): with SQLite it stays there; with PostgreSQL it is copied into the
 * database (store/file_store.h) and the local copy removed, so a process on another machine
 * reads it (job_file_fetch, job_file_open). Callers never look at the data directory for a
 * job's file themselves.
 *
 * Reports and exports go when the job is pruned; any of these older than the retention is
 * swept even when its job is gone (an upload whose enqueue never happened).
 */
#ifndef SHEETD_JOBS_JOB_FILES_H
#define SHEETD_JOBS_JOB_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/file_store.h"

enum job_file_kind { JOB_FILE_UPLOAD, JOB_FILE_REPORT, JOB_FILE_EXPORT };

/* The directory of a kind ("uploads", "reports", "exports"). */
const char *job_file_dir(enum job_file_kind kind);

/* "<data_dir>/<dir>/<job_id>.<ext>" into out. SD_ELIMIT when it does not fit. `ext` NULL:
 * "xlsx". */
int job_file_path(char *out, size_t size, const char *data_dir, enum job_file_kind kind,
                  const char *job_id, const char *ext, struct sd_error *err);

/* Creates the three directories when missing. */
int job_files_prepare(const char *data_dir, struct sd_error *err);

/* Hands the finished local file of a job (at job_file_path) to the store: with PostgreSQL it
 * is copied into the database and the local file removed. */
int job_file_store(struct store *store, const char *data_dir, enum job_file_kind kind,
                   const char *job_id, const char *ext, struct sd_error *err);

/* Makes a job's file readable here (file_store_fetch): SD_ENOTFOUND when it is gone. The
 * caller calls file_store_local_done(out) when finished. */
int job_file_fetch(struct file_store_local *out, struct store *store, const char *data_dir,
                   enum job_file_kind kind, const char *job_id, const char *ext,
                   struct sd_error *err);

/* An open read-only descriptor of a job's file, for sending it (the caller closes it); a
 * copy fetched from the database is already unlinked. SD_ENOTFOUND when it is gone. */
int job_file_open(int *fd, struct store *store, const char *data_dir, enum job_file_kind kind,
                  const char *job_id, const char *ext, struct sd_error *err);

/* Whether a job's file is there. */
int job_file_exists(bool *out, struct store *store, const char *data_dir, enum job_file_kind kind,
                    const char *job_id, const char *ext, struct sd_error *err);

/* Removes the upload of a job (whatever its extension). Missing files are fine. */
void job_files_remove_upload(struct store *store, const char *data_dir, const char *job_id);
/* Removes every file of a job. */
void job_files_remove_all(struct store *store, const char *data_dir, const char *job_id);

/* Removes files last modified (stored) before `before_s` (Unix seconds), in the three
 * directories and in the database; *removed counts them. */
int job_files_sweep(struct store *store, const char *data_dir, int64_t before_s, size_t *removed,
                    struct sd_error *err);

/* Copies `source` to uploads/<job_id>.<ext> through a temporary name, so a worker never sees
 * half a file, and stores it (job_file_store); nothing is left behind on failure. */
int job_file_copy_upload(struct store *store, const char *data_dir, const char *job_id,
                         const char *ext, const char *source, struct sd_error *err);

/* A safe extension for an upload's name from its original file name: lowercase letters
 * and digits, 1-5 of them ("xlsx", "csv"); "bin" when the name has none. */
void job_file_extension(char out[8], const char *filename);

#endif
