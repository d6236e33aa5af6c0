/*
 * Number formats, shared by the XLSX and XLS readers (ODS and CSV carry typed or
 * untyped values and need none of this).
 *
 * A number is a date when its number format is a date/time format: built-in ids 14-22,
 * 27-36, 45-47, 50-58, or a custom code with date/time tokens (y m d h s, AM/PM) outside
 * quotes, backslash escapes and [brackets] (but "[h]" "[mm]" "[ss]" elapsed-time brackets
 * count as time). A format with time tokens and no date tokens is time-only.
 *
 * Which date a serial is: civil_serial_to_days (base/civil.h).
 */
#ifndef SHEETD_SHEET_NUMFMT_H
#define SHEETD_SHEET_NUMFMT_H

#include <stdbool.h>

enum numfmt_kind {
    NUMFMT_NUMBER = 0, /* not a date: the value stays a number */
    NUMFMT_DATE,       /* date, or date and time */
    NUMFMT_TIME,       /* time of day only */
};

enum numfmt_kind numfmt_classify_builtin(int id);
/* Classifies a custom format code such as "yyyy-mm-dd", "[$-409]h:mm AM/PM", "0.00". */
enum numfmt_kind numfmt_classify_code(const char *code);

#endif
