/*
 * DESIGN
 * ------
 * What a CSV file is written in, and what separates its fields.
 *
 * Encoding: a BOM decides (UTF-8, UTF-16LE, UTF-16BE). Without one, the file is UTF-8 when
 * every byte of it is valid UTF-8, else Windows-1252, which is what Excel writes for "CSV"
 * on Western systems. Deciding needs the whole file, not a prefix: a file of plain ASCII
 * whose 10,000th row holds one "é" in Windows-1252 is common, and reading its prefix as
 * UTF-8 would turn that "é" into U+FFFD. So open reads the file once (csv_scan_file), a
 * fast pass in fixed memory that also counts lines for the progress hint and refuses NUL
 * bytes: no text format sheetd reads has them, and a file with them is binary whatever its
 * name says. Other control bytes are kept as text (a defined reading of junk).
 *
 * Decoding streams through iconv in 64 KiB pieces. A character cut by the end of a piece
 * waits for the next read; bytes the encoding does not define (0x81 in Windows-1252, a lone
 * surrogate in UTF-16) become U+FFFD, so a stray byte never costs the rest of the file.
 *
 * Delimiter: among , ; TAB |, the one that splits the first lines (outside quotes) into
 * the same number of fields most often; ties go to more fields, then to that order.
 */
#include <errno.h>
#include <string.h>

#include "sheet/csv_internal.h"

const char *csv_encoding_name(enum csv_encoding encoding)
{
    switch (encoding) {
    case CSV_ENC_UTF16LE:
        return "UTF-16LE";
    case CSV_ENC_UTF16BE:
        return "UTF-16BE";
    case CSV_ENC_CP1252:
        return "WINDOWS-1252";
    default:
        return "UTF-8";
    }
}

/* Incremental UTF-8 validation, one byte at a time (the pass must see sequences cut by
 * read boundaries). */
struct utf8_check {
    bool invalid;
    unsigned need;
    unsigned char lo, hi;
};

static void utf8_check_byte(struct utf8_check *u, unsigned char b)
{
    if (u->invalid)
        return;
    if (u->need == 0) {
        u->lo = 0x80;
        u->hi = 0xBF;
        if (b < 0x80)
            return;
        if (b >= 0xC2 && b <= 0xDF) {
            u->need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            u->need = 2;
            if (b == 0xE0)
                u->lo = 0xA0;
            else if (b == 0xED)
                u->hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            u->need = 3;
            if (b == 0xF0)
                u->lo = 0x90;
            else if (b == 0xF4)
                u->hi = 0x8F;
        } else {
            u->invalid = true;
        }
        return;
    }
    if (b < u->lo || b > u->hi) {
        u->invalid = true;
        return;
    }
    u->lo = 0x80;
    u->hi = 0xBF;
    u->need--;
}

static int refuse_nul(const char *name, uint64_t offset, struct sd_error *err)
{
    return sd_error_set(err, SD_EINVALID,
                        "%s is not a text file: it has a NUL byte at byte %llu; export the "
                        "sheet as CSV again or upload the spreadsheet itself",
                        name, (unsigned long long)offset);
}

/* One pass over the file; see the DESIGN note. Lines are counted as LF, or CR not followed
 * by LF, plus one for a last line without an end. */
int csv_scan_file(FILE *file, const char *name, struct csv_scan *out, struct sd_error *err)
{
    unsigned char chunk[CSV_READ_CHUNK];
    struct utf8_check utf8 = {0};
    uint64_t offset = 0, lines = 0;
    unsigned prev = '\n'; /* last character (or UTF-16 unit) seen */
    int half = -1;        /* UTF-16: a first byte waiting for its partner */
    bool first = true;
    rewind(file);
    out->encoding = CSV_ENC_UTF8;
    out->bom_len = 0;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, file);
        if (n == 0) {
            if (ferror(file))
                return sd_error_set(err, SD_ERROR, "%s cannot be read: %s", name, strerror(errno));
            break;
        }
        size_t i = 0;
        if (first) {
            first = false;
            if (n >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF)
                out->bom_len = 3;
            else if (n >= 2 && chunk[0] == 0xFF && chunk[1] == 0xFE)
                out->encoding = CSV_ENC_UTF16LE;
            else if (n >= 2 && chunk[0] == 0xFE && chunk[1] == 0xFF)
                out->encoding = CSV_ENC_UTF16BE;
            if (out->encoding != CSV_ENC_UTF8)
                out->bom_len = 2;
            i = out->bom_len;
        }
        bool utf16 = out->encoding != CSV_ENC_UTF8;
        for (; i < n; i++) {
            unsigned c = chunk[i];
            if (utf16) {
                if (half < 0) {
                    half = (int)c;
                    continue;
                }
                c = out->encoding == CSV_ENC_UTF16LE ? (unsigned)half | (c << 8)
                                                     : ((unsigned)half << 8) | c;
                half = -1;
                if (c == 0)
                    return refuse_nul(name, offset + i - 1, err);
            } else {
                if (c == 0)
                    return refuse_nul(name, offset + i, err);
                utf8_check_byte(&utf8, (unsigned char)c);
            }
            if (c == '\n' || (prev == '\r' && c != '\n'))
                lines++;
            prev = c;
        }
        offset += n;
    }
    if (prev != '\n')
        lines++; /* the last line has no end, or ends in a lone CR */
    if (out->encoding == CSV_ENC_UTF8 && (utf8.invalid || utf8.need))
        out->encoding = CSV_ENC_CP1252;
    out->lines = offset > out->bom_len ? lines : 0;
    return 0;
}

