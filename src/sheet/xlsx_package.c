/*
 * The Open Packaging Conventions part of XLSX: which part is the workbook, which are its
 * sheets, shared strings and styles. Parts are found through relationships, never by
 * assuming "xl/workbook.xml": real files put them elsewhere (strict OOXML, minimal packages
 * with everything at the root), write targets relative ("worksheets/sheet1.xml"), absolute
 * ("/xl/worksheets/sheet1.xml"), with backslashes, or in a different case from the zip
 * entry. Resolution here folds all of that into a part name; zip_guard_find then ignores
 * case.
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"

char *xlsx_resolve_target(const char *source, const char *target)
{
    struct buf joined = BUF_INIT;
    bool absolute = target[0] == '/' || target[0] == '\\';
    if (!absolute) {
        const char *slash = strrchr(source, '/');
        if (slash && buf_append(&joined, source, (size_t)(slash - source + 1)) < 0)
            goto nomem;
    }
    if (buf_puts(&joined, target) < 0)
        goto nomem;
    for (size_t i = 0; i < joined.len; i++)
        if (joined.data[i] == '\\')
            joined.data[i] = '/';
    /* Fold "." and ".." segments; the result never climbs above the package root. */
    char *out = malloc(joined.len + 1);
    if (!out)
        goto nomem;
    size_t w = 0;
    const char *p = joined.data;
    const char *end = joined.data + joined.len;
    while (p < end) {
        const char *seg_end = memchr(p, '/', (size_t)(end - p));
        if (!seg_end)
            seg_end = end;
        size_t n = (size_t)(seg_end - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (w > 0 && out[w - 1] != '/')
                w--; /* drop the last segment ... */
            if (w > 0)
                w--; /* ... and the slash before it */
        } else {
            if (w > 0 && out[w - 1] != '/')
                out[w++] = '/';
            memcpy(out + w, p, n);
            w += n;
        }
        p = seg_end + 1;
    }
    out[w] = '\0';
    buf_free(&joined);
    return out;
nomem:
    buf_free(&joined);
    return NULL;
}

int xlsx_parse_part(struct zip_guard *zg, uint64_t index,
                    const struct xml_stream_handlers *handlers, void *ctx,
                    struct xml_stream **stream_slot, struct sd_error *err)
{
    int rc = xml_stream_open(stream_slot, zg, index, handlers, ctx, err);
    if (rc < 0)
        return rc;
    while ((rc = xml_stream_run(*stream_slot, err)) == 1)
        ;
    xml_stream_close(*stream_slot);
    *stream_slot = NULL;
    return rc;
}

struct rels_ctx {
    struct xml_stream *xs;
    struct xlsx_rels *rels;
    const char *source;
};

static void rels_start(void *data, const char *local, const char **attrs)
{
    struct rels_ctx *c = data;
    if (strcmp(local, "Relationship") != 0)
        return;
    const char *id = xml_attr(attrs, "Id");
    const char *type = xml_attr(attrs, "Type");
    const char *target = xml_attr(attrs, "Target");
    const char *mode = xml_attr(attrs, "TargetMode");
    if (!id || !type || !target || (mode && !strcmp(mode, "External")))
        return;
    struct xlsx_rels *rels = c->rels;
    struct sd_error e = SD_ERROR_INIT;
    if (rels->n == rels->cap) {
        size_t cap = rels->cap ? rels->cap * 2 : 8;
        struct xlsx_rel *items = realloc(rels->items, cap * sizeof *items);
        if (!items)
            goto nomem;
        rels->items = items;
        rels->cap = cap;
    }
    struct xlsx_rel *r = &rels->items[rels->n];
    r->id = str_dup(id);
    r->type = str_dup(type);
    r->target = xlsx_resolve_target(c->source, target);
    rels->n++;
    if (!r->id || !r->type || !r->target)
        goto nomem;
    return;
nomem:
    sd_error_nomem(&e);
    xml_stream_fail(c->xs, &e);
}

/* "xl/workbook.xml" -> "xl/_rels/workbook.xml.rels"; "" -> "_rels/.rels". */
static char *rels_part_name(const char *source)
{
    struct buf b = BUF_INIT;
    const char *slash = strrchr(source, '/');
    size_t dir = slash ? (size_t)(slash - source + 1) : 0;
    if (buf_append(&b, source, dir) < 0 || buf_puts(&b, "_rels/") < 0 ||
        buf_puts(&b, source + dir) < 0 || buf_puts(&b, ".rels") < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_detach(&b);
}

static int compare_rel_ids(const void *a, const void *b, void *items_arg)
{
    const struct xlsx_rel *items = items_arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(items[i].id, items[j].id);
    return c ? c : (i > j) - (i < j);
}

/* Sorts an index of the relationships by id (ties by position, so the first of a repeated
 * id is found, as a linear scan would). */
static int index_by_id(struct xlsx_rels *rels, struct sd_error *err)
{
    if (rels->n == 0)
        return 0;
    rels->by_id = malloc(rels->n * sizeof *rels->by_id);
    if (!rels->by_id)
        return sd_error_nomem(err);
    for (size_t i = 0; i < rels->n; i++)
        rels->by_id[i] = i;
    qsort_r(rels->by_id, rels->n, sizeof *rels->by_id, compare_rel_ids, rels->items);
    return 0;
}

int xlsx_rels_load(struct xlsx_rels *rels, struct zip_guard *zg, const char *source,
                   struct sd_error *err)
{
    memset(rels, 0, sizeof *rels);
    char *name = rels_part_name(source);
    if (!name)
        return sd_error_nomem(err);
    uint64_t idx;
    int rc = 0;
    if (zip_guard_find(zg, name, &idx)) {
        struct rels_ctx ctx = {.xs = NULL, .rels = rels, .source = source};
        struct xml_stream_handlers h = {.start = rels_start};
        rc = xlsx_parse_part(zg, idx, &h, &ctx, &ctx.xs, err);
    }
    free(name);
    if (rc >= 0)
        rc = index_by_id(rels, err);
    if (rc < 0)
        xlsx_rels_free(rels);
    return rc;
}

void xlsx_rels_free(struct xlsx_rels *rels)
{
    for (size_t i = 0; i < rels->n; i++) {
        free(rels->items[i].id);
        free(rels->items[i].type);
        free(rels->items[i].target);
    }
    free(rels->items);
    free(rels->by_id);
    rels->items = NULL;
    rels->by_id = NULL;
    rels->n = rels->cap = 0;
}

const struct xlsx_rel *xlsx_rels_by_type(const struct xlsx_rels *rels, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < rels->n; i++) {
        const char *t = rels->items[i].type;
        size_t tl = strlen(t);
        if (tl > sl && t[tl - sl - 1] == '/' && !strcmp(t + tl - sl, suffix))
            return &rels->items[i];
    }
    return NULL;
}

const struct xlsx_rel *xlsx_rels_by_id(const struct xlsx_rels *rels, const char *id)
{
    size_t lo = 0, hi = rels->n; /* the first index whose id is not less than `id` */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(rels->items[rels->by_id[mid]].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < rels->n && !strcmp(rels->items[rels->by_id[lo]].id, id))
        return &rels->items[rels->by_id[lo]];
    return NULL;
}
