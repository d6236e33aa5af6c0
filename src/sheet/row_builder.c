/*
 * DESIGN
 * ------
 * Backends hand cells to the builder in whatever order the file has them; the builder keeps
 * them in one array and their text in one arena (struct buf), both reused from row to row,
 * so reading a sheet costs a few allocations in total rather than one per cell.
 *
 * Text is stored by offset while the row is being built (the arena may move as it grows)
 * and turned into pointers by row_builder_finish. Cells normally arrive in increasing
 * column order, which is checked as they come; only when they do not is the row sorted, by
 * (column, arrival) so that a column given twice keeps the value that came last.
 *
 * UTF-8 is checked here, once, for every backend: invalid sequences become U+FFFD, and the
 * code points are counted in the same pass for the cell-length limit.
 */
#include "sheet/row_builder.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/cell_format.h"

#define NO_TEXT ((size_t)-1)

void row_builder_init(struct row_builder *rb, const struct sheet_limits *limits,
                      const char *display_name)
{
    memset(rb, 0, sizeof *rb);
    rb->limits = limits;
    rb->display_name = display_name;
    rb->sorted = true;
}

void row_builder_free(struct row_builder *rb)
{
    free(rb->cells);
    free(rb->text_offsets);
    free(rb->scratch);
    buf_free(&rb->text);
    memset(rb, 0, sizeof *rb);
}

void row_builder_begin(struct row_builder *rb, uint32_t row_number)
{
    rb->ncells = 0;
    rb->row_number = row_number;
    rb->sorted = true;
    buf_clear(&rb->text);
}

bool row_builder_is_empty(const struct row_builder *rb)
{
    return rb->ncells == 0;
}

static int limit_column(struct row_builder *rb, uint32_t column, struct sd_error *err)
{
    char name[8];
    cell_format_column_name(column, name);
    return sd_error_set(
        err, SD_ELIMIT, "%s: row %u has a cell in column %s, beyond the limit of %u columns",
        rb->display_name, (unsigned)rb->row_number, name, (unsigned)rb->limits->max_columns);
}

/* Reserves a cell slot for `column` and returns it, or NULL after setting err. A column equal
 * to the previous one overwrites it in place, which keeps the common duplicate case out of
 * the sort. */
static struct sheet_cell *new_cell(struct row_builder *rb, uint32_t column, struct sd_error *err)
{
    if (column >= rb->limits->max_columns) {
        limit_column(rb, column, err);
        return NULL;
    }
    if (rb->ncells > 0 && rb->sorted) {
        uint32_t last = rb->cells[rb->ncells - 1].column;
        if (column == last) {
            rb->ncells--;
        } else if (column < last) {
            rb->sorted = false;
        }
    }
    if (rb->ncells == rb->cap) {
        size_t cap = rb->cap ? rb->cap * 2 : 32;
        struct sheet_cell *cells = realloc(rb->cells, cap * sizeof *cells);
        if (!cells) {
            sd_error_nomem(err);
            return NULL;
        }
        rb->cells = cells;
        size_t *offs = realloc(rb->text_offsets, cap * sizeof *offs);
        if (!offs) {
            sd_error_nomem(err);
            return NULL;
        }
        rb->text_offsets = offs;
        rb->cap = cap;
    }
    struct sheet_cell *cell = &rb->cells[rb->ncells];
    cell->column = column;
    cell->number = 0;
    cell->text = NULL;
    cell->text_len = 0;
    rb->text_offsets[rb->ncells] = NO_TEXT;
    rb->ncells++;
    return cell;
}

/* Copies text into the arena, replacing invalid UTF-8 by U+FFFD, and checks the length limit
 * on the code points written. On success the cell's offset and length are set. */
static int add_text(struct row_builder *rb, struct sheet_cell *cell, const char *text, size_t len,
                    struct sd_error *err)
{
    size_t start = rb->text.len;
    if (buf_grow(&rb->text, len + 1) < 0)
        return sd_error_nomem(err);
    const unsigned char *s = (const unsigned char *)text;
    size_t chars = 0;
    size_t i = 0;
    size_t run = 0; /* start of the pending run of valid bytes */
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            chars++;
            continue;
        }
        size_t n = str_utf8_sequence_length(text + i, len - i);
        if (n) {
            i += n;
            chars++;
            continue;
        }
        if (buf_append(&rb->text, text + run, i - run) < 0 ||
            buf_append(&rb->text, "\xEF\xBF\xBD", 3) < 0)
            goto nomem;
        chars++;
        i++;
        run = i;
    }
    if (buf_append(&rb->text, text + run, len - run) < 0)
        goto nomem;
    if (chars > rb->limits->max_cell_chars) {
        char ref[16];
        cell_format_ref(cell->column, rb->row_number, ref);
        buf_truncate(&rb->text, start);
        rb->ncells--;
        return sd_error_set(err, SD_ELIMIT,
                            "%s: cell %s holds %zu characters, more than the limit of %u",
                            rb->display_name, ref, chars, (unsigned)rb->limits->max_cell_chars);
    }
    if (buf_putc(&rb->text, '\0') < 0)
        goto nomem;
    rb->text_offsets[cell - rb->cells] = start;
    cell->text_len = rb->text.len - 1 - start;
    return 0;
nomem:
    buf_truncate(&rb->text, start);
    rb->ncells--;
    return sd_error_nomem(err);
}

