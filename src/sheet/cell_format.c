/*
 * The text forms of cell values (DESIGN.md, `sheetd read --format cells`). These run once per
 * cell when a whole sheet is dumped, so references and dates are written by hand rather than
 * through printf. Numbers are base/number.h's, dates and times base/civil.h's.
 */
#include "sheet/cell_format.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/error.h"
#include "base/number.h"

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

size_t cell_format_ref(uint32_t column, uint32_t row, char out[16])
{
    size_t n = 0;
    if (column < 26) { /* the common case, once per cell of a dump */
        out[n++] = (char)('A' + column);
    } else {
        cell_format_column_name(column, out);
        n = strlen(out);
    }
    n += number_put_u64(out + n, row);
    out[n] = '\0';
    return n;
}

void cell_format_time(double day_fraction, char out[16])
{
    double secs_d = nearbyint(day_fraction * SECONDS_PER_DAY);
    if (!isfinite(secs_d) || secs_d < 0)
        secs_d = 0;
    civil_format_clock((long)fmod(secs_d, SECONDS_PER_DAY), out); /* 23:59:59.6 is 00:00:00 */
}

void cell_format_date(double unix_days, char out[32])
{
    /* Far outside any calendar a spreadsheet can hold: show the number rather than invent a
     * year with a dozen digits. */
    long days, secs;
    if (!civil_split(unix_days, &days, &secs)) {
        number_format(unix_days, out);
        return;
    }
    size_t n = civil_format_date(days, out);
    if (secs != 0) {
        out[n++] = 'T';
        civil_format_clock(secs, out + n);
    }
}

int cell_format_value(const struct sheet_cell *cell, struct buf *out)
{
    char tmp[32];
    switch (cell->type) {
    case SHEET_CELL_STRING:
    case SHEET_CELL_ERROR:
        return buf_append(out, cell->text ? cell->text : "", cell->text ? cell->text_len : 0);
    case SHEET_CELL_NUMBER:
        number_format(cell->number, tmp);
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
