/*
 * The markup layer of the worksheet scanner (see xlsx_scan.c's DESIGN): start and end tags
 * with their attributes, and the `<!` and `<?` forms, each scanned whole from the '<'. A
 * scan that runs out of buffer returns XLSX_SCAN_NEED_MORE having changed nothing, and is redone
 * from the '<' once more input is there; only a finished scan moves `pos` or pushes a name.
 */
#include "sheet/xlsx_scan_lex.h"

#include <stdlib.h>
#include <string.h>

/* An attribute's or an end tag's name at buf[i], the space after it and then `next` ('=' or
 * '>'): the shape both share. Returns the index of `next` with the name's length in *len;
 * XLSX_SCAN_NEED_MORE (0: a name never starts the buffer, its '<' comes first) when the token
 * may go on past the buffer; or an error, `no_name` when buf[i] cannot start a name and
 * `not_next` when something other than `next` follows. */
static inline __attribute__((always_inline)) long name_then(struct xlsx_scan *s, size_t i,
                                                            size_t end, char next, size_t *len,
                                                            const char *no_name,
                                                            const char *not_next)
{
    const char *b = s->buf;
    if (!XLSX_BYTE_IS(b[i], XLSX_BYTE_START))
        return xlsx_scan_malformed(s, i, no_name);
    size_t start = i;
    i = xlsx_scan_skip_name(b, i, end);
    *len = i - start;
    i = xlsx_scan_skip_space(b, i, end);
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    if (b[i] != next)
        return xlsx_scan_malformed(s, i, not_next);
    return (long)i;
}

/* An attribute value that is not plain: references decoded, literal TAB, LF, CR (and CR
 * LF) each become a space, as XML's attribute-value normalization says. Appended to
 * scratch, which the caller has grown enough that it never moves. Returns the index past
 * the closing quote, 0 for XLSX_SCAN_NEED_MORE, or an error. */
static long decode_value(struct xlsx_scan *s, size_t i, size_t end, char quote)
{
    const char *b = s->buf;
    char *out = s->scratch.data + s->scratch.len;
    size_t w = 0;
    for (;;) {
        if (i >= end)
            return 0;
        char c = b[i];
        if (c == quote)
            break;
        if (!XLSX_BYTE_IS(c, XLSX_BYTE_ATTR) || c == '"' || c == '\'') {
            out[w++] = c;
            i++;
        } else if (c == '&') {
            size_t n = 0, used = 0;
            int rc = xlsx_scan_decode_ref(s, i, end, out + w, &n, &used);
            if (rc <= 0)
                return rc;
            w += n;
            i += used;
        } else if (c == '<') {
            return xlsx_scan_malformed(s, i, "a '<' inside an attribute value");
        } else if (c == '\r') {
            if (i + 1 >= end)
                return 0;
            out[w++] = ' ';
            i += b[i + 1] == '\n' ? 2 : 1;
        } else if (c == '\t' || c == '\n') {
            out[w++] = ' ';
            i++;
        } else {
            return xlsx_scan_malformed(s, i, "a control character XML does not allow");
        }
    }
    out[w] = '\0';
    s->scratch.len += w + 1;
    return (long)i + 1;
}

static bool grow_attrs(struct xlsx_scan *s, size_t need)
{
    if (need <= s->attr_cap)
        return true;
    size_t cap = s->attr_cap ? s->attr_cap * 2 : 8;
    struct xlsx_attr *a = realloc(s->attrs, cap * sizeof *a);
    if (!a)
        return false;
    s->attrs = a;
    s->attr_cap = cap;
    return true;
}

/* Runs once per element: plain code rather than struct buf calls. */
static bool push_name(struct xlsx_scan *s, const char *name, size_t len)
{
    if (s->depth + 1 > s->name_cap) {
        size_t cap = s->name_cap ? s->name_cap * 2 : 32;
        size_t *offs = realloc(s->name_offs, cap * sizeof *offs);
        if (!offs)
            return false;
        s->name_offs = offs;
        s->name_cap = cap;
    }
    if (len > s->names_cap - s->names_len) {
        size_t cap = s->names_cap ? s->names_cap : 256;
        while (cap - s->names_len < len)
            cap *= 2;
        char *names = realloc(s->names, cap);
        if (!names)
            return false;
        s->names = names;
        s->names_cap = cap;
    }
    s->name_offs[s->depth] = s->names_len;
    memcpy(s->names + s->names_len, name, len);
    s->names_len += len;
    return true;
}

