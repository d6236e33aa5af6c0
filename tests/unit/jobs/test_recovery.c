/* The process model with real processes (src/jobs/heartbeat.c, import_job.c): a worker
 * process killed with SIGKILL mid-import, or between committing the rows and writing the
 * job's end (a failpoint), is recovered by a live process after its heartbeat goes silent;
 * every row is then in the table exactly once and the job completed once. Children are
 * forked before the parent starts any thread. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "jobs/heartbeat.h"
#include "jobs_fixture.h"

TestSuite(recovery, .init = jf_setup_store, .fini = jf_teardown);

/* A `sheetd work` of our own: the job layer with one worker until it is killed. */
static pid_t start_worker_process(const char *failpoint, int max_attempts)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid != 0)
        return pid;
    if (failpoint)
        setenv("SHEETD_FAILPOINT", failpoint, 1);
    struct jobs *jobs = NULL;
    struct jobs_config c = jf_config();
    c.max_attempts = max_attempts;
    if (jobs_open(&jobs, jf_store, &c, NULL) != 0 || jobs_run(jobs, "work", 1, NULL) != 0)
        _exit(2);
    for (;;)
        pause();
}

static long count(const char *sql_fmt, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, sql_fmt, id);
    return jf_query_long(sql);
}

static void wait_processing_with_rows(const char *id)
{
    for (int i = 0; i < 3000; i++) {
        json_t *doc = NULL;
        cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), 0);
        bool running =
            !strcmp(json_string_value(json_object_get(doc, "status")), "processing") &&
            json_integer_value(json_object_get(json_object_get(doc, "progress"), "processed")) > 0;
        json_decref(doc);
        if (running)
            return;
        usleep(5000);
    }
    cr_assert_fail("the worker process never started the import");
}

Test(recovery, a_worker_killed_mid_import_is_recovered_and_every_row_lands_once)
{
    pid_t worker = start_worker_process(NULL, 3);
    jf_open_jobs(NULL);
    char *csv = jf_people_csv("big.csv", 200000, 0);
    char id[17];
    jf_enqueue_import(jf_jobs, id, csv);
    wait_processing_with_rows(id);
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), 0);
    json_t *held = json_object_get(doc, "worker");
    cr_assert(json_is_object(held), "the document names the process holding the job");
    cr_assert_eq(json_integer_value(json_object_get(held, "pid")), worker);
    json_decref(doc);
    cr_assert_eq(kill(worker, SIGKILL), 0);
    int status = 0;
    waitpid(worker, &status, 0);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM people"), 0, "nothing was committed");
    /* This process takes over: its heartbeat finds the dead one silent, recovers the job and
     * its own worker runs it again. */
    cr_assert_eq(jobs_run(jf_jobs, "work", 1, NULL), 0);
    doc = jf_wait_status(jf_jobs, id, "completed", 60000);
    cr_assert_null(json_object_get(doc, "worker"), "no process holds an ended job");
    json_decref(doc);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM people"), 200000);
    cr_assert_eq(jf_query_long("SELECT COUNT(DISTINCT email) FROM people"), 200000);
    cr_assert_eq(count("SELECT attempts FROM jobs WHERE id = '%s'", id), 2);
    cr_assert_eq(jf_count_files("uploads"), 0);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM processes"), 1, "the dead one is gone");
    free(csv);
}

Test(recovery, a_worker_killed_between_commit_and_status_is_finished_without_importing_again)
{
    pid_t worker = start_worker_process("import_job.after_commit", 3);
    jf_open_jobs(NULL);
    char *csv = jf_people_csv("p.csv", 25, 0);
    char id[17];
    jf_enqueue_import(jf_jobs, id, csv);
    int status = 0;
    cr_assert_eq(waitpid(worker, &status, 0), worker);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "died at the failpoint");
    cr_assert_str_eq(jf_row_status(id), "processing", "its end was never written");
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM people"), 25, "the rows were committed");
    cr_assert_eq(count("SELECT COUNT(*) FROM job_completions WHERE job_id = '%s'", id), 1);
    cr_assert_eq(jobs_run(jf_jobs, "work", 1, NULL), 0);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 30000);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Imported 25 rows");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "result"), "imported")),
                 25);
    json_decref(doc);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM people"), 25, "not imported twice");
    cr_assert_eq(count("SELECT attempts FROM jobs WHERE id = '%s'", id), 2);
    cr_assert_eq(jf_count_files("uploads"), 0);
    free(csv);
}

Test(recovery, a_job_out_of_attempts_fails_when_its_worker_dies)
{
    pid_t worker = start_worker_process(NULL, 1);
    struct jobs_config c = jf_config();
    c.max_attempts = 1; /* the enqueuing side decides a job's attempts */
    jf_open_jobs(&c);
    char *csv = jf_people_csv("big.csv", 200000, 0);
    char id[17];
    jf_enqueue_import(jf_jobs, id, csv);
    wait_processing_with_rows(id);
    cr_assert_eq(kill(worker, SIGKILL), 0);
    waitpid(worker, NULL, 0);
    size_t recovered = 0;
    /* Silent at once: prune as a live process would after the silence. */
    usleep(700000);
    cr_assert_eq(heartbeat_prune_silent(jobs_queue(jf_jobs), 600, &recovered, NULL), 0);
    cr_assert_eq(recovered, 1);
    json_t *doc = jf_wait_status(jf_jobs, id, "failed", 1000);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")),
                     HEARTBEAT_EXHAUSTED_MESSAGE);
    json_decref(doc);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM people"), 0);
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for a retry");
    cr_assert_eq(jobs_retry_job(jf_jobs, id, NULL), 0, "which works");
    free(csv);
}

/* A live process beating every 5 s still looks for silent ones every second: a process
 * killed right after its last beat is pruned about a second after its silence, not at the
 * live one's next beat. */
Test(recovery, a_killed_process_is_pruned_within_a_second_of_its_silence)
{
    pid_t worker = start_worker_process(NULL, 3);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM processes WHERE pid = %d", (int)worker);
    for (int i = 0; i < 1000 && jf_query_long(sql) == 0; i++)
        usleep(5000);
    cr_assert_eq(jf_query_long(sql), 1, "the worker process registered");
    struct jobs_config c = jf_config(); /* 600 ms of silence makes a process dead */
    c.heartbeat_interval_ms = 5000;
    jf_open_jobs(&c);
    cr_assert_eq(jobs_run(jf_jobs, "work", 1, NULL), 0);
    usleep(100000); /* its first round (beat and prune) is done */
    cr_assert_eq(kill(worker, SIGKILL), 0);
    waitpid(worker, NULL, 0);
    int64_t killed = clock_monotonic_ms(clock_system());
    while (jf_query_long(sql) != 0 && clock_monotonic_ms(clock_system()) - killed < 10000)
        usleep(20000);
    int64_t took = clock_monotonic_ms(clock_system()) - killed;
    cr_assert_eq(jf_query_long(sql), 0, "the dead process was pruned");
    cr_assert_lt(took, 3000,
                 "pruned %lld ms after the kill (600 ms of silence, then a look "
                 "every second; the next beat was 5 s away)",
                 (long long)took);
}
