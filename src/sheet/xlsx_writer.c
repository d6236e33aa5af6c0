/*
 * DESIGN
 * ------
 * The workbook part of the XLSX writer (xlsx_writer.h explains the rules). libxlsxwriter in
 * constant_memory mode flushes a row to its temporary file as soon as a cell of a later row
 * is written, and silently drops cells written to an earlier row. So that callers may write
 * the cells of a row in any order and highlight a cell after its value, the writer keeps the
 * current row itself (struct xlsx_sheet_state: a small cell array, a column -> slot index and
 * one text arena, all reused from row to row) and hands it to libxlsxwriter when the next row
 * begins, the sheet changes or the workbook closes.
 *
 * Everything libxlsxwriter would get wrong is settled before it is called: text is cleaned
 * (xlsx_writer_sanitize), numbers are checked to be finite, dates are converted to serials
 * and range-checked, sheet names are validated. The file is written to "<path>.part" and
 * renamed only when workbook_close succeeds.
 */
#include "sheet/xlsx_writer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/civil.h"
#include "base/str.h"
#include "sheet/xlsx_writer_internal.h"

#define XLSX_HIGHLIGHT_FILL 0xFFC7CE
#define XLSX_HIGHLIGHT_FONT 0x9C0006

static const char *const numfmt_codes[XLSX_NUMFMT_COUNT] = {NULL, "yyyy-mm-dd",
                                                            "yyyy-mm-dd hh:mm:ss", "hh:mm:ss"};

int xlsx_writer_lxw_error(struct xlsx_writer *w, lxw_error code, const char *what,
                          struct sd_error *err)
{
    return sd_error_set(err, SD_ERROR, "Could not write %s to %s: %s", what,
                        w ? w->path : "the workbook", lxw_strerror(code));
}

/* Frees what the current sheet state owns and zeroes it; the worksheet itself belongs to
 * the workbook. */
static void sheet_state_release(struct xlsx_sheet_state *s)
{
    for (size_t i = 0; i < s->ncols; i++)
        free(s->headers[i]);
    free(s->headers);
    free(s->widths);
    free(s->seen_width);
    free(s->cells);
    free(s->slot_of_column);
    buf_free(&s->text);
    memset(s, 0, sizeof *s);
}

static void writer_release(struct xlsx_writer *w)
{
    sheet_state_release(&w->sheet);
    for (size_t i = 0; i < w->nsheets; i++)
        free(w->sheet_names[i]);
    free(w->sheet_names);
    buf_free(&w->scratch);
    free(w->path);
    free(w->part_path);
    free(w);
}

void xlsx_writer_free(struct xlsx_writer *w)
{
    if (!w)
        return;
    if (w->wb)
        lxw_workbook_free(w->wb); /* discards: nothing was written yet */
    writer_release(w);
}

/* The nine formats every workbook may need, made up front so that writing a cell never
 * allocates one: plain and highlighted versions of General and the three date/time formats,
 * and the bold header. */
static int make_formats(struct xlsx_writer *w, struct sd_error *err)
{
    for (int hl = 0; hl < 2; hl++) {
        for (int f = 0; f < XLSX_NUMFMT_COUNT; f++) {
            lxw_format *fmt = workbook_add_format(w->wb);
            if (!fmt)
                return sd_error_nomem(err);
            if (numfmt_codes[f])
                format_set_num_format(fmt, numfmt_codes[f]);
            if (hl) {
                format_set_bg_color(fmt, XLSX_HIGHLIGHT_FILL);
                format_set_font_color(fmt, XLSX_HIGHLIGHT_FONT);
            }
            w->formats[hl][f] = fmt;
        }
    }
    w->header_format = workbook_add_format(w->wb);
    if (!w->header_format)
        return sd_error_nomem(err);
    format_set_bold(w->header_format);
    return 0;
}

