/*
 * DESIGN
 * ------
 * Numbers typed as text are cleaned into a plain C-locale string ("1,234.50" -> "1234.50")
 * and only then handed to strtod/str_to_int64, so grouping rules are checked by us and not
 * guessed by the C library. Which character is the decimal mark depends on the file: a
 * semicolon-delimited CSV is what European Excel writes, so there a comma is the decimal mark
 * and a dot groups thousands; everywhere else it is the other way round. A grouping mark is
 * accepted only between groups of exactly three digits, so "1,5" is never silently 15.
 *
 * Dates are kept as days since 1970-01-01 (the reader's unit) and validated as real
 * calendar dates (no 31 April) within years 1..9999.
 */
#include "import/cell_convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/number.h"
#include "base/str.h"
#include "import/date_format.h"
#include "sheet/cell_format.h"

#define NUMBER_TEXT_MAX 128

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Drops a leading currency symbol (and spaces after it): $ € £ ¥. */
static void skip_currency(const char **p, const char *end)
{
    static const char *const symbols[] = {"$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5"};
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        size_t n = strlen(symbols[i]);
        if ((size_t)(end - *p) >= n && !memcmp(*p, symbols[i], n)) {
            *p += n;
            while (*p < end && **p == ' ')
                (*p)++;
            return;
        }
    }
}

/* Appends the run of digits at *p to out at *o and adds how many there were to *count: the
 * fraction and the exponent are copied alike. False when the run would reach `limit` bytes
 * of out, the room the caller keeps for what may follow. */
static bool copy_digits(const char **p, const char *end, char out[NUMBER_TEXT_MAX], size_t *o,
                        size_t limit, size_t *count)
{
    for (; *p < end && is_digit(**p); (*p)++) {
        if (*o >= limit)
            return false;
        out[(*o)++] = **p;
        (*count)++;
    }
    return true;
}

/*
 * Writes the C-locale spelling of a number typed by a person into out, or returns false.
 * *plain is set when the result is an optionally signed run of digits (an exact integer).
 */
static bool number_clean(const char *s, size_t len, char csv_delimiter, char out[NUMBER_TEXT_MAX],
                         bool *plain)
{
    str_trim_span(&s, &len);
    const char *p = s, *end = s + len;
    size_t o = 0;
    skip_currency(&p, end);
    if (p < end && (*p == '-' || *p == '+')) {
        if (*p == '-')
            out[o++] = '-';
        p++;
        skip_currency(&p, end);
    }
    bool comma_decimal = false;
    if (csv_delimiter == ';' && memchr(p, ',', (size_t)(end - p)))
        comma_decimal = true;
    char dec = comma_decimal ? ',' : '.';
    char group = comma_decimal ? '.' : ',';

    /* Integer part, with optional grouping in threes. */
    size_t digits = 0, run = 0;
    bool grouped = false;
    for (; p < end; p++) {
        if (is_digit(*p)) {
            if (o >= NUMBER_TEXT_MAX - 8)
                return false;
            out[o++] = *p;
            digits++;
            run++;
        } else if (*p == group) {
            if (run == 0 || (grouped ? run != 3 : run > 3))
                return false;
            grouped = true;
            run = 0;
        } else {
            break;
        }
    }
    if (grouped && run != 3)
        return false;
    *plain = true;
    if (p < end && *p == dec) {
        *plain = false;
        out[o++] = '.';
        p++;
        if (!copy_digits(&p, end, out, &o, NUMBER_TEXT_MAX - 8, &digits))
            return false;
    }
    if (digits == 0)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        *plain = false;
        out[o++] = 'e';
        p++;
        if (p < end && (*p == '-' || *p == '+'))
            out[o++] = *p++;
        size_t exp_digits = 0;
        if (!copy_digits(&p, end, out, &o, NUMBER_TEXT_MAX - 1, &exp_digits) || exp_digits == 0)
            return false;
    }
    if (p != end)
        return false;
    out[o] = '\0';
    return true;
}

bool convert_parse_number(const char *s, size_t len, char csv_delimiter, double *out)
{
    char clean[NUMBER_TEXT_MAX];
    bool plain;
    if (!number_clean(s, len, csv_delimiter, clean, &plain))
        return false;
    char *endp;
    double v = strtod(clean, &endp);
    if (*endp || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* int64 holds every whole double in [-2^63, 2^63). */
static enum convert_status double_to_int64(double v, int64_t *out)
{
    if (!isfinite(v))
        return CONVERT_OUT_OF_RANGE;
    if (v != trunc(v))
        return CONVERT_NOT_WHOLE;
    if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0))
        return CONVERT_OUT_OF_RANGE;
    *out = (int64_t)v;
    return CONVERT_OK;
}

