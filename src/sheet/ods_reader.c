/*
 * DESIGN
 * ------
 * The ODS backend (sheet_backend.h). Opening a workbook reads its directory with one
 * streaming pass over content.xml: the automatic table styles (a style whose
 * <style:table-properties table:display="false"> hides the sheets that use it), then every
 * top-level <table:table> — its name, whether it is hidden (table:display="false" on the
 * table itself, or its style), and the last row holding a typed value, kept as the sheet's
 * row-count hint. Nothing else is kept, so the pass costs the same memory for any size.
 *
 * Selecting a sheet starts a second stream over content.xml that skips to that table
 * (ods_rows.c assembles its rows); next_row hands out each finished row through the row
 * builder, once per repetition when the row is repeated.
 *
 * ODF encryption ("save with password") encrypts the parts themselves while the zip stays
 * readable, so a password-protected file is recognised from its manifest rather than from
 * the garbage it would parse as.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/ods_internal.h"

#define ODS_MANIFEST_MAX (4u << 20)

struct ods_book {
    struct sheet_book base; /* first: sheet.c hands us this */
    struct zip_guard *zg;
    uint64_t content_index;
    uint64_t *row_hints; /* per sheet */
    struct ods_rows rows;
};

/* State of the directory pass. */
struct ods_scan {
    struct ods_book *book;
    struct xml_stream *xs;
    unsigned depth;
    unsigned open_tables;
    char **hidden_styles; /* names of table styles with table:display="false" */
    size_t nhidden, hidden_cap;
    bool styles_done; /* the first table was seen: hidden_styles is sorted and final */
    size_t hints_cap;
    char *style_name; /* the table style being read, NULL otherwise */
    unsigned style_depth;
    bool in_row, in_cell;
    unsigned cell_depth;
    uint64_t row, row_repeat, last_valued_row;
    bool row_has_value;
};

static void scan_fail_nomem(struct ods_scan *s)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    xml_stream_fail(s->xs, &e);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Table styles come in office:automatic-styles, before the body: they are sorted once when
 * the first table starts and looked up by binary search, so a file with very many styles and
 * tables costs n log n rather than their product. A style defined after a table (which a
 * valid document never has) is ignored. */
static bool style_is_hidden(struct ods_scan *s, const char *name)
{
    if (!s->styles_done) {
        if (s->nhidden)
            qsort(s->hidden_styles, s->nhidden, sizeof *s->hidden_styles, compare_names);
        s->styles_done = true;
    }
    return name && s->nhidden &&
           bsearch(&name, s->hidden_styles, s->nhidden, sizeof *s->hidden_styles, compare_names) !=
               NULL;
}

static void scan_add_hidden_style(struct ods_scan *s)
{
    if (s->styles_done)
        return;
    if (s->nhidden == s->hidden_cap) {
        size_t cap = s->hidden_cap ? s->hidden_cap * 2 : 8;
        char **grown = realloc(s->hidden_styles, cap * sizeof *grown);
        if (!grown) {
            scan_fail_nomem(s);
            return;
        }
        s->hidden_styles = grown;
        s->hidden_cap = cap;
    }
    char **p = s->hidden_styles;
    if (!(p[s->nhidden] = str_dup(s->style_name))) {
        scan_fail_nomem(s);
        return;
    }
    s->nhidden++;
}

static void scan_add_sheet(struct ods_scan *s, const char **attrs)
{
    struct ods_book *b = s->book;
    const char *name = xml_attr_ns(attrs, ODS_NS_TABLE, "name");
    const char *display = xml_attr_ns(attrs, ODS_NS_TABLE, "display");
    const char *style = xml_attr_ns(attrs, ODS_NS_TABLE, "style-name");
    bool visible = !(display && str_eq(display, "false")) && !style_is_hidden(s, style);
    char fallback[32];
    if (!name || !*name) {
        snprintf(fallback, sizeof fallback, "Sheet%zu", b->base.nsheets + 1);
        name = fallback;
    }
    if (b->base.nsheets == s->hints_cap) {
        size_t cap = s->hints_cap ? s->hints_cap * 2 : 8;
        uint64_t *grown = realloc(b->row_hints, cap * sizeof *grown);
        if (!grown) {
            scan_fail_nomem(s);
            return;
        }
        b->row_hints = grown;
        s->hints_cap = cap;
    }
    b->row_hints[b->base.nsheets] = 0;
    struct sd_error e = SD_ERROR_INIT;
    if (sheet_book_add_sheet(&b->base, name, strlen(name), visible, &e) < 0) {
        xml_stream_fail(s->xs, &e);
        return;
    }
    s->row = 1;
    s->last_valued_row = 0;
}

