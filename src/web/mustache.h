/*
 * DESIGN
 * ------
 * A small mustache engine (https://mustache.github.io/mustache.5.html) that passes the
 * official specification's required modules: comments, interpolation, inverted sections,
 * partials and sections (tests run ../shared/mustache-spec/*.json).
 *
 * Templates are compiled once into a flat list of nodes and rendered many times; the view
 * layer (views.c) caches compiled templates. The data is a jansson tree. `{{name}}` is
 * HTML-escaped; the only unescaped outputs are `{{{name}}}` and `{{&name}}`, which the
 * engine writes through one function (mustache_write_raw) so they are easy to find.
 *
 * Partials are found through a lookup callback that returns the partial's source; the engine
 * compiles each partial on first use and keeps it with the template that used it. Recursion
 * is bounded (a partial that includes itself forever stops at a fixed depth with an error).
 */
#ifndef SHEETD_WEB_MUSTACHE_H
#define SHEETD_WEB_MUSTACHE_H

#include <jansson.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

struct mustache_template;

/* Returns the source of partial `name` (borrowed; must stay valid while rendering) and its
 * length, or NULL when there is no such partial (which renders as empty text, per spec). */
typedef const char *(*mustache_partial_lookup)(void *ctx, const char *name, size_t *len);

struct mustache_partials {
    mustache_partial_lookup lookup;
    void *ctx;
};

/* Compiles `source`. `name` is used in error sentences ("layout.mustache: unclosed section
 * \"items\" opened on line 3"). The caller frees *out with mustache_free. */
int mustache_compile(struct mustache_template **out, const char *source, size_t len,
                     const char *name, struct sd_error *err);
void mustache_free(struct mustache_template *tmpl);

/* Renders with `data` as the root context, appending to `out`. `partials` may be NULL. */
int mustache_render(struct mustache_template *tmpl, const json_t *data,
                    const struct mustache_partials *partials, struct buf *out,
                    struct sd_error *err);

/* Appends text with & < > " ' escaped (the escaping `{{name}}` uses). */
int mustache_escape_html(struct buf *out, const char *text, size_t len);

#endif
