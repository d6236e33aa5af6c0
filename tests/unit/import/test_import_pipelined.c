/* import_service_run over files long enough that rows cross many of the row pipeline's
 * batches: every row arrives once and in order, errors keep their row numbers, and a
 * cancellation or a reader failure while the reading thread is busy writes nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/import_service.h"
#include "import_fixture.h"

TestSuite(pipelined, .init = fx_setup, .fini = fx_teardown);

#define ROWS 5000

/* ROWS data rows under a header: row r (the spreadsheet's number, 2..ROWS+1) has email
 * p<r>@example.com and qty r, except that every 997th row has a bad email and row 4001
 * repeats row 2's email. */
static char *many_rows_csv(void)
{
    struct buf csv = BUF_INIT;
    cr_assert_eq(buf_puts(&csv, "Email,Qty,Name,Country\n"), 0);
    for (int r = 2; r < ROWS + 2; r++) {
        if (r % 997 == 0)
            buf_printf(&csv, "broken-%d,%d,N%d,\n", r, r, r);
        else if (r == 4001)
            buf_printf(&csv, "p2@example.com,%d,N%d,\n", r, r);
        else
            buf_printf(&csv, "p%d@example.com,%d,N%d,\n", r, r, r);
    }
    char *path = fx_file("many.csv", buf_cstr(&csv));
    buf_free(&csv);
    return path;
}

Test(pipelined, thousands_of_rows_arrive_once_and_in_order)
{
    struct import_template *t = fx_people("people", "partial");
    char *path = many_rows_csv();
    struct import_result *res = fx_import(t, path, NULL);
    cr_assert(res->success, "%s", res->message);
    cr_assert_eq(res->rows_read, ROWS);
    cr_assert_eq(res->failed, 6); /* 997, 1994, 2991, 3988, 4985 and the repeat in 4001 */
    cr_assert_eq(res->imported, ROWS - 6);
    fx_expect_errors(res, "Row 997, Email: \"broken-997\" is not a valid email address\n"
                          "Row 1994, Email: \"broken-1994\" is not a valid email address\n"
                          "Row 2991, Email: \"broken-2991\" is not a valid email address\n"
                          "Row 3988, Email: \"broken-3988\" is not a valid email address\n"
                          "Row 4001, Email: \"p2@example.com\" appears more than once in the file "
                          "(first in row 2)\n"
                          "Row 4985, Email: \"broken-4985\" is not a valid email address\n");
    /* Every written row kept its own values: qty and name were written from row r. */
    fx_expect_dump("SELECT count(*) FROM people WHERE qty <> _row OR name <> 'N' || _row "
                   "OR email <> 'p' || _row || '@example.com'",
                   "0\n");
    fx_expect_dump("SELECT min(_row), max(_row), count(DISTINCT _row) FROM people",
                   "2|5001|4994\n");
    import_result_free(res);
    free(path);
    template_free(t);
}

static bool cancel_at_row_3000(void *ctx)
{
    const uint64_t *done = ctx;
    return *done >= 3000;
}

static void note_progress(uint64_t done, uint64_t total, void *ctx)
{
    (void)total;
    *(uint64_t *)ctx = done;
}

Test(pipelined, cancelling_while_the_reader_is_ahead_writes_nothing)
{
    struct import_template *t = fx_people("people", "partial");
    char *path = many_rows_csv();
    uint64_t done = 0;
    struct import_options opts = IMPORT_OPTIONS_INIT;
    opts.progress = note_progress;
    opts.progress_interval_ms = 0;
    opts.cancelled = cancel_at_row_3000;
    opts.ctx = &done;
    struct import_result *res = (struct import_result *)1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(import_service_run(&res, fx_db, t, path, &opts, &err), SD_ECANCELLED);
    cr_assert_null(res);
    cr_assert_geq(done, 3000);
    cr_assert_lt(done, ROWS, "cancelled part-way, not at the end");
    cr_assert_eq(fx_count("people"), 0);
    free(path);
    template_free(t);
}

Test(pipelined, a_row_limit_hit_late_in_the_file_writes_nothing)
{
    struct import_template *t = fx_people("people", "partial");
    char *path = many_rows_csv();
    struct sheet_limits limits = SHEET_LIMITS_INIT;
    limits.max_rows = 4500;
    struct import_options opts = IMPORT_OPTIONS_INIT;
    opts.limits = &limits;
    struct import_result *res = fx_import(t, path, &opts);
    cr_assert_not(res->success);
    cr_assert(strstr(res->message, "4500") || strstr(res->message, "4,500"), "%s", res->message);
    cr_assert_eq(res->imported, 0);
    cr_assert_eq(fx_count("people"), 0);
    /* The rows read before the limit were still validated, in order. */
    cr_assert_eq(res->failed, 5);
    cr_assert_eq(res->errors[0].row, 997);
    cr_assert_eq(res->errors[4].row, 4001);
    import_result_free(res);
    free(path);
    template_free(t);
}
