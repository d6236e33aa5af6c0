/*
 * DESIGN
 * ------
 * Cell records of a BIFF5/BIFF8 worksheet and the order they come in.
 *
 * Decoding: LABELSST (index into the SST), LABEL and RSTRING (inline text), NUMBER, RK and
 * MULRK (packed numbers), BOOLERR (a boolean or an error code) and FORMULA (its cached
 * result: a number, a boolean, an error, an empty string, or "a string follows in the next
 * STRING record"). A number becomes a date or a time when its XF's number format says so.
 * BLANK and MULBLANK are empty cells and are not reported.
 *
 * Order: Excel writes cell records row by row, and the reader streams them straight into
 * the row builder, which sorts the columns of one row. Nothing in the format guarantees
 * the row order, though, and a streaming reader cannot go back to a row it has already
 * handed out. So selecting a sheet first scans its records once (reading only, keeping
 * nothing) and checks that rows never go backwards. When they do, that one sheet is read
 * whole into a compact array (xls_buffered), sorted by row, column and record order, and
 * served from there: memory then follows the cells the sheet really holds, never a count it
 * claims, and files written in order (all the ones we have seen) stay in constant memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "sheet/cell_format.h"
#include "sheet/numfmt.h"
#include "sheet/xls_internal.h"

struct xls_buffered_cell {
    uint32_t row;
    uint32_t col;
    uint64_t seq; /* record order, so a cell given twice keeps the last value */
    enum sheet_cell_type type;
    double number;
    size_t text; /* offset into the arena, or SIZE_MAX */
    size_t len;
};

struct xls_buffered {
    struct xls_buffered_cell *cells;
    size_t n;
    size_t cap;
    struct buf arena;
    size_t next;
};

bool xls_cell_record_row(const struct xls_stream *s, uint32_t *row)
{
    switch (s->type) {
    case XLS_LABELSST:
    case XLS_LABEL:
    case XLS_RSTRING:
    case XLS_NUMBER:
    case XLS_RK:
    case XLS_MULRK:
    case XLS_BOOLERR:
    case XLS_FORMULA:
    case XLS_FORMULA3:
    case XLS_FORMULA4:
        if (s->len < 4)
            return false;
        *row = le_load16(s->body);
        return true;
    default:
        return false;
    }
}

static double rk_value(uint32_t rk)
{
    double v;
    if (rk & 2) {
        v = (double)((int32_t)rk >> 2);
    } else {
        uint64_t bits = (uint64_t)(rk & 0xFFFFFFFCu) << 32;
        memcpy(&v, &bits, sizeof v);
    }
    return (rk & 1) ? v / 100.0 : v;
}

static const char *error_text(uint8_t code)
{
    switch (code) {
    case 0x00:
        return "#NULL!";
    case 0x07:
        return "#DIV/0!";
    case 0x0F:
        return "#VALUE!";
    case 0x17:
        return "#REF!";
    case 0x1D:
        return "#NAME?";
    case 0x24:
        return "#NUM!";
    case 0x2A:
        return "#N/A";
    case 0x2B:
        return "#GETTING_DATA";
    default:
        return "#N/A"; /* codes Excel does not define: the closest meaning, "no value" */
    }
}

/* Types a number by its XF: a date (in the workbook's date system), a time of day, or a
 * plain number. Serials a date cannot show (negative, past 9999, not finite) stay numbers,
 * as do time-formatted values of a day or more, which read as date-times. */
static void type_number(const struct xls_book *b, uint16_t xf, double v, struct xls_value *out)
{
    out->type = SHEET_CELL_NUMBER;
    out->number = v;
    if (xf >= b->nxf || !isfinite(v))
        return;
    enum numfmt_kind kind = (enum numfmt_kind)b->xf_kinds[xf];
    double days;
    if (kind == NUMFMT_TIME && v >= 0 && v < 1) {
        out->type = SHEET_CELL_TIME;
    } else if (kind != NUMFMT_NUMBER && civil_serial_to_days(v, b->base.uses_1904, &days)) {
        out->type = SHEET_CELL_DATE;
        out->number = days;
    }
}

static int damaged(const struct xls_book *b, const char *what, struct sd_error *err)
{
    return sd_error_set(err, SD_EINVALID, "%s is damaged: %s at byte %lld is too short",
                        b->base.display_name, what, (long long)b->stream->offset);
}

static int read_inline_text(struct xls_book *b, size_t skip, struct sd_error *err)
{
    struct xls_cursor c;
    buf_clear(&b->text);
    xls_cursor_init(&c, b->stream, skip);
    if (b->biff8)
        return xls_read_unicode(&c, 2, &b->text, err);
    return xls_read_bytes_string(&c, 2, &b->codec, &b->text, err);
}

static int emit_text(struct xls_book *b, struct xls_value *v,
                     int (*emit)(struct xls_book *, const struct xls_value *, struct sd_error *),
                     struct sd_error *err)
{
    v->type = SHEET_CELL_STRING;
    v->text = b->text.data ? b->text.data : "";
    v->len = b->text.len;
    return emit(b, v, err);
}

