/*
 * DESIGN
 * ------
 * Rows of one ODS sheet, streamed from content.xml. Every sheet of an ODS workbook lives in
 * that one part, as a top-level <table:table>; reading sheet N means parsing past the first
 * N tables and then turning <table:table-row> elements into rows until the table ends.
 *
 * Repetition is the format's compression: `table:number-rows-repeated` and
 * `table:number-columns-repeated` say "this row/cell N times", and LibreOffice pads every
 * sheet with `number-columns-repeated="16384"` empty cells and a million repeated empty rows.
 * So a row is assembled as RUNS (struct ods_run: a value and how many columns it covers),
 * never expanded while parsing; empty cells and empty rows only move the column and row
 * counters, whatever their count. A row with values that is repeated is handed out once
 * per repetition from the same runs (ods_reader.c), so nothing is allocated per copy.
 *
 * Hostile repeats are bounded three ways: a value may not land past limits.max_columns or a
 * row with values past limits.max_rows (SD_ELIMIT, checked on the counts before anything is
 * expanded), and the work repetition creates — copied cells, text copied with them, spaces
 * from <text:s text:c="N"/> — is charged to ODS_REPEAT_CELL_BUDGET per sheet.
 *
 * Cell text: the <text:p>/<text:h> children of the cell, joined with "\n"; inside them
 * <text:span>, <text:a> and other inline elements contribute their text, <text:s> spaces,
 * <text:tab> a TAB and <text:line-break> a LF. Literal white space in character data is
 * collapsed as ODF specifies: a run becomes one space, and none is kept at the start of a
 * paragraph (LibreOffice writes leading and repeated spaces as <text:s>, a single trailing
 * space literally). A white space written as a character reference (`&#x9;`, `&#xa;`,
 * `&#x0d;`, `&#x20;`) is not collapsed: it is kept as written, as LibreOffice reads it.
 * <office:annotation> (comments) and anything that is not a paragraph of the cell itself (drawings,
 * their captions, text boxes) are left out.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/cell_format.h"
#include "sheet/ods_internal.h"

/* Each cost unit of a copied cell covers this many bytes of its text. */
#define ODS_TEXT_COST_BYTES 32

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t out;
    return __builtin_mul_overflow(a, b, &out) ? UINT64_MAX : out;
}

static void fail(struct ods_rows *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Stops the parser for good with a sentence; the first failure wins. */
static void fail(struct ods_rows *r, int code, const char *fmt, ...)
{
    struct sd_error e = SD_ERROR_INIT;
    va_list ap;
    va_start(ap, fmt);
    sd_error_setv(&e, code, fmt, ap);
    va_end(ap);
    xml_stream_fail(r->xs, &e);
    r->finished = true;
}

static void fail_nomem(struct ods_rows *r)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    xml_stream_fail(r->xs, &e);
    r->finished = true;
}

static bool charge(struct ods_rows *r, uint64_t work)
{
    r->generated = sat_add(r->generated, work);
    if (r->generated <= ODS_REPEAT_CELL_BUDGET)
        return true;
    fail(r, SD_ELIMIT,
         "%s: sheet \"%s\" repeats its cells into more than %llu copies, far beyond what the "
         "file holds; it is refused as a possible decompression bomb",
         r->display_name, r->sheet_name, (unsigned long long)ODS_REPEAT_CELL_BUDGET);
    return false;
}

/* The most bytes a cell's text may reach before it is certainly over max_cell_chars code
 * points: then the cell is refused instead of collecting more. */
static size_t text_cap(const struct ods_rows *r)
{
    return (size_t)r->limits->max_cell_chars * 4 + 4;
}

static void put_text(struct ods_rows *r, const char *s, size_t len)
{
    if (r->cell_text_full)
        return;
    if (r->cell_text.len + len > text_cap(r)) {
        r->cell_text_full = true;
        return;
    }
    if (buf_append(&r->cell_text, s, len) < 0)
        fail_nomem(r);
}

/* Writes the space a collapsed run of white space stands for, before other content. */
static void flush_space(struct ods_rows *r)
{
    if (r->pending_space) {
        r->pending_space = false;
        put_text(r, " ", 1);
    }
}

static void start_cell(struct ods_rows *r, const char **attrs)
{
    const char *string_value;
    r->in_cell = true;
    r->cell_depth = r->depth;
    r->cell_repeat = ods_parse_repeat(xml_attr_ns(attrs, ODS_NS_TABLE, "number-columns-repeated"));
    r->cell_kind = ods_cell_value(attrs, &r->cell_number, &string_value);
    r->paragraphs = 0;
    r->par_depth = 0;
    r->ignore_depth = 0;
    r->pending_space = false;
    r->cell_text_full = false;
    buf_clear(&r->cell_text);
    buf_clear(&r->cell_attr_text);
    if (string_value && buf_puts(&r->cell_attr_text, string_value) < 0)
        fail_nomem(r);
}

