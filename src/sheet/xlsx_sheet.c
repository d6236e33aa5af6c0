/*
 * DESIGN
 * ------
 * Streams one worksheet part row by row. The expat handlers below keep a small state
 * machine (inside <sheetData>, inside a <row>, inside a <c>, inside its <v> or <is>) and
 * build the row in the book's row builder; at </row> a non-empty row is finished and the
 * parser suspended (xml_stream_suspend), so xlsx_sheet_next returns exactly one row per
 * call and nothing grows with the number of rows.
 *
 * Rules that other readers got wrong, and what this one does:
 *  - <row> and <c> may lack their `r` attribute: a row then follows the previous one (or
 *    takes its number from its first cell's reference), a cell follows the previous cell.
 *  - <dimension> is a hint for progress only; it is never trusted for anything else.
 *  - Cell types: s (shared string), str (formula text), inlineStr (<is>, or a <v> when a
 *    writer put one there), b, e, n (the default, also for an unknown or empty `t`), d
 *    (ISO 8601). An empty <v/> is an empty cell. A formula's cached value is its value.
 *  - A number whose style has a date or time format becomes a date or time
 *    (numfmt.h); a time-only format on a value of a day or more (an elapsed time such as
 *    "[h]:mm" of 36 hours) becomes a date-time, as xlrd reads it, since a time of day
 *    would lose the days.
 *  - A value that is not a number in a numeric cell is kept as text rather than guessed at.
 */
#include "sheet/xlsx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheet/cell_format.h"

enum cell_t { T_N, T_S, T_STR, T_INLINE, T_B, T_E, T_D };

struct xlsx_sheet_reader {
    struct xlsx_book *book;
    struct xml_stream *xs;
    const char *sheet_name;
    bool done;
    int error_code;
    struct sd_error error;

    bool in_sheet_data;
    bool in_row;
    bool row_ready;
    bool row_has_r;    /* the current <row> had a usable r attribute */
    bool row_numbered; /* the current row's number is settled */
    uint32_t row_number;
    uint32_t last_row;
    uint32_t next_col;

    bool in_cell;
    bool in_v;
    bool in_is;
    bool has_v;
    bool has_is;
    bool v_too_long;
    enum cell_t type;
    uint32_t col;
    uint32_t style;
    struct buf v;
    size_t v_max;
    struct xlsx_rich_text is;
};

static void reader_fail(struct xlsx_sheet_reader *r, const struct sd_error *e)
{
    xml_stream_fail(r->xs, e);
}

static void reader_failf(struct xlsx_sheet_reader *r, int code, const char *what)
{
    struct sd_error e = SD_ERROR_INIT;
    char ref[16];
    cell_format_ref(r->col, r->row_number, ref);
    sd_error_set(&e, code, "%s: sheet \"%s\", cell %s %s", r->book->base.display_name,
                 r->sheet_name, ref, what);
    reader_fail(r, &e);
}

static enum cell_t parse_type(const char *t)
{
    if (!t)
        return T_N;
    switch (t[0]) {
    case 's':
        if (t[1] == '\0')
            return T_S;
        if (!strcmp(t, "str"))
            return T_STR;
        break;
    case 'i':
        if (!strcmp(t, "inlineStr"))
            return T_INLINE;
        break;
    case 'b':
        if (t[1] == '\0')
            return T_B;
        break;
    case 'e':
        if (t[1] == '\0')
            return T_E;
        break;
    case 'd':
        if (t[1] == '\0')
            return T_D;
        break;
    }
    return T_N;
}

static void start_row(struct xlsx_sheet_reader *r, const char **attrs)
{
    r->in_row = true;
    r->next_col = 0;
    const char *rn = xml_attr(attrs, "r");
    uint32_t n;
    if (rn && xlsx_parse_u32(rn, strlen(rn), &n) && n > 0) {
        r->row_number = n;
        r->row_has_r = true;
        r->row_numbered = true;
    } else {
        /* Settled by the first cell's reference if it has one, else the next row. */
        r->row_number = r->last_row + 1;
        r->row_has_r = false;
        r->row_numbered = false;
    }
    row_builder_begin(&r->book->base.row, r->row_number);
}