static int decode_formula(struct xls_book *b, struct xls_value *v,
                          int (*emit)(struct xls_book *, const struct xls_value *,
                                      struct sd_error *),
                          struct sd_error *err)
{
    const uint8_t *p = b->stream->body;
    if (b->stream->len < 14)
        return damaged(b, "a formula cell", err);
    if (le_load16(p + 12) != 0xFFFF) {
        type_number(b, le_load16(p + 4), xls_le_double(p + 6), v);
        return emit(b, v, err);
    }
    switch (p[6]) {
    case 0: /* string: its text is in the STRING record that follows */
        b->pending_string = true;
        b->pending_row = v->row;
        b->pending_col = v->col;
        return 0;
    case 1:
        v->type = SHEET_CELL_BOOL;
        v->number = p[8] ? 1 : 0;
        return emit(b, v, err);
    case 2:
        v->type = SHEET_CELL_ERROR;
        v->text = error_text(p[8]);
        v->len = strlen(v->text);
        return emit(b, v, err);
    default: /* 3: an empty string, i.e. an empty cell; others are undefined: the same */
        return 0;
    }
}

/* Decodes the record in b->stream. Text handed to emit lives in the SST or b->text and is
 * copied by the emitter. */
int xls_cells_decode(struct xls_book *b,
                     int (*emit)(struct xls_book *b, const struct xls_value *v,
                                 struct sd_error *err),
                     struct sd_error *err)
{
    const struct xls_stream *s = b->stream;
    const uint8_t *p = s->body;
    struct xls_value v = {0};
    int rc;

    if (s->type == XLS_STRING) {
        if (!b->pending_string)
            return 0;
        b->pending_string = false;
        v.row = b->pending_row;
        v.col = b->pending_col;
        if ((rc = read_inline_text(b, 0, err)) < 0)
            return rc;
        return emit_text(b, &v, emit, err);
    }
    if (!xls_cell_record_row(s, &v.row))
        return 0;
    b->pending_string = false;
    if (s->len < 6)
        return damaged(b, "a cell record", err);
    v.col = le_load16(p + 2);
    uint16_t xf = le_load16(p + 4);

    switch (s->type) {
    case XLS_LABELSST: {
        if (s->len < 10)
            return damaged(b, "a text cell", err);
        uint32_t idx = le_load32(p + 6);
        v.type = SHEET_CELL_STRING;
        v.text = xls_sst_get(&b->sst, idx, &v.len);
        if (!v.text) {
            char ref[16];
            cell_format_ref(v.col, v.row + 1, ref);
            return sd_error_set(err, SD_EINVALID,
                                "%s is damaged: cell %s refers to shared string %lu but the "
                                "workbook holds only %zu",
                                b->base.display_name, ref, (unsigned long)idx, b->sst.count);
        }
        return emit(b, &v, err);
    }
    case XLS_LABEL:
    case XLS_RSTRING:
        if ((rc = read_inline_text(b, 6, err)) < 0)
            return rc;
        return emit_text(b, &v, emit, err);
    case XLS_NUMBER:
        if (s->len < 14)
            return damaged(b, "a number cell", err);
        type_number(b, xf, xls_le_double(p + 6), &v);
        return emit(b, &v, err);
    case XLS_RK:
        if (s->len < 10)
            return damaged(b, "a number cell", err);
        type_number(b, xf, rk_value(le_load32(p + 6)), &v);
        return emit(b, &v, err);
    case XLS_MULRK: {
        /* Entries are counted from the record length, not from its last-column field. */
        size_t n = (s->len - 4) / 6;
        uint32_t first = v.col;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *e = p + 4 + 6 * i;
            v.col = first + (uint32_t)i;
            type_number(b, le_load16(e), rk_value(le_load32(e + 2)), &v);
            if ((rc = emit(b, &v, err)) < 0)
                return rc;
        }
        return 0;
    }
    case XLS_BOOLERR:
        if (s->len < 8)
            return damaged(b, "a boolean or error cell", err);
        if (p[7]) {
            v.type = SHEET_CELL_ERROR;
            v.text = error_text(p[6]);
            v.len = strlen(v.text);
        } else {
            v.type = SHEET_CELL_BOOL;
            v.number = p[6] ? 1 : 0;
        }
        return emit(b, &v, err);
    default: /* the FORMULA variants */
        return decode_formula(b, &v, emit, err);
    }
}

