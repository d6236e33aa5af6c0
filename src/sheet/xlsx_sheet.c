/*
 * DESIGN
 * ------
 * Streams one worksheet part row by row. Tokens come from the worksheet scanner
 * (xlsx_scan.h), pulled one at a time, not from expat: a worksheet is almost all cells, and
 * expat's cost per element was most of the reading time. The handlers below keep a small
 * state machine (inside <sheetData>, inside a <row>, inside a <c>, inside its <v> or <is>)
 * and build the row in the book's row builder; at </row> a non-empty row is finished and
 * xlsx_sheet_next returns it, so it returns exactly one row per call and nothing grows with
 * the number of rows.
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

#include "base/civil.h"
#include "sheet/cell_format.h"

enum cell_t { T_N, T_S, T_STR, T_INLINE, T_B, T_E, T_D };

/* What a token did to the state machine, besides an error (< 0). */
enum { EV_NONE, EV_ROW, EV_SHEET_DATA, EV_DONE };

struct xlsx_sheet_reader {
    struct xlsx_book *book;
    struct xlsx_scan *scan;
    const char *sheet_name;
    bool done;
    int error_code;
    struct sd_error error;

    bool in_sheet_data;
    bool in_row;
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
    char *v; /* the <v> text: v_len bytes, room for a NUL after them */
    size_t v_len;
    size_t v_cap;
    size_t v_max;
    struct xlsx_rich_text is;
};

static int reader_failf(struct xlsx_sheet_reader *r, int code, const char *what)
{
    char ref[16];
    cell_format_ref(r->col, r->row_number, ref);
    return sd_error_set(&r->error, code, "%s: sheet \"%s\", cell %s %s", r->book->base.display_name,
                        r->sheet_name, ref, what);
}

static enum cell_t parse_type(const char *t, size_t len)
{
    if (len == 1) {
        switch (t[0]) {
        case 's':
            return T_S;
        case 'b':
            return T_B;
        case 'e':
            return T_E;
        case 'd':
            return T_D;
        }
        return T_N;
    }
    if (len == 3 && !memcmp(t, "str", 3))
        return T_STR;
    if (len == 9 && !memcmp(t, "inlineStr", 9))
        return T_INLINE;
    return T_N;
}