int xlsx_writer_open(struct xlsx_writer **out, const struct xlsx_writer_options *opts,
                     struct sd_error *err)
{
    *out = NULL;
    if (!opts || opts->version != XLSX_WRITER_OPTIONS_VERSION || !opts->path || !*opts->path)
        return sd_error_set(err, SD_EUSAGE,
                            "The XLSX writer needs options made with XLSX_WRITER_OPTIONS_INIT "
                            "and an output path");
    struct xlsx_writer *w = calloc(1, sizeof *w);
    if (!w)
        return sd_error_nomem(err);
    w->path = str_dup(opts->path);
    if (!w->path || buf_printf(&w->scratch, "%s.part", opts->path) < 0)
        goto nomem;
    w->part_path = buf_detach(&w->scratch);
    if (!w->part_path)
        goto nomem;
    lxw_workbook_options lo = {
        .constant_memory = LXW_TRUE, .tmpdir = (char *)opts->tmpdir, .use_zip64 = LXW_TRUE};
    w->wb = workbook_new_opt(w->part_path, &lo);
    if (!w->wb)
        goto nomem;
    int rc = make_formats(w, err);
    if (rc < 0) {
        xlsx_writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
nomem:
    xlsx_writer_free(w);
    return sd_error_nomem(err);
}

/* Hands the buffered row to libxlsxwriter (in column order is not needed: libxlsxwriter keeps
 * the cells of its current row in a tree) and empties the buffer. */
static int flush_row(struct xlsx_writer *w, struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    lxw_row_t r = s->row - 1;
    for (size_t i = 0; i < s->ncells; i++) {
        const struct xlsx_pending_cell *c = &s->cells[i];
        lxw_format *plain = w->formats[c->highlight][XLSX_NUMFMT_GENERAL];
        lxw_format *fmt = c->highlight ? plain : NULL;
        lxw_error rc;
        switch (c->kind) {
        case XLSX_VALUE_STRING:
            rc = worksheet_write_string(s->ws, r, (lxw_col_t)c->column, s->text.data + c->text_off,
                                        fmt);
            break;
        case XLSX_VALUE_NUMBER:
            rc = worksheet_write_number(s->ws, r, (lxw_col_t)c->column, c->number, fmt);
            break;
        case XLSX_VALUE_BOOL:
            rc = worksheet_write_boolean(s->ws, r, (lxw_col_t)c->column, (int)c->number, fmt);
            break;
        case XLSX_VALUE_DATE:
        case XLSX_VALUE_DATETIME:
        case XLSX_VALUE_TIME: {
            enum xlsx_numfmt nf = c->kind == XLSX_VALUE_DATE       ? XLSX_NUMFMT_DATE
                                  : c->kind == XLSX_VALUE_DATETIME ? XLSX_NUMFMT_DATETIME
                                                                   : XLSX_NUMFMT_TIME;
            rc = worksheet_write_number(s->ws, r, (lxw_col_t)c->column, c->number,
                                        w->formats[c->highlight][nf]);
            break;
        }
        default:
            rc = worksheet_write_blank(s->ws, r, (lxw_col_t)c->column, plain);
            break;
        }
        if (rc != LXW_NO_ERROR)
            return xlsx_writer_lxw_error(w, rc, "a cell", err);
        s->slot_of_column[c->column] = -1;
    }
    s->ncells = 0;
    buf_clear(&s->text);
    return 0;
}

static double clamp_width(double chars)
{
    double width = chars + 2;
    return width < 8 ? 8 : width > 60 ? 60 : width;
}

/* Ends the current sheet: flushes its last row, fixes column widths and the autofilter range
 * (both are stored by libxlsxwriter and only written at close, so setting them last is fine)
 * and frees the sheet state. */
static int finish_sheet(struct xlsx_writer *w, struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    int rc = 0;
    if (!w->has_sheet)
        return 0;
    if (s->ncells > 0 && (rc = flush_row(w, err)) < 0)
        goto done;
    size_t ncols = s->ncols > s->max_column_written ? s->ncols : s->max_column_written;
    for (size_t c = 0; c < ncols; c++) {
        double width = c < s->ncols && s->widths[c] > 0 ? s->widths[c] : 0;
        if (width <= 0) {
            double seen = c < s->nseen ? s->seen_width[c] : 0;
            if (seen <= 0)
                continue; /* an empty column keeps Excel's default */
            width = clamp_width(seen);
        }
        lxw_error lrc = worksheet_set_column(s->ws, (lxw_col_t)c, (lxw_col_t)c, width, NULL);
        if (lrc != LXW_NO_ERROR) {
            rc = xlsx_writer_lxw_error(w, lrc, "a column width", err);
            goto done;
        }
    }
    if (s->header_written && s->ncols > 0) {
        lxw_error lrc = worksheet_autofilter(s->ws, 0, 0, s->row - 1, (lxw_col_t)(s->ncols - 1));
        if (lrc != LXW_NO_ERROR)
            rc = xlsx_writer_lxw_error(w, lrc, "the autofilter", err);
    }
done:
    sheet_state_release(s);
    w->has_sheet = false;
    return rc;
}

int xlsx_writer_close(struct xlsx_writer *w, struct sd_error *err)
{
    int rc = 0;
    if (!w)
        return 0;
    if ((rc = finish_sheet(w, err)) < 0)
        goto fail;
    if (w->nsheets == 0 && (rc = xlsx_writer_add_sheet(w, "Sheet1", err)) < 0)
        goto fail;
    lxw_error lrc = workbook_close(w->wb); /* frees the workbook whatever happens */
    w->wb = NULL;
    if (lrc != LXW_NO_ERROR) {
        rc = xlsx_writer_lxw_error(w, lrc, "the workbook", err);
        unlink(w->part_path);
        goto fail;
    }
    if (rename(w->part_path, w->path) != 0) {
        rc = sd_error_set(err, SD_ERROR, "Could not move the finished workbook to %s: %s", w->path,
                          strerror(errno));
        unlink(w->part_path);
        goto fail;
    }
    writer_release(w);
    return 0;
fail:
    xlsx_writer_free(w);
    return rc;
}

int xlsx_writer_add_sheet(struct xlsx_writer *w, const char *name, struct sd_error *err)
{
    int rc = xlsx_writer_check_sheet_name(w, name, err);
    if (rc < 0)
        return rc;
    if ((rc = finish_sheet(w, err)) < 0)
        return rc;
    char **names = realloc(w->sheet_names, (w->nsheets + 1) * sizeof *names);
    if (!names)
        return sd_error_nomem(err);
    w->sheet_names = names;
    if (!(names[w->nsheets] = str_dup(name)))
        return sd_error_nomem(err);
    lxw_worksheet *ws = workbook_add_worksheet(w->wb, name);
    if (!ws) {
        free(names[w->nsheets]);
        return sd_error_set(err, SD_ERROR, "Could not add the sheet \"%s\" to %s", name, w->path);
    }
    w->nsheets++;
    w->sheet.ws = ws;
    w->has_sheet = true;
    return 0;
}

static int need_sheet(struct xlsx_writer *w, struct sd_error *err)
{
    if (!w->has_sheet)
        return sd_error_set(err, SD_EUSAGE, "Add a sheet to the workbook before writing to it");
    return 0;
}

int xlsx_writer_set_columns(struct xlsx_writer *w, const struct xlsx_column *cols, size_t ncols,
                            struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    int rc = need_sheet(w, err);
    if (rc < 0)
        return rc;
    if (s->row != 0 || s->ncols != 0)
        return sd_error_set(err, SD_EUSAGE,
                            "Columns must be declared once, before any row is written");
    if (ncols > XLSX_WRITER_MAX_COLUMNS)
        return sd_error_set(err, SD_ELIMIT,
                            "A sheet cannot have %zu columns: Excel's limit is 16,384", ncols);
    for (size_t i = 0; i < ncols; i++)
        if (!isfinite(cols[i].width) || cols[i].width < 0 || cols[i].width > 255)
            return sd_error_set(err, SD_EINVALID,
                                "Column %zu has width %g; widths go from 0 (automatic) to 255",
                                i + 1, cols[i].width);
    if (ncols == 0)
        return 0;
    s->headers = calloc(ncols, sizeof *s->headers);
    s->widths = calloc(ncols, sizeof *s->widths);
    if (!s->headers || !s->widths)
        goto nomem;
    s->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        s->widths[i] = cols[i].width;
        if (cols[i].header && *cols[i].header) {
            buf_clear(&w->scratch);
            if (xlsx_writer_sanitize(&w->scratch, cols[i].header, strlen(cols[i].header),
                                     XLSX_WRITER_MAX_CELL_CHARS, true) < 0 ||
                !(s->headers[i] = str_dup(buf_cstr(&w->scratch))))
                goto nomem;
        }
    }
    return 0;
nomem:
    if (s->ncols == 0) {
        free(s->headers);
        free(s->widths);
        s->headers = NULL;
        s->widths = NULL;
    }
    /* otherwise the partly filled arrays stay with the sheet state, which frees them */
    return sd_error_nomem(err);
}

