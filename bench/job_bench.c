/*
 * DESIGN
 * ------
 * The job layer's half of `make bench` (scripts/bench.sh runs it and compares with
 * ../shared/bench/job_peers.sh, which measures BullMQ and pg-boss the same way):
 *
 *   job_bench latency DIR [N]     enqueue → start latency of N single no-op jobs, each
 *                                 enqueued on an idle pool of 2 workers in this process
 *   job_bench cross DIR [N]       the same with the workers in another process, which only
 *                                 learns of a job through PRAGMA data_version (waker.h)
 *   job_bench throughput DIR [N]  N no-op jobs through 2 workers, enqueue included, in jobs/s
 *   job_bench throughput2 DIR [N] the same through 4 workers in 2 processes (2 each), the
 *                                 form issue 11 measures on PostgreSQL
 *   job_bench csv FILE ROWS       a customers CSV (the columns of ../shared/bench/gen_xlsx.c)
 *                                 for the kill -9 recovery run
 *   job_bench canceller DIR       the other process of scripts/bench_web.sh's cross-process
 *                                 SSE latency: reads job ids on stdin, one a line, cancels
 *                                 each through the queue and answers "ID OUTCOME BEFORE_US
 *                                 AFTER_US" (see run_canceller)
 *
 * DIR is a data dir the caller made fresh; everything runs on SQLite there, through the same
 * calls `sheetd serve` and `sheetd work` make (store_open, store_migrate, jobs_open,
 * jobs_run) with one extra job kind, "noop". A no-op job takes its start time first thing,
 * ends itself completed through job_context_finish (the writes every real job's end makes)
 * and reports through a pipe to the thread or process that enqueued it.
 *
 * Latency is the no-op job's start time minus the time the enqueuer took just before
 * queue_enqueue: CLOCK_MONOTONIC in one process, CLOCK_REALTIME across two, written in the
 * payload either way. Between samples the enqueuer waits a random 1-25 ms with nothing
 * queued, so the workers are idle again and the cross-process samples fall at random
 * points of the 20 ms poll rather than in step with it. Percentiles are taken the way the
 * peers' scripts take them: sorted, index floor(N * p).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "jobs/jobs.h"
#include "store/store.h"

/* How long the enqueuer waits for one report before it gives up on the run. */
#define REPORT_TIMEOUT_MS 120000

static int report_fd = -1;    /* where no-op jobs report (the write end of a pipe) */
static atomic_long noop_done; /* payload-less no-op jobs ended so far */
static long noop_target;      /* ... and how many make a throughput run */

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(int64_t value)
{
    if (write(report_fd, &value, sizeof value) != (ssize_t)sizeof value)
        log_kv(SD_LOG_WARN, "job_bench could not report", "errno", LOG_NUM(errno), NULL);
}

/* The "noop" job kind: latency samples carry their enqueue time in the payload
 * ({"t0_ns": N, "clock": "monotonic" | "realtime"}); throughput jobs carry nothing and are
 * counted. */
static int noop_run(struct job_context *ctx, struct sd_error *err)
{
    int64_t started_mono = now_ns(CLOCK_MONOTONIC), started_real = now_ns(CLOCK_REALTIME);
    json_error_t jerr;
    json_t *payload = json_loads(ctx->job->payload, 0, &jerr);
    json_t *t0 = json_object_get(payload, "t0_ns");
    const char *clock = json_string_value(json_object_get(payload, "clock"));
    int64_t latency = -1;
    if (json_is_integer(t0) && clock)
        latency = (!strcmp(clock, "realtime") ? started_real : started_mono) -
                  (int64_t)json_integer_value(t0);
    json_decref(payload);
    int rc = job_context_finish(ctx, JOB_STATUS_COMPLETED, "Done", NULL, err);
    if (latency >= 0)
        report(latency);
    else if (atomic_fetch_add(&noop_done, 1) + 1 == noop_target)
        report(now_ns(CLOCK_MONOTONIC));
    return rc;
}

