/*
 * Number formats and dates, shared by the XLSX and XLS readers (ODS and CSV carry typed or
 * untyped values and need none of this).
 *
 * A number is a date when its number format is a date/time format: built-in ids 14-22,
 * 27-36, 45-47, 50-58, or a custom code with date/time tokens (y m d h s, AM/PM) outside
 * quotes, backslash escapes and [brackets] (but "[h]" "[mm]" "[ss]" elapsed-time brackets
 * count as time). A format with time tokens and no date tokens is time-only.
 *
 * Serials: 1900 system as Excel reads it — serial 1 = 1900-01-01, serial 60 is Excel's
 * non-existent 1900-02-29 (numfmt.c says how it is read), serial 61 = 1900-03-01; 1904 system:
 * serial 0 = 1904-01-01.
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

/* Converts an Excel serial to days since 1970-01-01 in the workbook's date system. Returns
 * false for serials that are no date (before 1900-01-01, i.e. negative in the 1900 system or
 * below -1460 in the 1904 system, or past 9999-12-31): the caller then keeps the cell a
 * number. */
bool numfmt_serial_to_unix_days(double serial, bool date1904, double *unix_days);

/* The inverse for the 1900 system, used by the writer and the importer ("2015-03-01" typed in
 * a CSV, a date written to XLSX). */
double numfmt_unix_days_to_serial(double unix_days);

/* Days since 1970-01-01 for a civil date (proleptic Gregorian), and back. */
long numfmt_days_from_civil(int year, int month, int day);
void numfmt_civil_from_days(long days, int *year, int *month, int *day);

#endif
