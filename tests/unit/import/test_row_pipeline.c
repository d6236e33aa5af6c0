/* The row pipeline on its own, fed by a fake source whose rows (like a real reader's) live in
 * one buffer that the next call overwrites: order and content, backpressure, a failure part-way,
 * stopping early, and an empty source. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "import/row_pipeline.h"

#define MAX_CELLS 8

struct fake_source {
    uint32_t rows;    /* rows to give before ending; UINT32_MAX: never end */
    uint32_t fail_at; /* give this error instead of the row with this number (0: never) */
    int fail_code;
    size_t text_pad;   /* extra characters in each text cell, to make rows heavy */
    atomic_uint given; /* rows handed out so far */
    /* The one row the source owns, overwritten by every call. */
    struct sheet_row row;
    struct sheet_cell cells[MAX_CELLS];
    char text[MAX_CELLS][4096];
};

/* Row n has (n % MAX_CELLS) + 1 cells; cell c is a number in column 2c when c is even, else
 * the text "r<n>c<c>" padded with dots, in column 2c. */
static int fake_next(void *ctx, const struct sheet_row **out, struct sd_error *err)
{
    struct fake_source *s = ctx;
    uint32_t n = atomic_load(&s->given) + 2; /* data starts below a header in row 1 */
    if (s->fail_at && n == s->fail_at)
        return sd_error_set(err, s->fail_code, "the sheet breaks at row %u", n);
    if (s->rows != UINT32_MAX && n - 2 >= s->rows)
        return 0;
    memset(s->cells, 0xAB, sizeof s->cells); /* nothing of the previous row survives */
    memset(s->text, 'Z', sizeof s->text);
    s->row.number = n;
    s->row.ncells = n % MAX_CELLS + 1;
    s->row.cells = s->cells;
    for (size_t c = 0; c < s->row.ncells; c++) {
        struct sheet_cell *cell = &s->cells[c];
        cell->column = (uint32_t)(2 * c);
        if (c % 2 == 0) {
            cell->type = SHEET_CELL_NUMBER;
            cell->number = n * 10.0 + (double)c;
            cell->text = NULL;
            cell->text_len = 0;
        } else {
            cell->type = SHEET_CELL_STRING;
            int len = snprintf(s->text[c], sizeof s->text[c], "r%uc%zu", n, c);
            for (size_t i = 0; i < s->text_pad && (size_t)len + 1 < sizeof s->text[c]; i++)
                s->text[c][len++] = '.';
            s->text[c][len] = '\0';
            cell->text = s->text[c];
            cell->text_len = (size_t)len;
        }
    }
    atomic_fetch_add(&s->given, 1);
    *out = &s->row;
    return 1;
}

static void check_row(const struct sheet_row *row, uint32_t n, size_t pad)
{
    cr_assert_eq(row->number, n);
    cr_assert_eq(row->ncells, n % MAX_CELLS + 1, "row %u", n);
    for (size_t c = 0; c < row->ncells; c++) {
        const struct sheet_cell *cell = &row->cells[c];
        cr_assert_eq(cell->column, 2 * c);
        if (c % 2 == 0) {
            cr_assert_eq(cell->type, SHEET_CELL_NUMBER);
            cr_assert_eq(cell->number, n * 10.0 + (double)c);
            cr_assert_null(cell->text);
        } else {
            char want[4200];
            int len = snprintf(want, sizeof want, "r%uc%zu", n, c);
            memset(want + len, '.', pad);
            want[len + (int)pad] = '\0';
            cr_assert_eq(cell->type, SHEET_CELL_STRING);
            cr_assert_eq(cell->text_len, strlen(want));
            cr_assert_str_eq(cell->text, want); /* also proves the copy is NUL-terminated */
        }
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to 2 s for the source to have given `want` rows; returns what it gave. */
static unsigned wait_given(struct fake_source *s, unsigned want)
{
    for (int i = 0; i < 400 && atomic_load(&s->given) < want; i++)
        sleep_ms(5);
    return atomic_load(&s->given);
}

static struct fake_source *source_new(uint32_t rows)
{
    struct fake_source *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->rows = rows;
    atomic_init(&s->given, 0);
    return s;
}

Test(row_pipeline, rows_arrive_in_order_and_intact_across_many_batches)
{
    struct fake_source *s = source_new(10000);
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batch_rows = 7; /* many batches, and a last one that is not full */
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), 0, "%s", err.message);
    const struct sheet_row *row;
    uint32_t n = 2;
    int rc;
    while ((rc = row_pipeline_next(p, &row, &err)) == 1)
        check_row(row, n++, 0);
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, 10002);
    cr_assert_eq(row_pipeline_next(p, &row, &err), 0, "the end is sticky");
    cr_assert_null(row);
    row_pipeline_stop(p);
    free(s);
}

Test(row_pipeline, heavy_rows_are_handed_over_early_and_still_intact)
{
    struct fake_source *s = source_new(300);
    s->text_pad = 3000; /* every text cell ~3 kB: a 4 kB batch holds one or two rows */
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batch_bytes = 4096;
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), 0);
    /* Before anything is read, the reader may fill only the batches there are, and with
     * 4 kB batches that is a few rows, not 3 x 1024. */
    unsigned given = wait_given(s, 1000);
    cr_assert_leq(given, 3 * 4, "the reader ran %u rows ahead", given);
    const struct sheet_row *row;
    uint32_t n = 2;
    int rc;
    while ((rc = row_pipeline_next(p, &row, &err)) == 1)
        check_row(row, n++, 3000);
    cr_assert_eq(rc, 0);
    cr_assert_eq(n, 302);
    row_pipeline_stop(p);
    free(s);
}

