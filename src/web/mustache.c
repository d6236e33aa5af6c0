/*
 * DESIGN
 * ------
 * The compiler: one pass over the source that turns it into the flat node list described
 * in mustache_internal.h. Rendering lives in mustache_render.c.
 *
 * The pass looks for the opening delimiter, reads the tag up to the closing delimiter and
 * decides whether the tag is "standalone": a section, inverted, closing, comment, partial
 * or set-delimiter tag alone on its line with only spaces and tabs around it. A standalone
 * tag takes its whole line with it (the white space before it and the line ending after
 * it), which is how `{{#items}}` on a line of its own leaves no blank line in the output.
 * A standalone partial keeps the white space before it as indentation instead.
 *
 * Errors name the template and the line ("page.mustache: unclosed section \"items\"
 * opened on line 3"). The source is capped at MUSTACHE_MAX_SOURCE bytes and sections at
 * MUSTACHE_MAX_NESTING levels, so a hostile template costs bounded memory.
 */
#include "web/mustache.h"
#include "web/mustache_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

/* Delimiters longer than this are refused; real ones are two or three characters. */
#define MUSTACHE_MAX_DELIM 16

struct mustache_parser {
    struct mustache_template *tmpl;
    const char *src;
    size_t len;
    char open[MUSTACHE_MAX_DELIM + 1];
    size_t open_len;
    char close[MUSTACHE_MAX_DELIM + 1];
    size_t close_len;
    /* Line counting advances with the scan, so it stays linear in the source size. */
    size_t line_pos;
    unsigned line_no;
    size_t sections[MUSTACHE_MAX_NESTING]; /* indices of the open section nodes */
    size_t depth;
    struct sd_error *err;
};

/* A tag as read from the source, before it becomes a node. */
struct mustache_tag {
    char type;        /* 0 for a plain name, else one of # ^ / ! > & { = */
    size_t start;     /* offset of the opening delimiter */
    size_t end;       /* offset just past the closing delimiter */
    const char *body; /* the text between the type character and the closing delimiter */
    size_t body_len;
    unsigned line;
};

static unsigned mustache_line_at(struct mustache_parser *p, size_t pos)
{
    for (; p->line_pos < pos; p->line_pos++)
        if (p->src[p->line_pos] == '\n')
            p->line_no++;
    return p->line_no;
}

static bool mustache_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *mustache_find(const char *hay, size_t hay_len, const char *needle,
                                 size_t needle_len)
{
    return memmem(hay, hay_len, needle, needle_len);
}

/* Appends a node and returns it zeroed, or NULL when memory runs out (err is set). */
static struct mustache_node *mustache_push_node(struct mustache_parser *p,
                                                enum mustache_node_kind kind, unsigned line)
{
    struct mustache_template *t = p->tmpl;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct mustache_node *nodes = realloc(t->nodes, cap * sizeof *nodes);
        if (!nodes) {
            sd_error_nomem(p->err);
            return NULL;
        }
        t->nodes = nodes;
        t->cap = cap;
    }
    struct mustache_node *n = &t->nodes[t->count++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    return n;
}

static bool mustache_at_line_start(const struct mustache_parser *p, size_t pos)
{
    return pos == 0 || p->src[pos - 1] == '\n';
}

/* Emits src[start, end) as a text node (nothing when empty). */
static int mustache_emit_text(struct mustache_parser *p, size_t start, size_t end)
{
    if (end <= start)
        return 0;
    /* Text nodes carry no line: errors only ever point at tags. */
    struct mustache_node *n = mustache_push_node(p, MUSTACHE_NODE_TEXT, 0);
    if (!n)
        return SD_ENOMEM;
    n->text = p->src + start;
    n->len = end - start;
    n->bol = mustache_at_line_start(p, start);
    return 0;
}

/* A zero-length text node that only carries a line start; see mustache_internal.h. */
static int mustache_emit_line_mark(struct mustache_parser *p, unsigned line)
{
    struct mustache_node *n = mustache_push_node(p, MUSTACHE_NODE_TEXT, line);
    if (!n)
        return SD_ENOMEM;
    n->text = p->src;
    n->bol = true;
    return 0;
}

/* Validates a tag name and stores it (and its dot-split copy) in the node. The spec says a
 * name is a run of non-white-space characters; dotted names need a part between dots. */
