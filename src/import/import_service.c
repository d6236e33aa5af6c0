/*
 * DESIGN
 * ------
 * One pass over the file, in constant memory:
 *
 *   open the book -> find the header row (header_match.c) -> check the table -> BEGIN ->
 *   for each row: map cells to template columns, convert and validate (validate.c),
 *                 write valid rows through one reused bulk statement, stream failed rows
 *                 to the error report, keep the first errors in the result ->
 *   COMMIT (or ROLLBACK for a dry run, a failed all_or_nothing import, a cancellation or
 *   any error).
 *
 * Reading runs beside the rest: once the header row is found, a second thread pulls the
 * remaining rows from the reader and hands them over in batches (row_pipeline.c), while this
 * thread converts, validates and writes them. The book belongs to that thread until
 * run_cleanup stops it, which is why everything asked of the book (delimiter, date system,
 * row count) is asked before the pipeline starts. Progress and cancellation stay on the
 * caller's thread.
 *
 * One transaction per import is what makes "nothing half-written" true whatever happens:
 * cancellation, a reader limit at row 900,000, a database refusing a row. Under
 * all_or_nothing the first failed row stops the writing (the rest is still validated so the
 * report lists every problem). A row's cells arrive sorted by column and the mapped columns
 * are sorted by file column too, so matching them is a merge, not a search per cell.
 *
 * Who owns what: everything the run allocates hangs off `struct import_run` and is released
 * by run_cleanup; only the result leaves, to the caller.
 */
#include "import/import_service.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/error_report.h"
#include "import/header_match.h"
#include "import/import_result.h"
#include "import/row_pipeline.h"
#include "import/validate.h"
#include "sheet/cell_format.h"
#include "store/data_table.h"

/* Rows between two looks at the clock for progress. */
#define PROGRESS_EVERY_ROWS 64

struct mapped_column {
    uint32_t file_column;
    size_t tmpl_index;
};

struct import_run {
    struct db *db;
    const struct import_template *tmpl;
    const struct import_options *opts;
    const struct sd_clock *clock;
    struct import_result *res;
    struct sheet_book *book;
    struct row_pipeline *pipeline; /* owns the book while it runs */
    struct header_matcher *matcher;
    struct header_map *map;
    struct validator *validator;
    struct db_bulk *bulk;
    struct error_report *report;
    struct data_column *dcols;
    struct mapped_column *mapped; /* sorted by file column */
    size_t nmapped;
    const struct sheet_cell **cells; /* per template column, for the current row */
    struct cell_value *values;
    struct db_value *dbvalues; /* ncolumns + _row + _job_id */
    const struct sheet_row *row;
    uint32_t *bad_columns; /* file columns to highlight in the current row */
    size_t nbad, bad_cap;
    struct buf row_errors; /* the current row's sentences, for the report */
    struct buf msg;
    struct buf value;
    bool in_transaction;
    bool writing; /* false once an all_or_nothing import has a failed row */
    uint64_t total_hint;
    int64_t last_progress_ms;
};

static void run_cleanup(struct import_run *run)
{
    row_pipeline_stop(run->pipeline); /* first: it may be reading the book */
    if (run->bulk)
        db_bulk_close(run->bulk);
    if (run->in_transaction)
        db_rollback(run->db);
    error_report_discard(run->report);
    validator_free(run->validator);
    header_map_free(run->map);
    header_matcher_free(run->matcher);
    if (run->book)
        sheet_close(run->book);
    free(run->dcols);
    free(run->mapped);
    free(run->cells);
    free(run->values);
    free(run->dbvalues);
    free(run->bad_columns);
    buf_free(&run->row_errors);
    buf_free(&run->msg);
    buf_free(&run->value);
}

/* The file failed: the result says why, and nothing is written (the caller's cleanup rolls
 * back). Returns 0 so that the caller hands the result out, or SD_ENOMEM. */
static int run_file_failed(struct import_run *run, const char *message)
{
    run->res->success = false;
    run->res->imported = run->res->updated = 0;
    return import_result_set_message(run->res, "%s", message);
}

