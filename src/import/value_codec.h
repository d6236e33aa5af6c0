/*
 * A value codec in the manner of FSST (Boncz et al., VLDB 2020): a symbol table of up to 255
 * symbols of 1 to 8 bytes, each coded as one byte, trained on a sample of values. The unique
 * set (unique_set.c) codes the values it holds with it; an email address of 30 bytes takes
 * about 8.
 *
 * Coding is deterministic: with one codec, equal values get equal codes and different values
 * different codes, so a caller may compare and hash codes and never decode them (there is no
 * decoder). A value whose codes would not be shorter is reported as such, and the caller keeps
 * its bytes.
 *
 * The codec knows nothing of where its values are kept: training takes them as a plain array.
 */
#ifndef SHEETD_IMPORT_VALUE_CODEC_H
#define SHEETD_IMPORT_VALUE_CODEC_H

#include <stddef.h>

/* The sample training reads: FSST's own size. Later values are not looked at. */
#define VALUE_CODEC_SAMPLE_BYTES 16384

struct value_codec; /* the trained symbol table, about 150 KiB */

/* One value of a training sample. */
struct value_codec_sample {
    const unsigned char *bytes;
    size_t len;
};

/* Chooses the symbols from the first VALUE_CODEC_SAMPLE_BYTES of the n values (the last one
 * read may be cut). The sample needs to outlive only this call. 0 and *out, or SD_ENOMEM. */
int value_codec_train(const struct value_codec_sample *values, size_t n, struct value_codec **out);
/* Codes n bytes into out (room for n + 2); returns the coded length, or SIZE_MAX when it
 * would not be shorter than n (the caller then keeps the bytes). */
size_t value_codec_encode(const struct value_codec *c, const unsigned char *in, size_t n,
                          unsigned char *out);
void value_codec_free(struct value_codec *c);

#endif
