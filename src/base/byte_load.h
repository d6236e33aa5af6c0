/*
 * Little-endian loads of 1 to 8 bytes, for the XLS reader's records (xls_biff.c) and for the
 * unique set's hash and the value codec's symbol matching (unique_set.c, value_codec.c).
 * Inline: the last two call them per 8 bytes of a value, on the hottest path of a unique
 * check.
 */
#ifndef SHEETD_BASE_BYTE_LOAD_H
#define SHEETD_BASE_BYTE_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian, so that the first byte of a string is the low byte of its word on any host:
 * symbol matching masks the low bytes, the codec's table reads slot i from byte i. */
static inline uint64_t le_load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint16_t le_load16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le_load32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first n < 8 bytes at p, zero-extended; built from loads that do not pass the end
 * rather than through a byte buffer, whose 8-byte reload would stall on the byte stores. */
static inline uint64_t le_load_short(const unsigned char *p, size_t n)
{
    if (n >= 4)
        return le_load32(p) | (uint64_t)le_load32(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
}

#endif