int csv_decoder_open(struct csv_decoder *d, FILE *file, const char *name,
                     const struct csv_scan *scan, struct sd_error *err)
{
    d->file = file;
    d->name = name;
    d->encoding = scan->encoding;
    d->bom_len = scan->bom_len;
    d->cd = (iconv_t)-1;
    d->in_len = 0;
    d->eof = false;
    if (fseek(file, (long)scan->bom_len, SEEK_SET) != 0)
        return sd_error_set(err, SD_ERROR, "%s cannot be read: %s", name, strerror(errno));
    if (d->encoding != CSV_ENC_UTF8) {
        d->cd = iconv_open("UTF-8", csv_encoding_name(d->encoding));
        if (d->cd == (iconv_t)-1)
            return sd_error_set(err, SD_ERROR,
                                "%s cannot be converted from %s: the iconv conversion modules "
                                "are missing on this system",
                                name, csv_encoding_name(d->encoding));
    }
    return 0;
}

void csv_decoder_close(struct csv_decoder *d)
{
    if (d->cd != (iconv_t)-1)
        iconv_close(d->cd);
    d->cd = (iconv_t)-1;
}

static int put_replacement(struct buf *out, struct sd_error *err)
{
    if (buf_append(out, "\xEF\xBF\xBD", 3) < 0)
        return sd_error_nomem(err);
    return 0;
}

int csv_decoder_read(struct csv_decoder *d, struct buf *out, struct sd_error *err)
{
    if (!d->eof) {
        size_t n = fread(d->in + d->in_len, 1, sizeof d->in - d->in_len, d->file);
        if (n == 0) {
            if (ferror(d->file))
                return sd_error_set(err, SD_ERROR, "%s cannot be read: %s", d->name,
                                    strerror(errno));
            d->eof = true;
        }
        d->in_len += n;
    }
    if (d->in_len == 0)
        return 0;
    if (d->cd == (iconv_t)-1) {
        if (buf_append(out, d->in, d->in_len) < 0)
            return sd_error_nomem(err);
        d->in_len = 0;
        return 1;
    }
    char *ip = (char *)d->in;
    size_t ileft = d->in_len;
    size_t unit = d->encoding == CSV_ENC_CP1252 ? 1 : 2;
    while (ileft > 0) {
        if (buf_grow(out, 2 * ileft + 8) < 0)
            return sd_error_nomem(err);
        char *op = out->data + out->len;
        size_t oleft = out->cap - out->len - 1;
        size_t before = oleft;
        size_t r = iconv(d->cd, &ip, &ileft, &op, &oleft);
        out->len += before - oleft;
        out->data[out->len] = '\0';
        if (r != (size_t)-1 || errno == E2BIG)
            continue;
        if (errno == EINVAL && !d->eof)
            break; /* a character cut by the read: the rest comes with the next one */
        int rc = put_replacement(out, err);
        if (rc < 0)
            return rc;
        size_t skip = ileft < unit ? ileft : unit;
        ip += skip;
        ileft -= skip;
        iconv(d->cd, NULL, NULL, NULL, NULL);
    }
    memmove(d->in, ip, ileft);
    d->in_len = ileft;
    return 1;
}

/* Per candidate: how many of the sample's lines it splits into the same number of pieces
 * (the most common count), and that count. */
char csv_sniff_delimiter(const char *text, size_t len, bool complete)
{
    enum { MAX_LINES = 64, NCAND = 4 };
    static const char cands[NCAND] = {',', ';', '\t', '|'};
    unsigned counts[NCAND][MAX_LINES];
    size_t nlines = 0;
    unsigned cur[NCAND] = {0};
    bool quoted = false, any = false;
    for (size_t i = 0; i < len && nlines < MAX_LINES; i++) {
        char c = text[i];
        if (c == '"') {
            quoted = !quoted;
            any = true;
        } else if (!quoted && (c == '\n' || c == '\r')) {
            if (any) {
                for (int k = 0; k < NCAND; k++)
                    counts[k][nlines] = cur[k];
                nlines++;
            }
            memset(cur, 0, sizeof cur);
            any = false;
        } else {
            any = true;
            for (int k = 0; k < NCAND; k++)
                if (!quoted && c == cands[k])
                    cur[k]++;
        }
    }
    /* The sample's last line counts only when it is the end of the file. */
    if (any && complete && nlines < MAX_LINES) {
        for (int k = 0; k < NCAND; k++)
            counts[k][nlines] = cur[k];
        nlines++;
    }
    char best = ',';
    size_t best_agree = 0;
    unsigned best_count = 0;
    for (int k = 0; k < NCAND; k++) {
        unsigned mode = 0;
        size_t mode_n = 0;
        for (size_t a = 0; a < nlines; a++) {
            if (counts[k][a] == 0)
                continue;
            size_t n = 0;
            for (size_t b = 0; b < nlines; b++)
                n += counts[k][b] == counts[k][a];
            if (n > mode_n || (n == mode_n && counts[k][a] > mode)) {
                mode = counts[k][a];
                mode_n = n;
            }
        }
        if (mode_n > best_agree || (mode_n == best_agree && mode_n > 0 && mode > best_count)) {
            best = cands[k];
            best_agree = mode_n;
            best_count = mode;
        }
    }
    return best;
}
