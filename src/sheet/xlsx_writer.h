/*
 * DESIGN
 * ------
 * The XLSX writer behind exports and import error reports: a thin, safe layer over
 * libxlsxwriter in `constant_memory` mode, so a million-row export costs a few kilobytes of
 * memory (libxlsxwriter streams each sheet to a temporary file in opts.tmpdir and zips them at
 * close). Use it like this:
 *
 *     struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
 *     o.path = "var/exports/3f9a.xlsx";
 *     o.tmpdir = "var/tmp";                       // the data dir, not /tmp
 *     struct xlsx_writer *w;
 *     if (xlsx_writer_open(&w, &o, &err) < 0) ...
 *     xlsx_writer_add_sheet(w, "Customers", &err);
 *     struct xlsx_column cols[] = {{"Email", 0}, {"Signup Date", 14}};
 *     xlsx_writer_set_columns(w, cols, 2, &err);
 *     xlsx_writer_write_header(w, &err);          // row 1: bold, frozen, autofilter
 *     xlsx_writer_add_validation(w, &v, &err);    // any time while the sheet is current
 *     while (...) {
 *         xlsx_writer_begin_row(w, &err);         // rows 2, 3, ... in order
 *         xlsx_writer_write_string(w, 0, email, strlen(email), &err);
 *         xlsx_writer_write_date(w, 1, unix_days, &err);
 *         xlsx_writer_highlight(w, 0, &err);     // error report: mark the offending cell
 *     }
 *     if (xlsx_writer_close(w, &err) < 0) ...     // frees w in every case
 *
 * Rules the writer enforces so that libxlsxwriter's quirks never reach a file:
 *
 *  - Rows only move forward (constant_memory requires it). Within the current row cells may
 *    be written in any column order and highlighted before or after their value: the writer
 *    buffers one row and hands it to libxlsxwriter when the next row begins.
 *  - Strings are always strings: "=1+1" is written as the text "=1+1", never as a formula.
 *    Invalid UTF-8 is replaced by U+FFFD. Text longer than Excel's 32,767 characters is
 *    TRUNCATED to 32,767 code points (an export must not fail on one long value); the number
 *    of truncated cells is available from xlsx_writer_truncated_cells.
 *  - Numbers must be finite: NaN and infinities are SD_EINVALID (a cell cannot hold them).
 *  - Dates are days since 1970-01-01 (as in sheet.h), written as Excel serials with the
 *    format "yyyy-mm-dd" (whole days) or "yyyy-mm-dd hh:mm:ss" (with a time of day); times
 *    use "hh:mm:ss". A date Excel cannot show (before 1900-01-01 or after 9999-12-31) is
 *    SD_EINVALID.
 *  - Sheet names must follow Excel's rules (1-31 characters, none of []:*?/\, not starting
 *    or ending with an apostrophe, unique ignoring ASCII case, not "History");
 *    xlsx_writer_sheet_name turns any text into such a name.
 *  - List validations never reach libxlsxwriter as a value list (1.1.4 overflows on long or
 *    many-item lists): a short list is written as an inline list formula ("a,b,c", at most
 *    255 characters, no item holding a comma or a quote or surrounding spaces); any other list
 *    goes onto one row of a hidden sheet named XLSX_WRITER_LISTS_SHEET and the validation
 *    refers to that range.
 *    libxlsxwriter 1.1.4 leaks one copy of a list validation's formula (a few dozen bytes
 *    per list, inside worksheet_data_validation_range). Test binaries that add list
 *    validations under LeakSanitizer define
 *        const char *__lsan_default_suppressions(void) {
 *            return "leak:worksheet_data_validation_range\n"; }
 *        const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }
 *    (the full unwind lets the suppression see the library frame).
 *  - At most XLSX_WRITER_MAX_VALIDATIONS validations per sheet (libxlsxwriter counts them in
 *    eight bits). Input/error titles are cut to 32 characters and messages to 255, Excel's
 *    limits.
 *
 * The file appears at opts.path only when close succeeds: the workbook is written to
 * "<path>.part" and renamed, so a reader never sees half a file. Errors are one sentence
 * (libxlsxwriter's own error string for failures inside the library).
 *
 * Rows and columns: rows are 1-based as Excel shows them (the header is row 1), columns are
 * 0-based (A = 0) as in struct sheet_cell.
 */
