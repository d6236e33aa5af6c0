#include "base/job_id.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int random_bytes(void *out, unsigned long len, struct sd_error *err)
{
    unsigned char *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sd_error_set(err, SD_ERROR, "could not read random bytes: %s",
                                strerror(errno));
        }
        p += n;
        len -= (unsigned long)n;
    }
    return 0;
}

int job_id_generate(char out[JOB_ID_LEN + 1], struct sd_error *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[JOB_ID_LEN / 2];
    int rc = random_bytes(bytes, sizeof bytes, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[JOB_ID_LEN] = '\0';
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
