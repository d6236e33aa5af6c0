#include "base/error.h"

#include <stdio.h>
#include <string.h>

void sd_error_fillv(struct sd_error *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
}

void sd_error_fill(struct sd_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sd_error_fillv(err, code, fmt, ap);
    va_end(ap);
}

int sd_error_prefix(struct sd_error *err, const char *fmt, ...)
{
    if (!err)
        return SD_ERROR;
    char prefix[SD_ERROR_MESSAGE_MAX];
    char old[SD_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Assemble in a larger buffer so the truncation to the message size is explicit. */
    char joined[2 * SD_ERROR_MESSAGE_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, old);
    memcpy(err->message, joined, sizeof err->message - 1);
    err->message[sizeof err->message - 1] = '\0';
    return err->code;
}

void sd_error_clear(struct sd_error *err)
{
    if (err) {
        err->code = SD_OK;
        err->message[0] = '\0';
    }
}

const char *sd_error_message(const struct sd_error *err)
{
    if (!err)
        return "unknown error";
    if (err->message[0])
        return err->message;
    switch (err->code) {
    case SD_OK:
        return "no error";
    case SD_ENOMEM:
        return "out of memory";
    case SD_ENOTFOUND:
        return "not found";
    case SD_ERETRY:
        return "the database is busy; try again";
    case SD_EINVALID:
        return "invalid input";
    case SD_ELIMIT:
        return "a limit was exceeded";
    case SD_EEXISTS:
        return "it already exists";
    case SD_ECANCELLED:
        return "cancelled";
    case SD_EUSAGE:
        return "wrong usage";
    case SD_ENOSPC:
        return "the disk is full";
    default:
        return "unknown error";
    }
}