int xlsx_writer_begin_row(struct xlsx_writer *w, struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    int rc = need_sheet(w, err);
    if (rc < 0)
        return rc;
    if (s->row >= XLSX_WRITER_MAX_ROWS)
        return sd_error_set(err, SD_ELIMIT,
                            "The sheet is full: Excel holds at most 1,048,576 rows");
    if (s->ncells > 0 && (rc = flush_row(w, err)) < 0)
        return rc;
    s->row++;
    return 0;
}

uint32_t xlsx_writer_current_row(const struct xlsx_writer *w)
{
    return w->has_sheet ? w->sheet.row : 0;
}

/* Records that column `col` shows `chars` characters, for automatic widths. */
static int note_width(struct xlsx_sheet_state *s, uint32_t col, double chars, struct sd_error *err)
{
    if (col >= s->nseen) {
        size_t n = s->nseen ? s->nseen : 16;
        while (n <= col)
            n *= 2;
        double *p = realloc(s->seen_width, n * sizeof *p);
        if (!p)
            return sd_error_nomem(err);
        memset(p + s->nseen, 0, (n - s->nseen) * sizeof *p);
        s->seen_width = p;
        s->nseen = n;
    }
    if (chars > s->seen_width[col])
        s->seen_width[col] = chars;
    if (col + 1 > s->max_column_written)
        s->max_column_written = col + 1;
    return 0;
}

