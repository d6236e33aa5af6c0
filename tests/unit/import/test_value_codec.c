/* The value codec: with one codec, codes compare equal exactly when values do, a value that
 * would not get shorter is reported so, and training reads its sample and nothing more. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/value_codec.h"

#define NVALUES 3000

static char values[NVALUES][48];

/* Trains on NVALUES email addresses, about 90 KiB: more than the sample, so the last value
 * read is cut and the rest are not read. */
static struct value_codec *train_emails(void)
{
    static struct value_codec_sample sample[NVALUES];
    for (unsigned i = 0; i < NVALUES; i++) {
        int n = snprintf(values[i], sizeof values[i], "first.last%u@mail%u.example.com", i, i % 7);
        sample[i] = (struct value_codec_sample){(const unsigned char *)values[i], (size_t)n};
    }
    struct value_codec *c = NULL;
    cr_assert_eq(value_codec_train(sample, NVALUES, &c), 0);
    cr_assert_not_null(c);
    return c;
}

/* The stored form a caller would keep: the codes, or the bytes flagged raw. */
struct coded {
    unsigned char bytes[64];
    size_t len;
    int raw;
};

static void code(const struct value_codec *c, const char *v, struct coded *out)
{
    size_t n = strlen(v);
    cr_assert_leq(n + 2, sizeof out->bytes);
    size_t len = value_codec_encode(c, (const unsigned char *)v, n, out->bytes);
    out->raw = len == SIZE_MAX;
    if (out->raw) {
        memcpy(out->bytes, v, n);
        len = n;
    } else {
        cr_assert_lt(len, n, "codes are shorter than the value, or not used");
    }
    out->len = len;
}

static int same(const struct coded *a, const struct coded *b)
{
    return a->raw == b->raw && a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

Test(value_codec, codes_compare_equal_exactly_when_values_do)
{
    struct value_codec *c = train_emails();
    const char *probe[] = {
        "first.last12@mail5.example.com",
        "first.last12@mail5.example.com",
        "first.last12@mail5.example.co",
        "first.last12@mail5.example.comm",
        "first.last21@mail5.example.com",
        "First.last12@mail5.example.com",
        "first.last12@mail5.example.con",
        "xfirst.last12@mail5.example.com",
        "zz",
        "z",
        "",
        "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
        "first.last2999@mail3.example.com",
    };
    size_t n = sizeof probe / sizeof *probe;
    struct coded coded[sizeof probe / sizeof *probe];
    for (size_t i = 0; i < n; i++)
        code(c, probe[i], &coded[i]);
    cr_assert_eq(coded[0].raw, 0, "an address like the sample's is coded");
    cr_assert_leq(coded[0].len, strlen(probe[0]) / 2);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            cr_assert_eq(same(&coded[i], &coded[j]), !strcmp(probe[i], probe[j]), "%zu, %zu", i, j);
    value_codec_free(c);
}

Test(value_codec, reports_values_it_cannot_shorten)
{
    struct value_codec *c = train_emails();
    unsigned char out[16];
    const unsigned char noise[] = {0xf1, 0x03, 0xe2, 0x17, 0xd3, 0x80, 0xc4, 0x99, 0xb5, 0x01};
    cr_assert_eq(value_codec_encode(c, noise, sizeof noise, out), SIZE_MAX);
    cr_assert_eq(value_codec_encode(c, (const unsigned char *)"", 0, out), SIZE_MAX);
    cr_assert_eq(value_codec_encode(c, (const unsigned char *)"f", 1, out), SIZE_MAX);
    value_codec_free(c);
}

Test(value_codec, training_is_deterministic)
{
    struct value_codec *a = train_emails(), *b = train_emails();
    struct coded x, y;
    for (unsigned i = 0; i < NVALUES; i += 37) {
        code(a, values[i], &x);
        code(b, values[i], &y);
        cr_assert(same(&x, &y));
    }
    value_codec_free(a);
    value_codec_free(b);
}

Test(value_codec, trains_on_an_empty_sample)
{
    struct value_codec *c = NULL;
    cr_assert_eq(value_codec_train(NULL, 0, &c), 0);
    unsigned char out[16];
    cr_assert_eq(value_codec_encode(c, (const unsigned char *)"abcdef", 6, out), SIZE_MAX);
    value_codec_free(c);
}
