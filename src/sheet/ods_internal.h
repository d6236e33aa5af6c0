/*
 * Shared by the ODS reader's files: ods_reader.c (the backend: directory scan, sheet
 * selection, row emission), ods_rows.c (the content.xml handlers that assemble rows) and
 * ods_value.c (typed values from office:* attributes). Not a public interface.
 */
#ifndef SHEETD_SHEET_ODS_INTERNAL_H
#define SHEETD_SHEET_ODS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "sheet/sheet_backend.h"
#include "sheet/xml_stream.h"
#include "sheet/zip_guard.h"

#define ODS_NS_OFFICE "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#define ODS_NS_TABLE "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
#define ODS_NS_TEXT "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
#define ODS_NS_STYLE "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
#define ODS_NS_CALCEXT "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"

/* Cells a sheet may produce through repetition (table:number-rows-repeated and
 * table:number-columns-repeated on cells with values) beyond the cells the XML really holds:
 * the guard that keeps a few bytes of XML from standing for billions of cells. */
#define ODS_REPEAT_CELL_BUDGET (1ULL << 24)

/* A cell's value as its attributes give it, before its text is known. */
enum ods_value_kind {
    ODS_VALUE_TEXT = 0, /* no usable typed value: the cell's text (if any) is a string */
    ODS_VALUE_NUMBER,   /* float, percentage, currency */
    ODS_VALUE_DATE,
    ODS_VALUE_TIME,
    ODS_VALUE_BOOL,
    ODS_VALUE_STRING_ATTR, /* office:string-value, which overrides the text */
    ODS_VALUE_ERROR,       /* calcext:value-type="error": the text is the error */
};

/* Parses an ISO 8601 duration "PT13H45M00S" ("-P1DT2H3M4.5S" too) into days; false when it
 * is not one. */
bool ods_parse_duration(const char *s, double *days);
/* Decides a cell's kind and number from its start-tag attributes. *string_value is set to
 * the office:string-value attribute (borrowed) for ODS_VALUE_STRING_ATTR. A typed value that
 * does not parse falls back to ODS_VALUE_TEXT, so the cell keeps what it displays. */
enum ods_value_kind ods_cell_value(const char **attrs, double *number, const char **string_value);
/* Parses a repeat count attribute: 1 when absent or malformed, else at least 1 (values past
 * UINT64_MAX saturate). */
uint64_t ods_parse_repeat(const char *s);

/* One run of identical cells in the row being assembled: `repeat` copies from `column`. */
struct ods_run {
    uint64_t column;
    uint64_t repeat;
    enum sheet_cell_type type;
    double number;
    size_t text_off, text_len; /* in rows.text */
};

/* The state of reading one sheet's rows from content.xml. */
struct ods_rows {
    struct xml_stream *xs;
    const struct sheet_limits *limits;
    const char *display_name;
    const char *sheet_name;
    size_t target;        /* index of the table to read among the top-level tables */
    size_t tables_seen;   /* top-level tables started so far */
    unsigned depth;       /* current element depth */
    unsigned table_depth; /* depth of the target table element, 0 when not inside it */
    unsigned open_tables; /* tables open right now; only rows of the target at level 1 count */
    bool finished;        /* the target table has ended */
    /* the row being assembled */
    bool in_row;
    uint64_t row; /* 1-based number of the current row */
    uint64_t row_repeat;
    uint64_t column; /* next column of the current row */
    struct ods_run *runs;
    size_t nruns, runs_cap;
    uint64_t row_cells; /* cells the assembled row expands to */
    struct buf text;    /* text of the runs */
    /* the cell being read */
    bool in_cell;
    unsigned cell_depth;
    uint64_t cell_repeat;
    enum ods_value_kind cell_kind;
    double cell_number;
    struct buf cell_attr_text; /* office:string-value, copied from the start tag */
    struct buf cell_text;
    bool par_has_text;   /* the open paragraph has shown a character */
    bool cell_text_full; /* past the limit: the row builder refuses it */
    unsigned paragraphs;
    unsigned par_depth;    /* depth of the open text:p/text:h, 0 when none */
    unsigned ignore_depth; /* depth of an annotation being skipped, 0 when none */
    bool pending_space;    /* collapsed white space waiting for the next character */
    /* the rows ready to hand out */
    uint64_t emit_left;
    uint64_t emit_row;
    /* the repetition budget: work one emission of the row costs, what the XML itself holds,
     * and the work produced by repetition so far (cells, plus text copied with them and
     * spaces from text:s) */
    uint64_t row_cost, row_base_cost;
    uint64_t generated;
    bool row_ready; /* a row ended with values: stop the parser */
};

int ods_rows_start(struct ods_rows *r, struct zip_guard *zg, uint64_t content_index, size_t target,
                   struct sd_error *err);
void ods_rows_stop(struct ods_rows *r);
/* Runs the parser until a row with values ends (1), the sheet ends (0) or an error. */
int ods_rows_pull(struct ods_rows *r, struct sd_error *err);

#endif
