/*
 * The error report: an XLSX of the failed rows only, each with its original columns (those
 * the header row names, in the file's order), then "Row" (the spreadsheet's row number) and
 * "Errors" (every problem of the row, one sentence each), the offending cells highlighted.
 * Rows are streamed to the writer as the import meets them, so a file with a million bad rows
 * costs no more memory than one with a single bad row. The file appears at `path` only when
 * error_report_close succeeds.
 */
#ifndef SHEETD_IMPORT_ERROR_REPORT_H
#define SHEETD_IMPORT_ERROR_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "import/header_match.h"
#include "sheet/sheet.h"

struct error_report;

/* Prepares the report for a file whose header is `map` (borrowed for the report's life). */
int error_report_open(struct error_report **out, const char *path, const struct header_map *map,
                      struct sd_error *err);
/*
 * Appends a failed row: its cells, the file columns to highlight (bad_columns, any order;
 * columns the header does not name are ignored) and the text for the Errors cell.
 */
int error_report_add_row(struct error_report *r, const struct sheet_row *row,
                         const uint32_t *bad_columns, size_t nbad, const char *errors,
                         struct sd_error *err);
uint64_t error_report_rows(const struct error_report *r);
/* Writes the file and frees the report in every case. */
int error_report_close(struct error_report *r, struct sd_error *err);
/* Frees the report without writing anything. NULL is fine. */
void error_report_discard(struct error_report *r);

#endif
