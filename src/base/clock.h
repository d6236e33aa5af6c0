/*
 * An injectable clock. Everything that stamps or times something (status documents, TTLs,
 * progress throttling, logs) asks a `struct sd_clock` instead of calling time() directly, so
 * tests can hand in a fixed or stepping clock.
 */
#ifndef SHEETD_BASE_CLOCK_H
#define SHEETD_BASE_CLOCK_H

#include <stdbool.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct sd_clock {
    /* Milliseconds since the Unix epoch (wall clock). */
    int64_t (*now_ms)(void *ctx);
    /* Milliseconds from an arbitrary origin that never goes backwards (for durations). */
    int64_t (*monotonic_ms)(void *ctx);
    void *ctx;
};

/* The real clock (CLOCK_REALTIME / CLOCK_MONOTONIC); a static const, never freed. */
const struct sd_clock *clock_system(void);

int64_t clock_now_ms(const struct sd_clock *clock);
int64_t clock_monotonic_ms(const struct sd_clock *clock);

/* "2026-11-28T20:34:00Z" and "2026-11-28T20:34:00.123Z" (UTC); return out. */
char *clock_format_iso8601(char *out, size_t size, int64_t epoch_ms);
char *clock_format_iso8601_ms(char *out, size_t size, int64_t epoch_ms);

/* The inverse of both: "YYYY-MM-DDTHH:MM:SS" with an optional fraction (".1" to ".999999",
 * read to the millisecond) and "Z" or "+00:00" (a space may stand for the "T"). False, with
 * *epoch_ms untouched, for anything else, including other offsets and impossible dates. */
bool clock_parse_iso8601(const char *text, int64_t *epoch_ms);

/* A duration the way people say it: "850 ms", "12 s", "1 min 5 s", "2 h 3 min", "3 d 4 h"
 * (negative durations read as 0 ms); returns out. out needs CLOCK_DURATION_SIZE bytes. */
#define CLOCK_DURATION_SIZE 32
char *clock_format_duration(char out[CLOCK_DURATION_SIZE], int64_t ms);

/* Timed waits on condition variables all measure CLOCK_MONOTONIC, which a change of the wall
 * clock cannot shorten or stretch: clock_cond_init makes such a condition (0 or an errno),
 * clock_deadline_ms the instant `ms` from now to hand to pthread_cond_timedwait. */
int clock_cond_init(pthread_cond_t *cond);
struct timespec clock_deadline_ms(int64_t ms);

/* A test clock: a counter the test moves by hand. */
struct clock_fixed {
    struct sd_clock clock;
    int64_t now_ms;
};
void clock_fixed_init(struct clock_fixed *fixed, int64_t start_ms);

#endif
