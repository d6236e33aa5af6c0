/*
 * Exporting a template's table to XLSX, and the blank template workbook people fill in.
 *
 * export_service_run writes every row of the table (ordered by id) under the template's
 * headers, with typed cells (numbers as numbers, dates as dates, booleans as booleans), a
 * bold frozen header row and an autofilter, streaming through libxlsxwriter's constant-memory
 * mode: memory does not grow with the number of rows. The file is written to a temporary
 * name beside out_path and renamed into place only when complete, so a failed or cancelled
 * export never leaves a half-written file under out_path.
 */
#ifndef SHEETD_IMPORT_EXPORT_SERVICE_H
#define SHEETD_IMPORT_EXPORT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/error.h"
#include "import/template.h"
#include "store/db.h"

struct export_result {
    uint64_t rows;
    int64_t duration_ms;
};

typedef void (*export_progress_fn)(uint64_t done, uint64_t total, void *ctx);
typedef bool (*export_cancelled_fn)(void *ctx);

struct export_options {
    unsigned version;
    export_progress_fn progress;   /* at most one call per progress_interval_ms */
    export_cancelled_fn cancelled; /* asked between rows; SD_ECANCELLED, no file left */
    void *ctx;
    const struct sd_clock *clock; /* NULL: the system clock */
    int64_t progress_interval_ms;
    const char *sheet_name; /* NULL: the template's name (cut to Excel's 31 characters) */
};

#define EXPORT_OPTIONS_VERSION 1
/* The least time between two progress calls unless the caller says otherwise. */
#define EXPORT_PROGRESS_INTERVAL_MS 250
#define EXPORT_OPTIONS_INIT                                                                        \
    {                                                                                              \
        .version = EXPORT_OPTIONS_VERSION, .progress = NULL, .cancelled = NULL, .ctx = NULL,       \
        .clock = NULL, .progress_interval_ms = EXPORT_PROGRESS_INTERVAL_MS, .sheet_name = NULL     \
    }

/* Fills *out (caller's struct) on success. SD_ENOTFOUND / SD_EINVALID when the table is
 * gone or altered, SD_ERROR for I/O, SD_ECANCELLED when cancelled. */
int export_service_run(struct export_result *out, struct db *db, const struct import_template *tmpl,
                       const char *out_path, const struct export_options *opts,
                       struct sd_error *err);

#endif
