/*
 * Internals of the worksheet scanner shared by its two files: xlsx_scan.c (buffer, text,
 * references, the token loop) and xlsx_scan_tag.c (tags and the other markup).
 */
#ifndef SHEETD_SHEET_XLSX_SCAN_INTERNAL_H
#define SHEETD_SHEET_XLSX_SCAN_INTERNAL_H

#include "base/buf.h"
#include "sheet/xlsx_scan.h"

/* Byte classes. */
enum {
    C_TEXT = 1,  /* ends a plain text run: < & CR ] and control characters */
    C_START = 2, /* may start a name (any byte >= 0x80 too) */
    C_NAME = 4,  /* may continue a name */
    C_SPACE = 8, /* XML white space */
    C_ATTR = 16, /* ends a plain attribute value: quotes < & TAB LF CR, controls */
    C_CTRL = 32, /* a control character XML does not allow */
};

/* clang-format off */
static const unsigned char cls[256] = {
    49, 49, 49, 49, 49, 49, 49, 49, 49, 24, 24, 49, 49, 25, 49, 49, /* 0x00 */
    49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, 49, /* 0x10 */
    8,  0,  16, 0,  0,  0,  17, 16, 0,  0,  0,  0,  0,  4,  4,  0,  /* 0x20  !"#$%&'()*+,-./ */
    4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  6,  0,  17, 0,  0,  0,  /* 0x30 0-9 :;<=>? */
    0,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0x40 @A-O */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  0,  0,  1,  0,  6,  /* 0x50 P-Z[\]^_ */
    0,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  /* 0x60 `a-o */
    6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  0,  0,  0,  0,  0,  /* 0x70 p-z{|}~DEL */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  /* 0x80 and up: any non-ASCII byte */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
};
/* clang-format on */

#define IS(c, k) ((cls[(unsigned char)(c)] & (k)) != 0)

/* Outcomes of the scanning steps besides a token (1) and errors (< 0). */
#define NEED_MORE 0
#define AGAIN 2 /* something was skipped; look again */

enum scan_mode { M_MARKUP, M_COMMENT, M_PI, M_CDATA };
enum scan_place { P_PROLOG, P_ROOT, P_EPILOG };

struct xlsx_scan {
    struct xlsx_scan_source src;
    struct zip_guard_entry *entry; /* owned, or NULL */
    char *buf;
    size_t cap; /* chunk + max_token */
    size_t chunk;
    size_t max_token;
    size_t pos, end;
    bool eof;
    enum scan_mode mode;
    enum scan_place place;
    bool decl_allowed; /* nothing but a BOM has been read yet */
    int state;         /* 0 running, 1 finished, < 0 failed with `error` */
    struct sd_error error;

    unsigned depth;
    uint32_t max_depth;
    char *names; /* open elements' qualified names, back to back */
    size_t names_len;
    size_t names_cap;
    size_t *name_offs; /* per open element: where its name starts in `names` */
    size_t name_cap;
    bool pending_end;      /* the last token was an empty element's start */
    const char *pend_name; /* its name, still in buf: no refill happens before the end */
    size_t pend_name_len;
    bool bom_checked;

    struct xlsx_attr *attrs;
    size_t attr_cap;
    struct buf scratch; /* decoded text and attribute values of the current token */

    /* Error positions: lines are counted up to `counted` (an absolute offset). */
    uint64_t base; /* absolute offset of buf[0] */
    uint64_t counted;
    uint64_t line_start;
    unsigned long line;

    const char *display_name;
    const char *part_name;
};

/* ---- xlsx_scan.c ---- */

/* Fails with SD_EINVALID, "is not well-formed XML (line L, column C: why)" at buf[at]. */
int xlsx_scan_malformed(struct xlsx_scan *s, size_t at, const char *why);
/* Fails with `code` and "<file>: <part> <what>". */
int xlsx_scan_failf(struct xlsx_scan *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Decodes the reference at buf[at] ('&') into out: its length through *n, the input bytes
 * it took through *used. NEED_MORE when its ';' is not before `end` (see below). */
int xlsx_scan_decode_ref(struct xlsx_scan *s, size_t at, size_t end, char out[4], size_t *n,
                         size_t *used);

/* Fails with SD_ELIMIT: a tag or reference longer than max_token. */
int xlsx_scan_token_limit(struct xlsx_scan *s);

/* Where a token starting at buf[from] must end: the end of the buffer, or max_token bytes
 * on. Scans never look past it, so a token's verdict (malformed, too long, fine) is the
 * same whether the input came in one chunk or many; a scan that reaches it returns
 * NEED_MORE and the token loop refuses a token longer than the limit. */
static inline size_t xlsx_scan_token_end(const struct xlsx_scan *s, size_t from)
{
    return s->end - from > s->max_token ? from + s->max_token : s->end;
}

/* ---- xlsx_scan_tag.c ---- */

/* Markup at buf[pos] ('<'): a start or end tag (1, token filled), or a comment, PI, CDATA
 * start or XML declaration (AGAIN, mode or state changed), NEED_MORE, or an error. */
int xlsx_scan_markup(struct xlsx_scan *s, struct xlsx_token *tok);

#endif
