/*
 * Internals of the XLSX reader, shared by its files:
 *
 *   xlsx_reader.c          the backend table: open (package, workbook, sheet list), select,
 *                          next_row, close
 *   xlsx_package.c         relationships (.rels) and part-name resolution
 *   xlsx_shared_strings.c  the shared-string table: one arena plus offsets
 *   xlsx_styles.c          cellXfs -> date/time/number kind of each cell style
 *   xlsx_text.c            text rules shared by strings: xml:space trimming, _xHHHH_ escapes,
 *                          strict number and ISO-date parsing
 *   xlsx_sheet.c           streaming a worksheet's rows
 *   xlsx_scan.c, _tag.c    the tokenizer for worksheets and shared strings (xlsx_scan.h);
 *                          the small parts go through expat (xml_stream.h)
 */
#ifndef SHEETD_SHEET_XLSX_INTERNAL_H
#define SHEETD_SHEET_XLSX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "sheet/numfmt.h"
#include "sheet/sheet_backend.h"
#include "sheet/xlsx_scan.h"
#include "sheet/xml_stream.h"
#include "sheet/zip_guard.h"

/* ---- xlsx_text.c ---- */

/* Decodes OOXML's _xHHHH_ escapes in place (UTF-16 pairs joined; a lone surrogate or
 * _x0000_ becomes U+FFFD) and returns the new length. The result is never longer; when it
 * is shorter it is NUL-terminated, so s[len] must be writable. */
size_t xlsx_unescape(char *s, size_t len);
/* The span of s[0..len) without leading and trailing XML white space (space, TAB, CR, LF). */
void xlsx_trim_xml_space(const char **s, size_t *len);
/* A whole decimal number as OOXML writes it ("-1.5E+3"), surrounding white space allowed;
 * false for anything else (hex, inf, nan, junk), which strtod would accept. */
bool xlsx_parse_number(const char *s, size_t len, double *out);
/* An unsigned decimal integer (shared-string indices, style ids, row numbers); false on
 * junk or overflow past UINT32_MAX. */
bool xlsx_parse_u32(const char *s, size_t len, uint32_t *out);
/* Parses "B7" (s[0..len)) into a 0-based column and 1-based row (row 0 when the reference
 * has no digits). False when it is not a cell reference. */
bool xlsx_parse_ref(const char *s, size_t len, uint32_t *column, uint32_t *row);

/* Collects the text of a rich or plain string (<si> or <is>): the <t> pieces, with runs
 * joined, phonetic runs (<rPh>) left out, each piece trimmed unless xml:space="preserve"
 * applies to it, and _xHHHH_ escapes decoded. Bounded: past max_bytes the string is marked
 * too long (the caller decides what that means). */
struct xlsx_rich_text {
    struct buf out; /* the joined text so far */
    size_t piece;   /* where the current <t> piece starts in out */
    size_t max_bytes;
    int depth_rph; /* > 0 inside <rPh> */
    bool in_t;
    bool too_long;
    signed char space_outer; /* xml:space on <si>/<is>: -1 unset, 0 default, 1 preserve */
    signed char space_run;   /* on <r> */
    signed char space_t;     /* on <t> */
};

void xlsx_rich_text_reset(struct xlsx_rich_text *rt, size_t max_bytes);
void xlsx_rich_text_free(struct xlsx_rich_text *rt);
/* Feed every element start/end and text inside the string's element (the <si>/<is> start
 * included); false on ENOMEM. */
void xlsx_rich_text_start(struct xlsx_rich_text *rt, const struct xlsx_token *tok);
bool xlsx_rich_text_end(struct xlsx_rich_text *rt, const struct xlsx_token *tok);
bool xlsx_rich_text_chars(struct xlsx_rich_text *rt, const char *s, size_t len);

/* ---- xlsx_package.c ---- */

struct xlsx_rel {
    char *id;
    char *type;   /* the full relationship type URI */
    char *target; /* resolved part name, no leading '/' */
};

