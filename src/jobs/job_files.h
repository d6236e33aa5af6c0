/*
 * Where a job's files live in the data directory:
 *
 *   uploads/<job_id>.<ext>   the spreadsheet an import reads (deleted after its final attempt)
 *   reports/<job_id>.xlsx    the error report of an import with failed rows
 *   exports/<job_id>.xlsx    an export's workbook
 *
 * Reports and exports go when the job is pruned; any of these older than the retention is
 * swept even when its job is gone (an upload whose enqueue never happened).
 */
#ifndef SHEETD_JOBS_JOB_FILES_H
#define SHEETD_JOBS_JOB_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum job_file_kind { JOB_FILE_UPLOAD, JOB_FILE_REPORT, JOB_FILE_EXPORT };

/* The directory of a kind ("uploads", "reports", "exports"). */
const char *job_file_dir(enum job_file_kind kind);

/* "<data_dir>/<dir>/<job_id>.<ext>" into out. SD_ELIMIT when it does not fit. `ext` NULL:
 * "xlsx". */
int job_file_path(char *out, size_t size, const char *data_dir, enum job_file_kind kind,
                  const char *job_id, const char *ext, struct sd_error *err);

/* Creates the three directories when missing. */
int job_files_prepare(const char *data_dir, struct sd_error *err);

/* Removes the upload of a job (whatever its extension). Missing files are fine. */
void job_files_remove_upload(const char *data_dir, const char *job_id);
/* Removes every file of a job. */
void job_files_remove_all(const char *data_dir, const char *job_id);

/* Removes files in the three directories last modified before `before_s` (Unix seconds);
 * *removed counts them. */
int job_files_sweep(const char *data_dir, int64_t before_s, size_t *removed, struct sd_error *err);

/* Copies `source` to uploads/<job_id>.<ext> through a temporary name, so a worker never sees
 * half a file; nothing is left behind on failure. */
int job_file_copy_upload(const char *data_dir, const char *job_id, const char *ext,
                         const char *source, struct sd_error *err);

/* A safe extension for an upload's name from its original file name: lowercase letters
 * and digits, 1-5 of them ("xlsx", "csv"); "bin" when the name has none. */
void job_file_extension(char out[8], const char *filename);

#endif
