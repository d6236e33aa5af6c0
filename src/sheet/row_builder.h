/*
 * Assembles one row at a time for every backend, and enforces the per-cell and per-row
 * limits in one place. The builder keeps its memory from row to row (cells array and one
 * text arena), so a whole sheet is read with a handful of allocations.
 *
 *     row_builder_begin(&book->row);
 *     row_builder_add_string(&book->row, col, text, len, err);   // any order of columns
 *     row_builder_add_number(&book->row, col, 42.0, err);
 *     ...
 *     if (!row_builder_is_empty(&book->row)) {
 *         row_builder_finish(&book->row, row_number, &row);        // row valid until next begin
 *     }
 *
 * Text is copied into the arena. Invalid UTF-8 is replaced by U+FFFD (a defined reading
 * rather than an error). Text longer than limits.max_cell_chars code points, and a column
 * at or beyond limits.max_columns, are SD_ELIMIT errors with a sentence naming the file,
 * the cell reference and the limit. Empty strings are not added (an empty cell).
 * Cells that arrive out of column order are sorted by finish; a column given twice keeps
 * the last value.
 */
#ifndef SHEETD_SHEET_ROW_BUILDER_H
#define SHEETD_SHEET_ROW_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "sheet/sheet.h"

struct row_builder {
    const struct sheet_limits *limits; /* borrowed from the book */
    const char *display_name;          /* borrowed from the book, for error sentences */
    struct sheet_cell *cells;
    size_t ncells;
    size_t cap;
    struct buf text;      /* arena: cell text, NUL-separated */
    size_t *text_offsets; /* per cell: offset into text, (size_t)-1 when no text */
    uint32_t row_number;  /* the row being built, for error sentences */
    bool sorted;          /* cells so far arrived in strictly increasing column order */
    void *scratch;        /* sort keys, only used when cells arrive out of order */
    size_t scratch_cap;
    struct sheet_row row;
};

void row_builder_init(struct row_builder *rb, const struct sheet_limits *limits,
                      const char *display_name);
void row_builder_free(struct row_builder *rb);

/* Starts a new row (invalidates the previous one). `row_number` is 1-based and only used for
 * error sentences until finish. */
void row_builder_begin(struct row_builder *rb, uint32_t row_number);

int row_builder_add_string(struct row_builder *rb, uint32_t column, const char *text, size_t len,
                           struct sd_error *err);
/* Like row_builder_add_string for text the caller guarantees is valid UTF-8 (an XML
 * parser's output) and that outlives the row (e.g. a shared-string table): the cell points
 * at it instead of a copy. The length limit is still checked. */
int row_builder_add_string_ref(struct row_builder *rb, uint32_t column, const char *text,
                               size_t len, struct sd_error *err);
int row_builder_add_number(struct row_builder *rb, uint32_t column, double value,
                           struct sd_error *err);
int row_builder_add_bool(struct row_builder *rb, uint32_t column, bool value, struct sd_error *err);
/* unix_days: days since 1970-01-01 (fraction = time of day). */
int row_builder_add_date(struct row_builder *rb, uint32_t column, double unix_days,
                         struct sd_error *err);
/* day_fraction in [0, 1): a time of day from a time-only format. */
int row_builder_add_time(struct row_builder *rb, uint32_t column, double day_fraction,
                         struct sd_error *err);
int row_builder_add_error(struct row_builder *rb, uint32_t column, const char *text, size_t len,
                          struct sd_error *err);

bool row_builder_is_empty(const struct row_builder *rb);

/* Sorts, fixes text pointers and returns the row; *out is valid until the next begin. Also
 * checks `row_number` against limits.max_rows (SD_ELIMIT). */
int row_builder_finish(struct row_builder *rb, uint32_t row_number, const struct sheet_row **out,
                       struct sd_error *err);

#endif
