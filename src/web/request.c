#include "web/request.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "web/upload.h"
#include "web/url.h"

#define MAX_FORM_FIELDS 256

struct web_request *web_request_new(struct web_app *app, const char *target, int64_t started_ms)
{
    struct web_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->target = str_dup(target);
    if (!req->target) {
        free(req);
        return NULL;
    }
    req->app = app;
    req->started_ms = started_ms;
    return req;
}

static void free_fields(struct web_form_field *fields, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(fields[i].name);
        free(fields[i].value);
    }
    free(fields);
}

void web_request_free(struct web_request *req)
{
    if (!req)
        return;
    free(req->target);
    buf_free(&req->body);
    web_multipart_free(req->multipart);
    free_fields(req->fields, req->nfields);
    free(req);
}

const char *web_request_header(const struct web_request *req, const char *name)
{
    if (!req->connection)
        return NULL;
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}

const char *web_request_cookie(const struct web_request *req, const char *name)
{
    if (!req->connection)
        return NULL;
    return MHD_lookup_connection_value(req->connection, MHD_COOKIE_KIND, name);
}

struct cookie_scan {
    const char *name;
    size_t name_len;
    char *out;
    size_t size;
    size_t count;
};

/* Reads one Cookie header's "a=1; b=2" pairs (RFC 6265 section 4.2.1; the name is matched
 * exactly, white space around pairs is dropped). */
static void scan_cookie_header(struct cookie_scan *scan, const char *value)
{
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        size_t pair_len = strcspn(p, ";");
        const char *eq = memchr(p, '=', pair_len);
        if (eq && (size_t)(eq - p) == scan->name_len && !memcmp(p, scan->name, scan->name_len)) {
            const char *v = eq + 1;
            size_t v_len = pair_len - (size_t)(v - p);
            while (v_len > 0 && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t'))
                v_len--;
            if (scan->count++ == 0 && scan->size > 0) {
                if (v_len < scan->size) {
                    memcpy(scan->out, v, v_len);
                    scan->out[v_len] = '\0';
                } else {
                    scan->out[0] = '\0';
                }
            }
        }
        p += pair_len;
    }
}

static enum MHD_Result cookie_header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    if (key && value && !strcasecmp(key, "Cookie"))
        scan_cookie_header(cls, value);
    return MHD_YES;
}

size_t web_request_cookie_count(const struct web_request *req, const char *name, char *out,
                                size_t size)
{
    struct cookie_scan scan = {name, strlen(name), out, size, 0};
    if (size > 0)
        out[0] = '\0';
    if (req->connection)
        MHD_get_connection_values(req->connection, MHD_HEADER_KIND, cookie_header_cb, &scan);
    return scan.count;
}

void web_request_path(const struct web_request *req, char *out, size_t size)
{
    size_t len = strcspn(req->target, "?#");
    if (len >= size)
        len = size - 1;
    memcpy(out, req->target, len);
    out[len] = '\0';
}

const char *web_request_param(const struct web_request *req, const char *name)
{
    return router_param(&req->match, name);
}

