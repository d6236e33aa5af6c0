/* Small string helpers shared by every layer. ASCII-only case folding on purpose: headers,
 * identifiers and keywords are compared the way people type them, without locale surprises. */
#ifndef SHEETD_BASE_STR_H
#define SHEETD_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>

/* strdup/strndup that return NULL on allocation failure (never on NULL input: asserted). */
char *str_dup(const char *s);
char *str_ndup(const char *s, size_t len);

bool str_eq(const char *a, const char *b);
bool str_ieq(const char *a, const char *b);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);

/* The span of `s[0..len)` without leading and trailing ASCII white space. */
void str_trim_span(const char **s, size_t *len);

/* Length in bytes of the well-formed UTF-8 sequence that starts s[0..len) (1 for ASCII), or 0
 * when the bytes there are not one (overlong, surrogate, > U+10FFFF, truncated, stray). */
size_t str_utf8_sequence_length(const char *s, size_t len);

/* True when `s[0..len)` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool str_utf8_valid(const char *s, size_t len);

/* Appends the UTF-8 encoding of `cp` to out (at most 4 bytes); returns the byte count,
 * 0 for an invalid code point. */
size_t str_utf8_encode(unsigned long cp, char out[4]);

/* Number of code points in valid UTF-8 text (counts bytes that do not continue a sequence). */
size_t str_utf8_length(const char *s, size_t len);

/* The value of a hexadecimal digit, or -1. */
int str_hex_value(char c);

/* Parses a whole decimal int64 (optional sign); false on junk or overflow. */
bool str_to_int64(const char *s, long long *out);

#endif
