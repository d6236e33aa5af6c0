/*
 * logfmt logging to stderr: `ts=2026-11-28T20:34:00.123Z level=info msg="server started"
 * listen=127.0.0.1:8080`. One line per call, written with a single write(2) so lines from
 * different threads never interleave.
 *
 * Log through log_kv: the fields are key, value pairs and every value is quoted and escaped
 * here, so no caller formats text into a line. log_write and the log_info/log_warn/... macros
 * (a printf format of already-logfmt pairs) remain for the web and job callers until they move
 * to log_kv; new code does not use them. The level names LOG_* collide with <syslog.h>'s;
 * renaming them waits for the same move. The level threshold is process configuration set
 * once by main() before any thread starts (the one piece of static state here).
 */
#ifndef SHEETD_BASE_LOG_H
#define SHEETD_BASE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_OFF = 4 };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int log_level_parse(const char *name);
enum log_level log_get_level(void);

void log_write(enum log_level level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

/* Logs `msg` with fields given as key, value, key, value, ..., NULL (all const char *). Each
 * value goes through log_quote, so text from a request or a file can never add a field or
 * break the line; keys are the caller's literals. */
void log_kv(enum log_level level, const char *msg, ...);

/* Writes `value` into out as a logfmt value: bare when it is plain ASCII with nothing to
 * escape, else double-quoted with `"` `\` and control characters escaped, invisible and
 * bidirectional-control characters (U+202E...) written as \uXXXX, and bytes that are not
 * UTF-8 as \xHH. Truncates to fit (never inside a character); returns out. */
char *log_quote(char *out, size_t size, const char *value);

#endif