Test(row_pipeline, a_reader_ahead_of_its_consumer_waits_for_a_free_batch)
{
    struct fake_source *s = source_new(UINT32_MAX);
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batch_rows = 4;
    po.batches = 2;
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), 0);
    cr_assert_eq(wait_given(s, 8), 8);
    sleep_ms(100);
    cr_assert_eq(atomic_load(&s->given), 8, "two batches of four, then the reader waits");
    const struct sheet_row *row;
    for (uint32_t n = 2; n < 2 + 4; n++) {
        cr_assert_eq(row_pipeline_next(p, &row, &err), 1);
        check_row(row, n, 0);
    }
    sleep_ms(50);
    cr_assert_eq(atomic_load(&s->given), 8, "the first batch is still the consumer's");
    cr_assert_eq(row_pipeline_next(p, &row, &err), 1); /* moves on: batch one comes free */
    check_row(row, 6, 0);
    cr_assert_eq(wait_given(s, 12), 12);
    sleep_ms(50);
    cr_assert_eq(atomic_load(&s->given), 12);
    row_pipeline_stop(p); /* the reader is waiting for a batch: stop must still end it */
    free(s);
}

Test(row_pipeline, a_failure_part_way_comes_after_every_row_before_it)
{
    struct fake_source *s = source_new(UINT32_MAX);
    s->fail_at = 1000;
    s->fail_code = SD_ELIMIT;
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batch_rows = 64;
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), 0);
    const struct sheet_row *row;
    uint32_t n = 2;
    int rc;
    while ((rc = row_pipeline_next(p, &row, &err)) == 1)
        check_row(row, n++, 0);
    cr_assert_eq(n, 1000, "rows 2..999 arrive before the failure");
    cr_assert_eq(rc, SD_ELIMIT);
    cr_assert_str_eq(err.message, "the sheet breaks at row 1000");
    struct sd_error again = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_next(p, &row, &again), SD_ELIMIT, "the failure is sticky");
    cr_assert_str_eq(again.message, "the sheet breaks at row 1000");
    row_pipeline_stop(p);
    free(s);
}

Test(row_pipeline, a_failure_on_the_first_row)
{
    struct fake_source *s = source_new(UINT32_MAX);
    s->fail_at = 2;
    s->fail_code = SD_EINVALID;
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, NULL, &err), 0);
    const struct sheet_row *row;
    cr_assert_eq(row_pipeline_next(p, &row, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "the sheet breaks at row 2");
    row_pipeline_stop(p);
    free(s);
}

Test(row_pipeline, stopping_early_ends_the_reader_and_frees_everything)
{
    struct fake_source *s = source_new(UINT32_MAX);
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batch_rows = 16;
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), 0);
    const struct sheet_row *row;
    for (uint32_t n = 2; n < 2 + 40; n++) {
        cr_assert_eq(row_pipeline_next(p, &row, &err), 1);
        check_row(row, n, 0);
    }
    row_pipeline_stop(p); /* a cancelled import: the source never ends on its own */
    unsigned given = atomic_load(&s->given);
    sleep_ms(50);
    cr_assert_eq(atomic_load(&s->given), given, "no row is read after stop returns");
    free(s);
}

Test(row_pipeline, stopping_before_reading_anything)
{
    struct fake_source *s = source_new(UINT32_MAX);
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, NULL, &err), 0);
    row_pipeline_stop(p);
    row_pipeline_stop(NULL);
    free(s);
}

Test(row_pipeline, an_empty_source_ends_at_once)
{
    struct fake_source *s = source_new(0);
    struct row_pipeline *p;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, NULL, &err), 0);
    const struct sheet_row *row = (const struct sheet_row *)1;
    cr_assert_eq(row_pipeline_next(p, &row, &err), 0);
    cr_assert_null(row);
    cr_assert_eq(row_pipeline_next(p, &row, &err), 0);
    row_pipeline_stop(p);
    cr_assert_eq(atomic_load(&s->given), 0);
    free(s);
}

Test(row_pipeline, options_out_of_range_are_refused)
{
    struct fake_source *s = source_new(0);
    struct row_pipeline *p = (struct row_pipeline *)1;
    struct sd_error err = SD_ERROR_INIT;
    struct row_pipeline_options po = ROW_PIPELINE_OPTIONS_INIT;
    po.batches = 1;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), SD_EUSAGE);
    cr_assert_null(p);
    cr_assert(strstr(err.message, "between 2 and 1024 batches"), "%s", err.message);
    po = (struct row_pipeline_options)ROW_PIPELINE_OPTIONS_INIT;
    po.batch_rows = 0;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), SD_EUSAGE);
    po = (struct row_pipeline_options)ROW_PIPELINE_OPTIONS_INIT;
    po.version = 99;
    cr_assert_eq(row_pipeline_start(&p, fake_next, s, &po, &err), SD_EUSAGE);
    free(s);
}
