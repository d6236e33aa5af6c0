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

/* Puts the job of `import/export --async` in the queue for `template_id`, with its own
 * payload: 0 with the job's id in `id`, or a negative code with err filled. */
typedef int (*cli_jobs_enqueue_fn)(struct cli_jobs *cj, int64_t template_id,
                                   char id[JOB_ID_LEN + 1], void *ctx, struct sd_error *err);

/* `import/export --async`: opens the job layer, finds the template the user named, calls
 * `enqueue`, prints the job's id and with `wait` follows the job. Returns the command's exit
 * code; a template that does not exist or a job not enqueued prints one line and gives
 * CLI_EXIT_USAGE. */
int cli_jobs_enqueue(const struct cli_config *config, const char *id_or_table,
                     cli_jobs_enqueue_fn enqueue, void *ctx, bool wait);

/* Follows job `id` until it ends, drawing a progress bar on stderr when it is a terminal.
 * Prints the final message; returns CLI_EXIT_OK when it completed, CLI_EXIT_FAILED when it
 * failed or was cancelled, CLI_EXIT_USAGE when it cannot be followed. */
int cli_jobs_wait(struct cli_jobs *cj, const char *id);

#endif
