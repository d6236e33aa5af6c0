/*
 * Turning one spreadsheet cell into the typed value a template column stores. Conversion
 * says only WHAT went wrong (an enum convert_status); validate.c turns that into the
 * sentence people read and applies the column's rules. Nothing here allocates: a converted
 * value points into the cell, the template, or the value's own scratch space.
 */
#ifndef SHEETD_IMPORT_CELL_CONVERT_H
#define SHEETD_IMPORT_CELL_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "import/template.h"
#include "sheet/sheet.h"

enum convert_status {
    CONVERT_OK = 0,
    CONVERT_EMPTY,      /* no value (an empty or blank cell) */
    CONVERT_ERROR_CELL, /* the cell holds a formula error such as #N/A */
    CONVERT_NOT_NUMBER,
    CONVERT_NOT_WHOLE,    /* integer column: a fraction */
    CONVERT_OUT_OF_RANGE, /* does not fit the column's type */
    CONVERT_NOT_DATE,
    CONVERT_NOT_DATETIME,
    CONVERT_NOT_BOOLEAN,
};

/* How the file spells things: the CSV delimiter (';' makes "1.234,50" a number) and the
 * workbook's date system (for plain numbers read as date serials). */
struct convert_context {
    char csv_delimiter;
    bool date1904;
};

struct cell_value {
    enum data_column_type type;
    bool null;
    int64_t i;        /* INTEGER */
    double d;         /* DECIMAL */
    bool b;           /* BOOLEAN */
    double unix_days; /* DATE, DATETIME: days since 1970-01-01 (DATETIME: rounded to 1 s) */
    const char *text; /* TEXT, DATE, DATETIME: borrowed; see the comment above */
    size_t len;
    char scratch[40]; /* where converted text lives (numbers as text, dates) */
};

/* Converts `cell` (NULL for an empty cell) for `col`. Text columns (string, email, enum)
 * get the cell's text, trimmed for email and enum; the caller validates it. */
enum convert_status cell_convert(struct cell_value *out, const struct template_column *col,
                                 const struct sheet_cell *cell, const struct convert_context *ctx);

/* The pieces, exposed for tests and the blank template: */

/* "1,234.50", " $12 ", "-€3.5", "1e3"; with delimiter ';' also "1.234,50" and "1234,5".
 * Returns false for anything else (including NaN and infinities). */
bool convert_parse_number(const char *s, size_t len, char csv_delimiter, double *out);
/* Like convert_parse_number, but exact for integers up to int64: CONVERT_OK,
 * CONVERT_NOT_NUMBER, CONVERT_NOT_WHOLE or CONVERT_OUT_OF_RANGE. */
enum convert_status convert_parse_integer(const char *s, size_t len, char csv_delimiter,
                                          int64_t *out);
/* ISO 8601 as civil_parse_iso reads it (base/civil.h), surrounding spaces ignored: a date
 * ("2015-03-01"), and when `with_time` also a date and time ("2015-03-01 13:45[:30][.123]",
 * 'T' or a space, a zone checked and ignored), within years 1..9999, into days since
 * 1970-01-01. Text in a column's own format is date_format_parse's (import/date_format.h). */
bool convert_parse_iso(const char *s, size_t len, bool with_time, double *unix_days);
/* TRUE/FALSE, yes/no, y/n, 1/0, x (any case, surrounding spaces ignored). */
bool convert_parse_bool(const char *s, size_t len, bool *out);

/* "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS" as the data table stores them. False for dates
 * outside years 1..9999. */
bool convert_format_date(double unix_days, char out[16]);
bool convert_format_datetime(double unix_days, char out[24]);

#endif
