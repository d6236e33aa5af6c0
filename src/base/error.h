/*
 * One error type for the whole program, after libgit2's rules:
 *
 *  - a function that can fail returns 0 (or a non-negative count) on success and
 *    one of the negative SD_E* codes below on failure;
 *  - it takes a `struct sd_error *err` as its last argument and, on failure, fills it
 *    with a sentence a person can act on ("orders.xlsx is not a spreadsheet: it looks
 *    like plain text");
 *  - `err` may be NULL when the caller does not care about the sentence;
 *  - the few codes callers branch on are distinct (not found, retry, invalid input,
 *    limit exceeded, cancelled); everything else is SD_ERROR.
 *
 * The message lives inside the struct, so there is nothing to free and no thread-local
 * "last error" to race on.
 */
#ifndef SHEETD_BASE_ERROR_H
#define SHEETD_BASE_ERROR_H

#include <stdarg.h>

enum sd_error_code {
    SD_OK = 0,
    SD_ERROR = -1,      /* a hard failure: I/O, a broken file, a database error */
    SD_ENOMEM = -2,     /* an allocation failed */
    SD_ENOTFOUND = -3,  /* the thing asked for does not exist */
    SD_ERETRY = -4,     /* transient: the database was busy or a serialization failed */
    SD_EINVALID = -5,   /* the input is malformed or breaks a rule */
    SD_ELIMIT = -6,     /* the input exceeds a configured limit */
    SD_EEXISTS = -7,    /* a unique thing already exists */
    SD_ECANCELLED = -8, /* the caller asked to stop */
    SD_EUSAGE = -9,     /* the caller used an API or a command wrongly */
    SD_ENOSPC = -10,    /* the disk is full: transient, worth retrying later */
};

#define SD_ERROR_MESSAGE_MAX 512

struct sd_error {
    int code;
    char message[SD_ERROR_MESSAGE_MAX];
};

#define SD_ERROR_INIT                                                                              \
    {                                                                                              \
        .code = SD_OK, .message = { 0 }                                                            \
    }

/* Fills `err` (when not NULL) with `code` and the formatted sentence; evaluates to `code`
 * so that callers can write `return sd_error_set(err, SD_EINVALID, "...")`. These are (GNU
 * statement-expression) macros so the compiler sees the (negative, constant) code that comes back
 * and can prove that an out-parameter is set on every path that returns 0. `code` is evaluated
 * once, before the message (so `errno == ENOENT ? ...` sees the errno of the failure). */
#define sd_error_set(err, code, ...)                                                               \
    __extension__({                                                                                \
        const int sd_error_code_ = (code);                                                         \
        sd_error_fill((err), sd_error_code_, __VA_ARGS__);                                         \
        sd_error_code_;                                                                            \
    })
#define sd_error_setv(err, code, fmt, ap)                                                          \
    __extension__({                                                                                \
        const int sd_error_code_ = (code);                                                         \
        sd_error_fillv((err), sd_error_code_, (fmt), (ap));                                        \
        sd_error_code_;                                                                            \
    })
void sd_error_fill(struct sd_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sd_error_fillv(struct sd_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* The out-of-memory error, which every allocation failure reports; evaluates to SD_ENOMEM. */
#define sd_error_nomem(err)                                                                        \
    __extension__({                                                                                \
        sd_error_fill((err), SD_ENOMEM, "out of memory");                                          \
        SD_ENOMEM;                                                                                 \
    })

/* Prepends "context: " to an existing message, for adding the file or row a lower
 * layer did not know about. Keeps the code. Returns the code. */
int sd_error_prefix(struct sd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sd_error_clear(struct sd_error *err);

/* The message, or a generic sentence for a code when no message was set. */
const char *sd_error_message(const struct sd_error *err);

#endif
