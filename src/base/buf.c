#include "base/buf.h"
#include "base/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks the buffer failed and returns SD_ENOMEM. */
static int fail(struct buf *b)
{
    b->failed = true;
    return SD_ENOMEM;
}

int buf_status(const struct buf *b)
{
    return b->failed ? SD_ENOMEM : 0;
}

int buf_grow(struct buf *b, size_t extra)
{
    if (b->failed || extra > SIZE_MAX - b->len - 1)
        return fail(b);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return fail(b);
    b->data = data;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_grow(b, len) < 0)
        return SD_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        b->failed = true;
        return SD_ERROR;
    }
    if (buf_grow(b, (size_t)n) < 0)
        return SD_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_read_stream(struct buf *b, FILE *f, size_t max)
{
    char chunk[16384];
    size_t total = 0;
    while (total < max) {
        size_t want = max - total < sizeof chunk ? max - total : sizeof chunk;
        size_t n = fread(chunk, 1, want, f);
        if (n > 0 && buf_append(b, chunk, n) < 0)
            return SD_ENOMEM;
        total += n;
        if (n < want)
            return ferror(f) ? SD_ERROR : 0;
    }
    /* Exactly `max` bytes so far: one more byte decides whether the stream held more. */
    if (fgetc(f) != EOF)
        return SD_ELIMIT;
    return ferror(f) ? SD_ERROR : 0;
}

void buf_clear(struct buf *b)
{
    buf_truncate(b, 0);
    b->failed = false;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len > b->len)
        return;
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

const char *buf_cstr(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_detach(struct buf *b)
{
    char *data = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return data;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
