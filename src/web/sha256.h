/*
 * SHA-256 (FIPS 180-4) and base64, for the two places the web layer needs a digest: the
 * Content-Security-Policy hash of the inline import map ('sha256-<base64>') and the ETags
 * of the static assets. Nothing here is used for secrets.
 */
#ifndef SHEETD_WEB_SHA256_H
#define SHEETD_WEB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
/* base64 of a 32-byte digest with padding, plus the NUL */
#define SHA256_BASE64_SIZE 45

struct sha256 {
    uint32_t state[8];
    uint64_t length; /* bytes hashed so far */
    unsigned char block[64];
    size_t used; /* bytes waiting in block */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, unsigned char digest[SHA256_DIGEST_LEN]);

/* One-shot digest of data[0..len). */
void sha256_digest(const void *data, size_t len, unsigned char digest[SHA256_DIGEST_LEN]);

/* Standard base64 with '=' padding; `out` must hold 4 * ceil(len / 3) + 1 bytes. */
void sha256_base64(char *out, const unsigned char *data, size_t len);

/* Lowercase hex of the first `nbytes` digest bytes; `out` holds 2 * nbytes + 1. */
void sha256_hex(char *out, const unsigned char *digest, size_t nbytes);

#endif
