/* The job commands: `sheetd import --async`, `export --async`, `jobs list|show|cancel|retry|
 * prune` in-process, and `sheetd work` as a real process that runs what the CLI enqueued
 * and stops cleanly on SIGTERM. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli_fixture.h"
#include "import/template_catalog.h"
#include "test_support.h"

static struct cli_config config;

static void setup(void)
{
    test_suite_tmpdir_setup();
    config = cli_fixture_config(1);
    config.job_retention_days = 7;
    config.shutdown_timeout_s = 5;
    static const char *json =
        "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"partial\", \"columns\": ["
        " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true}]}";
    cli_fixture_store_with_template(json);
}

TestSuite(cmd_jobs, .init = setup, .fini = test_suite_tmpdir_teardown);

/* Runs a command with stdout captured into a file; returns its exit code and the output
 * (malloc'd) in *out. */
static int run(char **out, int argc, char **argv)
{
    char *path = test_suite_path("stdout.txt");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *f = fopen(path, "w");
    dup2(fileno(f), STDOUT_FILENO);
    int rc = argv[0][0] == 'i'   ? cmd_import(argc, argv, &config)
             : argv[0][0] == 'e' ? cmd_export(argc, argv, &config)
                                 : cmd_jobs(argc, argv, &config);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fclose(f);
    *out = test_read_file(path, NULL);
    free(path);
    return rc;
}

static void enqueue(char id[17], const char *csv)
{
    char *path = test_suite_path("people.csv");
    cr_assert(test_write_file(path, csv, strlen(csv)));
    char *argv[] = {"import", "1", path, "--async", NULL};
    char *out = NULL;
    cr_assert_eq(run(&out, 4, argv), 0);
    cr_assert_eq(strlen(out), 17, "the id and a newline: %s", out);
    memcpy(id, out, 16);
    id[16] = '\0';
    free(out);
    free(path);
}

Test(cmd_jobs, import_async_queues_a_job_that_list_and_show_describe)
{
    char id[17];
    enqueue(id, "Email\nann@example.com\n");
    char *out = NULL;
    char *list[] = {"jobs", "list", NULL};
    cr_assert_eq(run(&out, 2, list), 0);
    cr_assert(strstr(out, id) && strstr(out, "pending"), "%s", out);
    free(out);
    char *show[] = {"jobs", "show", id, "--json", NULL};
    cr_assert_eq(run(&out, 4, show), 0);
    cr_assert(strstr(out, "\"status\": \"pending\""), "%s", out);
    free(out);
    char *filtered[] = {"jobs", "list", "--status", "failed", NULL};
    cr_assert_eq(run(&out, 4, filtered), 0);
    cr_assert(strstr(out, "no jobs"));
    free(out);
    char *bad[] = {"jobs", "list", "--status", "lost", NULL};
    cr_assert_eq(run(&out, 4, bad), 2);
    free(out);
}

Test(cmd_jobs, cancel_retry_and_unknown_ids_have_their_exit_codes)
{
    char id[17];
    enqueue(id, "Email\nann@example.com\n");
    char *out = NULL;
    char *retry[] = {"jobs", "retry", id, NULL};
    cr_assert_eq(run(&out, 3, retry), 1, "a pending job is not retried");
    free(out);
    char *cancel[] = {"jobs", "cancel", id, NULL};
    cr_assert_eq(run(&out, 3, cancel), 0);
    cr_assert(strstr(out, "cancelled"));
    free(out);
    cr_assert_eq(run(&out, 3, cancel), 1, "an ended job cannot be cancelled");
    free(out);
    char *unknown[] = {"jobs", "show", "0123456789abcdef", NULL};
    cr_assert_eq(run(&out, 3, unknown), 2);
    free(out);
    char *malformed[] = {"jobs", "cancel", "nope", NULL};
    cr_assert_eq(run(&out, 3, malformed), 2);
    free(out);
    char *prune[] = {"jobs", "prune", NULL};
    cr_assert_eq(run(&out, 2, prune), 0);
    cr_assert(strstr(out, "pruned 0 jobs"), "%s", out);
    free(out);
}

Test(cmd_jobs, async_flags_that_do_not_go_together_are_refused)
{
    char *path = test_suite_path("people.csv");
    cr_assert(test_write_file(path, "Email\n", 6));
    char *out = NULL;
    char *argv[] = {"import", "1", path, "--async", "--dry-run", NULL};
    cr_assert_eq(run(&out, 5, argv), 2);
    free(out);
    char *wait_alone[] = {"import", "1", path, "--wait", NULL};
    cr_assert_eq(run(&out, 4, wait_alone), 2);
    free(out);
    free(path);
}

/* `sheetd work` (the real binary, SHEETD_BIN) runs the job the CLI queued, then stops on
 * SIGTERM with exit 0 and deregisters. */
Test(cmd_jobs, work_runs_queued_jobs_and_stops_on_sigterm)
{
    const char *bin = getenv("SHEETD_BIN");
    if (!bin || access(bin, X_OK) != 0)
        cr_skip_test("SHEETD_BIN is not set to a built sheetd (make test sets it)");
    char id[17];
    enqueue(id, "Email\nann@example.com\nbob@example.com\n");
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setenv("SHEETD_DATA_DIR", test_suite_tmpdir(), 1);
        setenv("SHEETD_LOG_LEVEL", "warn", 1);
        execl(bin, bin, "work", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    char *out = NULL;
    char *show[] = {"jobs", "show", id, NULL};
    bool done = false;
    for (int i = 0; i < 1000 && !done; i++) {
        cr_assert_eq(run(&out, 3, show), 0);
        done = strstr(out, "completed") != NULL;
        free(out);
        if (!done)
            usleep(10000);
    }
    cr_assert(done, "the worker process ran the job");
    cr_assert_eq(kill(pid, SIGTERM), 0);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "stopped cleanly");
    char *list[] = {"jobs", "list", "--status", "completed", NULL};
    cr_assert_eq(run(&out, 4, list), 0);
    cr_assert(strstr(out, id));
    free(out);
}
