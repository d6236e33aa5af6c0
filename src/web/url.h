/*
 * Percent-decoding for request paths and urlencoded form bodies. Strict on purpose: a '%'
 * must be followed by two hex digits and the result must not hold a NUL byte, so a malformed
 * address or form is refused with 400 instead of being guessed at.
 */
#ifndef SHEETD_WEB_URL_H
#define SHEETD_WEB_URL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes in[0..len) into out, which must hold at least len + 1 bytes (decoding never grows
 * the text). With `plus_is_space` (form bodies) '+' becomes ' '. Returns the decoded length,
 * or -1 for a bad escape ("%zz", a lone "%") or an encoded NUL. The result is NUL-terminated.
 */
long url_decode(char *out, const char *in, size_t len, bool plus_is_space);

#endif
