/*
 * DESIGN
 * ------
 * The XLS backend (Excel 97-2003 BIFF8, and Excel 5.0/95 BIFF5).
 *
 * Opening: libgsf reads the OLE2 compound file; we look for the "Workbook" stream (BIFF8)
 * or the "Book" stream (BIFF5), comparing names without regard to case because some
 * writers spell them differently. The stream starts with the workbook globals, which are
 * read once, up front: BOUNDSHEET (sheet names, visibility and where each sheet's records
 * start), SST (shared strings), FORMAT and XF (which cells are dates), DATEMODE (1904) and
 * CODEPAGE (the character set of BIFF5 strings). FILEPASS means the file is encrypted and
 * is refused; so are BIFF2-4 streams.
 *
 * Selecting a sheet seeks to its BOF; rows are then streamed one at a time (see
 * xls_cells.c for how out-of-order rows are handled). Only worksheets are listed: chart
 * sheets, macro sheets and VBA modules hold no cell data a person would import. Hidden and
 * very hidden worksheets are listed as not visible.
 *
 * Memory: the SST (what the file holds, compactly), one XF byte per XF record, one 64 KiB
 * record buffer and one row.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/numfmt.h"
#include "sheet/xls_internal.h"

#define XLS_NO_FORMAT 0xFF

struct xls_globals {
    uint8_t *format_kinds; /* 65,536 entries: the kind of custom format id, or XLS_NO_FORMAT */
    uint16_t *xf_formats;  /* the format id of each XF */
    size_t nxf;
    size_t xf_cap;
};

static int refuse(const struct xls_book *b, int code, const char *why, struct sd_error *err)
{
    return sd_error_set(err, code, "%s %s", b->base.display_name, why);
}

static int add_xf(struct xls_book *b, struct xls_globals *g, struct sd_error *err)
{
    if (b->stream->len < 4)
        return 0;
    if (g->nxf == g->xf_cap) {
        size_t cap = g->xf_cap ? g->xf_cap * 2 : 64;
        uint16_t *xf = realloc(g->xf_formats, cap * sizeof *xf);
        if (!xf)
            return sd_error_nomem(err);
        g->xf_formats = xf;
        g->xf_cap = cap;
    }
    g->xf_formats[g->nxf++] = le_load16(b->stream->body + 2);
    return 0;
}

/* A FORMAT record: id and code. A code that cannot be read leaves the id with its
 * built-in meaning (a damaged format should cost a date, not the whole file). */
static int add_format(struct xls_book *b, struct xls_globals *g, struct sd_error *err)
{
    if (b->stream->len < 3)
        return 0;
    uint16_t id = le_load16(b->stream->body);
    struct xls_cursor c;
    xls_cursor_init(&c, b->stream, 2);
    buf_clear(&b->text);
    int rc = b->biff8 ? xls_read_unicode(&c, 2, &b->text, err)
                      : xls_read_bytes_string(&c, 1, &b->codec, &b->text, err);
    if (rc == SD_ENOMEM)
        return rc;
    if (rc < 0) {
        sd_error_clear(err);
        return 0;
    }
    g->format_kinds[id] = (uint8_t)numfmt_classify_code(buf_cstr(&b->text));
    return 0;
}

static int add_sheet(struct xls_book *b, struct sd_error *err)
{
    const struct xls_stream *s = b->stream;
    if (s->len < 7)
        return sd_error_set(err, SD_EINVALID,
                            "%s is damaged: a sheet entry at byte %lld is too short",
                            b->base.display_name, (long long)s->offset);
    uint32_t offset = le_load32(s->body);
    bool visible = (s->body[4] & 0x03) == 0;
    uint8_t kind = s->body[5];
    if (kind != 0)
        return 0; /* chart sheet, macro sheet or VBA module */
    struct xls_cursor c;
    xls_cursor_init(&c, b->stream, 6);
    buf_clear(&b->text);
    int rc = b->biff8 ? xls_read_unicode(&c, 1, &b->text, err)
                      : xls_read_bytes_string(&c, 1, &b->codec, &b->text, err);
    if (rc < 0)
        return rc;
    size_t n = b->base.nsheets;
    gsf_off_t *offsets = realloc(b->sheet_offsets, (n + 1) * sizeof *offsets);
    if (!offsets)
        return sd_error_nomem(err);
    b->sheet_offsets = offsets;
    offsets[n] = (gsf_off_t)offset;
    return sheet_book_add_sheet(&b->base, buf_cstr(&b->text), b->text.len, visible, err);
}

