#include "base/clock.h"

#include <stdio.h>
#include <string.h>
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

static const struct sd_clock system_clock = {
    .now_ms = system_now_ms, .monotonic_ms = system_monotonic_ms, .ctx = NULL};

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

bool clock_parse_iso8601(const char *text, int64_t *epoch_ms)
{
    int year, month, day, hour, minute, second, used = 0;
    char sep;
    if (!text ||
        sscanf(text, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &sep, &hour, &minute,
               &second, &used) != 7 ||
        used != 19 || (sep != 'T' && sep != ' '))
        return false;
    const char *p = text + used;
    int millis = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3)
                millis = millis * 10 + (*p - '0');
        }
        if (digits == 0 || digits > 6)
            return false;
        for (; digits < 3; digits++)
            millis *= 10;
    }
    if (!(strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 ||
        year < 1970)
        return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_sec = second};
    time_t secs = timegm(&tm);
    /* timegm normalizes 31 February into March: refuse a date that moved. */
    if (secs == (time_t)-1 || tm.tm_mday != day || tm.tm_mon != month - 1)
        return false;
    *epoch_ms = (int64_t)secs * 1000 + millis;
    return true;
}

char *clock_format_duration(char out[CLOCK_DURATION_SIZE], int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000) {
        snprintf(out, CLOCK_DURATION_SIZE, "%d ms", (int)ms);
        return out;
    }
    int64_t s = ms / 1000;
    if (s < 60)
        snprintf(out, CLOCK_DURATION_SIZE, "%d s", (int)s);
    else if (s < 3600 && s % 60)
        snprintf(out, CLOCK_DURATION_SIZE, "%d min %d s", (int)(s / 60), (int)(s % 60));
    else if (s < 3600)
        snprintf(out, CLOCK_DURATION_SIZE, "%d min", (int)(s / 60));
    else if (s < 86400 && s / 60 % 60)
        snprintf(out, CLOCK_DURATION_SIZE, "%d h %d min", (int)(s / 3600), (int)(s / 60 % 60));
    else if (s < 86400)
        snprintf(out, CLOCK_DURATION_SIZE, "%d h", (int)(s / 3600));
    else if (s / 3600 % 24)
        snprintf(out, CLOCK_DURATION_SIZE, "%lld d %d h", (long long)(s / 86400),
                 (int)(s / 3600 % 24));
    else
        snprintf(out, CLOCK_DURATION_SIZE, "%lld d", (long long)(s / 86400));
    return out;
}

int clock_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc == 0)
        rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

struct timespec clock_deadline_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
