#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"

Test(buf, starts_empty_and_reads_as_empty_string)
{
    struct buf b = BUF_INIT;
    cr_assert_str_eq(buf_cstr(&b), "");
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, appends_and_stays_nul_terminated)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "abc"), 0);
    cr_assert_eq(buf_putc(&b, 'd'), 0);
    cr_assert_eq(buf_printf(&b, "-%d-%s", 42, "x"), 0);
    cr_assert_str_eq(buf_cstr(&b), "abcd-42-x");
    cr_assert_eq(b.len, strlen("abcd-42-x"));
    buf_free(&b);
}

Test(buf, grows_past_initial_capacity)
{
    struct buf b = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(buf_putc(&b, (char)('a' + i % 26)), 0);
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.data[9999], (char)('a' + 9999 % 26));
    cr_assert_eq(b.data[10000], '\0');
    buf_free(&b);
}

Test(buf, truncate_clear_and_detach)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "hello world");
    buf_truncate(&b, 5);
    cr_assert_str_eq(buf_cstr(&b), "hello");
    buf_truncate(&b, 50); /* longer than the buffer: ignored */
    cr_assert_str_eq(buf_cstr(&b), "hello");
    char *s = buf_detach(&b);
    cr_assert_str_eq(s, "hello");
    cr_assert_null(b.data);
    free(s);
    buf_clear(&b);
    cr_assert_str_eq(buf_cstr(&b), "");
}

Test(buf, refuses_a_size_overflow)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "x");
    cr_assert_lt(buf_grow(&b, (size_t)-1), 0);
    cr_assert_str_eq(buf_cstr(&b), "x");
    buf_free(&b);
}

static FILE *stream_of(size_t len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    for (size_t i = 0; i < len; i++)
        cr_assert_neq(fputc('a' + (int)(i % 26), f), EOF);
    rewind(f);
    return f;
}

Test(buf, read_stream_takes_a_file_up_to_the_limit)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, ">"), 0);
    FILE *f = stream_of(40000); /* more than one read's chunk */
    cr_assert_eq(buf_read_stream(&b, f, 40000), 0);
    cr_assert_eq(b.len, 40001);
    cr_assert_eq(b.data[1], 'a');
    cr_assert_eq(b.data[40000], 'a' + 39999 % 26);
    cr_assert_eq(b.data[40001], '\0');
    fclose(f);
    buf_clear(&b);
    f = stream_of(0);
    cr_assert_eq(buf_read_stream(&b, f, 10), 0);
    cr_assert_eq(b.len, 0);
    fclose(f);
    buf_free(&b);
}

Test(buf, read_stream_refuses_a_file_over_the_limit)
{
    struct buf b = BUF_INIT;
    FILE *f = stream_of(11);
    cr_assert_eq(buf_read_stream(&b, f, 10), SD_ELIMIT);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(buf_cstr(&b), "abcdefghij");
    fclose(f);
    buf_free(&b);
}

Test(buf, read_stream_reports_a_read_error)
{
    struct buf b = BUF_INIT;
    FILE *f = fopen("/dev/null", "w"); /* reading a write-only stream fails */
    cr_assert_not_null(f);
    cr_assert_eq(buf_read_stream(&b, f, 10), SD_ERROR);
    fclose(f);
    buf_free(&b);
}

Test(buf, a_failure_is_sticky_until_the_buffer_is_cleared)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "ok"), 0);
    cr_assert_eq(buf_status(&b), 0);
    cr_assert_eq(buf_grow(&b, SIZE_MAX), SD_ENOMEM, "more than memory can hold");
    cr_assert_eq(buf_status(&b), SD_ENOMEM);
    cr_assert_eq(buf_puts(&b, " more"), SD_ENOMEM, "later appends do nothing");
    cr_assert_eq(buf_printf(&b, "%d", 7), SD_ENOMEM);
    cr_assert_str_eq(buf_cstr(&b), "ok", "what was there stays");
    buf_clear(&b);
    cr_assert_eq(buf_status(&b), 0);
    cr_assert_eq(buf_puts(&b, "again"), 0);
    cr_assert_str_eq(buf_cstr(&b), "again");
    buf_free(&b);
}
