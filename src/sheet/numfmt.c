/*
 * DESIGN
 * ------
 * Excel stores dates as plain numbers ("serials") and leaves it to the cell's number format
 * to say that a number is a date. This file answers the question that follows:
 *
 * Is this format a date, a time of day, or neither? Built-in ids are a fixed table.
 * Custom codes are scanned token by token: text in "quotes", a character after a
 * backslash, a character after `_` or `*` (padding), and [brackets] are skipped, except
 * the elapsed-time brackets [h] [m] [s] (any repetition), which are time. Only the first
 * section (before `;`) decides, as the positive-number section is what ordinary values
 * use. y, d, e (year, as in some locales' codes) and m outside a time context are date
 * tokens; h, s and AM/PM (A/P) are time tokens. `m` next to h or s is minutes, which is
 * still time, so the distinction does not change the answer: any date token makes DATE,
 * else any time token makes TIME, else NUMBER. "General" and the letters in "E+00"
 * scientific notation are recognised so that they never look like dates.
 *
 * Which day a serial is (and Excel's 1900 leap-year quirk) is base/civil.c's business.
 */
#include "sheet/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>

enum numfmt_kind numfmt_classify_builtin(int id)
{
    if ((id >= 14 && id <= 17) || id == 22)
        return NUMFMT_DATE;
    if (id >= 18 && id <= 21)
        return NUMFMT_TIME;
    if (id >= 45 && id <= 47)
        return NUMFMT_TIME;
    /* 27-36 and 50-58 are the East Asian built-in date formats; Excel shows them as dates
     * (some are year-month or month-day, none is time-only except by locale). */
    if ((id >= 27 && id <= 36) || (id >= 50 && id <= 58))
        return NUMFMT_DATE;
    return NUMFMT_NUMBER;
}

/* True when code[i..] starts with the ASCII word `w`, case-insensitively. */
static int starts_with_ci(const char *code, const char *w)
{
    size_t i = 0;
    for (; w[i]; i++)
        if (!code[i] || tolower((unsigned char)code[i]) != w[i])
            return 0;
    return (int)i;
}

/* A bracket's content is elapsed time when it is one of h, m, s repeated ("[hh]", "[mm]"). */
static int bracket_is_elapsed(const char *start, size_t len)
{
    if (len == 0)
        return 0;
    char c = (char)tolower((unsigned char)start[0]);
    if (c != 'h' && c != 'm' && c != 's')
        return 0;
    for (size_t i = 1; i < len; i++)
        if (tolower((unsigned char)start[i]) != c)
            return 0;
    return 1;
}

enum numfmt_kind numfmt_classify_code(const char *code)
{
    if (!code)
        return NUMFMT_NUMBER;
    int has_date = 0;
    int has_time = 0;
    for (size_t i = 0; code[i];) {
        char c = code[i];
        if (c == ';')
            break; /* only the first (positive) section decides */
        if (c == '"') {
            i++;
            while (code[i] && code[i] != '"')
                i++;
            if (code[i])
                i++;
            continue;
        }
        if (c == '\\' || c == '_' || c == '*') {
            i++;
            if (code[i])
                i++; /* skip the escaped or padding character (ASCII or a UTF-8 lead) */
            while (((unsigned char)code[i] & 0xC0) == 0x80)
                i++;
            continue;
        }
        if (c == '[') {
            size_t j = i + 1;
            while (code[j] && code[j] != ']')
                j++;
            if (bracket_is_elapsed(code + i + 1, j - i - 1))
                has_time = 1;
            i = code[j] ? j + 1 : j;
            continue;
        }
        int n;
        if ((n = starts_with_ci(code + i, "general"))) {
            i += (size_t)n;
            continue;
        }
        if ((n = starts_with_ci(code + i, "am/pm")) || (n = starts_with_ci(code + i, "a/p"))) {
            has_time = 1;
            i += (size_t)n;
            continue;
        }
        char l = (char)tolower((unsigned char)c);
        if (l == 'e' && (code[i + 1] == '+' || code[i + 1] == '-')) {
            i += 2; /* scientific notation E+00 */
            continue;
        }
        if (l == 'y' || l == 'd' || l == 'e')
            has_date = 1;
        if (l == 'h' || l == 's')
            has_time = 1;
        if (l == 'm') {
            /* m beside h or s (anywhere in the section) is minutes, else a month: "mm:ss"
             * stays time-only while "mmm yyyy" is a date. */
            int minutes = 0;
            for (size_t k = 0; code[k] && code[k] != ';'; k++) {
                char t = (char)tolower((unsigned char)code[k]);
                if (t == 'h' || t == 's')
                    minutes = 1;
            }
            if (minutes)
                has_time = 1;
            else
                has_date = 1;
        }
        i++;
    }
    if (has_date)
        return NUMFMT_DATE;
    if (has_time)
        return NUMFMT_TIME;
    return NUMFMT_NUMBER;
}
