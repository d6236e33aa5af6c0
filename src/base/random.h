/* Random bytes for everything that must not be guessed (job ids, CSRF tokens, CSP nonces, the
 * server's secret key): libsodium's randombytes_buf, which reads the kernel's CSPRNG. The one
 * home of randomness in sheetd. */
#ifndef SHEETD_BASE_RANDOM_H
#define SHEETD_BASE_RANDOM_H

#include <stddef.h>

#include "base/error.h"

/* Fills out[0..len) with random bytes. SD_ERROR only when libsodium cannot start
 * (crypto_init). */
int random_bytes(void *out, size_t len, struct sd_error *err);

#endif
