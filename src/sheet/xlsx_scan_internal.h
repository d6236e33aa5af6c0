/*
 * Internals of the worksheet scanner, in three layers that call only downwards:
 *
 *   xlsx_scan.c      the tokenizer: buffer and refills, text, CDATA, skipped sections, the
 *                    token loop, the public API
 *   xlsx_scan_tag.c  markup: start and end tags with their attributes, `<!` and `<?` forms
 *   xlsx_scan_lex.c  the leaf lexer: byte classes, names, references, error sentences
 */
#ifndef SHEETD_SHEET_XLSX_SCAN_INTERNAL_H
#define SHEETD_SHEET_XLSX_SCAN_INTERNAL_H

#include "base/buf.h"
#include "sheet/xlsx_scan.h"

/* Outcomes of the scanning steps besides a token (1) and errors (< 0). */
#define XLSX_SCAN_NEED_MORE 0 /* the token runs past the buffer: refill and scan it again */
#define XLSX_SCAN_AGAIN 2     /* something was skipped; look again */

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

/* ---- xlsx_scan_tag.c ---- */

/* Markup at buf[pos] ('<'): a start or end tag (1, token filled), or a comment, PI, CDATA
 * start or XML declaration (XLSX_SCAN_AGAIN, mode or state changed), XLSX_SCAN_NEED_MORE, or an
 * error. */
int xlsx_scan_markup(struct xlsx_scan *s, struct xlsx_token *tok);

#endif
