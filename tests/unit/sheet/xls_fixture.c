/* The BIFF writer behind the XLS tests; see xls_fixture.h. Allocation failures abort: this
 * is test code and a fixture that silently lost a record would make a test meaningless. */
#include "xls_fixture.h"

#include <criterion/criterion.h>
#include <gsf/gsf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static void must(int rc)
{
    if (rc < 0) {
        fprintf(stderr, "xls_fixture: out of memory\n");
        abort();
    }
}

void xls_put_u8(struct buf *b, uint8_t v)
{
    must(buf_append(b, &v, 1));
}

void xls_put_u16(struct buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    must(buf_append(b, p, 2));
}

void xls_put_u32(struct buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    must(buf_append(b, p, 4));
}

void xls_put_double(struct buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    xls_put_u32(b, (uint32_t)bits);
    xls_put_u32(b, (uint32_t)(bits >> 32));
}

/* UTF-8 (valid, from the tests) to UTF-16 code units; returns the count. */
static size_t to_utf16(const char *s, uint16_t *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p && n + 2 <= cap) {
        unsigned long cp;
        if (*p < 0x80) {
            cp = *p++;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = ((unsigned long)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
            p += 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = ((unsigned long)(p[0] & 0x0F) << 12) | ((unsigned long)(p[1] & 0x3F) << 6) |
                 (p[2] & 0x3F);
            p += 3;
        } else {
            cp = ((unsigned long)(p[0] & 0x07) << 18) | ((unsigned long)(p[1] & 0x3F) << 12) |
                 ((unsigned long)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
            p += 4;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out[n++] = (uint16_t)(0xD800 + (cp >> 10));
            out[n++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            out[n++] = (uint16_t)cp;
        }
    }
    return n;
}

static bool fits_8bit(const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (u[i] > 0xFF)
            return false;
    return true;
}

static void put_chars(struct buf *b, const uint16_t *u, size_t n, bool wide)
{
    for (size_t i = 0; i < n; i++) {
        if (wide)
            xls_put_u16(b, u[i]);
        else
            xls_put_u8(b, (uint8_t)u[i]);
    }
}

void xls_put_unicode(struct buf *b, const char *utf8, unsigned cch_bytes)
{
    static uint16_t u[70000];
    size_t n = to_utf16(utf8, u, sizeof u / sizeof u[0]);
    bool wide = !fits_8bit(u, n);
    if (cch_bytes == 1)
        xls_put_u8(b, (uint8_t)n);
    else
        xls_put_u16(b, (uint16_t)n);
    xls_put_u8(b, wide ? 1 : 0);
    put_chars(b, u, n, wide);
}

void xls_fixture_record(struct buf *out, uint16_t type, const void *body, size_t len)
{
    xls_fixture_record_claiming(out, type, (uint16_t)len, body, len);
}

void xls_fixture_record_claiming(struct buf *out, uint16_t type, uint16_t claimed, const void *body,
                                 size_t len)
{
    xls_put_u16(out, type);
    xls_put_u16(out, claimed);
    if (len)
        must(buf_append(out, body, len));
}

static void record_buf(struct buf *out, uint16_t type, struct buf *body)
{
    xls_fixture_record(out, type, body->data, body->len);
    buf_free(body);
}

void xls_fixture_init(struct xls_fixture *fx, bool biff8)
{
    memset(fx, 0, sizeof *fx);
    fx->biff8 = biff8;
    fx->bof_type = 0x0809;
}

void xls_fixture_free(struct xls_fixture *fx)
{
    buf_free(&fx->globals);
    buf_free(&fx->globals_tail);
    for (size_t i = 0; i < fx->nsheets; i++)
        buf_free(&fx->sheets[i].records);
}

void xls_fixture_codepage(struct xls_fixture *fx, uint16_t cp)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, cp);
    record_buf(&fx->globals, 0x0042, &b);
}

void xls_fixture_datemode(struct xls_fixture *fx, bool is1904)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, is1904 ? 1 : 0);
    record_buf(&fx->globals, 0x0022, &b);
}

void xls_fixture_format(struct xls_fixture *fx, uint16_t id, const char *code)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, id);
    if (fx->biff8) {
        xls_put_unicode(&b, code, 2);
    } else {
        xls_put_u8(&b, (uint8_t)strlen(code));
        must(buf_puts(&b, code));
    }
    record_buf(&fx->globals, 0x041E, &b);
}

