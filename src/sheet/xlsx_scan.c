/*
 * DESIGN
 * ------
 * Why not expat: a 100k-row worksheet is forty megabytes of `<c r="B7" t="s"><v>12</v></c>`,
 * and expat in namespace mode spends more time on it (name interning, attribute arrays,
 * a callback per token) than inflating it does. The parts this scanner reads use a small,
 * regular subset of XML, so one hand-written loop over the inflated bytes does the job.
 *
 * Buffer. One allocation of `chunk + max_token` bytes holds [pos, end) of unread input.
 * A token is scanned in place; when it runs past `end` the scan reports "need more", the
 * unread tail (the partial token, at most max_token bytes, else SD_ELIMIT) is moved to the
 * front, the next chunk is read behind it, and the token is scanned again from its start.
 * No scan ever looks more than max_token bytes past a token's start (xlsx_scan_token_end),
 * so whether a token is fine, malformed or too long never depends on where the chunks
 * happened to end: the same input gives the same tokens and the same sentence either way
 * (the fuzz target checks this too).
 * Text is the exception: it is handed out in pieces (only a partial entity reference, a
 * trailing CR or "]" is held back), so a long text never needs the carry. The input is
 * never modified: decoded text and attribute values go to a scratch buffer, which is what
 * keeps the line counting for error sentences exact (newlines are counted, with memchr,
 * only over bytes about to be dropped from the buffer and up to an error).
 *
 * States: the document prolog (XML declaration, comments, PIs, white space; a DOCTYPE is
 * refused), the root element's content, the epilog (after the root: the same as the
 * prolog, less the declaration), and three skipping modes that survive refills: inside a
 * comment, a processing instruction or a CDATA section. Element names are kept on a stack
 * (one arena plus offsets) to check that each end tag matches its start tag.
 *
 * Well-formedness is checked as expat checks it, within what these parts can contain:
 * name characters (ASCII ones by class, any non-ASCII byte accepted), quotes, duplicate
 * attributes, `<` in attribute values, references (the five predefined entities, character
 * references to XML characters), control characters, "]]>" in text, "--" in comments, one
 * root element, nothing but white space around it. Not checked: namespace bindings (names
 * are matched by their local part) and UTF-8 validity (the row builder replaces bad bytes);
 * both only ever make a file readable that expat refused. tests/fuzz/fuzz_xlsx_scan.c
 * compares the tokens with expat's.
 */
#include "sheet/xlsx_scan_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"

/* ---- errors ---- */

void xlsx_scan_fail(struct xlsx_scan *s, const struct sd_error *why)
{
    if (s->state < 0)
        return;
    s->error = *why;
    if (s->error.code >= 0)
        s->error.code = SD_ERROR;
    s->state = s->error.code;
}

/* ---- input ---- */

static ssize_t entry_read(void *ctx, void *data, size_t len, struct sd_error *err)
{
    return zip_guard_entry_read(ctx, data, len, err);
}

/* Keeps the unread tail [pos, end), a token that did not fit (at most max_token bytes:
 * checked by the caller), and reads the next chunk behind it. */
static int refill(struct xlsx_scan *s)
{
    size_t keep = s->end - s->pos;
    xlsx_scan_count_lines(s, s->pos);
    if (s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, keep);
        s->base += s->pos;
        s->pos = 0;
        s->end = keep;
    }
    ssize_t n = s->src.read(s->src.ctx, s->buf + s->end, s->chunk, &s->error);
    if (n < 0) {
        if (s->error.code >= 0)
            s->error.code = (int)n;
        s->state = (int)n;
        return (int)n;
    }
    if (n == 0)
        s->eof = true;
    s->end += (size_t)n;
    return 0;
}

/* ---- text ---- */

/* Text at buf[pos] up to the next '<' (or the end of the buffer). A plain run is handed out
 * in place; one with references or CRs is decoded into scratch. Returns 1 with a token,
 * XLSX_SCAN_NEED_MORE when nothing could be handed out yet, XLSX_SCAN_AGAIN after white space
 * outside the root element, or an error. */
