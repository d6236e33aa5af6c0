/*
 * A set of strings for `unique` checks within one file: each distinct value is copied once
 * into an arena (one growing buffer, no malloc per value) and found through an open-addressing
 * table of 16-byte slots holding a hash, the row it was first seen in and the value's offset.
 * Memory grows with the number of DISTINCT values only: a million rows that repeat the same
 * ten values cost ten entries. A caller that looks a value up and then adds it hashes it once
 * (unique_set_hash) and passes the hash to both.
 */
#ifndef SHEETD_IMPORT_UNIQUE_SET_H
#define SHEETD_IMPORT_UNIQUE_SET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct unique_slot {
    uint32_t hash;
    uint32_t row; /* 0: the slot is free */
    uint64_t offset; /* into arena: a uint32 length, then the value */
};

struct unique_set {
    struct buf arena;
    struct unique_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

#define UNIQUE_SET_INIT {BUF_INIT, NULL, 0, 0}

uint32_t unique_set_hash(const char *value, size_t len);
/* The row a value was first seen in, or 0 when the set does not hold it. */
uint32_t unique_set_find(const struct unique_set *set, const char *value, size_t len,
                         uint32_t hash);
/* Adds a value first seen in `row` (> 0); adding a value already held keeps its first row.
 * 0 or SD_ENOMEM (the set is then unchanged). Values longer than 4 GiB are SD_ENOMEM. */
int unique_set_add(struct unique_set *set, const char *value, size_t len, uint32_t hash,
                   uint32_t row);
void unique_set_free(struct unique_set *set);

#endif
