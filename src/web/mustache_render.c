/*
 * DESIGN
 * ------
 * The renderer walks a compiled template's node list (mustache_internal.h) with a context
 * stack of jansson values: the root data at the bottom, one entry per section being
 * rendered above it. A name is looked up from the top of the stack down; the parts of a
 * dotted name after the first are looked up only inside the value the first part found.
 *
 * Partials are compiled the first time a render needs them and cached on the template the
 * render started from (the "root"), so a partial used by itself, or by another partial, is
 * compiled once. The cache is the only state a render writes to a template; it sits behind
 * the template's lock, so threads can render one template at once.
 *
 * A standalone partial indents every line of its own text with the white space that stood
 * before its tag. The indentation is applied while rendering, at the line starts the
 * compiler marked (`bol`), so the compiled partial is shared by every indentation and
 * values that contain newlines are not indented (as the spec requires).
 *
 * Template text goes out unchanged; values go out HTML-escaped except for {{{name}}} and
 * {{&name}}, which use mustache_write_raw, the one unescaped path for data.
 *
 * Bounds: partial depth, total nesting, nodes visited and output size, so hostile templates
 * end with SD_ELIMIT instead of running for ever. On any failure the output buffer is cut
 * back to where it started, so callers never send half a page.
 */
#include "web/mustache.h"
#include "web/mustache_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/str.h"

/* Sections and partials, together, nested this deep while rendering. */
#define MUSTACHE_MAX_RENDER_DEPTH 256

struct mustache_render {
    struct mustache_template *root; /* holds the partial cache */
    const struct mustache_partials *partials;
    struct buf *out;
    size_t out_start;
    struct sd_error *err;
    const json_t **stack;
    size_t depth;
    size_t stack_cap;
    /* The current indentation is indent.data[indent_start, indent.len): nested standalone
     * partials add to it, a partial used inline starts from none. */
    struct buf indent;
    size_t indent_start;
    size_t partial_depth;
    size_t nesting;
    size_t steps;
    size_t max_steps;
    size_t max_output;
};

static int mustache_render_range(struct mustache_render *r, struct mustache_template *t,
                                 size_t begin, size_t end);

/* The only function that writes data without escaping it; only {{{name}}} and {{&name}}
 * reach it. Template text is written by mustache_write_text. */
static int mustache_write_raw(struct buf *out, const char *text, size_t len)
{
    return buf_append(out, text, len);
}

static int mustache_write_indent(struct mustache_render *r)
{
    size_t n = r->indent.len - r->indent_start;
    if (n == 0)
        return 0;
    return buf_append(r->out, r->indent.data + r->indent_start, n);
}

/* Writes template text, indenting each line that starts inside it (a newline that ends
 * the node leaves the next line to the next node, which knows whether it starts one). */
static int mustache_write_text(struct mustache_render *r, const struct mustache_node *n)
{
    if (r->indent.len == r->indent_start)
        return buf_append(r->out, n->text, n->len);
    const char *s = n->text, *stop = n->text + n->len;
    while (s < stop) {
        const char *nl = memchr(s, '\n', (size_t)(stop - s));
        size_t chunk = nl ? (size_t)(nl - s) + 1 : (size_t)(stop - s);
        if (buf_append(r->out, s, chunk) < 0)
            return SD_ENOMEM;
        s += chunk;
        if (nl && s < stop && mustache_write_indent(r) < 0)
            return SD_ENOMEM;
    }
    return 0;
}

/* Writes a value as text, escaped or not. Who frees what: the JSON text of an object or
 * array is allocated here and freed here. */
static int mustache_write_value(struct mustache_render *r, const json_t *v, bool escape)
{
    char num[64];
    const char *text = NULL;
    size_t len = 0;
    char *dumped = NULL;
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        text = json_string_value(v);
        len = json_string_length(v);
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        text = num;
        len = strlen(num);
        break;
    case JSON_REAL:
        len = number_format(json_real_value(v), num);
        text = num;
        break;
    case JSON_TRUE:
        text = "true";
        len = 4;
        break;
    case JSON_FALSE:
        text = "false";
        len = 5;
        break;
    case JSON_NULL:
        return 0;
    case JSON_OBJECT:
    case JSON_ARRAY:
        dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!dumped)
            return sd_error_nomem(r->err);
        text = dumped;
        len = strlen(dumped);
        break;
    }
    int rc =
        escape ? mustache_escape_html(r->out, text, len) : mustache_write_raw(r->out, text, len);
    free(dumped);
    return rc < 0 ? sd_error_nomem(r->err) : 0;
}

