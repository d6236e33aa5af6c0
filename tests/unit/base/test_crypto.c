/* base/crypto.h and base/random.h: SHA-256, base64 and hex against the FIPS 180-4 and RFC
 * 4648 vectors (the CSP hash and the ETags print exactly what the hand-written code they
 * replace printed), HMAC-SHA256, constant-time comparisons, the secret key file, random
 * bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/crypto.h"
#include "base/random.h"
#include "test_support.h"

static void hex_of(const char *text, size_t len, char out[65])
{
    unsigned char digest[CRYPTO_SHA256_BYTES];
    crypto_sha256(digest, text, len);
    crypto_hex(out, digest, sizeof digest);
}

Test(crypto, sha256_known_vectors)
{
    char hex[65];
    hex_of("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hex_of("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two_blocks, strlen(two_blocks), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    cr_assert_not_null(million);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, hex);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* The two outputs the web layer publishes: the CSP's 'sha256-<base64>' and the ETag, the
 * first 128 bits of the digest in hex. */
Test(crypto, csp_hash_and_etag_forms)
{
    unsigned char digest[CRYPTO_SHA256_BYTES];
    char b64[CRYPTO_SHA256_BASE64_SIZE], hex[33];
    crypto_sha256(digest, "abc", 3);
    crypto_base64(b64, digest, sizeof digest);
    cr_assert_str_eq(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    crypto_hex(hex, digest, 16);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223");
}

Test(crypto, base64_padding)
{
    char out[16];
    crypto_base64(out, (const unsigned char *)"f", 1);
    cr_assert_str_eq(out, "Zg==");
    crypto_base64(out, (const unsigned char *)"fo", 2);
    cr_assert_str_eq(out, "Zm8=");
    crypto_base64(out, (const unsigned char *)"foobar", 6);
    cr_assert_str_eq(out, "Zm9vYmFy");
    crypto_base64(out, (const unsigned char *)"\xfb\xff", 2);
    cr_assert_str_eq(out, "+/8=");
    crypto_base64(out, (const unsigned char *)"", 0);
    cr_assert_str_eq(out, "");
}

Test(crypto, unhex_takes_exactly_the_length)
{
    unsigned char out[3];
    cr_assert(crypto_unhex(out, 3, "00fFa0"));
    cr_assert(out[0] == 0 && out[1] == 0xff && out[2] == 0xa0);
    cr_assert_not(crypto_unhex(out, 3, "00ffa"));
    cr_assert_not(crypto_unhex(out, 3, "00ffa0b"));
    cr_assert_not(crypto_unhex(out, 3, "00ffg0"));
    cr_assert_not(crypto_unhex(out, 3, "00 fa0"));
    cr_assert_not(crypto_unhex(out, 3, NULL));
}

Test(crypto, hmac_sha256)
{
    unsigned char key[CRYPTO_KEY_BYTES], mac[CRYPTO_HMAC_BYTES];
    char hex[65];
    for (int i = 0; i < CRYPTO_KEY_BYTES; i++)
        key[i] = (unsigned char)i;
    const char *msg = "what do ya want for nothing?";
    crypto_hmac(mac, key, msg, strlen(msg));
    crypto_hex(hex, mac, sizeof mac);
    /* Python: hmac.new(bytes(range(32)), msg, hashlib.sha256).hexdigest() */
    cr_assert_str_eq(hex, "099805f4ac310786968565c098db515cc50862b420ae31e20238312344bed36a");
    cr_assert(crypto_hmac_verify(mac, key, msg, strlen(msg)));
    cr_assert_not(crypto_hmac_verify(mac, key, msg, strlen(msg) - 1));
    mac[31] ^= 1;
    cr_assert_not(crypto_hmac_verify(mac, key, msg, strlen(msg)));
    mac[31] ^= 1;
    key[0] ^= 1;
    cr_assert_not(crypto_hmac_verify(mac, key, msg, strlen(msg)));
}

Test(crypto, equal_and_token_equal)
{
    cr_assert(crypto_equal("abcdef", "abcdef", 6));
    cr_assert_not(crypto_equal("abcdef", "abcdeF", 6));
    cr_assert_not(crypto_equal("xbcdef", "abcdef", 6));
    cr_assert(crypto_token_equal("s3cret-token", "s3cret-token"));
    cr_assert_not(crypto_token_equal("s3cret-token", "s3cret-tokeN"));
    cr_assert_not(crypto_token_equal("s3cret-token", "s3cret-token "));
    cr_assert_not(crypto_token_equal("s3cret-token", "s3cret"));
    cr_assert_not(crypto_token_equal("", "x"));
    cr_assert(crypto_token_equal("", ""));
    cr_assert_not(crypto_token_equal(NULL, "x"));
    cr_assert_not(crypto_token_equal("x", NULL));
    cr_assert_not(crypto_token_equal(NULL, NULL));
}

Test(crypto, key_file_is_created_0600_then_read_back)
{
    char *dir = test_make_tmpdir();
    cr_assert_not_null(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/secret_key", dir);
    unsigned char a[CRYPTO_KEY_BYTES], b[CRYPTO_KEY_BYTES], zero[CRYPTO_KEY_BYTES] = {0};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(crypto_key_file_load(a, path, &err), 0, "%s", err.message);
    cr_assert_neq(memcmp(a, zero, sizeof a), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(st.st_size, CRYPTO_KEY_BYTES);
    cr_assert_eq(crypto_key_file_load(b, path, &err), 0, "%s", err.message);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "the second start reads the first one's key");

    FILE *f = fopen(path, "ab");
    cr_assert_not_null(f);
    fputc('x', f);
    fclose(f);
    cr_assert_eq(crypto_key_file_load(b, path, &err), SD_ERROR);
    char want[4400];
    snprintf(want, sizeof want,
             "the secret key %s is damaged (it must hold exactly 32 bytes); delete it and sheetd "
             "makes a new one (forms open in browsers will then need a reload)",
             path);
    cr_assert_str_eq(err.message, want);

    snprintf(path, sizeof path, "%s/missing/secret_key", dir);
    cr_assert_eq(crypto_key_file_load(b, path, &err), SD_ERROR);
    cr_assert(strstr(err.message, "could not create the secret key"), "%s", err.message);
    test_rmtree(dir);
    free(dir);
}

Test(random, bytes_differ_between_calls)
{
    unsigned char a[32], b[32];
    cr_assert_eq(random_bytes(a, sizeof a, NULL), 0);
    cr_assert_eq(random_bytes(b, sizeof b, NULL), 0);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
}