static void start_cell(struct xlsx_sheet_reader *r, const char **attrs)
{
    r->in_cell = true;
    r->has_v = r->has_is = r->v_too_long = false;
    buf_clear(&r->v);
    const char *ref = NULL, *t = NULL, *s = NULL;
    for (size_t i = 0; attrs[i]; i += 2) {
        const char *name = attrs[i];
        if (name[0] != '\0' && name[1] == '\0') { /* unprefixed one-letter attributes */
            if (name[0] == 'r')
                ref = attrs[i + 1];
            else if (name[0] == 't')
                t = attrs[i + 1];
            else if (name[0] == 's')
                s = attrs[i + 1];
        }
    }
    uint32_t col = r->next_col, row = 0;
    if (ref && xlsx_parse_ref(ref, &col, &row)) {
        if (!r->row_numbered && row > 0) {
            r->row_number = row;
            r->book->base.row.row_number = row;
        }
    } else {
        col = r->next_col;
    }
    r->row_numbered = true;
    r->col = col;
    r->next_col = col == UINT32_MAX ? col : col + 1;
    r->type = parse_type(t);
    r->style = 0;
    if (s)
        xlsx_parse_u32(s, strlen(s), &r->style);
}

/* Adds a number cell, turning it into a date or time when its style says so. */
static int add_number(struct xlsx_sheet_reader *r, double v, struct sd_error *e)
{
    struct row_builder *rb = &r->book->base.row;
    enum numfmt_kind kind = xlsx_styles_kind(&r->book->styles, r->style);
    if (kind != NUMFMT_NUMBER) {
        double days;
        if (kind == NUMFMT_TIME && v >= 0 && v < 1)
            return row_builder_add_time(rb, r->col, v, e);
        if (numfmt_serial_to_unix_days(v, r->book->base.uses_1904, &days))
            return row_builder_add_date(rb, r->col, days, e);
    }
    return row_builder_add_number(rb, r->col, v, e);
}

static int add_shared_string(struct xlsx_sheet_reader *r, struct sd_error *e)
{
    uint32_t idx;
    const char *text;
    size_t len;
    const char *v = r->v.data;
    size_t vlen = r->v.len;
    xlsx_trim_xml_space(&v, &vlen);
    if (vlen == 0)
        return 0; /* <v/>: an empty cell */
    if (!xlsx_parse_u32(v, vlen, &idx)) {
        reader_failf(r, SD_EINVALID, "refers to a shared string by something that is not a number");
        return SD_EINVALID;
    }
    if (!xlsx_sst_get(&r->book->sst, idx, &text, &len)) {
        char what[128];
        snprintf(what, sizeof what, "refers to shared string %u, but the workbook has only %zu",
                 (unsigned)idx, r->book->sst.count);
        reader_failf(r, SD_EINVALID, what);
        return SD_EINVALID;
    }
    /* The table lives as long as the book and holds parser output (valid UTF-8). */
    return row_builder_add_string_ref(&r->book->base.row, r->col, text, len, e);
}