static void start_in_cell(struct ods_rows *r, const char *local, const char **attrs)
{
    if (str_eq(local, "annotation")) {
        r->ignore_depth = r->depth;
        return;
    }
    if (r->par_depth == 0) {
        if (r->depth == r->cell_depth + 1 && (str_eq(local, "p") || str_eq(local, "h"))) {
            if (r->paragraphs++ > 0)
                put_text(r, "\n", 1);
            r->par_depth = r->depth;
            r->pending_space = false;
            r->par_has_text = false;
        }
        return;
    }
    if (str_eq(local, "s")) {
        uint64_t n = ods_parse_repeat(xml_attr_ns(attrs, ODS_NS_TEXT, "c"));
        flush_space(r);
        if (n > 1 && !charge(r, n - 1))
            return;
        for (uint64_t i = 0; i < n && !r->cell_text_full; i++)
            put_text(r, " ", 1);
        r->par_has_text = true;
    } else if (str_eq(local, "tab")) {
        flush_space(r);
        put_text(r, "\t", 1);
        r->par_has_text = true;
    } else if (str_eq(local, "line-break")) {
        flush_space(r);
        put_text(r, "\n", 1);
        r->par_has_text = true;
    }
}

static void on_start(void *ctx, const char *local, const char **attrs)
{
    struct ods_rows *r = ctx;
    r->depth++;
    if (r->finished)
        return;
    if (str_eq(local, "table")) {
        if (r->open_tables++ == 0 && r->tables_seen++ == r->target)
            r->table_depth = r->depth;
        return;
    }
    if (r->table_depth == 0 || r->open_tables != 1)
        return;
    if (r->in_cell) {
        if (r->ignore_depth == 0)
            start_in_cell(r, local, attrs);
        return;
    }
    if (str_eq(local, "table-row")) {
        r->in_row = true;
        r->row_repeat = ods_parse_repeat(xml_attr_ns(attrs, ODS_NS_TABLE, "number-rows-repeated"));
        r->column = 0;
        r->nruns = 0;
        r->row_cost = 0;
        r->row_base_cost = 0;
        buf_clear(&r->text);
    } else if (r->in_row && (str_eq(local, "table-cell") || str_eq(local, "covered-table-cell"))) {
        start_cell(r, attrs);
    }
}

static void on_text(void *ctx, const char *s, int len)
{
    struct ods_rows *r = ctx;
    if (r->finished || !r->in_cell || r->par_depth == 0 || r->ignore_depth != 0)
        return;
    /* A white space written as a reference (&#x9; &#xa; &#x0d; &#x20;) is an explicit request
     * for that character: it is kept as written, wherever it stands in the paragraph. */
    if (len == 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') &&
        xml_stream_text_is_reference(r->xs)) {
        flush_space(r);
        put_text(r, s, 1);
        r->par_has_text = true;
        return;
    }
    int i = 0;
    while (i < len) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (r->par_has_text)
                r->pending_space = true;
            i++;
            continue;
        }
        int j = i;
        while (j < len && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n')
            j++;
        flush_space(r);
        put_text(r, s + i, (size_t)(j - i));
        r->par_has_text = true;
        i = j;
    }
}

/* Turns the finished cell into a run when it holds a value. */
static void end_cell(struct ods_rows *r)
{
    r->in_cell = false;
    enum sheet_cell_type type = SHEET_CELL_STRING;
    const struct buf *text = NULL;
    switch (r->cell_kind) {
    case ODS_VALUE_NUMBER:
        type = SHEET_CELL_NUMBER;
        break;
    case ODS_VALUE_DATE:
        type = SHEET_CELL_DATE;
        break;
    case ODS_VALUE_TIME:
        type = SHEET_CELL_TIME;
        break;
    case ODS_VALUE_BOOL:
        type = SHEET_CELL_BOOL;
        break;
    case ODS_VALUE_STRING_ATTR:
        text = &r->cell_attr_text;
        break;
    case ODS_VALUE_ERROR:
        type = SHEET_CELL_ERROR;
        text = &r->cell_text;
        break;
    case ODS_VALUE_TEXT:
        text = &r->cell_text;
        break;
    }
    uint64_t first = r->column;
    r->column = sat_add(r->column, r->cell_repeat);
    if (text && text->len == 0 && !r->cell_text_full)
        return; /* an empty cell, however often repeated */
    char ref[16];
    uint32_t max_cols = r->limits->max_columns;
    uint32_t row32 = r->row > UINT32_MAX ? UINT32_MAX : (uint32_t)r->row;
    if (first >= max_cols || r->cell_repeat > max_cols - first) {
        fail(r, SD_ELIMIT,
             "%s: sheet \"%s\" has a value in row %llu beyond column %u, the most a sheet may "
             "have",
             r->display_name, r->sheet_name, (unsigned long long)r->row, max_cols);
        return;
    }
    if (text && r->cell_text_full) {
        cell_format_ref((uint32_t)first, row32, ref);
        fail(r, SD_ELIMIT, "%s: cell %s on sheet \"%s\" holds more than %u characters",
             r->display_name, ref, r->sheet_name, r->limits->max_cell_chars);
        return;
    }
    if (r->nruns == r->runs_cap) {
        size_t n = r->runs_cap ? r->runs_cap * 2 : 32;
        struct ods_run *p = realloc(r->runs, n * sizeof *p);
        if (!p) {
            fail_nomem(r);
            return;
        }
        r->runs = p;
        r->runs_cap = n;
    }
    struct ods_run *run = &r->runs[r->nruns];
    run->column = first;
    run->repeat = r->cell_repeat;
    run->type = type;
    run->number = r->cell_number;
    run->text_off = r->text.len;
    run->text_len = text ? text->len : 0;
    if (text && (buf_append(&r->text, text->data, text->len) < 0 || buf_putc(&r->text, '\0') < 0)) {
        fail_nomem(r);
        return;
    }
    r->nruns++;
    uint64_t unit = 1 + run->text_len / ODS_TEXT_COST_BYTES;
    r->row_cost = sat_add(r->row_cost, sat_mul(unit, run->repeat));
    r->row_base_cost = sat_add(r->row_base_cost, unit);
}

