/*
 * sheetd import TEMPLATE FILE [--sheet S] [--dry-run] [--json] [--errors-out E.xlsx]
 * sheetd import TEMPLATE FILE [--sheet S] --async [--wait]
 *
 * A synchronous import through the same service the workers run, with a progress bar on a
 * terminal; or, with --async, a background job: the file is copied into the uploads
 * directory, the job enqueued and its id printed; --wait then follows it to its end. Prints a human
 * summary (the result's sentence, then the first errors one per line) or, with --json, the result
 * as one JSON document. Exit codes per DESIGN.md: 0 imported, 1 the file did not pass (or the
 * template's table no longer fits it), 2 usage or environment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_jobs.h"
#include "cli/progress_bar.h"
#include "import/import_service.h"
#include "jobs/job_files.h"

/* Errors printed by the human summary before "... and N more". */
#define IMPORT_PRINT_ERRORS 10

static void import_usage(void)
{
    cli_errorf("usage: sheetd import TEMPLATE FILE [--sheet S] [--dry-run] [--json] "
               "[--errors-out E.xlsx] | --async [--wait]");
}

static int print_json(const struct import_result *res, const char *errors_out)
{
    json_t *result = NULL, *errors = NULL;
    struct sd_error err = SD_ERROR_INIT;
    if (import_result_to_json(&result, &errors, res, &err) < 0) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    /* json_string fails for a path that is not UTF-8 as well as for want of memory. */
    char *text = NULL;
    if (json_object_set_new(result, "errors", errors) == 0 &&
        (!res->errors_written ||
         json_object_set_new(result, "errors_report", json_string(errors_out)) == 0))
        text = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(result);
    if (!text) {
        cli_errorf("cannot write the result as JSON (out of memory, or an --errors-out path "
                   "that is not UTF-8)");
        return CLI_EXIT_USAGE;
    }
    puts(text);
    free(text);
    return 0;
}

static void print_human(const struct import_result *res, const char *errors_out)
{
    if (!res->success && res->error_count == 0) {
        cli_errorf("%s", res->message);
        return;
    }
    printf("%s\n", res->message);
    struct buf line = BUF_INIT;
    for (size_t i = 0; i < res->nerrors && i < IMPORT_PRINT_ERRORS; i++) {
        buf_clear(&line);
        if (import_error_format(&res->errors[i], &line) == 0)
            printf("  %s\n", buf_cstr(&line));
    }
    buf_free(&line);
    if (res->error_count > IMPORT_PRINT_ERRORS) {
        char n[32];
        import_format_count(n, res->error_count - IMPORT_PRINT_ERRORS);
        printf("  ... and %s more error%s%s\n", n,
               res->error_count - IMPORT_PRINT_ERRORS == 1 ? "" : "s",
               res->errors_written ? "" : " (use --errors-out E.xlsx for the full list)");
    }
    if (res->nignored) {
        printf("Ignored columns:");
        for (size_t i = 0; i < res->nignored; i++)
            printf("%s \"%s\"", i ? "," : "", res->ignored_columns[i]);
        putchar('\n');
    }
    if (res->errors_written)
        printf("Error report: %s\n", errors_out);
}

/* The file an --async import uploads, and its --sheet. */
struct import_upload {
    const char *path;
    const char *sheet;
};

/* Copies the file into the uploads directory under a new job id and enqueues the job
 * (cli_jobs_enqueue_fn), removing the copy again when the queue refuses the job. */
static int enqueue_import(struct cli_jobs *cj, int64_t template_id, char id[JOB_ID_LEN + 1],
                          void *ctx, struct sd_error *err)
{
    const struct import_upload *up = ctx;
    char ext[8];
    const char *slash = strrchr(up->path, '/');
    const char *filename = slash ? slash + 1 : up->path;
    job_file_extension(ext, filename);
    json_t *payload = NULL;
    int rc = job_id_generate(id, err);
    if (rc == 0)
        rc = job_file_copy_upload(cj->store, jobs_data_dir(cj->jobs), id, ext, up->path, err);
    if (rc == 0 && !(payload = json_pack("{s:s, s:s, s:s?}", "ext", ext, "filename", filename,
                                         "sheet", up->sheet)))
        rc = sd_error_set(err, SD_EINVALID, "the file name %s is not valid UTF-8", filename);
    if (rc == 0 &&
        (rc = queue_enqueue(jobs_queue(cj->jobs), id, "import", template_id, payload, 0, err)) != 0)
        job_files_remove_upload(cj->store, jobs_data_dir(cj->jobs), id);
    json_decref(payload);
    return rc;
}

static void draw_progress(uint64_t done, uint64_t total, void *ctx)
{
    progress_bar_draw(ctx, "Importing rows", done, total);
}

int cmd_import(int argc, char **argv, const struct cli_config *config)
{
    const char *positional[2] = {NULL, NULL};
    size_t npositional = 0;
    struct import_options opts = IMPORT_OPTIONS_INIT;
    bool json = false, async = false, wait = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--async")) {
            async = true;
        } else if (!strcmp(a, "--wait")) {
            wait = true;
        } else if (!strcmp(a, "--dry-run")) {
            opts.dry_run = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if ((!strcmp(a, "--sheet") || !strcmp(a, "--errors-out")) && i + 1 < argc) {
            if (!strcmp(a, "--sheet"))
                opts.sheet = argv[++i];
            else
                opts.errors_out = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            cli_errorf("unknown or incomplete option \"%s\"", a);
            import_usage();
            return CLI_EXIT_USAGE;
        } else if (npositional < 2) {
            positional[npositional++] = a;
        } else {
            cli_errorf("unexpected argument \"%s\"", a);
            import_usage();
            return CLI_EXIT_USAGE;
        }
    }
    if (npositional != 2) {
        import_usage();
        return CLI_EXIT_USAGE;
    }
    if ((wait && !async) || (async && (opts.dry_run || json || opts.errors_out))) {
        cli_errorf("--wait goes with --async, and --async with neither --dry-run, --json nor "
                   "--errors-out (a background job's report is kept with the job)");
        return CLI_EXIT_USAGE;
    }
    const char *path = positional[1];
    if (access(path, R_OK) != 0) {
        cli_errorf("cannot read %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (async) {
        struct import_upload up = {.path = path, .sheet = opts.sheet};
        return cli_jobs_enqueue(config, positional[0], enqueue_import, &up, wait);
    }
    struct cli_data d;
    int rc = cli_data_open(&d, config, positional[0]);
    if (rc)
        return rc;
    opts.job_id = "cli";
    struct progress_bar bar;
    progress_bar_init(&bar);
    if (bar.enabled) {
        opts.progress = draw_progress;
        opts.ctx = &bar;
    }
    struct import_result *res = NULL;
    struct sd_error err = SD_ERROR_INIT;
    rc = import_service_run(&res, d.db, d.tmpl, path, &opts, &err);
    progress_bar_clear(&bar);
    if (rc < 0) {
        cli_errorf("%s", sd_error_message(&err));
        cli_data_close(&d);
        return rc == SD_EINVALID || rc == SD_ENOTFOUND ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    int out = json ? print_json(res, opts.errors_out) : 0;
    if (!json)
        print_human(res, opts.errors_out);
    if (out == 0)
        out = res->success ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    import_result_free(res);
    cli_data_close(&d);
    return out;
}
