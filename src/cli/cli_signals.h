/*
 * Stopping `serve` and `work`: SIGINT and SIGTERM are blocked before any thread starts
 * (every thread inherits the mask) and the main thread waits for them with sigwait, so no
 * code runs inside a signal handler and stopping is ordinary code. After the first signal a
 * small thread keeps waiting: a second one ends the process at once (exit status 130), for
 * the person who does not want to wait for the running jobs.
 */
#ifndef SHEETD_CLI_CLI_SIGNALS_H
#define SHEETD_CLI_CLI_SIGNALS_H

#include <signal.h>

/* Blocks SIGINT and SIGTERM in the calling thread; 0 or -1. */
int cli_signals_block(sigset_t *set);

/* Waits for the first signal, arms the second-signal thread, returns the signal number. */
int cli_signals_wait(const sigset_t *set);

const char *cli_signal_name(int signal_number);

#endif
