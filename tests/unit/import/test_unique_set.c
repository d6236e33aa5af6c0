/* The unique set: first rows are remembered, growth keeps every value, and values that
 * share a hash bucket or a prefix stay distinct. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

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
