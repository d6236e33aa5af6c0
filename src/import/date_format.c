/*
 * The date-format token table and the reader that follows it (date_format.h). A format is
 * read greedily, left to right: a token reads its digits, anything else must match the text
 * character for character.
 */
#include "import/date_format.h"

#include <string.h>

#include "base/civil.h"
#include "base/str.h"

/* Longest first, so YYYY wins over YY. */
static const struct date_format_token tokens[] = {
    {.text = "YYYY", .len = 4, .field = DATE_FORMAT_YEAR, .min_digits = 4, .max_digits = 4},
    {.text = "YY", .len = 2, .field = DATE_FORMAT_YEAR2, .min_digits = 2, .max_digits = 2},
    {.text = "MM", .len = 2, .field = DATE_FORMAT_MONTH, .min_digits = 1, .max_digits = 2},
    {.text = "DD", .len = 2, .field = DATE_FORMAT_DAY, .min_digits = 1, .max_digits = 2},
    {.text = "HH", .len = 2, .field = DATE_FORMAT_HOUR, .min_digits = 1, .max_digits = 2},
    {.text = "mm", .len = 2, .field = DATE_FORMAT_MINUTE, .min_digits = 2, .max_digits = 2},
    {.text = "ss", .len = 2, .field = DATE_FORMAT_SECOND, .min_digits = 2, .max_digits = 2},
};

const struct date_format_token *date_format_token_at(const char *f)
{
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (!strncmp(f, tokens[i].text, tokens[i].len))
            return &tokens[i];
    return NULL;
}

bool date_format_is_separator(char c)
{
    return c != '\0' && strchr(DATE_FORMAT_SEPARATORS, c) != NULL;
}

/* Reads min..max digits at *p; false when there are fewer than min. */
static bool read_digits(const char **p, const char *end, int min, int max, int *out)
{
    int n = 0, v = 0;
    while (*p < end && n < max && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = v;
    return n >= min;
}

bool date_format_parse(const char *format, const char *s, size_t len, bool with_time,
                       double *unix_days)
{
    str_trim_span(&s, &len);
    const char *p = s, *end = s + len;
    int value[DATE_FORMAT_SECOND + 1] = {0};
    unsigned seen = 0;
    for (size_t i = 0; format[i];) {
        const struct date_format_token *tok = date_format_token_at(format + i);
        if (!tok) {
            if (p >= end || *p != format[i])
                return false;
            p++;
            i++;
            continue;
        }
        if (!read_digits(&p, end, tok->min_digits, tok->max_digits, &value[tok->field]))
            return false;
        seen |= 1u << tok->field;
        i += tok->len;
    }
    if (p != end)
        return false;
    int y = value[DATE_FORMAT_YEAR];
    if (seen & (1u << DATE_FORMAT_YEAR2))
        y = value[DATE_FORMAT_YEAR2] < 70 ? 2000 + value[DATE_FORMAT_YEAR2]
                                          : 1900 + value[DATE_FORMAT_YEAR2];
    else if (!(seen & (1u << DATE_FORMAT_YEAR)))
        return false;
    int mo = value[DATE_FORMAT_MONTH], d = value[DATE_FORMAT_DAY];
    int h = value[DATE_FORMAT_HOUR], mi = value[DATE_FORMAT_MINUTE],
        sec = value[DATE_FORMAT_SECOND];
    if (!(seen & (1u << DATE_FORMAT_MONTH)) || !(seen & (1u << DATE_FORMAT_DAY)))
        return false;
    if (!with_time && (h || mi || sec))
        return false;
    if (y < 1 || y > 9999 || !civil_date_ok(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return false;
    *unix_days = (double)civil_days_from_ymd(y, mo, d) +
                 (double)(h * 3600 + mi * 60 + sec) / SECONDS_PER_DAY;
    return true;
}
