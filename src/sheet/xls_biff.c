/*
 * DESIGN
 * ------
 * BIFF records and strings. A workbook stream is a sequence of records: a 4-byte header
 * (type, length) and at most 65,535 bytes of body. The reader keeps exactly one body in a
 * fixed buffer inside struct xls_stream, checks every claimed length against what is left
 * of the stream before reading, and so never allocates by what a file claims.
 *
 * A record too long for one body goes on in CONTINUE records. Most of what we read fits in
 * one record, but the shared string table and long formula results do not, so strings are
 * read through a cursor that pulls the next CONTINUE record when its bytes run out. BIFF8
 * strings have one twist: when the characters of a string are split, the continuation
 * starts with a fresh option byte saying whether the rest is 8-bit ("compressed", i.e.
 * Latin-1) or UTF-16. Other bytes (rich-text runs, phonetic data) simply continue.
 *
 * BIFF5 strings are bytes in the workbook's code page (the CODEPAGE record); they go through
 * iconv. BIFF8 strings are Latin-1 or UTF-16LE and are converted here by hand: the mapping is
 * trivial and unpaired surrogates must become U+FFFD rather than an iconv failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "sheet/xls_internal.h"

double xls_le_double(const uint8_t *p)
{
    uint64_t bits = le_load64(p);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

void xls_stream_init(struct xls_stream *s, GsfInput *input, const char *name)
{
    s->input = input;
    s->size = gsf_input_size(input);
    s->name = name;
    s->type = 0;
    s->len = 0;
    s->offset = 0;
    s->pushed_back = false;
}

/* Reads the next record header and body. Returns 0 at a clean end of the stream so callers
 * can decide whether a missing EOF record matters; a header or body cut short is an error,
 * because half a record cannot be read in any defined way. */
int xls_stream_next(struct xls_stream *s, struct sd_error *err)
{
    if (s->pushed_back) {
        s->pushed_back = false;
        return 1;
    }
    gsf_off_t pos = gsf_input_tell(s->input);
    if (pos < 0 || pos >= s->size)
        return 0;
    uint8_t hdr[4];
    if (s->size - pos < 4 || !gsf_input_read(s->input, 4, hdr))
        return sd_error_set(err, SD_EINVALID,
                            "%s is damaged: its workbook stream ends in the middle of a record "
                            "header at byte %lld",
                            s->name, (long long)pos);
    uint16_t type = le_load16(hdr);
    uint16_t len = le_load16(hdr + 2);
    if ((gsf_off_t)len > s->size - pos - 4)
        return sd_error_set(err, SD_EINVALID,
                            "%s is damaged: a record at byte %lld claims %u bytes but only %lld "
                            "are left in the workbook stream",
                            s->name, (long long)pos, (unsigned)len, (long long)(s->size - pos - 4));
    if (len && !gsf_input_read(s->input, len, s->body))
        return sd_error_set(err, SD_EINVALID,
                            "%s is damaged: the record at byte %lld could not be read", s->name,
                            (long long)pos);
    s->type = type;
    s->len = len;
    s->offset = pos;
    return 1;
}

void xls_stream_unread(struct xls_stream *s)
{
    s->pushed_back = true;
}

int xls_stream_seek(struct xls_stream *s, gsf_off_t offset, struct sd_error *err)
{
    s->pushed_back = false;
    if (offset < 0 || offset > s->size || gsf_input_seek(s->input, offset, G_SEEK_SET))
        return sd_error_set(err, SD_EINVALID,
                            "%s is damaged: a sheet starts at byte %lld, outside the workbook "
                            "stream of %lld bytes",
                            s->name, (long long)offset, (long long)s->size);
    return 0;
}

void xls_cursor_init(struct xls_cursor *c, struct xls_stream *s, size_t skip)
{
    if (skip > s->len)
        skip = s->len;
    c->stream = s;
    c->p = s->body + skip;
    c->left = s->len - skip;
}

/* Makes bytes available, pulling CONTINUE records. Returns 1 when there are bytes, 0 when
 * the record has no continuation (the next record is pushed back for the caller's loop). */
static int cursor_more(struct xls_cursor *c, struct sd_error *err)
{
    while (c->left == 0) {
        int rc = xls_stream_next(c->stream, err);
        if (rc <= 0)
            return rc;
        if (c->stream->type != XLS_CONTINUE) {
            xls_stream_unread(c->stream);
            return 0;
        }
        c->p = c->stream->body;
        c->left = c->stream->len;
    }
    return 1;
}

static int cursor_short(struct xls_cursor *c, struct sd_error *err)
{
    return sd_error_set(err, SD_EINVALID,
                        "%s is damaged: the record at byte %lld is shorter than its contents "
                        "say",
                        c->stream->name, (long long)c->stream->offset);
}