static const struct job_kind bench_kinds[] = {
    {"noop", noop_run},
    {NULL, NULL},
};

struct layer {
    struct store *store;
    struct jobs *jobs;
};

static void layer_close(struct layer *l)
{
    jobs_close(l->jobs);
    store_close(l->store);
    memset(l, 0, sizeof *l);
}

/* Opens the store in `dir` (or the database SHEETD_DATABASE_URL names, as sheetd does) and
 * the job layer on it, as `sheetd work` does, with `workers` worker threads (0: enqueue
 * only). */
static int layer_open(struct layer *l, const char *dir, int workers)
{
    memset(l, 0, sizeof *l);
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = dir;
    sc.database_url = getenv("SHEETD_DATABASE_URL");
    struct jobs_config jc = JOBS_CONFIG_INIT;
    jc.data_dir = dir;
    jc.kinds = bench_kinds;
    jc.shutdown_timeout_ms = 5000;
    if (store_open(&l->store, &sc, &err) || store_migrate(l->store, NULL, &err) ||
        jobs_open(&l->jobs, l->store, &jc, &err) ||
        (workers > 0 && jobs_run(l->jobs, "work", workers, &err))) {
        fprintf(stderr, "job_bench: %s\n", sd_error_message(&err));
        layer_close(l);
        return -1;
    }
    return 0;
}

/* Reads one report, or fails after REPORT_TIMEOUT_MS. */
static int read_report(int fd, int64_t *value)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, REPORT_TIMEOUT_MS) != 1) {
        fprintf(stderr, "job_bench: no job started within %d s\n", REPORT_TIMEOUT_MS / 1000);
        return -1;
    }
    if (read(fd, value, sizeof *value) != (ssize_t)sizeof *value) {
        fprintf(stderr, "job_bench: the worker went away\n");
        return -1;
    }
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int enqueue_noop(struct queue *q, json_t *payload)
{
    char id[JOB_ID_LEN + 1] = "";
    struct sd_error err = SD_ERROR_INIT;
    int rc = queue_enqueue(q, id, "noop", 0, payload, 0, &err);
    json_decref(payload);
    if (rc)
        fprintf(stderr, "job_bench: %s\n", sd_error_message(&err));
    return rc;
}

/* The throughput runs enqueue in batches of this many, one transaction each, as the BullMQ
 * run of job_peers.sh does with addBulk. */
#define ENQUEUE_BATCH 1000

/* Enqueues n payload-less no-op jobs in batches of ENQUEUE_BATCH. */
static int enqueue_noops(struct queue *q, int n)
{
    static struct queue_new_job batch[ENQUEUE_BATCH];
    json_t *payload = json_object();
    int rc = payload ? 0 : -1;
    for (int done = 0; done < n && rc == 0; done += ENQUEUE_BATCH) {
        int count = n - done < ENQUEUE_BATCH ? n - done : ENQUEUE_BATCH;
        for (int i = 0; i < count; i++)
            batch[i] = (struct queue_new_job){.kind = "noop", .payload = payload};
        struct sd_error err = SD_ERROR_INIT;
        if ((rc = queue_enqueue_batch(q, batch, (size_t)count, &err)) != 0)
            fprintf(stderr, "job_bench: %s\n", sd_error_message(&err));
    }
    json_decref(payload);
    return rc;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Takes n latency samples through `q`, the reports arriving on `fd`, and prints them. */
static int sample_latency(const char *name, struct queue *q, int fd, int n, clockid_t clock)
{
    int64_t *samples = calloc((size_t)n, sizeof *samples);
    if (!samples)
        return -1;
    srand((unsigned)getpid());
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        sleep_ms(1 + rand() % 25);
        int64_t t0 = now_ns(clock);
        json_t *payload = json_pack("{s:I, s:s}", "t0_ns", (json_int_t)t0, "clock",
                                    clock == CLOCK_REALTIME ? "realtime" : "monotonic");
        rc = payload ? enqueue_noop(q, payload) : -1;
        if (rc == 0)
            rc = read_report(fd, &samples[i]);
    }
    if (rc == 0) {
        qsort(samples, (size_t)n, sizeof *samples, cmp_int64);
        printf("%s latency_p50_ms %.2f latency_p99_ms %.2f max_ms %.2f (%d jobs, 2 workers)\n",
               name, samples[n / 2] / 1e6, samples[n * 99 / 100] / 1e6, samples[n - 1] / 1e6, n);
    }
    free(samples);
    return rc;
}

