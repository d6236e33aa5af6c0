/*
 * Civil dates and times: the one place sheetd does calendar arithmetic. Every reader,
 * the importer and the writer go through it, so a date is the same date everywhere.
 *
 * The unit is "unix days": days since 1970-01-01 as a double, the time of day its fraction
 * (proleptic Gregorian calendar, no time zones: spreadsheets hold wall-clock times).
 *
 *   days <-> y/m/d        civil_days_from_ymd, civil_ymd_from_days, civil_days_in_month
 *   Excel serials         civil_serial_to_days (1900 and 1904 systems), civil_days_to_serial
 *   ISO 8601 text         civil_parse_iso; civil_split + civil_format_date/_clock to write
 */
#ifndef SHEETD_BASE_CIVIL_H
#define SHEETD_BASE_CIVIL_H

#include <stdbool.h>
#include <stddef.h>

#define SECONDS_PER_DAY 86400

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. Any year; month 1..12. */
long civil_days_from_ymd(int year, int month, int day);
void civil_ymd_from_days(long days, int *year, int *month, int *day);

/* 28..31; month must be 1..12. */
int civil_days_in_month(int year, int month);
/* True when month is 1..12 and day exists in that month (no 31 April, 29 February only in
 * leap years). */
bool civil_date_ok(int year, int month, int day);

/* The dates Excel can show, in unix days: from 1900-01-01 up to, not including, 10000-01-01. */
#define CIVIL_EXCEL_FIRST_DAY (-25567.0)
#define CIVIL_EXCEL_END_DAY 2932897.0

/* An Excel serial as unix days in the workbook's date system. 1900 system as Excel reads it:
 * serial 1 = 1900-01-01, serial 60 (Excel's non-existent 1900-02-29) reads as 1900-02-28,
 * serial 61 = 1900-03-01, serials 0 <= N < 1 are times on 1899-12-31. 1904 system: serial 0
 * = 1904-01-01, negative serials down to -1460 (1900-01-01) are the days before it. False
 * for serials that are no date (not finite, before 1900-01-01, from 10000-01-01 on): the
 * caller keeps the number. */
bool civil_serial_to_days(double serial, bool date1904, double *unix_days);
/* The inverse, in the 1900 system (what sheetd writes). */
double civil_days_to_serial(double unix_days);

/* Splits unix days into whole days and the seconds of that day (0..86399), rounded to the
 * nearest second (23:59:59.6 is the next midnight). False when not finite or further than
 * 1e8 days (about 270,000 years) from 1970. */
bool civil_split(double unix_days, long *days, long *secs);

/* Writes "YYYY-MM-DD" for `days` (a year outside 0..9999 is written with all its digits and
 * its sign) and a NUL; returns the length (at most 22). */
size_t civil_format_date(long days, char *out);
/* Writes "HH:MM:SS" for 0 <= secs < 86400 and a NUL; returns 8. */
size_t civil_format_clock(long secs, char *out);

/* What civil_parse_iso found. */
enum civil_iso_kind {
    CIVIL_ISO_DATE,     /* a date: value is whole unix days */
    CIVIL_ISO_DATETIME, /* a date and a time: unix days with a fraction */
    CIVIL_ISO_TIME,     /* a time of day only: value is the fraction of a day */
};

struct civil_iso_options {
    bool time_only_ok; /* accept a time of day without a date ("13:45:30") */
    bool date_only;    /* refuse a time part (a date column) */
};
#define CIVIL_ISO_OPTIONS_INIT                                                                     \
    {                                                                                              \
        .time_only_ok = false, .date_only = false                                                  \
    }

/*
 * Parses ISO 8601 text (not NUL-terminated; no surrounding space allowed):
 *
 *   [-]YYYY-M[M]-D[D]  [ ('T' | ' ') H[H]:MM[:SS[(.|,)F...]]  [ Z | (+|-)HH[[:]MM] ] ]
 *
 * The year has 4 to 6 digits (ODF's extended years), the date must exist, the time is
 * 00:00:00 to 23:59:59.999... A time zone designator is checked and ignored: spreadsheets and
 * imported columns hold wall-clock times. With opts->time_only_ok a lone time of day is
 * accepted too. NULL opts means CIVIL_ISO_OPTIONS_INIT. On success fills *value (see
 * enum civil_iso_kind) and *kind (may be NULL).
 */
bool civil_parse_iso(const char *s, size_t len, const struct civil_iso_options *opts, double *value,
                     enum civil_iso_kind *kind);

#endif
