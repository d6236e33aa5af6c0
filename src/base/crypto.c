#include "base/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1; /* written once, under sodium_once */

static void sodium_start(void)
{
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

int crypto_init(struct sd_error *err)
{
    pthread_once(&sodium_once, sodium_start);
    if (sodium_status != 0)
        return sd_error_set(err, SD_ERROR,
                            "the cryptography library (libsodium) could not start; check "
                            "that /dev/urandom is readable");
    return 0;
}

/* libsodium's hashing and encoding need no initialisation, but calling it keeps the rule
 * simple: every entry point of this file makes the library ready first. */
static void ready(void)
{
    pthread_once(&sodium_once, sodium_start);
}

void crypto_sha256(unsigned char digest[CRYPTO_SHA256_BYTES], const void *data, size_t len)
{
    ready();
    crypto_hash_sha256(digest, data, len);
}

void crypto_base64(char *out, const unsigned char *data, size_t len)
{
    ready();
    sodium_bin2base64(out, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), data,
                      len, sodium_base64_VARIANT_ORIGINAL);
}

void crypto_hex(char *out, const unsigned char *data, size_t len)
{
    ready();
    sodium_bin2hex(out, 2 * len + 1, data, len);
}

bool crypto_unhex(unsigned char *out, size_t len, const char *hex)
{
    size_t bin_len = 0;
    const char *end = NULL;
    ready();
    if (!hex || strlen(hex) != 2 * len)
        return false;
    return sodium_hex2bin(out, len, hex, 2 * len, NULL, &bin_len, &end) == 0 && bin_len == len &&
           end == hex + 2 * len;
}

void crypto_hmac(unsigned char mac[CRYPTO_HMAC_BYTES], const unsigned char key[CRYPTO_KEY_BYTES],
                 const void *data, size_t len)
{
    ready();
    crypto_auth_hmacsha256(mac, data, len, key);
}

bool crypto_hmac_verify(const unsigned char mac[CRYPTO_HMAC_BYTES],
                        const unsigned char key[CRYPTO_KEY_BYTES], const void *data, size_t len)
{
    ready();
    return crypto_auth_hmacsha256_verify(mac, data, len, key) == 0;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    ready();
    return sodium_memcmp(a, b, len) == 0;
}

bool crypto_token_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    unsigned char da[CRYPTO_SHA256_BYTES], db[CRYPTO_SHA256_BYTES];
    crypto_sha256(da, a, strlen(a));
    crypto_sha256(db, b, strlen(b));
    return sodium_memcmp(da, db, sizeof da) == 0;
}

void crypto_wipe(void *secret, size_t len)
{
    sodium_memzero(secret, len);
}

/* Reads the key from an existing file: exactly CRYPTO_KEY_BYTES bytes. 0, SD_ENOTFOUND when
 * there is no file, or SD_ERROR. */
static int read_key(unsigned char key[CRYPTO_KEY_BYTES], const char *path, struct sd_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return SD_ENOTFOUND;
        return sd_error_set(err, SD_ERROR, "could not read the secret key %s: %s", path,
                            strerror(errno));
    }
    unsigned char bytes[CRYPTO_KEY_BYTES + 1];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = read(fd, bytes + got, sizeof bytes - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return sd_error_set(err, SD_ERROR, "could not read the secret key %s: %s", path,
                                strerror(e));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != CRYPTO_KEY_BYTES) {
        sodium_memzero(bytes, sizeof bytes);
        return sd_error_set(err, SD_ERROR,
                            "the secret key %s is damaged (it must hold exactly %d bytes); "
                            "delete it and sheetd makes a new one (forms open in browsers "
                            "will then need a reload)",
                            path, CRYPTO_KEY_BYTES);
    }
    memcpy(key, bytes, CRYPTO_KEY_BYTES);
    sodium_memzero(bytes, sizeof bytes);
    return 0;
}

/* Writes a fresh key to a file of its own next to `path` and links it into place, so the key
 * appears whole or not at all. SD_EEXISTS when another process linked its key first. */
static int create_key(unsigned char key[CRYPTO_KEY_BYTES], const char *path, struct sd_error *err)
{
    unsigned char fresh[CRYPTO_KEY_BYTES];
    struct buf tmp = BUF_INIT;
    int rc = 0;
    randombytes_buf(fresh, sizeof fresh);
    if (buf_printf(&tmp, "%s.%ld.%08x", path, (long)getpid(), randombytes_random()) != 0) {
        rc = sd_error_nomem(err);
        goto done;
    }
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = sd_error_set(err, SD_ERROR, "could not create the secret key %s: %s", path,
                          strerror(errno));
        goto done;
    }
    ssize_t n;
    do
        n = write(fd, fresh, sizeof fresh);
    while (n < 0 && errno == EINTR);
    int werr = n == (ssize_t)sizeof fresh ? 0 : (n < 0 ? errno : EIO);
    if (!werr && fsync(fd) != 0)
        werr = errno;
    close(fd);
    if (!werr && link(tmp.data, path) != 0)
        werr = errno;
    unlink(tmp.data);
    if (werr == EEXIST)
        rc = SD_EEXISTS;
    else if (werr)
        rc = sd_error_set(err, SD_ERROR, "could not create the secret key %s: %s", path,
                          strerror(werr));
    else
        memcpy(key, fresh, sizeof fresh);
done:
    sodium_memzero(fresh, sizeof fresh);
    buf_free(&tmp);
    return rc;
}

int crypto_key_file_load(unsigned char key[CRYPTO_KEY_BYTES], const char *path,
                         struct sd_error *err)
{
    int rc = crypto_init(err);
    if (rc)
        return rc;
    /* read, or create; when another process created it meanwhile, read theirs */
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = read_key(key, path, err);
        if (rc != SD_ENOTFOUND)
            return rc;
        rc = create_key(key, path, err);
        if (rc != SD_EEXISTS)
            return rc;
    }
    return sd_error_set(err, SD_ERROR, "could not create the secret key %s", path);
}
