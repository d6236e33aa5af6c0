/*
 * Numbers as text: the one shortest-round-trip formatter. Cell dumps, CSV output, import
 * messages and template problems all spell a double the same way.
 */
#ifndef SHEETD_BASE_NUMBER_H
#define SHEETD_BASE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* Room for any number_format result, NUL included. */
#define NUMBER_FORMAT_MAX 32

/* Integral values below 1e15 in magnitude as integers (negative zero as "0"); otherwise the
 * shortest of %.15g, %.16g, %.17g that reads back to the same double; NaN and infinities as
 * "NaN", "Infinity", "-Infinity". Returns the length. */
size_t number_format(double value, char out[NUMBER_FORMAT_MAX]);

/* Writes v in decimal (no NUL) and returns the length (at most 20). */
size_t number_put_u64(char *out, uint64_t v);

#endif
