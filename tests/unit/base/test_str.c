#include <criterion/criterion.h>
#include <string.h>

#include "base/str.h"

Test(str, compares_ascii_case_insensitively)
{
    cr_assert(str_ieq("Email", "eMAIL"));
    cr_assert_not(str_ieq("Email", "Emails"));
    cr_assert_not(str_ieq("", "a"));
}

Test(str, trims_white_space)
{
    const char *s = "  \t hi there \r\n";
    size_t len = strlen(s);
    str_trim_span(&s, &len);
    cr_assert_eq(len, 8);
    cr_assert(strncmp(s, "hi there", len) == 0);
    const char *blank = "   ";
    size_t blen = 3;
    str_trim_span(&blank, &blen);
    cr_assert_eq(blen, 0);
}

Test(str, validates_utf8)
{
    cr_assert(str_utf8_valid("plain", 5));
    cr_assert(str_utf8_valid("M\xc3\xbcnchen", 8));
    cr_assert(str_utf8_valid("\xf0\x9f\x98\x80", 4));
    cr_assert_not(str_utf8_valid("\xc3", 1));             /* truncated */
    cr_assert_not(str_utf8_valid("\xc0\xaf", 2));         /* overlong */
    cr_assert_not(str_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    cr_assert_not(str_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    cr_assert_not(str_utf8_valid("\xff", 1));
}

Test(str, encodes_code_points)
{
    char out[4];
    cr_assert_eq(str_utf8_encode('A', out), 1);
    cr_assert_eq(str_utf8_encode(0xFC, out), 2);
    cr_assert(memcmp(out, "\xc3\xbc", 2) == 0);
    cr_assert_eq(str_utf8_encode(0x20AC, out), 3);
    cr_assert(memcmp(out, "\xe2\x82\xac", 3) == 0);
    cr_assert_eq(str_utf8_encode(0x1F600, out), 4);
    cr_assert_eq(str_utf8_encode(0xD800, out), 0);
    cr_assert_eq(str_utf8_encode(0x110000, out), 0);
    cr_assert_eq(str_utf8_length("M\xc3\xbcnchen", 8), 7);
}

Test(str, parses_integers)
{
    long long v;
    cr_assert(str_to_int64("-42", &v));
    cr_assert_eq(v, -42);
    cr_assert_not(str_to_int64("42x", &v));
    cr_assert_not(str_to_int64("", &v));
    cr_assert_not(str_to_int64("99999999999999999999", &v));
}

Test(str, measures_utf8_sequences_and_hex_digits)
{
    cr_assert_eq(str_utf8_sequence_length("a", 1), 1);
    cr_assert_eq(str_utf8_sequence_length("\xc3\xbc", 2), 2);
    cr_assert_eq(str_utf8_sequence_length("\xe2\x82\xac!", 4), 3);
    cr_assert_eq(str_utf8_sequence_length("\xf0\x9f\x98\x80", 4), 4);
    cr_assert_eq(str_utf8_sequence_length("\xf0\x9f\x98", 3), 0);
    cr_assert_eq(str_utf8_sequence_length("\x80", 1), 0);
    cr_assert_eq(str_utf8_sequence_length("", 0), 0);
    cr_assert_eq(str_hex_value('7'), 7);
    cr_assert_eq(str_hex_value('b'), 11);
    cr_assert_eq(str_hex_value('F'), 15);
    cr_assert_eq(str_hex_value('g'), -1);
}
