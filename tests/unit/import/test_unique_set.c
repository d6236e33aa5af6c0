/* The unique set: first rows are remembered, growth and coding keep every value, and values
 * that share a hash, a prefix or all but one byte stay distinct. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "import/unique_set.h"

static uint32_t find_n(struct unique_set *s, const char *v, size_t len)
{
    struct unique_key k = UNIQUE_KEY_INIT;
    cr_assert_eq(unique_set_key(s, &k, v, len), 0);
    uint32_t row = unique_set_find(s, &k);
    unique_key_free(&k);
    return row;
}

static int add_n(struct unique_set *s, const char *v, size_t len, uint32_t row)
{
    struct unique_key k = UNIQUE_KEY_INIT;
    int rc = unique_set_key(s, &k, v, len);
    if (rc == 0)
        rc = unique_set_add(s, &k, row);
    unique_key_free(&k);
    return rc;
}

static uint32_t find(struct unique_set *s, const char *v)
{
    return find_n(s, v, strlen(v));
}

static void add(struct unique_set *s, const char *v, uint32_t row)
{
    cr_assert_eq(add_n(s, v, strlen(v), row), 0);
}

Test(unique_set, remembers_first_rows_across_growth)
{
    struct unique_set s = UNIQUE_SET_INIT;
    char v[32];
    for (uint32_t i = 1; i <= 50000; i++) {
        snprintf(v, sizeof v, "C-%06u-AB", i);
        cr_assert_eq(find(&s, v), 0);
        add(&s, v, i + 1);
    }
    cr_assert_eq(s.count, 50000);
    cr_assert_not_null(s.codec, "50,000 values are enough to code them");
    for (uint32_t i = 1; i <= 50000; i += 997) {
        snprintf(v, sizeof v, "C-%06u-AB", i);
        cr_assert_eq(find(&s, v), i + 1);
    }
    add(&s, "C-000001-AB", 99999); /* already there: keeps its first row */
    cr_assert_eq(find(&s, "C-000001-AB"), 2);
    cr_assert_eq(find(&s, "C-000001-A"), 0);
    cr_assert_eq(find(&s, "C-000001-ABC"), 0);
    cr_assert_eq(find(&s, "C-050001-AB"), 0);
    cr_assert_eq(find(&s, ""), 0);
    add(&s, "", 7);
    cr_assert_eq(find(&s, ""), 7);
    cr_assert_eq(s.count, 50001);
    unique_set_free(&s);
}

Test(unique_set, embedded_nul_and_prefixes)
{
    struct unique_set s = UNIQUE_SET_INIT;
    cr_assert_eq(add_n(&s, "a\0b", 3, 4), 0);
    cr_assert_eq(find_n(&s, "a\0b", 3), 4);
    cr_assert_eq(find_n(&s, "a", 1), 0);
    cr_assert_eq(find_n(&s, "a\0", 2), 0);
    cr_assert_eq(find_n(&s, "a\0b\0", 4), 0);
    unique_set_free(&s);
}

/* Lengths on both sides of the varint's byte boundaries, and values that differ only in
 * length or in their last byte, each with its own first row. The long runs of one byte are
 * coded in 8-byte symbols once the set has trained. */
Test(unique_set, lengths_across_the_varint_boundaries)
{
    static const size_t lens[] = {0, 1, 126, 127, 128, 129, 255, 16383, 16384, 70000};
    size_t n = sizeof lens / sizeof lens[0];
    char *v = malloc(70001);
    cr_assert_not_null(v);
    memset(v, 'x', 70001);
    struct unique_set s = UNIQUE_SET_INIT;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(add_n(&s, v, lens[i], (uint32_t)i + 1), 0);
    cr_assert_not_null(s.codec);
    v[69999] = 'y'; /* same length as the last, one byte different */
    cr_assert_eq(find_n(&s, v, 70000), 0);
    cr_assert_eq(add_n(&s, v, 70000, 99), 0);
    v[69999] = 'x';
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(find_n(&s, v, lens[i]), i + 1, "length %zu", lens[i]);
    cr_assert_eq(find_n(&s, v, 70001), 0);
    cr_assert_eq(find_n(&s, v, 16385), 0);
    v[69999] = 'y';
    cr_assert_eq(find_n(&s, v, 70000), 99);
    cr_assert_eq(s.count, n + 1);
    unique_set_free(&s);
    free(v);
}

static uint32_t constant_hash(const char *bytes, size_t len)
{
    (void)bytes;
    (void)len;
    return 42;
}

/* The table must stay correct when every value lands in the same group: with a constant
 * hash every lookup walks one long run of full groups and compares each entry. The values
 * are long enough to train the codec halfway, so both stored forms meet in the run. */
Test(unique_set, colliding_hashes_stay_distinct)
{
    struct unique_set s = UNIQUE_SET_INIT;
    s.hash_fn = constant_hash;
    char v[64];
    for (uint32_t i = 1; i <= 1500; i++) {
        snprintf(v, sizeof v, "value number %06u, padded to be long", i);
        cr_assert_eq(find(&s, v), 0);
        add(&s, v, i);
    }
    cr_assert_not_null(s.codec);
    for (uint32_t i = 1; i <= 1500; i++) {
        snprintf(v, sizeof v, "value number %06u, padded to be long", i);
        cr_assert_eq(find(&s, v), i);
    }
    cr_assert_eq(find(&s, "value number 001501, padded to be long"), 0);
    cr_assert_eq(find(&s, "value number 000001, padded to be lonG"), 0);
    add(&s, "value number 000001, padded to be long", 7777);
    cr_assert_eq(find(&s, "value number 000001, padded to be long"), 1, "the first row stays");
    cr_assert_eq(s.count, 1500);
    unique_set_free(&s);
    cr_assert_eq(s.hash_fn, constant_hash, "freeing keeps the hook");
}

Test(unique_set, row_zero_is_refused_and_leaves_the_set_unchanged)
{
    struct unique_set s = UNIQUE_SET_INIT;
    cr_assert_eq(add_n(&s, "a", 1, 0), SD_ENOMEM);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(find(&s, "a"), 0);
    unique_set_free(&s);
}
