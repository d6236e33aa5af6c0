/* Workers running the two job kinds in this process (src/jobs/worker.c, import_job.c,
 * export_job.c): the happy path, validation failures that are never retried, processing
 * failures that end with a sentence, a transient error retried with backoff, cancelling,
 * graceful shutdown, the same result as the foreground service, exports and retention.
 * Files left behind are counted in every case. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import/import_service.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/job_files.h"
#include "jobs/retention.h"
#include "jobs_fixture.h"
#include "test_support.h"

TestSuite(worker, .init = jf_setup, .fini = jf_teardown);

static void run_workers(int n)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(jobs_run(jf_jobs, "serve", n, &err), 0, "%s", sd_error_message(&err));
}

static long people(void)
{
    return jf_query_long("SELECT COUNT(*) FROM people");
}

static long attempts(const char *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT attempts FROM jobs WHERE id = '%s'", id);
    return jf_query_long(sql);
}

Test(worker, a_good_file_is_imported_and_its_upload_removed)
{
    char *csv = jf_people_csv("good.csv", 5, 0);
    char id[17];
    run_workers(2);
    jf_enqueue_import(jf_jobs, id, csv);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 10000);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Imported 5 rows");
    json_t *result = json_object_get(doc, "result");
    cr_assert_eq(json_integer_value(json_object_get(result, "imported")), 5);
    cr_assert_eq(json_integer_value(json_object_get(doc, "error_count")), 0);
    cr_assert(json_is_null(json_object_get(json_object_get(doc, "files"), "report")));
    cr_assert(json_is_string(json_object_get(doc, "started_at")), "when the attempt began");
    cr_assert_eq(people(), 5);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM people WHERE _job_id = '%s'", id);
    cr_assert_eq(jf_query_long(sql), 5, "rows carry their job's id");
    cr_assert_eq(attempts(id), 1);
    cr_assert_eq(jf_count_files("uploads"), 0);
    cr_assert_eq(jf_count_files("reports"), 0);
    json_decref(doc);
    free(csv);
}

Test(worker, a_file_that_fails_validation_fails_once_with_its_row_errors)
{
    char *csv = jf_people_csv("bad.csv", 0, 3);
    char id[17];
    run_workers(2);
    jf_enqueue_import(jf_jobs, id, csv);
    json_t *doc = jf_wait_status(jf_jobs, id, "failed", 10000);
    cr_assert_eq(json_integer_value(json_object_get(doc, "error_count")), 3);
    json_t *errors = json_object_get(doc, "errors");
    cr_assert_eq(json_array_size(errors), 3);
    json_t *first = json_array_get(errors, 0);
    cr_assert_eq(json_integer_value(json_object_get(first, "row")), 2, "the sheet's own row");
    cr_assert_str_eq(json_string_value(json_object_get(first, "column")), "Email");
    cr_assert_str_eq(json_string_value(json_object_get(first, "value")), "broken-0");
    char report[64];
    snprintf(report, sizeof report, "/jobs/%s/errors.xlsx", id);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "files"), "report")),
                     report);
    cr_assert_eq(jf_count_files("reports"), 1, "the full report is kept with the job");
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for a retry until the job is pruned");
    cr_assert_eq(people(), 0);
    usleep(300000);
    cr_assert_str_eq(jf_row_status(id), "failed");
    cr_assert_eq(attempts(id), 1, "a file's own fault is never retried");
    json_decref(doc);
    free(csv);
}

Test(worker, an_upload_that_vanished_fails_the_job_with_a_sentence)
{
    char *csv = jf_people_csv("gone.csv", 2, 0);
    char id[17];
    jf_enqueue_import(jf_jobs, id, csv);
    job_files_remove_upload(jf_store, jf_dir, id);
    run_workers(1);
    json_t *doc = jf_wait_status(jf_jobs, id, "failed", 10000);
    cr_assert(strstr(json_string_value(json_object_get(doc, "message")), "no longer there"));
    cr_assert_eq(attempts(id), 1);
    json_decref(doc);
    free(csv);
}

Test(worker, a_table_dropped_under_the_template_fails_the_job_with_a_sentence)
{
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(jf_store, &db, NULL), 0);
    cr_assert_eq(db_exec(db, "DROP TABLE people", NULL), 0);
    store_release(jf_store, db);
    char *csv = jf_people_csv("p.csv", 2, 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    json_t *doc = jf_wait_status(jf_jobs, id, "failed", 10000);
    const char *message = json_string_value(json_object_get(doc, "message"));
    cr_assert(strstr(message, "people"), "names the table: %s", message);
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for a retry");
    json_decref(doc);
    free(csv);
}

/* The store and job layer again, giving up on a lock after 50 ms (both databases), with
 * `max_attempts` (0: the default). */
