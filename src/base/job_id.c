#include "base/job_id.h"

#include "base/crypto.h"

int job_id_generate(char out[JOB_ID_LEN + 1], struct sd_error *err)
{
    unsigned char bytes[JOB_ID_LEN / 2];
    int rc = random_bytes(bytes, sizeof bytes, err);
    if (rc < 0)
        return rc;
    crypto_hex(out, bytes, sizeof bytes);
    return 0;
}

bool job_id_valid(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= JOB_ID_LEN || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == JOB_ID_LEN;
}
