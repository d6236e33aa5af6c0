#include "base/random.h"

#include <sodium.h>

#include "base/crypto.h"

int random_bytes(void *out, size_t len, struct sd_error *err)
{
    int rc = crypto_init(err);
    if (rc)
        return rc;
    randombytes_buf(out, len);
    return 0;
}