/* A cell of `type` whose text the builder copies; empty text is no cell. */
static int add_copied(struct row_builder *rb, uint32_t column, enum sheet_cell_type type,
                      const char *text, size_t len, struct sd_error *err)
{
    if (len == 0)
        return 0;
    struct sheet_cell *cell = new_cell(rb, column, err);
    if (!cell)
        return err ? err->code : SD_ERROR;
    cell->type = type;
    return add_text(rb, cell, text, len, err);
}

int row_builder_add_string(struct row_builder *rb, uint32_t column, const char *text, size_t len,
                           struct sd_error *err)
{
    return add_copied(rb, column, SHEET_CELL_STRING, text, len, err);
}

int row_builder_add_string_ref(struct row_builder *rb, uint32_t column, const char *text,
                               size_t len, struct sd_error *err)
{
    if (len == 0)
        return 0;
    /* Bytes bound characters from above, so only long text needs counting. */
    if (len > rb->limits->max_cell_chars) {
        size_t chars = str_utf8_length(text, len);
        if (chars > rb->limits->max_cell_chars) {
            char ref[16];
            cell_format_ref(column, rb->row_number, ref);
            return sd_error_set(err, SD_ELIMIT,
                                "%s: cell %s holds %zu characters, more than the limit of %u",
                                rb->display_name, ref, chars, (unsigned)rb->limits->max_cell_chars);
        }
    }
    struct sheet_cell *cell = new_cell(rb, column, err);
    if (!cell)
        return err ? err->code : SD_ERROR;
    cell->type = SHEET_CELL_STRING;
    cell->text = text;
    cell->text_len = len;
    return 0;
}

int row_builder_add_error(struct row_builder *rb, uint32_t column, const char *text, size_t len,
                          struct sd_error *err)
{
    return add_copied(rb, column, SHEET_CELL_ERROR, text, len, err);
}

static int add_value(struct row_builder *rb, uint32_t column, enum sheet_cell_type type,
                     double value, struct sd_error *err)
{
    struct sheet_cell *cell = new_cell(rb, column, err);
    if (!cell)
        return err ? err->code : SD_ERROR;
    cell->type = type;
    cell->number = value;
    return 0;
}

int row_builder_add_number(struct row_builder *rb, uint32_t column, double value,
                           struct sd_error *err)
{
    return add_value(rb, column, SHEET_CELL_NUMBER, value, err);
}

int row_builder_add_bool(struct row_builder *rb, uint32_t column, bool value, struct sd_error *err)
{
    return add_value(rb, column, SHEET_CELL_BOOL, value ? 1.0 : 0.0, err);
}

int row_builder_add_date(struct row_builder *rb, uint32_t column, double unix_days,
                         struct sd_error *err)
{
    return add_value(rb, column, SHEET_CELL_DATE, unix_days, err);
}

int row_builder_add_time(struct row_builder *rb, uint32_t column, double day_fraction,
                         struct sd_error *err)
{
    return add_value(rb, column, SHEET_CELL_TIME, day_fraction, err);
}

struct sort_key {
    uint32_t column;
    uint32_t arrival;
};

static int compare_keys(const void *a, const void *b)
{
    const struct sort_key *x = a;
    const struct sort_key *y = b;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->arrival < y->arrival ? -1 : x->arrival > y->arrival;
}

/* Sorts the cells by column and drops all but the last value of a repeated column. The keys
 * and the permuted copy share one scratch allocation that stays with the builder. */
static int sort_cells(struct row_builder *rb, struct sd_error *err)
{
    size_t n = rb->ncells;
    size_t need = n * (sizeof(struct sort_key) + sizeof(struct sheet_cell) + sizeof(size_t));
    if (need > rb->scratch_cap) {
        void *p = realloc(rb->scratch, need);
        if (!p)
            return sd_error_nomem(err);
        rb->scratch = p;
        rb->scratch_cap = need;
    }
    struct sheet_cell *cells = rb->scratch;
    size_t *offs = (size_t *)(cells + n);
    struct sort_key *keys = (struct sort_key *)(offs + n);
    for (size_t i = 0; i < n; i++) {
        keys[i].column = rb->cells[i].column;
        keys[i].arrival = (uint32_t)i;
    }
    qsort(keys, n, sizeof *keys, compare_keys);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && keys[i + 1].column == keys[i].column)
            continue; /* a later value of the same column follows */
        cells[out] = rb->cells[keys[i].arrival];
        offs[out] = rb->text_offsets[keys[i].arrival];
        out++;
    }
    memcpy(rb->cells, cells, out * sizeof *cells);
    memcpy(rb->text_offsets, offs, out * sizeof *offs);
    rb->ncells = out;
    rb->sorted = true;
    return 0;
}

int row_builder_finish(struct row_builder *rb, uint32_t row_number, const struct sheet_row **out,
                       struct sd_error *err)
{
    rb->row_number = row_number;
    if (row_number == 0)
        return sd_error_set(err, SD_EINVALID, "%s: a row is numbered 0; rows start at 1",
                            rb->display_name);
    if (row_number > rb->limits->max_rows)
        return sd_error_set(err, SD_ELIMIT, "%s: row %u is beyond the limit of %u rows",
                            rb->display_name, (unsigned)row_number, (unsigned)rb->limits->max_rows);
    if (!rb->sorted) {
        int rc = sort_cells(rb, err);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < rb->ncells; i++)
        if (rb->text_offsets[i] != NO_TEXT)
            rb->cells[i].text = rb->text.data + rb->text_offsets[i];
    rb->row.number = row_number;
    rb->row.ncells = rb->ncells;
    rb->row.cells = rb->cells;
    *out = &rb->row;
    return 0;
}