static int run_latency(const char *dir, int n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    report_fd = fds[1];
    struct layer l;
    if (layer_open(&l, dir, 2) != 0)
        return -1;
    int rc = sample_latency("sheetd_inprocess", jobs_queue(l.jobs), fds[0], n, CLOCK_MONOTONIC);
    layer_close(&l);
    close(fds[0]);
    close(fds[1]);
    return rc;
}

/* The worker process of a cross-process run: 2 workers until the parent closes `ctl`. */
static void cross_worker(const char *dir, int ctl)
{
    struct layer l;
    if (layer_open(&l, dir, 2) != 0)
        _exit(1);
    report(-1); /* ready */
    char byte;
    while (read(ctl, &byte, 1) < 0 && errno == EINTR)
        ;
    layer_close(&l);
    _exit(0);
}

/* A cross_worker child, forked before any thread exists in this process, that has
 * migrated the fresh data dir and said it is ready; its reports arrive on `reports`. */
struct worker_process {
    pid_t pid;
    int reports;
    int ctl;
};

static int worker_process_start(struct worker_process *w, const char *dir)
{
    int reports[2], ctl[2];
    *w = (struct worker_process){.pid = -1, .reports = -1, .ctl = -1};
    if (pipe(reports) != 0)
        return -1;
    if (pipe(ctl) != 0) {
        close(reports[0]);
        close(reports[1]);
        return -1;
    }
    w->pid = fork();
    if (w->pid == 0) {
        close(reports[0]);
        close(ctl[1]);
        report_fd = reports[1];
        cross_worker(dir, ctl[0]);
    }
    close(reports[1]);
    close(ctl[0]);
    w->reports = reports[0];
    w->ctl = ctl[1];
    int64_t ready = 0;
    return w->pid > 0 ? read_report(w->reports, &ready) : -1;
}

/* Closing the control pipe tells the child to close its layer and exit. */
static void worker_process_stop(struct worker_process *w)
{
    if (w->ctl >= 0)
        close(w->ctl);
    if (w->reports >= 0)
        close(w->reports);
    if (w->pid > 0)
        waitpid(w->pid, NULL, 0);
}

static int run_cross(const char *dir, int n)
{
    struct worker_process w;
    int rc = -1;
    struct layer l = {0};
    if (worker_process_start(&w, dir) == 0 && layer_open(&l, dir, 0) == 0) {
        rc =
            sample_latency("sheetd_crossprocess", jobs_queue(l.jobs), w.reports, n, CLOCK_REALTIME);
        layer_close(&l);
    }
    worker_process_stop(&w);
    return rc;
}

static int run_throughput(const char *dir, int n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    report_fd = fds[1];
    noop_target = n;
    /* JOB_BENCH_WORKERS changes the pool (2 by default, like the peers' concurrency). */
    const char *w = getenv("JOB_BENCH_WORKERS");
    int workers = w && atoi(w) > 0 ? atoi(w) : 2;
    struct layer l;
    if (layer_open(&l, dir, workers) != 0)
        return -1;
    sleep_ms(200);
    struct queue *q = jobs_queue(l.jobs);
    int64_t t0 = now_ns(CLOCK_MONOTONIC), t1 = 0;
    int rc = enqueue_noops(q, n);
    int64_t enqueued = now_ns(CLOCK_MONOTONIC);
    if (rc == 0)
        rc = read_report(fds[0], &t1);
    int64_t counts[5] = {0};
    struct sd_error err = SD_ERROR_INIT;
    struct job_filter filter = {.kind = "noop"};
    if (rc == 0 && queue_counts(q, &filter, counts, &err) != 0) {
        fprintf(stderr, "job_bench: %s\n", sd_error_message(&err));
        rc = -1;
    }
    if (rc == 0) {
        double secs = (t1 - t0) / 1e9;
        printf("sheetd noop_jobs_per_s %.0f (enqueue included, %d jobs enqueued in batches of %d "
               "in %.2f s, %d workers, %" PRId64 " completed)\n",
               n / secs, n, ENQUEUE_BATCH, (enqueued - t0) / 1e9, workers, counts[2]);
        if (counts[2] != n) {
            fprintf(stderr, "job_bench: %" PRId64 " of %d jobs completed\n", counts[2], n);
            rc = -1;
        }
    }
    layer_close(&l);
    close(fds[0]);
    close(fds[1]);
    return rc;
}

