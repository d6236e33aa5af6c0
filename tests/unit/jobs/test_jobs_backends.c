/* The job layer on both databases (tests/unit/store/contract.h): the same queue, workers,
 * status documents, broadcasts and recovery on SQLite and on PostgreSQL (SKIP LOCKED claims,
 * LISTEN/NOTIFY wake-ups). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/contract.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/heartbeat.h"
#include "jobs/job_files.h"
#include "jobs/jobs.h"
#include "store/queue_tables.h"
#include "test_support.h"

static struct store *store;
static struct jobs *jobs;
static int64_t template_id;

static void open_all(int workers)
{
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = contract.dir;
    sc.database_url = contract.url;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", sd_error_message(&err));
    static const char json[] =
        "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"partial\", \"columns\": ["
        " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true}]}";
    struct db *db = NULL;
    struct import_template *t = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(template_create(&t, db, json, strlen(json), NULL, &err), 0, "%s",
                 sd_error_message(&err));
    template_id = t->id;
    template_free(t);
    store_release(store, db);
    struct jobs_config jc = JOBS_CONFIG_INIT;
    jc.data_dir = contract.dir;
    jc.heartbeat_interval_ms = 100;
    jc.heartbeat_silence_ms = 600;
    cr_assert_eq(jobs_open(&jobs, store, &jc, &err), 0, "%s", sd_error_message(&err));
    if (workers)
        cr_assert_eq(jobs_run(jobs, "serve", workers, &err), 0, "%s", sd_error_message(&err));
}

static void close_all(void)
{
    jobs_close(jobs);
    store_close(store);
    jobs = NULL;
    store = NULL;
}

static void enqueue_export(char id[17])
{
    json_t *payload = json_object();
    id[0] = '\0';
    cr_assert_eq(queue_enqueue(jobs_queue(jobs), id, "export", template_id, payload, 0, NULL), 0);
    json_decref(payload);
}

static const char *status_of(const char *id)
{
    static char status[32];
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jobs), id, NULL), 0);
    snprintf(status, sizeof status, "%s", json_string_value(json_object_get(doc, "status")));
    json_decref(doc);
    return status;
}

#define CLAIM_JOBS 60
static char claim_ids[CLAIM_JOBS][17];
static int claims[CLAIM_JOBS];

static void *claimer(void *arg)
{
    for (;;) {
        struct job_record *job = NULL;
        int rc = queue_claim(&job, jobs_queue(jobs), (int64_t)(intptr_t)arg, NULL);
        if (rc == SD_ENOTFOUND)
            return NULL;
        if (rc == SD_ERETRY)
            continue;
        cr_assert_eq(rc, 0);
        for (int i = 0; i < CLAIM_JOBS; i++)
            if (!strcmp(claim_ids[i], job->id))
                __atomic_add_fetch(&claims[i], 1, __ATOMIC_SEQ_CST);
        job_record_free(job);
    }
}

CONTRACT_TEST(jobs, claims_from_four_threads_take_each_job_once)
{
    open_all(0);
    for (int i = 0; i < CLAIM_JOBS; i++)
        enqueue_export(claim_ids[i]);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, claimer, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < CLAIM_JOBS; i++)
        cr_assert_eq(claims[i], 1, "job %d claimed %d times", i, claims[i]);
    close_all();
}

CONTRACT_TEST(jobs, an_import_runs_to_completion_and_its_document_says_so)
{
    open_all(1);
    char *csv = test_path(contract.dir, "people.csv");
    const char text[] = "Email\nann@example.com\nbob@example.com\nnot-an-email\n";
    cr_assert(test_write_file(csv, text, strlen(text)));
    char id[17] = "";
    cr_assert_eq(job_id_generate(id, NULL), 0);
    cr_assert_eq(job_file_copy_upload(store, contract.dir, id, "csv", csv, NULL), 0);
    /* PostgreSQL keeps the upload in the database, not in this machine's data directory. */
    char upload[4096];
    cr_assert_eq(
        job_file_path(upload, sizeof upload, contract.dir, JOB_FILE_UPLOAD, id, "csv", NULL), 0);
    cr_assert_eq(access(upload, F_OK) == 0, !contract_is_postgres());
    json_t *payload = json_pack("{s:s, s:s}", "ext", "csv", "filename", "people.csv");
    cr_assert_eq(queue_enqueue(jobs_queue(jobs), id, "import", template_id, payload, 0, NULL), 0);
    json_decref(payload);
    for (int i = 0; i < 1000 && strcmp(status_of(id), "completed"); i++)
        usleep(10000);
    cr_assert_str_eq(status_of(id), "completed");
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jobs), id, NULL), 0);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "result"), "imported")),
                 2);
    cr_assert_eq(json_integer_value(json_object_get(doc, "error_count")), 1);
    json_decref(doc);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(store, &db, NULL), 0);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM people"), 2);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM job_completions"), 1);
    store_release(store, db);
    /* The upload is gone everywhere; the error report is kept where the backend keeps files,
     * and readable through job_files from any data directory. */
    bool present = true;
    cr_assert_eq(job_file_exists(&present, store, contract.dir, JOB_FILE_UPLOAD, id, "csv", NULL),
                 0);
    cr_assert_not(present);
    cr_assert_eq(access(upload, F_OK), -1);
    char report[4096];
    cr_assert_eq(
        job_file_path(report, sizeof report, contract.dir, JOB_FILE_REPORT, id, NULL, NULL), 0);
    cr_assert_eq(access(report, F_OK) == 0, !contract_is_postgres());
    int fd = -1;
    cr_assert_eq(job_file_open(&fd, store, contract.dir, JOB_FILE_REPORT, id, NULL, NULL), 0);
    char magic[2];
    cr_assert_eq(read(fd, magic, 2), 2);
    cr_assert(!memcmp(magic, "PK", 2), "the report is an XLSX (zip) file");
    close(fd);
    free(csv);
    close_all();
}

