/*
 * sheetd export TEMPLATE OUT.xlsx — every row of the template's table, through the same
 * export service the workers run. Prints "Exported N rows to OUT.xlsx", with a progress bar
 * on a terminal.
 * sheetd export TEMPLATE --async [--wait] — the same as a background job; prints its id, and
 * with --wait follows it. The file is then downloaded from the job (GET /jobs/ID/download).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_jobs.h"
#include "cli/progress_bar.h"
#include "import/export_service.h"
#include "import/import_service.h"

/* An export job needs nothing but its template (cli_jobs_enqueue_fn). */
static int enqueue_export(struct cli_jobs *cj, int64_t template_id, char id[JOB_ID_LEN + 1],
                          void *ctx, struct sd_error *err)
{
    (void)ctx;
    json_t *payload = json_object();
    int rc = payload
                 ? queue_enqueue(jobs_queue(cj->jobs), id, "export", template_id, payload, 0, err)
                 : sd_error_nomem(err);
    json_decref(payload);
    return rc;
}

static void draw_progress(uint64_t done, uint64_t total, void *ctx)
{
    progress_bar_draw(ctx, "Exporting rows", done, total);
}

int cmd_export(int argc, char **argv, const struct cli_config *config)
{
    if (argc >= 3 && !strcmp(argv[2], "--async") &&
        (argc == 3 || (argc == 4 && !strcmp(argv[3], "--wait"))) && argv[1][0] != '-')
        return cli_jobs_enqueue(config, argv[1], enqueue_export, NULL, argc == 4);
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        cli_errorf("usage: sheetd export TEMPLATE OUT.xlsx | export TEMPLATE --async [--wait]");
        return CLI_EXIT_USAGE;
    }
    struct cli_data d;
    int rc = cli_data_open(&d, config, argv[1]);
    if (rc)
        return rc;
    struct export_result res;
    struct sd_error err = SD_ERROR_INIT;
    struct progress_bar bar;
    progress_bar_init(&bar);
    struct export_options opts = EXPORT_OPTIONS_INIT;
    if (bar.enabled) {
        opts.progress = draw_progress;
        opts.ctx = &bar;
    }
    rc = export_service_run(&res, d.db, d.tmpl, argv[2], &opts, &err);
    progress_bar_clear(&bar);
    cli_data_close(&d);
    if (rc < 0) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_FAILED;
    }
    char n[32];
    printf("Exported %s row%s to %s\n", import_format_count(n, res.rows), res.rows == 1 ? "" : "s",
           argv[2]);
    return CLI_EXIT_OK;
}
