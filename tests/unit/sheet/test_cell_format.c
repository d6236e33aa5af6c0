#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/number.h"
#include "sheet/cell_format.h"

Test(cell_format, columns_and_refs)
{
    char name[8];
    cell_format_column_name(0, name);
    cr_assert_str_eq(name, "A");
    cell_format_column_name(25, name);
    cr_assert_str_eq(name, "Z");
    cell_format_column_name(26, name);
    cr_assert_str_eq(name, "AA");
    cell_format_column_name(701, name);
    cr_assert_str_eq(name, "ZZ");
    cell_format_column_name(702, name);
    cr_assert_str_eq(name, "AAA");
    cell_format_column_name(16383, name);
    cr_assert_str_eq(name, "XFD");
    char ref[16];
    cell_format_ref(4, 2, ref);
    cr_assert_str_eq(ref, "E2");
    cell_format_ref(16383, 1048576, ref);
    cr_assert_str_eq(ref, "XFD1048576");
}

Test(cell_format, numbers)
{
    char out[32];
    struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {42, "42"},
        {-7, "-7"},
        {1e14, "100000000000000"},
        {999999999999999.0, "999999999999999"},
        {1e15, "1e+15"},
        {0.1, "0.1"},
        {22.2222, "22.2222"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"},
        {-2.5, "-2.5"},
        {1.5e-10, "1.5e-10"},
        {123456789.125, "123456789.125"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        number_format(cases[i].v, out);
        cr_assert_str_eq(out, cases[i].want, "value %.17g", cases[i].v);
        cr_assert_eq(strtod(out, NULL), cases[i].v);
    }
}

Test(cell_format, dates_and_times)
{
    char out[32];
    cell_format_date((double)civil_days_from_ymd(2015, 3, 1), out);
    cr_assert_str_eq(out, "2015-03-01");
    cell_format_date((double)civil_days_from_ymd(2021, 1, 1) + (10 * 3600 + 10 * 60 + 10) / 86400.0,
                     out);
    cr_assert_str_eq(out, "2021-01-01T10:10:10");
    /* 23:59:59.7 rounds up to the next day, not to "24:00:00" */
    cell_format_date(5.0 + 86399.7 / 86400.0, out);
    cr_assert_str_eq(out, "1970-01-07");
    cell_format_date(-25567.0, out);
    cr_assert_str_eq(out, "1900-01-01");
    cell_format_time(0.5, out);
    cr_assert_str_eq(out, "12:00:00");
    cell_format_time((10 * 3600 + 10 * 60 + 10.4) / 86400.0, out);
    cr_assert_str_eq(out, "10:10:10");
    cell_format_time(0, out);
    cr_assert_str_eq(out, "00:00:00");
    cell_format_date(NAN, out);
    cr_assert_str_eq(out, "NaN");
}

Test(cell_format, values_and_escape)
{
    struct buf b = BUF_INIT;
    struct sheet_cell c = {.column = 0, .type = SHEET_CELL_BOOL, .number = 1};
    cr_assert_eq(cell_format_value(&c, &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "TRUE");
    buf_clear(&b);
    c.number = 0;
    cell_format_value(&c, &b);
    cr_assert_str_eq(buf_cstr(&b), "FALSE");
    buf_clear(&b);
    c.type = SHEET_CELL_ERROR;
    c.text = "#N/A";
    c.text_len = 4;
    cell_format_value(&c, &b);
    cr_assert_str_eq(buf_cstr(&b), "#N/A");
    buf_clear(&b);
    c.type = SHEET_CELL_TIME;
    c.number = 0.25;
    cell_format_value(&c, &b);
    cr_assert_str_eq(buf_cstr(&b), "06:00:00");
    cr_assert_eq(cell_format_type_letter(SHEET_CELL_TIME), 'd');
    cr_assert_eq(cell_format_type_letter(SHEET_CELL_STRING), 's');
    cr_assert_eq(cell_format_type_letter(SHEET_CELL_ERROR), 'e');
    buf_clear(&b);
    const char text[] = "a\\b\tc\nd\re";
    cr_assert_eq(cell_format_escape(&b, text, sizeof text - 1), 0);
    cr_assert_str_eq(buf_cstr(&b), "a\\\\b\\tc\\nd\\re");
    buf_free(&b);
}

/* The reference the fast decimal path must agree with: DESIGN.md's rule, spelled out. */
static void reference_number(double v, char out[32])
{
    if (v == trunc(v) && fabs(v) < 1e15) {
        snprintf(out, 32, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

Test(cell_format, numbers_agree_with_the_rule)
{
    unsigned long long x = 88172645463325252ULL;
    char got[32], want[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        switch (i % 4) {
        case 0: /* money-like: cents */
            v = (double)(long long)(x % 100000000) / 100.0;
            break;
        case 1: /* few decimals at various scales */
            v = (double)(long long)(x % 1000000) / (double)(1 + x % 100000);
            break;
        case 2: /* a random double */
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v))
                continue;
            break;
        default:
            v = ((double)(x % 2000000) - 1000000.0) / 1000.0;
            break;
        }
        if (i % 7 == 0)
            v = -v;
        number_format(v, got);
        reference_number(v, want);
        cr_assert_str_eq(got, want, "value %.17g", v);
    }
}

/* The escape's eight-bytes-at-a-time path against the rule written byte by byte: every
 * interesting byte at every position of strings long enough to span several words. */
Test(cell_format, escape_agrees_with_a_byte_loop)
{
    const unsigned char probes[] = {0x00, 0x01, '\t', '\n', '\r', 0x1F, ' ', '[',
                                    '\\', ']',  0x7F, 0x80, 0xC3, 0xDC, 0xFF};
    struct buf got = BUF_INIT;
    char text[40], want[80];
    for (size_t len = 0; len <= sizeof text; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t p = 0; p < sizeof probes; p++) {
                for (size_t i = 0; i < len; i++)
                    text[i] = (char)('a' + i % 26);
                text[pos] = (char)probes[p];
                if (len > 20)
                    text[len - 1] = '\\';
                size_t w = 0;
                for (size_t i = 0; i < len; i++) {
                    char c = text[i];
                    const char *esc = c == '\\'   ? "\\\\"
                                      : c == '\t' ? "\\t"
                                      : c == '\n' ? "\\n"
                                      : c == '\r' ? "\\r"
                                                  : NULL;
                    if (esc) {
                        want[w++] = esc[0];
                        want[w++] = esc[1];
                    } else {
                        want[w++] = c;
                    }
                }
                buf_clear(&got);
                cr_assert_eq(cell_format_escape(&got, text, len), 0);
                cr_assert_eq(got.len, w, "len %zu pos %zu probe %02x", len, pos, probes[p]);
                cr_assert(memcmp(got.data, want, w) == 0, "len %zu pos %zu probe %02x", len, pos,
                          probes[p]);
            }
        }
    }
    char ref[16];
    cr_assert_eq(cell_format_ref(25, 7, ref), 2);
    cr_assert_str_eq(ref, "Z7");
    cr_assert_eq(cell_format_ref(26, 1048576, ref), 9);
    cr_assert_str_eq(ref, "AA1048576");
    buf_free(&got);
}