static void scan_start(void *ctx, const char *local, const char **attrs)
{
    struct ods_scan *s = ctx;
    s->depth++;
    if (str_eq(local, "table")) {
        if (s->open_tables++ == 0)
            scan_add_sheet(s, attrs);
        return;
    }
    if (s->open_tables == 0) {
        const char *family;
        if (str_eq(local, "style") && !s->style_name &&
            (family = xml_attr_ns(attrs, ODS_NS_STYLE, "family")) && str_eq(family, "table")) {
            const char *name = xml_attr_ns(attrs, ODS_NS_STYLE, "name");
            if (name && !(s->style_name = str_dup(name)))
                scan_fail_nomem(s);
            s->style_depth = s->depth;
        } else if (str_eq(local, "table-properties") && s->style_name) {
            const char *display = xml_attr_ns(attrs, ODS_NS_TABLE, "display");
            if (display && str_eq(display, "false"))
                scan_add_hidden_style(s);
        }
        return;
    }
    if (s->open_tables != 1 || s->in_cell)
        return;
    if (str_eq(local, "table-row")) {
        s->in_row = true;
        s->row_has_value = false;
        s->row_repeat = ods_parse_repeat(xml_attr_ns(attrs, ODS_NS_TABLE, "number-rows-repeated"));
    } else if (s->in_row && (str_eq(local, "table-cell") || str_eq(local, "covered-table-cell"))) {
        s->in_cell = true;
        s->cell_depth = s->depth;
        if (xml_attr_ns(attrs, ODS_NS_OFFICE, "value-type"))
            s->row_has_value = true;
    }
}

static void scan_end(void *ctx, const char *local)
{
    struct ods_scan *s = ctx;
    unsigned depth = s->depth--;
    if (str_eq(local, "table") && s->open_tables > 0) {
        if (--s->open_tables == 0 && s->book->base.nsheets > 0)
            s->book->row_hints[s->book->base.nsheets - 1] = s->last_valued_row;
        return;
    }
    if (s->style_name && depth == s->style_depth) {
        free(s->style_name);
        s->style_name = NULL;
        return;
    }
    if (s->open_tables != 1)
        return;
    if (s->in_cell) {
        if (depth == s->cell_depth)
            s->in_cell = false;
        return;
    }
    if (s->in_row && str_eq(local, "table-row")) {
        s->in_row = false;
        uint64_t last = s->row + (s->row_repeat - 1);
        if (last < s->row)
            last = UINT64_MAX;
        if (s->row_has_value)
            s->last_valued_row = last;
        s->row = last == UINT64_MAX ? UINT64_MAX : last + 1;
    }
}

static int scan_directory(struct ods_book *b, struct sd_error *err)
{
    static const struct xml_stream_handlers handlers = {.start = scan_start, .end = scan_end};
    struct ods_scan s;
    memset(&s, 0, sizeof s);
    s.book = b;
    int rc = xml_stream_open(&s.xs, b->zg, b->content_index, &handlers, &s, err);
    if (rc < 0)
        return rc;
    while ((rc = xml_stream_run(s.xs, err)) == 1)
        ;
    xml_stream_close(s.xs);
    for (size_t i = 0; i < s.nhidden; i++)
        free(s.hidden_styles[i]);
    free(s.hidden_styles);
    free(s.style_name);
    if (rc < 0)
        return rc;
    if (b->base.nsheets == 0)
        return sd_error_set(err, SD_EINVALID,
                            "%s is an OpenDocument file without any sheet; is it a "
                            "spreadsheet?",
                            b->base.display_name);
    return 0;
}

/* True when the manifest lists encryption data: the parts are encrypted with a password. */
static int check_encryption(struct ods_book *b, struct sd_error *err)
{
    uint64_t idx;
    if (!zip_guard_find(b->zg, "META-INF/manifest.xml", &idx))
        return 0;
    struct buf manifest = BUF_INIT;
    int rc = zip_guard_read_all(b->zg, idx, ODS_MANIFEST_MAX, &manifest, err);
    if (rc < 0) {
        buf_free(&manifest);
        return rc;
    }
    bool encrypted = memmem(manifest.data ? manifest.data : "", manifest.len, "encryption-data",
                            strlen("encryption-data")) != NULL;
    buf_free(&manifest);
    if (encrypted)
        return sd_error_set(err, SD_EINVALID,
                            "%s is password-protected; save it without a password and try "
                            "again",
                            b->base.display_name);
    return 0;
}