#ifndef SHEETD_SHEET_XLSX_WRITER_H
#define SHEETD_SHEET_XLSX_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sheet/sheet.h"

#define XLSX_WRITER_MAX_ROWS 1048576u
#define XLSX_WRITER_MAX_COLUMNS 16384u
#define XLSX_WRITER_MAX_CELL_CHARS 32767u
#define XLSX_WRITER_MAX_VALIDATIONS 255u
/* Bytes that always hold a sheet name produced by xlsx_writer_sheet_name (31 code points of
 * up to 4 bytes, and the NUL). */
#define XLSX_WRITER_SHEET_NAME_SIZE 128u
/* The hidden sheet holding long validation lists; user sheets may not take this name. */
#define XLSX_WRITER_LISTS_SHEET "_sheetd_lists"

struct xlsx_writer_options {
    unsigned version;
    const char *path;   /* the .xlsx to create (replaced if it exists); required */
    const char *tmpdir; /* libxlsxwriter's temporary files; NULL = the system default */
};

#define XLSX_WRITER_OPTIONS_VERSION 1
#define XLSX_WRITER_OPTIONS_INIT                                                                   \
    {                                                                                              \
        .version = XLSX_WRITER_OPTIONS_VERSION, .path = NULL, .tmpdir = NULL                       \
    }

struct xlsx_column {
    const char *header; /* text of the header cell; NULL or "" for none */
    /* Width in Excel character units; 0 = automatic: the longest text written to the column
     * (header included) plus 2, between 8 and 60. */
    double width;
};

enum xlsx_validation_kind {
    XLSX_VALIDATE_LIST = 1,    /* one of items[] (a dropdown) */
    XLSX_VALIDATE_DATE,        /* a date, optionally within [min, max] in days since 1970 */
    XLSX_VALIDATE_INTEGER,     /* a whole number, optionally within [min, max] */
    XLSX_VALIDATE_DECIMAL,     /* any number, optionally within [min, max] */
    XLSX_VALIDATE_TEXT_LENGTH, /* text whose length is within [min, max]; needs a bound */
};

struct xlsx_validation {
    unsigned version;
    enum xlsx_validation_kind kind;
    uint32_t column;          /* 0-based */
    uint32_t first_row;       /* 1-based; 0 = row 2 (just below the header) */
    uint32_t last_row;        /* 1-based, inclusive; 0 = the last row Excel has (1,048,576) */
    const char *const *items; /* LIST: the allowed values (non-empty, at most 16,384) */
    size_t nitems;
    bool has_min, has_max;
    double min, max;         /* inclusive bounds (dates: days since 1970-01-01) */
    const char *input_title; /* shown when the cell is selected; NULL for none */
    const char *input_message;
    const char *error_title; /* shown when a wrong value is typed; NULL = Excel's default */
    const char *error_message;
};

#define XLSX_VALIDATION_VERSION 1
#define XLSX_VALIDATION_INIT                                                                       \
    {                                                                                              \
        .version = XLSX_VALIDATION_VERSION, .kind = XLSX_VALIDATE_LIST                             \
    }

struct xlsx_writer;

/* Prepares a workbook. Nothing is written to opts->path until xlsx_writer_close. The caller
 * owns *out and must pass it to xlsx_writer_close (write it) or xlsx_writer_free (discard). */
int xlsx_writer_open(struct xlsx_writer **out, const struct xlsx_writer_options *opts,
                     struct sd_error *err);

/* Writes the file and frees the writer, whatever happens. SD_ERROR with a sentence naming the
 * file (and libxlsxwriter's reason) when the workbook cannot be written; no file is left at
 * opts->path then. A workbook without sheets gets one empty sheet "Sheet1". */
int xlsx_writer_close(struct xlsx_writer *w, struct sd_error *err);

/* Discards the workbook without writing anything and frees the writer. NULL is fine. */
void xlsx_writer_free(struct xlsx_writer *w);