/* `<name attr="value" ...>` or `<name .../>`. */
static int start_tag(struct xlsx_scan *s, struct xlsx_token *tok)
{
    const char *b = s->buf;
    size_t end = xlsx_scan_token_end(s, s->pos);
    size_t i = s->pos + 1;
    if (!XLSX_BYTE_IS(b[i], XLSX_BYTE_START))
        return xlsx_scan_malformed(s, i, "a '<' that does not start a tag");
    size_t name = i;
    i = xlsx_scan_skip_name(b, i, end);
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    size_t name_len = i - name;
    size_t nattrs = 0;
    bool empty = false;
    bool scratch_ready = false;
    for (;;) {
        char c = b[i];
        if (c == '>') {
            i++;
            break;
        }
        if (c == '/') {
            if (i + 1 >= end)
                return XLSX_SCAN_NEED_MORE;
            if (b[i + 1] != '>')
                return xlsx_scan_malformed(s, i, "a '/' in a tag not followed by '>'");
            i += 2;
            empty = true;
            break;
        }
        if (!XLSX_BYTE_IS(c, XLSX_BYTE_SPACE))
            return xlsx_scan_malformed(s, i, "a character that does not belong in a tag");
        i = xlsx_scan_skip_space(b, i, end);
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        c = b[i];
        if (c == '>' || c == '/')
            continue;
        size_t an = i, an_len = 0;
        long eq = name_then(s, i, end, '=', &an_len, "a character that does not belong in a tag",
                            "an attribute without '=' and a value");
        if (eq <= 0)
            return (int)eq;
        i = xlsx_scan_skip_space(b, (size_t)eq + 1, end);
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        char quote = b[i];
        if (quote != '"' && quote != '\'')
            return xlsx_scan_malformed(s, i, "an attribute value without quotes");
        size_t v = ++i;
        while (i < end && !XLSX_BYTE_IS(b[i], XLSX_BYTE_ATTR))
            i++;
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        const char *value;
        size_t value_len;
        if (b[i] == quote) {
            value = b + v;
            value_len = i - v;
            i++;
        } else {
            /* Decoded values are never longer than the tag, so one reservation of the rest
             * of the buffer keeps every pointer into scratch valid for the whole tag. */
            if (!scratch_ready) {
                s->scratch.len = 0;
                if (buf_grow(&s->scratch, 2 * (end - s->pos) + 2) < 0)
                    return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
                scratch_ready = true;
            }
            size_t at = s->scratch.len;
            long next = decode_value(s, v, end, quote);
            if (next <= 0)
                return (int)next;
            value = s->scratch.data + at;
            value_len = s->scratch.len - at - 1;
            i = (size_t)next;
        }
        if (i >= end)
            return XLSX_SCAN_NEED_MORE;
        for (size_t k = 0; k < nattrs; k++)
            if (s->attrs[k].name_len == an_len && !memcmp(s->attrs[k].name, b + an, an_len))
                return xlsx_scan_malformed(s, an, "an attribute given twice");
        if (!grow_attrs(s, nattrs + 1))
            return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
        struct xlsx_attr *a = &s->attrs[nattrs++];
        a->name = b + an;
        a->name_len = an_len;
        xlsx_scan_split_name(a->name, an_len, &a->local, &a->local_len);
        a->value = value;
        a->value_len = value_len;
    }
    if (s->place == P_EPILOG)
        return xlsx_scan_malformed(s, s->pos, "a second root element");
    if (s->depth >= s->max_depth)
        return xlsx_scan_failf(s, SD_ELIMIT, "nests XML elements deeper than the limit of %u",
                               (unsigned)s->max_depth);
    if (!empty && !push_name(s, b + name, name_len))
        return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
    s->place = P_ROOT;
    s->decl_allowed = false;
    tok->kind = XLSX_TOKEN_START;
    tok->name = b + name;
    tok->name_len = name_len;
    xlsx_scan_split_name(tok->name, name_len, &tok->local, &tok->local_len);
    tok->attrs = s->attrs;
    tok->nattrs = nattrs;
    tok->depth = s->depth + 1;
    if (empty) {
        s->pending_end = true;
        s->pend_name = tok->name;
        s->pend_name_len = name_len;
    } else {
        s->depth++;
    }
    s->pos = i;
    return 1;
}

