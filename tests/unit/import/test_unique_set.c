/* The unique set: first rows are remembered, growth and coding keep every value, and values
 * that share a hash, a prefix or all but one byte stay distinct. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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

/* The validator's way: one key made, looked up and added, the add using the slot where the
 * lookup ended. A key made again for another value before the add must be looked up anew. */
Test(unique_set, a_lookup_is_remembered_for_its_own_add)
{
    struct unique_set s = UNIQUE_SET_INIT;
    struct unique_key k = UNIQUE_KEY_INIT;
    char v[32];
    for (uint32_t i = 1; i <= 20000; i++) {
        snprintf(v, sizeof v, "customer-%u", i);
        cr_assert_eq(unique_set_key(&s, &k, v, strlen(v)), 0);
        cr_assert_eq(unique_set_find(&s, &k), 0);
        if (i % 2) {
            snprintf(v, sizeof v, "customer-%u", i + 100000);
            cr_assert_eq(unique_set_key(&s, &k, v, strlen(v)), 0);
        }
        cr_assert_eq(unique_set_add(&s, &k, i), 0);
    }
    cr_assert_not_null(s.codec);
    for (uint32_t i = 1; i <= 20000; i++) {
        snprintf(v, sizeof v, "customer-%u", i % 2 ? i + 100000 : i);
        cr_assert_eq(find(&s, v), i, "value %u", i);
        snprintf(v, sizeof v, "customer-%u", i % 2 ? i : i + 100000);
        cr_assert_eq(find(&s, v), 0, "value %u", i);
    }
    cr_assert_eq(unique_set_key(&s, &k, "customer-2", 10), 0);
    cr_assert_eq(unique_set_find(&s, &k), 2);
    cr_assert_eq(unique_set_add(&s, &k, 99), 0, "found: the add keeps the first row");
    cr_assert_eq(find(&s, "customer-2"), 2);
    cr_assert_eq(s.count, 20000);
    unique_key_free(&k);
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

/* Values of every byte but NUL, the coder's escape byte (255) included, kept as codes or as
 * bytes; each one-byte change of a held value must be absent. */
Test(unique_set, binary_values_and_one_byte_changes)
{
    struct unique_set s = UNIQUE_SET_INIT;
    enum { N = 20000 };
    unsigned char(*vals)[48] = malloc(sizeof(unsigned char[N][48]));
    size_t *lens = malloc(N * sizeof *lens);
    cr_assert(vals && lens);
    unsigned x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        lens[i] = 2 + (x >> 16) % 46;
        for (size_t j = 0; j < lens[i]; j++) {
            x = x * 1103515245u + 12345u;
            /* mostly a small alphabet, so that symbols are worth having; sometimes any byte */
            unsigned r = x >> 16;
            static const unsigned char common[] = "ab\xff\x80xyz.";
            vals[i][j] = (unsigned char)(r % 8 ? common[r % 8] : 1 + r % 255);
        }
        /* the index in the first two bytes keeps values distinct */
        vals[i][0] = (unsigned char)(1 + i % 255);
        vals[i][1] = (unsigned char)(1 + i / 255);
        cr_assert_eq(add_n(&s, (const char *)vals[i], lens[i], (uint32_t)i + 1), 0);
    }
    cr_assert_not_null(s.codec);
    for (size_t i = 0; i < N; i++) {
        const char *v = (const char *)vals[i];
        cr_assert_eq(find_n(&s, v, lens[i]), i + 1, "value %zu", i);
        size_t j = lens[i] - 1;
        unsigned char keep = vals[i][j];
        vals[i][j] = keep == 0xff ? 0xfe : (unsigned char)(keep + 1);
        if (lens[i] > 2)
            cr_assert_eq(find_n(&s, v, lens[i]), 0, "value %zu changed in its last byte", i);
        vals[i][j] = keep;
        if (lens[i] > 2)
            cr_assert_eq(find_n(&s, v, lens[i] - 1), 0, "value %zu shortened", i);
    }
    cr_assert_eq(s.count, N);
    unique_set_free(&s);
    free(vals);
    free(lens);
}

/* Rows are kept as steps from entry to entry: gaps, repeats and steps back must all read
 * back exactly, wherever an entry falls between two marks. */
Test(unique_set, rows_with_gaps_and_steps_back)
{
    struct unique_set s = UNIQUE_SET_INIT;
    enum { N = 3000 };
    uint32_t *rows = malloc(N * sizeof *rows);
    cr_assert_not_null(rows);
    char v[32];
    uint32_t row = 2;
    for (uint32_t i = 0; i < N; i++) {
        switch (i % 7) {
        case 0:
            row += 1000000; /* a long gap */
            break;
        case 3:
            row -= 5; /* an earlier row */
            break;
        case 5:
            break; /* the same row again */
        default:
            row += 1 + i % 3;
        }
        rows[i] = row;
        snprintf(v, sizeof v, "id-%u", i);
        add(&s, v, row);
    }
    add(&s, "last", UINT32_MAX);
    add(&s, "first again", 1);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(v, sizeof v, "id-%u", i);
        cr_assert_eq(find(&s, v), rows[i], "value %u", i);
    }
    cr_assert_eq(find(&s, "last"), UINT32_MAX);
    cr_assert_eq(find(&s, "first again"), 1);
    unique_set_free(&s);
    free(rows);
}

