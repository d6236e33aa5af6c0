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
 * guides dropped, xml:space and _xHHHH_ applied, then appended to the arena.
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

struct sst_ctx {
    struct xml_stream *xs;
    struct xlsx_sst *sst;
    struct xlsx_rich_text rt;
    bool in_si;
    bool failed;
};

static void sst_fail_nomem(struct sst_ctx *c)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    c->failed = true;
    xml_stream_fail(c->xs, &e);
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
    if (buf_append(&sst->arena, text, len) < 0 || buf_putc(&sst->arena, '\0') < 0)
        return false;
    sst->count++;
    sst->offsets[sst->count] = sst->arena.len;
    return true;
}

static void sst_start(void *data, const char *local, const char **attrs)
{
    struct sst_ctx *c = data;
    if (!strcmp(local, "si")) {
        c->in_si = true;
        xlsx_rich_text_reset(&c->rt, c->rt.max_bytes);
    }
    if (c->in_si)
        xlsx_rich_text_start(&c->rt, local, attrs);
}

static void sst_end(void *data, const char *local)
{
    struct sst_ctx *c = data;
    if (!c->in_si || c->failed)
        return;
    xlsx_rich_text_end(&c->rt, local);
    if (strcmp(local, "si") != 0)
        return;
    c->in_si = false;
    /* A string past the limit is kept truncated to the limit's byte bound: the cell that
     * uses it is refused by the row builder's exact character count, with its reference. */
    if (!sst_push(c->sst, buf_cstr(&c->rt.out), c->rt.out.len))
        sst_fail_nomem(c);
}

static void sst_text(void *data, const char *s, int len)
{
    struct sst_ctx *c = data;
    if (c->in_si && !c->failed && !xlsx_rich_text_chars(&c->rt, s, len))
        sst_fail_nomem(c);
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
    struct sst_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.sst = sst;
    /* Raw text past 8 bytes a character is past the cell limit however it is written (a
     * character is at most 4 bytes of UTF-8 or 7 of _xHHHH_ escape), so a string cut there
     * still reads as too long, and the row builder refuses the cell that uses it. */
    xlsx_rich_text_reset(&ctx.rt, (size_t)limits->max_cell_chars * 8 + 8);
    struct xml_stream_handlers h = {sst_start, sst_end, sst_text};
    int rc = xlsx_parse_part(zg, index, &h, &ctx, &ctx.xs, err);
    xlsx_rich_text_free(&ctx.rt);
    if (rc < 0) {
        xlsx_sst_free(sst);
        return rc;
    }
    return 0;
}

bool xlsx_sst_get(const struct xlsx_sst *sst, uint64_t idx, const char **text, size_t *len)
{
    if (idx >= sst->count)
        return false;
    *text = sst->arena.data + sst->offsets[idx];
    *len = sst->offsets[idx + 1] - sst->offsets[idx] - 1;
    return true;
}

void xlsx_sst_free(struct xlsx_sst *sst)
{
    buf_free(&sst->arena);
    free(sst->offsets);
    memset(sst, 0, sizeof *sst);
}
