/*
 * A set of strings for `unique` checks within one file: each distinct value is copied once
 * into an arena (one growing buffer, no malloc per value) and found through an open-addressing
 * table of 8-byte slots holding the value's hash and where its entry starts in the arena. An
 * entry is the row the value was first seen in (4 bytes), its length (a varint: 1 byte below
 * 128) and its bytes, so the row costs nothing in the table and is read only when a duplicate
 * is found.
 *
 * Memory per DISTINCT value: the entry (5 + length bytes, e.g. 12 for a 7-digit id, ~30 for
 * an email address) plus 16 to 32 bytes of table (8-byte slots, kept between a quarter and
 * half full) — about 30 to 65 bytes. A million rows that repeat the same ten values cost ten
 * entries. The arena grows by doubling, but its untouched tail is never written and so is
 * not resident. A caller that looks a value up and then adds it hashes it once
 * (unique_set_hash) and passes the hash to both.
 */
#ifndef SHEETD_IMPORT_UNIQUE_SET_H
#define SHEETD_IMPORT_UNIQUE_SET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct unique_slot {
    uint32_t hash;
    uint32_t entry; /* the entry's offset in the arena plus 1; 0: the slot is free */
};

struct unique_set {
    struct buf arena;
    struct unique_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

#define UNIQUE_SET_INIT                                                                            \
    {                                                                                              \
        .arena = BUF_INIT, .slots = NULL, .cap = 0, .count = 0                                     \
    }

uint32_t unique_set_hash(const char *value, size_t len);
/* The row a value was first seen in, or 0 when the set does not hold it. */
uint32_t unique_set_find(const struct unique_set *set, const char *value, size_t len,
                         uint32_t hash);
/* Adds a value first seen in `row` (> 0); adding a value already held keeps its first row.
 * 0 or SD_ENOMEM (the set is then unchanged), which is also the answer once the set's
 * entries would pass 4 GiB. */
int unique_set_add(struct unique_set *set, const char *value, size_t len, uint32_t hash,
                   uint32_t row);
void unique_set_free(struct unique_set *set);

#endif
