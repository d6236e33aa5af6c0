/*
 * DESIGN
 * ------
 * A small mustache engine (https://mustache.github.io/mustache.5.html) that passes the
 * official specification's required modules: comments, interpolation, inverted sections,
 * partials and sections (the tests run every case of the .json files in
 * ../shared/mustache-spec/), plus set-delimiter tags.
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

/* Renders with `data` as the root context, appending to `out`. `partials` may be NULL.
 * On failure nothing is left appended to `out`. Several threads may render the same
 * template at once (the partial cache is guarded by a lock inside the template).
 *
 * Values: strings as they are, integers in decimal, reals in the shortest form that reads
 * back to the same double ("1.21"), true/false as words, null and missing names as nothing,
 * objects and arrays as compact JSON. Sections treat missing, null, false, "", 0 and [] as
 * false (the spec's `!!data`); a list renders its content once per element. */
int mustache_render(struct mustache_template *tmpl, const json_t *data,
                    const struct mustache_partials *partials, struct buf *out,
                    struct sd_error *err);

/* Bounds for one render, so a hostile template (sections nested over lists, a partial that
 * includes itself) cannot run for ever or fill memory. Zero means the default. */
struct mustache_render_options {
    size_t max_output; /* bytes appended to `out`; default MUSTACHE_DEFAULT_MAX_OUTPUT */
    size_t max_steps;  /* nodes visited; default MUSTACHE_DEFAULT_MAX_STEPS */
};

#define MUSTACHE_RENDER_OPTIONS_INIT                                                               \
    {                                                                                              \
        0, 0                                                                                       \
    }
#define MUSTACHE_DEFAULT_MAX_OUTPUT ((size_t)64 << 20)
#define MUSTACHE_DEFAULT_MAX_STEPS ((size_t)50000000)

/* Limits the engine enforces at compile and render time. */
#define MUSTACHE_MAX_SOURCE ((size_t)1 << 20) /* bytes of one template or partial */
#define MUSTACHE_MAX_NESTING 64               /* sections inside sections in one template */
#define MUSTACHE_MAX_PARTIAL_DEPTH 64         /* partials inside partials while rendering */

/* mustache_render with explicit bounds (`opts` may be NULL for the defaults); exceeding
 * one fails with SD_ELIMIT. */
int mustache_render_opts(struct mustache_template *tmpl, const json_t *data,
                         const struct mustache_partials *partials,
                         const struct mustache_render_options *opts, struct buf *out,
                         struct sd_error *err);

/* The name the template was compiled with. */
const char *mustache_name(const struct mustache_template *tmpl);

/* Appends text with & < > " ' escaped (the escaping `{{name}}` uses). */
int mustache_escape_html(struct buf *out, const char *text, size_t len);

#endif
