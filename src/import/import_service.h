/*
 * The import service: one spreadsheet file against one template, into the template's table.
 *
 *     struct import_options opts = IMPORT_OPTIONS_INIT;
 *     opts.job_id = job_id;                 // stored in every row's _job_id
 *     opts.progress = on_progress;          // at most one call per progress_interval_ms
 *     opts.cancelled = should_stop;         // asked between rows
 *     struct import_result *res;
 *     if (import_service_run(&res, db, tmpl, path, &opts, &err) < 0) ...   // could not run
 *     if (!import_result_success(res)) ...  // the file did not pass: res says why
 *     import_result_free(res);
 *
 * Two kinds of failure, kept apart on purpose:
 *
 *   - The FILE's fault (not a spreadsheet, no header row, missing or duplicate columns,
 *     invalid rows under all_or_nothing, a reader limit hit at row N, a row the database
 *     refused): import_service_run returns 0 and a result whose success is false and whose
 *     message says why. Nothing is written.
 *   - Anything else (the database is unreachable or busy, out of memory, the template's table
 *     is gone or was altered, the caller cancelled): a negative SD_E* code and `err`, no
 *     result, nothing written. SD_ECANCELLED for a cancellation.
 *
 * The service never prints and never keeps every error: the result holds the first
 * IMPORT_RESULT_MAX_ERRORS errors and a count, and every failed row is streamed to the error
 * report (opts.errors_out), so memory stays flat for a file with a million bad rows.
 */
#ifndef SHEETD_IMPORT_IMPORT_SERVICE_H
#define SHEETD_IMPORT_IMPORT_SERVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "import/template.h"
#include "sheet/sheet.h"
#include "store/db.h"

#define IMPORT_RESULT_MAX_ERRORS 100

/* One invalid cell (or row). Strings belong to the result. */
struct import_error {
    uint32_t row;  /* the spreadsheet's row number (header row = its own number) */
    char *column;  /* the column's header as written in the file; "" for a whole-row error */
    char *value;   /* the offending value as text; "" when the cell was empty */
    char *message; /* the predicate: "is not a valid email address" */
};

struct import_result {
    bool success;           /* the import went through (partial mode: even with failed rows) */
    bool dry_run;           /* nothing was committed */
    char *message;          /* "Imported 99,998 rows; 2 rows failed" or why the file failed */
    uint64_t rows_read;     /* data rows below the header, up to the last non-empty one */
    uint64_t imported;      /* inserted (under dry run: would have been) */
    uint64_t updated;       /* existing rows updated through the upsert key */
    uint64_t failed;        /* rows with at least one error */
    uint64_t skipped;       /* empty rows */
    char **ignored_columns; /* headers in the file that match no column */
    size_t nignored;
    struct import_error *errors; /* the first IMPORT_RESULT_MAX_ERRORS */
    size_t nerrors;
    uint64_t error_count; /* every error, including those not kept */
    uint32_t header_row;  /* 0 when no header row was found */
    int64_t duration_ms;
    bool errors_written; /* an error report was written to opts.errors_out */
};

/* Progress: rows done so far, and the total when the file says (0 when unknown). */
typedef void (*import_progress_fn)(uint64_t done, uint64_t total, void *ctx);
/* True to stop the import; nothing is then written. */
typedef bool (*import_cancelled_fn)(void *ctx);
/* Called inside the import's transaction just before it commits, with the finished result
 * (all but duration_ms): what the hook writes through `db` commits with the rows or not at
 * all. A negative return rolls everything back and becomes import_service_run's. */
typedef int (*import_before_commit_fn)(struct db *db, const struct import_result *res, void *ctx,
                                       struct sd_error *err);

struct import_options {
    unsigned version;
    const char *sheet;        /* a sheet name or 0-based index; NULL: the first visible */
    bool dry_run;             /* do everything except the commit */
    const char *job_id;       /* stored in _job_id; NULL: "cli" */
    const char *display_name; /* the file's name in messages; NULL: the path's basename */
    const char *errors_out;   /* where to write the error report XLSX; NULL: none */
    import_progress_fn progress;
    import_cancelled_fn cancelled;
    import_before_commit_fn before_commit;
    void *ctx;                         /* handed to progress, cancelled and before_commit */
    const struct sd_clock *clock;      /* NULL: the system clock */
    int64_t progress_interval_ms;      /* minimum time between progress calls */
    const struct sheet_limits *limits; /* NULL: SHEET_LIMITS_INIT */
};

#define IMPORT_OPTIONS_VERSION 1
/* The least time between two progress calls unless the caller says otherwise. */
#define IMPORT_PROGRESS_INTERVAL_MS 250
#define IMPORT_OPTIONS_INIT                                                                        \
    {                                                                                              \
        .version = IMPORT_OPTIONS_VERSION, .sheet = NULL, .dry_run = false, .job_id = NULL,        \
        .display_name = NULL, .errors_out = NULL, .progress = NULL, .cancelled = NULL,             \
        .before_commit = NULL, .ctx = NULL, .clock = NULL,                                         \
        .progress_interval_ms = IMPORT_PROGRESS_INTERVAL_MS, .limits = NULL                        \
    }

/*
 * Imports `path` into the template's table through `db` (a connection to the main
 * database, used by this thread only), in one transaction. On 0 the caller owns *out and
 * frees it with import_result_free; on a negative code *out is NULL.
 */
int import_service_run(struct import_result **out, struct db *db,
                       const struct import_template *tmpl, const char *path,
                       const struct import_options *opts, struct sd_error *err);

void import_result_free(struct import_result *res);

bool import_result_success(const struct import_result *res);

/* `Row 7, Email: "not-an-email" is not a valid email address` (appended to out). */
int import_error_format(const struct import_error *e, struct buf *out);

/*
 * The result as JSON for the status document (DESIGN.md): `result` gets
 * {"success","dry_run","rows_read","imported","updated","failed","skipped",
 *  "ignored_columns","duration_ms"} and `errors` the kept errors as
 * [{"row","column","value","message"}]. Either out-parameter may be NULL. The caller owns
 * (json_decref) what comes back.
 */
int import_result_to_json(json_t **result_out, json_t **errors_out, const struct import_result *res,
                          struct sd_error *err);

/* Writes n with thousands separators: 99998 -> "99,998". out needs 27 bytes. */
char *import_format_count(char out[32], uint64_t n);

#endif
