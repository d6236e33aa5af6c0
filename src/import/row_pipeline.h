/*
 * A row pipeline: rows read and decoded on a second thread, handed to the caller in batches
 * through a bounded queue, so that reading a spreadsheet and converting, validating and
 * writing its rows run at the same time on two cores.
 *
 *     struct row_pipeline *p;
 *     struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
 *     if (row_pipeline_start(&p, source_fn, book, &po, &err) < 0) ...
 *     const struct sheet_row *row;
 *     while ((rc = row_pipeline_next(p, &row, &err)) == 1) { ... row->cells ... }
 *     row_pipeline_stop(p);   // always: after the end, after an error, or to cancel early
 *
 * The source is any function with sheet_next_row's contract (1 and a row, 0 at the end, or a
 * negative code with `err` filled; the row is valid until the next call). Between start and
 * stop the source and whatever it reads (the sheet_book) belong to the pipeline's thread: the
 * caller must not touch them. row_pipeline_next has the same contract as sheet_next_row, so
 * a loop over one is a loop over the other: the row it returns is the pipeline's copy and
 * stays valid until the next call to row_pipeline_next or row_pipeline_stop.
 *
 * Memory is bounded by the options, not by the file: `batches` batches of at most
 * `batch_rows` rows each, a batch being handed over early once its cells and their text take
 * `batch_bytes` (a batch always takes at least one row, however large). The defaults hold
 * about 3 MiB.
 */
#ifndef SHEETD_IMPORT_ROW_PIPELINE_H
#define SHEETD_IMPORT_ROW_PIPELINE_H

#include <stddef.h>

#include "base/error.h"
#include "sheet/sheet.h"

/* sheet_next_row's contract; ctx is the source_ctx given to row_pipeline_start. */
typedef int (*row_source_fn)(void *ctx, const struct sheet_row **out, struct sd_error *err);

struct row_pipeline_options {
    unsigned version;
    size_t batch_rows;  /* rows per batch, >= 1 */
    size_t batch_bytes; /* a batch is handed over once its cells and text take this much */
    size_t batches;     /* batches in flight, >= 2 (one read, one being filled) */
};

#define ROW_PIPELINE_OPTIONS_VERSION 1
#define ROW_PIPELINE_OPTIONS_INIT                                                                  \
    {                                                                                              \
        .version = ROW_PIPELINE_OPTIONS_VERSION, .batch_rows = 1024, .batch_bytes = 1u << 20,      \
        .batches = 3                                                                               \
    }

struct row_pipeline;

/*
 * Allocates the batches and starts the reading thread, which begins calling `source` at
 * once. SD_EUSAGE for options out of range, SD_ENOMEM, or SD_ERROR when no thread could be
 * started. The caller owns *out and must end it with row_pipeline_stop.
 */
int row_pipeline_start(struct row_pipeline **out, row_source_fn source, void *source_ctx,
                       const struct row_pipeline_options *opts, struct sd_error *err);

/*
 * The next row, in the source's order: 1 and *out set; 0 when the source is exhausted; or the
 * source's negative code and sentence (SD_ENOMEM when copying a row ran out of memory), once
 * every row read before the failure has been returned. After 0 or an error, every further
 * call returns the same.
 */
int row_pipeline_next(struct row_pipeline *p, const struct sheet_row **out, struct sd_error *err);

/* Stops the reading thread (it finishes the row it is reading, if any), waits for it, and
 * frees everything. The source is the caller's again afterwards. NULL is ignored. */
void row_pipeline_stop(struct row_pipeline *p);

#endif