static int run_open_book(struct import_run *run, const char *path, struct sd_error *err)
{
    struct sheet_open_options so = SHEET_OPEN_OPTIONS_INIT;
    if (run->opts->limits)
        so.limits = *run->opts->limits;
    so.display_name = run->opts->display_name;
    int rc = sheet_open(&run->book, path, &so, err);
    if (rc == 0)
        rc = run->opts->sheet ? sheet_select_arg(run->book, run->opts->sheet, err)
                              : sheet_select_default(run->book, err);
    return rc;
}

/* Reads rows until the header row; 0 with run->map set, 1 when the file failed (result set),
 * or a negative code. */
static int run_find_header(struct import_run *run, struct sd_error *err)
{
    int rc = header_matcher_new(&run->matcher, run->tmpl, err);
    if (rc < 0)
        return rc;
    for (;;) {
        const struct sheet_row *row;
        rc = sheet_next_row(run->book, &row, err);
        if (rc < 0)
            return rc == SD_ENOMEM
                       ? rc
                       : (run_file_failed(run, sd_error_message(err)) < 0 ? sd_error_nomem(err)
                                                                          : 1);
        if (rc == 0 || row->number > HEADER_MATCH_MAX_ROW)
            break;
        int score = header_matcher_score(run->matcher, row);
        if (score < 0)
            return sd_error_nomem(err);
        if (!header_matcher_is_header(run->matcher, score))
            continue;
        rc = header_map_build(&run->map, run->matcher, row, err);
        if (rc == SD_EINVALID)
            return run_file_failed(run, sd_error_message(err)) < 0 ? sd_error_nomem(err) : 1;
        return rc;
    }
    struct buf msg = BUF_INIT;
    rc = header_matcher_describe_missing(run->matcher, &msg);
    if (rc == 0)
        rc = run_file_failed(run, buf_cstr(&msg));
    buf_free(&msg);
    return rc < 0 ? sd_error_nomem(err) : 1;
}

static int mapped_cmp(const void *a, const void *b)
{
    const struct mapped_column *x = a, *y = b;
    return x->file_column < y->file_column ? -1 : x->file_column > y->file_column;
}

/* Allocates the per-row arrays once, records ignored columns, and sorts the mapped columns by
 * file column for the merge in run_map_row. */
static int run_prepare(struct import_run *run, struct sd_error *err)
{
    const struct import_template *tmpl = run->tmpl;
    size_t n = tmpl->ncolumns ? tmpl->ncolumns : 1;
    run->dcols = template_data_columns(tmpl);
    run->mapped = calloc(n, sizeof *run->mapped);
    run->cells = calloc(n, sizeof *run->cells);
    run->values = calloc(n, sizeof *run->values);
    run->dbvalues = calloc(n + 2, sizeof *run->dbvalues);
    run->bad_cap = n + 1;
    run->bad_columns = calloc(run->bad_cap, sizeof *run->bad_columns);
    if (!run->dcols || !run->mapped || !run->cells || !run->values || !run->dbvalues ||
        !run->bad_columns)
        return sd_error_nomem(err);
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        size_t h = run->map->by_tmpl[i];
        if (h != HEADER_UNMAPPED) {
            run->mapped[run->nmapped].file_column = run->map->cells[h].column;
            run->mapped[run->nmapped].tmpl_index = i;
            run->nmapped++;
        }
    }
    qsort(run->mapped, run->nmapped, sizeof *run->mapped, mapped_cmp);
    for (size_t c = 0; c < run->map->ncells; c++)
        if (run->map->cells[c].tmpl_index == HEADER_UNMAPPED &&
            import_result_add_ignored(run->res, run->map->cells[c].text) < 0)
            return sd_error_nomem(err);
    return 0;
}

/* Points run->cells at the row's cell for each mapped column; returns whether any mapped
 * cell holds something (an all-blank row is skipped). */
