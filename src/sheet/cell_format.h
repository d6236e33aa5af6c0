/*
 * The text forms of cell values, exactly as DESIGN.md's `sheetd read --format cells`
 * contract defines them; also used by CSV output, the importer's messages and the tests.
 */
#ifndef SHEETD_SHEET_CELL_FORMAT_H
#define SHEETD_SHEET_CELL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "sheet/sheet.h"

/* 's' 'n' 'b' 'd' 'e' (dates and times are both 'd'). */
char cell_format_type_letter(enum sheet_cell_type type);

/* Column index to letters: 0 -> "A", 26 -> "AA". out needs 4 bytes for 16,384 columns. */
void cell_format_column_name(uint32_t column, char out[8]);
/* "E2"; returns its length. */
size_t cell_format_ref(uint32_t column, uint32_t row, char out[16]);

/* Numbers are written by number_format (base/number.h), the contract's spelling. */

/* YYYY-MM-DD when the time of day is zero, else YYYY-MM-DDTHH:MM:SS (rounded to the
 * second). */
void cell_format_date(double unix_days, char out[32]);
/* HH:MM:SS from a fraction of a day (rounded to the second). */
void cell_format_time(double day_fraction, char out[16]);

/* Appends the cell's value text (unescaped) to out: string/error text, number, TRUE/FALSE,
 * date or time. Returns 0 or SD_ENOMEM. */
int cell_format_value(const struct sheet_cell *cell, struct buf *out);

/* Appends text with `\` TAB LF CR written as `\\` `\t` `\n` `\r` (the cells format). */
int cell_format_escape(struct buf *out, const char *text, size_t len);

#endif