/* The bench sheet's emails, a quarter of a million: every one found at its row, none of
 * their neighbours one digit further. */
Test(unique_set, many_emails)
{
    static const char *first[] = {"ada", "grace", "linus", "barbara", "ken"};
    static const char *last[] = {"lovelace", "hopper", "torvalds", "liskov", "thompson"};
    struct unique_set s = UNIQUE_SET_INIT;
    char v[64];
    enum { N = 250000 };
    for (uint32_t r = 1; r <= N; r++) {
        snprintf(v, sizeof v, "%s.%s%u@example.com", first[r % 5], last[r / 5 % 5], r);
        add(&s, v, r + 1);
    }
    for (uint32_t r = 1; r <= N; r++) {
        snprintf(v, sizeof v, "%s.%s%u@example.com", first[r % 5], last[r / 5 % 5], r);
        cr_assert_eq(find(&s, v), r + 1);
        snprintf(v, sizeof v, "%s.%s%u@example.com", first[r % 5], last[r / 5 % 5], r + N);
        cr_assert_eq(find(&s, v), 0);
    }
    cr_assert_eq(s.count, N);
    /* what this set is for: under 20 bytes a value, table included (the values alone
     * take 28) */
    cr_assert_lt(s.arena_len + s.cap * 5, (size_t)N * 20);
    unique_set_free(&s);
}

Test(unique_set, row_zero_is_refused_and_leaves_the_set_unchanged)
{
    struct unique_set s = UNIQUE_SET_INIT;
    cr_assert_eq(add_n(&s, "a", 1, 0), SD_ENOMEM);
    cr_assert_eq(s.count, 0);
    cr_assert_eq(find(&s, "a"), 0);
    unique_set_free(&s);
}

Test(unique_set, a_value_past_4_gib_is_refused)
{
    struct unique_set s = UNIQUE_SET_INIT;
    struct unique_key k = UNIQUE_KEY_INIT;
    /* refused on its length alone, before a byte of it is read */
    cr_assert_eq(unique_set_key(&s, &k, "", (size_t)UINT32_MAX + 1), SD_ENOMEM);
    unique_key_free(&k);
    unique_set_free(&s);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Runs out of address space on purpose: every add that fails must leave the set as it was,
 * and what was added before must still be found. (Not under ASan, whose allocator dies
 * rather than return NULL.) */
Test(unique_set, out_of_memory_leaves_the_set_as_it_was)
{
#ifdef UNDER_ASAN
    cr_skip_test("ASan's allocator does not return NULL");
#else
    struct rlimit old;
    cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
    /* the limit: what the process maps now and 64 MiB more */
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert_not_null(f);
    char line[256];
    unsigned long vm_kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmSize:", 7))
            vm_kb = strtoul(line + 7, NULL, 10);
    fclose(f);
    cr_assert_gt(vm_kb, 0);
    struct rlimit low = old;
    low.rlim_cur = ((rlim_t)vm_kb << 10) + (64u << 20);
    if (low.rlim_cur > old.rlim_cur)
        cr_skip_test("the address space limit is already lower");
    struct unique_set s = UNIQUE_SET_INIT;
    struct unique_key k = UNIQUE_KEY_INIT;
    char v[96];
    uint32_t added = 0;
    int rc = 0;
    cr_assert_eq(setrlimit(RLIMIT_AS, &low), 0);
    while (rc == 0 && added < 50000000) {
        snprintf(v, sizeof v, "a value long enough to fill memory sooner %u", added + 1);
        if ((rc = unique_set_key(&s, &k, v, strlen(v))) == 0 &&
            (rc = unique_set_add(&s, &k, added + 1)) == 0)
            added++;
    }
    setrlimit(RLIMIT_AS, &old);
    cr_assert_eq(rc, SD_ENOMEM);
    cr_assert_eq(s.count, added);
    for (uint32_t i = 1; i <= added; i += 9973) {
        snprintf(v, sizeof v, "a value long enough to fill memory sooner %u", i);
        cr_assert_eq(find(&s, v), i);
    }
    snprintf(v, sizeof v, "a value long enough to fill memory sooner %u", added + 1);
    cr_assert_eq(find(&s, v), 0);
    add(&s, v, added + 1); /* memory is back: the same add now succeeds */
    cr_assert_eq(find(&s, v), added + 1);
    unique_key_free(&k);
    unique_set_free(&s);
#endif
}
