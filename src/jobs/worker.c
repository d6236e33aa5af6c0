/* The worker pool (worker.h). */
#include "jobs/worker.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "jobs/job_context.h"
#include "jobs/job_files.h"

const struct job_kind job_kinds_default[] = {
    {"import", import_job_run},
    {"export", export_job_run},
    {NULL, NULL},
};

struct worker_pool {
    struct queue *queue;
    struct worker_pool_options opts;
    pthread_t *threads;
    int nthreads;
    atomic_bool stopping;  /* no more claims */
    atomic_bool interrupt; /* running jobs must stop and be handed back */
    atomic_int busy;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when a job ends, for the shutdown wait */
};

static job_run_fn find_kind(const struct job_kind *kinds, const char *name)
{
    for (const struct job_kind *k = kinds; k->name; k++)
        if (!strcmp(k->name, name))
            return k->run;
    return NULL;
}

static bool transient(int rc)
{
    return rc == SD_ERETRY || rc == SD_ENOMEM || rc == SD_ENOSPC;
}

/* Runs one claimed job to an end state, or hands it back. Returns the next job when ending
 * this one claimed it (job_context.h), or NULL. */
static struct job_record *run_job(struct worker_pool *pool, struct job_record *job)
{
    struct queue *q = pool->queue;
    struct job_context ctx = {
        .queue = q,
        .job = job,
        .data_dir = pool->opts.data_dir,
        .interrupt = &pool->interrupt,
        .claim_next = !atomic_load(&pool->stopping),
    };
    struct sd_error err = SD_ERROR_INIT;
    log_kv(SD_LOG_INFO, "job started", "job_id", job->id, "kind", job->kind, "attempt",
           LOG_NUM(job->attempts), NULL);
    job_run_fn run = find_kind(pool->opts.kinds, job->kind);
    int rc = run ? run(&ctx, &err)
                 : sd_error_set(&err, SD_EINVALID, "this sheetd does not know jobs of kind %s",
                                job->kind);
    struct sd_error end_err = SD_ERROR_INIT;
    int end_rc = 0;
    if (rc == 0) {
        /* The job ended itself (job_context_finish). */
    } else if (rc == SD_ECANCELLED && atomic_load(&pool->interrupt) && !ctx.cancel_requested) {
        /* Written once: the process is stopping, and recovery takes the job back if this
         * fails, once the process is gone. */
        end_rc = queue_hand_back(q, job, &end_err);
        log_kv(SD_LOG_INFO, "job handed back", "job_id", job->id, NULL);
    } else if (rc == SD_ECANCELLED) {
        end_rc = job_context_finish(&ctx, JOB_STATUS_CANCELLED, "Cancelled; nothing was written",
                                    NULL, &end_err);
    } else if (transient(rc) && job->attempts < job->max_attempts) {
        end_rc = job_context_retry_later(&ctx, sd_error_message(&err), &end_err);
    } else if (transient(rc)) {
        char message[SD_ERROR_MESSAGE_MAX + 64];
        snprintf(message, sizeof message, "%s (gave up after %d attempts)", sd_error_message(&err),
                 job->attempts);
        end_rc = job_context_finish(&ctx, JOB_STATUS_FAILED, message, NULL, &end_err);
    } else {
        end_rc =
            job_context_finish(&ctx, JOB_STATUS_FAILED, sd_error_message(&err), NULL, &end_err);
    }
    if (end_rc != 0)
        log_kv(SD_LOG_WARN, "could not record the end of a job", "job_id", job->id, "error",
               sd_error_message(&end_err), NULL);
    return ctx.next;
}

/* A job claimed while the pool began to stop goes back without counting the attempt. */
static void hand_back(struct queue *q, struct job_record *job)
{
    struct sd_error err = SD_ERROR_INIT;
    if (queue_hand_back(q, job, &err) != 0)
        log_kv(SD_LOG_WARN, "could not hand a job back", "job_id", job->id, "error",
               sd_error_message(&err), NULL);
    job_record_free(job);
}

