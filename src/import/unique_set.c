#include "import/unique_set.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

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

static bool slot_holds(const struct unique_set *set, const struct unique_slot *slot,
                       const char *value, size_t len)
{
    uint32_t stored;
    memcpy(&stored, set->arena.data + slot->offset, sizeof stored);
    return stored == len && !memcmp(set->arena.data + slot->offset + sizeof stored, value, len);
}

static struct unique_slot *unique_lookup(const struct unique_set *set, const char *value,
                                         size_t len, uint32_t hash)
{
    size_t mask = set->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct unique_slot *slot = &set->slots[i];
        if (!slot->row || (slot->hash == hash && slot_holds(set, slot, value, len)))
            return slot;
    }
}

uint32_t unique_set_find(const struct unique_set *set, const char *value, size_t len,
                         uint32_t hash)
{
    if (!set->cap)
        return 0;
    return unique_lookup(set, value, len, hash)->row;
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
        if (!set->slots[i].row)
            continue;
        size_t j = set->slots[i].hash & (cap - 1);
        while (slots[j].row)
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
    if (row == 0 || len > UINT32_MAX)
        return SD_ENOMEM;
    if ((set->count + 1) * 2 > set->cap && unique_resize(set) < 0)
        return SD_ENOMEM;
    struct unique_slot *slot = unique_lookup(set, value, len, hash);
    if (slot->row)
        return 0;
    size_t offset = set->arena.len;
    uint32_t stored = (uint32_t)len;
    if (buf_append(&set->arena, &stored, sizeof stored) < 0 ||
        buf_append(&set->arena, value, len) < 0) {
        buf_truncate(&set->arena, offset);
        return SD_ENOMEM;
    }
    slot->hash = hash;
    slot->offset = offset;
    slot->row = row;
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
