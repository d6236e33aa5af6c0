/*
 * logfmt logging to stderr: `ts=2026-11-28T20:34:00.123Z level=info msg="server started"
 * listen=127.0.0.1:8080`. One line per call, written with a single write(2) so lines from
 * different threads never interleave.
 *
 * Log through log_kv: the fields are key, value pairs and every value is quoted and escaped
 * here, so no caller formats text into a line. The levels are SD_LOG_*, so they never collide
 * with <syslog.h>'s LOG_*. The level threshold is process configuration set once by main()
 * before any thread starts (the one piece of static state here).
 */
#ifndef SHEETD_BASE_LOG_H
#define SHEETD_BASE_LOG_H

#include <stddef.h>

enum log_level {
    SD_LOG_DEBUG = 0,
    SD_LOG_INFO = 1,
    SD_LOG_WARN = 2,
    SD_LOG_ERROR = 3,
    SD_LOG_OFF = 4
};

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int log_level_parse(const char *name);
enum log_level log_get_level(void);

/* Logs `msg` with fields given as key, value, key, value, ..., NULL (all const char *). Each
 * value goes through log_quote, so text from a request or a file can never add a field or
 * break the line; keys are the caller's literals. */
void log_kv(enum log_level level, const char *msg, ...);
/* A number as a log_kv value: writes it into out and returns out. */
#define LOG_NUMBER_SIZE 24
const char *log_number(char out[LOG_NUMBER_SIZE], long long value);
/* log_number into a buffer that lives for the enclosing statement: LOG_NUM(n) as a value. */
#define LOG_NUM(value) log_number((char[LOG_NUMBER_SIZE]){0}, (long long)(value))

/* Writes `value` into out as a logfmt value: bare when it is plain ASCII with nothing to
 * escape, else double-quoted with `"` `\` and control characters escaped, invisible and
 * bidirectional-control characters (U+202E...) written as \uXXXX, and bytes that are not
 * UTF-8 as \xHH. Truncates to fit (never inside a character); returns out. */
char *log_quote(char *out, size_t size, const char *value);

#endif
