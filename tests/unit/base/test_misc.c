#include <criterion/criterion.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/job_id.h"
#include "base/log.h"

Test(job_id, is_sixteen_lowercase_hex_and_differs_each_time)
{
    char a[JOB_ID_LEN + 1], b[JOB_ID_LEN + 1];
    cr_assert_eq(job_id_generate(a, NULL), 0);
    cr_assert_eq(job_id_generate(b, NULL), 0);
    cr_assert_eq(strlen(a), 16);
    cr_assert(job_id_valid(a));
    cr_assert_str_neq(a, b);
    cr_assert_not(job_id_valid("3F9A0C1D2E4B5A69"));
    cr_assert_not(job_id_valid("3f9a0c1d2e4b5a6"));
    cr_assert_not(job_id_valid("3f9a0c1d2e4b5a690"));
    cr_assert_not(job_id_valid("../../etc/passwd"));
}

Test(error, carries_code_and_sentence)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc = sd_error_set(&err, SD_EINVALID, "row %d is bad", 7);
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert_eq(err.code, SD_EINVALID);
    cr_assert_str_eq(sd_error_message(&err), "row 7 is bad");
    sd_error_prefix(&err, "%s", "orders.xlsx");
    cr_assert_str_eq(sd_error_message(&err), "orders.xlsx: row 7 is bad");
    cr_assert_eq(err.code, SD_EINVALID);
    sd_error_clear(&err);
    cr_assert_str_eq(sd_error_message(&err), "no error");
    cr_assert_eq(sd_error_set(NULL, SD_ERETRY, "ignored"), SD_ERETRY);
}

/* The code is worked out once, before the message: callers pass `errno == ENOENT ? ...`
 * next to strerror(errno), and the code returned must be the code stored. */
static int next_code(int *calls)
{
    return ++*calls == 1 ? SD_ENOTFOUND : SD_ERROR;
}

Test(error, set_evaluates_the_code_once)
{
    struct sd_error err = SD_ERROR_INIT;
    int calls = 0;
    int rc = sd_error_set(&err, next_code(&calls), "%s is missing", "a.csv");
    cr_assert_eq(calls, 1);
    cr_assert_eq(rc, SD_ENOTFOUND);
    cr_assert_eq(err.code, SD_ENOTFOUND);
}

Test(clock, formats_iso8601_in_utc)
{
    char out[40];
    cr_assert_str_eq(clock_format_iso8601(out, sizeof out, 0), "1970-01-01T00:00:00Z");
    cr_assert_str_eq(clock_format_iso8601_ms(out, sizeof out, 1764362040123LL),
                     "2025-11-28T20:34:00.123Z");
    cr_assert_str_eq(clock_format_iso8601(out, sizeof out, 951782400000LL), "2000-02-29T00:00:00Z");
    cr_assert_str_eq(clock_format_iso8601_ms(out, sizeof out, -1), "1969-12-31T23:59:59.999Z");
    cr_assert_str_eq(clock_format_iso8601(out, sizeof out, -86400001LL), "1969-12-30T23:59:59Z");
}

Test(clock, parses_what_it_formats_and_refuses_the_rest)
{
    int64_t ms = -1;
    cr_assert(clock_parse_iso8601("2025-11-28T20:34:00.123Z", &ms));
    cr_assert_eq(ms, 1764362040123LL);
    cr_assert(clock_parse_iso8601("1970-01-01T00:00:00Z", &ms));
    cr_assert_eq(ms, 0);
    cr_assert(clock_parse_iso8601("2025-11-28 20:34:00.5+00:00", &ms));
    cr_assert_eq(ms, 1764362040500LL);
    cr_assert(clock_parse_iso8601("2024-02-29T00:00:00.123456Z", &ms));
    cr_assert_eq(ms, 1709164800123LL);
    ms = 42;
    const char *bad[] = {"",
                         "2025-11-28",
                         "2025-11-28T20:34:00",
                         "2025-11-28T20:34:00+01:00",
                         "2025-02-30T00:00:00Z",
                         "2025-13-01T00:00:00Z",
                         "2025-11-28T24:00:00Z",
                         "2025-11-28T20:34:00.Z",
                         "2025-11-28T20:34:00Zjunk",
                         "1969-12-31T23:59:59Z",
                         "2025-11-28T20:34:00.1234567Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(clock_parse_iso8601(bad[i], &ms), "accepted \"%s\"", bad[i]);
    cr_assert_not(clock_parse_iso8601(NULL, &ms));
    cr_assert_eq(ms, 42, "a refused text leaves the output alone");
}