static void ods_close(struct sheet_book *book)
{
    struct ods_book *b = (struct ods_book *)book;
    ods_rows_stop(&b->rows);
    zip_guard_close(b->zg);
    free(b->row_hints);
    sheet_book_release(&b->base);
    free(b);
}

static int ods_open(struct sheet_book **out, const char *path,
                    const struct sheet_open_options *opts, struct sd_error *err)
{
    *out = NULL;
    struct ods_book *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    int rc = sheet_book_init(&b->base, &ods_backend_ops, path, opts, err);
    if (rc < 0) {
        free(b);
        return rc;
    }
    if ((rc = zip_guard_open(&b->zg, path, &b->base.limits, b->base.display_name, err)) < 0)
        goto fail;
    if ((rc = check_encryption(b, err)) < 0)
        goto fail;
    if (!zip_guard_find(b->zg, "content.xml", &b->content_index)) {
        rc = sd_error_set(err, SD_EINVALID,
                          "%s is not a readable ODS spreadsheet: it has no content.xml part",
                          b->base.display_name);
        goto fail;
    }
    if ((rc = scan_directory(b, err)) < 0)
        goto fail;
    *out = &b->base;
    return 0;
fail:
    ods_close(&b->base);
    return rc;
}

static int ods_select(struct sheet_book *book, size_t idx, struct sd_error *err)
{
    struct ods_book *b = (struct ods_book *)book;
    ods_rows_stop(&b->rows);
    b->rows.limits = &b->base.limits;
    b->rows.display_name = b->base.display_name;
    b->rows.sheet_name = b->base.sheets[idx].name;
    b->base.row_count_hint = b->row_hints[idx];
    return ods_rows_start(&b->rows, b->zg, b->content_index, idx, err);
}

/* Builds one copy of the assembled row, every run expanded into its columns: 1 with *out
 * set, 2 when no cell survived, or a negative code. */
static int emit_row(struct ods_book *b, const struct sheet_row **out, struct sd_error *err)
{
    struct ods_rows *r = &b->rows;
    struct row_builder *rb = &b->base.row;
    uint32_t number = (uint32_t)r->emit_row;
    row_builder_begin(rb, number);
    for (size_t i = 0; i < r->nruns; i++) {
        const struct ods_run *run = &r->runs[i];
        const char *text = r->text.data ? r->text.data + run->text_off : "";
        for (uint64_t k = 0; k < run->repeat; k++) {
            uint32_t col = (uint32_t)(run->column + k);
            int rc;
            switch (run->type) {
            case SHEET_CELL_NUMBER:
                rc = row_builder_add_number(rb, col, run->number, err);
                break;
            case SHEET_CELL_BOOL:
                rc = row_builder_add_bool(rb, col, run->number != 0, err);
                break;
            case SHEET_CELL_DATE:
                rc = row_builder_add_date(rb, col, run->number, err);
                break;
            case SHEET_CELL_TIME:
                rc = row_builder_add_time(rb, col, run->number, err);
                break;
            case SHEET_CELL_ERROR:
                rc = row_builder_add_error(rb, col, text, run->text_len, err);
                break;
            default:
                rc = row_builder_add_string(rb, col, text, run->text_len, err);
                break;
            }
            if (rc < 0)
                return rc;
        }
    }
    r->emit_left--;
    r->emit_row++;
    if (row_builder_is_empty(rb))
        return 2; /* every cell turned out empty */
    int rc = row_builder_finish(rb, number, out, err);
    return rc < 0 ? rc : 1;
}

static int ods_next_row(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err)
{
    struct ods_book *b = (struct ods_book *)book;
    *out = NULL;
    for (;;) {
        if (b->rows.emit_left > 0) {
            int rc = emit_row(b, out, err);
            if (rc != 2)
                return rc;
            continue;
        }
        int rc = ods_rows_pull(&b->rows, err);
        if (rc <= 0)
            return rc;
    }
}

const struct sheet_backend_ops ods_backend_ops = {
    .format = SHEET_FORMAT_ODS,
    .open = ods_open,
    .select = ods_select,
    .next_row = ods_next_row,
    .close = ods_close,
};
