/*
 * DESIGN
 * ------
 * A straight pipe from one SELECT to the XLSX writer: the statement yields a row, its values
 * become typed cells, the writer streams them to its temporary file (constant memory), and
 * nothing is kept between rows. Types come back from the table as data_table.h stores them:
 * dates and datetimes are text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS') and are turned back into
 * date cells; a whole number beyond 2^53, which a spreadsheet number (a double) cannot hold
 * exactly, is written as text so that importing the export gives back the same value. The
 * writer only renames its file into place when it closes successfully, so a failed or
 * cancelled export leaves nothing at out_path.
 */
#include "import/export_service.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/cell_convert.h"
#include "sheet/xlsx_writer.h"
#include "store/data_table.h"

/* 2^53: above it not every whole number is a double. */
#define EXACT_INT_MAX 9007199254740992LL
/* Days since 1970-01-01 of 1900-01-01: Excel shows no date before it. */
#define EXCEL_FIRST_DAY (-25567.0)

struct export_run {
    struct db *db;
    const struct import_template *tmpl;
    const struct export_options *opts;
    const struct sd_clock *clock;
    struct data_column *dcols;
    struct xlsx_column *xcols;
    struct db_stmt *stmt;
    struct xlsx_writer *w;
    char *tmpdir;
};

static void export_cleanup(struct export_run *run)
{
    if (run->stmt)
        db_finalize(run->stmt);
    xlsx_writer_free(run->w);
    free(run->dcols);
    free(run->xcols);
    free(run->tmpdir);
}

/* Writes one stored value. Text that should be a date but does not read as one (the table
 * was edited by hand) is exported as the text it is rather than failing the export. */
static int export_value(struct export_run *run, uint32_t col, enum data_column_type type,
                        struct sd_error *err)
{
    struct db_stmt *st = run->stmt;
    int c = (int)col;
    if (db_column_is_null(st, c))
        return 0;
    switch (type) {
    case DATA_COLUMN_INTEGER: {
        int64_t v = db_column_int64(st, c);
        if (v > EXACT_INT_MAX || v < -EXACT_INT_MAX) {
            char text[32];
            int n = snprintf(text, sizeof text, "%lld", (long long)v);
            return xlsx_writer_write_string(run->w, col, text, (size_t)n, err);
        }
        return xlsx_writer_write_number(run->w, col, (double)v, err);
    }
    case DATA_COLUMN_DECIMAL:
        return xlsx_writer_write_number(run->w, col, db_column_double(st, c), err);
    case DATA_COLUMN_BOOLEAN:
        return xlsx_writer_write_bool(run->w, col, db_column_int64(st, c) != 0, err);
    case DATA_COLUMN_DATE:
    case DATA_COLUMN_DATETIME: {
        const char *text = db_column_text(st, c);
        double days;
        if (text && convert_parse_iso(text, strlen(text), type == DATA_COLUMN_DATETIME, &days) &&
            days >= EXCEL_FIRST_DAY)
            return xlsx_writer_write_date(run->w, col, days, err);
        return text ? xlsx_writer_write_string(run->w, col, text, strlen(text), err) : 0;
    }
    default: {
        const char *text = db_column_text(st, c);
        return text ? xlsx_writer_write_string(run->w, col, text, strlen(text), err) : 0;
    }
    }
}

static int export_open(struct export_run *run, const char *out_path, struct sd_error *err)
{
    const struct import_template *tmpl = run->tmpl;
    size_t n = tmpl->ncolumns;
    run->dcols = template_data_columns(tmpl);
    run->xcols = calloc(n ? n : 1, sizeof *run->xcols);
    char *copy = str_dup(out_path);
    run->tmpdir = copy ? str_dup(dirname(copy)) : NULL;
    free(copy);
    if (!run->dcols || !run->xcols || !run->tmpdir)
        return sd_error_nomem(err);
    for (size_t i = 0; i < n; i++)
        run->xcols[i].header = tmpl->columns[i].header;
    int rc;
    if ((rc = data_table_check(run->db, tmpl->table, run->dcols, n, err)) < 0 ||
        (rc = data_table_select_all(&run->stmt, run->db, tmpl->table, run->dcols, n, err)) < 0)
        return rc;
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = out_path;
    o.tmpdir = run->tmpdir;
    return xlsx_writer_open_table(&run->w, &o,
                                  run->opts->sheet_name ? run->opts->sheet_name : tmpl->name,
                                  run->xcols, n, err);
}

int export_service_run(struct export_result *out, struct db *db, const struct import_template *tmpl,
                       const char *out_path, const struct export_options *opts,
                       struct sd_error *err)
{
    static const struct export_options defaults = EXPORT_OPTIONS_INIT;
    struct export_run run = {0};
    run.db = db;
    run.tmpl = tmpl;
    run.opts = opts ? opts : &defaults;
    run.clock = run.opts->clock ? run.opts->clock : clock_system();
    memset(out, 0, sizeof *out);
    int64_t started = clock_monotonic_ms(run.clock), last_progress = started;
    int64_t total = 0;
    int rc = export_open(&run, out_path, err);
    if (rc == 0 && run.opts->progress)
        rc = data_table_count_rows(db, tmpl->table, &total, err);
    uint64_t rows = 0;
    while (rc == 0) {
        if (run.opts->cancelled && run.opts->cancelled(run.opts->ctx)) {
            rc = sd_error_set(err, SD_ECANCELLED, "the export was cancelled; no file was written");
            break;
        }
        rc = db_step(run.stmt, err);
        if (rc == DB_DONE)
            break;
        if (rc != DB_ROW)
            break;
        if ((rc = xlsx_writer_begin_row(run.w, err)) < 0)
            break;
        for (size_t i = 0; i < tmpl->ncolumns && rc == 0; i++)
            rc = export_value(&run, (uint32_t)i, run.dcols[i].type, err);
        rows++;
        if (run.opts->progress && rows % 64 == 0) {
            int64_t now = clock_monotonic_ms(run.clock);
            if (now - last_progress >= run.opts->progress_interval_ms) {
                last_progress = now;
                run.opts->progress(rows, (uint64_t)total > rows ? (uint64_t)total : rows,
                                   run.opts->ctx);
            }
        }
    }
    if (rc == 0) {
        db_finalize(run.stmt);
        run.stmt = NULL;
        struct xlsx_writer *w = run.w;
        run.w = NULL;
        rc = xlsx_writer_close(w, err);
    }
    export_cleanup(&run);
    if (rc < 0)
        return rc;
    out->rows = rows;
    out->duration_ms = clock_monotonic_ms(run.clock) - started;
    if (run.opts->progress)
        run.opts->progress(rows, rows, run.opts->ctx);
    return 0;
}