static void *work(void *arg)
{
    struct worker_pool *pool = arg;
    struct queue *q = pool->queue;
    struct waker *waker = queue_waker(q);
    struct job_record *next = NULL; /* claimed by the end of the previous job */
    while (!atomic_load(&pool->stopping)) {
        uint64_t seen = waker_generation(waker);
        struct job_record *job = next;
        struct sd_error err = SD_ERROR_INIT;
        int64_t process_id = heartbeat_process_id(pool->opts.heartbeat);
        int rc = job ? 0 : queue_claim(&job, q, process_id, &err);
        next = NULL;
        if (rc == 0) {
            atomic_fetch_add(&pool->busy, 1);
            next = run_job(pool, job);
            job_record_free(job);
            atomic_fetch_sub(&pool->busy, 1);
            pthread_mutex_lock(&pool->lock);
            pthread_cond_broadcast(&pool->idle);
            pthread_mutex_unlock(&pool->lock);
            continue;
        }
        int64_t wait_ms = pool->opts.idle_wait_ms;
        if (rc == SD_ENOTFOUND) {
            int64_t due_in = -1;
            if (queue_next_due_in(q, &due_in, &err) == 0 && due_in >= 0 && due_in < wait_ms)
                wait_ms = due_in > 0 ? due_in : 1;
        } else {
            log_kv(SD_LOG_WARN, "claiming a job failed", "error", sd_error_message(&err), NULL);
            wait_ms = 1000;
        }
        waker_wait(waker, seen, wait_ms);
    }
    if (next)
        hand_back(q, next);
    return NULL;
}

int worker_pool_start(struct worker_pool **out, struct queue *queue,
                      const struct worker_pool_options *opts, struct sd_error *err)
{
    assert(out && queue && opts && opts->threads > 0 && opts->heartbeat);
    *out = NULL;
    int rc = job_files_prepare(opts->data_dir, err);
    if (rc)
        return rc;
    struct worker_pool *pool = calloc(1, sizeof *pool);
    if (!pool || !(pool->threads = calloc((size_t)opts->threads, sizeof *pool->threads))) {
        free(pool);
        return sd_error_nomem(err);
    }
    pool->queue = queue;
    pool->opts = *opts;
    if (!pool->opts.kinds)
        pool->opts.kinds = job_kinds_default;
    if (pool->opts.idle_wait_ms <= 0)
        pool->opts.idle_wait_ms = 5000;
    pthread_mutex_init(&pool->lock, NULL);
    clock_cond_init(&pool->idle);
    for (int i = 0; i < opts->threads; i++) {
        if ((rc = pthread_create(&pool->threads[i], NULL, work, pool)) != 0) {
            rc = sd_error_set(err, SD_ERROR, "could not start worker thread %d: %s", i + 1,
                              strerror(rc));
            worker_pool_stop(pool, 0);
            return rc;
        }
        pool->nthreads++;
    }
    log_kv(SD_LOG_INFO, "workers started", "threads", LOG_NUM(pool->nthreads), "process_id",
           LOG_NUM(heartbeat_process_id(opts->heartbeat)), NULL);
    *out = pool;
    return 0;
}

void worker_pool_stop(struct worker_pool *pool, int64_t timeout_ms)
{
    if (!pool)
        return;
    atomic_store(&pool->stopping, true);
    waker_poke(queue_waker(pool->queue));
    struct timespec until = clock_deadline_ms(timeout_ms);
    pthread_mutex_lock(&pool->lock);
    while (atomic_load(&pool->busy) > 0 &&
           pthread_cond_timedwait(&pool->idle, &pool->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&pool->lock);
    if (atomic_load(&pool->busy) > 0) {
        log_kv(SD_LOG_INFO, "interrupting running jobs", "running",
               LOG_NUM(atomic_load(&pool->busy)), NULL);
        atomic_store(&pool->interrupt, true);
    }
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    log_kv(SD_LOG_INFO, "workers stopped", "threads", LOG_NUM(pool->nthreads), NULL);
    pthread_cond_destroy(&pool->idle);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

int worker_pool_busy(struct worker_pool *pool)
{
    return atomic_load(&pool->busy);
}
