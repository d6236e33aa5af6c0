#include "cli/progress_bar.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "import/import_service.h"

#define BAR_WIDTH 30
/* At most this many redraws per second: a terminal is slow next to an import. */
#define BAR_MIN_INTERVAL_MS 100

void progress_bar_init(struct progress_bar *bar)
{
    memset(bar, 0, sizeof *bar);
    bar->enabled = isatty(STDERR_FILENO) == 1;
}

void progress_bar_draw(struct progress_bar *bar, const char *label, uint64_t done, uint64_t total)
{
    if (!bar->enabled)
        return;
    int64_t now = clock_monotonic_ms(clock_system());
    if (bar->drawn && now - bar->last_draw_ms < BAR_MIN_INTERVAL_MS)
        return;
    bar->last_draw_ms = now;
    bar->drawn = true;
    char d[32], t[32];
    import_format_count(d, done);
    if (!total) {
        fprintf(stderr, "\r\033[K%s  %s rows", label, d);
    } else {
        unsigned percent = (unsigned)(done >= total ? 100 : done * 100 / total);
        char bar_text[BAR_WIDTH + 1];
        int filled = (int)(percent * BAR_WIDTH / 100);
        for (int i = 0; i < BAR_WIDTH; i++)
            bar_text[i] = i < filled ? '#' : ' ';
        bar_text[BAR_WIDTH] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %3u%%  %s of %s", label, bar_text, percent, d,
                import_format_count(t, total));
    }
    fflush(stderr);
}

void progress_bar_clear(struct progress_bar *bar)
{
    if (bar->enabled && bar->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    bar->drawn = false;
}
