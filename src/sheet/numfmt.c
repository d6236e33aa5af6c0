/*
 * DESIGN
 * ------
 * Excel stores dates as plain numbers ("serials") and leaves it to the cell's number format
 * to say that a number is a date. Two questions follow, and this file answers both:
 *
 *  1. Is this format a date, a time of day, or neither? Built-in ids are a fixed table.
 *     Custom codes are scanned token by token: text in "quotes", a character after a
 *     backslash, a character after `_` or `*` (padding), and [brackets] are skipped, except
 *     the elapsed-time brackets [h] [m] [s] (any repetition), which are time. Only the first
 *     section (before `;`) decides, as the positive-number section is what ordinary values
 *     use. y, d, e (year, as in some locales' codes) and m outside a time context are date
 *     tokens; h, s and AM/PM (A/P) are time tokens. `m` next to h or s is minutes, which is
 *     still time, so the distinction does not change the answer: any date token makes DATE,
 *     else any time token makes TIME, else NUMBER. "General" and the letters in "E+00"
 *     scientific notation are recognised so that they never look like dates.
 *
 *  2. Which day is serial N? In the 1900 system Excel counts 1900-01-01 as 1 and also
 *     counts the non-existent 1900-02-29 as serial 60 (Lotus 1-2-3's leap-year bug, kept for
 *     compatibility). Serials from 61 on are therefore one day "ahead": serial 61 is
 *     1900-03-01. We read serial 60 (and 60.x) as 1900-02-28 — the day it follows —
 *     which is what openpyxl does, so the two readings agree; Excel would show a date that
 *     does not exist, and no real date can be returned for it. Serials 0 <= N < 1 are a
 *     time on Excel's day "1900-01-00", which we read as 1899-12-31 (again as openpyxl).
 *     The 1904 system (Mac Excel) has no quirk: serial 0 is 1904-01-01, and negative serials
 *     down to -1460 are the days before it, back to 1900-01-01.
 *
 * Civil-date arithmetic is Howard Hinnant's days_from_civil algorithm (public domain
 * description), written out here for the proleptic Gregorian calendar.
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

long numfmt_days_from_civil(int year, int month, int day)
{
    long y = (long)year - (month <= 2);
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long mp = (month + 9) % 12;
    long doy = (153 * mp + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void numfmt_civil_from_days(long days, int *year, int *month, int *day)
{
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

/* 1899-12-31 is serial 0 for serials below 60; from 61 on the base is 1899-12-30. */
#define UNIX_DAYS_1899_12_30 (-25569L)
#define UNIX_DAYS_1899_12_31 (-25568L)
#define UNIX_DAYS_1904_01_01 (-24107L)
#define SERIAL_MAX_1900 2958466.0 /* 10000-01-01: the first serial Excel cannot show */
#define SERIAL_MIN_1904 (-1460.0) /* 1900-01-01 in the 1904 system */

bool numfmt_serial_to_unix_days(double serial, bool date1904, double *unix_days)
{
    if (!isfinite(serial))
        return false;
    if (date1904) {
        /* Negative serials are dates before 1904-01-01 (openpyxl writes 1900-01-01 as -1460
         * into a 1904 workbook, LibreOffice reads it back), down to 1900-01-01. */
        if (serial < SERIAL_MIN_1904 || serial >= SERIAL_MAX_1900 - 1462.0)
            return false;
        *unix_days = serial + (double)UNIX_DAYS_1904_01_01;
        return true;
    }
    if (serial < 0 || serial >= SERIAL_MAX_1900)
        return false;
    if (serial < 60.0)
        *unix_days = serial + (double)UNIX_DAYS_1899_12_31;
    else if (serial < 61.0)
        *unix_days = (serial - 1.0) + (double)UNIX_DAYS_1899_12_31; /* 60.x -> 1900-02-28 */
    else
        *unix_days = serial + (double)UNIX_DAYS_1899_12_30;
    return true;
}

double numfmt_unix_days_to_serial(double unix_days)
{
    /* 1900-03-01 (serial 61) is unix day -25508; earlier dates skip the phantom 02-29. */
    if (unix_days >= -25508.0)
        return unix_days - (double)UNIX_DAYS_1899_12_30;
    return unix_days - (double)UNIX_DAYS_1899_12_31;
}