CONTRACT_TEST(jobs, a_silent_process_is_recovered_and_cancel_and_retry_work)
{
    open_all(0);
    char id[17];
    enqueue_export(id);
    struct db *db = NULL;
    int64_t dead = 0;
    cr_assert_eq(store_acquire_queue(store, &db, NULL), 0);
    cr_assert_eq(process_store_register(db, 999999, "gone", "work", 1, &dead, NULL), 0);
    store_release(store, db);
    struct job_record *job = NULL;
    cr_assert_eq(queue_claim(&job, jobs_queue(jobs), dead, NULL), 0);
    job_record_free(job);
    size_t recovered = 0;
    cr_assert_eq(heartbeat_prune_silent(jobs_queue(jobs), 600, &recovered, NULL), 0);
    cr_assert_eq(recovered, 1);
    cr_assert_str_eq(status_of(id), "pending");
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jobs, id, &outcome, NULL), 0);
    cr_assert_str_eq(status_of(id), "cancelled");
    cr_assert_eq(jobs_retry_job(jobs, id, NULL), 0);
    cr_assert_str_eq(status_of(id), "pending");
    close_all();
}

/* A subscriber hears a change made through another store (another process's connections):
 * through data_version on SQLite, LISTEN/NOTIFY on PostgreSQL. */
static int heard;
static void on_change(const char *channel, int64_t seq, void *ctx)
{
    (void)channel;
    (void)seq;
    (void)ctx;
    __atomic_add_fetch(&heard, 1, __ATOMIC_SEQ_CST);
}

CONTRACT_TEST(jobs, a_change_through_other_connections_is_heard)
{
    open_all(0);
    struct broadcast_subscription *sub = NULL;
    cr_assert_eq(broadcast_subscribe(&sub, jobs_broadcaster(jobs), NULL, on_change, NULL, NULL), 0);
    struct store *other = NULL;
    struct jobs *other_jobs = NULL;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = contract.dir;
    sc.database_url = contract.url;
    cr_assert_eq(store_open(&other, &sc, NULL), 0);
    struct jobs_config jc = JOBS_CONFIG_INIT;
    jc.data_dir = contract.dir;
    cr_assert_eq(jobs_open(&other_jobs, other, &jc, NULL), 0);
    /* The watcher's first look sets what it compares with (SQLite's data_version, or the
     * LISTEN on PostgreSQL); on a loaded machine that look can come after a change made right
     * away, so changes are made until one is heard, each given a second. */
    for (int attempt = 0; attempt < 5 && __atomic_load_n(&heard, __ATOMIC_SEQ_CST) == 0;
         attempt++) {
        char id[17] = "";
        json_t *payload = json_object();
        cr_assert_eq(
            queue_enqueue(jobs_queue(other_jobs), id, "export", template_id, payload, 0, NULL), 0);
        json_decref(payload);
        for (int i = 0; i < 100 && __atomic_load_n(&heard, __ATOMIC_SEQ_CST) == 0; i++)
            usleep(10000);
    }
    cr_assert_gt(__atomic_load_n(&heard, __ATOMIC_SEQ_CST), 0);
    jobs_close(other_jobs);
    store_close(other);
    broadcast_unsubscribe(sub);
    close_all();
}