static int scan_text(struct xlsx_scan *s, struct xlsx_token *tok)
{
    const char *b = s->buf;
    size_t i = s->pos, end = s->end;
    while (i < end && !XLSX_BYTE_IS(b[i], XLSX_BYTE_TEXT))
        i++;
    if (s->place != P_ROOT) {
        s->decl_allowed = false;
        for (size_t k = s->pos; k < i; k++)
            if (!XLSX_BYTE_IS(b[k], XLSX_BYTE_SPACE))
                return xlsx_scan_malformed(s, k,
                                           s->place == P_PROLOG ? "text before the root element"
                                                                : "text after the root element");
        if (i < end && b[i] == '\r') {
            s->pos = i + 1;
            return XLSX_SCAN_AGAIN;
        }
        if (i < end && b[i] != '<') {
            if (XLSX_BYTE_IS(b[i], XLSX_BYTE_CTRL))
                return xlsx_scan_malformed(s, i, "a control character XML does not allow");
            return xlsx_scan_malformed(s, i,
                                       s->place == P_PROLOG ? "text before the root element"
                                                            : "text after the root element");
        }
        s->pos = i;
        return XLSX_SCAN_AGAIN;
    }
    if (i == end || b[i] == '<') {
        if (i == s->pos)
            return XLSX_SCAN_NEED_MORE;
        tok->kind = XLSX_TOKEN_TEXT;
        tok->text = b + s->pos;
        tok->text_len = i - s->pos;
        s->pos = i;
        return 1;
    }
    /* The slow path: decode into scratch until '<' or the end of what is safe to hand out. */
    buf_clear(&s->scratch);
    if (buf_append(&s->scratch, b + s->pos, i - s->pos) < 0)
        return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
    size_t run = i;
    while (i < end && b[i] != '<') {
        char c = b[i];
        if (!XLSX_BYTE_IS(c, XLSX_BYTE_TEXT)) {
            i++;
            continue;
        }
        if (buf_append(&s->scratch, b + run, i - run) < 0)
            return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
        run = i;
        if (c == '&') {
            char enc[4];
            size_t n = 0, used = 0;
            int rc = xlsx_scan_decode_ref(s, i, xlsx_scan_token_end(s, i), enc, &n, &used);
            if (rc < 0)
                return rc;
            if (rc == XLSX_SCAN_NEED_MORE)
                break;
            if (buf_append(&s->scratch, enc, n) < 0)
                return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
            i += used;
        } else if (c == '\r') {
            if (i + 1 == end && !s->eof)
                break; /* is it CR LF? */
            if (buf_putc(&s->scratch, '\n') < 0)
                return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
            i += i + 1 < end && b[i + 1] == '\n' ? 2 : 1;
        } else if (c == ']') {
            if (i + 2 >= end && !s->eof)
                break;
            if (i + 2 < end && b[i + 1] == ']' && b[i + 2] == '>')
                return xlsx_scan_malformed(s, i, "\"]]>\" in text");
            if (buf_putc(&s->scratch, ']') < 0)
                return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
            i++;
        } else {
            return xlsx_scan_malformed(s, i, "a control character XML does not allow");
        }
        run = i;
    }
    if (run < i && buf_append(&s->scratch, b + run, i - run) < 0)
        return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
    s->pos = i;
    if (s->scratch.len == 0)
        return XLSX_SCAN_NEED_MORE;
    tok->kind = XLSX_TOKEN_TEXT;
    tok->text = s->scratch.data;
    tok->text_len = s->scratch.len;
    return 1;
}

/* CDATA content: text as written, CRs normalized, until "]]>". */
static int scan_cdata(struct xlsx_scan *s, struct xlsx_token *tok)
{
    const char *b = s->buf;
    size_t i = s->pos, end = s->end;
    buf_clear(&s->scratch);
    size_t run = i;
    bool closed = false;
    while (i < end) {
        char c = b[i];
        if (c == ']') {
            if (i + 2 >= end) {
                if (s->eof)
                    return xlsx_scan_malformed(s, end, "a CDATA section that is never closed");
                break;
            }
            if (b[i + 1] == ']' && b[i + 2] == '>') {
                closed = true;
                break;
            }
        } else if (c == '\r') {
            if (i + 1 == end && !s->eof)
                break;
            if (buf_append(&s->scratch, b + run, i - run) < 0 || buf_putc(&s->scratch, '\n') < 0)
                return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
            i += i + 1 < end && b[i + 1] == '\n' ? 2 : 1;
            run = i;
            continue;
        } else if (XLSX_BYTE_IS(c, XLSX_BYTE_CTRL)) {
            return xlsx_scan_malformed(s, i, "a control character XML does not allow");
        }
        i++;
    }
    if (buf_append(&s->scratch, b + run, i - run) < 0)
        return xlsx_scan_failf(s, SD_ENOMEM, "cannot be read: out of memory");
    s->pos = closed ? i + 3 : i;
    if (closed)
        s->mode = M_MARKUP;
    if (s->scratch.len == 0)
        return closed ? XLSX_SCAN_AGAIN : XLSX_SCAN_NEED_MORE;
    tok->kind = XLSX_TOKEN_TEXT;
    tok->text = s->scratch.data;
    tok->text_len = s->scratch.len;
    return 1;
}

