#include "base/log.h"
#include "base/clock.h"
#include "base/str.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int log_threshold = LOG_INFO;

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

char *log_quote(char *out, size_t size, const char *value)
{
    if (size == 0)
        return out;
    bool bare = *value != '\0';
    for (const char *p = value; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            bare = false;
    size_t o = 0;
    if (bare) {
        snprintf(out, size, "%s", value);
        return out;
    }
    out[o++] = '"';
    for (const char *p = value; *p && o + 7 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if (o + 1 < size)
        out[o++] = '"';
    out[o < size ? o : size - 1] = '\0';
    return out;
}

void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if ((int)level < atomic_load(&log_threshold) || level >= LOG_OFF)
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
    if ((int)level < atomic_load(&log_threshold) || level >= LOG_OFF)
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