Test(clock, formats_durations_the_way_people_say_them)
{
    char out[CLOCK_DURATION_SIZE];
    cr_assert_str_eq(clock_format_duration(out, -5), "0 ms");
    cr_assert_str_eq(clock_format_duration(out, 850), "850 ms");
    cr_assert_str_eq(clock_format_duration(out, 12999), "12 s");
    cr_assert_str_eq(clock_format_duration(out, 65000), "1 min 5 s");
    cr_assert_str_eq(clock_format_duration(out, 120000), "2 min");
    cr_assert_str_eq(clock_format_duration(out, 3600000 + 180000 + 7000), "1 h 3 min");
    cr_assert_str_eq(clock_format_duration(out, 7200000), "2 h");
    cr_assert_str_eq(clock_format_duration(out, 3LL * 86400000 + 4 * 3600000), "3 d 4 h");
    cr_assert_str_eq(clock_format_duration(out, 86400000), "1 d");
}

Test(clock, fixed_clock_is_injectable)
{
    struct clock_fixed fixed;
    clock_fixed_init(&fixed, 1000);
    cr_assert_eq(clock_now_ms(&fixed.clock), 1000);
    fixed.now_ms += 250;
    cr_assert_eq(clock_monotonic_ms(&fixed.clock), 1250);
}

Test(log, quotes_values_the_logfmt_way)
{
    char out[64];
    cr_assert_str_eq(log_quote(out, sizeof out, "plain"), "plain");
    cr_assert_str_eq(log_quote(out, sizeof out, "two words"), "\"two words\"");
    cr_assert_str_eq(log_quote(out, sizeof out, "say \"hi\""), "\"say \\\"hi\\\"\"");
    cr_assert_str_eq(log_quote(out, sizeof out, ""), "\"\"");
    cr_assert_str_eq(log_quote(out, sizeof out, "caf\xc3\xa9"), "\"caf\xc3\xa9\"",
                     "UTF-8 text is kept");
    cr_assert_eq(log_level_parse("WARN"), SD_LOG_WARN);
    cr_assert_eq(log_level_parse("loud"), -1);
}

/* Issue 9: a request path with U+202E (RIGHT-TO-LEFT OVERRIDE) made the access log read
 * backwards, and bytes that are not UTF-8 went to the log raw. */
Test(log, bidi_controls_and_invalid_utf8_never_reach_the_log_raw)
{
    char out[256];
    cr_assert_str_eq(log_quote(out, sizeof out, "/a\xe2\x80\xaegnp.exe"), "\"/a\\u202egnp.exe\"");
    cr_assert_str_eq(log_quote(out, sizeof out,
                               "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x81\xa6"
                               "\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f"),
                     "\"\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\"");
    cr_assert_str_eq(log_quote(out, sizeof out, "zw\xe2\x80\x8bsp \xef\xbb\xbf \xc2\x85 \xd8\x9c"),
                     "\"zw\\u200bsp \\ufeff \\u0085 \\u061c\"");
    cr_assert_str_eq(log_quote(out, sizeof out, "tag\xf3\xa0\x81\x81"), "\"tag\\u{e0041}\"");
    /* stray, overlong, truncated and surrogate sequences: each byte as \xHH */
    cr_assert_str_eq(log_quote(out, sizeof out,
                               "a\xff"
                               "b\xc0\xaf"
                               "c\xe2\x80"),
                     "\"a\\xffb\\xc0\\xafc\\xe2\\x80\"");
    cr_assert_str_eq(log_quote(out, sizeof out, "\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");
    /* truncation never splits a character or an escape */
    char small[12];
    log_quote(small, sizeof small, "\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae");
    cr_assert_str_eq(small, "\"\"");
    char fits[20];
    log_quote(fits, sizeof fits, "\xe2\x80\xae\xe2\x80\xae\xe2\x80\xae");
    cr_assert_str_eq(fits, "\"\\u202e\\u202e\"");
}