/* `</name>`: must close the innermost open element. */
static int end_tag(struct xlsx_scan *s, struct xlsx_token *tok)
{
    const char *b = s->buf;
    size_t end = xlsx_scan_token_end(s, s->pos);
    size_t i = s->pos + 2;
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    size_t name = i, name_len = 0;
    long gt = name_then(s, i, end, '>', &name_len, "an end tag without a name",
                        "a character that does not belong in an end tag");
    if (gt <= 0)
        return (int)gt;
    i = (size_t)gt;
    if (s->depth == 0)
        return xlsx_scan_malformed(s, s->pos, "an end tag outside the root element");
    size_t off = s->name_offs[s->depth - 1];
    if (s->names_len - off != name_len)
        return xlsx_scan_malformed(s, s->pos, "mismatched tag");
    for (size_t k = 0; k < name_len; k++)
        if (s->names[off + k] != b[name + k])
            return xlsx_scan_malformed(s, s->pos, "mismatched tag");
    tok->kind = XLSX_TOKEN_END;
    tok->name = b + name;
    tok->name_len = name_len;
    xlsx_scan_split_name(tok->name, name_len, &tok->local, &tok->local_len);
    tok->attrs = NULL;
    tok->nattrs = 0;
    tok->depth = s->depth;
    s->names_len = off;
    if (--s->depth == 0)
        s->place = P_EPILOG;
    s->pos = i + 1;
    return 1;
}

static bool ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != b[i])
            return false;
    return true;
}

/* The XML declaration, whole: version, then optional encoding and standalone. The only
 * encodings read are UTF-8 and its subset US-ASCII. */
static int xml_decl(struct xlsx_scan *s)
{
    const char *b = s->buf;
    size_t end = xlsx_scan_token_end(s, s->pos);
    const char *close = memmem(b + s->pos, end - s->pos, "?>", 2);
    if (!close)
        return XLSX_SCAN_NEED_MORE;
    size_t stop = (size_t)(close - b);
    size_t i = s->pos + 5;
    static const char *const names[3] = {"version", "encoding", "standalone"};
    int next = 0;
    for (;;) {
        size_t sp = i;
        i = xlsx_scan_skip_space(b, i, stop);
        if (i == stop)
            break;
        if (i == sp)
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        int k = next;
        while (k < 3 &&
               !(stop - i >= strlen(names[k]) && !memcmp(b + i, names[k], strlen(names[k]))))
            k++;
        if (k == 3 || (next == 0 && k != 0))
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        i = xlsx_scan_skip_space(b, i + strlen(names[k]), stop);
        if (i == stop || b[i] != '=')
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        i = xlsx_scan_skip_space(b, i + 1, stop);
        if (i == stop || (b[i] != '"' && b[i] != '\''))
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        const char *q = memchr(b + i + 1, b[i], stop - i - 1);
        if (!q)
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        const char *v = b + i + 1;
        size_t vlen = (size_t)(q - v);
        /* [A-Za-z0-9._-]; a version may even be empty (expat's rules) */
        bool ok = vlen > 0 || k == 0;
        for (size_t j = 0; ok && j < vlen; j++)
            ok = XLSX_BYTE_IS(v[j], XLSX_BYTE_NAME) && (unsigned char)v[j] < 0x80 && v[j] != ':';
        if (k == 1 && ok)
            ok = (v[0] | 0x20) >= 'a' && (v[0] | 0x20) <= 'z';
        if (k == 2)
            ok = (vlen == 3 && !memcmp(v, "yes", 3)) || (vlen == 2 && !memcmp(v, "no", 2));
        if (!ok)
            return xlsx_scan_malformed(s, i, "an XML declaration that is not well-formed");
        if (k == 1 && !((vlen == 5 && ascii_ieq(v, "utf-8", 5)) ||
                        (vlen == 8 && ascii_ieq(v, "us-ascii", 8))))
            return xlsx_scan_failf(s, SD_EINVALID,
                                   "declares the encoding \"%.*s\"; worksheets and shared "
                                   "strings are read only in UTF-8, so save the file again",
                                   (int)(vlen > 40 ? 40 : vlen), v);
        i = (size_t)(q - b) + 1;
        next = k + 1;
    }
    if (next == 0)
        return xlsx_scan_malformed(s, stop, "an XML declaration without a version");
    s->pos = stop + 2;
    s->decl_allowed = false;
    return XLSX_SCAN_AGAIN;
}

