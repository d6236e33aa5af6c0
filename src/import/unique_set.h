/*
 * A set of strings for `unique` checks within one file, small enough that a million-row
 * import with two unique columns stays within the server's memory budget (README,
 * Performance).
 *
 * DESIGN
 *
 * Each distinct value is stored once, in an append-only arena (no malloc per value), as an
 * entry: a varint header (the body's length and two flags), the gap to the previous entry's
 * row when it is not 1, and the body. Once the set has seen 16 KiB of values it trains a
 * value codec on them (value_codec.h: FSST's symbol table, up to 255 symbols of 1 to 8 bytes,
 * each coded as one byte) and codes every value held; from then on bodies are codes, or the
 * value's bytes when coding does not make it shorter. An email address of 30 bytes takes
 * about 8.
 *
 * A value has exactly one stored form (its codes or its bytes, by that rule), so lookups
 * compare and hash stored forms and never decode anything: a caller first turns a value into
 * a key (unique_set_key: its stored form and that form's hash), then looks the key up and
 * adds it. Equal stored forms mean equal values and the other way round, so answers are
 * exact; a hash collision costs a comparison, never a wrong answer.
 *
 * The first row of a value is needed only when a duplicate is found, so it is not kept
 * whole: rows grow by one from entry to entry in the usual file, which costs no byte, and
 * every 32nd entry's row and offset are kept aside (marks), from which a lookup walks
 * forward.
 *
 * The index is an open-addressing table of 16-slot groups, as in Abseil's SwissTable: one
 * control byte per slot (8 bits of the hash, or free) and the entry's 32-bit offset, so a
 * probe reads a group's control bytes and touches the arena only when 8 bits agree. It stays
 * between 70% and 87.5% full by growing by a quarter, about 6 to 7 bytes per value. Growing
 * rebuilds it from the arena, hashing each entry again, so the old table is freed before the
 * new one's offsets are written: only the new control bytes (a fifth of a table) are ever
 * resident beside the old table.
 *
 * Memory per DISTINCT value, measured on the bench sheet's million rows: about 10 bytes for
 * a 6-digit id, 15 for an email address. A million rows that repeat the same ten values cost
 * ten entries.
 */
#ifndef SHEETD_IMPORT_UNIQUE_SET_H
#define SHEETD_IMPORT_UNIQUE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct value_codec; /* the trained symbol table (value_codec.h) */

struct unique_mark {
    uint32_t offset; /* where the entry starts in the arena */
    uint32_t row;
};

struct unique_set {
    unsigned char *arena; /* the entries, oldest first */
    size_t arena_len, arena_cap;
    uint32_t *offsets;   /* per slot: where its entry starts in the arena */
    unsigned char *ctrl; /* per slot, after the offsets: 0 when free, else 8 bits of the hash */
    size_t ngroups;      /* of 16 slots */
    size_t cap;          /* slots */
    size_t count;
    struct unique_mark *marks; /* entry 32 * i is marks[i] */
    size_t marks_cap;
    uint32_t last_row;         /* the newest entry's row: the next entry stores its gap from it */
    size_t raw_bytes;          /* value bytes kept as bytes since the last attempt to train */
    struct value_codec *codec; /* NULL until 16 KiB of values were seen */
    uint32_t epoch;            /* changes when stored forms do: older keys are stale */
    /* Hashes a stored form; NULL (the default) means the set's own hash. A test may put a
     * weaker one here to force collisions. */
    uint32_t (*hash_fn)(const char *bytes, size_t len);
};

#define UNIQUE_SET_INIT                                                                            \
    {                                                                                              \
        .arena = NULL, .arena_len = 0, .arena_cap = 0, .offsets = NULL, .ctrl = NULL,              \
        .ngroups = 0, .cap = 0, .count = 0, .marks = NULL, .marks_cap = 0, .last_row = 0,          \
        .raw_bytes = 0, .codec = NULL, .epoch = 0, .hash_fn = NULL                                 \
    }

/* A value as one set stores it, and that form's hash. The key owns `bytes`. */
struct unique_key {
    unsigned char *bytes;
    size_t len, cap;
    bool raw; /* bytes are the value itself, not codes */
    uint32_t hash;
    uint32_t epoch; /* the set's when the key was made */
    /* Where unique_set_find ended: the value's slot or the free one it would take, valid
     * while the set's count is probed - 1 and its table has probed_cap slots (probed 0:
     * no lookup), so that adding the key next does not search again. */
    size_t slot, probed, probed_cap;
};

#define UNIQUE_KEY_INIT                                                                            \
    {                                                                                              \
        .bytes = NULL, .len = 0, .cap = 0, .raw = false, .hash = 0, .epoch = 0, .slot = 0,         \
        .probed = 0, .probed_cap = 0                                                               \
    }

/* Makes `key` the stored form of a value for `set` (reusing the key's memory): 0 or
 * SD_ENOMEM. The key serves unique_set_find and unique_set_add on that set until the set's
 * next unique_set_add, which may change how values are stored. */
int unique_set_key(const struct unique_set *set, struct unique_key *key, const char *value,
                   size_t len);
void unique_key_free(struct unique_key *key);
/* The row the key's value was first seen in, or 0 when the set does not hold it. The key
 * remembers where the lookup ended, for an add that follows. */
uint32_t unique_set_find(const struct unique_set *set, struct unique_key *key);
/* Adds the key's value, first seen in `row` (> 0); adding a value already held keeps its
 * first row. 0 or SD_ENOMEM (the set then holds what it held before), which is also the
 * answer once the set's entries would pass 4 GiB. */
int unique_set_add(struct unique_set *set, const struct unique_key *key, uint32_t row);
void unique_set_free(struct unique_set *set);

#endif