int xls_cursor_u8(struct xls_cursor *c, uint8_t *out, struct sd_error *err)
{
    int rc = cursor_more(c, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cursor_short(c, err);
    *out = *c->p++;
    c->left--;
    return 0;
}

/* n bytes one at a time, so a value may straddle a CONTINUE record. */
static int cursor_bytes(struct xls_cursor *c, uint8_t *b, int n, struct sd_error *err)
{
    for (int i = 0; i < n; i++) {
        int rc = xls_cursor_u8(c, &b[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int xls_cursor_u16(struct xls_cursor *c, uint16_t *out, struct sd_error *err)
{
    uint8_t b[2];
    int rc = cursor_bytes(c, b, 2, err);
    if (rc == 0)
        *out = le_load16(b);
    return rc;
}

int xls_cursor_u32(struct xls_cursor *c, uint32_t *out, struct sd_error *err)
{
    uint8_t b[4];
    int rc = cursor_bytes(c, b, 4, err);
    if (rc == 0)
        *out = le_load32(b);
    return rc;
}

int xls_cursor_skip(struct xls_cursor *c, uint64_t n, struct sd_error *err)
{
    while (n > 0) {
        int rc = cursor_more(c, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return cursor_short(c, err);
        size_t take = n < c->left ? (size_t)n : c->left;
        c->p += take;
        c->left -= take;
        n -= take;
    }
    return 0;
}

/* Appends a code point; U+0000 is dropped (cell text is NUL-terminated downstream). */
static int put_cp(struct buf *out, unsigned long cp)
{
    if (cp == 0)
        return 0;
    char enc[4];
    size_t n = str_utf8_encode(cp, enc);
    if (n == 0)
        n = str_utf8_encode(0xFFFD, enc);
    return buf_append(out, enc, n);
}

/* Converts n UTF-16LE code units, carrying an unpaired high surrogate across calls in *hi
 * (a split string may cut a surrogate pair in two). */
static int put_utf16(struct buf *out, const uint8_t *p, size_t n, unsigned *hi)
{
    for (size_t i = 0; i < n; i++) {
        unsigned u = le_load16(p + 2 * i);
        int rc = 0;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (*hi)
                rc = put_cp(out, 0xFFFD);
            *hi = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            if (*hi)
                rc = put_cp(out, 0x10000 + (((unsigned long)*hi - 0xD800) << 10) + (u - 0xDC00));
            else
                rc = put_cp(out, 0xFFFD);
            *hi = 0;
        } else {
            if (*hi)
                rc = put_cp(out, 0xFFFD);
            *hi = 0;
            if (rc == 0)
                rc = put_cp(out, u);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A string's character count: one byte or two, as the record says. */
static int read_count(struct xls_cursor *c, unsigned cch_bytes, uint16_t *cch, struct sd_error *err)
{
    if (cch_bytes != 1)
        return xls_cursor_u16(c, cch, err);
    uint8_t cch8;
    int rc = xls_cursor_u8(c, &cch8, err);
    if (rc == 0)
        *cch = cch8;
    return rc;
}

/* Reads a BIFF8 string. The header (count, option byte, run count, phonetic size) is read
 * through the cursor; the characters may be split across CONTINUE records with an option
 * byte at each split; the formatting runs and phonetic data that follow are skipped. A
 * string whose characters run past the last CONTINUE is an error rather than a guess. */
int xls_read_unicode(struct xls_cursor *c, unsigned cch_bytes, struct buf *out,
                     struct sd_error *err)
{
    int rc;
    uint16_t cch = 0, runs = 0;
    uint8_t flags;
    uint32_t ext = 0;
    if ((rc = read_count(c, cch_bytes, &cch, err)) < 0)
        return rc;
    if (cch == 0 && c->left == 0)
        return 0; /* some writers omit the option byte of an empty string */
    if ((rc = xls_cursor_u8(c, &flags, err)) < 0)
        return rc;
    if ((flags & 0x08) && (rc = xls_cursor_u16(c, &runs, err)) < 0)
        return rc;
    if ((flags & 0x04) && (rc = xls_cursor_u32(c, &ext, err)) < 0)
        return rc;
    bool wide = flags & 0x01;
    size_t remaining = cch;
    unsigned hi = 0;
    while (remaining > 0) {
        if (c->left == 0) {
            if ((rc = cursor_more(c, err)) < 0)
                return rc;
            if (rc == 0)
                return sd_error_set(err, SD_EINVALID,
                                    "%s is damaged: a string at byte %lld is cut short",
                                    c->stream->name, (long long)c->stream->offset);
            uint8_t cont = *c->p++;
            c->left--;
            wide = cont & 0x01;
            continue;
        }
        if (wide) {
            size_t n = c->left / 2;
            if (n == 0)
                return cursor_short(c, err);
            if (n > remaining)
                n = remaining;
            if ((rc = put_utf16(out, c->p, n, &hi)) < 0)
                return sd_error_nomem(err);
            c->p += 2 * n;
            c->left -= 2 * n;
            remaining -= n;
        } else {
            size_t n = c->left < remaining ? c->left : remaining;
            for (size_t i = 0; i < n; i++) {
                if (hi) {
                    hi = 0;
                    if (put_cp(out, 0xFFFD) < 0)
                        return sd_error_nomem(err);
                }
                if (put_cp(out, c->p[i]) < 0)
                    return sd_error_nomem(err);
            }
            c->p += n;
            c->left -= n;
            remaining -= n;
        }
    }
    if (hi && put_cp(out, 0xFFFD) < 0)
        return sd_error_nomem(err);
    if ((rc = xls_cursor_skip(c, 4u * runs, err)) < 0)
        return rc;
    return xls_cursor_skip(c, ext, err);
}

/* BIFF5 strings: a byte count, then bytes in the code page. Split strings (rare in BIFF5)
 * are gathered first so that a multi-byte character cut by a CONTINUE converts whole. */
int xls_read_bytes_string(struct xls_cursor *c, unsigned cch_bytes, const struct xls_codec *codec,
                          struct buf *out, struct sd_error *err)
{
    int rc;
    uint16_t cch = 0;
    if ((rc = read_count(c, cch_bytes, &cch, err)) < 0)
        return rc;
    if (cch <= c->left) {
        rc = xls_codec_convert(codec, c->p, cch, out, err);
        c->p += cch;
        c->left -= cch;
        return rc;
    }
    struct buf tmp = BUF_INIT;
    for (size_t i = 0; i < cch; i++) {
        uint8_t b;
        if ((rc = xls_cursor_u8(c, &b, err)) < 0)
            goto done;
        if (buf_putc(&tmp, (char)b) < 0) {
            rc = sd_error_nomem(err);
            goto done;
        }
    }
    rc = xls_codec_convert(codec, (const uint8_t *)tmp.data, tmp.len, out, err);
done:
    buf_free(&tmp);
    return rc;
}

void xls_codec_init(struct xls_codec *codec)
{
    codec->cd = (iconv_t)-1;
}

void xls_codec_free(struct xls_codec *codec)
{
    if (codec->cd != (iconv_t)-1)
        iconv_close(codec->cd);
    codec->cd = (iconv_t)-1;
}

/* Code page numbers as the CODEPAGE record gives them, mapped to iconv names. Most are
 * "CP<number>"; the Mac and "ANSI" aliases are the exceptions. */
static void codepage_name(unsigned codepage, char out[16])
{
    switch (codepage) {
    case 367:
        snprintf(out, 16, "ASCII");
        break;
    case 1200: /* UTF-16: a BIFF8 marker, meaningless for 8-bit strings */
    case 32769:
        snprintf(out, 16, "CP1252");
        break;
    case 10000:
    case 32768:
        snprintf(out, 16, "MACINTOSH");
        break;
    default:
        snprintf(out, 16, "CP%u", codepage);
        break;
    }
}

int xls_codec_set(struct xls_codec *codec, unsigned codepage, struct sd_error *err)
{
    char name[16];
    codepage_name(codepage, name);
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", "CP1252");
    if (cd == (iconv_t)-1)
        return sd_error_set(err, SD_ERROR,
                            "cannot convert Windows-1252 text: the iconv conversion modules "
                            "are missing on this system");
    xls_codec_free(codec);
    codec->cd = cd;
    return 0;
}

/* Converts bytes without NULs; returns 0 or SD_ENOMEM. */
static int convert_segment(iconv_t cd, const uint8_t *in, size_t len, struct buf *out)
{
    iconv(cd, NULL, NULL, NULL, NULL);
    char *ip = (char *)in;
    size_t ileft = len;
    while (ileft > 0) {
        if (buf_grow(out, 4 * ileft + 4) < 0)
            return SD_ENOMEM;
        char *op = out->data + out->len;
        size_t oleft = out->cap - out->len - 1;
        size_t before = oleft;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        out->len += before - oleft;
        out->data[out->len] = '\0';
        if (r == (size_t)-1 && errno != E2BIG) {
            /* EILSEQ or EINVAL (a lead byte at the end): substitute and move on. */
            if (put_cp(out, 0xFFFD) < 0)
                return SD_ENOMEM;
            ip++;
            ileft--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
    }
    return 0;
}

/* iconv with one substitution rule: a byte the code page does not define becomes U+FFFD
 * and conversion goes on, so a stray byte never loses the rest of a string. NUL bytes are
 * dropped, as in BIFF8 strings. */
int xls_codec_convert(const struct xls_codec *codec, const uint8_t *in, size_t len, struct buf *out,
                      struct sd_error *err)
{
    if (codec->cd == (iconv_t)-1) {
        for (size_t i = 0; i < len; i++)
            if (put_cp(out, in[i]) < 0)
                return sd_error_nomem(err);
        return 0;
    }
    const uint8_t *end = in + len;
    while (in < end) {
        const uint8_t *nul = memchr(in, 0, (size_t)(end - in));
        const uint8_t *stop = nul ? nul : end;
        if (convert_segment(codec->cd, in, (size_t)(stop - in), out) < 0)
            return sd_error_nomem(err);
        in = nul ? nul + 1 : end;
    }
    return 0;
}