enum convert_status convert_parse_integer(const char *s, size_t len, char csv_delimiter,
                                          int64_t *out)
{
    char clean[NUMBER_TEXT_MAX];
    bool plain;
    if (!number_clean(s, len, csv_delimiter, clean, &plain))
        return CONVERT_NOT_NUMBER;
    if (plain) {
        long long v;
        if (!str_to_int64(clean, &v))
            return CONVERT_OUT_OF_RANGE;
        *out = v;
        return CONVERT_OK;
    }
    char *endp;
    double v = strtod(clean, &endp);
    if (*endp)
        return CONVERT_NOT_NUMBER;
    if (!isfinite(v))
        return CONVERT_OUT_OF_RANGE;
    return double_to_int64(v, out);
}

bool convert_parse_bool(const char *s, size_t len, bool *out)
{
    static const char *const yes[] = {"true", "yes", "y", "1", "x"};
    static const char *const no[] = {"false", "no", "n", "0"};
    str_trim_span(&s, &len);
    char lower[8];
    if (len == 0 || len >= sizeof lower)
        return false;
    for (size_t i = 0; i < len; i++)
        lower[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    lower[len] = '\0';
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!strcmp(lower, yes[i]))
            return *out = true, true;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (!strcmp(lower, no[i]))
            return *out = false, true;
    return false;
}

/* Whole days and seconds of a date in years 1..9999, rounded to the second; false outside. */
static bool split_civil(double unix_days, long *days, long *secs)
{
    int y, m, d;
    if (!civil_split(unix_days, days, secs))
        return false;
    civil_ymd_from_days(*days, &y, &m, &d);
    return y >= 1 && y <= 9999;
}

bool convert_parse_iso(const char *s, size_t len, bool with_time, double *unix_days)
{
    struct civil_iso_options opts = {.date_only = !with_time};
    double v;
    long days, secs;
    str_trim_span(&s, &len);
    if (!civil_parse_iso(s, len, &opts, &v, NULL) || !split_civil(v, &days, &secs))
        return false;
    *unix_days = v;
    return true;
}

bool convert_format_date(double unix_days, char out[16])
{
    long days, secs;
    if (!split_civil(unix_days, &days, &secs))
        return false;
    civil_format_date(days, out);
    return true;
}

bool convert_format_datetime(double unix_days, char out[24])
{
    long days, secs;
    if (!split_civil(unix_days, &days, &secs))
        return false;
    size_t n = civil_format_date(days, out);
    out[n++] = ' ';
    civil_format_clock(secs, out + n);
    return true;
}

static bool text_is_blank(const char *s, size_t len)
{
    str_trim_span(&s, &len);
    return len == 0;
}

/* Text for string-like columns; non-text cells in their cells-format spelling. */
static enum convert_status convert_text(struct cell_value *out, const struct template_column *col,
                                        const struct sheet_cell *cell)
{
    switch (cell->type) {
    case SHEET_CELL_STRING:
        out->text = cell->text;
        out->len = cell->text_len;
        if (col->type != TEMPLATE_TYPE_STRING)
            str_trim_span(&out->text, &out->len);
        return CONVERT_OK;
    case SHEET_CELL_NUMBER:
        number_format(cell->number, out->scratch);
        break;
    case SHEET_CELL_BOOL:
        snprintf(out->scratch, sizeof out->scratch, "%s", cell->number != 0 ? "TRUE" : "FALSE");
        break;
    case SHEET_CELL_DATE:
        cell_format_date(cell->number, out->scratch);
        break;
    case SHEET_CELL_TIME:
        cell_format_time(cell->number, out->scratch);
        break;
    default:
        return CONVERT_ERROR_CELL;
    }
    out->text = out->scratch;
    out->len = strlen(out->scratch);
    return CONVERT_OK;
}

/* A date or datetime from any cell: date cells as they are, plain numbers as serials in the
 * workbook's date system, text in the column's format or ISO 8601. */
