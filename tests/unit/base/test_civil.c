/* base/civil.c: calendar arithmetic, Excel serials in both date systems, ISO 8601 (the
 * shared table in civil_cases.h, which the importer and the XLSX and ODS readers also run),
 * and the date and clock writers. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "base/civil.h"
#include "civil_cases.h"

static void check_serial(double serial, bool d1904, int y, int m, int d)
{
    double days;
    cr_assert(civil_serial_to_days(serial, d1904, &days), "serial %g", serial);
    int yy, mm, dd;
    civil_ymd_from_days((long)floor(days), &yy, &mm, &dd);
    cr_assert(yy == y && mm == m && dd == d,
              "serial %g (1904=%d) -> %04d-%02d-%02d, want %04d-%02d-%02d", serial, d1904, yy, mm,
              dd, y, m, d);
}

Test(civil, serials_1900)
{
    check_serial(1, false, 1900, 1, 1);
    check_serial(59, false, 1900, 2, 28);
    check_serial(60, false, 1900, 2, 28); /* Excel's phantom 1900-02-29: documented reading */
    check_serial(61, false, 1900, 3, 1);
    check_serial(25569, false, 1970, 1, 1);
    check_serial(44197, false, 2021, 1, 1);
    check_serial(2958465, false, 9999, 12, 31);
    check_serial(0.5, false, 1899, 12, 31);
    double days;
    cr_assert_not(civil_serial_to_days(-1, false, &days));
    cr_assert_not(civil_serial_to_days(2958466, false, &days));
    cr_assert_not(civil_serial_to_days(NAN, false, &days));
    cr_assert_not(civil_serial_to_days(INFINITY, false, &days));
    cr_assert(civil_serial_to_days(44197.75, false, &days));
    cr_assert_float_eq(days - floor(days), 0.75, 1e-9);
}

Test(civil, serials_1904)
{
    check_serial(0, true, 1904, 1, 1);
    check_serial(42735, true, 2021, 1, 1);
    check_serial(1, true, 1904, 1, 2);
    check_serial(-1, true, 1903, 12, 31);
    check_serial(-1460, true, 1900, 1, 1);
    double days;
    cr_assert_not(civil_serial_to_days(-1460.5, true, &days));
    cr_assert_not(civil_serial_to_days(-1, false, &days));
}

Test(civil, civil_roundtrip)
{
    for (long d = -800000; d <= 800000; d += 997) {
        int y, m, dd;
        civil_ymd_from_days(d, &y, &m, &dd);
        cr_assert_eq(civil_days_from_ymd(y, m, dd), d);
    }
    cr_assert_eq(civil_days_from_ymd(1970, 1, 1), 0);
    cr_assert_eq(civil_days_from_ymd(2000, 3, 1), 11017);
}

Test(civil, inverse_serial)
{
    double serials[] = {1, 59, 61, 100, 25569, 44197.5};
    for (size_t i = 0; i < sizeof serials / sizeof serials[0]; i++) {
        double days;
        cr_assert(civil_serial_to_days(serials[i], false, &days));
        cr_assert_float_eq(civil_days_to_serial(days), serials[i], 1e-9);
    }
}

Test(civil, days_in_month)
{
    cr_assert_eq(CIVIL_EXCEL_FIRST_DAY, (double)civil_days_from_ymd(1900, 1, 1));
    cr_assert_eq(CIVIL_EXCEL_END_DAY, (double)civil_days_from_ymd(10000, 1, 1));
    cr_assert_eq(civil_days_in_month(2024, 2), 29);
    cr_assert_eq(civil_days_in_month(2023, 2), 28);
    cr_assert_eq(civil_days_in_month(1900, 2), 28);
    cr_assert_eq(civil_days_in_month(2000, 2), 29);
    cr_assert_eq(civil_days_in_month(2015, 4), 30);
    cr_assert_eq(civil_days_in_month(2015, 12), 31);
    cr_assert(civil_date_ok(2015, 1, 31));
    cr_assert_not(civil_date_ok(2015, 4, 31));
    cr_assert_not(civil_date_ok(2015, 0, 1));
    cr_assert_not(civil_date_ok(2015, 13, 1));
    cr_assert_not(civil_date_ok(2015, 1, 0));
}

