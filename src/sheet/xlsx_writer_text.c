/*
 * Text rules of the XLSX writer: what a cell's text may hold (xlsx_writer_sanitize) and what
 * a sheet may be called (Excel's naming rules, and turning any text into a valid name).
 */
#include <string.h>

#include "base/str.h"
#include "sheet/xlsx_writer_internal.h"

/* Length of the well-formed UTF-8 sequence at s (at most avail bytes), with its code point in
 * *cp; 0 when the bytes there are not one. */
static size_t utf8_decode(const unsigned char *s, size_t avail, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* True when s[0..avail) starts with an OOXML escape `_xHHHH_`. */
static bool starts_escape(const char *s, size_t avail)
{
    return avail >= 7 && s[0] == '_' && (s[1] == 'x' || s[1] == 'X') && is_hex(s[2]) &&
           is_hex(s[3]) && is_hex(s[4]) && is_hex(s[5]) && s[6] == '_';
}

int xlsx_writer_sanitize(struct buf *out, const char *text, size_t len, size_t max_chars,
                         bool escape_x)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t chars = 0;
    size_t i = 0;
    while (i < len) {
        /* The common case, a run of ASCII without '_' or NUL, needs no decoding or escaping:
         * copy it in one piece (exports write millions of such cells). */
        size_t run = i;
        while (run < len && (unsigned char)text[run] < 0x80 && text[run] != '_' && text[run])
            run++;
        if (run > i) {
            size_t n = run - i;
            bool cut = chars + n > max_chars;
            if (cut)
                n = max_chars - chars;
            if (buf_append(out, text + i, n) < 0)
                return SD_ENOMEM;
            if (cut)
                return 1;
            chars += n;
            i = run;
            continue;
        }
        const char *piece = text + i;
        size_t piece_len, piece_chars = 1, advance;
        unsigned long cp;
        if (escape_x && starts_escape(text + i, len - i)) {
            /* `_` becomes `_x005F_`; the rest of the sequence follows as ordinary text. */
            piece = "_x005F_";
            piece_len = 7;
            piece_chars = 7;
            advance = 1;
        } else if ((advance = utf8_decode((const unsigned char *)text + i, len - i, &cp)) == 0 ||
                   cp == 0 || cp == 0xFFFE || cp == 0xFFFF) {
            piece = replacement;
            piece_len = 3;
            advance = advance ? advance : 1;
        } else {
            piece_len = advance;
        }
        if (chars + piece_chars > max_chars)
            return 1;
        if (buf_append(out, piece, piece_len) < 0)
            return SD_ENOMEM;
        chars += piece_chars;
        i += advance;
    }
    return 0;
}

void xlsx_writer_sheet_name(const char *text, char out[XLSX_WRITER_SHEET_NAME_SIZE])
{
    size_t o = 0, chars = 0, len = strlen(text);
    size_t i = 0;
    while (i < len && text[i] == '\'')
        i++;
    while (len > i && text[len - 1] == '\'')
        len--;
    while (i < len && chars < 31) {
        unsigned long cp;
        size_t n = utf8_decode((const unsigned char *)text + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || strchr("[]:*?/\\", (int)cp)) {
            out[o++] = '_';
            i += n ? n : 1;
        } else {
            memcpy(out + o, text + i, n);
            o += n;
            i += n;
        }
        chars++;
    }
    while (o > 0 && out[o - 1] == '\'')
        o--; /* the cut may have exposed an apostrophe */
    if (o == 0) {
        memcpy(out, "Sheet", 6);
        return;
    }
    out[o] = '\0';
}

/* Excel's sheet name rules, each broken rule its own sentence. */
int xlsx_writer_check_sheet_name(struct xlsx_writer *w, const char *name, struct sd_error *err)
{
    size_t len = strlen(name);
    if (len == 0)
        return sd_error_set(err, SD_EINVALID, "A sheet name cannot be empty");
    if (!str_utf8_valid(name, len))
        return sd_error_set(err, SD_EINVALID, "The sheet name is not valid UTF-8 text");
    if (str_utf8_length(name, len) > 31)
        return sd_error_set(err, SD_EINVALID,
                            "The sheet name \"%s\" is longer than Excel's 31 characters", name);
    if (strpbrk(name, "[]:*?/\\"))
        return sd_error_set(err, SD_EINVALID,
                            "The sheet name \"%s\" holds one of the characters []:*?/\\ that "
                            "Excel forbids",
                            name);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20)
            return sd_error_set(err, SD_EINVALID, "The sheet name holds a control character");
    if (name[0] == '\'' || name[len - 1] == '\'')
        return sd_error_set(err, SD_EINVALID,
                            "The sheet name \"%s\" starts or ends with an apostrophe, which "
                            "Excel forbids",
                            name);
    if (str_ieq(name, "History") || str_ieq(name, XLSX_WRITER_LISTS_SHEET))
        return sd_error_set(err, SD_EINVALID, "The sheet name \"%s\" is reserved", name);
    for (size_t i = 0; i < w->nsheets; i++)
        if (str_ieq(w->sheet_names[i], name))
            return sd_error_set(err, SD_EINVALID, "The workbook already has a sheet named \"%s\"",
                                name);
    return 0;
}