static bool run_map_row(struct import_run *run, const struct sheet_row *row)
{
    memset(run->cells, 0, run->tmpl->ncolumns * sizeof *run->cells);
    bool any = false;
    size_t m = 0;
    for (size_t c = 0; c < row->ncells && m < run->nmapped; c++) {
        const struct sheet_cell *cell = &row->cells[c];
        while (m < run->nmapped && run->mapped[m].file_column < cell->column)
            m++;
        if (m < run->nmapped && run->mapped[m].file_column == cell->column) {
            run->cells[run->mapped[m].tmpl_index] = cell;
            if (cell->type != SHEET_CELL_STRING)
                any = true;
            else
                for (size_t i = 0; i < cell->text_len && !any; i++)
                    any =
                        !(cell->text[i] == ' ' || (cell->text[i] >= '\t' && cell->text[i] <= '\r'));
            m++;
        }
    }
    return any;
}

/* Records one error of the current row: in the result (first errors only), in the row's
 * Errors text and the cells to highlight (for the report). */
static int run_add_error(struct import_run *run, size_t tmpl_index, const char *message)
{
    size_t h = run->map->by_tmpl[tmpl_index];
    const char *column =
        h == HEADER_UNMAPPED ? run->tmpl->columns[tmpl_index].header : run->map->cells[h].text;
    buf_clear(&run->value);
    const struct sheet_cell *cell = run->cells[tmpl_index];
    if (cell && cell_format_value(cell, &run->value) < 0)
        return SD_ENOMEM;
    if (import_result_add_error(run->res, run->row->number, column, buf_cstr(&run->value),
                                run->value.len, message) < 0)
        return SD_ENOMEM;
    if (run->report) {
        if (run->row_errors.len && buf_puts(&run->row_errors, "; ") < 0)
            return SD_ENOMEM;
        if (import_error_format_cell(&run->row_errors, column, buf_cstr(&run->value), message) < 0)
            return SD_ENOMEM;
        if (h != HEADER_UNMAPPED && run->nbad < run->bad_cap)
            run->bad_columns[run->nbad++] = run->map->cells[h].column;
    }
    return 0;
}

static int report_duplicate(void *ctx, size_t col, const char *message)
{
    return run_add_error(ctx, col, message);
}

/* Validates the current row; 0 when valid, 1 when it failed, or a negative code. */
static int run_validate_row(struct import_run *run, struct sd_error *err)
{
    const struct import_template *tmpl = run->tmpl;
    run->nbad = 0;
    buf_clear(&run->row_errors);
    int bad = 0;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        if (run->map->by_tmpl[i] == HEADER_UNMAPPED) {
            run->values[i].type = run->dcols[i].type;
            run->values[i].null = true;
            continue;
        }
        int rc = validator_check_cell(run->validator, i, run->cells[i], &run->values[i], &run->msg);
        if (rc < 0 || (rc == 1 && run_add_error(run, i, buf_cstr(&run->msg)) < 0))
            return sd_error_nomem(err);
        bad |= rc;
    }
    if (!bad) {
        int dups = validator_check_row(run->validator, run->values, run->row->number,
                                       report_duplicate, run);
        if (dups < 0)
            return sd_error_nomem(err);
        bad = dups > 0;
    }
    return bad;
}

/* Hands the current row to the bulk writer, which may write it (and the rows before it) only
 * later: a refusal is reported by run_write_failed with the row it belongs to. */
static int run_write_row(struct import_run *run, struct sd_error *err)
{
    size_t n = run->tmpl->ncolumns;
    for (size_t i = 0; i < n; i++) {
        const struct cell_value *v = &run->values[i];
        struct db_value *d = &run->dbvalues[i];
        if (v->null) {
            d->type = DB_VALUE_NULL;
            continue;
        }
        switch (v->type) {
        case DATA_COLUMN_INTEGER:
            d->type = DB_VALUE_INT64;
            d->i = v->i;
            break;
        case DATA_COLUMN_DECIMAL:
            d->type = DB_VALUE_DOUBLE;
            d->d = v->d;
            break;
        case DATA_COLUMN_BOOLEAN:
            d->type = DB_VALUE_BOOL;
            d->i = v->b;
            break;
        default:
            d->type = DB_VALUE_TEXT;
            d->text = v->text;
            d->len = v->len;
            break;
        }
    }
    run->dbvalues[n].type = DB_VALUE_INT64;
    run->dbvalues[n].i = run->row->number;
    const char *job = run->opts->job_id ? run->opts->job_id : "cli";
    run->dbvalues[n + 1].type = DB_VALUE_TEXT;
    run->dbvalues[n + 1].text = job;
    run->dbvalues[n + 1].len = strlen(job);
    return db_bulk_write_row(run->bulk, run->dbvalues, run->row->number, err);
}

