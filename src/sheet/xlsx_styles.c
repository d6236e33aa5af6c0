/*
 * Styles, reduced to the one thing the reader needs: for each cell style (an index into
 * <cellXfs>), is its number format a date, a time, or neither. Custom formats (<numFmt>)
 * are classified once as they are read; the <xf> entries then map to a kind. Only <xf>
 * directly inside <cellXfs> count: <cellStyleXfs> holds <xf> elements too, and cells do
 * not refer to those. A custom <numFmt> may reuse a built-in id, and then wins, as in Excel.
 *
 * The <xf> entries keep their format id until the part has been read; then the custom
 * formats are sorted once and each id is found by binary search, so a part with many of
 * both costs n log n rather than their product (and <numFmts> may come after <cellXfs>).
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

struct custom_fmt {
    uint32_t id;
    uint32_t seq; /* order in the part: the last definition of an id wins */
    unsigned char kind;
};

#define KIND_BY_ID 0xFF /* xf_kind placeholder: resolve xf_ids[i] after the part is read */

struct styles_ctx {
    struct xml_stream *xs;
    struct xlsx_styles *styles;
    struct custom_fmt *fmts;
    size_t nfmts;
    size_t fmts_cap;
    uint32_t *xf_ids; /* per xf: its numFmtId when xf_kind is KIND_BY_ID */
    size_t xf_cap;
    unsigned cellxfs_depth; /* depth of <cellXfs>, 0 outside it */
};

static void styles_nomem(struct styles_ctx *c)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    xml_stream_fail(c->xs, &e);
}

static int compare_fmts(const void *a, const void *b)
{
    const struct custom_fmt *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* fmts is sorted by (id, seq): the last entry of the run of `id` is its definition. */
static enum numfmt_kind kind_for_id(const struct styles_ctx *c, uint32_t id)
{
    size_t lo = 0, hi = c->nfmts; /* first entry with fmts[i].id > id */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->fmts[mid].id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && c->fmts[lo - 1].id == id)
        return (enum numfmt_kind)c->fmts[lo - 1].kind;
    return numfmt_classify_builtin(id > 1000000 ? -1 : (int)id);
}

/* Runs once the part is read: turns each xf's format id into its kind. */
static void resolve_xf_kinds(struct styles_ctx *c)
{
    if (c->nfmts > 1) /* fmts is NULL when the part defines none */
        qsort(c->fmts, c->nfmts, sizeof *c->fmts, compare_fmts);
    struct xlsx_styles *st = c->styles;
    for (size_t i = 0; i < st->nxf; i++)
        if (st->xf_kind[i] == KIND_BY_ID)
            st->xf_kind[i] = (unsigned char)kind_for_id(c, c->xf_ids[i]);
}

static void styles_start(void *data, const char *local, const char **attrs)
{
    struct styles_ctx *c = data;
    unsigned depth = xml_stream_depth(c->xs);
    if (!strcmp(local, "numFmt")) {
        const char *id = xml_attr(attrs, "numFmtId");
        const char *code = xml_attr(attrs, "formatCode");
        uint32_t v;
        if (!id || !code || !xlsx_parse_u32(id, strlen(id), &v))
            return;
        if (c->nfmts == c->fmts_cap) {
            size_t cap = c->fmts_cap ? c->fmts_cap * 2 : 16;
            struct custom_fmt *f = realloc(c->fmts, cap * sizeof *f);
            if (!f) {
                styles_nomem(c);
                return;
            }
            c->fmts = f;
            c->fmts_cap = cap;
        }
        struct custom_fmt *f = &c->fmts[c->nfmts];
        f->id = v;
        f->seq = (uint32_t)c->nfmts;
        f->kind = (unsigned char)numfmt_classify_code(code);
        c->nfmts++;
    } else if (!strcmp(local, "cellXfs")) {
        c->cellxfs_depth = depth;
    } else if (!strcmp(local, "xf") && c->cellxfs_depth && depth == c->cellxfs_depth + 1) {
        struct xlsx_styles *st = c->styles;
        if (st->nxf == c->xf_cap) {
            size_t cap = c->xf_cap ? c->xf_cap * 2 : 64;
            unsigned char *k = realloc(st->xf_kind, cap);
            if (!k) {
                styles_nomem(c);
                return;
            }
            st->xf_kind = k;
            uint32_t *ids = realloc(c->xf_ids, cap * sizeof *ids);
            if (!ids) {
                styles_nomem(c);
                return;
            }
            c->xf_ids = ids;
            c->xf_cap = cap;
        }
        const char *id = xml_attr(attrs, "numFmtId");
        uint32_t v = 0;
        unsigned char kind = NUMFMT_NUMBER;
        if (id && xlsx_parse_u32(id, strlen(id), &v))
            kind = KIND_BY_ID;
        c->xf_ids[st->nxf] = v;
        st->xf_kind[st->nxf++] = kind;
    }
}

static void styles_end(void *data, const char *local)
{
    struct styles_ctx *c = data;
    if (!strcmp(local, "cellXfs"))
        c->cellxfs_depth = 0;
}

int xlsx_styles_load(struct xlsx_styles *styles, struct zip_guard *zg, uint64_t index,
                     struct sd_error *err)
{
    memset(styles, 0, sizeof *styles);
    struct styles_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.styles = styles;
    struct xml_stream_handlers h = {.start = styles_start, .end = styles_end};
    int rc = xlsx_parse_part(zg, index, &h, &ctx, &ctx.xs, err);
    if (rc == 0)
        resolve_xf_kinds(&ctx);
    free(ctx.fmts);
    free(ctx.xf_ids);
    if (rc < 0)
        xlsx_styles_free(styles);
    return rc;
}

enum numfmt_kind xlsx_styles_kind(const struct xlsx_styles *styles, uint32_t xf)
{
    if (xf >= styles->nxf)
        return NUMFMT_NUMBER;
    return (enum numfmt_kind)styles->xf_kind[xf];
}

void xlsx_styles_free(struct xlsx_styles *styles)
{
    free(styles->xf_kind);
    memset(styles, 0, sizeof *styles);
}