/* The first record: a BIFF5/BIFF8 BOF for the workbook globals. Earlier BIFF versions have
 * other BOF record numbers and are refused by name. */
static int read_bof(struct xls_book *b, struct sd_error *err)
{
    struct xls_stream *s = b->stream;
    int rc = xls_stream_next(s, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return refuse(b, SD_EINVALID, "is damaged: its workbook stream is empty", err);
    if (s->type == XLS_BOF2 || s->type == XLS_BOF3 || s->type == XLS_BOF4)
        return refuse(b, SD_EINVALID,
                      "is an Excel 2.x-4.x workbook, which is not supported; open it in "
                      "Excel or LibreOffice and save it as .xlsx",
                      err);
    if (s->type != XLS_BOF || s->len < 4)
        return refuse(b, SD_EINVALID,
                      "is damaged: its workbook stream does not start with a BOF record", err);
    uint16_t version = le_load16(s->body);
    uint16_t kind = le_load16(s->body + 2);
    if (version == 0x0600)
        b->biff8 = true;
    else if (version == 0x0500)
        b->biff8 = false;
    else
        b->biff8 = s->len >= 16;
    if (kind != 0x0005)
        return refuse(b, SD_EINVALID,
                      "is damaged: its workbook stream does not start with the workbook "
                      "globals",
                      err);
    return 0;
}

/* Reads the workbook globals up to their EOF (or the end of the stream, when a writer left
 * the EOF out). */
static int read_globals(struct xls_book *b, struct sd_error *err)
{
    struct xls_stream *s = b->stream;
    struct xls_globals g = {0};
    int rc;
    if ((rc = xls_codec_set(&b->codec, 1252, err)) < 0)
        return rc;
    if ((rc = read_bof(b, err)) < 0)
        return rc;
    g.format_kinds = malloc(65536);
    if (!g.format_kinds)
        return sd_error_nomem(err);
    memset(g.format_kinds, XLS_NO_FORMAT, 65536);
    for (;;) {
        rc = xls_stream_next(s, err);
        if (rc <= 0)
            break;
        switch (s->type) {
        case XLS_FILEPASS:
            rc = refuse(b, SD_EINVALID,
                        "is password-protected; remove the password in Excel (File > Info > "
                        "Protect Workbook) and upload it again",
                        err);
            break;
        case XLS_CODEPAGE:
            if (!b->biff8 && s->len >= 2)
                rc = xls_codec_set(&b->codec, le_load16(s->body), err);
            break;
        case XLS_DATEMODE:
            if (s->len >= 2)
                b->base.uses_1904 = le_load16(s->body) == 1;
            break;
        case XLS_FORMAT:
            rc = add_format(b, &g, err);
            break;
        case XLS_XF:
            rc = add_xf(b, &g, err);
            break;
        case XLS_BOUNDSHEET:
            rc = add_sheet(b, err);
            break;
        case XLS_SST:
            if (b->biff8)
                rc = xls_sst_read(&b->sst, s, err);
            break;
        default:
            break;
        }
        if (rc < 0 || s->type == XLS_EOF)
            break;
    }
    if (rc < 0)
        goto done;
    rc = 0;
    b->xf_kinds = malloc(g.nxf ? g.nxf : 1);
    if (!b->xf_kinds) {
        rc = sd_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < g.nxf; i++) {
        uint16_t id = g.xf_formats[i];
        uint8_t kind = g.format_kinds[id];
        b->xf_kinds[i] = kind != XLS_NO_FORMAT ? kind : (uint8_t)numfmt_classify_builtin(id);
    }
    b->nxf = g.nxf;
    if (b->base.nsheets == 0)
        rc = refuse(b, SD_EINVALID, "has no worksheets to read", err);
done:
    free(g.format_kinds);
    free(g.xf_formats);
    return rc;
}

/* The workbook stream: "Workbook" first, then the BIFF5 "Book". An OOXML file encrypted
 * with a password is also an OLE2 file (with an "EncryptedPackage" stream); say so. */
static int find_workbook(struct xls_book *b, struct sd_error *err)
{
    static const char *const names[] = {"Workbook", "Book"};
    int n = gsf_infile_num_children(b->ole);
    for (size_t k = 0; k < 2; k++) {
        for (int i = 0; i < n; i++) {
            const char *name = gsf_infile_name_by_index(b->ole, i);
            if (name && str_ieq(name, names[k])) {
                b->workbook = gsf_infile_child_by_index(b->ole, i);
                if (!b->workbook)
                    return refuse(b, SD_EINVALID,
                                  "is damaged: its workbook stream cannot be opened", err);
                return 0;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        const char *name = gsf_infile_name_by_index(b->ole, i);
        if (name && str_ieq(name, "EncryptedPackage"))
            return refuse(b, SD_EINVALID,
                          "is password-protected; remove the password in Excel and upload it "
                          "again",
                          err);
    }
    return refuse(b, SD_EINVALID,
                  "is an OLE2 file without an Excel workbook in it (perhaps a Word or "
                  "PowerPoint document)",
                  err);
}

/* libgsf follows the sibling links of the OLE2 root directory entry, which the format says
 * must be empty, and leaks the entries it finds there (they have no parent to hang from).
 * A file whose root entry has such links is damaged anyway, so it is refused here, before
 * libgsf reads it. The root entry is the first 128 bytes of the first directory sector. */
static bool ole_root_is_sane(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return true; /* libgsf reports the open failure with its reason */
    uint8_t header[512], entry[128];
    bool ok = false;
    if (fread(header, 1, sizeof header, f) == sizeof header) {
        unsigned shift = le_load16(header + 0x1E);
        uint32_t dir_sector = le_load32(header + 0x30);
        if (shift >= 7 && shift <= 16 && dir_sector < 0xFFFFFFFAu) {
            uint64_t at = ((uint64_t)dir_sector + 1) << shift;
            if (at <= (uint64_t)LONG_MAX && fseek(f, (long)at, SEEK_SET) == 0 &&
                fread(entry, 1, sizeof entry, f) == sizeof entry) {
                uint32_t left = le_load32(entry + 0x44), right = le_load32(entry + 0x48);
                ok = (left == 0 || left >= 0xFFFFFFFAu) && (right == 0 || right >= 0xFFFFFFFAu);
            }
        }
    }
    fclose(f);
    return ok;
}

static void xls_close(struct sheet_book *book);

static int xls_open(struct sheet_book **out, const char *path,
                    const struct sheet_open_options *opts, struct sd_error *err)
{
    struct xls_book *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    xls_codec_init(&b->codec);
    xls_sst_init(&b->sst);
    int rc = sheet_book_init(&b->base, &xls_backend_ops, path, opts, err);
    if (rc < 0) {
        free(b);
        return rc;
    }
    GError *gerr = NULL;
    if (!ole_root_is_sane(path)) {
        rc = refuse(b, SD_EINVALID,
                    "is damaged: its OLE2 container (the .xls file structure) cannot be read", err);
        goto fail;
    }
    b->file = gsf_input_stdio_new(path, &gerr);
    if (!b->file) {
        rc = sd_error_set(err, SD_ERROR, "cannot open %s: %s", b->base.display_name,
                          gerr ? gerr->message : "unknown error");
        goto fail;
    }
    b->ole = GSF_INFILE(gsf_infile_msole_new(b->file, &gerr));
    if (!b->ole) {
        rc = refuse(b, SD_EINVALID,
                    "is damaged: its OLE2 container (the .xls file structure) cannot be read", err);
        goto fail;
    }
    if ((rc = find_workbook(b, err)) < 0)
        goto fail;
    b->stream = malloc(sizeof *b->stream);
    if (!b->stream) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    xls_stream_init(b->stream, b->workbook, b->base.display_name);
    if ((rc = read_globals(b, err)) < 0)
        goto fail;
    *out = &b->base;
    return 0;
fail:
    if (gerr)
        g_error_free(gerr);
    xls_close(&b->base);
    return rc;
}

static int xls_select(struct sheet_book *book, size_t idx, struct sd_error *err)
{
    struct xls_book *b = (struct xls_book *)book;
    struct xls_stream *s = b->stream;
    xls_buffered_free(b->buffered);
    b->buffered = NULL;
    b->pending_string = false;
    b->depth = 0;
    b->sheet_done = true; /* until the sheet is found readable */
    int rc = xls_stream_seek(s, b->sheet_offsets[idx], err);
    if (rc == 0) {
        rc = xls_stream_next(s, err);
        if (rc == 0 || (rc > 0 && s->type != XLS_BOF))
            rc = sd_error_set(err, SD_EINVALID,
                              "%s is damaged: sheet \"%s\" does not start where the workbook "
                              "says it does",
                              b->base.display_name, b->base.sheets[idx].name);
    }
    if (rc < 0)
        return rc;
    gsf_off_t start = gsf_input_tell(b->workbook);
    bool out_of_order;
    uint64_t rows;
    if ((rc = xls_sheet_scan(b, &out_of_order, &rows, err)) < 0)
        return rc;
    b->base.row_count_hint = rows;
    if ((rc = xls_stream_seek(s, start, err)) < 0)
        return rc;
    if (out_of_order && (rc = xls_buffered_load(b, err)) < 0)
        return rc;
    b->sheet_done = false;
    return 0;
}

static int emit_stream(struct xls_book *b, const struct xls_value *v, struct sd_error *err)
{
    return xls_cells_add(&b->base.row, v, err);
}

/* Pulls records until the row number changes; the record of the next row is pushed back
 * and starts the next call. */
static int xls_next_row(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err)
{
    struct xls_book *b = (struct xls_book *)book;
    struct xls_stream *s = b->stream;
    struct row_builder *rb = &b->base.row;
    if (b->buffered)
        return xls_buffered_next(b, out, err);
    while (!b->sheet_done) {
        bool have = false;
        uint32_t cur = 0;
        for (;;) {
            int rc = xls_stream_next(s, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                b->sheet_done = true;
                break;
            }
            if (s->type == XLS_BOF) {
                b->depth++;
                continue;
            }
            if (s->type == XLS_EOF) {
                if (b->depth == 0) {
                    b->sheet_done = true;
                    break;
                }
                b->depth--;
                continue;
            }
            if (b->depth > 0)
                continue;
            uint32_t row;
            if (xls_cell_record_row(s, &row)) {
                if (!have) {
                    row_builder_begin(rb, row + 1);
                    have = true;
                    cur = row;
                } else if (row != cur) {
                    xls_stream_unread(s);
                    break;
                }
            } else if (s->type != XLS_STRING || !have) {
                continue;
            }
            if ((rc = xls_cells_decode(b, emit_stream, err)) < 0)
                return rc;
        }
        if (have && !row_builder_is_empty(rb)) {
            int rc = row_builder_finish(rb, cur + 1, out, err);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

static void xls_close(struct sheet_book *book)
{
    struct xls_book *b = (struct xls_book *)book;
    if (!b)
        return;
    xls_buffered_free(b->buffered);
    xls_sst_free(&b->sst);
    xls_codec_free(&b->codec);
    buf_free(&b->text);
    free(b->sheet_offsets);
    free(b->xf_kinds);
    free(b->stream);
    if (b->workbook)
        g_object_unref(b->workbook);
    if (b->ole)
        g_object_unref(b->ole);
    if (b->file)
        g_object_unref(b->file);
    sheet_book_release(&b->base);
    free(b);
}

const struct sheet_backend_ops xls_backend_ops = {
    .format = SHEET_FORMAT_XLS,
    .open = xls_open,
    .select = xls_select,
    .next_row = xls_next_row,
    .close = xls_close,
};
