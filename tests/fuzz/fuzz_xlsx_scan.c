/* The worksheet scanner (src/sheet/xlsx_scan.c) against expat, the parser it replaced for
 * worksheets and shared strings. The input is a part's XML; the first byte picks the chunk
 * size (1 to 16 bytes, so tokens straddle chunks everywhere).
 *
 *  1. On the raw input the scanner must not crash, leak or hang, and it must give the same
 *     tokens and outcome in small chunks as in one chunk.
 *  2. The input is then made valid UTF-8 without the control characters XML forbids (the
 *     two things the scanner deliberately lets through: the row builder replaces them),
 *     and the scanner's tokens must equal those of an expat-based reference tokenizer
 *     written here, or both must refuse the input. The only refusals that may differ are
 *     the scanner's own limits and encodings: a declared encoding other than UTF-8 (expat
 *     transcodes, the scanner refuses) and the nesting limit; and expat's checks of
 *     non-ASCII name characters, which the scanner does not make. */
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "sheet/xlsx_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
    const char *data;
    size_t len;
    size_t pos;
};

static ssize_t mem_read(void *ctx, void *out, size_t len, struct sd_error *err)
{
    (void)err;
    struct mem *m = ctx;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;
    memcpy(out, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* The token stream as text, text pieces joined. */
struct dump {
    struct buf out;
    bool in_text;
};

static void dump_text(struct dump *d, const char *s, size_t len)
{
    if (!d->in_text)
        buf_putc(&d->out, '[');
    d->in_text = true;
    buf_append(&d->out, s, len);
}

static void dump_close_text(struct dump *d)
{
    if (d->in_text)
        buf_putc(&d->out, ']');
    d->in_text = false;
}

static void dump_start(struct dump *d, const char *name, size_t len)
{
    dump_close_text(d);
    buf_putc(&d->out, '<');
    buf_append(&d->out, name, len);
}

static void dump_attr(struct dump *d, const char *name, size_t nlen, const char *v, size_t vlen)
{
    buf_putc(&d->out, ' ');
    buf_append(&d->out, name, nlen);
    buf_putc(&d->out, '=');
    buf_append(&d->out, v, vlen);
    buf_putc(&d->out, '\x01'); /* values may hold anything but this (a control character) */
}

static void dump_end(struct dump *d, const char *name, size_t len)
{
    dump_close_text(d);
    buf_puts(&d->out, "</");
    buf_append(&d->out, name, len);
    buf_putc(&d->out, '>');
}

/* Runs the scanner; returns its outcome, the dump in d, the error in err. */
static int run_scanner(const char *xml, size_t len, size_t chunk, struct dump *d,
                       struct sd_error *err)
{
    struct mem m = {xml, len, 0};
    struct xlsx_scan_source src = {mem_read, &m};
    struct xlsx_scan_options opts = XLSX_SCAN_OPTIONS_INIT;
    opts.chunk = chunk;
    opts.max_token = 256; /* small, so the carry and its limit are exercised */
    struct xlsx_scan *s;
    if (xlsx_scan_open(&s, &src, &opts, err) < 0)
        abort();
    struct xlsx_token tok;
    int rc;
    while ((rc = xlsx_scan_next(s, &tok, err)) == 1) {
        if (tok.kind == XLSX_TOKEN_TEXT) {
            dump_text(d, tok.text, tok.text_len);
        } else if (tok.kind == XLSX_TOKEN_END) {
            dump_end(d, tok.name, tok.name_len);
        } else {
            dump_start(d, tok.name, tok.name_len);
            for (size_t i = 0; i < tok.nattrs; i++)
                dump_attr(d, tok.attrs[i].name, tok.attrs[i].name_len, tok.attrs[i].value,
                          tok.attrs[i].value_len);
            buf_putc(&d->out, '>');
        }
    }
    dump_close_text(d);
    xlsx_scan_close(s);
    return rc;
}

/* ---- the expat reference ---- */

struct ref {
    XML_Parser p;
    struct dump d;
    bool refused; /* a DOCTYPE: expat would read it, sheetd never does */
};

static void XMLCALL ref_start(void *ctx, const XML_Char *name, const XML_Char **attrs)
{
    struct ref *r = ctx;
    dump_start(&r->d, name, strlen(name));
    for (size_t i = 0; attrs[i]; i += 2)
        dump_attr(&r->d, attrs[i], strlen(attrs[i]), attrs[i + 1], strlen(attrs[i + 1]));
    buf_putc(&r->d.out, '>');
}

static void XMLCALL ref_end(void *ctx, const XML_Char *name)
{
    struct ref *r = ctx;
    dump_end(&r->d, name, strlen(name));
}

static void XMLCALL ref_text(void *ctx, const XML_Char *s, int len)
{
    struct ref *r = ctx;
    dump_text(&r->d, s, (size_t)len);
}

static void XMLCALL ref_doctype(void *ctx, const XML_Char *name, const XML_Char *sysid,
                                const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    struct ref *r = ctx;
    r->refused = true;
    XML_StopParser(r->p, XML_FALSE);
}

/* 1 read, 0 refused; *bad_byte is the byte expat stopped at (0 when none). */
static int run_expat(const char *xml, size_t len, struct dump *d, unsigned char *bad_byte,
                     enum XML_Error *code)
{
    struct ref r = {XML_ParserCreate(NULL), {BUF_INIT, false}, false};
    if (!r.p)
        abort();
    XML_SetUserData(r.p, &r);
    XML_SetElementHandler(r.p, ref_start, ref_end);
    XML_SetCharacterDataHandler(r.p, ref_text);
    XML_SetStartDoctypeDeclHandler(r.p, ref_doctype);
    XML_SetParamEntityParsing(r.p, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(r.p, xml, (int)len, 1);
    *code = XML_GetErrorCode(r.p);
    long at = XML_GetCurrentByteIndex(r.p);
    *bad_byte = at >= 0 && (size_t)at < len ? (unsigned char)xml[at] : 0;
    XML_ParserFree(r.p);
    dump_close_text(&r.d);
    *d = r.d;
    return st == XML_STATUS_OK && !r.refused;
}

/* Valid UTF-8, no control characters but TAB, LF, CR, and no U+FFFE/U+FFFF (which XML
 * forbids too): everything else becomes '?'. */
static char *sanitize(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    size_t i = 0;
    while (i < size) {
        unsigned char c = data[i];
        size_t n = str_utf8_sequence_length((const char *)data + i, size - i);
        if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
            (n == 3 && c == 0xEF && data[i + 1] == 0xBF && data[i + 2] >= 0xBE)) {
            s[i++] = '?';
            continue;
        }
        memcpy(s + i, data + i, n);
        i += n;
    }
    s[size] = '\0';
    return s;
}

/* Whether expat reads the text once every non-ASCII character is an 'x': then what it
 * refused was a non-ASCII name character outside XML's name classes, which the scanner
 * does not check (text may hold any character, so only names change meaning). */
static bool expat_reads_ascii_names(const char *xml, size_t len)
{
    char *ascii = malloc(len + 1);
    if (!ascii)
        abort();
    for (size_t i = 0; i < len; i++)
        ascii[i] = (unsigned char)xml[i] >= 0x80 ? 'x' : xml[i];
    struct dump d;
    unsigned char bad;
    enum XML_Error code;
    int rc = run_expat(ascii, len, &d, &bad, &code);
    buf_free(&d.out);
    free(ascii);
    return rc == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 16;
    const char *xml = (const char *)data + 1;
    size_t len = size - 1;

    /* 1: raw input, small chunks against one chunk */
    struct dump a = {BUF_INIT, false}, b = {BUF_INIT, false};
    struct sd_error ea = SD_ERROR_INIT, eb = SD_ERROR_INIT;
    int ra = run_scanner(xml, len, chunk, &a, &ea);
    int rb = run_scanner(xml, len, 1 << 16, &b, &eb);
    if (ra != rb || (ra == 0 && strcmp(buf_cstr(&a.out), buf_cstr(&b.out)) != 0) ||
        (ra < 0 && strcmp(ea.message, eb.message) != 0)) {
        fprintf(stderr, "chunked: %d %s\n%s\nwhole: %d %s\n%s\n", ra, ea.message, buf_cstr(&a.out),
                rb, eb.message, buf_cstr(&b.out));
        abort();
    }
    buf_free(&a.out);
    buf_free(&b.out);

    /* 2: against expat */
    char *clean = sanitize(data + 1, len);
    struct dump sd = {BUF_INIT, false}, xd;
    struct sd_error es = SD_ERROR_INIT;
    int rs = run_scanner(clean, len, chunk, &sd, &es);
    unsigned char bad;
    enum XML_Error xcode;
    int rx = run_expat(clean, len, &xd, &bad, &xcode);
    bool ok;
    if (rs == 0 && rx == 1)
        ok = strcmp(buf_cstr(&sd.out), buf_cstr(&xd.out)) == 0;
    else if (rs < 0 && rx == 0)
        ok = true;
    else if (rs < 0)
        ok = strstr(es.message, "declares the encoding") || es.code == SD_ELIMIT;
    else
        ok = expat_reads_ascii_names(clean, len);
    if (!ok) {
        fprintf(stderr, "scanner: %d %s\n%s\nexpat: %d (%s at byte 0x%02x)\n%s\n", rs, es.message,
                buf_cstr(&sd.out), rx, XML_ErrorString(xcode), bad, buf_cstr(&xd.out));
        abort();
    }
    buf_free(&sd.out);
    buf_free(&xd.out);
    free(clean);
    return 0;
}
