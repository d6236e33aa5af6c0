#include "base/clock.h"

#include <stdio.h>
#include <time.h>

#include "base/civil.h"

static int64_t timespec_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t system_now_ms(void *ctx)
{
    (void)ctx;
    return timespec_ms(CLOCK_REALTIME);
}

static int64_t system_monotonic_ms(void *ctx)
{
    (void)ctx;
    return timespec_ms(CLOCK_MONOTONIC);
}

static const struct sd_clock system_clock = {system_now_ms, system_monotonic_ms, NULL};

const struct sd_clock *clock_system(void)
{
    return &system_clock;
}

int64_t clock_now_ms(const struct sd_clock *clock)
{
    return clock->now_ms(clock->ctx);
}

int64_t clock_monotonic_ms(const struct sd_clock *clock)
{
    return clock->monotonic_ms(clock->ctx);
}

/* "YYYY-MM-DDTHH:MM:SS" of epoch_ms in UTC (base/civil.h's calendar, as every other date in
 * sheetd), and the milliseconds through *millis. */
static void format_utc(int64_t epoch_ms, char out[40], int *millis)
{
    int64_t secs = epoch_ms / 1000;
    int ms = (int)(epoch_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    int64_t days = secs / SECONDS_PER_DAY, sod = secs % SECONDS_PER_DAY;
    if (sod < 0) {
        sod += SECONDS_PER_DAY;
        days -= 1;
    }
    size_t n = civil_format_date((long)days, out);
    out[n++] = 'T';
    civil_format_clock((long)sod, out + n);
    *millis = ms;
}

char *clock_format_iso8601(char *out, size_t size, int64_t epoch_ms)
{
    char base[40];
    int ms;
    format_utc(epoch_ms, base, &ms);
    snprintf(out, size, "%sZ", base);
    return out;
}

char *clock_format_iso8601_ms(char *out, size_t size, int64_t epoch_ms)
{
    char base[40];
    int ms;
    format_utc(epoch_ms, base, &ms);
    snprintf(out, size, "%s.%03dZ", base, ms);
    return out;
}

static int64_t fixed_now_ms(void *ctx)
{
    return ((struct clock_fixed *)ctx)->now_ms;
}

void clock_fixed_init(struct clock_fixed *fixed, int64_t start_ms)
{
    fixed->now_ms = start_ms;
    fixed->clock.now_ms = fixed_now_ms;
    fixed->clock.monotonic_ms = fixed_now_ms;
    fixed->clock.ctx = fixed;
}
