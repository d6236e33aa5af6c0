/* The value codec (value_codec.h): FSST's symbol table, its coding and its training. */
#include "import/value_codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/byte_load.h"

#define TRAIN_ROUNDS 5
#define ESC 255 /* the code that says "one literal byte follows" */
#define SYMBOLS_MAX 255
#define CODE_SPACE 512 /* while training: 0-255 single bytes, 256 + i symbol i */
#define LONG_HASH_BITS 10

static uint64_t low_bytes(unsigned n)
{
    return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* ---- the codec ---------------------------------------------------------------------- */

/* Symbols of 3 to 8 bytes are found through a hash of their first three bytes, one symbol
 * per bucket (a symbol whose bucket is taken is not admitted, as in FSST); symbols of 1 and
 * 2 bytes through a table indexed by the next two bytes. */
struct long_symbol {
    uint64_t val;
    uint8_t len; /* 0: empty bucket */
    uint8_t code;
};

struct value_codec {
    unsigned nsym;
    uint64_t val[SYMBOLS_MAX]; /* the symbol's bytes, zero-extended */
    uint8_t len[SYMBOLS_MAX];
    uint8_t byte_code[256];     /* the 1-byte symbol for a byte, or ESC */
    uint16_t short_code[65536]; /* for the next two bytes: length << 8 | code */
    struct long_symbol longs[1 << LONG_HASH_BITS];
};

static unsigned long_bucket(uint64_t word)
{
    return (unsigned)(((word & 0xFFFFFF) * 0x9E3779B1u) >> 14) & ((1u << LONG_HASH_BITS) - 1);
}

/* The code for the longest symbol the codec finds at p (n > 0 bytes left), and its
 * length; ESC with length 1 when none does. Both lookups are made and one result picked
 * without a branch: which one wins is as good as random, and a mispredicted branch costs
 * more than the second lookup. */
static unsigned codec_match(const struct value_codec *c, const unsigned char *p, size_t n,
                            unsigned *len)
{
    uint64_t w = n >= 8 ? le_load64(p) : le_load_short(p, n);
    const struct long_symbol *s = &c->longs[long_bucket(w)];
    /* one byte left: a 2-byte symbol must not match the zero after it */
    unsigned sc = n >= 2 ? c->short_code[w & 0xFFFF] : (1u << 8 | c->byte_code[w & 0xFF]);
    bool hit = s->len && s->len <= n && ((w ^ s->val) & (~0ULL >> ((64 - 8 * s->len) & 63))) == 0;
    *len = hit ? s->len : sc >> 8;
    return hit ? s->code : (sc & 0xFF);
}

static void codec_clear(struct value_codec *c)
{
    c->nsym = 0;
    memset(c->longs, 0, sizeof c->longs);
}

/* Adds a symbol, unless it is a long one whose bucket is taken: it is then left out, as the
 * lesser gain of the two (symbols come in order of gain). */
static void codec_add(struct value_codec *c, uint64_t val, unsigned len)
{
    if (len >= 3) {
        struct long_symbol *s = &c->longs[long_bucket(val)];
        if (s->len)
            return;
        *s = (struct long_symbol){.val = val, .len = (uint8_t)len, .code = (uint8_t)c->nsym};
    }
    c->val[c->nsym] = val;
    c->len[c->nsym] = (uint8_t)len;
    c->nsym++;
}

/* Fills the two lookup tables for 1- and 2-byte symbols once the symbols are chosen. */
static void codec_finish(struct value_codec *c)
{
    memset(c->byte_code, ESC, sizeof c->byte_code);
    for (unsigned i = 0; i < c->nsym; i++)
        if (c->len[i] == 1)
            c->byte_code[c->val[i]] = (uint8_t)i;
    for (unsigned x = 0; x < 65536; x++)
        c->short_code[x] = (uint16_t)(1 << 8 | c->byte_code[x & 0xFF]);
    for (unsigned i = 0; i < c->nsym; i++)
        if (c->len[i] == 2)
            c->short_code[c->val[i]] = (uint16_t)(2 << 8 | i);
}

size_t value_codec_encode(const struct value_codec *c, const unsigned char *in, size_t n,
                          unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (o + 2 > n) /* even one more code leaves it no shorter */
            return SIZE_MAX;
        unsigned len;
        unsigned code = codec_match(c, in + i, n - i, &len);
        out[o] = (unsigned char)code;
        out[o + 1] = in[i]; /* the literal after an escape; overwritten otherwise */
        o += 1 + (code == ESC);
        i += len;
    }
    return o < n ? o : SIZE_MAX;
}

/* ---- training --------------------------------------------------------------------- */

struct candidate {
    uint64_t val;
    unsigned len;
    uint64_t gain;
};

struct training {
    struct value_codec_sample *sample; /* the first values, cut at VALUE_CODEC_SAMPLE_BYTES */
    size_t n;
    uint32_t count1[CODE_SPACE];
    uint16_t (*count2)[CODE_SPACE]; /* pairs of consecutive codes; at most the sample's bytes */
    struct candidate *cand;
    size_t ncand, cand_cap;
};

static void code_symbol(const struct value_codec *c, unsigned k, uint64_t *val, unsigned *len)
{
    if (k < 256) {
        *val = k;
        *len = 1;
    } else {
        *val = c->val[k - 256];
        *len = c->len[k - 256];
    }
}

/* Codes part of the sample (`frac` 128ths of its values) with the current symbols and counts
 * each code and each pair of codes; after a multi-byte symbol its first byte alone is counted
 * too, the alternative a longer symbol competes with (FSST's compressCount). */
