/*
 * `sheetd work [--threads N]`: a process that only runs background jobs, beside `serve` or
 * on another machine sharing the database. It registers itself, heartbeats, runs N workers
 * (SHEETD_WORKERS, default 2) and stops on SIGINT/SIGTERM: running jobs get
 * SHEETD_SHUTDOWN_TIMEOUT seconds to finish and are then handed back to the queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/cli_jobs.h"
#include "cli/cli_signals.h"

int cmd_work(int argc, char **argv, const struct cli_config *config)
{
    int threads = config->workers > 0 ? config->workers : 2;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        if (!strncmp(argv[i], "--threads=", 10))
            value = argv[i] + 10;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            value = argv[++i];
        if (!value) {
            cli_errorf("usage: sheetd work [--threads N]");
            return CLI_EXIT_USAGE;
        }
        char *end;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno || end == value || *end || n < 1 || n > 256) {
            cli_errorf("--threads must be a whole number from 1 to 256, not \"%s\"", value);
            return CLI_EXIT_USAGE;
        }
        threads = (int)n;
    }
    sigset_t stop_signals;
    if (cli_signals_block(&stop_signals) != 0) {
        cli_errorf("cannot block SIGINT and SIGTERM");
        return CLI_EXIT_FAILED;
    }
    struct cli_jobs cj;
    int rc = cli_jobs_open(&cj, config);
    if (rc)
        return rc;
    struct sd_error err = SD_ERROR_INIT;
    if (jobs_run(cj.jobs, "work", threads, &err) != 0) {
        cli_errorf("%s", sd_error_message(&err));
        cli_jobs_close(&cj);
        return CLI_EXIT_USAGE;
    }
    char nthreads[16], running[16];
    snprintf(nthreads, sizeof nthreads, "%d", threads);
    log_kv(SD_LOG_INFO, "worker process started", "threads", nthreads, NULL);
    int signal_number = cli_signals_wait(&stop_signals);
    snprintf(running, sizeof running, "%d", jobs_busy(cj.jobs));
    log_kv(SD_LOG_INFO, "stopping", "signal", cli_signal_name(signal_number), "running_jobs",
           running, NULL);
    cli_jobs_close(&cj);
    log_kv(SD_LOG_INFO, "worker process stopped", NULL);
    return CLI_EXIT_OK;
}