static int mustache_set_name(struct mustache_parser *p, struct mustache_node *n, const char *name,
                             size_t len, unsigned line)
{
    const char *file = p->tmpl->name;
    if (len == 0)
        return sd_error_set(p->err, SD_EINVALID, "%s: empty tag on line %u", file, line);
    int shown = len > 40 ? 40 : (int)len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f)
            return sd_error_set(p->err, SD_EINVALID,
                                "%s: tag \"%.*s\" on line %u has white space or a control "
                                "character inside its name",
                                file, shown, name, line);
    }
    bool implicit = len == 1 && name[0] == '.';
    size_t parts = 1;
    if (!implicit) {
        for (size_t i = 0; i < len; i++) {
            if (name[i] != '.')
                continue;
            if (i == 0 || i == len - 1 || name[i + 1] == '.')
                return sd_error_set(p->err, SD_EINVALID,
                                    "%s: tag \"%.*s\" on line %u has an empty part between "
                                    "dots",
                                    file, shown, name, line);
            parts++;
        }
    }
    char *copy = malloc(2 * len + 2);
    if (!copy)
        return sd_error_nomem(p->err);
    memcpy(copy, name, len);
    copy[len] = '\0';
    char *segs = copy + len + 1;
    memcpy(segs, name, len);
    segs[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (segs[i] == '.')
            segs[i] = '\0';
    n->name = copy;
    n->segs = segs;
    n->nsegs = implicit ? 0 : parts;
    return 0;
}

/* Reads the tag whose opening delimiter is at `start`. The closing delimiter of a triple
 * mustache is "}" + close and of a set-delimiter tag "=" + close, so those are searched
 * for as one string. */
static int mustache_read_tag(struct mustache_parser *p, size_t start, struct mustache_tag *tag)
{
    size_t q = start + p->open_len;
    tag->start = start;
    tag->line = mustache_line_at(p, start);
    tag->type = 0;
    if (q < p->len && p->src[q] != '\0' && strchr("#^/!>&{=", p->src[q])) {
        tag->type = p->src[q];
        q++;
    }
    char closer[MUSTACHE_MAX_DELIM + 2];
    size_t closer_len = 0;
    if (tag->type == '{' || tag->type == '=')
        closer[closer_len++] = tag->type == '{' ? '}' : '=';
    memcpy(closer + closer_len, p->close, p->close_len);
    closer_len += p->close_len;
    const char *hit =
        q <= p->len ? mustache_find(p->src + q, p->len - q, closer, closer_len) : NULL;
    if (!hit)
        return sd_error_set(p->err, SD_EINVALID,
                            "%s: unclosed tag on line %u: \"%s\" has no matching \"%.*s\"",
                            p->tmpl->name, tag->line, p->open, (int)closer_len, closer);
    tag->body = p->src + q;
    tag->body_len = (size_t)(hit - tag->body);
    tag->end = (size_t)(hit - p->src) + closer_len;
    return 0;
}

/* Standalone means: only spaces and tabs between the start of the line and the tag, and
 * between the tag and the end of the line (or the source). On success *line_start is where
 * the line begins and *next is just past its line ending. */
static bool mustache_standalone(const struct mustache_parser *p, size_t text_start,
                                const struct mustache_tag *tag, size_t *line_start, size_t *next)
{
    if (!tag->type || tag->type == '&' || tag->type == '{')
        return false;
    size_t ls = tag->start;
    while (ls > text_start && (p->src[ls - 1] == ' ' || p->src[ls - 1] == '\t'))
        ls--;
    if (!mustache_at_line_start(p, ls))
        return false;
    size_t e = tag->end;
    while (e < p->len && (p->src[e] == ' ' || p->src[e] == '\t'))
        e++;
    if (e == p->len)
        *next = e;
    else if (p->src[e] == '\n')
        *next = e + 1;
    else if (p->src[e] == '\r' && e + 1 < p->len && p->src[e + 1] == '\n')
        *next = e + 2;
    else
        return false;
    *line_start = ls;
    return true;
}

/* {{=<% %>=}}: two delimiters separated by white space, neither containing '=' or white
 * space. */
