#include <criterion/criterion.h>

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
