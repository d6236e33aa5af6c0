#include "import/unique_set.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* Entries start below this offset, so that offset + 1 fits a slot's uint32. */
#define ARENA_MAX ((size_t)UINT32_MAX - 1)

/* FNV-1a, finished with a multiply-xorshift so that the low bits the table indexes by depend
 * on every byte (values like "C-000123-AB" differ only near their end). A collision costs a
 * comparison, never a wrong answer. */
uint32_t unique_set_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ULL;
    return (uint32_t)(h >> 32);
}

/* An entry: uint32 row, then the length as a varint (7 bits a byte, low bits first), then
 * the value's bytes. */
static const unsigned char *entry_at(const struct unique_set *set, uint32_t entry)
{
    return (const unsigned char *)set->arena.data + (entry - 1);
}

static uint32_t entry_row(const unsigned char *e)
{
    uint32_t row;
    memcpy(&row, e, sizeof row);
    return row;
}

static bool entry_holds(const unsigned char *e, const char *value, size_t len)
{
    const unsigned char *p = e + sizeof(uint32_t);
    size_t stored = 0;
    for (unsigned shift = 0;; shift += 7) {
        stored |= (size_t)(*p & 0x7f) << shift;
        if (!(*p++ & 0x80))
            break;
    }
    return stored == len && !memcmp(p, value, len);
}

static struct unique_slot *unique_lookup(const struct unique_set *set, const char *value,
                                         size_t len, uint32_t hash)
{
    size_t mask = set->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct unique_slot *slot = &set->slots[i];
        if (!slot->entry ||
            (slot->hash == hash && entry_holds(entry_at(set, slot->entry), value, len)))
            return slot;
    }
}

uint32_t unique_set_find(const struct unique_set *set, const char *value, size_t len, uint32_t hash)
{
    if (!set->cap)
        return 0;
    const struct unique_slot *slot = unique_lookup(set, value, len, hash);
    return slot->entry ? entry_row(entry_at(set, slot->entry)) : 0;
}

/* Doubles the table, keeping the load factor under 1/2 so probes stay short. The arena is
 * untouched: slots hold offsets, which survive the arena's own reallocations. */
static int unique_resize(struct unique_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    if (cap > SIZE_MAX / sizeof(struct unique_slot))
        return SD_ENOMEM;
    struct unique_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return SD_ENOMEM;
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->slots[i].entry)
            continue;
        size_t j = set->slots[i].hash & (cap - 1);
        while (slots[j].entry)
            j = (j + 1) & (cap - 1);
        slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return 0;
}

int unique_set_add(struct unique_set *set, const char *value, size_t len, uint32_t hash,
                   uint32_t row)
{
    if (row == 0 || len > ARENA_MAX)
        return SD_ENOMEM;
    if ((set->count + 1) * 2 > set->cap && unique_resize(set) < 0)
        return SD_ENOMEM;
    struct unique_slot *slot = unique_lookup(set, value, len, hash);
    if (slot->entry)
        return 0;
    unsigned char head[sizeof row + 10];
    memcpy(head, &row, sizeof row);
    size_t n = sizeof row;
    size_t rest = len;
    do {
        head[n++] = (unsigned char)((rest & 0x7f) | (rest > 0x7f ? 0x80 : 0));
        rest >>= 7;
    } while (rest);
    size_t offset = set->arena.len;
    if (n + len > ARENA_MAX - offset) /* offset <= ARENA_MAX always; n + len cannot wrap */
        return SD_ENOMEM;
    if (buf_grow(&set->arena, n + len) < 0)
        return SD_ENOMEM;
    buf_append(&set->arena, head, n); /* cannot fail: grown above */
    buf_append(&set->arena, value, len);
    slot->hash = hash;
    slot->entry = (uint32_t)offset + 1;
    set->count++;
    return 0;
}

void unique_set_free(struct unique_set *set)
{
    buf_free(&set->arena);
    free(set->slots);
    set->slots = NULL;
    set->cap = set->count = 0;
}