int xls_cells_add(struct row_builder *rb, const struct xls_value *v, struct sd_error *err)
{
    switch (v->type) {
    case SHEET_CELL_STRING:
        return row_builder_add_string(rb, v->col, v->text, v->len, err);
    case SHEET_CELL_ERROR:
        return row_builder_add_error(rb, v->col, v->text, v->len, err);
    case SHEET_CELL_BOOL:
        return row_builder_add_bool(rb, v->col, v->number != 0, err);
    case SHEET_CELL_DATE:
        return row_builder_add_date(rb, v->col, v->number, err);
    case SHEET_CELL_TIME:
        return row_builder_add_time(rb, v->col, v->number, err);
    default:
        return row_builder_add_number(rb, v->col, v->number, err);
    }
}

int xls_sheet_scan(struct xls_book *b, bool *out_of_order, uint64_t *rows, struct sd_error *err)
{
    unsigned depth = 0;
    bool have = false;
    uint32_t last = 0;
    *out_of_order = false;
    *rows = 0;
    for (;;) {
        int rc = xls_stream_next(b->stream, err);
        if (rc <= 0)
            return rc;
        uint16_t type = b->stream->type;
        if (type == XLS_BOF) {
            depth++;
        } else if (type == XLS_EOF) {
            if (depth == 0)
                return 0;
            depth--;
        } else if (depth == 0) {
            uint32_t row;
            if (!xls_cell_record_row(b->stream, &row))
                continue;
            if (have && row < last)
                *out_of_order = true;
            if (!have || row != last)
                (*rows)++;
            have = true;
            last = row;
        }
    }
}

static int emit_buffered(struct xls_book *b, const struct xls_value *v, struct sd_error *err)
{
    struct xls_buffered *bf = b->buffered;
    if (bf->n == bf->cap) {
        size_t cap = bf->cap ? bf->cap * 2 : 1024;
        struct xls_buffered_cell *cells = realloc(bf->cells, cap * sizeof *cells);
        if (!cells)
            return sd_error_nomem(err);
        bf->cells = cells;
        bf->cap = cap;
    }
    struct xls_buffered_cell *c = &bf->cells[bf->n];
    c->row = v->row;
    c->col = v->col;
    c->seq = bf->n;
    c->type = v->type;
    c->number = v->number;
    c->text = SIZE_MAX;
    c->len = 0;
    if (v->text) {
        c->text = bf->arena.len;
        c->len = v->len;
        if (buf_append(&bf->arena, v->text, v->len) < 0 || buf_putc(&bf->arena, '\0') < 0)
            return sd_error_nomem(err);
    }
    bf->n++;
    return 0;
}

static int buffered_cmp(const void *pa, const void *pb)
{
    const struct xls_buffered_cell *a = pa, *c = pb;
    if (a->row != c->row)
        return a->row < c->row ? -1 : 1;
    if (a->col != c->col)
        return a->col < c->col ? -1 : 1;
    return a->seq < c->seq ? -1 : (a->seq > c->seq);
}

/* Reads from just after the sheet's BOF to its EOF into a fresh b->buffered. On failure
 * b->buffered is freed and NULL. */
int xls_buffered_load(struct xls_book *b, struct sd_error *err)
{
    xls_buffered_free(b->buffered);
    b->buffered = calloc(1, sizeof *b->buffered);
    if (!b->buffered)
        return sd_error_nomem(err);
    unsigned depth = 0;
    int rc;
    for (;;) {
        rc = xls_stream_next(b->stream, err);
        if (rc <= 0)
            break;
        uint16_t type = b->stream->type;
        if (type == XLS_BOF) {
            depth++;
        } else if (type == XLS_EOF) {
            if (depth == 0)
                break;
            depth--;
        } else if (depth == 0 && (rc = xls_cells_decode(b, emit_buffered, err)) < 0) {
            break;
        }
    }
    if (rc < 0) {
        xls_buffered_free(b->buffered);
        b->buffered = NULL;
        return rc;
    }
    qsort(b->buffered->cells, b->buffered->n, sizeof *b->buffered->cells, buffered_cmp);
    return 0;
}

int xls_buffered_next(struct xls_book *b, const struct sheet_row **out, struct sd_error *err)
{
    struct xls_buffered *bf = b->buffered;
    struct row_builder *rb = &b->base.row;
    while (bf->next < bf->n) {
        uint32_t row = bf->cells[bf->next].row;
        row_builder_begin(rb, row + 1);
        for (; bf->next < bf->n && bf->cells[bf->next].row == row; bf->next++) {
            const struct xls_buffered_cell *c = &bf->cells[bf->next];
            struct xls_value v = {.row = c->row,
                                  .col = c->col,
                                  .type = c->type,
                                  .number = c->number,
                                  .text = NULL,
                                  .len = c->len};
            if (c->text != SIZE_MAX)
                v.text = bf->arena.data + c->text;
            int rc = xls_cells_add(rb, &v, err);
            if (rc < 0)
                return rc;
        }
        if (!row_builder_is_empty(rb)) {
            int rc = row_builder_finish(rb, row + 1, out, err);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

void xls_buffered_free(struct xls_buffered *buffered)
{
    if (!buffered)
        return;
    free(buffered->cells);
    buf_free(&buffered->arena);
    free(buffered);
}
