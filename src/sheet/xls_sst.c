/*
 * The shared string table (SST): every distinct text of a BIFF8 workbook, referenced by
 * index from LABELSST cells. Held as one arena of NUL-terminated UTF-8 strings and one
 * array of offsets, so a workbook of a million short strings costs two allocations that
 * grow geometrically, not a million.
 *
 * The SST header says how many strings follow (cstUnique). That count is not trusted in
 * either direction: a hostile file may claim 2^31 strings (nothing is reserved for them),
 * and real files exist whose count is too small (the strings present are read anyway). The
 * table holds exactly the strings the SST record and its CONTINUE records contain.
 */
#include <stdlib.h>

#include "sheet/xls_internal.h"

void xls_sst_init(struct xls_sst *sst)
{
    struct buf empty = BUF_INIT;
    sst->arena = empty;
    sst->offsets = NULL;
    sst->count = 0;
    sst->cap = 0;
}

void xls_sst_free(struct xls_sst *sst)
{
    buf_free(&sst->arena);
    free(sst->offsets);
    xls_sst_init(sst);
}

static int sst_push_offset(struct xls_sst *sst, size_t offset)
{
    if (sst->count == sst->cap) {
        size_t cap = sst->cap ? sst->cap * 2 : 256;
        size_t *offsets = realloc(sst->offsets, cap * sizeof *offsets);
        if (!offsets)
            return SD_ENOMEM;
        sst->offsets = offsets;
        sst->cap = cap;
    }
    sst->offsets[sst->count++] = offset;
    return 0;
}

/* Reads strings until the record chain runs out. The stream is positioned just after the
 * SST record on entry; on return the first record that is not a CONTINUE has been pushed
 * back for the caller. A second SST record (broken files) replaces the first. */
int xls_sst_read(struct xls_sst *sst, struct xls_stream *s, struct sd_error *err)
{
    xls_sst_free(sst);
    struct xls_cursor c;
    xls_cursor_init(&c, s, 8); /* cstTotal, cstUnique: ignored, see above */
    for (;;) {
        if (c.left == 0) {
            /* A string ends exactly at a record end: look for a CONTINUE. */
            int rc = xls_stream_next(s, err);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return 0;
            if (s->type != XLS_CONTINUE) {
                xls_stream_unread(s);
                return 0;
            }
            xls_cursor_init(&c, s, 0);
            continue;
        }
        size_t start = sst->arena.len;
        int rc = xls_read_unicode(&c, 2, &sst->arena, err);
        if (rc == 0 && buf_putc(&sst->arena, '\0') < 0)
            rc = sd_error_nomem(err);
        if (rc == 0 && sst_push_offset(sst, start) < 0)
            rc = sd_error_nomem(err);
        if (rc < 0) {
            if (rc == SD_ENOMEM)
                return rc;
            /* The last string is cut short: keep the complete ones, drop the rest. */
            buf_truncate(&sst->arena, start);
            sd_error_clear(err);
            return 0;
        }
    }
}

const char *xls_sst_get(const struct xls_sst *sst, size_t idx, size_t *len)
{
    if (idx >= sst->count)
        return NULL;
    size_t start = sst->offsets[idx];
    size_t end = idx + 1 < sst->count ? sst->offsets[idx + 1] - 1 : sst->arena.len - 1;
    *len = end - start;
    return sst->arena.data + start;
}