static void reopen_with_short_busy_timeout(int max_attempts)
{
    jobs_close(jf_jobs);
    store_close(jf_store);
    struct store_config cfg = STORE_CONFIG_INIT;
    cfg.data_dir = jf_dir;
    char url[4200];
    snprintf(url, sizeof url, "sqlite:%s/sheetd.db?busy_timeout=50", jf_dir);
    cfg.database_url = url;
    cr_assert_eq(store_open(&jf_store, &cfg, NULL), 0);
    struct jobs_config config = jf_config();
    if (max_attempts)
        config.max_attempts = max_attempts;
    jf_open_jobs(&config);
}

/* The main database is locked by another connection for longer than the busy timeout: the
 * import meets SD_ERETRY and is retried after a backoff, keeping its upload, and completes
 * once the lock is gone. */
Test(worker, a_busy_database_is_retried_with_backoff_until_it_frees)
{
    reopen_with_short_busy_timeout(0);
    struct db *locker = NULL;
    cr_assert_eq(store_acquire_main(jf_store, &locker, NULL), 0);
    cr_assert_eq(db_begin(locker, NULL), 0, "BEGIN IMMEDIATE holds the write lock");
    char *csv = jf_people_csv("p.csv", 3, 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    for (int i = 0; i < 1000 && attempts(id) < 2; i++)
        usleep(10000);
    cr_assert_geq(attempts(id), 2, "the busy database was retried");
    cr_assert_eq(jf_count_files("uploads"), 1, "the upload stays for the retry");
    db_rollback(locker);
    store_release(jf_store, locker);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 10000);
    cr_assert_eq(people(), 3);
    cr_assert_eq(jf_count_files("uploads"), 0);
    json_decref(doc);
    free(csv);
}

/* The end of a job that the queue database cannot take for a while is written once it can:
 * the job must not stay "processing" under a live worker, and its rows are not imported a
 * second time. */
Test(worker, an_end_the_database_cannot_take_yet_is_written_when_it_can)
{
    reopen_with_short_busy_timeout(0);
    char *csv = jf_people_csv("p.csv", 20000, 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    for (int i = 0; i < 2000 && strcmp(jf_row_status(id), "processing"); i++)
        usleep(2000);
    cr_assert_str_eq(jf_row_status(id), "processing", "claimed; 20,000 rows take a while");
    char queue_url[4200];
    snprintf(queue_url, sizeof queue_url, "sqlite:%s/queue.db", jf_dir);
    struct db *locker = NULL;
    cr_assert_eq(db_open(&locker, queue_url, NULL), 0);
    cr_assert_eq(db_begin(locker, NULL), 0, "BEGIN IMMEDIATE holds queue.db's write lock");
    for (int i = 0; i < 2000 && people() < 20000; i++)
        usleep(5000);
    cr_assert_eq(people(), 20000, "the rows committed while the queue was locked");
    usleep(300000); /* the end fails at least once meanwhile */
    db_rollback(locker);
    db_close(locker);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 10000);
    cr_assert_eq(attempts(id), 1, "one attempt: the end was written again, not the job re-run");
    cr_assert_eq(people(), 20000);
    json_decref(doc);
    free(csv);
}

/* A retry after a transient error is an end too: when the queue database cannot take it
 * yet, it is written once it can, and the job is not left "processing" under a live worker
 * (which no recovery would touch). The main database stays locked, so every attempt fails
 * after 50 ms; the queue is locked at a moment its job is processing, long enough for that
 * attempt's retry to meet the lock. */
