/*
 * The compiled form of a mustache template, shared by the compiler (mustache.c) and the
 * renderer (mustache_render.c). Nothing outside those two files includes this header.
 *
 * A template is a flat array of nodes. A section node's content is the run of nodes that
 * follows it, up to (not including) `end`; closing tags, comments and set-delimiter tags
 * leave no node behind. Text nodes point into the template's own copy of the source.
 */
#ifndef SHEETD_WEB_MUSTACHE_INTERNAL_H
#define SHEETD_WEB_MUSTACHE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum mustache_node_kind {
    MUSTACHE_NODE_TEXT,     /* literal template text */
    MUSTACHE_NODE_ESCAPED,  /* {{name}} */
    MUSTACHE_NODE_RAW,      /* {{{name}}} and {{&name}} */
    MUSTACHE_NODE_SECTION,  /* {{#name}} */
    MUSTACHE_NODE_INVERTED, /* {{^name}} */
    MUSTACHE_NODE_PARTIAL,  /* {{>name}} */
};

struct mustache_node {
    enum mustache_node_kind kind;
    /* The node starts a line of the source; a standalone partial's indentation is written
     * here. Zero-length text nodes with `bol` set mark line starts whose first tag left no
     * node (a comment, a closing tag) so the indentation still lands there. */
    bool bol;
    unsigned line;    /* tags: the line the tag starts on (text nodes: 0) */
    size_t end;       /* sections: index just past the section's content */
    const char *text; /* TEXT: bytes in the template's source */
    size_t len;
    /* Tags: the name as written, NUL-terminated, followed by a copy with the dots turned
     * into NULs (`segs`, `nsegs` parts; 0 parts for the implicit iterator "."). One
     * allocation, owned by the node. */
    char *name;
    const char *segs;
    size_t nsegs;
    /* Standalone partials: the white space before the tag, prepended to each line. */
    const char *indent;
    size_t indent_len;
};

/* A partial compiled on first use, kept with the template whose render needed it. */
struct mustache_cached_partial {
    char *name;
    struct mustache_template *tmpl;
    struct mustache_cached_partial *next;
};

struct mustache_template {
    char *name;
    char *source;
    size_t source_len;
    struct mustache_node *nodes;
    size_t count;
    size_t cap;
    pthread_mutex_t lock; /* guards `partials` */
    struct mustache_cached_partial *partials;
};

#endif