/* Skips comment or PI content until "-->" or "?>". */
static int skip_section(struct xlsx_scan *s)
{
    const char *b = s->buf;
    size_t i = s->pos, end = s->end;
    char mark = s->mode == M_COMMENT ? '-' : '?';
    while (i < end) {
        char c = b[i];
        if (XLSX_BYTE_IS(c, XLSX_BYTE_CTRL))
            return xlsx_scan_malformed(s, i, "a control character XML does not allow");
        if (c != mark) {
            i++;
            continue;
        }
        if (mark == '?') {
            if (i + 1 >= end)
                break;
            if (b[i + 1] == '>') {
                s->pos = i + 2;
                s->mode = M_MARKUP;
                return XLSX_SCAN_AGAIN;
            }
            i++;
            continue;
        }
        if (i + 1 >= end)
            break;
        if (b[i + 1] != '-') {
            i++;
            continue;
        }
        if (i + 2 >= end)
            break;
        if (b[i + 2] != '>')
            return xlsx_scan_malformed(s, i, "\"--\" inside a comment");
        s->pos = i + 3;
        s->mode = M_MARKUP;
        return XLSX_SCAN_AGAIN;
    }
    s->pos = i;
    if (s->eof)
        return xlsx_scan_malformed(s, i,
                                   mark == '-' ? "a comment that is never closed"
                                               : "a processing instruction that is never closed");
    return XLSX_SCAN_NEED_MORE;
}

/* ---- the token loop ---- */

/* The end of the input: fine only after a complete root element. */
static int finish(struct xlsx_scan *s)
{
    if (s->pos < s->end)
        return xlsx_scan_malformed(s, s->pos, "a token that is never closed");
    if (s->mode == M_COMMENT)
        return xlsx_scan_malformed(s, s->end, "a comment that is never closed");
    if (s->mode == M_PI)
        return xlsx_scan_malformed(s, s->end, "a processing instruction that is never closed");
    if (s->mode == M_CDATA)
        return xlsx_scan_malformed(s, s->end, "a CDATA section that is never closed");
    if (s->place == P_PROLOG)
        return xlsx_scan_malformed(s, s->end, "no element found");
    if (s->depth > 0)
        return xlsx_scan_malformed(s, s->end, "the document ends inside an element");
    s->state = 1;
    return 0;
}

