/*
 * The rules of a template that span its columns, checked once every column has been read on
 * its own (template_column.c): keys are unique and no sheet header could match two columns.
 * (upsert_key, which names columns, is read by the driver, template.c, after these checks.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/template.h"
#include "import/template_internal.h"

static void check_duplicate_keys(struct template_parse_ctx *ctx, const struct import_template *t)
{
    char where[TEMPLATE_WHERE_MAX], first[TEMPLATE_WHERE_MAX];
    for (size_t j = 1; j < t->ncolumns; j++) {
        const struct template_column *b = &t->columns[j];
        if (!b->key)
            continue;
        for (size_t i = 0; i < j; i++) {
            const struct template_column *a = &t->columns[i];
            if (!a->key || strcmp(a->key, b->key))
                continue;
            template_column_where(b, j, where, sizeof where);
            template_column_name(a, i, first, sizeof first);
            template_problem(ctx, "%skey \"%s\" is already the key of %s; keys must be unique",
                             where, b->key, first);
            break;
        }
    }
}

struct header_entry {
    char *norm;
    const char *text;
    size_t column;
    size_t alias; /* SIZE_MAX for the header itself */
};

static int header_entry_cmp(const void *pa, const void *pb)
{
    const struct header_entry *a = pa, *b = pb;
    int c = strcmp(a->norm, b->norm);
    if (c)
        return c;
    if (a->column != b->column)
        return a->column < b->column ? -1 : 1;
    /* a column's header before its aliases, so the header owns a clash */
    size_t x = a->alias == SIZE_MAX ? 0 : a->alias + 1;
    size_t y = b->alias == SIZE_MAX ? 0 : b->alias + 1;
    return x < y ? -1 : x > y;
}

static int add_header_entry(struct header_entry *entries, size_t *n, struct buf *scratch,
                            const char *text, size_t column, size_t alias)
{
    if (template_header_normalize(scratch, text, strlen(text)) != 0)
        return SD_ENOMEM;
    char *norm = buf_detach(scratch);
    if (!norm)
        return SD_ENOMEM;
    entries[*n] =
        (struct header_entry){.norm = norm, .text = text, .column = column, .alias = alias};
    (*n)++;
    return 0;
}

static void report_header_clash(struct template_parse_ctx *ctx, const struct import_template *t,
                                const struct header_entry *owner, const struct header_entry *e)
{
    char where[TEMPLATE_WHERE_MAX], first[TEMPLATE_WHERE_MAX];
    template_column_where(&t->columns[e->column], e->column, where, sizeof where);
    template_column_name(&t->columns[owner->column], owner->column, first, sizeof first);
    template_problem(ctx,
                     "%s%s \"%s\" is the same as the %s \"%s\" of %s (headers and aliases are "
                     "compared ignoring case, spaces, underscores and hyphens)",
                     where, e->alias == SIZE_MAX ? "header" : "alias", e->text,
                     owner->alias == SIZE_MAX ? "header" : "alias", owner->text, first);
}

/* Two columns must never be able to claim the same sheet header. Sorting the normalized
 * headers and aliases finds every clash in O(n log n), and reports each later column once
 * per clash, naming the first column that took the header. */
static void check_duplicate_headers(struct template_parse_ctx *ctx, const struct import_template *t)
{
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < t->ncolumns; i++)
        cap += 1 + t->columns[i].naliases;
    struct header_entry *entries = calloc(cap ? cap : 1, sizeof *entries);
    struct buf scratch = BUF_INIT;
    if (!entries)
        goto nomem;
    for (size_t i = 0; i < t->ncolumns; i++) {
        const struct template_column *c = &t->columns[i];
        if (c->header && add_header_entry(entries, &n, &scratch, c->header, i, SIZE_MAX))
            goto nomem;
        for (size_t k = 0; k < c->naliases; k++)
            if (add_header_entry(entries, &n, &scratch, c->aliases[k], i, k))
                goto nomem;
    }
    qsort(entries, n, sizeof *entries, header_entry_cmp);
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n && !strcmp(entries[end].norm, entries[g].norm))
            end++;
        if (entries[g].norm[0] == '\0') {
            for (size_t k = g; k < end; k++) {
                char where[TEMPLATE_WHERE_MAX];
                template_column_where(&t->columns[entries[k].column], entries[k].column, where,
                                      sizeof where);
                template_problem(ctx,
                                 "%s%s \"%s\" has nothing but spaces, underscores and "
                                 "hyphens, so no sheet header could match it",
                                 where, entries[k].alias == SIZE_MAX ? "header" : "alias",
                                 entries[k].text);
            }
        } else {
            size_t reported = entries[g].column;
            for (size_t k = g + 1; k < end; k++) {
                if (entries[k].column == reported)
                    continue; /* the same column, or already reported for this clash */
                report_header_clash(ctx, t, &entries[g], &entries[k]);
                reported = entries[k].column;
            }
        }
        g = end;
    }
    goto done;
nomem:
    ctx->nomem = true;
done:
    for (size_t i = 0; i < n; i++)
        free(entries[i].norm);
    free(entries);
    buf_free(&scratch);
}

void template_check_columns(struct template_parse_ctx *ctx, const struct import_template *t)
{
    check_duplicate_keys(ctx, t);
    check_duplicate_headers(ctx, t);
}