static void trim_ows(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* A qvalue (RFC 9110 section 12.4.2: "0", "0.5", "1.000") in thousandths, or -1. */
static int parse_qvalue(const char *s, size_t len)
{
    if (len == 0 || (s[0] != '0' && s[0] != '1') || len > 5 || (len > 1 && s[1] != '.'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q <= 1000 ? q : -1;
}

/* The quality, in thousandths, that `accept` gives exactly `type` ("application/json",
 * compared ignoring case; wildcards are not counted); -1 when it is not listed. */
static int accept_quality(const char *accept, const char *type)
{
    int best = -1;
    size_t type_len = strlen(type);
    for (const char *p = accept; *p;) {
        size_t item_len = strcspn(p, ",");
        const char *item = p;
        p += item_len + (p[item_len] == ',');
        size_t range_len = strcspn(item, ";");
        if (range_len > item_len)
            range_len = item_len;
        const char *range = item;
        size_t rlen = range_len;
        trim_ows(&range, &rlen);
        if (rlen != type_len || strncasecmp(range, type, type_len))
            continue;
        int q = 1000;
        const char *param = item + range_len;
        const char *end = item + item_len;
        while (param < end && *param == ';') {
            param++;
            size_t plen = strcspn(param, ";");
            if (param + plen > end)
                plen = (size_t)(end - param);
            const char *ps = param;
            size_t pl = plen;
            trim_ows(&ps, &pl);
            if (pl >= 2 && (ps[0] == 'q' || ps[0] == 'Q') && ps[1] == '=')
                q = parse_qvalue(ps + 2, pl - 2);
            param += plen;
        }
        if (q > best)
            best = q;
    }
    return best;
}

bool web_accept_prefers_json(const char *accept)
{
    if (!accept)
        return false;
    int json = accept_quality(accept, "application/json");
    return json > 0 && json > accept_quality(accept, "text/html");
}

bool web_request_wants_json(const struct web_request *req)
{
    if (str_has_prefix(req->target, "/api/") || !strcmp(req->target, "/api"))
        return true;
    return web_accept_prefers_json(web_request_header(req, "Accept"));
}

struct framing {
    unsigned content_lengths;
    bool content_length_bad;       /* any of them */
    bool first_content_length_bad; /* the one libmicrohttpd reads */
    bool transfer_encoding;
    bool transfer_encoding_bad;
    bool host;
    bool bare_cr;
};

static enum MHD_Result note_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (!key || !value)
        return MHD_YES;
    if (strchr(key, '\r') || strchr(value, '\r'))
        f->bare_cr = true;
    if (!strcasecmp(key, "Content-Length")) {
        bool bad = !*value || value[strspn(value, "0123456789")] != '\0' || strlen(value) > 18;
        if (bad && f->content_lengths == 0)
            f->first_content_length_bad = true;
        f->content_length_bad |= bad;
        f->content_lengths++;
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        f->transfer_encoding = true;
        if (strcasecmp(value, "chunked") != 0)
            f->transfer_encoding_bad = true;
    } else if (!strcasecmp(key, "Host")) {
        f->host = true;
    }
    return MHD_YES;
}

int web_request_check_framing(const struct web_request *req, const char *version,
                              const char **problem)
{
    struct framing f = {0};
    if (!req->connection)
        return 0;
    MHD_get_connection_values(req->connection, MHD_HEADER_KIND, note_header, &f);
    if (f.first_content_length_bad && !f.transfer_encoding)
        return -1;
    if (f.content_lengths > 1)
        *problem = "The request gives Content-Length more than once.";
    else if (f.content_lengths && f.transfer_encoding)
        *problem = "The request gives both Content-Length and Transfer-Encoding.";
    else if (f.content_length_bad)
        *problem = "The Content-Length header is not a number.";
    else if (f.transfer_encoding_bad)
        *problem = "This server accepts no Transfer-Encoding but chunked.";
    else if (f.bare_cr)
        *problem = "A request header holds a bare carriage return.";
    else if (!f.host && version && !strcmp(version, "HTTP/1.1"))
        *problem = "The request has no Host header, which HTTP/1.1 requires.";
    else
        return 0;
    return 400;
}

int web_request_append_body(struct web_request *req, const char *data, size_t len, size_t cap)
{
    if (req->body_too_large)
        return 0;
    if (req->body.len + len > cap) {
        req->body_too_large = true;
        buf_free(&req->body);
        return 0;
    }
    return buf_append(&req->body, data, len);
}

/* Decodes one name or value of a form pair into a fresh string; SD_EINVALID for a bad
 * escape or text that is not UTF-8 (we render every value back into HTML or JSON later). */
static int decode_part(char **out, size_t *out_len, const char *in, size_t len)
{
    char *text = malloc(len + 1);
    if (!text)
        return SD_ENOMEM;
    long n = url_decode(text, in, len, true);
    if (n < 0 || !str_utf8_valid(text, (size_t)n)) {
        free(text);
        return SD_EINVALID;
    }
    *out = text;
    if (out_len)
        *out_len = (size_t)n;
    return 0;
}

int web_request_parse_form(struct web_request *req, struct sd_error *err)
{
    const char *p = buf_cstr(&req->body);
    const char *end = p + req->body.len;
    struct web_form_field *fields = NULL;
    size_t count = 0;
    int rc = 0;
    if (memchr(p, '\0', req->body.len)) {
        rc = sd_error_set(err, SD_EINVALID, "The form data holds a NUL byte; send it again.");
        goto fail;
    }
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp ? amp : end;
        if (pair_end == p) { /* "a=1&&b=2": an empty pair carries nothing */
            p = pair_end + 1;
            continue;
        }
        if (count == MAX_FORM_FIELDS) {
            rc = sd_error_set(err, SD_EINVALID, "The form has more than %d fields.",
                              MAX_FORM_FIELDS);
            goto fail;
        }
        struct web_form_field *grown = realloc(fields, (count + 1) * sizeof *fields);
        if (!grown) {
            rc = sd_error_nomem(err);
            goto fail;
        }
        fields = grown;
        struct web_form_field *f = &fields[count];
        memset(f, 0, sizeof *f);
        count++;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *name_end = eq ? eq : pair_end;
        const char *value = eq ? eq + 1 : pair_end;
        rc = decode_part(&f->name, NULL, p, (size_t)(name_end - p));
        if (!rc)
            rc = decode_part(&f->value, &f->value_len, value, (size_t)(pair_end - value));
        if (rc == SD_ENOMEM) {
            sd_error_nomem(err);
            goto fail;
        }
        if (rc) {
            sd_error_set(err, SD_EINVALID,
                         "The form data is malformed (a bad %%-escape or text that is not "
                         "UTF-8); send it again from the form.");
            goto fail;
        }
        p = pair_end + (amp ? 1 : 0);
    }
    free_fields(req->fields, req->nfields);
    req->fields = fields;
    req->nfields = count;
    return 0;
fail:
    free_fields(fields, count);
    return rc;
}

const char *web_request_form_value(const struct web_request *req, const char *name, size_t *len)
{
    for (size_t i = 0; i < req->nfields; i++) {
        if (!strcmp(req->fields[i].name, name)) {
            if (len)
                *len = req->fields[i].value_len;
            return req->fields[i].value;
        }
    }
    return NULL;
}

int64_t web_request_id_param(const struct web_request *req, const char *name)
{
    const char *text = web_request_param(req, name);
    long long id = 0;
    if (!text || !str_to_int64(text, &id) || id <= 0)
        return 0;
    return (int64_t)id;
}

bool web_request_query(const struct web_request *req, const char *name, char *out, size_t size)
{
    const char *q = strchr(req->target, '?');
    size_t name_len = strlen(name);
    while (q && *q) {
        q++;
        const char *end = q + strcspn(q, "&#");
        const char *eq = memchr(q, '=', (size_t)(end - q));
        if (eq && (size_t)(eq - q) == name_len && !memcmp(q, name, name_len)) {
            size_t len = (size_t)(end - eq - 1);
            if (len >= size)
                return false;
            return url_decode(out, eq + 1, len, true) >= 0;
        }
        q = *end == '&' ? end : NULL;
    }
    return false;
}
