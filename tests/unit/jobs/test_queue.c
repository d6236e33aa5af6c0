/* The durable queue (src/jobs/queue.c over src/store/job_store.c): states, the atomic claim
 * in threads and in processes, fencing, cancel and retry, listing, backoff. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs/job_files.h"
#include "jobs/queue.h"
#include "jobs_fixture.h"
#include "store/queue_tables.h"
#include "test_support.h"

TestSuite(queue, .init = jf_setup, .fini = jf_teardown);

static void enqueue_export(char id[17])
{
    struct sd_error err = SD_ERROR_INIT;
    json_t *payload = json_object();
    id[0] = '\0';
    cr_assert_eq(queue_enqueue(jobs_queue(jf_jobs), id, "export", jf_template_id, payload, 0, &err),
                 0, "%s", sd_error_message(&err));
    json_decref(payload);
}

static const char *doc_status(const char *id)
{
    static char status[32];
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), 0);
    snprintf(status, sizeof status, "%s", json_string_value(json_object_get(doc, "status")));
    json_decref(doc);
    return status;
}

Test(queue, enqueue_claim_finish_moves_the_row_and_the_document)
{
    char id[17];
    enqueue_export(id);
    cr_assert(job_id_valid(id));
    cr_assert_str_eq(doc_status(id), "pending");
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 7, &err), 0, "%s", sd_error_message(&err));
    cr_assert_str_eq(job->id, id);
    cr_assert_str_eq(job->status, "processing");
    cr_assert_eq(job->attempts, 1);
    cr_assert_eq(job->process_id, 7);
    cr_assert_str_eq(doc_status(id), "processing");
    struct job_record *none = NULL;
    cr_assert_eq(queue_claim(&none, jobs_queue(jf_jobs), 7, &err), SD_ENOTFOUND);
    json_t *part = json_pack("{s:{s:i}}", "result", "exported", 3);
    cr_assert_eq(queue_finish(jobs_queue(jf_jobs), job, "completed", "Exported 3 rows", part, &err),
                 0);
    json_decref(part);
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, &err), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "status")), "completed");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Exported 3 rows");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(doc, "result"), "exported")),
                 3);
    cr_assert(json_is_string(json_object_get(doc, "finished_at")));
    json_decref(doc);
    job_record_free(job);
}

Test(queue, a_batch_is_enqueued_in_one_transaction_all_or_none)
{
    char existing[17];
    enqueue_export(existing);
    json_t *payload = json_object();
    struct queue_new_job batch[3];
    for (int i = 0; i < 3; i++)
        batch[i] = (struct queue_new_job){
            .kind = "export", .template_id = jf_template_id, .payload = payload};
    memcpy(batch[1].id, existing, sizeof batch[1].id); /* taken: the batch must fail whole */
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_neq(queue_enqueue_batch(jobs_queue(jf_jobs), batch, 3, &err), 0);
    cr_assert(strstr(sd_error_message(&err), "could not enqueue 3 jobs"), "%s",
              sd_error_message(&err));
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM jobs"), 1, "nothing of the batch stayed");
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM cache"), 1);
    for (int i = 0; i < 3; i++)
        batch[i].id[0] = '\0';
    cr_assert_eq(queue_enqueue_batch(jobs_queue(jf_jobs), batch, 3, &err), 0, "%s",
                 sd_error_message(&err));
    json_decref(payload);
    for (int i = 0; i < 3; i++) {
        cr_assert(job_id_valid(batch[i].id));
        cr_assert_str_eq(doc_status(batch[i].id), "pending");
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(batch[i].id, batch[j].id);
    }
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM jobs WHERE status = 'pending'"), 4);
}

Test(queue, a_finish_claims_the_next_job_in_the_same_transaction)
{
    char first[17], second[17];
    enqueue_export(first);
    enqueue_export(second);
    struct sd_error err = SD_ERROR_INIT;
    struct job_record *job = NULL, *next = NULL;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 7, &err), 0);
    cr_assert_str_eq(job->id, first);
    cr_assert_eq(
        queue_finish_and_claim(jobs_queue(jf_jobs), job, "completed", "Done", NULL, &next, &err), 0,
        "%s", sd_error_message(&err));
    cr_assert_str_eq(jf_row_status(first), "completed");
    cr_assert_str_eq(doc_status(first), "completed");
    cr_assert_not_null(next, "the second job came with the first one's end");
    cr_assert_str_eq(next->id, second);
    cr_assert_str_eq(next->status, "processing");
    cr_assert_eq(next->process_id, 7);
    cr_assert_eq(next->attempts, 1);
    cr_assert_str_eq(jf_row_status(second), "processing");
    cr_assert_str_eq(doc_status(second), "processing");
    job_record_free(job);
    job = next;
    cr_assert_eq(
        queue_finish_and_claim(jobs_queue(jf_jobs), job, "failed", "No", NULL, &next, &err), 0);
    cr_assert_null(next, "nothing else is due");
    cr_assert_str_eq(doc_status(second), "failed");
    job_record_free(job);
}

