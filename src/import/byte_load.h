/*
 * Little-endian loads of 1 to 8 bytes, shared by the unique set's hash (unique_set.c) and the
 * value codec's symbol matching (value_codec.c). Inline: both call them per 8 bytes of a
 * value, on the hottest path of a unique check.
 */
#ifndef SHEETD_IMPORT_BYTE_LOAD_H
#define SHEETD_IMPORT_BYTE_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian, so that the first byte of a string is the low byte of its word on any host:
 * symbol matching masks the low bytes, the codec's table reads slot i from byte i. */
static inline uint64_t load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The first n < 8 bytes at p, zero-extended; built from loads that do not pass the end
 * rather than through a byte buffer, whose 8-byte reload would stall on the byte stores. */
static inline uint64_t load_short(const unsigned char *p, size_t n)
{
    if (n >= 4)
        return load32(p) | (uint64_t)load32(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
}

#endif