Test(worker, a_retry_the_database_cannot_take_yet_is_written_when_it_can)
{
    reopen_with_short_busy_timeout(1000);
    struct db *main_locker = NULL, *queue_locker = NULL;
    cr_assert_eq(store_acquire_main(jf_store, &main_locker, NULL), 0);
    cr_assert_eq(db_begin(main_locker, NULL), 0, "BEGIN IMMEDIATE holds the write lock");
    char queue_url[4200];
    snprintf(queue_url, sizeof queue_url, "sqlite:%s/queue.db", jf_dir);
    cr_assert_eq(db_open(&queue_locker, queue_url, NULL), 0);
    char *csv = jf_people_csv("p.csv", 3, 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    long held_at = -1;
    for (int i = 0; i < 400 && held_at < 0; i++) {
        cr_assert_eq(db_begin(queue_locker, NULL), 0);
        if (!strcmp(jf_row_status(id), "processing")) {
            held_at = attempts(id);
            usleep(300000); /* the attempt fails meanwhile, and so does its first retry */
            cr_assert_str_eq(jf_row_status(id), "processing", "nothing can write meanwhile");
        }
        db_rollback(queue_locker);
        if (held_at < 0)
            usleep(3000);
    }
    cr_assert_geq(held_at, 1, "the queue was locked while the job was processing");
    for (int i = 0; i < 300 && attempts(id) == held_at && !strcmp(jf_row_status(id), "processing");
         i++)
        usleep(10000);
    cr_assert(attempts(id) > held_at || strcmp(jf_row_status(id), "processing"),
              "the retry was written once the queue freed (attempt %ld, %s)", attempts(id),
              jf_row_status(id));
    db_close(queue_locker);
    db_rollback(main_locker);
    store_release(jf_store, main_locker);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 10000);
    cr_assert_eq(people(), 3);
    json_decref(doc);
    free(csv);
}

/* Waits until the job is processing and has imported some rows. */
static void wait_running(const char *id)
{
    for (int i = 0; i < 2000; i++) {
        json_t *doc = NULL;
        cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), 0);
        json_t *progress = json_object_get(doc, "progress");
        bool running = !strcmp(json_string_value(json_object_get(doc, "status")), "processing") &&
                       json_integer_value(json_object_get(progress, "processed")) > 0;
        json_decref(doc);
        if (running)
            return;
        usleep(5000);
    }
    cr_assert_fail("job %s never showed progress", id);
}

Test(worker, cancelling_a_running_import_writes_nothing)
{
    char *csv = jf_people_csv("big.csv", 300000, 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    wait_running(id);
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, NULL), 0);
    cr_assert_str_eq(outcome, "processing");
    json_t *doc = jf_wait_status(jf_jobs, id, "cancelled", 20000);
    cr_assert_eq(people(), 0, "rolled back");
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for a retry");
    json_decref(doc);
    free(csv);
}

/* Reopens the job layer with `c`, starts one worker on a 300,000-row import and returns once
 * it has imported some rows; the CSV's path is the caller's to free. */
static char *start_big_import(const struct jobs_config *c, char id[17])
{
    jobs_close(jf_jobs);
    jf_open_jobs(c);
    char *csv = jf_people_csv("big.csv", 300000, 0);
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    wait_running(id);
    return csv;
}

/* The system clock, whose monotonic reading the test can stop: stopped, it keeps a running
 * job from looking for a cancel again on its own schedule. */
static atomic_llong stopped_at; /* 0: running */

static int64_t stoppable_now(void *ctx)
{
    (void)ctx;
    return clock_now_ms(clock_system());
}

static int64_t stoppable_monotonic(void *ctx)
{
    (void)ctx;
    int64_t at = atomic_load(&stopped_at);
    return at ? at : clock_monotonic_ms(clock_system());
}

static const struct sd_clock stoppable_clock = {stoppable_now, stoppable_monotonic, NULL};

Test(worker, a_cancel_that_comes_after_the_last_periodic_look_still_writes_nothing)
{
    struct jobs_config c = jf_config();
    c.clock = &stoppable_clock;
    c.heartbeat_silence_ms = 0; /* heartbeats keep time by this clock too */
    char id[17];
    char *csv = start_big_import(&c, id);
    atomic_store(&stopped_at, clock_monotonic_ms(clock_system()));
    usleep(50000); /* the one look the stopped clock still allows is behind us */
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, NULL), 0);
    cr_assert_str_eq(outcome, "processing");
    json_t *doc = jf_wait_status(jf_jobs, id, "cancelled", 20000);
    cr_assert_eq(people(), 0, "asked once more before the commit, and rolled back");
    atomic_store(&stopped_at, 0);
    json_decref(doc);
    free(csv);
}

