/*
 * A date column's `format` ("DD/MM/YYYY", "YYYY-MM-DD HH:mm:ss"): one token table that both
 * checks a template's format (template_column.c) and reads cells with it (cell_convert.c), so
 * every format a template accepts is read exactly as its tokens say.
 *
 * Tokens (case matters: MM is the month, mm the minutes): YYYY (4 digits), YY (2 digits;
 * 00-69 are 2000-2069, 70-99 are 1970-1999), MM, DD, HH (1 or 2 digits), mm, ss (2 digits).
 * Between tokens only the separators / - . : , T and a space, which must match literally.
 */
#ifndef SHEETD_IMPORT_DATE_FORMAT_H
#define SHEETD_IMPORT_DATE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

enum date_format_field {
    DATE_FORMAT_YEAR = 0, /* YYYY */
    DATE_FORMAT_YEAR2,    /* YY */
    DATE_FORMAT_MONTH,    /* MM */
    DATE_FORMAT_DAY,      /* DD */
    DATE_FORMAT_HOUR,     /* HH */
    DATE_FORMAT_MINUTE,   /* mm */
    DATE_FORMAT_SECOND,   /* ss */
};

struct date_format_token {
    const char *text; /* "YYYY" */
    size_t len;
    enum date_format_field field;
    int min_digits, max_digits; /* how many digits a value may have */
};

/* The separators allowed between tokens, for checks and messages. */
#define DATE_FORMAT_SEPARATORS "/-.: ,T"

/* The token that starts at f (NUL-terminated), or NULL when f starts with anything else. */
const struct date_format_token *date_format_token_at(const char *f);
/* True for one of DATE_FORMAT_SEPARATORS (not NUL). */
bool date_format_is_separator(char c);

/* Reads s[0..len) (surrounding spaces ignored) in `format`, which the template check has
 * accepted, into days since 1970-01-01. False when the text does not follow the format, is
 * no calendar date within years 1..9999, has an impossible time, or has a time of day other
 * than midnight when !with_time. */
bool date_format_parse(const char *format, const char *s, size_t len, bool with_time,
                       double *unix_days);

#endif
