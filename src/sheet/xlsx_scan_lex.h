/*
 * The scanner's leaf lexer (xlsx_scan_lex.c): byte classes, names, references and error
 * sentences, shared by the tokenizer (xlsx_scan.c) and the markup scanner (xlsx_scan_tag.c).
 * It calls neither of them.
 */
#ifndef SHEETD_SHEET_XLSX_SCAN_LEX_H
#define SHEETD_SHEET_XLSX_SCAN_LEX_H

#include "sheet/xlsx_scan_internal.h"

/* Byte classes: what a byte may do in XML's grammar, looked up in xlsx_byte_class. */
enum xlsx_byte_class {
    XLSX_BYTE_TEXT = 1,  /* ends a plain text run: < & CR ] and control characters */
    XLSX_BYTE_START = 2, /* may start a name (any byte >= 0x80 too) */
    XLSX_BYTE_NAME = 4,  /* may continue a name */
    XLSX_BYTE_SPACE = 8, /* XML white space */
    XLSX_BYTE_ATTR = 16, /* ends a plain attribute value: quotes < & TAB LF CR, controls */
    XLSX_BYTE_CTRL = 32, /* a control character XML does not allow */
};

extern const unsigned char xlsx_byte_class[256];

/* True when byte c is in class k (one or more XLSX_BYTE_* or-ed). */
#define XLSX_BYTE_IS(c, k) ((xlsx_byte_class[(unsigned char)(c)] & (k)) != 0)

/* Counts the lines of buf[..upto) not counted yet, for error positions. */
void xlsx_scan_count_lines(struct xlsx_scan *s, size_t upto);
/* Fails with SD_EINVALID, "is not well-formed XML (line L, column C: why)" at buf[at]. */
int xlsx_scan_malformed(struct xlsx_scan *s, size_t at, const char *why);
/* Fails with `code` and "<file>: <part> <what>". */
int xlsx_scan_failf(struct xlsx_scan *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails with SD_ELIMIT: a tag or reference longer than max_token. */
int xlsx_scan_token_limit(struct xlsx_scan *s);

/* Decodes the reference at buf[at] ('&') into out: its length through *n, the input bytes
 * it took through *used. XLSX_SCAN_NEED_MORE when its ';' is not before `end`. */
int xlsx_scan_decode_ref(struct xlsx_scan *s, size_t at, size_t end, char out[4], size_t *n,
                         size_t *used);

/* Where a token starting at buf[from] must end: the end of the buffer, or max_token bytes
 * on. Scans never look past it, so a token's verdict (malformed, too long, fine) is the
 * same whether the input came in one chunk or many; a scan that reaches it returns
 * XLSX_SCAN_NEED_MORE and the token loop refuses a token longer than the limit. */
static inline size_t xlsx_scan_token_end(const struct xlsx_scan *s, size_t from)
{
    return s->end - from > s->max_token ? from + s->max_token : s->end;
}

static inline size_t xlsx_scan_skip_space(const char *b, size_t i, size_t end)
{
    while (i < end && XLSX_BYTE_IS(b[i], XLSX_BYTE_SPACE))
        i++;
    return i;
}

static inline size_t xlsx_scan_skip_name(const char *b, size_t i, size_t end)
{
    while (i < end && XLSX_BYTE_IS(b[i], XLSX_BYTE_NAME))
        i++;
    return i;
}

/* The local part: after the first ':'. A loop, not memchr: names are a few bytes. */
static inline void xlsx_scan_split_name(const char *name, size_t len, const char **local,
                                        size_t *local_len)
{
    for (size_t i = 0; i < len; i++) {
        if (name[i] == ':') {
            *local = name + i + 1;
            *local_len = len - i - 1;
            return;
        }
    }
    *local = name;
    *local_len = len;
}

#endif
