/*
 * The text forms of cell values (DESIGN.md, `sheetd read --format cells`). These run once per
 * cell when a whole sheet is dumped, so integers and dates are written by hand rather than
 * through printf; only non-integral numbers go through snprintf, where the shortest
 * round-tripping precision has to be searched for anyway.
 */
#include "sheet/cell_format.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "sheet/numfmt.h"

char cell_format_type_letter(enum sheet_cell_type type)
{
    switch (type) {
    case SHEET_CELL_STRING:
        return 's';
    case SHEET_CELL_NUMBER:
        return 'n';
    case SHEET_CELL_BOOL:
        return 'b';
    case SHEET_CELL_DATE:
    case SHEET_CELL_TIME:
        return 'd';
    case SHEET_CELL_ERROR:
        return 'e';
    }
    return '?';
}

void cell_format_column_name(uint32_t column, char out[8])
{
    char tmp[8];
    size_t n = 0;
    uint64_t c = (uint64_t)column + 1;
    while (c > 0 && n < 7) {
        c--;
        tmp[n++] = (char)('A' + c % 26);
        c /= 26;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Writes an unsigned decimal into out and returns the length. */
static size_t put_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t cell_format_ref(uint32_t column, uint32_t row, char out[16])
{
    size_t n = 0;
    if (column < 26) { /* the common case, once per cell of a dump */
        out[n++] = (char)('A' + column);
    } else {
        cell_format_column_name(column, out);
        n = strlen(out);
    }
    n += put_u64(out + n, row);
    out[n] = '\0';
    return n;
}

/* The common case of a decimal with a few fraction digits (1234.56), without snprintf and
 * strtod. If r / 10^k == value for an integer r, the decimal r·10^-k reads back as value
 * (both are the correctly rounded double of the same rational), and with at most 15
 * significant digits it is also what %.15g prints, since value lies within half an ulp of
 * it and far from any 15-digit rounding boundary. The smallest such k has no trailing
 * zero. Outside [1e-4, 1e9) %g may switch to exponent notation, so the general path
 * handles those. */
static size_t format_short_decimal(double value, char out[32])
{
    static const double pow10[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
    double mag = fabs(value);
    if (!(mag >= 1e-4 && mag < 1e9))
        return 0;
    for (int k = 1; k <= 6; k++) {
        double r = nearbyint(mag * pow10[k]);
        if (r / pow10[k] != mag)
            continue;
        uint64_t digits = (uint64_t)r;
        char tmp[24];
        size_t n = put_u64(tmp, digits);
        size_t w = 0;
        if (value < 0)
            out[w++] = '-';
        if (n <= (size_t)k) {
            out[w++] = '0';
            out[w++] = '.';
            for (size_t z = n; z < (size_t)k; z++)
                out[w++] = '0';
            memcpy(out + w, tmp, n);
            w += n;
        } else {
            memcpy(out + w, tmp, n - (size_t)k);
            w += n - (size_t)k;
            out[w++] = '.';
            memcpy(out + w, tmp + n - (size_t)k, (size_t)k);
            w += (size_t)k;
        }
        out[w] = '\0';
        return w;
    }
    return 0;
}

size_t cell_format_number(double value, char out[32])
{
    if (isfinite(value) && value == trunc(value) && fabs(value) < 1e15) {
        size_t n = 0;
        if (value < 0 && value != 0)
            out[n++] = '-';
        n += put_u64(out + n, (uint64_t)fabs(value));
        out[n] = '\0';
        return n;
    }
    size_t n = format_short_decimal(value, out);
    if (n)
        return n;
    if (!isfinite(value)) {
        strcpy(out, isnan(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        return strlen(out);
    }
    for (int prec = 15; prec <= 17; prec++) {
        int len = snprintf(out, 32, "%.*g", prec, value);
        if (prec == 17 || strtod(out, NULL) == value)
            return (size_t)len;
    }
    return strlen(out);
}

static void put2(char *out, int v)
{
    out[0] = (char)('0' + v / 10 % 10);
    out[1] = (char)('0' + v % 10);
}

void cell_format_time(double day_fraction, char out[16])
{
    double secs_d = nearbyint(day_fraction * 86400.0);
    if (!isfinite(secs_d) || secs_d < 0)
        secs_d = 0;
    long secs = (long)fmod(secs_d, 86400.0); /* 23:59:59.6 rounds to 00:00:00 */
    put2(out, (int)(secs / 3600));
    out[2] = ':';
    put2(out + 3, (int)(secs / 60 % 60));
    out[5] = ':';
    put2(out + 6, (int)(secs % 60));
    out[8] = '\0';
}

void cell_format_date(double unix_days, char out[32])
{
    /* Far outside any calendar a spreadsheet can hold: show the number rather than invent a
     * year with a dozen digits. */
    if (!isfinite(unix_days) || fabs(unix_days) > 1e8) {
        cell_format_number(unix_days, out);
        return;
    }
    double total = nearbyint(unix_days * 86400.0);
    long days = (long)floor(total / 86400.0);
    long secs = (long)(total - (double)days * 86400.0);
    int y, m, d;
    numfmt_civil_from_days(days, &y, &m, &d);
    size_t n = 0;
    if (y < 0 || y > 9999) {
        n = (size_t)snprintf(out, 32, "%d", y);
    } else {
        put2(out, y / 100);
        put2(out + 2, y % 100);
        n = 4;
    }
    out[n++] = '-';
    put2(out + n, m);
    n += 2;
    out[n++] = '-';
    put2(out + n, d);
    n += 2;
    if (secs != 0) {
        out[n++] = 'T';
        cell_format_time((double)secs / 86400.0, out + n);
        n += 8;
    }
    out[n] = '\0';
}

int cell_format_value(const struct sheet_cell *cell, struct buf *out)
{
    char tmp[32];
    switch (cell->type) {
    case SHEET_CELL_STRING:
    case SHEET_CELL_ERROR:
        return buf_append(out, cell->text ? cell->text : "", cell->text ? cell->text_len : 0);
    case SHEET_CELL_NUMBER:
        cell_format_number(cell->number, tmp);
        break;
    case SHEET_CELL_BOOL:
        return buf_puts(out, cell->number != 0 ? "TRUE" : "FALSE");
    case SHEET_CELL_DATE:
        cell_format_date(cell->number, tmp);
        break;
    case SHEET_CELL_TIME:
        cell_format_time(cell->number, tmp);
        break;
    default:
        tmp[0] = '\0';
        break;
    }
    return buf_puts(out, tmp);
}

int cell_format_escape(struct buf *out, const char *text, size_t len)
{
    /* Room for the worst case (every byte escaped) up front, then one pass writing straight
     * into the buffer: this runs for every text cell of a dump. */
    if (len > (SIZE_MAX - 1) / 2 || buf_grow(out, 2 * len) < 0)
        return SD_ENOMEM;
    char *w = out->data + out->len;
    /* Eight bytes are copied at once when none needs escaping (no byte below 0x20, none
     * equal to '\\': the classic "has a byte less than / equal to" bit tricks, which never
     * miss one), since most text has nothing to escape at all. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t x;
            memcpy(&x, text + i, 8);
            uint64_t bs = x ^ (ones * '\\');
            if (!((((x - ones * 0x20) & ~x) | ((bs - ones) & ~bs)) & highs)) {
                memcpy(w, &x, 8);
                w += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)text[i++];
        if (c > '\\' || (c != '\\' && c >= ' ')) {
            *w++ = (char)c;
            continue;
        }
        switch (c) {
        case '\\':
            *w++ = '\\';
            *w++ = '\\';
            break;
        case '\t':
            *w++ = '\\';
            *w++ = 't';
            break;
        case '\n':
            *w++ = '\\';
            *w++ = 'n';
            break;
        case '\r':
            *w++ = '\\';
            *w++ = 'r';
            break;
        default:
            *w++ = (char)c;
            break;
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}
