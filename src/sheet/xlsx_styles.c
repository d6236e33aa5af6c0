/*
 * Styles, reduced to the one thing the reader needs: for each cell style (an index into
 * <cellXfs>), is its number format a date, a time, or neither. Custom formats (<numFmt>)
 * are classified once as they are read; the <xf> entries then map to a kind. Only <xf>
 * directly inside <cellXfs> count: <cellStyleXfs> holds <xf> elements too, and cells do
 * not refer to those. A custom <numFmt> may reuse a built-in id, and then wins, as in Excel.
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

struct custom_fmt {
    uint32_t id;
    unsigned char kind;
};

struct styles_ctx {
    struct xml_stream *xs;
    struct xlsx_styles *styles;
    struct custom_fmt *fmts;
    size_t nfmts;
    size_t xf_cap;
    unsigned cellxfs_depth; /* depth of <cellXfs>, 0 outside it */
};

static void styles_nomem(struct styles_ctx *c)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    xml_stream_fail(c->xs, &e);
}

static enum numfmt_kind kind_for_id(const struct styles_ctx *c, uint32_t id)
{
    for (size_t i = c->nfmts; i-- > 0;)
        if (c->fmts[i].id == id)
            return (enum numfmt_kind)c->fmts[i].kind;
    return numfmt_classify_builtin(id > 1000000 ? -1 : (int)id);
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
        struct custom_fmt *f = realloc(c->fmts, (c->nfmts + 1) * sizeof *f);
        if (!f) {
            styles_nomem(c);
            return;
        }
        c->fmts = f;
        f[c->nfmts].id = v;
        f[c->nfmts].kind = (unsigned char)numfmt_classify_code(code);
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
            c->xf_cap = cap;
        }
        const char *id = xml_attr(attrs, "numFmtId");
        uint32_t v = 0;
        enum numfmt_kind kind = NUMFMT_NUMBER;
        if (id && xlsx_parse_u32(id, strlen(id), &v))
            kind = kind_for_id(c, v);
        st->xf_kind[st->nxf++] = (unsigned char)kind;
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
    struct xml_stream_handlers h = {styles_start, styles_end, NULL};
    int rc = xlsx_parse_part(zg, index, &h, &ctx, &ctx.xs, err);
    free(ctx.fmts);
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
