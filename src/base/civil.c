/*
 * DESIGN
 * ------
 * Calendar arithmetic is Howard Hinnant's days_from_civil / civil_from_days (a public-domain
 * description), for the proleptic Gregorian calendar: exact for any year, no tables, no
 * time zones, no locale.
 *
 * Excel serials: Excel stores dates as plain numbers. In the 1900 system it counts
 * 1900-01-01 as 1 and also counts the non-existent 1900-02-29 as serial 60 (Lotus 1-2-3's
 * leap-year bug, kept for compatibility), so serials from 61 on are one day "ahead": serial
 * 61 is 1900-03-01. Serial 60 (and 60.x) reads as 1900-02-28, the day it follows, which is
 * what openpyxl does, so the two readings agree; serials 0 <= N < 1 are a time on Excel's day
 * "1900-01-00", read as 1899-12-31 (again as openpyxl). The 1904 system (Mac Excel) has no
 * quirk: serial 0 is 1904-01-01, and negative serials are the days before it, down to
 * 1900-01-01 (openpyxl writes such dates, LibreOffice reads them back).
 *
 * ISO 8601: one grammar for every caller (the XLSX `t="d"` cell, ODS `office:date-value`,
 * text in an imported date column), written out in civil.h. strtol/sscanf are not used:
 * they accept signs, spaces and overflow where a date has none.
 */
#include "base/civil.h"

#include <math.h>
#include <stdio.h>

/* 1899-12-31 is serial 0 for serials below 60; from 61 on the base is 1899-12-30. */
#define UNIX_DAYS_1899_12_30 (-25569L)
#define UNIX_DAYS_1899_12_31 (-25568L)
#define UNIX_DAYS_1900_03_01 (-25508L)
#define UNIX_DAYS_1904_01_01 (-24107L)
#define SERIAL_MAX_1900 2958466.0 /* 10000-01-01: the first serial Excel cannot show */
#define SERIAL_MAX_1904 (SERIAL_MAX_1900 - 1462.0)
#define SERIAL_MIN_1904 (-1460.0) /* 1900-01-01 in the 1904 system */
#define CIVIL_DAYS_LIMIT 1e8

