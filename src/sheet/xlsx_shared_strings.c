/*
 * DESIGN
 * ------
 * The shared-string table is the one part of a workbook that must be held whole: any cell
 * may refer to any string. It is held compactly: all strings back to back in one arena,
 * each NUL-terminated so that a cell can point straight into it, plus one offset per
 * string. A million strings cost two allocations (grown by doubling, so a file with more
 * strings than its header's uniqueCount claims is fine; the claim is never used to size
 * anything), not a million.
 *
 * Each <si> goes through the rich-text collector (xlsx_text.c): runs joined, phonetic
 * guides dropped, xml:space and _xHHHH_ applied, then appended to the arena. The part is
 * read with the worksheet scanner (xlsx_scan.h), which passes bytes that are not UTF-8
 * through; cells point straight into the arena without another check, so each string is
 * made valid UTF-8 (bad bytes become U+FFFD, as the row builder does) on its way in.
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"

/* Appends s[0..len) to out with every byte that is not part of valid UTF-8 replaced by
 * U+FFFD: the row builder's reading, for text that bypasses the row builder. */
static int append_utf8(struct buf *out, const char *s, size_t len)
{
    size_t run = 0, i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = str_utf8_sequence_length(s + i, len - i);
        if (n) {
            i += n;
            continue;
        }
        if (buf_append(out, s + run, i - run) < 0 || buf_append(out, "\xEF\xBF\xBD", 3) < 0)
            return SD_ENOMEM;
        run = ++i;
    }
    return buf_append(out, s + run, len - run);
}

/* Appends the collected string to the arena and records where the next one starts. */
static bool sst_push(struct xlsx_sst *sst, const char *text, size_t len)
{
    if (sst->count + 2 > sst->cap) {
        size_t cap = sst->cap ? sst->cap * 2 : 1024;
        size_t *offs = realloc(sst->offsets, cap * sizeof *offs);
        if (!offs)
            return false;
        sst->offsets = offs;
        sst->cap = cap;
    }
    if (append_utf8(&sst->arena, text, len) < 0 || buf_putc(&sst->arena, '\0') < 0)
        return false;
    sst->count++;
    sst->offsets[sst->count] = sst->arena.len;
    return true;
}

/* Pulls the part's tokens into the table. */
static int sst_read(struct xlsx_sst *sst, struct xlsx_scan *scan, struct xlsx_rich_text *rt,
                    struct sd_error *err)
{
    struct xlsx_token tok;
    bool in_si = false;
    int rc;
    while ((rc = xlsx_scan_next(scan, &tok, err)) == 1) {
        if (tok.kind == XLSX_TOKEN_TEXT) {
            if (in_si && !xlsx_rich_text_chars(rt, tok.text, tok.text_len))
                return sd_error_nomem(err);
        } else if (tok.kind == XLSX_TOKEN_START) {
            if (xlsx_token_is(&tok, "si")) {
                in_si = true;
                xlsx_rich_text_reset(rt, rt->max_bytes);
            }
            if (in_si)
                xlsx_rich_text_start(rt, &tok);
        } else if (in_si) {
            xlsx_rich_text_end(rt, &tok);
            if (!xlsx_token_is(&tok, "si"))
                continue;
            in_si = false;
            /* A string past the limit is kept truncated to the limit's byte bound: the
             * cell that uses it is refused by the row builder's exact character count,
             * with its reference. */
            if (!sst_push(sst, buf_cstr(&rt->out), rt->out.len))
                return sd_error_nomem(err);
        }
    }
    return rc;
}

int xlsx_sst_load(struct xlsx_sst *sst, struct zip_guard *zg, uint64_t index,
                  const struct sheet_limits *limits, struct sd_error *err)
{
    memset(sst, 0, sizeof *sst);
    sst->offsets = malloc(1024 * sizeof *sst->offsets);
    if (!sst->offsets)
        return sd_error_nomem(err);
    sst->cap = 1024;
    sst->offsets[0] = 0;
    struct xlsx_scan *scan;
    int rc = xlsx_scan_open_entry(&scan, zg, index, err);
    if (rc < 0) {
        xlsx_sst_free(sst);
        return rc;
    }
    struct xlsx_rich_text rt;
    memset(&rt, 0, sizeof rt);
    /* Raw text past 8 bytes a character is past the cell limit however it is written (a
     * character is at most 4 bytes of UTF-8 or 7 of _xHHHH_ escape), so a string cut there
     * still reads as too long, and the row builder refuses the cell that uses it. */
    xlsx_rich_text_reset(&rt, (size_t)limits->max_cell_chars * 8 + 8);
    rc = sst_read(sst, scan, &rt, err);
    xlsx_rich_text_free(&rt);
    xlsx_scan_close(scan);
    if (rc < 0) {
        xlsx_sst_free(sst);
        return rc;
    }
    return 0;
}

void xlsx_sst_free(struct xlsx_sst *sst)
{
    buf_free(&sst->arena);
    free(sst->offsets);
    memset(sst, 0, sizeof *sst);
}