/* Finishes from many threads at once share transactions (queue.c); one that fails (here:
 * fenced, as after a recovery) must not take the others of its group down. */
#define GROUP_JOBS 64
#define GROUP_THREADS 8
static struct job_record *group_jobs[GROUP_JOBS];
static int group_rc[GROUP_JOBS];

static void *finish_some(void *arg)
{
    int first = (int)(intptr_t)arg;
    for (int i = first; i < GROUP_JOBS; i += GROUP_THREADS)
        group_rc[i] =
            queue_finish(jobs_queue(jf_jobs), group_jobs[i], "completed", NULL, NULL, NULL);
    return NULL;
}

Test(queue, a_failed_change_does_not_take_the_others_written_with_it_down)
{
    for (int i = 0; i < GROUP_JOBS; i++) {
        char id[17];
        enqueue_export(id);
    }
    for (int i = 0; i < GROUP_JOBS; i++) {
        cr_assert_eq(queue_claim(&group_jobs[i], jobs_queue(jf_jobs), 1, NULL), 0);
        if (i % 5 == 0)
            group_jobs[i]->process_id = 2; /* lost to a recovery: its finish is refused */
    }
    pthread_t threads[GROUP_THREADS];
    for (int t = 0; t < GROUP_THREADS; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, finish_some, (void *)(intptr_t)t), 0);
    for (int t = 0; t < GROUP_THREADS; t++)
        pthread_join(threads[t], NULL);
    for (int i = 0; i < GROUP_JOBS; i++) {
        bool fenced = i % 5 == 0;
        cr_assert_eq(group_rc[i], fenced ? SD_ENOTFOUND : 0, "job %d: %d", i, group_rc[i]);
        cr_assert_str_eq(jf_row_status(group_jobs[i]->id), fenced ? "processing" : "completed");
        cr_assert_str_eq(doc_status(group_jobs[i]->id), fenced ? "processing" : "completed");
        job_record_free(group_jobs[i]);
    }
}

Test(queue, a_job_held_by_another_process_cannot_be_finished_or_handed_back)
{
    char id[17];
    enqueue_export(id);
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 1, &err), 0);
    job->process_id = 2; /* as if process 2 had lost the job to recovery */
    cr_assert_eq(queue_finish(jobs_queue(jf_jobs), job, "completed", NULL, NULL, &err),
                 SD_ENOTFOUND);
    cr_assert(strstr(sd_error_message(&err), "no longer held"));
    cr_assert_eq(queue_hand_back(jobs_queue(jf_jobs), job, &err), SD_ENOTFOUND);
    cr_assert_str_eq(jf_row_status(id), "processing");
    job_record_free(job);
}

/* Claimers in threads: every job is claimed exactly once. */
#define CLAIM_JOBS 120
#define CLAIM_THREADS 4
static int claimed_by[CLAIM_JOBS];
static char claim_ids[CLAIM_JOBS][17];

static void *claim_all(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (;;) {
        struct job_record *job = NULL;
        struct sd_error err = SD_ERROR_INIT;
        int rc = queue_claim(&job, jobs_queue(jf_jobs), me, &err);
        if (rc == SD_ENOTFOUND)
            return NULL;
        if (rc == SD_ERETRY)
            continue;
        cr_assert_eq(rc, 0, "%s", sd_error_message(&err));
        for (int i = 0; i < CLAIM_JOBS; i++)
            if (!strcmp(claim_ids[i], job->id))
                __atomic_add_fetch(&claimed_by[i], 1, __ATOMIC_SEQ_CST);
        job_record_free(job);
    }
}

Test(queue, threads_claiming_at_once_never_get_the_same_job)
{
    for (int i = 0; i < CLAIM_JOBS; i++)
        enqueue_export(claim_ids[i]);
    pthread_t t[CLAIM_THREADS];
    for (int i = 0; i < CLAIM_THREADS; i++)
        pthread_create(&t[i], NULL, claim_all, (void *)(intptr_t)(i + 1));
    for (int i = 0; i < CLAIM_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < CLAIM_JOBS; i++)
        cr_assert_eq(claimed_by[i], 1, "job %d claimed %d times", i, claimed_by[i]);
}

