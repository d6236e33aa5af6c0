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
    cr_assert_eq(log_level_parse("WARN"), LOG_WARN);
    cr_assert_eq(log_level_parse("loud"), -1);
}
