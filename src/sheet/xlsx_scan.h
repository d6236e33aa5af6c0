/*
 * A pull tokenizer for the big parts of an XLSX package (worksheets, shared strings): just
 * the XML those parts use, without expat's per-character callbacks.
 *
 *     struct xlsx_scan *s;
 *     xlsx_scan_open_entry(&s, zg, index, &err);
 *     struct xlsx_token tok;
 *     while ((rc = xlsx_scan_next(s, &tok, &err)) == 1) {
 *         if (tok.kind == XLSX_TOKEN_START && xlsx_token_is(&tok, "row")) ...
 *     }
 *     // rc == 0: end of the document; rc < 0: err says why
 *     xlsx_scan_close(s);
 *
 * Tokens are element starts (qualified and local name, attributes), element ends (an
 * empty element `<c/>` gives a start and then an end) and text. Names are compared by
 * their local part, whatever the prefix: SpreadsheetML's meaning lives in local names and a
 * few unprefixed attributes, so strict and transitional OOXML read alike. Text comes with
 * the five predefined entities and character references decoded, CDATA sections as text,
 * CR LF and CR as LF; it may come in several pieces (at chunk boundaries), which the caller
 * joins. Attribute values are normalized as XML says (literal TAB, CR, LF become spaces).
 * Comments and processing instructions are skipped.
 *
 * Everything a token points to is valid until the next xlsx_scan_next call.
 *
 * What is refused, each with a sentence naming the file and the part: a DOCTYPE (the same
 * sentence as the expat parser's, so no entity is ever declared or expanded), an encoding
 * other than UTF-8, nesting deeper than limits.max_xml_depth, a tag longer than the token
 * limit, and malformed markup ("... is not well-formed XML (line L, column C: why)").
 * Bytes that are not UTF-8 are passed through: the row builder replaces them.
 */
#ifndef SHEETD_SHEET_XLSX_SCAN_H
#define SHEETD_SHEET_XLSX_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "sheet/zip_guard.h"

struct xlsx_scan;

/* Where the bytes come from: a zip entry in production, memory in tests. read returns the
 * number of bytes written to data (0 at the end) or a negative SD_E* code with err set. */
struct xlsx_scan_source {
    ssize_t (*read)(void *ctx, void *data, size_t len, struct sd_error *err);
    void *ctx;
};

struct xlsx_scan_options {
    const char *display_name; /* the file, for sentences (borrowed) */
    const char *part_name;    /* the part, for sentences (borrowed) */
    uint32_t max_depth;       /* element nesting limit */
    size_t max_token;         /* longest tag (or entity reference) held whole, in bytes */
    size_t chunk;             /* bytes asked of the source per read (tests use 1) */
};

#define XLSX_SCAN_OPTIONS_INIT                                                                     \
    {                                                                                              \
        .display_name = "", .part_name = "", .max_depth = 256, .max_token = 64 * 1024,             \
        .chunk = 64 * 1024                                                                         \
    }

enum xlsx_token_kind { XLSX_TOKEN_START = 1, XLSX_TOKEN_END, XLSX_TOKEN_TEXT };

struct xlsx_attr {
    const char *name; /* qualified name, as written ("r", "xml:space") */
    const char *local;
    const char *value; /* decoded (not NUL-terminated) */
    size_t name_len;
    size_t local_len;
    size_t value_len;
};

struct xlsx_token {
    enum xlsx_token_kind kind;
    const char *name; /* START, END: qualified name (not NUL-terminated) */
    const char *local;
    size_t name_len;
    size_t local_len;
    const struct xlsx_attr *attrs; /* START */
    size_t nattrs;
    const char *text; /* TEXT (not NUL-terminated) */
    size_t text_len;
    unsigned depth; /* START, END: the element's depth, the root being 1 */
};

/* Opens a scanner over `src` (borrowed, must outlive the scanner). The caller closes it. */
int xlsx_scan_open(struct xlsx_scan **out, const struct xlsx_scan_source *src,
                   const struct xlsx_scan_options *opts, struct sd_error *err);
/* Opens a scanner over entry `index` of zg, reading through the guard (every zip limit
 * holds), with the guard's limits: max_xml_depth, and a token limit of the cell-text limit
 * (8 bytes a character) or 64 KiB, whichever is more. */
int xlsx_scan_open_entry(struct xlsx_scan **out, struct zip_guard *zg, uint64_t index,
                         struct sd_error *err);
void xlsx_scan_close(struct xlsx_scan *s);

/* The next token (1), the end of the document (0) or an error (negative, err filled).
 * After 0 or an error, further calls return the same. */
int xlsx_scan_next(struct xlsx_scan *s, struct xlsx_token *tok, struct sd_error *err);

/* Fails the scanner for good with this error (copied); the next call returns it. For the
 * caller's own refusals, so that they are sticky like the scanner's. */
void xlsx_scan_fail(struct xlsx_scan *s, const struct sd_error *why);

/* True when the token's local name is `local`. */
static inline bool xlsx_token_is(const struct xlsx_token *tok, const char *local)
{
    size_t i = 0;
    for (; i < tok->local_len; i++)
        if (local[i] != tok->local[i]) /* also stops at local's NUL */
            return false;
    return local[i] == '\0';
}

/* The value of the first attribute whose local name is `local` (any prefix), or NULL. */
const char *xlsx_token_attr(const struct xlsx_token *tok, const char *local, size_t *len);
/* xml:space on the element: -1 unset, 0 default, 1 preserve. */
signed char xlsx_token_space(const struct xlsx_token *tok);

#endif
