/*
 * State shared by the parts of the XLSX writer: xlsx_writer.c (workbook, sheets, rows,
 * cells), xlsx_writer_validate.c (data validations and the hidden list sheet) and
 * xlsx_writer_text.c (cell text and sheet names). Not part of the public interface.
 */
#ifndef SHEETD_SHEET_XLSX_WRITER_INTERNAL_H
#define SHEETD_SHEET_XLSX_WRITER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xlsxwriter.h>

#include "base/buf.h"
#include "base/error.h"
#include "sheet/xlsx_writer.h"

enum xlsx_value_kind {
    XLSX_VALUE_NONE = 0, /* only highlighted: a styled blank */
    XLSX_VALUE_STRING,
    XLSX_VALUE_NUMBER,
    XLSX_VALUE_BOOL,
    XLSX_VALUE_DATE,
    XLSX_VALUE_DATETIME,
    XLSX_VALUE_TIME,
};

/* Number formats, one lxw_format per (style, format) pair. */
enum xlsx_numfmt {
    XLSX_NUMFMT_GENERAL = 0,
    XLSX_NUMFMT_DATE,
    XLSX_NUMFMT_DATETIME,
    XLSX_NUMFMT_TIME,
    XLSX_NUMFMT_COUNT
};

/* One cell of the buffered current row. */
struct xlsx_pending_cell {
    uint32_t column;
    enum xlsx_value_kind kind;
    bool highlight;
    double number;   /* numbers, booleans, and serials for dates and times */
    size_t text_off; /* STRING: sanitized text in the row arena */
    size_t text_len;
};

/* The sheet being written. Everything here is reset by the next xlsx_writer_add_sheet. */
struct xlsx_sheet_state {
    lxw_worksheet *ws;
    char **headers; /* ncols owned strings (NULL for none) */
    double *widths; /* ncols requested widths, 0 = automatic */
    size_t ncols;
    double *seen_width;          /* per column: longest text seen, in characters */
    size_t nseen;                /* allocated entries of seen_width */
    uint32_t max_column_written; /* +1; 0 when nothing was written */
    uint32_t row;                /* current row, 1-based; 0 before the first */
    bool header_written;
    unsigned nvalidations;
    /* the buffered current row */
    struct xlsx_pending_cell *cells;
    size_t ncells, cells_cap;
    int32_t *slot_of_column; /* column -> index in cells, -1 when absent */
    size_t nslots;
    struct buf text;
};

struct xlsx_writer {
    lxw_workbook *wb;
    char *path;                                /* where the finished file goes */
    char *part_path;                           /* where libxlsxwriter writes it */
    lxw_format *formats[2][XLSX_NUMFMT_COUNT]; /* [highlight][numfmt] */
    lxw_format *header_format;
    char **sheet_names; /* every sheet added, for the uniqueness rule */
    size_t nsheets;
    bool has_sheet;
    struct xlsx_sheet_state sheet;
    lxw_worksheet *lists_ws; /* the hidden sheet of long validation lists, once needed */
    uint32_t lists_rows;
    uint64_t truncated;
    struct buf scratch;
};

/* Appends `text[0..len)` to out as text a cell may hold: invalid UTF-8 and the non-characters
 * XML refuses become U+FFFD, NUL becomes U+FFFD, literal `_xHHHH_` sequences are escaped as
 * `_x005F_xHHHH_` when escape_x (so readers do not decode them) and the result stops at
 * max_chars code points, never inside a character or an escape. Returns 1 when text was cut,
 * 0 when not, SD_ENOMEM. */
int xlsx_writer_sanitize(struct buf *out, const char *text, size_t len, size_t max_chars,
                         bool escape_x);

/* Excel's sheet name rules (and uniqueness within w), each broken rule its own sentence:
 * SD_EINVALID. */
int xlsx_writer_check_sheet_name(struct xlsx_writer *w, const char *name, struct sd_error *err);

/* Error sentence for a failing libxlsxwriter call. */
int xlsx_writer_lxw_error(struct xlsx_writer *w, lxw_error code, const char *what,
                          struct sd_error *err);

#endif