Test(civil, iso_table)
{
    for (size_t i = 0; i < CIVIL_NCASES; i++) {
        const struct civil_case *c = &civil_cases[i];
        double v = -1;
        enum civil_iso_kind kind;
        bool ok = civil_parse_iso(c->text, strlen(c->text), NULL, &v, &kind);
        cr_assert_eq(ok, c->ok, "%s: parsed %d, want %d", c->text, ok, c->ok);
        if (!ok)
            continue;
        double want = (double)civil_days_from_ymd(c->y, c->m, c->d) + c->secs / SECONDS_PER_DAY;
        cr_assert_float_eq(v, want, 1e-9, "%s: %.9f, want %.9f", c->text, v, want);
        cr_assert_eq(kind, strchr(c->text, ':') ? CIVIL_ISO_DATETIME : CIVIL_ISO_DATE, "%s",
                     c->text);
    }
}

Test(civil, iso_options)
{
    double v;
    enum civil_iso_kind kind;
    struct civil_iso_options time_ok = {.time_only_ok = true};
    cr_assert_not(civil_parse_iso("13:45:30", 8, NULL, &v, &kind));
    cr_assert(civil_parse_iso("13:45:30", 8, &time_ok, &v, &kind));
    cr_assert_eq(kind, CIVIL_ISO_TIME);
    cr_assert_float_eq(v, (13 * 3600 + 45 * 60 + 30) / 86400.0, 1e-12);
    cr_assert(civil_parse_iso("2015-03-01", 10, &time_ok, &v, &kind));
    cr_assert_eq(kind, CIVIL_ISO_DATE);
    struct civil_iso_options date_only = {.date_only = true};
    cr_assert(civil_parse_iso("2015-03-01", 10, &date_only, &v, NULL));
    cr_assert_not(civil_parse_iso("2015-03-01 10:00", 16, &date_only, &v, NULL));
    /* ODF's extended years, and text that only starts like a date */
    cr_assert(civil_parse_iso("-0044-03-15", 11, NULL, &v, NULL));
    cr_assert_eq(v, (double)civil_days_from_ymd(-44, 3, 15));
    cr_assert(civil_parse_iso("12015-03-01", 11, NULL, &v, NULL));
    cr_assert_not(civil_parse_iso("2015-03-01", 9, NULL, &v, NULL));
    cr_assert_not(civil_parse_iso(" 2015-03-01", 11, NULL, &v, NULL));
}

Test(civil, split_and_format)
{
    long days, secs;
    char out[32];
    cr_assert(
        civil_split((double)civil_days_from_ymd(1999, 12, 31) + 86399.6 / 86400, &days, &secs));
    cr_assert_eq(secs, 0);
    civil_format_date(days, out);
    cr_assert_str_eq(out, "2000-01-01");
    cr_assert(civil_split(-0.25, &days, &secs));
    cr_assert_eq(days, -1);
    cr_assert_eq(secs, 64800);
    cr_assert_eq(civil_format_clock(secs, out), 8);
    cr_assert_str_eq(out, "18:00:00");
    cr_assert_eq(civil_format_date(civil_days_from_ymd(987, 10, 2), out), 10);
    cr_assert_str_eq(out, "0987-10-02");
    civil_format_date(civil_days_from_ymd(12345, 1, 1), out);
    cr_assert_str_eq(out, "12345-01-01");
    civil_format_date(civil_days_from_ymd(-1, 1, 1), out);
    cr_assert_str_eq(out, "-1-01-01");
    cr_assert_not(civil_split(NAN, &days, &secs));
    cr_assert_not(civil_split(2e8, &days, &secs));
}