static void start_row(struct xlsx_sheet_reader *r, const struct xlsx_token *tok)
{
    r->in_row = true;
    r->next_col = 0;
    size_t len;
    const char *rn = xlsx_token_attr(tok, "r", &len);
    uint32_t n;
    if (rn && xlsx_parse_u32(rn, len, &n) && n > 0) {
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

static void start_cell(struct xlsx_sheet_reader *r, const struct xlsx_token *tok)
{
    r->in_cell = true;
    r->has_v = r->has_is = r->v_too_long = false;
    r->v_len = 0;
    const struct xlsx_attr *ref = NULL, *t = NULL, *s = NULL;
    for (size_t i = 0; i < tok->nattrs; i++) {
        const struct xlsx_attr *a = &tok->attrs[i];
        if (a->name_len == 1) { /* unprefixed one-letter attributes */
            if (a->name[0] == 'r')
                ref = a;
            else if (a->name[0] == 't')
                t = a;
            else if (a->name[0] == 's')
                s = a;
        }
    }
    uint32_t col = r->next_col, row = 0;
    if (ref && xlsx_parse_ref(ref->value, ref->value_len, &col, &row)) {
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
    r->type = t ? parse_type(t->value, t->value_len) : T_N;
    r->style = 0;
    if (s)
        xlsx_parse_u32(s->value, s->value_len, &r->style);
}

/* Adds a number cell, turning it into a date or time when its style says so. */
static int add_number(struct xlsx_sheet_reader *r, double v)
{
    struct row_builder *rb = &r->book->base.row;
    enum numfmt_kind kind = xlsx_styles_kind(&r->book->styles, r->style);
    if (kind != NUMFMT_NUMBER) {
        double days;
        if (kind == NUMFMT_TIME && v >= 0 && v < 1)
            return row_builder_add_time(rb, r->col, v, &r->error);
        if (civil_serial_to_days(v, r->book->base.uses_1904, &days))
            return row_builder_add_date(rb, r->col, days, &r->error);
    }
    return row_builder_add_number(rb, r->col, v, &r->error);
}

static int add_shared_string(struct xlsx_sheet_reader *r)
{
    uint32_t idx;
    const char *text;
    size_t len;
    const char *v = r->v;
    size_t vlen = r->v_len;
    xlsx_trim_xml_space(&v, &vlen);
    if (vlen == 0)
        return 0; /* <v/>: an empty cell */
    if (!xlsx_parse_u32(v, vlen, &idx))
        return reader_failf(r, SD_EINVALID,
                            "refers to a shared string by something that is not a number");
    if (!xlsx_sst_get(&r->book->sst, idx, &text, &len)) {
        char what[128];
        snprintf(what, sizeof what, "refers to shared string %u, but the workbook has only %zu",
                 (unsigned)idx, r->book->sst.count);
        return reader_failf(r, SD_EINVALID, what);
    }
    /* The table lives as long as the book and holds valid UTF-8 (xlsx_shared_strings.c). */
    return row_builder_add_string_ref(&r->book->base.row, r->col, text, len, &r->error);
}

/* Turns the collected cell into a row-builder cell at </c>. */
static int finish_cell(struct xlsx_sheet_reader *r)
{
    struct row_builder *rb = &r->book->base.row;
    struct sd_error *e = &r->error;
    if (r->v_too_long || r->is.too_long) {
        char what[96];
        snprintf(what, sizeof what, "holds more than the limit of %u characters",
                 (unsigned)r->book->base.limits.max_cell_chars);
        return reader_failf(r, SD_ELIMIT, what);
    }
    if (r->type == T_INLINE && r->has_is)
        return row_builder_add_string(rb, r->col, buf_cstr(&r->is.out), r->is.out.len, e);
    if (!r->has_v || r->v_len == 0)
        return 0;
    char *v = r->v;
    size_t vlen = r->v_len;
    double num;
    switch (r->type) {
    case T_S:
        return add_shared_string(r);
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
        static const struct civil_iso_options iso = {.time_only_ok = true};
        enum civil_iso_kind kind;
        const char *p = v;
        size_t plen = vlen;
        xlsx_trim_xml_space(&p, &plen);
        if (civil_parse_iso(p, plen, &iso, &num, &kind))
            return kind == CIVIL_ISO_TIME ? row_builder_add_time(rb, r->col, num, e)
                                          : row_builder_add_date(rb, r->col, num, e);
        return row_builder_add_string(rb, r->col, v, vlen, e);
    }
    case T_N:
        break;
    }
    if (xlsx_parse_number(v, vlen, &num))
        return add_number(r, num);
    const char *p = v;
    xlsx_trim_xml_space(&p, &vlen);
    return row_builder_add_string(rb, r->col, p, vlen, e);
}

/* The elements the reader acts on, named here once for on_start and on_end. This runs for
 * every tag, so it switches on the length first: a worksheet is mostly <c> and <v>. */
enum sheet_tag { TAG_OTHER, TAG_C, TAG_V, TAG_IS, TAG_ROW, TAG_SHEET_DATA, TAG_DIMENSION };

static inline enum sheet_tag sheet_tag_of(const struct xlsx_token *tok)
{
    const char *local = tok->local;
    switch (tok->local_len) {
    case 1:
        return local[0] == 'c' ? TAG_C : local[0] == 'v' ? TAG_V : TAG_OTHER;
    case 2:
        return local[0] == 'i' && local[1] == 's' ? TAG_IS : TAG_OTHER;
    case 3:
        return xlsx_token_is(tok, "row") ? TAG_ROW : TAG_OTHER;
    case 9:
        return xlsx_token_is(tok, "sheetData")   ? TAG_SHEET_DATA
               : xlsx_token_is(tok, "dimension") ? TAG_DIMENSION
                                                 : TAG_OTHER;
    default:
        return TAG_OTHER;
    }
}

static int on_start(struct xlsx_sheet_reader *r, const struct xlsx_token *tok)
{
    if (r->in_is) {
        xlsx_rich_text_start(&r->is, tok);
        return EV_NONE;
    }
    switch (sheet_tag_of(tok)) {
    case TAG_C:
        if (r->in_row)
            start_cell(r, tok);
        break;
    case TAG_V:
        if (r->in_cell) {
            r->in_v = true;
            r->has_v = true;
            r->v_len = 0;
        }
        break;
    case TAG_IS:
        if (r->in_cell) {
            r->in_is = true;
            r->has_is = true;
            xlsx_rich_text_reset(&r->is, r->v_max);
            xlsx_rich_text_start(&r->is, tok);
        }
        break;
    case TAG_ROW:
        if (r->in_sheet_data)
            start_row(r, tok);
        break;
    case TAG_SHEET_DATA:
        r->in_sheet_data = true;
        return EV_SHEET_DATA; /* select() stops here; the hint is known by now */
    case TAG_DIMENSION: {
        size_t rlen;
        const char *ref = xlsx_token_attr(tok, "ref", &rlen);
        const char *colon = ref ? memchr(ref, ':', rlen) : NULL;
        uint32_t col, row;
        if (colon && xlsx_parse_ref(colon + 1, rlen - (size_t)(colon + 1 - ref), &col, &row))
            r->book->base.row_count_hint = row;
        break;
    }
    case TAG_OTHER:
        break;
    }
    return EV_NONE;
}

static int on_end(struct xlsx_sheet_reader *r, const struct xlsx_token *tok)
{
    enum sheet_tag tag = sheet_tag_of(tok);
    if (r->in_is) {
        if (tag == TAG_IS)
            r->in_is = false;
        else if (!xlsx_rich_text_end(&r->is, tok))
            return sd_error_nomem(&r->error);
        return EV_NONE;
    }
    switch (tag) {
    case TAG_V:
        r->in_v = false;
        break;
    case TAG_C:
        if (r->in_cell) {
            r->in_cell = false;
            r->in_v = false;
            int rc = finish_cell(r);
            return rc < 0 ? rc : EV_NONE;
        }
        break;
    case TAG_ROW:
        if (r->in_row) {
            r->in_row = false;
            r->last_row = r->row_number;
            if (!row_builder_is_empty(&r->book->base.row))
                return EV_ROW;
        }
        break;
    case TAG_SHEET_DATA:
        r->in_sheet_data = false;
        return EV_DONE; /* nothing after the cells matters */
    case TAG_IS:
    case TAG_DIMENSION:
    case TAG_OTHER:
        break;
    }
    return EV_NONE;
}

static int on_text(struct xlsx_sheet_reader *r, const struct xlsx_token *tok)
{
    if (r->in_v) {
        size_t n = tok->text_len;
        if (r->v_len + n > r->v_max) {
            r->v_too_long = true;
            return EV_NONE;
        }
        if (n >= r->v_cap - r->v_len) { /* v_cap > v_len always: the NUL's room */
            size_t cap = r->v_cap * 2;
            while (n >= cap - r->v_len)
                cap *= 2;
            char *v = realloc(r->v, cap);
            if (!v)
                return sd_error_nomem(&r->error);
            r->v = v;
            r->v_cap = cap;
        }
        memcpy(r->v + r->v_len, tok->text, n);
        r->v_len += n;
        r->v[r->v_len] = '\0';
    } else if (r->in_is) {
        if (!xlsx_rich_text_chars(&r->is, tok->text, tok->text_len))
            return sd_error_nomem(&r->error);
    }
    return EV_NONE;
}

/* Pulls tokens until one of them means something to the caller: EV_ROW, EV_SHEET_DATA,
 * EV_DONE, 0 at the end of the part, or an error (in r->error). */
static int pump(struct xlsx_sheet_reader *r)
{
    struct xlsx_token tok;
    for (;;) {
        int rc = xlsx_scan_next(r->scan, &tok, &r->error);
        if (rc <= 0)
            return rc;
        switch (tok.kind) {
        case XLSX_TOKEN_START:
            rc = on_start(r, &tok);
            break;
        case XLSX_TOKEN_END:
            rc = on_end(r, &tok);
            break;
        case XLSX_TOKEN_TEXT:
            rc = on_text(r, &tok);
            break;
        }
        if (rc != EV_NONE)
            return rc;
    }
}

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
    r->v_cap = 256;
    r->v = malloc(r->v_cap);
    if (!r->v) {
        free(r);
        return sd_error_nomem(err);
    }
    book->base.row_count_hint = 0;
    int rc = xlsx_scan_open_entry(&r->scan, book->zg, idx, err);
    if (rc < 0) {
        free(r->v);
        free(r);
        return rc;
    }
    /* Run up to <sheetData> so that <dimension> has been seen and the row-count hint is
     * known before the first row is asked for. */
    rc = pump(r);
    if (rc < 0) {
        *err = r->error;
        xlsx_sheet_close(r);
        return rc;
    }
    if (rc != EV_SHEET_DATA)
        r->done = true; /* no cells (or, impossibly early, a row): nothing to read */
    *out = r;
    return 0;
}

int xlsx_sheet_next(struct xlsx_sheet_reader *r, const struct sheet_row **out, struct sd_error *err)
{
    while (r->error_code == 0 && !r->done) {
        int rc = pump(r);
        if (rc == EV_ROW) {
            struct row_builder *rb = &r->book->base.row;
            rc = row_builder_finish(rb, rb->row_number, out, &r->error);
            if (rc == 0)
                return 1;
        }
        if (rc < 0)
            r->error_code = rc;
        else if (rc == EV_DONE || rc == 0)
            r->done = true;
    }
    if (r->error_code < 0) {
        if (err)
            *err = r->error;
        return r->error_code;
    }
    return 0;
}

void xlsx_sheet_close(struct xlsx_sheet_reader *r)
{
    if (!r)
        return;
    xlsx_scan_close(r->scan);
    free(r->v);
    xlsx_rich_text_free(&r->is);
    free(r);
}