/* Turns the collected cell into a row-builder cell at </c>. */
static int finish_cell(struct xlsx_sheet_reader *r, struct sd_error *e)
{
    struct row_builder *rb = &r->book->base.row;
    if (r->v_too_long || r->is.too_long) {
        char what[96];
        snprintf(what, sizeof what, "holds more than the limit of %u characters",
                 (unsigned)r->book->base.limits.max_cell_chars);
        reader_failf(r, SD_ELIMIT, what);
        return SD_ELIMIT;
    }
    if (r->type == T_INLINE && r->has_is)
        return row_builder_add_string(rb, r->col, buf_cstr(&r->is.out), r->is.out.len, e);
    if (!r->has_v || r->v.len == 0)
        return 0;
    char *v = r->v.data;
    size_t vlen = r->v.len;
    double num;
    switch (r->type) {
    case T_S:
        return add_shared_string(r, e);
    case T_STR:
    case T_INLINE:
        vlen = xlsx_unescape(v, vlen);
        return row_builder_add_string(rb, r->col, v, vlen, e);
    case T_E:
        return row_builder_add_error(rb, r->col, v, vlen, e);
    case T_B: {
        const char *p = v;
        xlsx_trim_xml_space(&p, &vlen);
        if ((vlen == 1 && p[0] == '1') || (vlen == 4 && !strncmp(p, "true", 4)))
            return row_builder_add_bool(rb, r->col, true, e);
        if ((vlen == 1 && p[0] == '0') || (vlen == 5 && !strncmp(p, "false", 5)))
            return row_builder_add_bool(rb, r->col, false, e);
        if (xlsx_parse_number(p, vlen, &num))
            return row_builder_add_bool(rb, r->col, num != 0, e);
        return row_builder_add_string(rb, r->col, p, vlen, e);
    }
    case T_D: {
        bool is_time;
        if (xlsx_parse_iso_datetime(v, vlen, &num, &is_time))
            return is_time ? row_builder_add_time(rb, r->col, num, e)
                           : row_builder_add_date(rb, r->col, num, e);
        return row_builder_add_string(rb, r->col, v, vlen, e);
    }
    case T_N:
        break;
    }
    if (xlsx_parse_number(v, vlen, &num))
        return add_number(r, num, e);
    const char *p = v;
    xlsx_trim_xml_space(&p, &vlen);
    return row_builder_add_string(rb, r->col, p, vlen, e);
}

static void on_start(void *data, const char *local, const char **attrs)
{
    struct xlsx_sheet_reader *r = data;
    if (r->in_is) {
        xlsx_rich_text_start(&r->is, local, attrs);
        return;
    }
    switch (local[0]) {
    case 'c':
        if (local[1] == '\0' && r->in_row)
            start_cell(r, attrs);
        return;
    case 'v':
        if (local[1] == '\0' && r->in_cell) {
            r->in_v = true;
            r->has_v = true;
            buf_clear(&r->v);
        }
        return;
    case 'i':
        if (local[1] == 's' && local[2] == '\0' && r->in_cell) {
            r->in_is = true;
            r->has_is = true;
            xlsx_rich_text_reset(&r->is, r->v_max);
            xlsx_rich_text_start(&r->is, local, attrs);
        }
        return;
    case 'r':
        if (!strcmp(local, "row") && r->in_sheet_data)
            start_row(r, attrs);
        return;
    case 's':
        if (!strcmp(local, "sheetData")) {
            r->in_sheet_data = true;
            xml_stream_suspend(r->xs); /* select() stops here; the hint is known by now */
        }
        return;
    case 'd':
        if (!strcmp(local, "dimension")) {
            const char *ref = xml_attr(attrs, "ref");
            const char *colon = ref ? strchr(ref, ':') : NULL;
            uint32_t col, row;
            if (colon && xlsx_parse_ref(colon + 1, &col, &row))
                r->book->base.row_count_hint = row;
        }
        return;
    default:
        return;
    }
}