static void training_count(struct training *t, const struct value_codec *c, bool pairs,
                           unsigned frac)
{
    memset(t->count1, 0, sizeof t->count1);
    if (pairs)
        memset(t->count2, 0, sizeof(uint16_t[CODE_SPACE][CODE_SPACE]));
    for (size_t s = 0; s < t->n; s++) {
        if (((uint32_t)s * 2654435761u) >> 25 >= frac)
            continue;
        const unsigned char *p = t->sample[s].bytes;
        size_t n = t->sample[s].len;
        int prev = -1;
        for (size_t i = 0; i < n;) {
            unsigned len;
            unsigned code = codec_match(c, p + i, n - i, &len);
            unsigned k = code == ESC ? p[i] : 256 + code;
            t->count1[k]++;
            if (len > 1)
                t->count1[p[i]]++;
            if (pairs && prev >= 0) {
                t->count2[prev][k]++;
                if (len > 1)
                    t->count2[prev][p[i]]++;
            }
            prev = (int)k;
            i += len;
        }
    }
}

static void candidate_push(struct training *t, uint64_t val, unsigned len, uint64_t gain)
{
    /* cand_cap bounds what the counts can produce: no check needed */
    t->cand[t->ncand++] = (struct candidate){.val = val, .len = len, .gain = gain};
}

static int by_symbol(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->val < y->val ? -1 : x->val > y->val;
}

/* Best first; ties by symbol, so that training is deterministic. */
static int by_gain(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->gain != y->gain)
        return x->gain > y->gain ? -1 : 1;
    return by_symbol(a, b);
}

/* One round of FSST's makeTable: every counted code and every counted pair (joined, cut at
 * 8 bytes) is a candidate worth count * length bytes (single bytes * 8, which keeps escapes
 * rare); the 255 best become the next symbol table. */
static void training_round(struct training *t, struct value_codec *c, bool pairs)
{
    t->ncand = 0;
    for (unsigned k = 0; k < 256 + c->nsym; k++) {
        if (t->count1[k] < 2)
            continue;
        uint64_t v1;
        unsigned l1;
        code_symbol(c, k, &v1, &l1);
        candidate_push(t, v1, l1, (uint64_t)t->count1[k] * l1 * (l1 == 1 ? 8 : 1));
        if (!pairs || l1 == 8)
            continue;
        for (unsigned k2 = 0; k2 < 256 + c->nsym; k2++) {
            if (t->count2[k][k2] < 2)
                continue;
            uint64_t v2;
            unsigned l2;
            code_symbol(c, k2, &v2, &l2);
            unsigned l = l1 + l2 > 8 ? 8 : l1 + l2;
            uint64_t v = (v1 | v2 << (8 * l1)) & low_bytes(l);
            candidate_push(t, v, l, (uint64_t)t->count2[k][k2] * l);
        }
    }
    qsort(t->cand, t->ncand, sizeof *t->cand, by_symbol);
    size_t m = 0;
    for (size_t i = 0; i < t->ncand; i++) {
        if (m && t->cand[m - 1].len == t->cand[i].len && t->cand[m - 1].val == t->cand[i].val)
            t->cand[m - 1].gain += t->cand[i].gain;
        else
            t->cand[m++] = t->cand[i];
    }
    qsort(t->cand, m, sizeof *t->cand, by_gain);
    codec_clear(c);
    for (size_t i = 0; i < m && c->nsym < SYMBOLS_MAX; i++)
        codec_add(c, t->cand[i].val, t->cand[i].len);
    codec_finish(c);
}

/* The counts live only while training: about 2 MiB, freed before returning. */
int value_codec_train(const struct value_codec_sample *values, size_t n, struct value_codec **out)
{
    struct training t = {0};
    int rc = SD_ENOMEM;
    struct value_codec *c = calloc(1, sizeof *c);
    t.sample = malloc(n * sizeof *t.sample);
    t.count2 = malloc(sizeof(uint16_t[CODE_SPACE][CODE_SPACE]));
    t.cand_cap = CODE_SPACE + 2 * (size_t)VALUE_CODEC_SAMPLE_BYTES;
    t.cand = malloc(t.cand_cap * sizeof *t.cand);
    if (!c || (n && !t.sample) || !t.count2 || !t.cand)
        goto fail;
    size_t total = 0;
    for (size_t i = 0; i < n && total < VALUE_CODEC_SAMPLE_BYTES; i++) {
        size_t left = VALUE_CODEC_SAMPLE_BYTES - total;
        t.sample[t.n] = values[i];
        if (t.sample[t.n].len > left)
            t.sample[t.n].len = left;
        total += t.sample[t.n++].len;
    }
    codec_finish(c);
    /* As in FSST, early rounds look at part of the sample (8, 38, 68, 98 and 128 128ths),
     * which keeps the first, crude tables from settling on what a few values repeat. */
    for (unsigned round = 0; round < TRAIN_ROUNDS; round++) {
        bool pairs = round < TRAIN_ROUNDS - 1; /* the last round only recounts the gains */
        training_count(&t, c, pairs, 8 + 30 * round);
        training_round(&t, c, pairs);
    }
    *out = c;
    c = NULL;
    rc = 0;
fail:
    free(c);
    free(t.sample);
    free(t.count2);
    free(t.cand);
    return rc;
}

void value_codec_free(struct value_codec *c)
{
    free(c);
}
