/*
 * The leaf of the worksheet scanner (xlsx_scan.h): what the tokenizer (xlsx_scan.c) and the
 * markup scanner (xlsx_scan_tag.c) both stand on, and which calls neither: the byte classes,
 * error sentences with their line and column, and entity and character references.
 */
#include "sheet/xlsx_scan_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"

#define CTRL (XLSX_BYTE_TEXT | XLSX_BYTE_ATTR | XLSX_BYTE_CTRL)
#define NAME (XLSX_BYTE_NAME)
#define NAME_START (XLSX_BYTE_START | XLSX_BYTE_NAME)

/* Ranges ("[a ... b]") are the GNU C extension gcc and clang both take. Every byte not named
 * here is 0: it belongs to none of the classes (`!`, `#`, `/`, `=`, `>`, ...). */
const unsigned char xlsx_byte_class[256] = {
    [0x00 ... 0x08] = CTRL,
    ['\t'] = XLSX_BYTE_SPACE | XLSX_BYTE_ATTR,
    ['\n'] = XLSX_BYTE_SPACE | XLSX_BYTE_ATTR,
    [0x0b ... 0x0c] = CTRL,
    ['\r'] = XLSX_BYTE_SPACE | XLSX_BYTE_ATTR | XLSX_BYTE_TEXT, /* CR LF becomes LF */
    [0x0e ... 0x1f] = CTRL,
    [' '] = XLSX_BYTE_SPACE,
    ['"'] = XLSX_BYTE_ATTR,
    ['\''] = XLSX_BYTE_ATTR,
    ['&'] = XLSX_BYTE_TEXT | XLSX_BYTE_ATTR,
    ['<'] = XLSX_BYTE_TEXT | XLSX_BYTE_ATTR,
    [']'] = XLSX_BYTE_TEXT, /* may start "]]>", which text must not hold */
    ['-'] = NAME,
    ['.'] = NAME,
    ['0' ... '9'] = NAME,
    [':'] = NAME_START,
    ['A' ... 'Z'] = NAME_START,
    ['_'] = NAME_START,
    ['a' ... 'z'] = NAME_START,
    [0x80 ... 0xff] = NAME_START, /* any non-ASCII byte: UTF-8 is not checked in names */
};

/* ---- errors ---- */

void xlsx_scan_count_lines(struct xlsx_scan *s, size_t upto)
{
    uint64_t from = s->counted;
    if (from < s->base)
        from = s->base;
    const char *p = s->buf + (from - s->base);
    const char *e = s->buf + upto;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        s->line++;
        s->line_start = s->base + (uint64_t)(nl - s->buf) + 1;
        p = nl + 1;
    }
    if (s->base + upto > s->counted)
        s->counted = s->base + upto;
}

int xlsx_scan_failf(struct xlsx_scan *s, int code, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sd_error_set(&s->error, code, "%s: %s %s", s->display_name, s->part_name, what);
    s->state = code;
    return code;
}

/* A well-formedness error at buf[at]. */
int xlsx_scan_malformed(struct xlsx_scan *s, size_t at, const char *why)
{
    xlsx_scan_count_lines(s, at);
    return xlsx_scan_failf(s, SD_EINVALID, "is not well-formed XML (line %lu, column %llu: %s)",
                           s->line, (unsigned long long)(s->base + at - s->line_start + 1), why);
}

int xlsx_scan_token_limit(struct xlsx_scan *s)
{
    return xlsx_scan_failf(s, SD_ELIMIT,
                           "has an XML tag or reference longer than the limit of %zu bytes",
                           s->max_token);
}

/* ---- references ---- */

static bool xml_char(unsigned long cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

static int hex_digit(char c, bool hex)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Only the five predefined entities exist: a document here never has a DTD to declare
 * more. Character references must name characters XML allows. The reference is checked
 * character by character, so the verdict on a bad one never depends on how much of the
 * input happens to be in the buffer. */
int xlsx_scan_decode_ref(struct xlsx_scan *s, size_t at, size_t end, char out[4], size_t *n,
                         size_t *used)
{
    const char *b = s->buf;
    size_t i = at + 1;
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    if (b[i] == '#') {
        if (++i >= end)
            return XLSX_SCAN_NEED_MORE;
        bool hex = b[i] == 'x';
        if (hex)
            i++;
        unsigned long cp = 0;
        size_t digits = 0;
        int d;
        for (; i < end && (d = hex_digit(b[i], hex)) >= 0; i++, digits++)
            if (cp <= 0x10FFFF)
                cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        if (b[i] != ';')
            return xlsx_scan_malformed(s, at, "a character reference with a bad digit");
        if (digits == 0)
            return xlsx_scan_malformed(s, at, "a character reference without digits");
        if (!xml_char(cp))
            return xlsx_scan_malformed(s, at, "a reference to an invalid character number");
        *n = str_utf8_encode(cp, out);
    } else {
        if (!XLSX_BYTE_IS(b[i], XLSX_BYTE_START))
            return xlsx_scan_malformed(s, at, "an '&' that does not start a reference");
        size_t name = i;
        while (i < end && XLSX_BYTE_IS(b[i], XLSX_BYTE_NAME))
            i++;
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        if (b[i] != ';')
            return xlsx_scan_malformed(s, at, "an '&' that does not start a reference");
        static const struct {
            const char *name;
            size_t len;
            char c;
        } entities[] = {
            {"lt", 2, '<'}, {"gt", 2, '>'}, {"amp", 3, '&'}, {"quot", 4, '"'}, {"apos", 4, '\''}};
        size_t len = i - name, k = 0;
        while (k < 5 && !(len == entities[k].len && !memcmp(b + name, entities[k].name, len)))
            k++;
        if (k == 5)
            return xlsx_scan_malformed(s, at, "a reference to an undefined entity");
        out[0] = entities[k].c;
        *n = 1;
    }
    *used = i + 1 - at;
    return 1;
}
