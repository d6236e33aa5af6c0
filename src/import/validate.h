/*
 * Validation: converts each cell (cell_convert.c), applies the column's rules (required,
 * min, max, max_length, pattern, email, enum) and, once a row's cells have all passed, the
 * within-file rules (`unique` columns and the upsert key). Owns every message people read
 * about a value; the messages are stable because tests and users' scripts pin them.
 *
 * A message is the predicate only ("is not a valid email address"); import_error_format
 * puts the row, the header and the value in front of it.
 */
#ifndef SHEETD_IMPORT_VALIDATE_H
#define SHEETD_IMPORT_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "import/cell_convert.h"
#include "import/template.h"

/* Text longer than this is not run through a column's pattern (regexec time grows with it). */
#define VALIDATE_PATTERN_MAX_BYTES 4096

struct validator;

int validator_new(struct validator **out, const struct import_template *tmpl,
                  const struct convert_context *ctx, struct sd_error *err);
void validator_free(struct validator *v);

/*
 * Converts and checks the cell (NULL when empty) of template column `col` into *out.
 * 0: valid; 1: invalid, with the predicate written into msg (cleared first); SD_ENOMEM.
 */
int validator_check_cell(struct validator *v, size_t col, const struct sheet_cell *cell,
                         struct cell_value *out, struct buf *msg);

/* Called for each duplicate found by validator_check_row: the template column and the
 * predicate. Returns 0 or a negative code (which stops the check). */
typedef int (*validator_report_fn)(void *ctx, size_t col, const char *message);

/*
 * The within-file rules for a row whose cells all passed (values has one entry per template
 * column). Returns how many duplicates it reported (the row then fails and none of its values
 * is remembered), 0 when the row is unique (its values are remembered), or a negative code.
 * Memory grows with the distinct values seen (unique_set.h).
 */
int validator_check_row(struct validator *v, const struct cell_value *values, uint32_t row,
                        validator_report_fn report, void *ctx);

#endif