void xls_fixture_xf(struct xls_fixture *fx, uint16_t format_id)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, 0);         /* font */
    xls_put_u16(&b, format_id); /* number format */
    for (int i = 0; i < (fx->biff8 ? 16 : 12); i++)
        xls_put_u8(&b, 0);
    record_buf(&fx->globals, 0x00E0, &b);
}

void xls_fixture_sst_split(struct xls_fixture *fx, const char *const *strings, size_t n,
                           uint32_t claimed, size_t split_string, size_t split_char)
{
    static uint16_t u[70000];
    struct buf sst = BUF_INIT, cont = BUF_INIT;
    struct buf *cur = &sst;
    xls_put_u32(&sst, (uint32_t)n);
    xls_put_u32(&sst, claimed);
    for (size_t i = 0; i < n; i++) {
        size_t len = to_utf16(strings[i], u, sizeof u / sizeof u[0]);
        size_t first = len;
        if (i == split_string && split_char <= len)
            first = split_char;
        bool wide = !fits_8bit(u, first);
        xls_put_u16(cur, (uint16_t)len);
        xls_put_u8(cur, wide ? 1 : 0);
        put_chars(cur, u, first, wide);
        if (first < len || (i == split_string && split_char == len)) {
            cur = &cont;
            if (first < len) {
                bool rest_wide = !fits_8bit(u + first, len - first);
                xls_put_u8(cur, rest_wide ? 1 : 0);
                put_chars(cur, u + first, len - first, rest_wide);
            }
        }
    }
    record_buf(&fx->globals_tail, 0x00FC, &sst);
    if (cur == &cont)
        record_buf(&fx->globals_tail, 0x003C, &cont);
    buf_free(&cont);
}

void xls_fixture_sst(struct xls_fixture *fx, const char *const *strings, size_t n, uint32_t claimed)
{
    xls_fixture_sst_split(fx, strings, n, claimed, (size_t)-1, 0);
}

size_t xls_fixture_sheet(struct xls_fixture *fx, const char *name, uint8_t visibility, uint8_t kind)
{
    struct xls_fixture_sheet *s = &fx->sheets[fx->nsheets];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->visibility = visibility;
    s->kind = kind;
    s->offset_override = -1;
    return fx->nsheets++;
}

static void cell_head(struct buf *b, uint16_t row, uint16_t col, uint16_t xf)
{
    xls_put_u16(b, row);
    xls_put_u16(b, col);
    xls_put_u16(b, xf);
}

void xls_fixture_labelsst(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                          uint32_t idx)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, xf);
    xls_put_u32(&b, idx);
    record_buf(&fx->sheets[s].records, 0x00FD, &b);
}

void xls_fixture_label(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                       const char *utf8)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, 0);
    xls_put_unicode(&b, utf8, 2);
    record_buf(&fx->sheets[s].records, 0x0204, &b);
}

void xls_fixture_label_bytes(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                             const char *bytes)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, 0);
    xls_put_u16(&b, (uint16_t)strlen(bytes));
    must(buf_puts(&b, bytes));
    record_buf(&fx->sheets[s].records, 0x0204, &b);
}

void xls_fixture_number(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                        double v)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, xf);
    xls_put_double(&b, v);
    record_buf(&fx->sheets[s].records, 0x0203, &b);
}

void xls_fixture_rk(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                    uint32_t rk)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, xf);
    xls_put_u32(&b, rk);
    record_buf(&fx->sheets[s].records, 0x027E, &b);
}

void xls_fixture_mulrk(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                       const uint16_t *xfs, const uint32_t *rks, size_t n)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, row);
    xls_put_u16(&b, col);
    for (size_t i = 0; i < n; i++) {
        xls_put_u16(&b, xfs[i]);
        xls_put_u32(&b, rks[i]);
    }
    xls_put_u16(&b, (uint16_t)(col + n - 1));
    record_buf(&fx->sheets[s].records, 0x00BD, &b);
}

void xls_fixture_boolerr(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                         uint8_t value, bool is_error)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, 0);
    xls_put_u8(&b, value);
    xls_put_u8(&b, is_error ? 1 : 0);
    record_buf(&fx->sheets[s].records, 0x0205, &b);
}