/* A UTF-8 byte order mark is skipped; UTF-16 is refused rather than misread. */
static int check_bom(struct xlsx_scan *s)
{
    const unsigned char *b = (const unsigned char *)s->buf + s->pos;
    size_t avail = s->end - s->pos;
    if (avail >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
        return xlsx_scan_failf(s, SD_EINVALID,
                               "is written in UTF-16; worksheets and shared strings are read "
                               "only in UTF-8, so save the file again");
    if (avail >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
        s->pos += 3;
    s->bom_checked = true;
    return 0;
}

int xlsx_scan_next(struct xlsx_scan *s, struct xlsx_token *tok, struct sd_error *err)
{
    int rc = 0;
    if (s->state != 0)
        goto out;
    if (s->pending_end) {
        s->pending_end = false;
        tok->kind = XLSX_TOKEN_END;
        tok->name = s->pend_name;
        tok->name_len = s->pend_name_len;
        xlsx_scan_split_name(tok->name, tok->name_len, &tok->local, &tok->local_len);
        tok->attrs = NULL;
        tok->nattrs = 0;
        tok->depth = s->depth + 1;
        if (s->depth == 0)
            s->place = P_EPILOG;
        return 1;
    }
    for (;;) {
        if (!s->bom_checked && (s->end - s->pos >= 3 || s->eof)) {
            if (check_bom(s) < 0)
                goto out;
        }
        if (s->bom_checked && s->pos < s->end) {
            switch (s->mode) {
            case M_MARKUP:
                rc = s->buf[s->pos] == '<' ? xlsx_scan_markup(s, tok) : scan_text(s, tok);
                break;
            case M_CDATA:
                rc = scan_cdata(s, tok);
                break;
            default:
                rc = skip_section(s);
                break;
            }
            if (rc == 1)
                return 1;
            if (rc < 0)
                goto out;
            if (rc == XLSX_SCAN_AGAIN)
                continue;
        }
        /* A token cut short by the end of the buffer: the same limit whether the input
         * came in one chunk or many. */
        if (s->end - s->pos > s->max_token) {
            xlsx_scan_token_limit(s);
            goto out;
        }
        if (s->eof) {
            finish(s);
            goto out;
        }
        if (refill(s) < 0)
            goto out;
    }
out:
    if (s->state < 0) {
        if (err)
            *err = s->error;
        return s->state;
    }
    return 0;
}

int xlsx_scan_open(struct xlsx_scan **out, const struct xlsx_scan_source *src,
                   const struct xlsx_scan_options *opts, struct sd_error *err)
{
    *out = NULL;
    struct xlsx_scan *s = calloc(1, sizeof *s);
    if (!s)
        return sd_error_nomem(err);
    s->src = *src;
    s->chunk = opts->chunk ? opts->chunk : 64 * 1024;
    /* The longest fixed form ("<![CDATA[") must fit whatever the configuration says. */
    s->max_token = opts->max_token < 64 ? 64 : opts->max_token;
    if (s->max_token > SIZE_MAX / 2 || s->chunk > SIZE_MAX / 2) {
        free(s);
        return sd_error_set(err, SD_EUSAGE, "the XML token limit is too large");
    }
    s->cap = s->chunk + s->max_token;
    s->buf = malloc(s->cap);
    if (!s->buf) {
        free(s);
        return sd_error_nomem(err);
    }
    s->max_depth = opts->max_depth;
    s->display_name = opts->display_name ? opts->display_name : "";
    s->part_name = opts->part_name ? opts->part_name : "";
    s->mode = M_MARKUP;
    s->place = P_PROLOG;
    s->decl_allowed = true;
    s->line = 1;
    *out = s;
    return 0;
}

int xlsx_scan_open_entry(struct xlsx_scan **out, struct zip_guard *zg, uint64_t index,
                         struct sd_error *err)
{
    *out = NULL;
    struct zip_guard_entry *e;
    int rc = zip_guard_entry_open(&e, zg, index, err);
    if (rc < 0)
        return rc;
    const struct sheet_limits *limits = zip_guard_limits(zg);
    struct xlsx_scan_options opts = XLSX_SCAN_OPTIONS_INIT;
    opts.display_name = zip_guard_display_name(zg);
    opts.part_name = zip_guard_entry_path(e);
    opts.max_depth = limits->max_xml_depth;
    size_t cell = (size_t)limits->max_cell_chars * 8 + 8;
    if (cell > opts.max_token)
        opts.max_token = cell;
    struct xlsx_scan_source src = {.read = entry_read, .ctx = e};
    rc = xlsx_scan_open(out, &src, &opts, err);
    if (rc < 0) {
        zip_guard_entry_close(e);
        return rc;
    }
    (*out)->entry = e;
    return 0;
}

void xlsx_scan_close(struct xlsx_scan *s)
{
    if (!s)
        return;
    zip_guard_entry_close(s->entry);
    free(s->buf);
    free(s->name_offs);
    free(s->attrs);
    free(s->names);
    buf_free(&s->scratch);
    free(s);
}

/* ---- tokens ---- */

const char *xlsx_token_attr(const struct xlsx_token *tok, const char *local, size_t *len)
{
    size_t n = strlen(local);
    for (size_t i = 0; i < tok->nattrs; i++) {
        const struct xlsx_attr *a = &tok->attrs[i];
        if (a->local_len != n || memcmp(a->local, local, n) != 0)
            continue;
        /* Namespace declarations are not attributes ("xmlns:r" is not an "r"). */
        if (a->name_len >= 5 && !memcmp(a->name, "xmlns", 5) &&
            (a->name_len == 5 || a->name[5] == ':'))
            continue;
        *len = a->value_len;
        return a->value;
    }
    return NULL;
}

signed char xlsx_token_space(const struct xlsx_token *tok)
{
    for (size_t i = 0; i < tok->nattrs; i++) {
        const struct xlsx_attr *a = &tok->attrs[i];
        if (a->name_len == 9 && !memcmp(a->name, "xml:space", 9))
            return a->value_len == 8 && !memcmp(a->value, "preserve", 8) ? 1 : 0;
    }
    return -1;
}
