#include <criterion/criterion.h>
#include <math.h>

#include "sheet/numfmt.h"

Test(numfmt, builtin_ids)
{
    int dates[] = {14, 15, 16, 17, 22, 27, 30, 36, 50, 57, 58};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        cr_assert_eq(numfmt_classify_builtin(dates[i]), NUMFMT_DATE, "id %d", dates[i]);
    int times[] = {18, 19, 20, 21, 45, 46, 47};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        cr_assert_eq(numfmt_classify_builtin(times[i]), NUMFMT_TIME, "id %d", times[i]);
    int numbers[] = {0, 1, 2, 9, 10, 11, 12, 13, 23, 26, 37, 44, 48, 49, 59, 164};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        cr_assert_eq(numfmt_classify_builtin(numbers[i]), NUMFMT_NUMBER, "id %d", numbers[i]);
}

Test(numfmt, custom_codes)
{
    cr_assert_eq(numfmt_classify_code("yyyy-mm-dd"), NUMFMT_DATE);
    cr_assert_eq(numfmt_classify_code("d/m/yyyy h:mm"), NUMFMT_DATE);
    cr_assert_eq(numfmt_classify_code("[$-409]mmm d, yyyy;@"), NUMFMT_DATE);
    cr_assert_eq(numfmt_classify_code("mmm"), NUMFMT_DATE);
    cr_assert_eq(numfmt_classify_code("h:mm AM/PM"), NUMFMT_TIME);
    cr_assert_eq(numfmt_classify_code("mm:ss"), NUMFMT_TIME);
    cr_assert_eq(numfmt_classify_code("[h]:mm:ss"), NUMFMT_TIME);
    cr_assert_eq(numfmt_classify_code("[mm]"), NUMFMT_TIME);
    cr_assert_eq(numfmt_classify_code("0.00"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("General"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("0.00E+00"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("#,##0 \"days\""), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("[Red]0.00;[Blue]-0.00"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("0\\d"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("_(* #,##0_);_(* (#,##0)"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("\"yyyy\"0"), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code("0;\"dd\"yyyy"), NUMFMT_NUMBER); /* first section decides */
    cr_assert_eq(numfmt_classify_code(""), NUMFMT_NUMBER);
    cr_assert_eq(numfmt_classify_code(NULL), NUMFMT_NUMBER);
}

static void check_serial(double serial, bool d1904, int y, int m, int d)
{
    double days;
    cr_assert(numfmt_serial_to_unix_days(serial, d1904, &days), "serial %g", serial);
    int yy, mm, dd;
    numfmt_civil_from_days((long)floor(days), &yy, &mm, &dd);
    cr_assert(yy == y && mm == m && dd == d,
              "serial %g (1904=%d) -> %04d-%02d-%02d, want %04d-%02d-%02d", serial, d1904, yy, mm,
              dd, y, m, d);
}

Test(numfmt, serials_1900)
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
    cr_assert_not(numfmt_serial_to_unix_days(-1, false, &days));
    cr_assert_not(numfmt_serial_to_unix_days(2958466, false, &days));
    cr_assert_not(numfmt_serial_to_unix_days(NAN, false, &days));
    cr_assert_not(numfmt_serial_to_unix_days(INFINITY, false, &days));
    cr_assert(numfmt_serial_to_unix_days(44197.75, false, &days));
    cr_assert_float_eq(days - floor(days), 0.75, 1e-9);
}

Test(numfmt, serials_1904)
{
    check_serial(0, true, 1904, 1, 1);
    check_serial(42735, true, 2021, 1, 1);
    check_serial(1, true, 1904, 1, 2);
    check_serial(-1, true, 1903, 12, 31);
    check_serial(-1460, true, 1900, 1, 1);
    double days;
    cr_assert_not(numfmt_serial_to_unix_days(-1460.5, true, &days));
    cr_assert_not(numfmt_serial_to_unix_days(-1, false, &days));
}

Test(numfmt, civil_roundtrip)
{
    for (long d = -800000; d <= 800000; d += 997) {
        int y, m, dd;
        numfmt_civil_from_days(d, &y, &m, &dd);
        cr_assert_eq(numfmt_days_from_civil(y, m, dd), d);
    }
    cr_assert_eq(numfmt_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(numfmt_days_from_civil(2000, 3, 1), 11017);
}

Test(numfmt, inverse_serial)
{
    double serials[] = {1, 59, 61, 100, 25569, 44197.5};
    for (size_t i = 0; i < sizeof serials / sizeof serials[0]; i++) {
        double days;
        cr_assert(numfmt_serial_to_unix_days(serials[i], false, &days));
        cr_assert_float_eq(numfmt_unix_days_to_serial(days), serials[i], 1e-9);
    }
}