long civil_days_from_ymd(int year, int month, int day)
{
    long y = (long)year - (month <= 2);
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long mp = (month + 9) % 12;
    long doy = (153 * mp + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_ymd_from_days(long days, int *year, int *month, int *day)
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

int civil_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool civil_date_ok(int year, int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= civil_days_in_month(year, month);
}

bool civil_serial_to_days(double serial, bool date1904, double *unix_days)
{
    if (!isfinite(serial))
        return false;
    if (date1904) {
        if (serial < SERIAL_MIN_1904 || serial >= SERIAL_MAX_1904)
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

double civil_days_to_serial(double unix_days)
{
    /* earlier dates than 1900-03-01 (serial 61) skip the phantom 1900-02-29 */
    if (unix_days >= (double)UNIX_DAYS_1900_03_01)
        return unix_days - (double)UNIX_DAYS_1899_12_30;
    return unix_days - (double)UNIX_DAYS_1899_12_31;
}

bool civil_split(double unix_days, long *days, long *secs)
{
    if (!isfinite(unix_days) || fabs(unix_days) > CIVIL_DAYS_LIMIT)
        return false;
    double total = nearbyint(unix_days * SECONDS_PER_DAY);
    long d = (long)floor(total / SECONDS_PER_DAY);
    *days = d;
    *secs = (long)(total - (double)d * SECONDS_PER_DAY);
    return true;
}

/* Writes v (0..99) as two digits. */
static void put2(char *out, long v)
{
    out[0] = (char)('0' + v / 10 % 10);
    out[1] = (char)('0' + v % 10);
}

size_t civil_format_date(long days, char *out)
{
    int y, m, d;
    civil_ymd_from_days(days, &y, &m, &d);
    size_t n;
    if (y < 0 || y > 9999) {
        n = (size_t)snprintf(out, 16, "%d", y);
    } else {
        put2(out, y / 100);
        put2(out + 2, y % 100);
        n = 4;
    }
    out[n++] = '-';
    put2(out + n, m);
    n += 2;
    out[n++] = '-';
    put2(out + n, d);
    n += 2;
    out[n] = '\0';
    return n;
}

size_t civil_format_clock(long secs, char *out)
{
    put2(out, secs / 3600);
    out[2] = ':';
    put2(out + 3, secs / 60 % 60);
    out[5] = ':';
    put2(out + 6, secs % 60);
    out[8] = '\0';
    return 8;
}

/* Reads min..max digits at s[*i] into *out; false when there are fewer than min. */
static bool digits(const char *s, size_t len, size_t *i, int min, int max, long *out)
{
    long v = 0;
    int n = 0;
    while (*i < len && n < max && s[*i] >= '0' && s[*i] <= '9') {
        v = v * 10 + (s[(*i)++] - '0');
        n++;
    }
    *out = v;
    return n >= min;
}

static bool take(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

/* "H[H]:MM[:SS[(.|,)F...]]" at s[*i] as seconds of the day (0 to 86399.999...). */
static bool parse_clock(const char *s, size_t len, size_t *i, double *secs)
{
    long h, m, sec = 0;
    if (!digits(s, len, i, 1, 2, &h) || !take(s, len, i, ':') || !digits(s, len, i, 2, 2, &m))
        return false;
    double frac = 0;
    if (take(s, len, i, ':')) {
        if (!digits(s, len, i, 2, 2, &sec))
            return false;
        if (take(s, len, i, '.') || take(s, len, i, ',')) {
            double scale = 0.1;
            size_t start = *i;
            for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, scale /= 10)
                frac += (s[*i] - '0') * scale;
            if (*i == start)
                return false;
        }
    }
    if (h > 23 || m > 59 || sec > 59)
        return false;
    *secs = (double)(h * 3600 + m * 60 + sec) + frac;
    return true;
}

/* "Z", "+HH", "+HH:MM" or "+HHMM" (or '-'), checked and ignored. */
static bool skip_zone(const char *s, size_t len, size_t *i)
{
    if (take(s, len, i, 'Z'))
        return true;
    if (!take(s, len, i, '+') && !take(s, len, i, '-'))
        return true;
    long zh, zm = 0;
    if (!digits(s, len, i, 2, 2, &zh))
        return false;
    bool colon = take(s, len, i, ':');
    if ((colon || *i < len) && !digits(s, len, i, 2, 2, &zm))
        return false;
    return zh <= 23 && zm <= 59;
}

bool civil_parse_iso(const char *s, size_t len, const struct civil_iso_options *opts, double *value,
                     enum civil_iso_kind *kind)
{
    static const struct civil_iso_options defaults = CIVIL_ISO_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    size_t i = 0;
    double secs = 0;
    if (opts->time_only_ok && parse_clock(s, len, &i, &secs) && i == len) {
        *value = secs / SECONDS_PER_DAY;
        if (kind)
            *kind = CIVIL_ISO_TIME;
        return true;
    }
    i = 0;
    secs = 0;
    bool negative = take(s, len, &i, '-');
    long y, mo, d;
    if (!digits(s, len, &i, 4, 6, &y) || !take(s, len, &i, '-') || !digits(s, len, &i, 1, 2, &mo) ||
        !take(s, len, &i, '-') || !digits(s, len, &i, 1, 2, &d))
        return false;
    if (negative)
        y = -y;
    if (!civil_date_ok((int)y, (int)mo, (int)d))
        return false;
    bool with_time = false;
    if (!opts->date_only && (take(s, len, &i, 'T') || take(s, len, &i, ' '))) {
        if (!parse_clock(s, len, &i, &secs) || !skip_zone(s, len, &i))
            return false;
        with_time = true;
    }
    if (i != len)
        return false;
    *value = (double)civil_days_from_ymd((int)y, (int)mo, (int)d) + secs / SECONDS_PER_DAY;
    if (kind)
        *kind = with_time ? CIVIL_ISO_DATETIME : CIVIL_ISO_DATE;
    return true;
}
