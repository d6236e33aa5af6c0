/*
 * DESIGN
 * ------
 * One streaming row iterator over every spreadsheet format sheetd reads (xlsx/xlsm, xls,
 * ods, csv/tsv). A caller opens a file, looks at its sheets, selects one, and pulls rows:
 *
 *     struct sheet_book *book;
 *     struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
 *     if (sheet_open(&book, path, &opts, &err) < 0) ...
 *     if (sheet_select_default(book, &err) < 0) ...
 *     const struct sheet_row *row;
 *     while ((rc = sheet_next_row(book, &row, &err)) == 1) { ... row->cells ... }
 *     sheet_close(book);
 *
 * Memory never grows with the number of rows: a row and the text of its cells live in the
 * book and are valid only until the next call to sheet_next_row (or sheet_close). Rows with
 * no non-empty cell are skipped, so row numbers may jump; cells are sparse too (empty cells
 * are not reported) and come in increasing column order.
 *
 * The format is detected from the bytes, never from the extension: a zip holding
 * `[Content_Types].xml` is OOXML, a zip with an ODF `mimetype` is ODS, an OLE2 header is
 * XLS, anything else that is text is CSV/TSV. Each format is a backend with a table of
 * function pointers (struct sheet_backend_ops in sheet_backend.h), SQLite-style.
 *
 * Every limit against hostile files is in struct sheet_limits; breaking one is SD_ELIMIT
 * with a sentence naming the file and the limit.
 */
#ifndef SHEETD_SHEET_SHEET_H
#define SHEETD_SHEET_SHEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum sheet_format {
    SHEET_FORMAT_XLSX = 1, /* also xlsm: any OOXML spreadsheet package */
    SHEET_FORMAT_XLS,
    SHEET_FORMAT_ODS,
    SHEET_FORMAT_CSV, /* csv and tsv: the delimiter is sniffed */
};

enum sheet_cell_type {
    SHEET_CELL_STRING = 1, /* text/text_len */
    SHEET_CELL_NUMBER,     /* number */
    SHEET_CELL_BOOL,       /* number is 0 or 1 */
    SHEET_CELL_DATE,       /* number: days since 1970-01-01 00:00 (fraction = time of day) */
    SHEET_CELL_TIME,       /* number: fraction of a day, from a time-only number format */
    SHEET_CELL_ERROR,      /* text: "#N/A", "#DIV/0!", ... */
};

struct sheet_cell {
    uint32_t column; /* 0-based: A = 0 */
    enum sheet_cell_type type;
    double number;
    const char *text; /* NUL-terminated UTF-8 for STRING and ERROR, else NULL */
    size_t text_len;
};

struct sheet_row {
    uint32_t number; /* 1-based, as the spreadsheet shows it */
    size_t ncells;
    const struct sheet_cell *cells;
};

struct sheet_info {
    const char *name;
    bool visible;
};

struct sheet_limits {
    uint64_t max_total_uncompressed; /* sum over all zip entries actually inflated */
    uint64_t max_entry_uncompressed; /* one zip entry */
    uint32_t max_compression_ratio;  /* inflated bytes / compressed bytes, counted as read */
    uint32_t max_zip_entries;
    uint32_t max_xml_depth;
    uint32_t max_cell_chars; /* characters (code points) in one cell's text */
    uint32_t max_columns;
    uint32_t max_rows;
};

#define SHEET_LIMITS_DEFAULT_TOTAL (4ULL << 30) /* 4 GiB */
#define SHEET_LIMITS_DEFAULT_ENTRY (2ULL << 30) /* 2 GiB */
#define SHEET_LIMITS_INIT                                                                          \
    {                                                                                              \
        .max_total_uncompressed = SHEET_LIMITS_DEFAULT_TOTAL,                                      \
        .max_entry_uncompressed = SHEET_LIMITS_DEFAULT_ENTRY, .max_compression_ratio = 1000,       \
        .max_zip_entries = 10000, .max_xml_depth = 256, .max_cell_chars = 32767,                   \
        .max_columns = 16384, .max_rows = 1048576                                                  \
    }

struct sheet_open_options {
    unsigned version;
    struct sheet_limits limits;
    /* The name used in error sentences ("orders.xlsx ..."); defaults to the path's basename.
     * Useful when the file on disk is an upload with a generated name. */
    const char *display_name;
};

#define SHEET_OPEN_OPTIONS_VERSION 1
#define SHEET_OPEN_OPTIONS_INIT                                                                    \
    {                                                                                              \
        .version = SHEET_OPEN_OPTIONS_VERSION, .limits = SHEET_LIMITS_INIT, .display_name = NULL   \
    }

struct sheet_book;

/* Opens a workbook and reads its directory (sheet list, shared strings, styles). The caller
 * owns *out and releases it with sheet_close. */
int sheet_open(struct sheet_book **out, const char *path, const struct sheet_open_options *opts,
               struct sd_error *err);
void sheet_close(struct sheet_book *book);

/* Decides from the file's first bytes (and, for a zip, its entry names) whether it is a
 * spreadsheet sheet_open can read, without reading any cells: the same detector sheet_open
 * uses. 0 and *format set, or SD_EINVALID with a sentence such as "x.pdf is not a
 * spreadsheet: it looks like a PDF document" (or "x.xlsx is empty"), SD_ENOTFOUND/SD_ERROR
 * when the file cannot be read. `display_name` names the file in the sentence (an upload's
 * original name); NULL uses the path's basename. */
int sheet_sniff_file(const char *path, const char *display_name, enum sheet_format *format,
                     struct sd_error *err);

enum sheet_format sheet_book_format(const struct sheet_book *book);
const char *sheet_format_name(enum sheet_format format); /* "xlsx", "xls", "ods", "csv" */

size_t sheet_count(const struct sheet_book *book);
/* Borrowed; valid until sheet_close. idx < sheet_count. */
const struct sheet_info *sheet_get_info(const struct sheet_book *book, size_t idx);

/* Choose the sheet rows come from: by 0-based index, by exact name, or by a user's
 * `--sheet` argument (a sheet's name when one has it, else a 0-based index when it is all
 * digits). sheet_select_default picks the first visible sheet. Selecting restarts
 * the row stream at the top of that sheet. SD_ENOTFOUND with a sentence listing the sheets
 * when there is no such sheet. */
int sheet_select_index(struct sheet_book *book, size_t idx, struct sd_error *err);
int sheet_select_name(struct sheet_book *book, const char *name, struct sd_error *err);
int sheet_select_arg(struct sheet_book *book, const char *name_or_index, struct sd_error *err);
int sheet_select_default(struct sheet_book *book, struct sd_error *err);

/* 1 and *out set: a row; 0: the sheet has no more rows; negative: an error. */
int sheet_next_row(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err);

/* Rows the selected sheet claims to hold (its dimension or a CSV's size estimate), or 0 when
 * unknown. Only a hint for progress bars: never trusted for allocation. */
uint64_t sheet_row_count_hint(const struct sheet_book *book);

/* For CSV: the sniffed delimiter (',' ';' '\t' '|'); 0 for other formats. The importer reads
 * "1.234,50" as a number only in semicolon-delimited files. */
char sheet_csv_delimiter(const struct sheet_book *book);

/* For spreadsheets: true when the workbook uses the 1904 date system (already applied to
 * SHEET_CELL_DATE values; exposed for diagnostics). */
bool sheet_uses_1904(const struct sheet_book *book);

#endif
