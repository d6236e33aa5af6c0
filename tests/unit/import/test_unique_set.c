/* The unique set: first rows are remembered, growth keeps every value, and values that
 * share a hash bucket or a prefix stay distinct. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "import/unique_set.h"

static uint32_t find(struct unique_set *s, const char *v)
{
    return unique_set_find(s, v, strlen(v), unique_set_hash(v, strlen(v)));
}

static void add(struct unique_set *s, const char *v, uint32_t row)
{
    cr_assert_eq(unique_set_add(s, v, strlen(v), unique_set_hash(v, strlen(v)), row), 0);
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
    for (uint32_t i = 1; i <= 50000; i += 997) {
        snprintf(v, sizeof v, "C-%06u-AB", i);
        cr_assert_eq(find(&s, v), i + 1);
    }
    add(&s, "C-000001-AB", 99999); /* already there: keeps its first row */
    cr_assert_eq(find(&s, "C-000001-AB"), 2);
    cr_assert_eq(find(&s, "C-000001-A"), 0);
    cr_assert_eq(find(&s, ""), 0);
    add(&s, "", 7);
    cr_assert_eq(find(&s, ""), 7);
    unique_set_free(&s);
}

Test(unique_set, embedded_nul_and_prefixes)
{
    struct unique_set s = UNIQUE_SET_INIT;
    cr_assert_eq(unique_set_add(&s, "a\0b", 3, unique_set_hash("a\0b", 3), 4), 0);
    cr_assert_eq(unique_set_find(&s, "a\0b", 3, unique_set_hash("a\0b", 3)), 4);
    cr_assert_eq(unique_set_find(&s, "a", 1, unique_set_hash("a", 1)), 0);
    unique_set_free(&s);
}

/* Lengths on both sides of the varint's byte boundaries, and values that differ only in
 * length or in their last byte, each with its own first row. */
Test(unique_set, lengths_across_the_varint_boundaries)
{
    static const size_t lens[] = {0, 1, 126, 127, 128, 129, 255, 16383, 16384, 70000};
    size_t n = sizeof lens / sizeof lens[0];
    char *v = malloc(70001);
    cr_assert_not_null(v);
    memset(v, 'x', 70001);
    struct unique_set s = UNIQUE_SET_INIT;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(unique_set_add(&s, v, lens[i], unique_set_hash(v, lens[i]), (uint32_t)i + 1),
                     0);
    v[69999] = 'y'; /* same length as the last, one byte different */
    cr_assert_eq(unique_set_find(&s, v, 70000, unique_set_hash(v, 70000)), 0);
    cr_assert_eq(unique_set_add(&s, v, 70000, unique_set_hash(v, 70000), 99), 0);
    v[69999] = 'x';
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(unique_set_find(&s, v, lens[i], unique_set_hash(v, lens[i])), i + 1,
                     "length %zu", lens[i]);
    v[69999] = 'y';
    cr_assert_eq(unique_set_find(&s, v, 70000, unique_set_hash(v, 70000)), 99);
    cr_assert_eq(s.count, n + 1);
    unique_set_free(&s);
    free(v);
}

/* The table must stay correct when every value lands in the same bucket: the hash the
 * caller passes is what places it, so a constant hash forces one long probe run. */
Test(unique_set, colliding_hashes_stay_distinct)
{
    struct unique_set s = UNIQUE_SET_INIT;
    char v[16];
    for (uint32_t i = 1; i <= 500; i++) {
        snprintf(v, sizeof v, "v%u", i);
        cr_assert_eq(unique_set_add(&s, v, strlen(v), 42, i), 0);
    }
    for (uint32_t i = 1; i <= 500; i++) {
        snprintf(v, sizeof v, "v%u", i);
        cr_assert_eq(unique_set_find(&s, v, strlen(v), 42), i);
    }
    cr_assert_eq(unique_set_find(&s, "v501", 4, 42), 0);
    cr_assert_eq(unique_set_add(&s, "v1", 2, 42, 777), 0);
    cr_assert_eq(unique_set_find(&s, "v1", 2, 42), 1, "the first row stays");
    cr_assert_eq(s.count, 500);
    unique_set_free(&s);
}

Test(unique_set, row_zero_is_refused_and_leaves_the_set_unchanged)
{
    struct unique_set s = UNIQUE_SET_INIT;
    cr_assert_eq(unique_set_add(&s, "a", 1, unique_set_hash("a", 1), 0), SD_ENOMEM);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(unique_set_find(&s, "a", 1, unique_set_hash("a", 1)), 0);
    unique_set_free(&s);
}