static int mustache_set_delimiters(struct mustache_parser *p, const struct mustache_tag *tag)
{
    const char *s = tag->body;
    size_t n = tag->body_len, i = 0;
    size_t parts[2][2];
    int count = 0;
    while (i < n) {
        while (i < n && mustache_is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !mustache_is_space(s[i]))
            i++;
        if (count == 2) {
            count = 3;
            break;
        }
        parts[count][0] = b;
        parts[count][1] = i - b;
        count++;
    }
    bool ok = count == 2;
    for (int k = 0; ok && k < 2; k++)
        ok = parts[k][1] <= MUSTACHE_MAX_DELIM && !memchr(s + parts[k][0], '=', parts[k][1]) &&
             !memchr(s + parts[k][0], '\0', parts[k][1]);
    if (!ok)
        return sd_error_set(p->err, SD_EINVALID,
                            "%s: the set-delimiter tag on line %u needs two delimiters of at "
                            "most %d characters without '=' or spaces, like {{=<%% %%>=}}",
                            p->tmpl->name, tag->line, MUSTACHE_MAX_DELIM);
    memcpy(p->open, s + parts[0][0], parts[0][1]);
    p->open[parts[0][1]] = '\0';
    p->open_len = parts[0][1];
    memcpy(p->close, s + parts[1][0], parts[1][1]);
    p->close[parts[1][1]] = '\0';
    p->close_len = parts[1][1];
    return 0;
}

/* Turns one tag into a node (or into a change of parser state for closing and
 * set-delimiter tags). For a standalone tag `line_start` is where its line begins, so a
 * standalone partial's indentation is src[line_start, tag->start). */
static int mustache_handle_tag(struct mustache_parser *p, const struct mustache_tag *tag,
                               bool standalone, size_t line_start)
{
    const char *file = p->tmpl->name;
    const char *name = tag->body;
    size_t name_len = tag->body_len;
    str_trim_span(&name, &name_len);
    bool bol = !standalone && mustache_at_line_start(p, tag->start);

    switch (tag->type) {
    case '!':
        return bol ? mustache_emit_line_mark(p, tag->line) : 0;
    case '=': {
        int rc = mustache_set_delimiters(p, tag);
        if (rc == 0 && bol)
            rc = mustache_emit_line_mark(p, tag->line);
        return rc;
    }
    case '/': {
        int shown = name_len > 40 ? 40 : (int)name_len;
        if (p->depth == 0)
            return sd_error_set(p->err, SD_EINVALID,
                                "%s: closing tag \"%.*s\" on line %u has no open section", file,
                                shown, name, tag->line);
        struct mustache_node *open = &p->tmpl->nodes[p->sections[p->depth - 1]];
        if (strlen(open->name) != name_len || memcmp(open->name, name, name_len) != 0)
            return sd_error_set(p->err, SD_EINVALID,
                                "%s: closing tag \"%.*s\" on line %u does not match section "
                                "\"%.40s\" opened on line %u",
                                file, shown, name, tag->line, open->name, open->line);
        if (bol && mustache_emit_line_mark(p, tag->line) < 0)
            return SD_ENOMEM;
        /* Re-fetch: emitting the mark may have moved the node array. */
        p->tmpl->nodes[p->sections[p->depth - 1]].end = p->tmpl->count;
        p->depth--;
        return 0;
    }
    default:
        break;
    }

    enum mustache_node_kind kind;
    switch (tag->type) {
    case '#':
        kind = MUSTACHE_NODE_SECTION;
        break;
    case '^':
        kind = MUSTACHE_NODE_INVERTED;
        break;
    case '>':
        kind = MUSTACHE_NODE_PARTIAL;
        break;
    case '&':
    case '{':
        kind = MUSTACHE_NODE_RAW;
        break;
    default:
        kind = MUSTACHE_NODE_ESCAPED;
        break;
    }
    if ((kind == MUSTACHE_NODE_SECTION || kind == MUSTACHE_NODE_INVERTED) &&
        p->depth == MUSTACHE_MAX_NESTING)
        return sd_error_set(p->err, SD_ELIMIT, "%s: sections nest more than %d deep on line %u",
                            file, MUSTACHE_MAX_NESTING, tag->line);
    struct mustache_node *n = mustache_push_node(p, kind, tag->line);
    if (!n)
        return SD_ENOMEM;
    n->bol = bol;
    int rc = mustache_set_name(p, n, name, name_len, tag->line);
    if (rc < 0) {
        p->tmpl->count--; /* the node owns nothing yet */
        return rc;
    }
    if (kind == MUSTACHE_NODE_PARTIAL && standalone) {
        n->indent = p->src + line_start;
        n->indent_len = tag->start - line_start;
    }
    if (kind == MUSTACHE_NODE_SECTION || kind == MUSTACHE_NODE_INVERTED)
        p->sections[p->depth++] = p->tmpl->count - 1;
    return 0;
}