/* The spec's `!!data`: missing, null, false, "", 0 and the empty list are false. */
static bool mustache_truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    default:
        return true;
    }
}

/* Resolves a tag's name against the context stack; NULL when any part is missing. */
static const json_t *mustache_lookup(const struct mustache_render *r, const struct mustache_node *n)
{
    if (r->depth == 0)
        return NULL;
    if (n->nsegs == 0)
        return r->stack[r->depth - 1];
    const char *seg = n->segs;
    const json_t *v = NULL;
    for (size_t d = r->depth; d-- > 0;) {
        if (json_is_object(r->stack[d]) && (v = json_object_get(r->stack[d], seg)))
            break;
    }
    for (size_t i = 1; v && i < n->nsegs; i++) {
        seg += strlen(seg) + 1;
        v = json_is_object(v) ? json_object_get(v, seg) : NULL;
    }
    return v;
}

static int mustache_push(struct mustache_render *r, const json_t *v)
{
    if (r->depth == r->stack_cap) {
        size_t cap = r->stack_cap ? r->stack_cap * 2 : 16;
        const json_t **stack = realloc(r->stack, cap * sizeof *stack);
        if (!stack)
            return sd_error_nomem(r->err);
        r->stack = stack;
        r->stack_cap = cap;
    }
    r->stack[r->depth++] = v;
    return 0;
}

/* Renders a section's content with `v` on top of the stack. */
static int mustache_render_with(struct mustache_render *r, struct mustache_template *t,
                                const struct mustache_node *n, size_t index, const json_t *v)
{
    int rc = mustache_push(r, v);
    if (rc < 0)
        return rc;
    rc = mustache_render_range(r, t, index + 1, n->end);
    r->depth--;
    return rc;
}