/* Turns any text into a valid, non-empty sheet name in out: forbidden characters become '_',
 * leading/trailing apostrophes are dropped, the name is cut to 31 characters, and an empty
 * result becomes "Sheet". Uniqueness is the caller's concern. */
void xlsx_writer_sheet_name(const char *text, char out[XLSX_WRITER_SHEET_NAME_SIZE]);

/* Adds a worksheet and makes it current: later calls write to it. The previous sheet is
 * finished and can no longer be written. SD_EINVALID when the name breaks Excel's rules or is
 * taken. */
int xlsx_writer_add_sheet(struct xlsx_writer *w, const char *name, struct sd_error *err);

/* Declares the current sheet's columns (copied; at most 16,384): headers and widths. Call it
 * before writing any row. */
int xlsx_writer_set_columns(struct xlsx_writer *w, const struct xlsx_column *cols, size_t ncols,
                            struct sd_error *err);

/* Writes the declared headers as row 1 in bold, freezes the panes below it and puts an
 * autofilter over the header and every row written (the range is fixed at the end of the
 * sheet). Must come before any other row. */
int xlsx_writer_write_header(struct xlsx_writer *w, struct sd_error *err);

/* How every table sheetd writes starts: opens the workbook, adds one sheet named after `title`
 * (made valid by xlsx_writer_sheet_name), declares the columns and writes their header row.
 * On 0 the caller owns *out as with xlsx_writer_open; on failure *out is NULL and nothing is
 * left behind. */
int xlsx_writer_open_table(struct xlsx_writer **out, const struct xlsx_writer_options *opts,
                           const char *title, const struct xlsx_column *cols, size_t ncols,
                           struct sd_error *err);

/* Starts the next row (row 1 when nothing was written, else one below the current row) and
 * returns 0; SD_ELIMIT past row 1,048,576. */
int xlsx_writer_begin_row(struct xlsx_writer *w, struct sd_error *err);
/* The 1-based number of the current row, 0 before the first. */
uint32_t xlsx_writer_current_row(const struct xlsx_writer *w);

/* Cell writers for the current row. Writing a column twice keeps the last value. */
int xlsx_writer_write_string(struct xlsx_writer *w, uint32_t column, const char *text, size_t len,
                             struct sd_error *err);
int xlsx_writer_write_number(struct xlsx_writer *w, uint32_t column, double value,
                             struct sd_error *err);
int xlsx_writer_write_bool(struct xlsx_writer *w, uint32_t column, bool value,
                           struct sd_error *err);
/* unix_days: days since 1970-01-01, the fraction is the time of day. */
int xlsx_writer_write_date(struct xlsx_writer *w, uint32_t column, double unix_days,
                           struct sd_error *err);
/* day_fraction in [0, 1). */
int xlsx_writer_write_time(struct xlsx_writer *w, uint32_t column, double day_fraction,
                           struct sd_error *err);
/* Writes a cell as a reader returned it (string, number, bool, date, time; an error cell is
 * written as its text, e.g. "#N/A", in a string cell). */
int xlsx_writer_write_cell(struct xlsx_writer *w, uint32_t column, const struct sheet_cell *cell,
                           struct sd_error *err);

/* Fills a cell of the current row with a light red background and dark red text (Excel's
 * "Bad" colours), before or after its value is written; an empty highlighted cell is written
 * as a blank styled cell (a missing required value). */
int xlsx_writer_highlight(struct xlsx_writer *w, uint32_t column, struct sd_error *err);

/* Adds a data validation to the current sheet. SD_EINVALID for a malformed rule (empty list,
 * min > max, a text length rule without bounds, rows out of order), SD_ELIMIT past
 * XLSX_WRITER_MAX_VALIDATIONS on one sheet or 16,384 list items. */
int xlsx_writer_add_validation(struct xlsx_writer *w, const struct xlsx_validation *v,
                               struct sd_error *err);

/* Cells whose text was cut to 32,767 characters so far. */
uint64_t xlsx_writer_truncated_cells(const struct xlsx_writer *w);

#endif