Test(worker, shutting_down_hands_a_running_job_back_without_counting_the_attempt)
{
    struct jobs_config c = jf_config();
    c.shutdown_timeout_ms = 0;
    char id[17];
    char *csv = start_big_import(&c, id);
    jobs_close(jf_jobs);
    jf_jobs = NULL;
    cr_assert_str_eq(jf_row_status(id), "pending");
    cr_assert_eq(attempts(id), 0);
    cr_assert_eq(people(), 0);
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for the next worker");
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM processes"), 0, "deregistered");
    free(csv);
}

Test(worker, a_job_gives_the_same_result_as_the_foreground_service)
{
    struct buf b = BUF_INIT;
    char *csv = jf_people_csv("mixed.csv", 4, 2);
    struct db *db = NULL;
    struct import_template *tmpl = NULL;
    cr_assert_eq(store_acquire_main(jf_store, &db, NULL), 0);
    cr_assert_eq(template_load(&tmpl, db, jf_template_id, NULL), 0);
    struct import_result *res = NULL;
    cr_assert_eq(import_service_run(&res, db, tmpl, csv, NULL, NULL), 0);
    store_release(jf_store, db);
    json_t *result = NULL, *errors = NULL;
    cr_assert_eq(import_result_to_json(&result, &errors, res, NULL), 0);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    json_t *doc = jf_wait_status(jf_jobs, id, "completed", 10000);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), res->message);
    const char *keys[] = {"imported", "updated", "failed", "skipped", "rows_read"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "result"), keys[i])),
                     json_integer_value(json_object_get(result, keys[i])), "%s", keys[i]);
    cr_assert(json_equal(json_object_get(doc, "errors"), errors));
    cr_assert_eq(people(), 8, "both runs wrote their 4 good rows");
    json_decref(doc);
    json_decref(result);
    json_decref(errors);
    import_result_free(res);
    template_free(tmpl);
    buf_free(&b);
    free(csv);
}

Test(worker, an_export_job_writes_a_file_to_download)
{
    char *csv = jf_people_csv("p.csv", 3, 0);
    char id[17], export_id[17] = "";
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    json_decref(jf_wait_status(jf_jobs, id, "completed", 10000));
    json_t *payload = json_object();
    cr_assert_eq(
        queue_enqueue(jobs_queue(jf_jobs), export_id, "export", jf_template_id, payload, 0, NULL),
        0);
    json_decref(payload);
    json_t *doc = jf_wait_status(jf_jobs, export_id, "completed", 10000);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Exported 3 rows");
    char download[64];
    snprintf(download, sizeof download, "/jobs/%s/download", export_id);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "files"), "download")),
                     download);
    char path[4096];
    cr_assert_eq(job_file_path(path, sizeof path, jf_dir, JOB_FILE_EXPORT, export_id, NULL, NULL),
                 0);
    size_t len = 0;
    char *bytes = test_read_file(path, &len);
    cr_assert(bytes && len > 4 && !memcmp(bytes, "PK", 2), "an XLSX (zip) file");
    free(bytes);
    json_decref(doc);
    free(csv);
}

Test(worker, retention_prunes_ended_jobs_with_their_files)
{
    char *csv = jf_people_csv("bad.csv", 0, 1);
    char id[17];
    run_workers(1);
    jf_enqueue_import(jf_jobs, id, csv);
    json_decref(jf_wait_status(jf_jobs, id, "failed", 10000));
    cr_assert_eq(jf_count_files("reports"), 1);
    struct retention_counts counts = {0};
    cr_assert_eq(
        retention_sweep(jobs_queue(jf_jobs), jf_dir, 7 * 24 * 3600 * 1000LL, &counts, NULL), 0);
    cr_assert_eq(counts.jobs, 0, "a fresh job is kept");
    /* A retention that ended a second ago covers it. */
    cr_assert_eq(retention_sweep(jobs_queue(jf_jobs), jf_dir, -1000, &counts, NULL), 0);
    cr_assert_eq(counts.jobs, 1);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM jobs"), 0);
    cr_assert_eq(jf_count_files("reports"), 0);
    cr_assert_eq(jf_count_files("uploads"), 0, "the failed job's file went with it");
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), SD_ENOTFOUND);
    free(csv);
}
