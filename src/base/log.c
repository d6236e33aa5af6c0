#include "base/log.h"
#include "base/clock.h"
#include "base/str.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int log_threshold = SD_LOG_INFO;

void log_set_level(enum log_level level)
{
    atomic_store(&log_threshold, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_threshold);
}

int log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++)
        if (str_ieq(name, names[i]))
            return i;
    return -1;
}

/* Code points that change how the text around them is displayed without showing themselves:
 * C1 controls, bidirectional overrides, embeddings and isolates (U+202A-U+202E,
 * U+2066-U+2069: "Trojan Source"), marks (U+200E, U+200F, U+061C), zero-width characters,
 * line and paragraph separators, the byte-order mark, interlinear annotations and tag
 * characters. A log line shows them as escapes, so what a person reads is what was sent. */
static bool invisible(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* The code point of the well-formed sequence s[0..n). */
static unsigned long decode(const unsigned char *s, size_t n)
{
    static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    unsigned long cp = s[0] & lead_mask[n];
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (s[k] & 0x3f);
    return cp;
}

/*
 * Untrusted text (paths, methods, messages quoting what people sent) goes through here before
 * it reaches a log line, so nothing in it can forge a field or a line, or make the line read
 * differently from what it holds: quotes, backslashes and control characters are escaped,
 * invisible and bidirectional characters are written as \uXXXX (\u{XXXXX} above U+FFFF), and
 * bytes that are not UTF-8 as \xHH. Well-formed UTF-8 text is otherwise kept as it is.
 */
char *log_quote(char *out, size_t size, const char *value)
{
    if (size == 0)
        return out;
    bool bare = *value != '\0';
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f ||
            (unsigned char)*p >= 0x80)
            bare = false;
    size_t o = 0;
    if (bare) {
        snprintf(out, size, "%s", value);
        return out;
    }
    const unsigned char *p = (const unsigned char *)value;
    size_t left = strlen(value);
    out[o++] = '"';
    /* every step writes at most 10 bytes, and room stays for the closing quote and NUL */
    while (left > 0 && o + 12 < size) {
        unsigned char c = *p;
        size_t n = 1;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else if (c < 0x80) {
            out[o++] = (char)c;
        } else if ((n = str_utf8_sequence_length((const char *)p, left)) == 0) {
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
            n = 1;
        } else {
            unsigned long cp = decode(p, n);
            if (invisible(cp) && cp > 0xffff)
                o += (size_t)snprintf(out + o, size - o, "\\u{%lx}", cp);
            else if (invisible(cp))
                o += (size_t)snprintf(out + o, size - o, "\\u%04lx", cp);
            else
                for (size_t k = 0; k < n; k++)
                    out[o++] = (char)p[k];
        }
        p += n;
        left -= n;
    }
    if (o + 1 < size)
        out[o++] = '"';
    out[o < size ? o : size - 1] = '\0';
    return out;
}

/* One line: the time, the level, the message and `fields_fmt`'s already-logfmt fields. */
static void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if ((int)level < atomic_load(&log_threshold) || level >= SD_LOG_OFF)
        return;
    char line[2048];
    char ts[32];
    char quoted[512];
    clock_format_iso8601_ms(ts, sizeof ts, clock_now_ms(clock_system()));
    int n = snprintf(line, sizeof line, "ts=%s level=%s msg=%s", ts, names[level],
                     log_quote(quoted, sizeof quoted, msg));
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fields_fmt && *fields_fmt && len + 2 < sizeof line) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fields_fmt);
        int m = vsnprintf(line + len, sizeof line - len, fields_fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if ((int)level < atomic_load(&log_threshold) || level >= SD_LOG_OFF)
        return;
    char fields[1536];
    char quoted[512];
    size_t len = 0;
    va_list ap;
    va_start(ap, msg);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        const char *value = va_arg(ap, const char *);
        log_quote(quoted, sizeof quoted, value ? value : "");
        int n = snprintf(fields + len, sizeof fields - len, "%s%s=%s", len ? " " : "", key, quoted);
        if (n < 0 || (size_t)n >= sizeof fields - len)
            break;
        len += (size_t)n;
    }
    va_end(ap);
    fields[len] = '\0';
    log_write(level, msg, "%s", fields);
}

const char *log_number(char out[LOG_NUMBER_SIZE], long long value)
{
    snprintf(out, LOG_NUMBER_SIZE, "%lld", value);
    return out;
}