static void on_end(void *data, const char *local)
{
    struct xlsx_sheet_reader *r = data;
    struct sd_error e = SD_ERROR_INIT;
    if (r->in_is) {
        if (!strcmp(local, "is"))
            r->in_is = false;
        else if (!xlsx_rich_text_end(&r->is, local))
            goto nomem;
        return;
    }
    switch (local[0]) {
    case 'v':
        if (local[1] == '\0')
            r->in_v = false;
        return;
    case 'c':
        if (local[1] == '\0' && r->in_cell) {
            r->in_cell = false;
            r->in_v = false;
            if (finish_cell(r, &e) < 0 && e.code < 0)
                reader_fail(r, &e);
        }
        return;
    case 'r':
        if (!strcmp(local, "row") && r->in_row) {
            r->in_row = false;
            r->last_row = r->row_number;
            if (!row_builder_is_empty(&r->book->base.row)) {
                r->row_ready = true;
                xml_stream_suspend(r->xs);
            }
        }
        return;
    case 's':
        if (!strcmp(local, "sheetData")) {
            r->in_sheet_data = false;
            xml_stream_finish(r->xs); /* nothing after the cells matters */
        }
        return;
    default:
        return;
    }
nomem:
    sd_error_nomem(&e);
    reader_fail(r, &e);
}

static void on_text(void *data, const char *s, int len)
{
    struct xlsx_sheet_reader *r = data;
    if (r->in_v) {
        if (r->v.len + (size_t)len > r->v_max) {
            r->v_too_long = true;
            return;
        }
        if (buf_append(&r->v, s, (size_t)len) < 0) {
            struct sd_error e = SD_ERROR_INIT;
            sd_error_nomem(&e);
            reader_fail(r, &e);
        }
    } else if (r->in_is) {
        if (!xlsx_rich_text_chars(&r->is, s, len)) {
            struct sd_error e = SD_ERROR_INIT;
            sd_error_nomem(&e);
            reader_fail(r, &e);
        }
    }
}

static const struct xml_stream_handlers sheet_handlers = {on_start, on_end, on_text};

int xlsx_sheet_open(struct xlsx_sheet_reader **out, struct xlsx_book *book, const char *part,
                    const char *sheet_name, struct sd_error *err)
{
    *out = NULL;
    uint64_t idx;
    if (!part || !zip_guard_find(book->zg, part, &idx))
        return sd_error_set(err, SD_EINVALID,
                            "%s: sheet \"%s\" cannot be read: its part %s is missing from the "
                            "file",
                            book->base.display_name, sheet_name, part ? part : "(none)");
    struct xlsx_sheet_reader *r = calloc(1, sizeof *r);
    if (!r)
        return sd_error_nomem(err);
    r->book = book;
    r->sheet_name = sheet_name;
    r->v_max = (size_t)book->base.limits.max_cell_chars * 8 + 8;
    book->base.row_count_hint = 0;
    int rc = xml_stream_open(&r->xs, book->zg, idx, &sheet_handlers, r, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    /* Run up to <sheetData> so that <dimension> has been seen and the row-count hint is
     * known before the first row is asked for. */
    rc = xml_stream_run(r->xs, err);
    if (rc < 0) {
        xlsx_sheet_close(r);
        return rc;
    }
    if (rc == 0)
        r->done = true;
    *out = r;
    return 0;
}

int xlsx_sheet_next(struct xlsx_sheet_reader *r, const struct sheet_row **out, struct sd_error *err)
{
    if (r->error_code < 0) {
        if (err)
            *err = r->error;
        return r->error_code;
    }
    while (!r->done) {
        if (r->row_ready) {
            r->row_ready = false;
            struct row_builder *rb = &r->book->base.row;
            int rc = row_builder_finish(rb, rb->row_number, out, &r->error);
            if (rc < 0) {
                r->error_code = rc;
                if (err)
                    *err = r->error;
                return rc;
            }
            return 1;
        }
        int rc = xml_stream_run(r->xs, &r->error);
        if (rc < 0) {
            r->error_code = rc;
            if (err)
                *err = r->error;
            return rc;
        }
        if (rc == 0 && !r->row_ready)
            r->done = true;
    }
    return 0;
}

void xlsx_sheet_close(struct xlsx_sheet_reader *r)
{
    if (!r)
        return;
    xml_stream_close(r->xs);
    buf_free(&r->v);
    xlsx_rich_text_free(&r->is);
    free(r);
}
