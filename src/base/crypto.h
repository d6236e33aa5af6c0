/*
 * Every cryptographic operation sheetd uses, in one place and all done by libsodium (nothing
 * here is hand-written): SHA-256 with base64 and hex for the CSP hash and the ETags, HMAC-SHA256
 * for the tokens the server issues and checks itself (CSRF), constant-time comparison of
 * secrets (CSRF tokens, the API's bearer token) and the server's secret key file. Random
 * bytes are base/random.h's, built on the same library.
 *
 * crypto_init makes libsodium ready once per process (pthread_once); every function here
 * calls it, so callers never need to.
 */
#ifndef SHEETD_BASE_CRYPTO_H
#define SHEETD_BASE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define CRYPTO_SHA256_BYTES 32
/* base64 of a 32-byte digest with padding, plus the NUL */
#define CRYPTO_SHA256_BASE64_SIZE 45
#define CRYPTO_HMAC_BYTES 32
#define CRYPTO_KEY_BYTES 32

/* Makes libsodium ready (once per process, from any thread). SD_ERROR when it cannot be,
 * which only happens on a system without a usable random source. */
int crypto_init(struct sd_error *err);

/* The SHA-256 digest of data[0..len). */
void crypto_sha256(unsigned char digest[CRYPTO_SHA256_BYTES], const void *data, size_t len);

/* Standard base64 (RFC 4648 section 4, with '=' padding) of data[0..len) and a NUL;
 * `out` holds 4 * ceil(len / 3) + 1 bytes. */
void crypto_base64(char *out, const unsigned char *data, size_t len);

/* Lowercase hex of data[0..len) and a NUL; `out` holds 2 * len + 1 bytes. */
void crypto_hex(char *out, const unsigned char *data, size_t len);

/* Reads exactly 2 * len lowercase or uppercase hex digits of `hex` into out[0..len); false
 * (out unspecified) when `hex` is anything else. */
bool crypto_unhex(unsigned char *out, size_t len, const char *hex);

/* HMAC-SHA256 of data[0..len) under `key`. */
void crypto_hmac(unsigned char mac[CRYPTO_HMAC_BYTES], const unsigned char key[CRYPTO_KEY_BYTES],
                 const void *data, size_t len);

/* True when `mac` is the HMAC-SHA256 of data[0..len) under `key`, compared in constant
 * time. */
bool crypto_hmac_verify(const unsigned char mac[CRYPTO_HMAC_BYTES],
                        const unsigned char key[CRYPTO_KEY_BYTES], const void *data, size_t len);

/* True when a[0..len) equals b[0..len), in time that depends only on len. */
bool crypto_equal(const void *a, const void *b, size_t len);

/*
 * True when the NUL-terminated strings a and b are equal, in time that depends on neither
 * their contents nor where they first differ: both are hashed and the digests compared in
 * constant time, so even a length difference shows up only as hashing time. For secrets a
 * client presents, such as the API's bearer token. NULL equals nothing, not even NULL.
 */
bool crypto_token_equal(const char *a, const char *b);

/* Overwrites a secret with zeros in a way the compiler may not drop. */
void crypto_wipe(void *secret, size_t len);

/*
 * The server's secret key, kept in the file `path`: read when the file exists (it must hold
 * exactly CRYPTO_KEY_BYTES bytes), else created with fresh random bytes and mode 0600. Two
 * processes starting at once agree on one key (the file is written aside and linked into
 * place, so whoever links second reads the first one's key). SD_ERROR with a sentence naming
 * the file when it cannot be read or written, or has the wrong size.
 */
int crypto_key_file_load(unsigned char key[CRYPTO_KEY_BYTES], const char *path,
                         struct sd_error *err);

#endif
