/* Static assets served from memory (see assets.h for the list and why). */
#include "web/assets.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/str.h"

#define ASSET_MAX_BYTES (8 * 1024 * 1024)
#define ASSET_MAX_COUNT 64

struct assets {
    struct asset items[ASSET_MAX_COUNT];
    size_t count;
    char *importmap;
};

static const struct {
    const char *name;
    const char *path; /* under the root directory */
    const char *content_type;
    const char *hint; /* said when the file is missing */
} fixed_assets[] = {
    {"app.css", "assets/css/app.css", "text/css; charset=utf-8", ""},
    {"application.js", "assets/application.js", "text/javascript; charset=utf-8", ""},
    {"turbo.js", "node_modules/@hotwired/turbo/dist/turbo.es2017-esm.js",
     "text/javascript; charset=utf-8", "; run \"npm ci\" (scripts/deps.sh does)"},
    {"stimulus.js", "node_modules/@hotwired/stimulus/dist/stimulus.js",
     "text/javascript; charset=utf-8", "; run \"npm ci\" (scripts/deps.sh does)"},
};

static int slurp(struct asset *a, const char *path, const char *hint, struct sd_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sd_error_set(err, SD_ENOTFOUND, "the asset %s is missing%s", path, hint);
    struct buf b = BUF_INIT;
    int rc = buf_read_stream(&b, f, ASSET_MAX_BYTES);
    fclose(f);
    if (rc == SD_ELIMIT)
        rc = sd_error_set(err, SD_ELIMIT, "the asset %s is larger than 8 MB", path);
    else if (rc == SD_ENOMEM)
        rc = sd_error_nomem(err);
    else if (rc)
        rc = sd_error_set(err, SD_ERROR, "cannot read the asset %s", path);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    /* the ETag is the first 128 bits of the SHA-256 of the content, in hex */
    unsigned char digest[CRYPTO_SHA256_BYTES];
    char hex[33];
    crypto_sha256(digest, b.data ? b.data : "", b.len);
    crypto_hex(hex, digest, 16);
    snprintf(a->etag, sizeof a->etag, "\"%s\"", hex);
    a->len = b.len;
    a->data = buf_detach(&b);
    return a->data ? 0 : sd_error_nomem(err);
}

static int add_asset(struct assets *assets, const char *name, const char *path,
                     const char *content_type, const char *hint, struct sd_error *err)
{
    if (assets->count == ASSET_MAX_COUNT)
        return sd_error_set(err, SD_ELIMIT, "there are more than %d assets", ASSET_MAX_COUNT);
    struct asset *a = &assets->items[assets->count];
    memset(a, 0, sizeof *a);
    a->name = str_dup(name);
    if (!a->name)
        return sd_error_nomem(err);
    assets->count++;
    a->content_type = content_type;
    return slurp(a, path, hint, err);
}

static bool controller_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 4 || n > 64 || !str_has_suffix(name, ".js"))
        return false;
    for (size_t i = 0; i < n - 3; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the .js files in assets/controllers in name order (so the import map is the same on every
 * start and its CSP hash is stable). */
static int load_controllers(struct assets *assets, const char *root, struct sd_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/assets/controllers", root);
    DIR *d = opendir(dir);
    if (!d)
        return sd_error_set(err, SD_ENOTFOUND, "the directory %s is missing", dir);
    char *names[ASSET_MAX_COUNT];
    size_t count = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!controller_name(e->d_name))
            continue;
        if (count == ASSET_MAX_COUNT) {
            rc = sd_error_set(err, SD_ELIMIT, "%s holds more than %d controllers", dir,
                              ASSET_MAX_COUNT);
            break;
        }
        if (!(names[count] = str_dup(e->d_name))) {
            rc = sd_error_nomem(err);
            break;
        }
        count++;
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_names);
    for (size_t i = 0; i < count && !rc; i++) {
        char name[128], path[PATH_MAX + 80];
        snprintf(name, sizeof name, "controllers/%s", names[i]);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = add_asset(assets, name, path, "text/javascript; charset=utf-8", "", err);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    return rc;
}

static int build_importmap(struct assets *assets, struct sd_error *err)
{
    json_t *imports = json_object();
    json_t *doc = json_object();
    if (!imports || !doc || json_object_set(doc, "imports", imports) != 0) {
        json_decref(imports);
        json_decref(doc);
        return sd_error_nomem(err);
    }
    int bad =
        json_object_set_new(imports, "@hotwired/turbo", json_string("/assets/turbo.js")) ||
        json_object_set_new(imports, "@hotwired/stimulus", json_string("/assets/stimulus.js"));
    for (size_t i = 0; i < assets->count && !bad; i++) {
        const char *name = assets->items[i].name;
        if (!str_has_prefix(name, "controllers/"))
            continue;
        char key[128], url[160];
        snprintf(key, sizeof key, "%.*s", (int)(strlen(name) - 3), name);
        if (!strcmp(key, "controllers/index"))
            snprintf(key, sizeof key, "controllers");
        snprintf(url, sizeof url, "/assets/%s", name);
        bad = json_object_set_new(imports, key, json_string(url));
    }
    assets->importmap = bad ? NULL : json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(imports);
    json_decref(doc);
    return assets->importmap ? 0 : sd_error_nomem(err);
}

int assets_load(struct assets **out, const char *root_dir, struct sd_error *err)
{
    struct assets *assets = calloc(1, sizeof *assets);
    if (!assets)
        return sd_error_nomem(err);
    int rc = 0;
    for (size_t i = 0; i < sizeof fixed_assets / sizeof fixed_assets[0] && !rc; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", root_dir, fixed_assets[i].path);
        rc = add_asset(assets, fixed_assets[i].name, path, fixed_assets[i].content_type,
                       fixed_assets[i].hint, err);
    }
    if (!rc)
        rc = load_controllers(assets, root_dir, err);
    if (!rc)
        rc = build_importmap(assets, err);
    if (rc) {
        assets_free(assets);
        return rc;
    }
    *out = assets;
    return 0;
}

void assets_free(struct assets *assets)
{
    if (!assets)
        return;
    for (size_t i = 0; i < assets->count; i++) {
        free(assets->items[i].name);
        free(assets->items[i].data);
    }
    free(assets->importmap);
    free(assets);
}

const char *assets_importmap(const struct assets *assets)
{
    return assets->importmap;
}

const struct asset *assets_find(const struct assets *assets, const char *name)
{
    for (size_t i = 0; i < assets->count; i++)
        if (!strcmp(assets->items[i].name, name))
            return &assets->items[i];
    return NULL;
}
