/*
 * The command-line interface. main() finds the command in a table and calls its function
 * with the arguments after the command name and the configuration read from the environment.
 * Each command lives in its own file (cmd_read.c, cmd_template.c, ...).
 *
 * Exit codes (DESIGN.md): 0 success, 1 the work failed (for `import`: the file did not pass
 * validation), 2 usage or environment error. Errors are one line on stderr.
 */
#ifndef SHEETD_CLI_CLI_H
#define SHEETD_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2

/* Configuration from the environment (SHEETD_*), which flags may override. The strings are
 * borrowed from the environment or from static defaults. */
struct cli_config {
    const char *data_dir;            /* SHEETD_DATA_DIR, default "./var" */
    const char *database_url;        /* SHEETD_DATABASE_URL, default: SQLite files in data_dir */
    const char *listen;              /* SHEETD_LISTEN, default "127.0.0.1:8080" */
    int workers;                     /* SHEETD_WORKERS, default 2 */
    long max_upload_mb;              /* SHEETD_MAX_UPLOAD_MB, default 100 */
    const char *api_token;           /* SHEETD_API_TOKEN, default none */
    const char *log_level;           /* SHEETD_LOG_LEVEL, default "info" */
    long job_retention_days;         /* SHEETD_JOB_RETENTION_DAYS, default 7 */
    long shutdown_timeout_s;         /* SHEETD_SHUTDOWN_TIMEOUT, default 30 */
    unsigned max_connections_per_ip; /* SHEETD_MAX_CONNECTIONS_PER_IP, default 64; 0 = none */
};

/* Reads the environment; returns 0, or prints one line and returns CLI_EXIT_USAGE when a
 * variable holds something unusable (e.g. SHEETD_WORKERS=lots). */
int cli_config_from_env(struct cli_config *config);

typedef int (*cli_command_fn)(int argc, char **argv, const struct cli_config *config);

/* Commands: argv[0] is the command name itself, as in main(). */
int cmd_serve(int argc, char **argv, const struct cli_config *config);
int cmd_read(int argc, char **argv, const struct cli_config *config);
int cmd_template(int argc, char **argv, const struct cli_config *config);
int cmd_import(int argc, char **argv, const struct cli_config *config);
int cmd_export(int argc, char **argv, const struct cli_config *config);
int cmd_migrate(int argc, char **argv, const struct cli_config *config);
int cmd_jobs(int argc, char **argv, const struct cli_config *config);
int cmd_work(int argc, char **argv, const struct cli_config *config);
/* `sheetd template blank ID|TABLE OUT.xlsx`, reached through cmd_template: argv[0] is "blank". */
int cmd_template_blank(int argc, char **argv, const struct cli_config *config);

/* Prints "sheetd: <message>" on stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