static enum convert_status convert_date(struct cell_value *out, const struct template_column *col,
                                        const struct sheet_cell *cell,
                                        const struct convert_context *ctx)
{
    bool with_time = col->type == TEMPLATE_TYPE_DATETIME;
    enum convert_status bad = with_time ? CONVERT_NOT_DATETIME : CONVERT_NOT_DATE;
    double days;
    switch (cell->type) {
    case SHEET_CELL_DATE:
        days = cell->number;
        break;
    case SHEET_CELL_NUMBER:
        if (!civil_serial_to_days(cell->number, ctx->date1904, &days))
            return bad;
        break;
    case SHEET_CELL_STRING:
        if (!(col->format &&
              date_format_parse(col->format, cell->text, cell->text_len, with_time, &days)) &&
            !convert_parse_iso(cell->text, cell->text_len, with_time, &days))
            return bad;
        break;
    default:
        return bad;
    }
    long d, secs;
    if (!civil_split(days, &d, &secs))
        return bad;
    if (with_time) {
        out->unix_days = d + (double)secs / SECONDS_PER_DAY;
        if (!convert_format_datetime(out->unix_days, out->scratch))
            return bad;
    } else {
        out->unix_days = (double)d;
        if (!convert_format_date(out->unix_days, out->scratch))
            return bad;
    }
    out->text = out->scratch;
    out->len = strlen(out->scratch);
    return CONVERT_OK;
}

static enum convert_status convert_number(struct cell_value *out, const struct template_column *col,
                                          const struct sheet_cell *cell,
                                          const struct convert_context *ctx)
{
    bool integer = col->type == TEMPLATE_TYPE_INTEGER;
    if (cell->type == SHEET_CELL_NUMBER) {
        if (!isfinite(cell->number))
            return CONVERT_OUT_OF_RANGE;
        if (integer)
            return double_to_int64(cell->number, &out->i);
        out->d = cell->number;
        return CONVERT_OK;
    }
    if (cell->type != SHEET_CELL_STRING)
        return CONVERT_NOT_NUMBER;
    if (integer)
        return convert_parse_integer(cell->text, cell->text_len, ctx->csv_delimiter, &out->i);
    if (convert_parse_number(cell->text, cell->text_len, ctx->csv_delimiter, &out->d))
        return CONVERT_OK;
    /* Digits that overflow a double are out of range, not "not a number". */
    char clean[NUMBER_TEXT_MAX];
    bool plain;
    if (number_clean(cell->text, cell->text_len, ctx->csv_delimiter, clean, &plain))
        return CONVERT_OUT_OF_RANGE;
    return CONVERT_NOT_NUMBER;
}

enum convert_status cell_convert(struct cell_value *out, const struct template_column *col,
                                 const struct sheet_cell *cell, const struct convert_context *ctx)
{
    out->type = template_type_column(col->type);
    out->null = true;
    out->text = NULL;
    out->len = 0;
    bool empty =
        !cell || (cell->type == SHEET_CELL_STRING && text_is_blank(cell->text, cell->text_len));
    if (empty) {
        if (col->type == TEMPLATE_TYPE_BOOLEAN) {
            /* The checkbox convention: x for yes, blank for no. */
            out->null = false;
            out->b = false;
            return CONVERT_OK;
        }
        return CONVERT_EMPTY;
    }
    if (cell->type == SHEET_CELL_ERROR)
        return CONVERT_ERROR_CELL;
    enum convert_status st;
    switch (col->type) {
    case TEMPLATE_TYPE_INTEGER:
    case TEMPLATE_TYPE_DECIMAL:
        st = convert_number(out, col, cell, ctx);
        break;
    case TEMPLATE_TYPE_DATE:
    case TEMPLATE_TYPE_DATETIME:
        st = convert_date(out, col, cell, ctx);
        break;
    case TEMPLATE_TYPE_BOOLEAN:
        if (cell->type == SHEET_CELL_BOOL)
            out->b = cell->number != 0, st = CONVERT_OK;
        else if (cell->type == SHEET_CELL_NUMBER && (cell->number == 0 || cell->number == 1))
            out->b = cell->number != 0, st = CONVERT_OK;
        else if (cell->type == SHEET_CELL_STRING &&
                 convert_parse_bool(cell->text, cell->text_len, &out->b))
            st = CONVERT_OK;
        else
            st = CONVERT_NOT_BOOLEAN;
        break;
    default:
        st = convert_text(out, col, cell);
        break;
    }
    if (st == CONVERT_OK)
        out->null = false;
    return st;
}
