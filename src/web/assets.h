/*
 * The static assets: the stylesheet, the Stimulus controllers and the two Hotwire packages
 * from node_modules. They are read into memory once at start from a fixed list (plus the
 * *.js files in assets/controllers/ whose names are plain), each with a content type and an
 * ETag. A request names an asset; it is looked up in that list, so no path from a URL is
 * ever joined onto the file system.
 *
 *   /assets/app.css                 assets/css/app.css
 *   /assets/application.js          assets/application.js (the module entry point)
 *   /assets/controllers/NAME.js     assets/controllers/NAME.js
 *   /assets/turbo.js                node_modules/@hotwired/turbo/dist/turbo.es2017-esm.js
 *   /assets/stimulus.js             node_modules/@hotwired/stimulus/dist/stimulus.js
 *
 * The import map maps "@hotwired/turbo", "@hotwired/stimulus", "controllers" (the index)
 * and "controllers/NAME" to those URLs.
 */
#ifndef SHEETD_WEB_ASSETS_H
#define SHEETD_WEB_ASSETS_H

#include <stddef.h>

#include "base/error.h"

/* One asset in memory, owned by the cache. */
struct asset {
    char *name; /* "app.css", "controllers/index.js" */
    const char *content_type;
    char *data;
    size_t len;
    char etag[40]; /* "\"<32 hex>\"" */
};

struct assets;

/* Reads every asset under root_dir; the caller frees *out with assets_free. Fails with a
 * sentence naming the missing file (and "run npm ci" for the node packages). */
int assets_load(struct assets **out, const char *root_dir, struct sd_error *err);
void assets_free(struct assets *assets);

/* The import map JSON, exactly as the layout embeds it (and as its CSP hash is taken). */
const char *assets_importmap(const struct assets *assets);

/* One asset as the cache holds it; NULL when there is no asset of that name. */
const struct asset *assets_find(const struct assets *assets, const char *name);

#endif