/* Claimers in processes: each child claims until the queue is empty and writes what it got;
 * together they got every job once. */
Test(queue, processes_claiming_at_once_never_get_the_same_job)
{
    for (int i = 0; i < CLAIM_JOBS; i++)
        enqueue_export(claim_ids[i]);
    /* Children start from the store alone: no thread of the parent crosses fork. */
    jobs_close(jf_jobs);
    jf_jobs = NULL;
    char *out[3];
    pid_t pids[3];
    for (int c = 0; c < 3; c++) {
        char name[32];
        snprintf(name, sizeof name, "claims-%d", c);
        out[c] = test_path(jf_dir, name);
        pids[c] = fork();
        cr_assert(pids[c] >= 0);
        if (pids[c] == 0) {
            struct store *store = NULL;
            struct store_config cfg = STORE_CONFIG_INIT;
            cfg.data_dir = jf_dir;
            if (store_open(&store, &cfg, NULL) != 0)
                _exit(3);
            FILE *f = fopen(out[c], "w");
            for (;;) {
                struct db *db = NULL;
                struct job_record *job = NULL;
                if (store_acquire_queue(store, &db, NULL) != 0)
                    _exit(4);
                int rc = job_store_claim(&job, db, 100 + c, clock_now_ms(clock_system()), NULL);
                store_release(store, db);
                if (rc == SD_ENOTFOUND)
                    break;
                if (rc == SD_ERETRY)
                    continue;
                if (rc != 0)
                    _exit(5);
                fprintf(f, "%s\n", job->id);
                job_record_free(job);
            }
            fclose(f);
            store_close(store);
            _exit(0);
        }
    }
    for (int c = 0; c < 3; c++) {
        int status = 0;
        waitpid(pids[c], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", c);
    }
    int seen[CLAIM_JOBS] = {0};
    for (int c = 0; c < 3; c++) {
        char *text = test_read_file(out[c], NULL);
        cr_assert_not_null(text);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            for (int i = 0; i < CLAIM_JOBS; i++)
                if (!strcmp(line, claim_ids[i]))
                    seen[i]++;
        free(text);
        free(out[c]);
    }
    for (int i = 0; i < CLAIM_JOBS; i++)
        cr_assert_eq(seen[i], 1, "job %d claimed %d times", i, seen[i]);
}

Test(queue, cancel_a_pending_job_at_once_and_refuse_an_ended_one)
{
    char id[17];
    enqueue_export(id);
    const char *outcome = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, &err), 0);
    cr_assert_str_eq(outcome, "cancelled");
    cr_assert_str_eq(doc_status(id), "cancelled");
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, &err), SD_EINVALID);
    cr_assert(strstr(sd_error_message(&err), "is cancelled and cannot be cancelled"));
    cr_assert_eq(jobs_cancel_job(jf_jobs, "0123456789abcdef", &outcome, &err), SD_ENOTFOUND);
}

Test(queue, cancel_a_processing_job_sets_the_flag_its_worker_reads)
{
    char id[17];
    enqueue_export(id);
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 1, &err), 0);
    bool requested = true;
    cr_assert_eq(queue_cancel_requested(jobs_queue(jf_jobs), id, &requested, &err), 0);
    cr_assert_not(requested);
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, &err), 0);
    cr_assert_str_eq(outcome, "processing");
    cr_assert_eq(queue_cancel_requested(jobs_queue(jf_jobs), id, &requested, &err), 0);
    cr_assert(requested);
    job_record_free(job);
}

Test(queue, retry_puts_a_failed_job_back_with_its_attempts_reset)
{
    char id[17];
    enqueue_export(id);
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(jobs_retry_job(jf_jobs, id, &err), SD_EINVALID, "a pending job is not retried");
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 1, &err), 0);
    cr_assert_eq(queue_finish(jobs_queue(jf_jobs), job, "failed", "boom", NULL, &err), 0);
    cr_assert_eq(jobs_retry_job(jf_jobs, id, &err), 0, "%s", sd_error_message(&err));
    cr_assert_str_eq(doc_status(id), "pending");
    cr_assert_eq(jf_query_long("SELECT attempts FROM jobs"), 0);
    job_record_free(job);
}

