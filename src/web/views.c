/*
 * DESIGN
 * ------
 * views_load walks views/ once, keeping each file's source (partials are looked up by name
 * among these sources while rendering) and its compiled template. The set never changes
 * after start.
 *
 * The mustache engine compiles a partial on first use and keeps it with the template that
 * used it, behind that template's own lock (mustache.h), and nothing else here changes
 * after start, so request threads render side by side without a lock of ours.
 */
#include "web/views.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/str.h"
#include "web/mustache.h"

#define VIEWS_MAX_DEPTH 4
#define VIEWS_MAX_FILE (1024 * 1024)
#define EXTENSION ".mustache"

struct view {
    char *name;
    char *source;
    size_t len;
    struct mustache_template *tmpl;
};

struct views {
    struct view *items;
    size_t count;
};

static struct view *find(const struct views *views, const char *name)
{
    for (size_t i = 0; i < views->count; i++)
        if (!strcmp(views->items[i].name, name))
            return &views->items[i];
    return NULL;
}

static const char *lookup_partial(void *ctx, const char *name, size_t *len)
{
    const struct view *v = find(ctx, name);
    if (!v)
        return NULL;
    *len = v->len;
    return v->source;
}

static int read_file(char **out, size_t *len, const char *path, struct sd_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sd_error_set(err, SD_ERROR, "cannot read the view %s", path);
    struct buf b = BUF_INIT;
    int rc = buf_read_stream(&b, f, VIEWS_MAX_FILE);
    fclose(f);
    if (rc == SD_ELIMIT)
        rc = sd_error_set(err, SD_ELIMIT, "the view %s is larger than 1 MB", path);
    else if (rc == SD_ENOMEM)
        rc = sd_error_nomem(err);
    else if (rc)
        rc = sd_error_set(err, SD_ERROR, "cannot read the view %s", path);
    if (rc) {
        buf_free(&b);
        return rc;
    }
    *len = b.len;
    *out = buf_detach(&b);
    return *out ? 0 : sd_error_nomem(err);
}

static int add_view(struct views *views, const char *path, const char *name, struct sd_error *err)
{
    struct view *grown = realloc(views->items, (views->count + 1) * sizeof *grown);
    if (!grown)
        return sd_error_nomem(err);
    views->items = grown;
    struct view *v = &views->items[views->count];
    memset(v, 0, sizeof *v);
    v->name = str_dup(name);
    if (!v->name)
        return sd_error_nomem(err);
    views->count++;
    int rc = read_file(&v->source, &v->len, path, err);
    if (rc)
        return rc;
    return mustache_compile(&v->tmpl, v->source, v->len, path, err);
}

/* Walks `dir` (prefix: the view-name prefix so far, "" at the top). Hidden files and
 * anything not ending in .mustache are ignored; sub-directories are followed a few levels. */
static int walk(struct views *views, const char *dir, const char *prefix, int depth,
                struct sd_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sd_error_set(err, SD_ERROR, "cannot open the views directory %s", dir);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX], name[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= VIEWS_MAX_DEPTH)
                continue;
            snprintf(name, sizeof name, "%s%s/", prefix, e->d_name);
            rc = walk(views, path, name, depth + 1, err);
        } else if (S_ISREG(st.st_mode) && str_has_suffix(e->d_name, EXTENSION)) {
            snprintf(name, sizeof name, "%s%.*s", prefix,
                     (int)(strlen(e->d_name) - strlen(EXTENSION)), e->d_name);
            rc = add_view(views, path, name, err);
        }
    }
    closedir(d);
    return rc;
}

int views_load(struct views **out, const char *views_dir, struct sd_error *err)
{
    struct views *views = calloc(1, sizeof *views);
    if (!views)
        return sd_error_nomem(err);
    int rc = walk(views, views_dir, "", 0, err);
    if (!rc && !find(views, VIEWS_LAYOUT))
        rc = sd_error_set(err, SD_ENOTFOUND,
                          "the layout %s/" VIEWS_LAYOUT EXTENSION " is missing; is the "
                          "root directory (SHEETD_ROOT) the sheetd source directory?",
                          views_dir);
    if (rc) {
        views_free(views);
        return rc;
    }
    *out = views;
    return 0;
}

void views_free(struct views *views)
{
    if (!views)
        return;
    for (size_t i = 0; i < views->count; i++) {
        free(views->items[i].name);
        free(views->items[i].source);
        if (views->items[i].tmpl)
            mustache_free(views->items[i].tmpl);
    }
    free(views->items);
    free(views);
}

int views_render(struct views *views, const char *name, const json_t *data, struct buf *out,
                 struct sd_error *err)
{
    struct view *v = find(views, name);
    if (!v)
        return sd_error_set(err, SD_ENOTFOUND, "there is no view named %s", name);
    struct mustache_partials partials = {lookup_partial, views};
    return mustache_render(v->tmpl, data, &partials, out, err);
}

int views_render_page(struct views *views, const char *name, json_t *data, struct buf *out,
                      struct sd_error *err)
{
    struct buf body = BUF_INIT;
    int rc = views_render(views, name, data, &body, err);
    if (!rc) {
        json_t *text = json_stringn_nocheck(buf_cstr(&body), body.len);
        if (!text || json_object_set_new(data, "body", text) != 0)
            rc = sd_error_nomem(err);
        else
            rc = views_render(views, VIEWS_LAYOUT, data, out, err);
        json_object_del(data, "body");
    }
    buf_free(&body);
    return rc;
}