/* A row ended: rows without values only advance the counter; a row with values is checked
 * against the limits and the budget as a whole, then handed out. */
static void end_row(struct ods_rows *r)
{
    r->in_row = false;
    uint64_t first = r->row;
    r->row = sat_add(r->row, r->row_repeat);
    if (r->nruns == 0)
        return;
    uint64_t last = sat_add(first, r->row_repeat - 1);
    if (last > r->limits->max_rows) {
        fail(r, SD_ELIMIT, "%s: sheet \"%s\" has values in row %llu, past the limit of %u rows",
             r->display_name, r->sheet_name,
             (unsigned long long)(first > r->limits->max_rows ? first
                                                              : (uint64_t)r->limits->max_rows + 1),
             r->limits->max_rows);
        return;
    }
    uint64_t total = sat_mul(r->row_cost, r->row_repeat);
    if (total > r->row_base_cost && !charge(r, total - r->row_base_cost))
        return;
    r->emit_row = first;
    r->emit_left = r->row_repeat;
    r->row_ready = true;
    xml_stream_suspend(r->xs);
}

static void on_end(void *ctx, const char *local)
{
    struct ods_rows *r = ctx;
    unsigned depth = r->depth--;
    if (r->finished)
        return;
    if (str_eq(local, "table") && r->open_tables > 0) {
        r->open_tables--;
        if (depth == r->table_depth) {
            r->finished = true;
            xml_stream_finish(r->xs);
        }
        return;
    }
    if (r->table_depth == 0 || r->open_tables != 1)
        return;
    if (r->in_cell) {
        if (r->ignore_depth != 0) {
            if (depth == r->ignore_depth)
                r->ignore_depth = 0;
        } else if (depth == r->par_depth) {
            flush_space(r); /* a trailing space is kept, as LibreOffice writes and reads it */
            r->par_depth = 0;
        } else if (depth == r->cell_depth) {
            end_cell(r);
        }
        return;
    }
    if (r->in_row && str_eq(local, "table-row"))
        end_row(r);
}

int ods_rows_start(struct ods_rows *r, struct zip_guard *zg, uint64_t content_index, size_t target,
                   struct sd_error *err)
{
    static const struct xml_stream_handlers handlers = {
        .start = on_start, .end = on_end, .text = on_text};
    struct xml_stream *xs = NULL;
    r->target = target;
    r->tables_seen = 0;
    r->depth = 0;
    r->table_depth = 0;
    r->open_tables = 0;
    r->finished = false;
    r->in_row = false;
    r->in_cell = false;
    r->row = 1;
    r->nruns = 0;
    r->emit_left = 0;
    r->generated = 0;
    r->row_ready = false;
    int rc = xml_stream_open(&xs, zg, content_index, &handlers, r, err);
    if (rc < 0)
        return rc;
    r->xs = xs;
    return 0;
}

void ods_rows_stop(struct ods_rows *r)
{
    if (r->xs)
        xml_stream_close(r->xs);
    r->xs = NULL;
    free(r->runs);
    r->runs = NULL;
    r->nruns = r->runs_cap = 0;
    buf_free(&r->text);
    buf_free(&r->cell_text);
    buf_free(&r->cell_attr_text);
    r->emit_left = 0;
}

int ods_rows_pull(struct ods_rows *r, struct sd_error *err)
{
    if (!r->xs)
        return 0;
    r->row_ready = false;
    int rc = xml_stream_run(r->xs, err);
    if (rc == 1 && !r->row_ready)
        return sd_error_set(err, SD_ERROR, "%s: the ODS reader stopped without a row",
                            r->display_name);
    return rc;
}
