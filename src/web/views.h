/*
 * The view layer: every `views/.../NAME.mustache` under the root directory is read and compiled
 * once at start (a view that does not compile stops the server from starting, with the
 * compiler's sentence), then rendered many times. A view's name is its path under views/
 * without the extension ("import_templates/index", "shared/_flash"); partials use the same
 * names (`{{> shared/_flash}}`).
 *
 * Pages are rendered inside views/layouts/application.mustache, which receives the page's
 * data plus `body`, the page's HTML, written raw with `{{{body}}}` (the one raw output in
 * the layout, besides the import map).
 */
#ifndef SHEETD_WEB_VIEWS_H
#define SHEETD_WEB_VIEWS_H

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"

struct views;

#define VIEWS_LAYOUT "layouts/application"

/* Loads and compiles every view under `views_dir`; the caller frees *out with views_free.
 * Fails when the directory or the layout is missing or a view does not compile. */
int views_load(struct views **out, const char *views_dir, struct sd_error *err);
void views_free(struct views *views);

/* Renders view `name` with `data`, appending to out. SD_ENOTFOUND for an unknown view. */
int views_render(struct views *views, const char *name, const json_t *data, struct buf *out,
                 struct sd_error *err);

/* Renders `name` and then the layout around it. `data` gets a "body" key while the layout
 * renders, removed again before returning. */
int views_render_page(struct views *views, const char *name, json_t *data, struct buf *out,
                      struct sd_error *err);

#endif
