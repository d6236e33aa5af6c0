/*
 * sheetd jobs list [--status S] [--template T] [--kind K] [--limit N] [--json]
 * sheetd jobs show ID [--json]
 * sheetd jobs cancel ID | retry ID | prune
 *
 * The background jobs as the queue and JobStatusService see them. `show` prints the status
 * document (DESIGN.md), which names the process holding a running job. Exit codes: 0 done,
 * 1 the job cannot be cancelled or retried in its state, 2 usage, an unknown job, or an
 * unusable database.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_jobs.h"
#include "import/template.h"
#include "jobs/heartbeat.h"
#include "jobs/retention.h"

static void jobs_usage(void)
{
    cli_errorf("usage: sheetd jobs list [--status S] [--template T] [--kind K] [--limit N] "
               "[--json] | show ID [--json] | cancel ID | retry ID | prune");
}

static bool valid_status(const char *s)
{
    static const char *const all[] = {JOB_STATUS_PENDING, JOB_STATUS_PROCESSING,
                                      JOB_STATUS_COMPLETED, JOB_STATUS_FAILED,
                                      JOB_STATUS_CANCELLED};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(s, all[i]))
            return true;
    return false;
}

/* A template id or table name into its id. */
static int resolve_template(struct cli_jobs *cj, const char *arg, int64_t *id)
{
    struct sd_error err = SD_ERROR_INIT;
    if (cli_jobs_template_id(cj, arg, id, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void print_row(json_t *doc)
{
    json_t *progress = json_object_get(doc, "progress");
    char percent[8] = "";
    if (json_is_object(progress) &&
        !strcmp(json_string_value(json_object_get(doc, "status")), JOB_STATUS_PROCESSING))
        snprintf(percent, sizeof percent, "%lld%%",
                 (long long)json_integer_value(json_object_get(progress, "percent")));
    printf("%-16s  %-6s  %8lld  %-10s  %4s  %-20s  %s\n",
           json_string_value(json_object_get(doc, "job_id")),
           json_string_value(json_object_get(doc, "kind")),
           (long long)json_integer_value(json_object_get(doc, "template_id")),
           json_string_value(json_object_get(doc, "status")), percent,
           json_string_value(json_object_get(doc, "created_at")),
           json_string_value(json_object_get(doc, "message")));
}

static int list(struct cli_jobs *cj, int argc, char **argv)
{
    struct job_filter filter = {.limit = 50};
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--status") && v) {
            if (!valid_status(v)) {
                cli_errorf("--status must be pending, processing, completed, failed or "
                           "cancelled, not \"%s\"",
                           v);
                return CLI_EXIT_USAGE;
            }
            filter.status = argv[++i];
        } else if (!strcmp(a, "--kind") && v) {
            if (strcmp(v, "import") && strcmp(v, "export")) {
                cli_errorf("--kind must be import or export, not \"%s\"", v);
                return CLI_EXIT_USAGE;
            }
            filter.kind = argv[++i];
        } else if (!strcmp(a, "--template") && v) {
            if (resolve_template(cj, argv[++i], &filter.template_id))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(a, "--limit") && v) {
            char *end;
            errno = 0;
            long n = strtol(argv[++i], &end, 10);
            if (errno || *end || n < 1 || n > 10000) {
                cli_errorf("--limit must be a whole number from 1 to 10000");
                return CLI_EXIT_USAGE;
            }
            filter.limit = (size_t)n;
        } else {
            jobs_usage();
            return CLI_EXIT_USAGE;
        }
    }
    struct job_record *rows = NULL;
    size_t n = 0;
    struct sd_error err = SD_ERROR_INIT;
    if (queue_list(&rows, &n, jobs_queue(cj->jobs), &filter, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    json_t *all = json_array();
    int out = all ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    for (size_t i = 0; i < n && out == CLI_EXIT_OK; i++) {
        json_t *doc = NULL;
        /* The cached document has the progress; the row is enough when it is gone. */
        if (job_status_get(&doc, NULL, jobs_status(cj->jobs), rows[i].id, &err) &&
            job_status_document(&doc, &rows[i], NULL, &err)) {
            cli_errorf("%s", sd_error_message(&err));
            out = CLI_EXIT_USAGE;
            break;
        }
        if (json)
            json_array_append(all, doc);
        else
            print_row(doc);
        json_decref(doc);
    }
    if (json && out == CLI_EXIT_OK) {
        char *text = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else if (!json && n == 0) {
        printf("no jobs\n");
    }
    json_decref(all);
    job_record_list_free(rows, n);
    return out;
}

static int show(struct cli_jobs *cj, const char *id, bool json)
{
    json_t *doc = NULL;
    struct sd_error err = SD_ERROR_INIT;
    if (!job_id_valid(id)) {
        cli_errorf("\"%s\" is not a job id (16 lowercase hexadecimal characters)", id);
        return CLI_EXIT_USAGE;
    }
    if (job_status_get(&doc, NULL, jobs_status(cj->jobs), id, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    if (json) {
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else {
        const char *keys[] = {"job_id", "kind", "status", "message", "created_at", "finished_at"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *v = json_object_get(doc, keys[i]);
            if (json_is_string(v))
                printf("%-12s %s\n", keys[i], json_string_value(v));
        }
        json_t *progress = json_object_get(doc, "progress");
        if (json_is_object(progress))
            printf("%-12s %lld of %lld (%lld%%)\n", "progress",
                   (long long)json_integer_value(json_object_get(progress, "processed")),
                   (long long)json_integer_value(json_object_get(progress, "total")),
                   (long long)json_integer_value(json_object_get(progress, "percent")));
        json_t *worker = json_object_get(doc, "worker");
        if (json_is_object(worker))
            printf("%-12s pid %lld on %s\n", "worker",
                   (long long)json_integer_value(json_object_get(worker, "pid")),
                   json_string_value(json_object_get(worker, "hostname")));
        json_t *errors = json_object_get(doc, "errors");
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            if (i == 10)
                break;
            printf("  Row %lld, %s: \"%s\" %s\n",
                   (long long)json_integer_value(json_object_get(e, "row")),
                   json_string_value(json_object_get(e, "column")),
                   json_string_value(json_object_get(e, "value")),
                   json_string_value(json_object_get(e, "message")));
        }
    }
    json_decref(doc);
    return CLI_EXIT_OK;
}

static int change(struct cli_jobs *cj, const char *verb, const char *id)
{
    struct sd_error err = SD_ERROR_INIT;
    if (!job_id_valid(id)) {
        cli_errorf("\"%s\" is not a job id (16 lowercase hexadecimal characters)", id);
        return CLI_EXIT_USAGE;
    }
    int rc;
    if (!strcmp(verb, "cancel")) {
        const char *outcome = NULL;
        rc = jobs_cancel_job(cj->jobs, id, &outcome, &err);
        if (rc == 0)
            printf("%s\n", !strcmp(outcome, JOB_STATUS_CANCELLED)
                               ? "cancelled"
                               : "cancel requested; the worker stops it at its next progress tick");
    } else {
        rc = jobs_retry_job(cj->jobs, id, &err);
        if (rc == 0)
            printf("queued again\n");
    }
    if (rc) {
        cli_errorf("%s", sd_error_message(&err));
        return rc == SD_EINVALID ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int prune(struct cli_jobs *cj, const struct cli_config *config)
{
    struct sd_error err = SD_ERROR_INIT;
    struct retention_counts counts = {0};
    size_t recovered = 0;
    if (heartbeat_prune_silent(jobs_queue(cj->jobs), HEARTBEAT_SILENCE_MS, &recovered, &err) ||
        retention_sweep(jobs_queue(cj->jobs), jobs_data_dir(cj->jobs),
                        config->job_retention_days * 24 * 3600 * 1000LL, &counts, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    printf("pruned %zu job%s and %zu file%s; recovered %zu job%s of stopped workers\n", counts.jobs,
           counts.jobs == 1 ? "" : "s", counts.files, counts.files == 1 ? "" : "s", recovered,
           recovered == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

int cmd_jobs(int argc, char **argv, const struct cli_config *config)
{
    if (argc < 2) {
        jobs_usage();
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    bool one_id = !strcmp(sub, "cancel") || !strcmp(sub, "retry");
    bool is_show = !strcmp(sub, "show");
    if (!(one_id || is_show || !strcmp(sub, "list") || !strcmp(sub, "prune")) ||
        (one_id && argc != 3) || (!strcmp(sub, "prune") && argc != 2) ||
        (is_show && (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--json"))))) {
        jobs_usage();
        return CLI_EXIT_USAGE;
    }
    struct cli_jobs cj;
    int rc = cli_jobs_open(&cj, config);
    if (rc)
        return rc;
    if (!strcmp(sub, "list"))
        rc = list(&cj, argc - 1, argv + 1);
    else if (is_show)
        rc = show(&cj, argv[2], argc == 4);
    else if (one_id)
        rc = change(&cj, sub, argv[2]);
    else
        rc = prune(&cj, config);
    cli_jobs_close(&cj);
    return rc;
}
