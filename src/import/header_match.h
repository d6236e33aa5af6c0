/*
 * Finding and mapping the header row. A matcher holds every template column's header and
 * aliases in normalized form (template_header_normalize); the import shows it each of the
 * sheet's first rows until one matches at least half the template's headers, then builds a
 * header map from that row: which file column feeds which template column, which columns
 * are unknown (ignored and reported), and the header cells as written (for messages and the
 * error report). Column order in the file does not matter.
 */
#ifndef SHEETD_IMPORT_HEADER_MATCH_H
#define SHEETD_IMPORT_HEADER_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "import/template.h"
#include "sheet/sheet.h"

/* Rows searched for the header: those numbered 1..HEADER_MATCH_MAX_ROW. */
#define HEADER_MATCH_MAX_ROW 10

struct header_matcher;

/* One cell of the header row as written in the file. */
struct header_cell {
    uint32_t column;   /* 0-based file column */
    char *text;        /* trimmed header text */
    size_t tmpl_index; /* the template column it feeds, or HEADER_UNMAPPED */
};

#define HEADER_UNMAPPED ((size_t)-1)

struct header_map {
    uint32_t row;              /* the header row's number */
    struct header_cell *cells; /* every non-empty header cell, in column order */
    size_t ncells;
    /* Per template column: the index into cells[] of its header, or HEADER_UNMAPPED. */
    size_t *by_tmpl;
    size_t ntmpl;
    uint32_t last_column; /* the largest file column in the header row */
};

int header_matcher_new(struct header_matcher **out, const struct import_template *tmpl,
                       struct sd_error *err);
void header_matcher_free(struct header_matcher *m);

/* How many distinct template columns the row's cells name; negative on SD_ENOMEM. */
int header_matcher_score(struct header_matcher *m, const struct sheet_row *row);
/* True when a score makes the row the header row (at least half the template's columns). */
int header_matcher_is_header(const struct header_matcher *m, int score);

/*
 * Builds the map from the header row. SD_EINVALID with the sentence a person needs when two
 * headers name the same column or a required column is missing (naming the missing columns
 * and listing the headers found). The caller owns *out (header_map_free).
 */
int header_map_build(struct header_map **out, struct header_matcher *m, const struct sheet_row *row,
                     struct sd_error *err);
void header_map_free(struct header_map *map);

/* The sentence for "no header row among the first rows" (appended to out). */
int header_matcher_describe_missing(const struct header_matcher *m, struct buf *out);

#endif