void xls_fixture_formula(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                         char kind, double v, const char *text)
{
    struct buf b = BUF_INIT;
    cell_head(&b, row, col, xf);
    if (kind == 'n') {
        xls_put_double(&b, v);
    } else {
        uint8_t type = kind == 's' ? 0 : kind == 'b' ? 1 : kind == 'e' ? 2 : 3;
        uint8_t res[8] = {type, 0, (uint8_t)v, 0, 0, 0, 0xFF, 0xFF};
        must(buf_append(&b, res, 8));
    }
    xls_put_u16(&b, 0); /* grbit */
    xls_put_u32(&b, 0); /* chn */
    xls_put_u16(&b, 0); /* cce: no formula tokens, the tests only need the result */
    record_buf(&fx->sheets[s].records, 0x0006, &b);
    if (kind == 's') {
        struct buf str = BUF_INIT;
        if (fx->biff8) {
            xls_put_unicode(&str, text, 2);
        } else {
            xls_put_u16(&str, (uint16_t)strlen(text));
            must(buf_puts(&str, text));
        }
        record_buf(&fx->sheets[s].records, 0x0207, &str);
    }
}

static void put_bof(struct xls_fixture *fx, struct buf *out, uint16_t type, uint16_t dt)
{
    struct buf b = BUF_INIT;
    xls_put_u16(&b, fx->biff8 ? 0x0600 : 0x0500);
    xls_put_u16(&b, dt);
    xls_put_u16(&b, 0x0DBB); /* build */
    xls_put_u16(&b, 0x07CC); /* year */
    if (fx->biff8) {
        xls_put_u32(&b, 0);
        xls_put_u32(&b, 0x0206);
    }
    record_buf(out, type, &b);
}

/* Globals BOF, globals, BOUNDSHEETs (offsets patched once the sheets are laid out), the
 * globals tail, EOF, then each sheet between its BOF and EOF. */
void xls_fixture_stream(struct xls_fixture *fx, struct buf *out)
{
    size_t patch[XLS_FIXTURE_MAX_SHEETS];
    put_bof(fx, out, fx->bof_type, 0x0005);
    must(buf_append(out, fx->globals.data, fx->globals.len));
    for (size_t i = 0; i < fx->nsheets; i++) {
        struct buf b = BUF_INIT;
        patch[i] = out->len + 4;
        xls_put_u32(&b, 0);
        xls_put_u8(&b, fx->sheets[i].visibility);
        xls_put_u8(&b, fx->sheets[i].kind);
        if (fx->biff8) {
            xls_put_unicode(&b, fx->sheets[i].name, 1);
        } else {
            xls_put_u8(&b, (uint8_t)strlen(fx->sheets[i].name));
            must(buf_puts(&b, fx->sheets[i].name));
        }
        record_buf(out, 0x0085, &b);
    }
    must(buf_append(out, fx->globals_tail.data, fx->globals_tail.len));
    xls_fixture_record(out, 0x000A, NULL, 0);
    for (size_t i = 0; i < fx->nsheets; i++) {
        uint32_t at = (uint32_t)out->len;
        if (fx->sheets[i].offset_override >= 0)
            at = (uint32_t)fx->sheets[i].offset_override;
        for (int k = 0; k < 4; k++)
            out->data[patch[i] + (size_t)k] = (char)(at >> (8 * k));
        put_bof(fx, out, 0x0809, fx->sheets[i].kind == 2 ? 0x0020 : 0x0010);
        must(buf_append(out, fx->sheets[i].records.data, fx->sheets[i].records.len));
        xls_fixture_record(out, 0x000A, NULL, 0);
    }
}

bool xls_fixture_write_raw(const char *path, const char *stream_name, const void *data, size_t len)
{
    GError *gerr = NULL;
    GsfOutput *sink = gsf_output_stdio_new(path, &gerr);
    if (!sink) {
        g_clear_error(&gerr);
        return false;
    }
    GsfOutfile *ole = gsf_outfile_msole_new(sink);
    GsfOutput *child = gsf_outfile_new_child(ole, stream_name, FALSE);
    bool ok = gsf_output_write(child, len, data);
    ok = gsf_output_close(child) && ok;
    g_object_unref(child);
    ok = gsf_output_close(GSF_OUTPUT(ole)) && ok;
    g_object_unref(ole);
    if (!gsf_output_is_closed(sink)) /* closing the OLE2 file may close its sink */
        ok = gsf_output_close(sink) && ok;
    g_object_unref(sink);
    return ok;
}

bool xls_fixture_write(struct xls_fixture *fx, const char *path, const char *stream_name)
{
    struct buf stream = BUF_INIT;
    xls_fixture_stream(fx, &stream);
    bool ok = xls_fixture_write_raw(path, stream_name, stream.data, stream.len);
    buf_free(&stream);
    return ok;
}

char *xls_fixture_save(struct xls_fixture *fx, const char *name, const char *stream_name)
{
    char *path = test_suite_path(name);
    cr_assert(xls_fixture_write(fx, path, stream_name), "cannot write %s", path);
    xls_fixture_free(fx);
    return path;
}
