#include "import/unique_set.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* FNV-1a, 64 bit: the values are short and untrusted only in the sense of being typed by
 * people; a collision costs a comparison, never a wrong answer. */
static uint64_t unique_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static struct unique_slot *unique_lookup(const struct unique_set *set, const char *value,
                                         size_t len, uint64_t hash)
{
    size_t mask = set->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        struct unique_slot *slot = &set->slots[i];
        if (!slot->used)
            return slot;
        if (slot->hash == hash && slot->len == len &&
            !memcmp(set->arena.data + slot->offset, value, len))
            return slot;
    }
}

uint32_t unique_set_find(const struct unique_set *set, const char *value, size_t len)
{
    if (!set->cap)
        return 0;
    struct unique_slot *slot = unique_lookup(set, value, len, unique_hash(value, len));
    return slot->used ? slot->row : 0;
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
        if (!set->slots[i].used)
            continue;
        size_t j = (size_t)set->slots[i].hash & (cap - 1);
        while (slots[j].used)
            j = (j + 1) & (cap - 1);
        slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
    return 0;
}

int unique_set_add(struct unique_set *set, const char *value, size_t len, uint32_t row)
{
    if ((set->count + 1) * 2 > set->cap && unique_resize(set) < 0)
        return SD_ENOMEM;
    uint64_t hash = unique_hash(value, len);
    struct unique_slot *slot = unique_lookup(set, value, len, hash);
    if (slot->used)
        return 0;
    size_t offset = set->arena.len;
    if (buf_append(&set->arena, value, len) < 0 || buf_putc(&set->arena, '\0') < 0) {
        buf_truncate(&set->arena, offset);
        return SD_ENOMEM;
    }
    slot->hash = hash;
    slot->offset = offset;
    slot->len = len;
    slot->row = row;
    slot->used = 1;
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