/* The pending cell for `column` in the current row, created empty when absent. */
static int slot_for(struct xlsx_writer *w, uint32_t column, struct xlsx_pending_cell **out,
                    struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    int rc = need_sheet(w, err);
    if (rc < 0)
        return rc;
    if (s->row == 0)
        return sd_error_set(err, SD_EUSAGE, "Begin a row before writing cells to it");
    if (column >= XLSX_WRITER_MAX_COLUMNS)
        return sd_error_set(err, SD_ELIMIT, "Column %u is past Excel's last column (16,384)",
                            column + 1);
    if (column >= s->nslots) {
        size_t n = s->nslots ? s->nslots : 16;
        while (n <= column)
            n *= 2;
        int32_t *p = realloc(s->slot_of_column, n * sizeof *p);
        if (!p)
            return sd_error_nomem(err);
        for (size_t i = s->nslots; i < n; i++)
            p[i] = -1;
        s->slot_of_column = p;
        s->nslots = n;
    }
    if (s->slot_of_column[column] >= 0) {
        *out = &s->cells[s->slot_of_column[column]];
        return 0;
    }
    if (s->ncells == s->cells_cap) {
        size_t n = s->cells_cap ? s->cells_cap * 2 : 16;
        struct xlsx_pending_cell *p = realloc(s->cells, n * sizeof *p);
        if (!p)
            return sd_error_nomem(err);
        s->cells = p;
        s->cells_cap = n;
    }
    struct xlsx_pending_cell *c = &s->cells[s->ncells];
    memset(c, 0, sizeof *c);
    c->column = column;
    s->slot_of_column[column] = (int32_t)s->ncells++;
    *out = c;
    return 0;
}

static int put_value(struct xlsx_writer *w, uint32_t column, enum xlsx_value_kind kind,
                     double number, double width, struct sd_error *err)
{
    struct xlsx_pending_cell *c;
    int rc = slot_for(w, column, &c, err);
    if (rc < 0)
        return rc;
    c->kind = kind;
    c->number = number;
    return note_width(&w->sheet, column, width, err);
}

int xlsx_writer_write_string(struct xlsx_writer *w, uint32_t column, const char *text, size_t len,
                             struct sd_error *err)
{
    struct xlsx_pending_cell *c;
    int rc = slot_for(w, column, &c, err);
    if (rc < 0)
        return rc;
    struct buf *arena = &w->sheet.text;
    size_t off = arena->len;
    rc = xlsx_writer_sanitize(arena, text, len, XLSX_WRITER_MAX_CELL_CHARS, true);
    if (rc < 0 || buf_putc(arena, '\0') < 0)
        return sd_error_nomem(err);
    if (rc == 1)
        w->truncated++;
    c->kind = XLSX_VALUE_STRING;
    c->text_off = off;
    c->text_len = arena->len - off - 1;
    /* the widest line decides the column's width */
    double widest = 0, line = 0;
    for (size_t i = off; i < off + c->text_len; i++) {
        unsigned char b = (unsigned char)arena->data[i];
        if (b == '\n') {
            line = 0;
        } else if ((b & 0xC0) != 0x80 && ++line > widest) {
            widest = line;
        }
    }
    return note_width(&w->sheet, column, widest, err);
}

int xlsx_writer_write_number(struct xlsx_writer *w, uint32_t column, double value,
                             struct sd_error *err)
{
    if (!isfinite(value))
        return sd_error_set(err, SD_EINVALID,
                            "A spreadsheet cell cannot hold %s; only finite numbers",
                            isnan(value) ? "NaN" : "an infinite number");
    char text[32];
    int n = snprintf(text, sizeof text, "%.10g", value);
    return put_value(w, column, XLSX_VALUE_NUMBER, value, n, err);
}

int xlsx_writer_write_bool(struct xlsx_writer *w, uint32_t column, bool value, struct sd_error *err)
{
    return put_value(w, column, XLSX_VALUE_BOOL, value ? 1 : 0, 5, err);
}

