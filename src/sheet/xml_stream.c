/*
 * DESIGN
 * ------
 * expat is a push parser: it is handed bytes and calls back. A row iterator needs a pull
 * parser. The bridge is expat's suspend/resume: the row handler calls XML_StopParser(p,
 * XML_TRUE) when a row is complete, XML_ParseBuffer returns XML_STATUS_SUSPENDED in the
 * middle of a buffer, and the next pull calls XML_ResumeParser to go on from the very next
 * token. Only when a buffer is used up is the next chunk inflated from the zip entry, into
 * expat's own buffer (XML_GetBuffer), so bytes are copied once.
 *
 * States: RUNNING (between chunks or mid-chunk not suspended), SUSPENDED (the parser holds a
 * partly-parsed buffer), DONE and FAILED (sticky). A handler cannot return an error through
 * expat, so xml_stream_fail records it here and aborts the parser; run() then reports it.
 */
#include "sheet/xml_stream.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_STREAM_CHUNK (64 * 1024)

enum xml_stream_state { XS_RUNNING, XS_SUSPENDED, XS_DONE, XS_FAILED };

struct xml_stream {
    XML_Parser parser;
    struct zip_guard *zg;
    struct zip_guard_entry *entry;
    const struct xml_stream_handlers *h;
    void *ctx;
    const char *display_name;
    uint32_t max_depth;
    unsigned depth;
    enum xml_stream_state state;
    bool stop_requested; /* a handler suspended the parser during this parse call */
    bool finish_requested;
    bool final_given; /* the last (empty, final) buffer was passed to expat */
    struct sd_error error;
};

const char *xml_local_name(const char *name)
{
    const char *sep = strrchr(name, XML_STREAM_NS_SEP);
    return sep ? sep + 1 : name;
}

const char *xml_attr(const char **attrs, const char *local)
{
    for (size_t i = 0; attrs && attrs[i]; i += 2)
        if (!strcmp(xml_local_name(attrs[i]), local))
            return attrs[i + 1];
    return NULL;
}

const char *xml_attr_ns(const char **attrs, const char *ns_uri, const char *local)
{
    size_t ulen = ns_uri ? strlen(ns_uri) : 0;
    for (size_t i = 0; attrs && attrs[i]; i += 2) {
        const char *name = attrs[i];
        const char *sep = strrchr(name, XML_STREAM_NS_SEP);
        if (strcmp(sep ? sep + 1 : name, local) != 0)
            continue;
        if (!ns_uri && !sep)
            return attrs[i + 1];
        if (ns_uri && sep && (size_t)(sep - name) == ulen && !memcmp(name, ns_uri, ulen))
            return attrs[i + 1];
    }
    return NULL;
}

void xml_stream_fail(struct xml_stream *xs, const struct sd_error *why)
{
    if (xs->state == XS_FAILED)
        return;
    xs->error = *why;
    if (xs->error.code >= 0)
        xs->error.code = SD_ERROR;
    xs->state = XS_FAILED;
    XML_StopParser(xs->parser, XML_FALSE);
}

static void fail_with(struct xml_stream *xs, int code, const char *what)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_set(&e, code, "%s: %s %s", xs->display_name, zip_guard_entry_path(xs->entry), what);
    xml_stream_fail(xs, &e);
}

void xml_stream_suspend(struct xml_stream *xs)
{
    if (xs->state != XS_RUNNING || xs->stop_requested)
        return;
    xs->stop_requested = true;
    XML_StopParser(xs->parser, XML_TRUE);
}

void xml_stream_finish(struct xml_stream *xs)
{
    if (xs->state == XS_FAILED || xs->finish_requested)
        return;
    xs->finish_requested = true;
    XML_StopParser(xs->parser, XML_FALSE);
}

unsigned xml_stream_depth(const struct xml_stream *xs)
{
    return xs->depth;
}

const char *xml_stream_entry_name(const struct xml_stream *xs)
{
    return zip_guard_entry_path(xs->entry);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_stream *xs = data;
    if (++xs->depth > xs->max_depth) {
        char what[96];
        snprintf(what, sizeof what, "nests XML elements deeper than the limit of %u",
                 (unsigned)xs->max_depth);
        fail_with(xs, SD_ELIMIT, what);
        return;
    }
    if (xs->h->start)
        xs->h->start(xs->ctx, xml_local_name(name), attrs);
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct xml_stream *xs = data;
    if (xs->h->end)
        xs->h->end(xs->ctx, xml_local_name(name));
    xs->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    struct xml_stream *xs = data;
    if (xs->h->text)
        xs->h->text(xs->ctx, s, len);
}

/* Why the raw input and not the delivered text: after expat, `&#x9;` and a literal TAB are the
 * same byte. A reference starts with '&' in the input, and literal character data never does
 * (a '&' in the input always opens a reference); in UTF-16 the '&' is preceded by a zero byte.
 * Without the input context (expat built without XML_CONTEXT_BYTES) the event's length tells:
 * the shortest reference is 4 bytes ("&#9;"), a literal white space at most 2 ("\r\n"). */