/* N no-op jobs through 2 workers here and 2 in a second process, enqueue included; the end
 * is seen by counting completed jobs, since either process may finish the last one. */
static int run_throughput2(const char *dir, int n)
{
    struct worker_process w;
    int rc = -1;
    struct layer l = {0};
    if (worker_process_start(&w, dir) == 0 && layer_open(&l, dir, 2) == 0) {
        struct queue *q = jobs_queue(l.jobs);
        struct job_filter filter = {.kind = "noop"};
        int64_t counts[5] = {0};
        int64_t t0 = now_ns(CLOCK_MONOTONIC);
        rc = enqueue_noops(q, n);
        int64_t deadline = t0 + (int64_t)REPORT_TIMEOUT_MS * 1000000LL;
        while (rc == 0 && counts[2] < n) {
            if (queue_counts(q, &filter, counts, NULL) != 0 || now_ns(CLOCK_MONOTONIC) > deadline)
                rc = -1;
            else if (counts[2] < n)
                sleep_ms(2);
        }
        if (rc == 0)
            printf("sheetd noop_jobs_per_s %.0f (enqueue included, %d jobs in batches of %d, 4 "
                   "workers in 2 processes, %" PRId64 " completed)\n",
                   n / ((now_ns(CLOCK_MONOTONIC) - t0) / 1e9), n, ENQUEUE_BATCH, counts[2]);
        layer_close(&l);
    }
    worker_process_stop(&w);
    return rc;
}

/*
 * A long-lived process that changes job statuses, as a `sheetd work` does: the store and the
 * job layer opened the same way and the process registered (jobs_run with no worker
 * threads, so nothing claims the jobs it is given). It prints "ready", then for each job id
 * read on stdin waits a random 1-25 ms (so the commits fall at random points of the
 * watchers' 20 ms poll, not in step with it, as in sample_latency), cancels the job through
 * the queue (the one transaction that commits the status and its broadcast) and prints
 *
 *     ID OUTCOME BEFORE_US AFTER_US
 *
 * OUTCOME "cancelled", "cancel_requested" or "error"; BEFORE_US and AFTER_US are
 * CLOCK_MONOTONIC microseconds taken just before the call and as soon as it returns, so the
 * commit lies between them (what the call does after its commit is returning the
 * connection to the pool). CLOCK_MONOTONIC is one clock for every process of the machine on
 * Linux, so the reader (bench/sse_clients.c --trigger-pipe) compares its own readings with
 * it. Ends at the end of stdin.
 */
static int run_canceller(const char *dir)
{
    struct layer l;
    if (layer_open(&l, dir, 0) != 0)
        return -1;
    struct sd_error err = SD_ERROR_INIT;
    if (jobs_run(l.jobs, "work", 0, &err) != 0) {
        fprintf(stderr, "job_bench: %s\n", sd_error_message(&err));
        layer_close(&l);
        return -1;
    }
    printf("ready\n");
    fflush(stdout);
    srand((unsigned)getpid());
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, " \r\n")] = '\0';
        sleep_ms(1 + rand() % 25);
        const char *outcome = NULL;
        int64_t before = now_ns(CLOCK_MONOTONIC);
        int rc = job_id_valid(line) ? jobs_cancel_job(l.jobs, line, &outcome, &err)
                                    : sd_error_set(&err, SD_EUSAGE, "not a job id");
        int64_t after = now_ns(CLOCK_MONOTONIC);
        if (rc)
            fprintf(stderr, "job_bench: cancel %s: %s\n", line, sd_error_message(&err));
        printf("%s %s %" PRId64 " %" PRId64 "\n", line,
               rc                                       ? "error"
               : !strcmp(outcome, JOB_STATUS_CANCELLED) ? "cancelled"
                                                        : "cancel_requested",
               before / 1000, after / 1000);
        fflush(stdout);
    }
    layer_close(&l);
    return 0;
}