/* A write or flush failed with `rc`. A busy database or a lack of memory goes back to the
 * caller as it is; anything else fails the file, naming the row the database refused (which
 * may be an earlier row than the current one, since rows are written in batches). Returns 1
 * (result set) or a negative code. */
static int run_write_failed(struct import_run *run, int rc, struct sd_error *err)
{
    if (rc == SD_ENOMEM || rc == SD_ERETRY)
        return rc;
    int64_t row = 0;
    struct buf m = BUF_INIT;
    int mrc = db_bulk_refused_row(run->bulk, &row)
                  ? buf_printf(&m, "Row %lld could not be written: %s", (long long)row,
                               sd_error_message(err))
                  : buf_printf(&m, "The rows could not be written: %s", sd_error_message(err));
    if (mrc == 0)
        mrc = run_file_failed(run, buf_cstr(&m));
    buf_free(&m);
    return mrc < 0 ? sd_error_nomem(err) : 1;
}

static void run_progress(struct import_run *run, uint64_t done, bool force)
{
    if (!run->opts->progress)
        return;
    int64_t now = clock_monotonic_ms(run->clock);
    if (!force && now - run->last_progress_ms < run->opts->progress_interval_ms)
        return;
    run->last_progress_ms = now;
    uint64_t total = run->total_hint > done ? run->total_hint : (force ? done : 0);
    run->opts->progress(done, total, run->opts->ctx);
}

/* The row loop. 0 when every row was read (the result has the counts), 1 when the file
 * failed part-way (result set), or a negative code. */
static int run_rows(struct import_run *run, struct sd_error *err)
{
    struct import_result *res = run->res;
    uint32_t last = run->map->row;
    uint64_t seen = 0;
    for (;;) {
        if (run->opts->cancelled && run->opts->cancelled(run->opts->ctx))
            return sd_error_set(err, SD_ECANCELLED,
                                "the import was cancelled; nothing was "
                                "written");
        int rc = row_pipeline_next(run->pipeline, &run->row, err);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (rc == SD_ENOMEM)
                return rc;
            return run_file_failed(run, sd_error_message(err)) < 0 ? sd_error_nomem(err) : 1;
        }
        const struct sheet_row *row = run->row;
        if (row->number <= last)
            continue; /* a reader never goes back; be safe if one did */
        res->skipped += row->number - last - 1;
        last = row->number;
        if (++seen % PROGRESS_EVERY_ROWS == 0)
            run_progress(run, row->number - run->map->row, false);
        if (!run_map_row(run, row)) {
            res->skipped++;
            continue;
        }
        rc = run_validate_row(run, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            res->failed++;
            if (run->tmpl->mode == TEMPLATE_MODE_ALL_OR_NOTHING)
                run->writing = false;
            if (run->report &&
                (rc = error_report_add_row(run->report, row, run->bad_columns, run->nbad,
                                           buf_cstr(&run->row_errors), err)) < 0)
                return rc;
            continue;
        }
        if (!run->writing)
            continue;
        if ((rc = run_write_row(run, err)) < 0)
            return run_write_failed(run, rc, err);
    }
    res->rows_read = last - run->map->row;
    return 0;
}

static int next_row_source(void *book, const struct sheet_row **out, struct sd_error *err)
{
    return sheet_next_row(book, out, err);
}

/* Everything after the header row: the table check, the transaction, the rows, and the
 * decision to commit. 0 (result filled) or a negative code. */
