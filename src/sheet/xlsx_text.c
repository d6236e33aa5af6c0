/*
 * Text rules of SpreadsheetML that every kind of string in a workbook follows.
 *
 * Whitespace: Excel trims leading and trailing XML white space from a <t> element unless
 * xml:space="preserve" applies to it (on the <t> itself or an enclosing element), and it does
 * so after character references are decoded — "&#x9;x" loses its tab too. Trimming happens
 * per <t> piece, before _xHHHH_ escapes are decoded, so an escaped "_x000D_" at the end
 * survives (it is how Excel stores a CR that must not be trimmed).
 *
 * Numbers: strtod accepts "inf", "nan", hex floats and locale-specific forms; a cell value
 * is none of those, so the grammar is checked first and only well-formed decimals reach
 * strtod. Short integers, the common case, are converted without it.
 */
#include "sheet/xlsx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

/* The code unit of an escape at s[0..len) ("_x000D_"), or -1. */
static long escape_at(const char *s, size_t len)
{
    if (len < 7 || s[0] != '_' || (s[1] != 'x' && s[1] != 'X') || s[6] != '_')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = str_hex_value(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

size_t xlsx_unescape(char *s, size_t len)
{
    char *p = memchr(s, '_', len);
    if (!p)
        return len;
    size_t r = (size_t)(p - s);
    size_t w = r;
    while (r < len) {
        long u = s[r] == '_' ? escape_at(s + r, len - r) : -1;
        if (u < 0) {
            s[w++] = s[r++];
            continue;
        }
        r += 7;
        unsigned long cp = (unsigned long)u;
        if (u >= 0xD800 && u <= 0xDBFF) {
            long lo = escape_at(s + r, len - r);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + (((unsigned long)u - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                r += 7;
            } else {
                cp = 0xFFFD;
            }
        } else if ((u >= 0xDC00 && u <= 0xDFFF) || u == 0) {
            cp = 0xFFFD;
        }
        char enc[4];
        size_t n = str_utf8_encode(cp, enc);
        memcpy(s + w, enc, n); /* n <= 4 < 7 bytes consumed: never overtakes r */
        w += n;
    }
    s[w] = '\0';
    return w;
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void xlsx_trim_xml_space(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && is_xml_space(*p)) {
        p++;
        n--;
    }
    while (n && is_xml_space(p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

bool xlsx_parse_number(const char *s, size_t len, double *out)
{
    xlsx_trim_xml_space(&s, &len);
    if (len == 0 || len > 400)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    size_t int_start = i;
    uint64_t iv = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (i - int_start < 18)
            iv = iv * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    size_t int_digits = i - int_start;
    if (i == len && int_digits > 0 && int_digits < 16) {
        *out = neg ? -(double)iv : (double)iv;
        return true;
    }
    size_t frac_digits = 0;
    uint64_t mant = iv;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (int_digits + frac_digits < 18)
                mant = mant * 10 + (uint64_t)(s[i] - '0');
            i++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (i == len && int_digits + frac_digits <= 15) {
        /* Exact mantissa over an exact power of ten: one correctly rounded division gives
         * what strtod would (Clinger's fast path). */
        static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        double v = (double)mant / pow10[frac_digits];
        *out = neg ? -v : v;
        return true;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == exp_start)
            return false;
    }
    if (i != len)
        return false;
    char tmp[401];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

bool xlsx_parse_u32(const char *s, size_t len, uint32_t *out)
{
    xlsx_trim_xml_space(&s, &len);
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool xlsx_parse_ref(const char *s, size_t len, uint32_t *column, uint32_t *row)
{
    uint64_t col = 0;
    size_t i = 0;
    while (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) {
        int v = (s[i] | 0x20) - 'a' + 1;
        if (col < 0x100000000ULL)
            col = col * 26 + (uint64_t)v;
        i++;
    }
    if (i == 0)
        return false;
    uint64_t r = 0;
    size_t dstart = i;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (r < 0x100000000ULL)
            r = r * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (i != len)
        return false;
    *column = col - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(col - 1);
    *row = i == dstart ? 0 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
    return true;
}

void xlsx_rich_text_reset(struct xlsx_rich_text *rt, size_t max_bytes)
{
    buf_clear(&rt->out);
    rt->piece = 0;
    rt->max_bytes = max_bytes;
    rt->depth_rph = 0;
    rt->in_t = false;
    rt->too_long = false;
    rt->space_outer = -1;
    rt->space_run = -1;
    rt->space_t = -1;
}

void xlsx_rich_text_free(struct xlsx_rich_text *rt)
{
    buf_free(&rt->out);
}

void xlsx_rich_text_start(struct xlsx_rich_text *rt, const struct xlsx_token *tok)
{
    if (xlsx_token_is(tok, "rPh")) {
        rt->depth_rph++;
    } else if (xlsx_token_is(tok, "t")) {
        if (rt->depth_rph)
            return;
        rt->in_t = true;
        rt->piece = rt->out.len;
        rt->space_t = xlsx_token_space(tok);
    } else if (xlsx_token_is(tok, "r")) {
        rt->space_run = xlsx_token_space(tok);
    } else if (xlsx_token_is(tok, "si") || xlsx_token_is(tok, "is")) {
        rt->space_outer = xlsx_token_space(tok);
    }
}

bool xlsx_rich_text_end(struct xlsx_rich_text *rt, const struct xlsx_token *tok)
{
    if (xlsx_token_is(tok, "rPh")) {
        if (rt->depth_rph)
            rt->depth_rph--;
        return true;
    }
    if (xlsx_token_is(tok, "r")) {
        rt->space_run = -1;
        return true;
    }
    if (!xlsx_token_is(tok, "t") || !rt->in_t)
        return true;
    rt->in_t = false;
    signed char space = rt->space_t >= 0     ? rt->space_t
                        : rt->space_run >= 0 ? rt->space_run
                                             : rt->space_outer;
    char *piece = rt->out.data ? rt->out.data + rt->piece : NULL;
    size_t len = rt->out.len - rt->piece;
    if (!piece || len == 0)
        return true;
    if (space != 1) {
        const char *p = piece;
        size_t n = len;
        xlsx_trim_xml_space(&p, &n);
        memmove(piece, p, n);
        len = n;
    }
    len = xlsx_unescape(piece, len);
    buf_truncate(&rt->out, rt->piece + len);
    return true;
}

bool xlsx_rich_text_chars(struct xlsx_rich_text *rt, const char *s, size_t len)
{
    if (!rt->in_t || rt->depth_rph || len == 0)
        return true;
    size_t n = len;
    if (rt->out.len + n > rt->max_bytes) {
        /* Keep what fits, so that the text still reads as too long wherever it ends up. */
        rt->too_long = true;
        n = rt->out.len < rt->max_bytes ? rt->max_bytes - rt->out.len : 0;
    }
    return buf_append(&rt->out, s, n) == 0;
}