/* Rows like ../shared/bench/gen_xlsx.c's, as CSV. */
static int write_csv(const char *path, long rows)
{
    static const char *countries[] = {"Germany", "France", "Japan", "Brazil",
                                      "Canada",  "India",  "Kenya", "Chile"};
    static const char *first[] = {"Ada",    "Grace",    "Linus",  "Barbara", "Ken",
                                  "Dennis", "Margaret", "Edsger", "Frances", "Niklaus"};
    static const char *last[] = {"Lovelace", "Hopper",   "Torvalds", "Liskov", "Thompson",
                                 "Ritchie",  "Hamilton", "Dijkstra", "Allen",  "Wirth"};
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "job_bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("ID,Name,Email,Country,Signup Date,Amount,Active,Quantity,Notes,Code\n", f);
    unsigned s = 42;
    for (long r = 1; r <= rows; r++) {
        s = s * 1103515245u + 12345u;
        unsigned x = s >> 8;
        const char *fn = first[x % 10], *ln = last[(x / 10) % 10];
        char email[64];
        int len = snprintf(email, sizeof email, "%s.%s%ld@example.com", fn, ln, r);
        for (int i = 0; i < len; i++)
            if (email[i] >= 'A' && email[i] <= 'Z')
                email[i] = (char)(email[i] + 32);
        fprintf(f,
                "%ld,%s %s,%s,%s,%04u-%02u-%02u,%u.%02u,%s,%u,"
                "\"Customer since %u, tier %c, referred by partner #%u\",C-%06ld-%c%c\n",
                r, fn, ln, email, countries[(x / 100) % 8], 2015 + x % 10, 1 + (x / 7) % 12,
                1 + (x / 13) % 28, (x % 1000000) / 100, (x % 1000000) % 100,
                x & 1 ? "TRUE" : "FALSE", x % 500, 2015 + x % 10, 'A' + x % 4, x % 977, r,
                'A' + x % 26, 'A' + (x / 26) % 26);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "job_bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Logs as much as sheetd does by default (info), unless SHEETD_LOG_LEVEL says otherwise. */
    const char *level = getenv("SHEETD_LOG_LEVEL");
    if (level && log_level_parse(level) >= 0)
        log_set_level((enum log_level)log_level_parse(level));
    if (argc < 3) {
        fprintf(stderr, "usage: job_bench latency|cross|throughput|throughput2 DIR [N] | csv FILE "
                        "ROWS | canceller DIR\n");
        return 2;
    }
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
    int rc = 2;
    if (!strcmp(argv[1], "latency"))
        rc = run_latency(argv[2], n > 0 ? (int)n : 500);
    else if (!strcmp(argv[1], "cross"))
        rc = run_cross(argv[2], n > 0 ? (int)n : 500);
    else if (!strcmp(argv[1], "throughput"))
        rc = run_throughput(argv[2], n > 0 ? (int)n : 10000);
    else if (!strcmp(argv[1], "throughput2"))
        rc = run_throughput2(argv[2], n > 0 ? (int)n : 10000);
    else if (!strcmp(argv[1], "canceller"))
        rc = run_canceller(argv[2]);
    else if (!strcmp(argv[1], "csv") && n > 0)
        rc = write_csv(argv[2], n);
    else
        fprintf(stderr, "job_bench: unknown mode %s\n", argv[1]);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}