Test(queue, a_cancelled_import_keeps_its_file_for_a_retry_unless_it_is_gone)
{
    char id[17];
    char *csv = jf_people_csv("p.csv", 1, 0);
    jf_enqueue_import(jf_jobs, id, csv);
    const char *outcome = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(jf_count_files("uploads"), 1);
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, &err), 0);
    cr_assert_eq(jf_count_files("uploads"), 1, "kept for a retry");
    cr_assert_eq(jobs_retry_job(jf_jobs, id, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, &err), 0);
    job_files_remove_upload(jf_store, jf_dir, id);
    cr_assert_eq(jobs_retry_job(jf_jobs, id, &err), SD_EINVALID);
    cr_assert(strstr(sd_error_message(&err), "upload it again"));
    free(csv);
}

Test(queue, transient_errors_back_off_then_fail_when_attempts_run_out)
{
    char id[17];
    enqueue_export(id);
    struct sd_error err = SD_ERROR_INIT;
    for (int attempt = 1; attempt <= 3; attempt++) {
        struct job_record *job = NULL;
        int rc;
        /* The backoff puts the job in the future: wait for it to be due. */
        for (int i = 0; (rc = queue_claim(&job, jobs_queue(jf_jobs), 1, &err)) == SD_ENOTFOUND;
             i++) {
            cr_assert(i < 500, "the job never became due again");
            usleep(2000);
        }
        cr_assert_eq(rc, 0);
        cr_assert_eq(job->attempts, attempt);
        bool retried = false;
        cr_assert_eq(
            queue_retry_later(jobs_queue(jf_jobs), job, "the database is busy", &retried, &err), 0);
        cr_assert_eq(retried, attempt < 3);
        job_record_free(job);
    }
    json_t *doc = jf_wait_status(jf_jobs, id, "failed", 0);
    cr_assert(
        strstr(json_string_value(json_object_get(doc, "message")), "gave up after 3 attempts"));
    json_decref(doc);
}

Test(queue, backoff_doubles_with_jitter)
{
    struct queue *q = jobs_queue(jf_jobs); /* backoff base 50 ms in the fixture */
    cr_assert_eq(queue_backoff_ms(q, 1, 0.0), 25);
    cr_assert_eq(queue_backoff_ms(q, 1, 0.999), 74);
    cr_assert_eq(queue_backoff_ms(q, 2, 0.5), 100);
    cr_assert_eq(queue_backoff_ms(q, 3, 0.5), 200);
}

Test(queue, list_filters_pages_and_counts)
{
    char ids[5][17];
    for (int i = 0; i < 5; i++) {
        enqueue_export(ids[i]);
        usleep(2000); /* distinct created_at, newest first */
    }
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 1, &err), 0);
    cr_assert_str_eq(job->id, ids[0], "the oldest due job is claimed first");
    job_record_free(job);
    struct job_filter f = {.limit = 2};
    struct job_record *rows = NULL;
    size_t n = 0;
    cr_assert_eq(queue_list(&rows, &n, jobs_queue(jf_jobs), &f, &err), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(rows[0].id, ids[4]);
    cr_assert_str_eq(rows[1].id, ids[3]);
    job_record_list_free(rows, n);
    f.offset = 4;
    cr_assert_eq(queue_list(&rows, &n, jobs_queue(jf_jobs), &f, &err), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(rows[0].id, ids[0]);
    cr_assert_str_eq(rows[0].status, "processing");
    job_record_list_free(rows, n);
    struct job_filter pending = {.status = "pending", .template_id = jf_template_id};
    cr_assert_eq(queue_list(&rows, &n, jobs_queue(jf_jobs), &pending, &err), 0);
    cr_assert_eq(n, 4);
    job_record_list_free(rows, n);
    struct job_filter other = {.template_id = jf_template_id + 1};
    cr_assert_eq(queue_list(&rows, &n, jobs_queue(jf_jobs), &other, &err), 0);
    cr_assert_eq(n, 0);
    job_record_list_free(rows, n);
    int64_t counts[5];
    struct job_filter all = {.kind = "export"};
    cr_assert_eq(queue_counts(jobs_queue(jf_jobs), &all, counts, &err), 0);
    cr_assert_eq(counts[0], 4);
    cr_assert_eq(counts[1], 1);
    int64_t position = -1;
    cr_assert_eq(queue_position(jobs_queue(jf_jobs), ids[3], &position, &err), 0);
    cr_assert_eq(position, 2, "ids[1] and ids[2] are ahead of ids[3]");
}
