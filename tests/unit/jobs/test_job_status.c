/* JobStatusService (src/jobs/job_status.c): the cached document, its expiry on an injected
 * clock, falling back to the jobs row, progress throttling, and broadcasts in this process
 * and from another one. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jobs/job_status.h"
#include "jobs_fixture.h"
#include "store/queue_tables.h"

static struct clock_fixed fixed;

static void setup_fixed_clock(void)
{
    jf_setup_store();
    clock_fixed_init(&fixed, 1800000000000LL);
    struct jobs_config c = jf_config();
    c.clock = &fixed.clock;
    jf_open_jobs(&c);
}

TestSuite(job_status, .init = jf_setup, .fini = jf_teardown);
TestSuite(job_status_clock, .init = setup_fixed_clock, .fini = jf_teardown);
TestSuite(job_status_fork, .init = jf_setup_store, .fini = jf_teardown);

static void enqueue_export(char id[17])
{
    json_t *payload = json_object();
    id[0] = '\0';
    cr_assert_eq(queue_enqueue(jobs_queue(jf_jobs), id, "export", jf_template_id, payload, 0, NULL),
                 0);
    json_decref(payload);
}

static long broadcasts(void)
{
    return jf_query_long("SELECT COUNT(*) FROM broadcasts");
}

Test(job_status, the_key_names_the_job)
{
    char key[48];
    cr_assert_str_eq(job_status_key(key, sizeof key, "3f9a0c1d2e4b5a69"),
                     "job_status:3f9a0c1d2e4b5a69");
}

Test(job_status, an_update_is_read_back_with_its_sequence_number)
{
    char id[17];
    enqueue_export(id);
    json_t *doc =
        json_pack("{s:s, s:s, s:s}", "job_id", id, "status", "processing", "message", "half way");
    int64_t before = broadcasts();
    cr_assert_eq(job_status_update(jobs_status(jf_jobs), id, doc, NULL), 0);
    json_decref(doc);
    cr_assert_eq(broadcasts(), before + 1, "every write is broadcast");
    int64_t seq = 0;
    cr_assert_eq(job_status_get(&doc, &seq, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "half way");
    cr_assert(json_is_string(json_object_get(doc, "updated_at")));
    cr_assert_eq(seq, jf_query_long("SELECT MAX(id) FROM broadcasts"));
    json_decref(doc);
}

Test(job_status_clock, the_entry_expires_after_a_day_and_the_row_answers_instead)
{
    char id[17];
    enqueue_export(id);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "job_id", id, "status", "pending", "message",
                            "from the cache");
    cr_assert_eq(job_status_update(jobs_status(jf_jobs), id, doc, NULL), 0);
    json_decref(doc);
    fixed.now_ms += JOB_STATUS_TTL_MS - 1;
    int64_t seq = 0;
    cr_assert_eq(job_status_get(&doc, &seq, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "from the cache");
    cr_assert_gt(seq, 0);
    json_decref(doc);
    fixed.now_ms += 2;
    cr_assert_eq(job_status_get(&doc, &seq, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Waiting for a worker");
    cr_assert_eq(seq, 0, "built from the row");
    json_decref(doc);
    int64_t removed = 0;
    cr_assert_eq(job_status_sweep(jobs_status(jf_jobs), &removed, NULL), 0);
    cr_assert_eq(removed, 1);
    cr_assert_eq(jf_query_long("SELECT COUNT(*) FROM cache"), 0);
}

Test(job_status, a_broken_cache_is_survived_and_the_row_answers)
{
    char id[17];
    enqueue_export(id);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_queue(jf_store, &db, NULL), 0);
    cr_assert_eq(db_exec(db, "DROP TABLE cache", NULL), 0);
    store_release(jf_store, db);
    json_t *doc = json_pack("{s:s}", "status", "processing");
    cr_assert_eq(job_status_update(jobs_status(jf_jobs), id, doc, NULL), 0);
    json_decref(doc);
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, NULL), 0,
                 "the queue works without a cache");
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "status")), "cancelled");
    json_decref(doc);
}

Test(job_status, an_unknown_job_is_not_found)
{
    json_t *doc = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jf_jobs), "0123456789abcdef", &err),
                 SD_ENOTFOUND);
    cr_assert_null(doc);
}

Test(job_status_clock, progress_is_written_at_most_four_times_a_second_and_the_last_one_always)
{
    char id[17];
    enqueue_export(id);
    struct job_record *job = NULL;
    cr_assert_eq(queue_claim(&job, jobs_queue(jf_jobs), 1, NULL), 0);
    struct job_progress p = {0};
    struct job_status_service *svc = jobs_status(jf_jobs);
    int64_t before = broadcasts();
    for (int i = 1; i <= 10; i++)
        cr_assert_eq(
            job_status_update_progress(svc, job, &p, "Exporting rows", (uint64_t)i, 100, NULL), 0);
    cr_assert_eq(broadcasts(), before + 1, "ten calls in one instant write once");
    fixed.now_ms += 249;
    job_status_update_progress(svc, job, &p, "Exporting rows", 20, 100, NULL);
    cr_assert_eq(broadcasts(), before + 1);
    fixed.now_ms += 1;
    job_status_update_progress(svc, job, &p, "Exporting rows", 30, 100, NULL);
    cr_assert_eq(broadcasts(), before + 2, "250 ms later it writes again");
    job_status_update_progress(svc, job, &p, "Exporting rows", 40, 100, NULL);
    cr_assert_eq(broadcasts(), before + 2);
    cr_assert_eq(job_status_flush_progress(svc, job, &p, NULL), 0);
    cr_assert_eq(broadcasts(), before + 3, "the held-back one is flushed");
    cr_assert_eq(job_status_flush_progress(svc, job, &p, NULL), 0);
    cr_assert_eq(broadcasts(), before + 3, "nothing left to flush");
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, NULL, svc, id, NULL), 0);
    json_t *progress = json_object_get(doc, "progress");
    cr_assert_eq(json_integer_value(json_object_get(progress, "processed")), 40);
    cr_assert_eq(json_integer_value(json_object_get(progress, "total")), 100);
    cr_assert_eq(json_integer_value(json_object_get(progress, "percent")), 40);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "message")), "Exporting rows");
    json_decref(doc);
    job_record_free(job);
}

struct heard {
    pthread_mutex_t lock;
    char channel[64];
    int64_t seq;
    atomic_int calls;
};

static void on_broadcast(const char *channel, int64_t seq, void *ctx)
{
    struct heard *h = ctx;
    pthread_mutex_lock(&h->lock);
    snprintf(h->channel, sizeof h->channel, "%s", channel);
    if (seq > h->seq)
        h->seq = seq;
    atomic_fetch_add(&h->calls, 1);
    pthread_mutex_unlock(&h->lock);
}

Test(job_status, subscribers_in_this_process_hear_each_write_at_once)
{
    char id[17];
    enqueue_export(id);
    struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct heard all = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char channel[48];
    job_status_key(channel, sizeof channel, id);
    struct broadcast_subscription *sub = NULL, *every = NULL;
    cr_assert_eq(
        broadcast_subscribe(&sub, jobs_broadcaster(jf_jobs), channel, on_broadcast, &h, NULL), 0);
    cr_assert_eq(
        broadcast_subscribe(&every, jobs_broadcaster(jf_jobs), NULL, on_broadcast, &all, NULL), 0);
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, NULL), 0);
    /* Delivered before jobs_cancel returned, on this thread. */
    cr_assert_geq(atomic_load(&h.calls), 1);
    cr_assert_str_eq(h.channel, channel);
    int64_t seq = 0;
    json_t *doc = NULL;
    cr_assert_eq(job_status_get(&doc, &seq, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_eq(h.seq, seq);
    cr_assert_geq(atomic_load(&all.calls), 1, "a subscriber of every channel hears it too");
    json_decref(doc);
    broadcast_unsubscribe(sub);
    broadcast_unsubscribe(every);
}

/* The threads of this process, from /proc/self/status. */
static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    cr_assert(f);
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* A process that only makes changes (`sheetd jobs cancel`) starts no watcher; the first
 * subscriber starts it, once. */
Test(job_status, the_watcher_starts_with_the_first_subscriber)
{
    char id[17];
    enqueue_export(id);
    int before = thread_count();
    const char *outcome = NULL;
    cr_assert_eq(jobs_cancel_job(jf_jobs, id, &outcome, NULL), 0);
    cr_assert_eq(thread_count(), before, "enqueue and cancel start no thread");
    struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct broadcast_subscription *a = NULL, *b = NULL;
    cr_assert_eq(broadcast_subscribe(&a, jobs_broadcaster(jf_jobs), NULL, on_broadcast, &h, NULL),
                 0);
    cr_assert_eq(thread_count(), before + 1);
    cr_assert_eq(broadcast_subscribe(&b, jobs_broadcaster(jf_jobs), NULL, on_broadcast, &h, NULL),
                 0);
    cr_assert_eq(thread_count(), before + 1, "one watcher for the process");
    broadcast_unsubscribe(a);
    broadcast_unsubscribe(b);
}

/* Another process (forked before this one starts any thread) cancels the job; this
 * process's subscriber hears of it through the watcher. */
Test(job_status_fork, subscribers_hear_a_write_made_by_another_process)
{
    char id[17] = "";
    cr_assert_eq(job_id_generate(id, NULL), 0);
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        struct jobs *jobs = NULL;
        struct jobs_config c = jf_config();
        if (jobs_open(&jobs, jf_store, &c, NULL) != 0)
            _exit(2);
        json_t *payload = json_object();
        /* Give the parent time to subscribe before the job exists at all. */
        usleep(400000);
        const char *outcome = NULL;
        int rc = queue_enqueue(jobs_queue(jobs), id, "export", jf_template_id, payload, 0, NULL);
        rc = rc ? rc : jobs_cancel_job(jobs, id, &outcome, NULL);
        json_decref(payload);
        jobs_close(jobs);
        _exit(rc ? 3 : 0);
    }
    jf_open_jobs(NULL);
    struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char channel[48];
    job_status_key(channel, sizeof channel, id);
    struct broadcast_subscription *sub = NULL;
    cr_assert_eq(
        broadcast_subscribe(&sub, jobs_broadcaster(jf_jobs), channel, on_broadcast, &h, NULL), 0);
    int status = 0;
    waitpid(child, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 500 && atomic_load(&h.calls) < 2; i++)
        usleep(10000);
    cr_assert_geq(atomic_load(&h.calls), 2, "heard the enqueue and the cancel");
    json_t *doc = NULL;
    int64_t seq = 0;
    cr_assert_eq(job_status_get(&doc, &seq, jobs_status(jf_jobs), id, NULL), 0);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "status")), "cancelled");
    cr_assert_eq(h.seq, seq, "the last change heard is the one in the cache");
    json_decref(doc);
    broadcast_unsubscribe(sub);
}