struct xlsx_rels {
    struct xlsx_rel *items; /* in document order (xlsx_rels_by_type wants the first) */
    size_t n;
    size_t cap;
    size_t *by_id; /* indices into items sorted by id, then position: lookups by id stay
                    * logarithmic however many <sheet> elements a hostile workbook has */
};

/* Reads the relationships of part `source` ("" for the package itself): its
 * `<dir>/_rels/<name>.rels`. A missing .rels file is an empty set. External targets are left
 * out. The caller frees with xlsx_rels_free. */
int xlsx_rels_load(struct xlsx_rels *rels, struct zip_guard *zg, const char *source,
                   struct sd_error *err);
void xlsx_rels_free(struct xlsx_rels *rels);
/* The first relationship whose type ends with "/<suffix>" (transitional and strict URIs
 * differ only before it), or NULL. */
const struct xlsx_rel *xlsx_rels_by_type(const struct xlsx_rels *rels, const char *suffix);
const struct xlsx_rel *xlsx_rels_by_id(const struct xlsx_rels *rels, const char *id);
/* Resolves a relationship target against the directory of part `source`: backslashes
 * become '/', "/xl/..." is absolute, "." and ".." segments are folded. Returns a malloc'd
 * part name or NULL on ENOMEM. */
char *xlsx_resolve_target(const char *source, const char *target);

/* Parses a whole part with handlers (no suspension), for the small parts. */
int xlsx_parse_part(struct zip_guard *zg, uint64_t index,
                    const struct xml_stream_handlers *handlers, void *ctx,
                    struct xml_stream **stream_slot, struct sd_error *err);

/* ---- xlsx_shared_strings.c ---- */

struct xlsx_sst {
    struct buf arena; /* every string, NUL-terminated, back to back */
    size_t *offsets;  /* count + 1 entries: string i is arena[offsets[i] .. offsets[i+1]-1) */
    size_t count;
    size_t cap;
};

int xlsx_sst_load(struct xlsx_sst *sst, struct zip_guard *zg, uint64_t index,
                  const struct sheet_limits *limits, struct sd_error *err);
/* False when idx is out of range. Inline: it runs for every shared-string cell. */
static inline bool xlsx_sst_get(const struct xlsx_sst *sst, uint64_t idx, const char **text,
                                size_t *len)
{
    if (idx >= sst->count)
        return false;
    *text = sst->arena.data + sst->offsets[idx];
    *len = sst->offsets[idx + 1] - sst->offsets[idx] - 1;
    return true;
}
void xlsx_sst_free(struct xlsx_sst *sst);

/* ---- xlsx_styles.c ---- */

struct xlsx_styles {
    unsigned char *xf_kind; /* enum numfmt_kind per cellXfs entry */
    size_t nxf;
};

int xlsx_styles_load(struct xlsx_styles *styles, struct zip_guard *zg, uint64_t index,
                     struct sd_error *err);
/* NUMFMT_NUMBER for an unknown style index (a defined reading of a broken reference). */
enum numfmt_kind xlsx_styles_kind(const struct xlsx_styles *styles, uint32_t xf);
void xlsx_styles_free(struct xlsx_styles *styles);

/* ---- xlsx_reader.c / xlsx_sheet.c ---- */

struct xlsx_sheet_reader;

struct xlsx_book {
    struct sheet_book base; /* first: sheet.c casts between the two */
    struct zip_guard *zg;
    struct xlsx_sst sst;
    struct xlsx_styles styles;
    char **sheet_parts; /* per sheet: resolved part name, or NULL when it has none */
    struct xlsx_sheet_reader *reader;
};

int xlsx_sheet_open(struct xlsx_sheet_reader **out, struct xlsx_book *book, const char *part,
                    const char *sheet_name, struct sd_error *err);
int xlsx_sheet_next(struct xlsx_sheet_reader *r, const struct sheet_row **out,
                    struct sd_error *err);
void xlsx_sheet_close(struct xlsx_sheet_reader *r);

#endif
