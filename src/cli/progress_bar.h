/* A one-line progress bar on stderr, redrawn in place, for long work on a terminal (the
 * foreground import and export, `--wait`). It draws nothing when stderr is not a terminal,
 * so scripts and logs never see it. */
#ifndef SHEETD_CLI_PROGRESS_BAR_H
#define SHEETD_CLI_PROGRESS_BAR_H

#include <stdbool.h>
#include <stdint.h>

struct progress_bar {
    bool enabled;
    bool drawn;
    int64_t last_draw_ms;
};

void progress_bar_init(struct progress_bar *bar);
/* "Importing rows [#########           ] 45%  45,000 of 100,000" (total 0: no bar). */
void progress_bar_draw(struct progress_bar *bar, const char *label, uint64_t done, uint64_t total);
/* Erases the line so the next output starts clean. */
void progress_bar_clear(struct progress_bar *bar);

#endif
