/*
 * The names server.c hashes the inline import map with, for its Content-Security-Policy
 * hash. The work is base/crypto.h's (libsodium); these wrappers only keep server.c unchanged
 * while it is being reworked on another branch. Once it calls crypto_sha256 and
 * crypto_base64 itself, delete this file. New code includes base/crypto.h.
 */
#ifndef SHEETD_WEB_SHA256_H
#define SHEETD_WEB_SHA256_H

#include <stddef.h>

#include "base/crypto.h"

#define SHA256_DIGEST_LEN CRYPTO_SHA256_BYTES
#define SHA256_BASE64_SIZE CRYPTO_SHA256_BASE64_SIZE

static inline void sha256_digest(const void *data, size_t len,
                                 unsigned char digest[SHA256_DIGEST_LEN])
{
    crypto_sha256(digest, data, len);
}

static inline void sha256_base64(char *out, const unsigned char *data, size_t len)
{
    crypto_base64(out, data, len);
}

#endif
