/*
 * `sheetd serve [--listen HOST:PORT] [--workers N] [--no-workers]`: opens and migrates the
 * store, starts the web server and runs until SIGINT or SIGTERM.
 *
 * It also runs the job layer: this process registers and heartbeats (so it recovers the jobs
 * of workers that died) and runs --workers worker threads (SHEETD_WORKERS, default 2;
 * --no-workers for a web process beside `sheetd work` processes).
 *
 * Stopping (cli_signals.h): on SIGINT or SIGTERM the server stops (open requests finish),
 * then the workers get SHEETD_SHUTDOWN_TIMEOUT seconds before their jobs are handed back;
 * a second signal ends the process at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/cli_jobs.h"
#include "cli/cli_signals.h"
#include "jobs/job_files.h"
#include "web/server.h"

struct serve_options {
    const char *listen;
    int workers;
};

static int parse_workers(const char *text, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < 0 || n > 256) {
        cli_errorf("--workers must be a whole number from 0 to 256, not \"%s\"", text);
        return CLI_EXIT_USAGE;
    }
    *out = (int)n;
    return 0;
}

static int parse_args(struct serve_options *opts, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (!strcmp(arg, "--no-workers")) {
            opts->workers = 0;
            continue;
        }
        if (!strncmp(arg, "--listen=", 9) || !strncmp(arg, "--workers=", 10)) {
            value = strchr(arg, '=') + 1;
        } else if (!strcmp(arg, "--listen") || !strcmp(arg, "--workers")) {
            if (i + 1 >= argc) {
                cli_errorf("%s needs a value", arg);
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        } else {
            cli_errorf("serve does not know \"%s\"; usage: sheetd serve [--listen HOST:PORT] "
                       "[--workers N] [--no-workers]",
                       arg);
            return CLI_EXIT_USAGE;
        }
        if (!strncmp(arg, "--listen", 8)) {
            if (!*value) {
                cli_errorf("--listen needs HOST:PORT, e.g. 127.0.0.1:8080");
                return CLI_EXIT_USAGE;
            }
            opts->listen = value;
        } else if (parse_workers(value, &opts->workers)) {
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* "http://HOST:PORT/" with the port the server really bound (the answer to port 0). */
static void print_url(const char *listen, unsigned port)
{
    const char *colon = strrchr(listen, ':');
    int host_len = colon ? (int)(colon - listen) : (int)strlen(listen);
    printf("sheetd listening on http://%.*s:%u\n", host_len, listen, port);
    fflush(stdout);
}

int cmd_serve(int argc, char **argv, const struct cli_config *config)
{
    struct serve_options opts = {.listen = config->listen, .workers = config->workers};
    if (parse_args(&opts, argc, argv))
        return CLI_EXIT_USAGE;

    sigset_t stop_signals;
    if (cli_signals_block(&stop_signals) != 0) {
        cli_errorf("cannot block SIGINT and SIGTERM");
        return CLI_EXIT_FAILED;
    }

    struct sd_error err = SD_ERROR_INIT;
    struct cli_jobs cj;
    struct web_server *server = NULL;
    if (cli_jobs_open(&cj, config) != 0)
        return CLI_EXIT_USAGE;
    if (jobs_run(cj.jobs, "serve", opts.workers, &err))
        goto fail;

    struct web_server_config web_config = WEB_SERVER_CONFIG_INIT;
    web_config.listen = opts.listen;
    web_config.store = cj.store;
    web_config.jobs = cj.jobs;
    web_config.api_token = config->api_token;
    char upload_dir[4096];
    snprintf(upload_dir, sizeof upload_dir, "%s/%s", jobs_data_dir(cj.jobs),
             job_file_dir(JOB_FILE_UPLOAD));
    web_config.upload_dir = upload_dir;
    web_config.max_body_bytes = (size_t)config->max_upload_mb * 1024 * 1024;
    web_config.max_connections_per_ip = config->max_connections_per_ip;
    web_config.max_connections = config->max_connections;
    if (web_server_start(&server, &web_config, &err))
        goto fail;

    print_url(opts.listen, web_server_port(server));
    char port[16], nworkers[16], running[16];
    snprintf(port, sizeof port, "%u", web_server_port(server));
    snprintf(nworkers, sizeof nworkers, "%d", opts.workers);
    log_kv(SD_LOG_INFO, "server started", "port", port, "workers", nworkers, NULL);

    int signal_number = cli_signals_wait(&stop_signals);
    snprintf(running, sizeof running, "%d", jobs_busy(cj.jobs));
    log_kv(SD_LOG_INFO, "stopping", "signal", cli_signal_name(signal_number), "running_jobs",
           running, NULL);
    web_server_stop(server);
    cli_jobs_close(&cj);
    log_kv(SD_LOG_INFO, "stopped", NULL);
    return CLI_EXIT_OK;
fail:
    cli_errorf("%s", sd_error_message(&err));
    web_server_stop(server);
    cli_jobs_close(&cj);
    return CLI_EXIT_USAGE;
}