static int mustache_render_section(struct mustache_render *r, struct mustache_template *t,
                                   size_t index)
{
    const struct mustache_node *n = &t->nodes[index];
    const json_t *v = mustache_lookup(r, n);
    if (!mustache_truthy(v))
        return 0;
    if (!json_is_array(v))
        return mustache_render_with(r, t, n, index, v);
    for (size_t i = 0; i < json_array_size(v); i++) {
        int rc = mustache_render_with(r, t, n, index, json_array_get(v, i));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static struct mustache_template *mustache_cache_find(struct mustache_template *root,
                                                     const char *name)
{
    for (struct mustache_cached_partial *c = root->partials; c; c = c->next)
        if (str_eq(c->name, name))
            return c->tmpl;
    return NULL;
}

/* Finds partial `name`, compiling and caching it on first use. *out is NULL (and 0 is
 * returned) when the lookup does not know the name. The cache owns what *out points to.
 * The lookup and the compile run outside the lock; when two threads race to compile the
 * same partial, the loser frees its copy. */
static int mustache_partial(struct mustache_render *r, const char *name,
                            struct mustache_template **out)
{
    struct mustache_template *root = r->root;
    *out = NULL;
    pthread_mutex_lock(&root->lock);
    struct mustache_template *found = mustache_cache_find(root, name);
    pthread_mutex_unlock(&root->lock);
    if (found) {
        *out = found;
        return 0;
    }
    if (!r->partials || !r->partials->lookup)
        return 0;
    size_t len = 0;
    const char *src = r->partials->lookup(r->partials->ctx, name, &len);
    if (!src)
        return 0;
    struct mustache_template *compiled = NULL;
    int rc = mustache_compile(&compiled, src, len, name, r->err);
    if (rc < 0)
        return rc;
    struct mustache_cached_partial *entry = calloc(1, sizeof *entry);
    char *key = str_dup(name);
    if (!entry || !key) {
        free(entry);
        free(key);
        mustache_free(compiled);
        return sd_error_nomem(r->err);
    }
    pthread_mutex_lock(&root->lock);
    found = mustache_cache_find(root, name);
    if (!found) {
        entry->name = key;
        entry->tmpl = compiled;
        entry->next = root->partials;
        root->partials = entry;
        found = compiled;
        entry = NULL;
        key = NULL;
        compiled = NULL;
    }
    pthread_mutex_unlock(&root->lock);
    free(entry);
    free(key);
    mustache_free(compiled);
    *out = found;
    return 0;
}

static int mustache_render_partial(struct mustache_render *r, struct mustache_template *t,
                                   const struct mustache_node *n)
{
    if (r->partial_depth == MUSTACHE_MAX_PARTIAL_DEPTH)
        return sd_error_set(r->err, SD_ELIMIT,
                            "%s: partial \"%.40s\" on line %u nests more than %d deep; a "
                            "partial that includes itself needs a section that ends the "
                            "recursion",
                            t->name, n->name, n->line, MUSTACHE_MAX_PARTIAL_DEPTH);
    struct mustache_template *partial = NULL;
    int rc = mustache_partial(r, n->name, &partial);
    if (rc < 0 || !partial)
        return rc;
    size_t saved_start = r->indent_start, saved_len = r->indent.len;
    if (n->indent_len == 0)
        r->indent_start = r->indent.len;
    else if (buf_append(&r->indent, n->indent, n->indent_len) < 0)
        return sd_error_nomem(r->err);
    r->partial_depth++;
    rc = mustache_render_range(r, partial, 0, partial->count);
    r->partial_depth--;
    buf_truncate(&r->indent, saved_len);
    r->indent_start = saved_start;
    return rc;
}

/* Renders nodes [begin, end) of `t`. Recursion follows sections and partials, bounded by
 * MUSTACHE_MAX_RENDER_DEPTH. */
static int mustache_render_range(struct mustache_render *r, struct mustache_template *t,
                                 size_t begin, size_t end)
{
    if (r->nesting == MUSTACHE_MAX_RENDER_DEPTH) {
        unsigned line = begin > 0 ? t->nodes[begin - 1].line : 1;
        return sd_error_set(r->err, SD_ELIMIT,
                            "%s: sections and partials nest more than %d deep on line %u", t->name,
                            MUSTACHE_MAX_RENDER_DEPTH, line);
    }
    r->nesting++;
    int rc = 0;
    for (size_t i = begin; i < end && rc == 0; i++) {
        const struct mustache_node *n = &t->nodes[i];
        if (++r->steps > r->max_steps) {
            rc = sd_error_set(r->err, SD_ELIMIT,
                              "%s: rendering stopped after %zu steps; a section probably "
                              "repeats over large or deeply nested lists",
                              r->root->name, r->max_steps);
            break;
        }
        if (r->out->len - r->out_start > r->max_output) {
            rc = sd_error_set(r->err, SD_ELIMIT,
                              "%s: the rendered output grew past the limit of %zu bytes",
                              r->root->name, r->max_output);
            break;
        }
        if (n->bol && mustache_write_indent(r) < 0) {
            rc = sd_error_nomem(r->err);
            break;
        }
        switch (n->kind) {
        case MUSTACHE_NODE_TEXT:
            if (mustache_write_text(r, n) < 0)
                rc = sd_error_nomem(r->err);
            break;
        case MUSTACHE_NODE_ESCAPED:
        case MUSTACHE_NODE_RAW:
            rc = mustache_write_value(r, mustache_lookup(r, n), n->kind == MUSTACHE_NODE_ESCAPED);
            break;
        case MUSTACHE_NODE_SECTION:
            rc = mustache_render_section(r, t, i);
            i = n->end - 1;
            break;
        case MUSTACHE_NODE_INVERTED:
            if (!mustache_truthy(mustache_lookup(r, n)))
                rc = mustache_render_range(r, t, i + 1, n->end);
            i = n->end - 1;
            break;
        case MUSTACHE_NODE_PARTIAL:
            rc = mustache_render_partial(r, t, n);
            break;
        }
    }
    r->nesting--;
    return rc;
}

int mustache_render_opts(struct mustache_template *tmpl, const json_t *data,
                         const struct mustache_partials *partials,
                         const struct mustache_render_options *opts, struct buf *out,
                         struct sd_error *err)
{
    assert(tmpl && out);
    struct mustache_render r = {
        .root = tmpl,
        .partials = partials,
        .out = out,
        .out_start = out->len,
        .err = err,
        .max_steps = opts && opts->max_steps ? opts->max_steps : MUSTACHE_DEFAULT_MAX_STEPS,
        .max_output = opts && opts->max_output ? opts->max_output : MUSTACHE_DEFAULT_MAX_OUTPUT,
    };
    int rc = data ? mustache_push(&r, data) : 0;
    if (rc == 0)
        rc = mustache_render_range(&r, tmpl, 0, tmpl->count);
    if (rc == 0 && out->len - r.out_start > r.max_output)
        rc =
            sd_error_set(err, SD_ELIMIT, "%s: the rendered output grew past the limit of %zu bytes",
                         tmpl->name, r.max_output);
    if (rc < 0)
        buf_truncate(out, r.out_start);
    free(r.stack);
    buf_free(&r.indent);
    return rc;
}

int mustache_render(struct mustache_template *tmpl, const json_t *data,
                    const struct mustache_partials *partials, struct buf *out, struct sd_error *err)
{
    return mustache_render_opts(tmpl, data, partials, NULL, out, err);
}
