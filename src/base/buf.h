/*
 * A growable byte buffer, always NUL-terminated so `data` can be used as a C string.
 * A zeroed struct (BUF_INIT) is an empty buffer that owns nothing. Every function that
 * grows the buffer returns 0 or SD_ENOMEM and leaves the buffer unchanged on failure.
 * The buffer owns `data`; buf_free releases it, buf_detach hands it to the caller.
 *
 * A failure is sticky, as in libgit2's git_str: once an append failed, every later one
 * does nothing and fails too, and buf_status says so. So text built in many steps is
 * checked once at the end (`buf_puts(...); buf_printf(...); if (buf_status(&b)) ...`)
 * instead of after every step, and no step can be lost between two checks.
 */
#ifndef SHEETD_BASE_BUF_H
#define SHEETD_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct buf {
    char *data; /* NULL until something is appended */
    size_t len;
    size_t cap;
    bool failed; /* an append failed: later ones do nothing (buf_status) */
};

#define BUF_INIT                                                                                   \
    {                                                                                              \
        .data = NULL, .len = 0, .cap = 0, .failed = false                                          \
    }

int buf_grow(struct buf *b, size_t extra);
/* 0, or SD_ENOMEM when an append failed since the buffer was made, cleared or freed. */
int buf_status(const struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Appends the rest of `f`, at most `max` bytes of it: 0 at end of file; SD_ELIMIT when the
 * stream holds more than `max` bytes (the first `max` stay appended); SD_ERROR when reading
 * fails (errno says why); SD_ENOMEM. The one loop behind every "read this file whole". */
int buf_read_stream(struct buf *b, FILE *f, size_t max);

/* Empties the buffer but keeps its memory for reuse. */
void buf_clear(struct buf *b);
/* Shortens the buffer to `len` bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* The contents as a C string: "" for an empty buffer, never NULL. */
const char *buf_cstr(const struct buf *b);
/* Hands the memory to the caller (who frees it) and leaves the buffer empty. Returns a
 * malloc'd "" for an empty buffer, or NULL when even that allocation fails. */
char *buf_detach(struct buf *b);
void buf_free(struct buf *b);

#endif
