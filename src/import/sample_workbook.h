/*
 * The sample workbook: for a template, an XLSX a newcomer can upload at once to see what an
 * import does. Under the template's headers come a few VALID rows (values made from each
 * column's type and rules: an enum's values, numbers within min/max, text within max_length,
 * text that matches the pattern, distinct values where a column is unique or in the upsert
 * key) and then a few INVALID rows, each broken in exactly one cell in a way people often
 * get wrong: an invalid email address, a number out of range, a missing required value (and,
 * when a template has none of those, a value outside an enum's list, text that misses the
 * pattern or is too long, a date that is not one, a boolean that is not one).
 *
 * Imported in partial mode, the valid rows are written and each invalid row fails with one
 * error; under all_or_nothing the whole file fails with the same row errors.
 */
#ifndef SHEETD_IMPORT_SAMPLE_WORKBOOK_H
#define SHEETD_IMPORT_SAMPLE_WORKBOOK_H

#include <stdint.h>

#include "base/error.h"
#include "import/template.h"

/* Rows the workbook holds at most, of each kind. */
#define SAMPLE_WORKBOOK_VALID_ROWS 5
#define SAMPLE_WORKBOOK_INVALID_ROWS 3

struct sample_workbook_info {
    uint32_t valid_rows;   /* fewer than SAMPLE_WORKBOOK_VALID_ROWS only when a unique column
                              cannot hold that many distinct values (a unique boolean: 2) */
    uint32_t invalid_rows; /* 0 when no column can be broken (only optional free text) */
};

/*
 * Writes the sample workbook for `tmpl` to out_path (replaced if it exists; nothing is left
 * there on failure). `info` (may be NULL) says how many rows of each kind were written, so a
 * caller can say what the import will show. Needs no database.
 */
int sample_workbook_write(const struct import_template *tmpl, const char *out_path,
                          struct sample_workbook_info *info, struct sd_error *err);

#endif