/* `<?target ...?>`: the declaration at the very start, else a PI to skip. */
static int processing_instruction(struct xlsx_scan *s)
{
    const char *b = s->buf;
    size_t end = xlsx_scan_token_end(s, s->pos);
    size_t i = s->pos + 2;
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    if (!XLSX_BYTE_IS(b[i], XLSX_BYTE_START))
        return xlsx_scan_malformed(s, i, "a processing instruction without a target");
    size_t t = i;
    i = xlsx_scan_skip_name(b, i, end);
    if (i >= end)
        return XLSX_SCAN_NEED_MORE;
    if (i - t == 3 && ascii_ieq(b + t, "xml", 3)) {
        if (memcmp(b + t, "xml", 3) != 0)
            return xlsx_scan_malformed(s, t, "a processing instruction named like \"xml\"");
        if (!s->decl_allowed)
            return xlsx_scan_malformed(s, s->pos, "an XML declaration not at the start");
        return xml_decl(s);
    }
    s->decl_allowed = false;
    if (b[i] == '?') {
        if (i + 1 >= end)
            return XLSX_SCAN_NEED_MORE;
        if (b[i + 1] != '>')
            return xlsx_scan_malformed(s, i, "a processing instruction that is not well-formed");
        s->pos = i + 2;
        return XLSX_SCAN_AGAIN;
    }
    if (!XLSX_BYTE_IS(b[i], XLSX_BYTE_SPACE))
        return xlsx_scan_malformed(s, i, "a processing instruction that is not well-formed");
    s->pos = i + 1;
    s->mode = M_PI;
    return XLSX_SCAN_AGAIN;
}

/* `<!--`, `<![CDATA[`, and the refused `<!DOCTYPE` and `<!ENTITY`. */
static int bang(struct xlsx_scan *s)
{
    const char *b = s->buf + s->pos;
    size_t avail = s->end - s->pos;
    if (avail < 4)
        return XLSX_SCAN_NEED_MORE;
    if (b[2] == '-') {
        if (b[3] != '-')
            return xlsx_scan_malformed(s, s->pos, "a '<!-' that does not start a comment");
        s->pos += 4;
        s->mode = M_COMMENT;
        s->decl_allowed = false;
        return XLSX_SCAN_AGAIN;
    }
    if (avail < 9)
        return XLSX_SCAN_NEED_MORE;
    if (!memcmp(b, "<![CDATA[", 9) && s->place == P_ROOT) {
        s->pos += 9;
        s->mode = M_CDATA;
        return XLSX_SCAN_AGAIN;
    }
    if (!memcmp(b, "<!DOCTYPE", 9))
        return xlsx_scan_failf(s, SD_EINVALID,
                               "contains a DOCTYPE declaration, which no workbook needs; it is "
                               "refused so that no entity is ever expanded");
    if (!memcmp(b, "<!ENTITY", 8))
        return xlsx_scan_failf(s, SD_EINVALID, "declares an XML entity, which no workbook needs");
    return xlsx_scan_malformed(s, s->pos, "a '<!' that starts nothing XML allows here");
}

int xlsx_scan_markup(struct xlsx_scan *s, struct xlsx_token *tok)
{
    if (s->pos + 1 >= s->end)
        return XLSX_SCAN_NEED_MORE;
    switch (s->buf[s->pos + 1]) {
    case '/':
        return end_tag(s, tok);
    case '!':
        return bang(s);
    case '?':
        return processing_instruction(s);
    default:
        return start_tag(s, tok);
    }
}
