/* What the job commands share (cmd_jobs.c, cmd_work.c, cmd_serve.c, import/export --async):
 * the store opened and migrated, the job layer on top of it configured from the
 * environment, and following a job until it ends. */
#ifndef SHEETD_CLI_CLI_JOBS_H
#define SHEETD_CLI_CLI_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "jobs/jobs.h"
#include "store/store.h"

struct cli_jobs {
    struct store *store;
    struct jobs *jobs;
};

/* 0, or prints one line and returns CLI_EXIT_USAGE. */
int cli_jobs_open(struct cli_jobs *cj, const struct cli_config *config);
void cli_jobs_close(struct cli_jobs *cj);

/* The job layer's settings from the CLI configuration. */
struct jobs_config cli_jobs_config(const struct cli_config *config);

/* The id of the template a user's argument names (an id or a table name), looked up on a
 * main-database connection borrowed for the call. 0, or a negative code with err filled
 * (SD_ENOTFOUND when there is no such template: the caller exits CLI_EXIT_USAGE). */
int cli_jobs_template_id(struct cli_jobs *cj, const char *id_or_table, int64_t *id,
                         struct sd_error *err);

/* The start of `import/export --async`: cli_jobs_open, then the template the user named. 0
 * with *template_id, or prints one line, closes cj and returns CLI_EXIT_USAGE (a template
 * that does not exist is the user's argument). */
int cli_jobs_open_template(struct cli_jobs *cj, const struct cli_config *config,
                           const char *id_or_table, int64_t *template_id);

/* The end of `import/export --async`: prints the job id (rc 0) and follows it with --wait,
 * or prints err's sentence; closes cj. Returns the command's exit code. */
int cli_jobs_finish_enqueue(struct cli_jobs *cj, int rc, const struct sd_error *err, const char *id,
                            bool wait);

/* Follows job `id` until it ends, drawing a progress bar on stderr when it is a terminal.
 * Prints the final message; returns CLI_EXIT_OK when it completed, CLI_EXIT_FAILED when it
 * failed or was cancelled, CLI_EXIT_USAGE when it cannot be followed. */
int cli_jobs_wait(struct cli_jobs *cj, const char *id);

#endif
