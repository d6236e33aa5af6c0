#include "import/unique_set.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/error.h"
#include "base/byte_load.h"
#include "import/value_codec.h"

/* Entries start below this offset, so that every offset fits a uint32. */
#define ARENA_MAX ((size_t)UINT32_MAX)
/* Value bytes to see before training the codec: as many as its sample takes. Smaller sets
 * stay uncoded, so a few hundred values never pay for the codec's 150 KiB. */
#define TRAIN_BYTES VALUE_CODEC_SAMPLE_BYTES
#define MARK_EVERY 32
#define GROUP 16
#define SLOT_BYTES (sizeof(uint32_t) + 1) /* an offset and a control byte */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t hash_mix(uint64_t h)
{
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
}

/* Hashes a value's stored form, eight bytes a step. The length and the raw flag are folded
 * in first, so that "a" and "a\0" differ, and so do a value kept as bytes and another whose
 * codes happen to be those bytes. The table takes the top bits for the group and the low 8
 * for the tag. */
static uint32_t hash_stored(const struct unique_set *set, const unsigned char *p, size_t len,
                            bool raw)
{
    if (set->hash_fn)
        return set->hash_fn((const char *)p, len);
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (len << 1 | raw);
    for (; len >= 8; p += 8, len -= 8)
        h = hash_mix(h ^ le_load64(p));
    h = hash_mix(h ^ le_load_short(p, len));
    h ^= h >> 32;
    h *= 0x94D049BB133111EBULL;
    return (uint32_t)(h >> 32);
}

/* Blocks of BIG_BLOCK bytes or more (the tables and arenas of large sets) are mapped, not
 * malloc'd: each new table replaces one 4/5 its size and each arena one half its size, and
 * malloc keeps the smaller blocks it gets back as holes in its heap, still resident (about
 * 2 MiB of them at a million values). A mapped block goes back to the system when freed
 * and grows without a copy where mremap exists. The caller knows each block's size. */
#define BIG_BLOCK (256u << 10)