static int run_import(struct import_run *run, struct sd_error *err)
{
    const struct import_template *tmpl = run->tmpl;
    const struct import_options *opts = run->opts;
    struct import_result *res = run->res;
    int rc = run_prepare(run, err);
    if (rc < 0)
        return rc;
    if ((rc = data_table_check(run->db, tmpl->table, run->dcols, tmpl->ncolumns, err)) < 0)
        return rc;
    struct convert_context cctx = {.csv_delimiter = sheet_csv_delimiter(run->book),
                                   .date1904 = sheet_uses_1904(run->book)};
    if ((rc = validator_new(&run->validator, tmpl, &cctx, err)) < 0)
        return rc;
    if (opts->errors_out &&
        (rc = error_report_open(&run->report, opts->errors_out, run->map, err)) < 0)
        return rc;
    uint64_t hint = sheet_row_count_hint(run->book);
    run->total_hint = hint > run->map->row ? hint - run->map->row : 0;
    if ((rc = row_pipeline_start(&run->pipeline, next_row_source, run->book, NULL, err)) < 0)
        return rc;
    if ((rc = db_begin(run->db, err)) < 0)
        return rc;
    run->in_transaction = true;
    if ((rc = data_table_bulk_open(&run->bulk, run->db, tmpl->table, run->dcols, tmpl->ncolumns,
                                   (const char *const *)tmpl->upsert_key, tmpl->nupsert_key, err)) <
        0)
        return rc;
    run->writing = true;
    rc = run_rows(run, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (opts->cancelled && opts->cancelled(opts->ctx))
        return sd_error_set(err, SD_ECANCELLED, "the import was cancelled; nothing was written");
    if ((rc = db_bulk_flush(run->bulk, err)) < 0)
        return (rc = run_write_failed(run, rc, err)) < 0 ? rc : 0;
    uint64_t inserted = 0, updated = 0;
    db_bulk_counts(run->bulk, &inserted, &updated);
    res->imported = inserted;
    res->updated = updated;
    res->success = res->failed == 0 ||
                   (tmpl->mode == TEMPLATE_MODE_PARTIAL && res->imported + res->updated > 0);
    if (run->report) {
        struct error_report *report = run->report;
        run->report = NULL;
        if (error_report_rows(report) == 0)
            error_report_discard(report);
        else if ((rc = error_report_close(report, err)) < 0)
            return rc;
        else
            res->errors_written = true;
    }
    db_bulk_close(run->bulk);
    run->bulk = NULL;
    if (!res->success)
        res->imported = res->updated = 0;
    if (import_result_summarize(res) < 0)
        return sd_error_nomem(err);
    if (res->success && !opts->dry_run) {
        run->in_transaction = false;
        if ((opts->before_commit && (rc = opts->before_commit(run->db, res, opts->ctx, err)) < 0) ||
            (rc = db_commit(run->db, err)) < 0) {
            db_rollback(run->db);
            return rc;
        }
    }
    return 0;
}

int import_service_run(struct import_result **out, struct db *db,
                       const struct import_template *tmpl, const char *path,
                       const struct import_options *opts, struct sd_error *err)
{
    static const struct import_options defaults = IMPORT_OPTIONS_INIT;
    *out = NULL;
    struct import_run run = {0};
    run.db = db;
    run.tmpl = tmpl;
    run.opts = opts ? opts : &defaults;
    run.clock = run.opts->clock ? run.opts->clock : clock_system();
    int64_t started = clock_monotonic_ms(run.clock);
    run.last_progress_ms = started;
    run.res = import_result_new();
    if (!run.res)
        return sd_error_nomem(err);
    run.res->dry_run = run.opts->dry_run;
    int rc = run_open_book(&run, path, err);
    if (rc < 0) {
        if (rc == SD_ENOMEM)
            goto fail;
        if ((rc = run_file_failed(&run, sd_error_message(err))) < 0)
            goto nomem;
    } else if ((rc = run_find_header(&run, err)) == 0) {
        run.res->header_row = run.map->row;
        if ((rc = run_import(&run, err)) < 0)
            goto fail;
    } else if (rc < 0) {
        goto fail;
    }
    run.res->duration_ms = clock_monotonic_ms(run.clock) - started;
    if (run.res->rows_read || run.res->success)
        run_progress(&run, run.res->rows_read, true);
    run_cleanup(&run);
    *out = run.res;
    return 0;
nomem:
    rc = sd_error_nomem(err);
fail:
    run_cleanup(&run);
    import_result_free(run.res);
    return rc;
}
