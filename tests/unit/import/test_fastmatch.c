/* fastmatch against glibc's regexec: the same answer on the subset it compiles (checked on
 * hand-picked cases and on thousands of random patterns and values), and NULL for patterns
 * outside it. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/fastmatch.h"

static bool regex_says(const char *pattern, const char *s, size_t len)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "regcomp %s", pattern);
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)len;
    bool ok = regexec(&re, s, 1, m, REG_STARTEND) == 0;
    regfree(&re);
    return ok;
}

static bool fast_says(const struct fastmatch *m, const char *s, size_t len)
{
    void *scratch = malloc(FASTMATCH_SCRATCH_BYTES(len));
    cr_assert_not_null(scratch);
    bool ok = fastmatch_run(m, s, len, scratch);
    free(scratch);
    return ok;
}

static void agree(const char *pattern, const char *s, size_t len)
{
    struct fastmatch *m;
    cr_assert_eq(fastmatch_compile(&m, pattern), 0);
    cr_assert_not_null(m, "%s should be in the subset", pattern);
    bool want = regex_says(pattern, s, len);
    cr_assert_eq(fast_says(m, s, len), want, "%s on \"%.*s\": regexec says %d", pattern, (int)len,
                 s, want);
    fastmatch_free(m);
}

Test(fastmatch, the_customer_code_pattern)
{
    const char *p = "^C-[0-9]{6,7}-[A-Z]{2}$";
    static const char *const values[] = {
        "C-000123-AB",
        "C-0001234-AB",
        "C-00012-AB",
        "C-00012345-AB",
        "C-000123-Ab",
        "C-000123-ABC",
        "c-000123-AB",
        "C-000123AB",
        "",
        "C-",
        "XC-000123-AB",
        "C-000123-AB ",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        agree(p, values[i], strlen(values[i]));
    /* Bytes the subset never names: NUL, non-ASCII, a newline. */
    agree(p, "C-000\000123-AB", 12);
    agree(p,
          "C-000123-\xc3\x84"
          "B",
          12);
    agree("^a*$", "aa\naa", 5);
    agree("^[a-z0-9._]+@[a-z]+\\.[a-z]{2,3}$", "ada.l_1@example.com", 19);
    agree("^[a-z0-9._]+@[a-z]+\\.[a-z]{2,3}$", "ada@example.info", 16);
    agree("^$", "", 0);
    agree("^$", "x", 1);
    agree("^x?y{0}z{2,}$", "zz", 2);
    agree("^x?y{0}z{2,}$", "xzzzz", 5);
    agree("^x?y{0}z{2,}$", "xyzz", 4);
}

static const char *const members[] = {"a", "b", "0", "1", "_", "Z", "ab", "a-b", "0-1"};
static const char *const repeats[] = {"", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "{2,3}"};
static const char alphabet[] = "ab01Z-c";

/* Builds a random pattern in the subset; atoms overlap on purpose so that splitting the
 * value among them is ambiguous (where greedy matching would go wrong). */
static void random_pattern(char *out, size_t cap, unsigned *seed)
{
    size_t n = 0;
    out[n++] = '^';
    int atoms = rand_r(seed) % 6;
    for (int i = 0; i < atoms && n + 24 < cap; i++) {
        int kind = rand_r(seed) % 3;
        if (kind == 0) {
            out[n++] = alphabet[rand_r(seed) % (sizeof alphabet - 1)];
        } else if (kind == 1) {
            out[n++] = '\\';
            out[n++] = '.';
        } else {
            n += (size_t)snprintf(out + n, cap - n, "[%s%s]",
                                  members[rand_r(seed) % (sizeof members / sizeof *members)],
                                  members[rand_r(seed) % 3]);
        }
        n += (size_t)snprintf(out + n, cap - n, "%s",
                              repeats[rand_r(seed) % (sizeof repeats / sizeof *repeats)]);
    }
    out[n++] = '$';
    out[n] = '\0';
}

Test(fastmatch, agrees_with_regexec_on_random_patterns_and_values)
{
    unsigned seed = 12345;
    char pattern[128], value[16];
    int compiled = 0, matched = 0;
    for (int i = 0; i < 3000; i++) {
        random_pattern(pattern, sizeof pattern, &seed);
        struct fastmatch *m;
        cr_assert_eq(fastmatch_compile(&m, pattern), 0);
        cr_assert_not_null(m, "%s should be in the subset", pattern);
        compiled++;
        regex_t re;
        cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "%s", pattern);
        for (int j = 0; j < 20; j++) {
            size_t len = (size_t)(rand_r(&seed) % 9);
            for (size_t k = 0; k < len; k++)
                value[k] = (rand_r(&seed) % 8 == 0) ? '.' : alphabet[rand_r(&seed) % 7];
            value[len] = '\0';
            regmatch_t r[1] = {{0, (regoff_t)len}};
            bool want = regexec(&re, value, 1, r, REG_STARTEND) == 0;
            matched += want;
            cr_assert_eq(fast_says(m, value, len), want, "%s on \"%s\": regexec says %d", pattern,
                         value, want);
        }
        regfree(&re);
        fastmatch_free(m);
    }
    cr_assert_eq(compiled, 3000);
    cr_assert_gt(matched, 1000, "the random cases should match often enough to mean something");
}

Test(fastmatch, patterns_outside_the_subset_are_left_to_regexec)
{
    static const char *const outside[] = {
        "abc",           "^abc",      "abc$",  "^a|b$",   "^(ab)$", "^a.c$",      "^[^a]$",
        "^[[:digit:]]$", "^\\d$",     "^a**$", "^a{2}?$", "^[a-]$", "^[z-a]$",    "^[0-z]$",
        "^a{,2}$",       "^a{5000}$", "^a\\$", "^]$",     "^[]a]$", "^\xc3\x84$", "^a{2$",
    };
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        struct fastmatch *m = (struct fastmatch *)1;
        cr_assert_eq(fastmatch_compile(&m, outside[i]), 0);
        cr_assert_null(m, "%s is outside the subset", outside[i]);
    }
}

/* Values of 64 bytes and more take the other path (positions in an array, not a word):
 * long runs under unbounded and ranged repeats, around the 64-byte boundary. */
Test(fastmatch, long_values_agree_with_regexec)
{
    static const char *const patterns[] = {
        "^[ab]*a[ab0]{0,3}b+$", "^a+b*[a0]{2,}$", "^[ab0]{60,70}$",
        "^[a-b]+0?[ab]{3}$",    "^0*[ab]+$",
    };
    unsigned seed = 99;
    char value[160];
    int matched = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        for (int j = 0; j < 400; j++) {
            size_t len = 58 + (size_t)(rand_r(&seed) % 80);
            int zeros = rand_r(&seed) % 4; /* how rare '0' is in this value */
            for (size_t k = 0; k < len; k++)
                value[k] = (zeros && rand_r(&seed) % (20 * zeros) == 0) ? '0'
                           : rand_r(&seed) % 2                          ? 'a'
                                                                        : 'b';
            matched += regex_says(patterns[i], value, len);
            agree(patterns[i], value, len);
        }
    }
    cr_assert_gt(matched, 200);
}
