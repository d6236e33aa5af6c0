/*
 * A suspendable, namespace-aware expat parser over one zip entry: how the ODS reader and the
 * small XLSX parts (workbook, relationships, styles, content types) are read. XLSX worksheets
 * and shared strings, where speed matters, go through xlsx_scan.h instead.
 *
 * Handlers get LOCAL names (`c`, `row`, `table-cell`), whatever prefix or namespace the file
 * uses, so transitional and strict OOXML, and any odd prefix, read the same. Attributes come
 * as expat's NULL-terminated name/value array; look one up with xml_attr, which also matches
 * by local name (`r:id` and `id` both match "id"; use xml_attr_ns to require a namespace).
 *
 * Pulling rows one at a time: a handler that has completed a row calls xml_stream_suspend;
 * xml_stream_run then returns 1, and the next xml_stream_run resumes right after that
 * element. Everything before is streaming: memory stays at one read buffer plus expat's
 * state, whatever the size of the entry.
 *
 *     struct xml_stream_handlers h = {.start = on_start, .end = on_end, .text = on_text};
 *     xml_stream_open(&xs, zg, index, &h, ctx, &err);
 *     while ((rc = xml_stream_run(xs, &err)) == 1) { ...a row is ready... }
 *     // rc == 0: end of document; rc < 0: err says why
 *     xml_stream_close(xs);
 *
 * Hostile input: any DOCTYPE is refused (a workbook part never needs one, so no entity is
 * ever declared, expanded or fetched), elements nested deeper than limits.max_xml_depth are
 * refused, and malformed XML is an SD_EINVALID sentence naming the entry, line and column.
 * A handler refuses input with xml_stream_fail, which stops the parser for good.
 */
#ifndef SHEETD_SHEET_XML_STREAM_H
#define SHEETD_SHEET_XML_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sheet/zip_guard.h"

/* Expat separates a name's namespace URI from its local part with this character. */
#define XML_STREAM_NS_SEP '\x01'

struct xml_stream;

struct xml_stream_handlers {
    /* local: the element's local name; attrs: name, value, name, value, ..., NULL. */
    void (*start)(void *ctx, const char *local, const char **attrs);
    void (*end)(void *ctx, const char *local);
    /* Character data, in pieces of any size (not NUL-terminated). May be NULL. */
    void (*text)(void *ctx, const char *s, int len);
};

/* Opens entry `index` of zg for parsing; handlers and ctx are borrowed. The caller closes
 * the stream with xml_stream_close (before closing the guard). */
int xml_stream_open(struct xml_stream **out, struct zip_guard *zg, uint64_t index,
                    const struct xml_stream_handlers *handlers, void *ctx, struct sd_error *err);
void xml_stream_close(struct xml_stream *xs);

/* Parses until a handler suspends (1), the document ends (0) or an error (negative code,
 * with err filled). After 0 or an error, further calls return the same outcome. */
int xml_stream_run(struct xml_stream *xs, struct sd_error *err);

/* From a handler: pause after the current callback; xml_stream_run returns 1. */
void xml_stream_suspend(struct xml_stream *xs);
/* From a handler: stop for good with this error (code and sentence are copied). */
void xml_stream_fail(struct xml_stream *xs, const struct sd_error *why);
/* From a handler: stop for good without an error, e.g. once everything needed was read;
 * xml_stream_run then returns 0. */
void xml_stream_finish(struct xml_stream *xs);

/* From a text handler: true when the character data being delivered was written as a character
 * or entity reference (`&#x9;`, `&amp;`) rather than literally. Expat delivers each reference
 * as a piece of its own, so a reader that treats literal white space specially (ODS collapses
 * it) can keep the white space a file asked for explicitly. */
bool xml_stream_text_is_reference(const struct xml_stream *xs);

/* Current element depth (the root element is depth 1 inside its start handler). */
unsigned xml_stream_depth(const struct xml_stream *xs);
/* The zip entry's name, for error sentences. */
const char *xml_stream_entry_name(const struct xml_stream *xs);

/* The local part of an expat name ("uri\x01local" or "local"). */
const char *xml_local_name(const char *name);
/* The value of the first attribute whose local name is `local`, or NULL. */
const char *xml_attr(const char **attrs, const char *local);
/* Like xml_attr but the attribute must be in namespace `ns_uri` (NULL: no namespace). */
const char *xml_attr_ns(const char **attrs, const char *ns_uri, const char *local);

#endif