bool xml_stream_text_is_reference(const struct xml_stream *xs)
{
    int offset = 0, size = 0;
    const char *in = XML_GetInputContext(xs->parser, &offset, &size);
    if (!in || offset < 0 || offset >= size)
        return XML_GetCurrentByteCount(xs->parser) >= 4;
    if (in[offset] == '&')
        return true;
    return in[offset] == '\0' && offset + 1 < size && in[offset + 1] == '&';
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail_with(data, SD_EINVALID,
              "contains a DOCTYPE declaration, which no workbook needs; it is refused so that "
              "no entity is ever expanded");
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fail_with(data, SD_EINVALID, "declares an XML entity, which no workbook needs");
}

static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base,
                                      const XML_Char *sysid, const XML_Char *pubid)
{
    (void)p, (void)context, (void)base, (void)sysid, (void)pubid;
    return XML_STATUS_ERROR; /* never fetched */
}

int xml_stream_open(struct xml_stream **out, struct zip_guard *zg, uint64_t index,
                    const struct xml_stream_handlers *handlers, void *ctx, struct sd_error *err)
{
    *out = NULL;
    struct xml_stream *xs = calloc(1, sizeof *xs);
    if (!xs)
        return sd_error_nomem(err);
    int rc = zip_guard_entry_open(&xs->entry, zg, index, err);
    if (rc < 0) {
        free(xs);
        return rc;
    }
    xs->parser = XML_ParserCreateNS(NULL, XML_STREAM_NS_SEP);
    if (!xs->parser) {
        zip_guard_entry_close(xs->entry);
        free(xs);
        return sd_error_nomem(err);
    }
    xs->zg = zg;
    xs->h = handlers;
    xs->ctx = ctx;
    xs->display_name = zip_guard_display_name(zg);
    xs->max_depth = zip_guard_limits(zg)->max_xml_depth;
    xs->state = XS_RUNNING;
    XML_SetUserData(xs->parser, xs);
    XML_SetElementHandler(xs->parser, on_start, on_end);
    XML_SetCharacterDataHandler(xs->parser, on_text);
    XML_SetStartDoctypeDeclHandler(xs->parser, on_doctype);
    XML_SetEntityDeclHandler(xs->parser, on_entity_decl);
    XML_SetExternalEntityRefHandler(xs->parser, on_external_entity);
    XML_SetParamEntityParsing(xs->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    *out = xs;
    return 0;
}

void xml_stream_close(struct xml_stream *xs)
{
    if (!xs)
        return;
    if (xs->parser)
        XML_ParserFree(xs->parser);
    zip_guard_entry_close(xs->entry);
    free(xs);
}

/* Turns the outcome of one expat call into run()'s answer: 1 suspended, 0 finished, 2 the
 * buffer is used up and the next chunk is wanted, or a negative code with xs->error set. */
static int after_parse(struct xml_stream *xs, enum XML_Status status)
{
    if (xs->state == XS_FAILED)
        return xs->error.code;
    if (status == XML_STATUS_SUSPENDED) {
        xs->state = XS_SUSPENDED;
        xs->stop_requested = false;
        return 1;
    }
    if (status == XML_STATUS_ERROR) {
        if (xs->finish_requested) {
            xs->state = XS_DONE;
            return 0;
        }
        enum XML_Error code = XML_GetErrorCode(xs->parser);
        sd_error_set(
            &xs->error, code == XML_ERROR_NO_MEMORY ? SD_ENOMEM : SD_EINVALID,
            "%s: %s is not well-formed XML (line %lu, column %lu: %s)", xs->display_name,
            zip_guard_entry_path(xs->entry), (unsigned long)XML_GetCurrentLineNumber(xs->parser),
            (unsigned long)XML_GetCurrentColumnNumber(xs->parser) + 1, XML_ErrorString(code));
        xs->state = XS_FAILED;
        return xs->error.code;
    }
    xs->state = XS_RUNNING;
    if (xs->final_given) {
        xs->state = XS_DONE;
        return 0;
    }
    return 2; /* buffer used up: feed the next one */
}

int xml_stream_run(struct xml_stream *xs, struct sd_error *err)
{
    int rc;
    if (xs->state == XS_SUSPENDED) {
        xs->state = XS_RUNNING;
        rc = after_parse(xs, XML_ResumeParser(xs->parser));
        if (rc != 2)
            goto out;
    }
    for (;;) {
        if (xs->state == XS_DONE || xs->state == XS_FAILED) {
            rc = xs->state == XS_DONE ? 0 : xs->error.code;
            goto out;
        }
        void *chunk = XML_GetBuffer(xs->parser, XML_STREAM_CHUNK);
        if (!chunk) {
            sd_error_nomem(&xs->error);
            xs->state = XS_FAILED;
            rc = SD_ENOMEM;
            goto out;
        }
        ssize_t n = zip_guard_entry_read(xs->entry, chunk, XML_STREAM_CHUNK, &xs->error);
        if (n < 0) {
            xs->state = XS_FAILED;
            rc = (int)n;
            goto out;
        }
        xs->final_given = n == 0;
        rc = after_parse(xs, XML_ParseBuffer(xs->parser, (int)n, n == 0));
        if (rc != 2)
            goto out;
    }
out:
    if (rc < 0 && err)
        *err = xs->error;
    return rc;
}