int xlsx_writer_write_date(struct xlsx_writer *w, uint32_t column, double unix_days,
                           struct sd_error *err)
{
    if (!isfinite(unix_days) || unix_days < CIVIL_EXCEL_FIRST_DAY ||
        unix_days >= CIVIL_EXCEL_END_DAY)
        return sd_error_set(err, SD_EINVALID,
                            "Excel can only show dates from 1900-01-01 to 9999-12-31");
    bool whole = unix_days == floor(unix_days);
    return put_value(w, column, whole ? XLSX_VALUE_DATE : XLSX_VALUE_DATETIME,
                     civil_days_to_serial(unix_days), whole ? 10 : 19, err);
}

int xlsx_writer_write_time(struct xlsx_writer *w, uint32_t column, double day_fraction,
                           struct sd_error *err)
{
    if (!isfinite(day_fraction) || day_fraction < 0 || day_fraction >= 1)
        return sd_error_set(err, SD_EINVALID,
                            "A time of day must be a fraction of a day from 0 up to 1");
    return put_value(w, column, XLSX_VALUE_TIME, day_fraction, 8, err);
}

int xlsx_writer_write_cell(struct xlsx_writer *w, uint32_t column, const struct sheet_cell *cell,
                           struct sd_error *err)
{
    switch (cell->type) {
    case SHEET_CELL_STRING:
    case SHEET_CELL_ERROR:
        return xlsx_writer_write_string(w, column, cell->text ? cell->text : "",
                                        cell->text ? cell->text_len : 0, err);
    case SHEET_CELL_NUMBER:
        return xlsx_writer_write_number(w, column, cell->number, err);
    case SHEET_CELL_BOOL:
        return xlsx_writer_write_bool(w, column, cell->number != 0, err);
    case SHEET_CELL_DATE:
        return xlsx_writer_write_date(w, column, cell->number, err);
    case SHEET_CELL_TIME:
        return xlsx_writer_write_time(w, column, cell->number, err);
    }
    return sd_error_set(err, SD_EUSAGE, "The cell has an unknown type %d", (int)cell->type);
}

int xlsx_writer_highlight(struct xlsx_writer *w, uint32_t column, struct sd_error *err)
{
    struct xlsx_pending_cell *c;
    int rc = slot_for(w, column, &c, err);
    if (rc < 0)
        return rc;
    c->highlight = true;
    return 0;
}

int xlsx_writer_write_header(struct xlsx_writer *w, struct sd_error *err)
{
    struct xlsx_sheet_state *s = &w->sheet;
    int rc = need_sheet(w, err);
    if (rc < 0)
        return rc;
    if (s->row != 0)
        return sd_error_set(err, SD_EUSAGE, "The header must be the sheet's first row");
    if ((rc = xlsx_writer_begin_row(w, err)) < 0)
        return rc;
    for (size_t i = 0; i < s->ncols; i++) {
        if (!s->headers[i])
            continue;
        lxw_error lrc =
            worksheet_write_string(s->ws, 0, (lxw_col_t)i, s->headers[i], w->header_format);
        if (lrc != LXW_NO_ERROR)
            return xlsx_writer_lxw_error(w, lrc, "a header cell", err);
        /* bold text and the autofilter button need room beyond the text itself */
        rc = note_width(s, (uint32_t)i,
                        (double)str_utf8_length(s->headers[i], strlen(s->headers[i])) + 3, err);
        if (rc < 0)
            return rc;
    }
    worksheet_freeze_panes(s->ws, 1, 0);
    s->header_written = true;
    return 0;
}

int xlsx_writer_open_table(struct xlsx_writer **out, const struct xlsx_writer_options *opts,
                           const char *title, const struct xlsx_column *cols, size_t ncols,
                           struct sd_error *err)
{
    char name[XLSX_WRITER_SHEET_NAME_SIZE];
    xlsx_writer_sheet_name(title, name);
    struct xlsx_writer *w = NULL;
    int rc;
    if ((rc = xlsx_writer_open(&w, opts, err)) < 0 ||
        (rc = xlsx_writer_add_sheet(w, name, err)) < 0 ||
        (rc = xlsx_writer_set_columns(w, cols, ncols, err)) < 0 ||
        (rc = xlsx_writer_write_header(w, err)) < 0) {
        xlsx_writer_free(w);
        *out = NULL;
        return rc;
    }
    *out = w;
    return 0;
}

uint64_t xlsx_writer_truncated_cells(const struct xlsx_writer *w)
{
    return w->truncated;
}