static void *block_alloc(size_t size)
{
    if (size < BIG_BLOCK)
        return malloc(size);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void block_free(void *p, size_t size)
{
    if (size < BIG_BLOCK)
        free(p);
    else if (p)
        munmap(p, size);
}

/* Grows a block from `old` to `size` bytes, keeping its contents: the new block, or NULL
 * (the old one untouched) when out of memory. */
static void *block_grow(void *p, size_t old, size_t size)
{
    if (size < BIG_BLOCK)
        return realloc(p, size);
#ifdef MREMAP_MAYMOVE
    if (old >= BIG_BLOCK) {
        void *q = mremap(p, old, size, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
#endif
    void *q = block_alloc(size);
    if (q && old) {
        memcpy(q, p, old);
        block_free(p, old);
    }
    return q;
}

/* Grows a byte array to hold `need` bytes, at least doubling: 0 or SD_ENOMEM (unchanged). */
static int grow_bytes(unsigned char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    unsigned char *q = block_grow(*p, *cap, n);
    if (!q)
        return SD_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/* Makes room for the mark of entry `count` when it needs one: 0 or SD_ENOMEM. */
static int marks_reserve(struct unique_set *set)
{
    size_t need = set->count / MARK_EVERY + 1;
    if (set->count % MARK_EVERY || need <= set->marks_cap)
        return 0;
    size_t n = set->marks_cap ? set->marks_cap * 2 : 16;
    if (n > SIZE_MAX / sizeof *set->marks)
        return SD_ENOMEM;
    struct unique_mark *m = realloc(set->marks, n * sizeof *m);
    if (!m)
        return SD_ENOMEM;
    set->marks = m;
    set->marks_cap = n;
    return 0;
}

/* ---- entries ------------------------------------------------------------------------ */

#define VARINT_MAX 10

static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (unsigned char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* An entry: varint(body length << 2 | has-delta << 1 | raw), then varint(zigzag(delta))
 * when has-delta, then the body. Writes the header (at most 2 * VARINT_MAX bytes) and
 * returns its length. */
static size_t entry_header(unsigned char *p, size_t blen, bool raw, int64_t delta)
{
    size_t n = put_varint(p, (uint64_t)blen << 2 | (delta ? 2u : 0u) | raw);
    if (delta)
        n += put_varint(p + n, ((uint64_t)delta << 1) ^ (uint64_t)(delta >> 63));
    return n;
}

struct entry {
    const unsigned char *body;
    size_t len;
    bool raw;      /* the body is the value's bytes, not codes */
    int64_t delta; /* row - the previous entry's row - 1 */
};

static uint64_t get_varint(const unsigned char **p)
{
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
}

/* Returns the offset of the entry after it. */
static size_t entry_parse(const struct unique_set *set, size_t off, struct entry *e)
{
    const unsigned char *p = set->arena + off;
    uint64_t h = get_varint(&p);
    e->raw = h & 1;
    e->delta = 0;
    if (h & 2) {
        uint64_t z = get_varint(&p);
        e->delta = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    }
    e->len = (size_t)(h >> 2);
    e->body = p;
    return (size_t)(p - set->arena) + e->len;
}

/* Whether the entry holds the key's value: the same stored form, byte for byte. */
static bool entry_holds(const struct unique_set *set, uint32_t off, const struct unique_key *key)
{
    struct entry e;
    entry_parse(set, off, &e);
    return e.raw == key->raw && e.len == key->len && !memcmp(e.body, key->bytes, key->len);
}

/* The entry's row: from the mark at or before it, adding each later entry's step. */
static uint32_t entry_row(const struct unique_set *set, uint32_t off)
{
    size_t lo = 0, hi = (set->count + MARK_EVERY - 1) / MARK_EVERY;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->marks[mid].offset <= off)
            lo = mid;
        else
            hi = mid;
    }
    size_t o = set->marks[lo].offset;
    uint32_t row = set->marks[lo].row;
    struct entry e;
    size_t next = entry_parse(set, o, &e);
    while (o != off) {
        o = next;
        next = entry_parse(set, o, &e);
        row = (uint32_t)((int64_t)row + 1 + e.delta);
    }
    return row;
}

/* ---- the table ---------------------------------------------------------------------- */

/* The control bytes are an array of their own, a fifth of the table: a lookup of a value the
 * set does not hold (the usual case: most values are new) reads only them, and for a million
 * values they are 1.2 MiB, which the caches keep far better than the whole table. A slot's
 * control byte is 0 when it is free, else its tag: 8 bits of the hash, 0 taken as 1. */
static unsigned char tag_of(uint32_t hash)
{
    return (hash & 0xFF) ? (unsigned char)hash : 1;
}

static size_t home_group(uint32_t hash, size_t ngroups)
{
    return (size_t)(((uint64_t)hash * ngroups) >> 32);
}

/* The bytes of a control word equal to 0 (after xoring the tag in: equal to the tag): exact
 * for the lowest, rarely a false one above it, which the caller checks like the rest. Free
 * slots are always a group's last ones (nothing is removed), so the lowest zero byte of the
 * raw word is the first free slot. */
static uint64_t zero_bytes(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}

/* Finds the key: true and its slot, or false and the free slot it would take. Stops at the
 * first group with a free slot: the value cannot be further. */
static bool table_probe(const struct unique_set *set, const struct unique_key *key, size_t *slot)
{
    uint64_t tags = ONES * tag_of(key->hash);
    size_t g = home_group(key->hash, set->ngroups);
    for (;; g = g + 1 == set->ngroups ? 0 : g + 1) {
        for (size_t s = g * GROUP; s < (g + 1) * GROUP; s += 8) {
            uint64_t ctrl = le_load64(set->ctrl + s);
            for (uint64_t m = zero_bytes(ctrl ^ tags); m; m &= m - 1) {
                size_t i = s + (size_t)__builtin_ctzll(m) / 8;
                if (set->ctrl[i] && entry_holds(set, set->offsets[i], key)) {
                    *slot = i;
                    return true;
                }
            }
            uint64_t free_slots = zero_bytes(ctrl);
            if (free_slots) {
                *slot = s + (size_t)__builtin_ctzll(free_slots) / 8;
                return false;
            }
        }
    }
}

/* Puts an entry known to be absent into the first free slot from its home group. */
static void table_place(unsigned char *ctrl, uint32_t *offsets, size_t ngroups, uint32_t hash,
                        uint32_t off)
{
    for (size_t g = home_group(hash, ngroups);; g = g + 1 == ngroups ? 0 : g + 1) {
        for (size_t s = g * GROUP; s < (g + 1) * GROUP; s += 8) {
            uint64_t free_slots = zero_bytes(le_load64(ctrl + s));
            if (free_slots) {
                size_t i = s + (size_t)__builtin_ctzll(free_slots) / 8;
                ctrl[i] = tag_of(hash);
                offsets[i] = off;
                return;
            }
        }
    }
}

/* A table of `ngroups` groups in one block, offsets then control bytes. NULL when out of
 * memory. */
static uint32_t *table_alloc(size_t ngroups)
{
    if (ngroups > SIZE_MAX / GROUP / SLOT_BYTES)
        return NULL;
    uint32_t *offsets = block_alloc(ngroups * GROUP * SLOT_BYTES);
    if (offsets)
        memset(offsets + ngroups * GROUP, 0, ngroups * GROUP);
    return offsets;
}

#define PLACE_BATCH 16

/* Frees the table and fills `offsets` (from table_alloc) with every entry of the arena,
 * hashing each one anew (the table keeps only 8 bits of a hash); it cannot fail. The old
 * table goes first, so that beside it only the new control bytes, zeroed by table_alloc,
 * are ever resident (block_alloc's pages take memory when written). The arena is read in order, and
 * the slots a batch of entries will land in are prefetched first, so that their cache
 * misses overlap. */
static void table_refill(struct unique_set *set, uint32_t *offsets, size_t ngroups)
{
    unsigned char *ctrl = (unsigned char *)(offsets + ngroups * GROUP);
    block_free(set->offsets, set->cap * SLOT_BYTES);
    set->offsets = offsets;
    set->ctrl = ctrl;
    set->ngroups = ngroups;
    set->cap = ngroups * GROUP;
    uint32_t hashes[PLACE_BATCH], offs[PLACE_BATCH];
    for (size_t off = 0; off < set->arena_len;) {
        unsigned n = 0;
        for (; n < PLACE_BATCH && off < set->arena_len; n++) {
            struct entry e;
            size_t next = entry_parse(set, off, &e);
            hashes[n] = hash_stored(set, e.body, e.len, e.raw);
            offs[n] = (uint32_t)off;
            size_t g = home_group(hashes[n], ngroups);
            __builtin_prefetch(ctrl + g * GROUP);
            __builtin_prefetch(offsets + g * GROUP, 1);
            off = next;
        }
        for (unsigned i = 0; i < n; i++)
            table_place(ctrl, offsets, ngroups, hashes[i], offs[i]);
    }
}

/* ---- coding what is held ------------------------------------------------------------ */

/* Hands the codec every value held as its sample: pointers into the arena, whose bodies are
 * still the values' bytes. The codec does not see the set, so it cannot depend on it. */
static int set_train(const struct unique_set *set, struct value_codec **out)
{
    struct value_codec_sample *values = malloc(set->count * sizeof *values);
    if (!values)
        return SD_ENOMEM;
    size_t n = 0;
    for (size_t off = 0; off < set->arena_len;) {
        struct entry e;
        off = entry_parse(set, off, &e);
        values[n++] = (struct value_codec_sample){.bytes = e.body, .len = e.len};
    }
    int rc = value_codec_train(values, n, out);
    free(values);
    return rc;
}

/* Trains a codec on the values held (all kept as bytes so far) and stores every one of them
 * again in coded form, so that each value has one stored form that keys and entries share.
 * Happens once per set, at TRAIN_BYTES: a few thousand values at most. Everything it needs
 * is allocated before anything changes: 0, or SD_ENOMEM with the set as it was. */
static int set_code_entries(struct unique_set *set)
{
    struct value_codec *c = NULL;
    /* a coded entry is never longer than the entry it replaces */
    size_t cap = set->arena_len + 2 * VARINT_MAX;
    unsigned char *arena = block_alloc(cap);
    uint32_t *table = table_alloc(set->ngroups);
    if (!arena || !table || set_train(set, &c) < 0) {
        block_free(arena, cap);
        block_free(table, set->cap * SLOT_BYTES);
        return SD_ENOMEM;
    }
    size_t o = 0;
    size_t k = 0;
    for (size_t off = 0; off < set->arena_len; k++) {
        struct entry e;
        off = entry_parse(set, off, &e);
        if (k % MARK_EVERY == 0)
            set->marks[k / MARK_EVERY].offset = (uint32_t)o;
        /* the codes go after room for the longest header, which then moves them down */
        unsigned char *body = arena + o + 2 * VARINT_MAX;
        size_t blen = value_codec_encode(c, e.body, e.len, body);
        bool raw = blen == SIZE_MAX;
        if (raw) {
            blen = e.len;
            memcpy(body, e.body, blen);
        }
        size_t hn = entry_header(arena + o, blen, raw, e.delta);
        memmove(arena + o + hn, body, blen);
        o += hn + blen;
    }
    block_free(set->arena, set->arena_cap);
    set->arena = arena;
    set->arena_len = o;
    set->arena_cap = cap;
    set->codec = c;
    set->epoch++;
    table_refill(set, table, set->ngroups);
    return 0;
}

/* ---- the API ------------------------------------------------------------------------ */

int unique_set_key(const struct unique_set *set, struct unique_key *key, const char *value,
                   size_t len)
{
    if (len > ARENA_MAX)
        return SD_ENOMEM;
    /* the codes need room for one more code than the bytes before giving up */
    if (grow_bytes(&key->bytes, &key->cap, len + 2) < 0)
        return SD_ENOMEM;
    size_t n = set->codec
                   ? value_codec_encode(set->codec, (const unsigned char *)value, len, key->bytes)
                   : SIZE_MAX;
    key->raw = n == SIZE_MAX;
    key->len = key->raw ? len : n;
    if (key->raw && len)
        memcpy(key->bytes, value, len);
    key->hash = hash_stored(set, key->bytes, key->len, key->raw);
    key->epoch = set->epoch;
    key->probed = 0;
    return 0;
}

void unique_key_free(struct unique_key *key)
{
    block_free(key->bytes, key->cap);
    *key = (struct unique_key)UNIQUE_KEY_INIT;
}

uint32_t unique_set_find(const struct unique_set *set, struct unique_key *key)
{
    assert(key->epoch == set->epoch);
    key->probed = 0;
    if (!set->count)
        return 0;
    bool found = table_probe(set, key, &key->slot);
    /* remembered for unique_set_add while the table stays as it is */
    key->probed = set->count + 1;
    key->probed_cap = set->cap;
    return found ? entry_row(set, set->offsets[key->slot]) : 0;
}

/* Every step that can fail comes before the first change to the set, so a failure leaves
 * it as it was. Growing the table and coding what is held change how values are kept, not
 * which; the second one, when it fails, is tried again after another TRAIN_BYTES. */
int unique_set_add(struct unique_set *set, const struct unique_key *key, uint32_t row)
{
    assert(key->epoch == set->epoch);
    if (row == 0)
        return SD_ENOMEM;
    if (set->count + 1 > set->cap - set->cap / 8) {
        size_t ngroups = set->ngroups ? set->ngroups + (set->ngroups + 3) / 4 : 1;
        uint32_t *table = table_alloc(ngroups);
        if (!table)
            return SD_ENOMEM;
        table_refill(set, table, ngroups);
    }
    size_t slot = key->slot;
    bool remembered = key->probed == set->count + 1 && key->probed_cap == set->cap;
    if (remembered ? set->ctrl[slot] != 0 : table_probe(set, key, &slot))
        return 0;
    int64_t delta = (int64_t)row - set->last_row - 1;
    unsigned char head[2 * VARINT_MAX];
    size_t hn = entry_header(head, key->len, key->raw, delta);
    size_t off = set->arena_len;
    if (hn + key->len > ARENA_MAX - off) /* off <= ARENA_MAX always; this cannot wrap */
        return SD_ENOMEM;
    if (grow_bytes(&set->arena, &set->arena_cap, off + hn + key->len) < 0 || marks_reserve(set) < 0)
        return SD_ENOMEM;
    if (set->count % MARK_EVERY == 0)
        set->marks[set->count / MARK_EVERY] = (struct unique_mark){(uint32_t)off, row};
    memcpy(set->arena + off, head, hn);
    memcpy(set->arena + off + hn, key->bytes, key->len);
    set->arena_len = off + hn + key->len;
    set->ctrl[slot] = tag_of(key->hash);
    set->offsets[slot] = (uint32_t)off;
    set->count++;
    set->last_row = row;
    if (!set->codec && (set->raw_bytes += key->len) >= TRAIN_BYTES && set_code_entries(set) < 0)
        set->raw_bytes = 0;
    return 0;
}

void unique_set_free(struct unique_set *set)
{
    uint32_t (*hash_fn)(const char *, size_t) = set->hash_fn;
    block_free(set->arena, set->arena_cap);
    block_free(set->offsets, set->cap * SLOT_BYTES); /* and the control bytes */
    free(set->marks);
    value_codec_free(set->codec);
    *set = (struct unique_set)UNIQUE_SET_INIT;
    set->hash_fn = hash_fn;
}