static int mustache_parse(struct mustache_parser *p)
{
    size_t pos = 0;
    for (;;) {
        const char *hit = mustache_find(p->src + pos, p->len - pos, p->open, p->open_len);
        if (!hit)
            break;
        struct mustache_tag tag = {0};
        int rc = mustache_read_tag(p, (size_t)(hit - p->src), &tag);
        if (rc < 0)
            return rc;
        size_t line_start = 0, next = tag.end;
        bool standalone = mustache_standalone(p, pos, &tag, &line_start, &next);
        rc = mustache_emit_text(p, pos, standalone ? line_start : tag.start);
        if (rc == 0)
            rc = mustache_handle_tag(p, &tag, standalone, line_start);
        if (rc < 0)
            return rc;
        pos = next;
    }
    int rc = mustache_emit_text(p, pos, p->len);
    if (rc < 0)
        return rc;
    if (p->depth > 0) {
        const struct mustache_node *open = &p->tmpl->nodes[p->sections[p->depth - 1]];
        return sd_error_set(p->err, SD_EINVALID, "%s: unclosed section \"%.40s\" opened on line %u",
                            p->tmpl->name, open->name, open->line);
    }
    return 0;
}

/* The caller frees *out with mustache_free. The source is copied, so the caller's buffer
 * may go away as soon as this returns. */
int mustache_compile(struct mustache_template **out, const char *source, size_t len,
                     const char *name, struct sd_error *err)
{
    assert(out);
    *out = NULL;
    if (!name)
        name = "template";
    if (!source && len > 0)
        return sd_error_set(err, SD_EUSAGE, "%s: no template source was given", name);
    if (len > MUSTACHE_MAX_SOURCE)
        return sd_error_set(err, SD_ELIMIT,
                            "%s: the template is %zu bytes; templates are limited to %zu bytes",
                            name, len, MUSTACHE_MAX_SOURCE);
    struct mustache_template *t = calloc(1, sizeof *t);
    if (!t)
        return sd_error_nomem(err);
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return sd_error_set(err, SD_ERROR, "%s: could not create a lock for the template", name);
    }
    int rc = SD_ENOMEM;
    t->name = str_dup(name);
    t->source = malloc(len + 1);
    if (!t->name || !t->source) {
        sd_error_nomem(err);
        goto fail;
    }
    if (len)
        memcpy(t->source, source, len);
    t->source[len] = '\0';
    t->source_len = len;

    struct mustache_parser p = {
        .tmpl = t,
        .src = t->source,
        .len = len,
        .open = "{{",
        .open_len = 2,
        .close = "}}",
        .close_len = 2,
        .line_no = 1,
        .err = err,
    };
    rc = mustache_parse(&p);
    if (rc < 0)
        goto fail;
    *out = t;
    return 0;

fail:
    mustache_free(t);
    return rc;
}

/* Frees the template, its nodes and every partial compiled for it. */
void mustache_free(struct mustache_template *tmpl)
{
    if (!tmpl)
        return;
    for (size_t i = 0; i < tmpl->count; i++)
        free(tmpl->nodes[i].name);
    free(tmpl->nodes);
    struct mustache_cached_partial *c = tmpl->partials;
    while (c) {
        struct mustache_cached_partial *next = c->next;
        mustache_free(c->tmpl);
        free(c->name);
        free(c);
        c = next;
    }
    pthread_mutex_destroy(&tmpl->lock);
    free(tmpl->source);
    free(tmpl->name);
    free(tmpl);
}

const char *mustache_name(const struct mustache_template *tmpl)
{
    return tmpl->name;
}

int mustache_escape_html(struct buf *out, const char *text, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (text[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        if (buf_append(out, text + run, i - run) < 0 || buf_puts(out, rep) < 0)
            return SD_ENOMEM;
        run = i + 1;
    }
    return buf_append(out, text + run, len - run);
}
