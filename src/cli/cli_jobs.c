#include "cli/cli_jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/progress_bar.h"
#include "import/template_catalog.h"

struct jobs_config cli_jobs_config(const struct cli_config *config)
{
    struct jobs_config jc = JOBS_CONFIG_INIT;
    jc.data_dir = config->data_dir;
    jc.retention_ms = config->job_retention_days * 24 * 3600 * 1000LL;
    jc.shutdown_timeout_ms = config->shutdown_timeout_s * 1000LL;
    return jc;
}

int cli_jobs_open(struct cli_jobs *cj, const struct cli_config *config)
{
    memset(cj, 0, sizeof *cj);
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = config->data_dir;
    sc.database_url = config->database_url;
    struct jobs_config jc = cli_jobs_config(config);
    if (store_open(&cj->store, &sc, &err) || store_migrate(cj->store, NULL, &err) ||
        jobs_open(&cj->jobs, cj->store, &jc, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        cli_jobs_close(cj);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

void cli_jobs_close(struct cli_jobs *cj)
{
    jobs_close(cj->jobs);
    store_close(cj->store);
    memset(cj, 0, sizeof *cj);
}

/* Woken by the job's broadcasts; the status is re-read each time, and at least once a
 * second in case a broadcast went missing. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int64_t seq;
};

static void on_change(const char *channel, int64_t seq, void *ctx)
{
    (void)channel;
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->lock);
    if (seq > w->seq)
        w->seq = seq;
    pthread_cond_signal(&w->changed);
    pthread_mutex_unlock(&w->lock);
}

static bool terminal(const char *status)
{
    return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
                      !strcmp(status, "cancelled"));
}

static void draw(struct progress_bar *bar, json_t *doc)
{
    json_t *progress = json_object_get(doc, "progress");
    const char *message = json_string_value(json_object_get(doc, "message"));
    if (!json_is_object(progress))
        return;
    progress_bar_draw(bar, message ? message : "Working",
                      (uint64_t)json_integer_value(json_object_get(progress, "processed")),
                      (uint64_t)json_integer_value(json_object_get(progress, "total")));
}

int cli_jobs_wait(struct cli_jobs *cj, const char *id)
{
    struct waiter w = {.seq = 0};
    pthread_mutex_init(&w.lock, NULL);
    clock_cond_init(&w.changed);
    char channel[48];
    job_status_key(channel, sizeof channel, id);
    struct broadcast_subscription *sub = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int out = CLI_EXIT_USAGE;
    struct progress_bar bar;
    progress_bar_init(&bar);
    if (broadcast_subscribe(&sub, jobs_broadcaster(cj->jobs), channel, on_change, &w, &err) != 0)
        goto done;
    for (;;) {
        json_t *doc = NULL;
        if (job_status_get(&doc, NULL, jobs_status(cj->jobs), id, &err) != 0)
            goto done;
        const char *status = json_string_value(json_object_get(doc, "status"));
        if (terminal(status)) {
            progress_bar_clear(&bar);
            const char *message = json_string_value(json_object_get(doc, "message"));
            printf("%s: %s\n", status, message ? message : "");
            out = !strcmp(status, "completed") ? CLI_EXIT_OK : CLI_EXIT_FAILED;
            json_decref(doc);
            break;
        }
        draw(&bar, doc);
        json_decref(doc);
        pthread_mutex_lock(&w.lock);
        int64_t seen = w.seq;
        struct timespec until = clock_deadline_ms(1000);
        while (w.seq == seen && pthread_cond_timedwait(&w.changed, &w.lock, &until) == 0)
            ;
        pthread_mutex_unlock(&w.lock);
    }
done:
    broadcast_unsubscribe(sub);
    progress_bar_clear(&bar);
    if (out == CLI_EXIT_USAGE)
        cli_errorf("%s", sd_error_message(&err));
    pthread_cond_destroy(&w.changed);
    pthread_mutex_destroy(&w.lock);
    return out;
}

int cli_jobs_template_id(struct cli_jobs *cj, const char *id_or_table, int64_t *id,
                         struct sd_error *err)
{
    struct db *db = NULL;
    struct import_template *tmpl = NULL;
    int rc = store_acquire_main(cj->store, &db, err);
    if (rc == 0)
        rc = template_load_arg(&tmpl, db, id_or_table, err);
    store_release(cj->store, db);
    if (rc == 0)
        *id = tmpl->id;
    template_free(tmpl);
    return rc;
}

int cli_jobs_enqueue(const struct cli_config *config, const char *id_or_table,
                     cli_jobs_enqueue_fn enqueue, void *ctx, bool wait)
{
    struct cli_jobs cj;
    int out = cli_jobs_open(&cj, config);
    if (out)
        return out;
    struct sd_error err = SD_ERROR_INIT;
    int64_t template_id = 0;
    char id[JOB_ID_LEN + 1] = "";
    if (cli_jobs_template_id(&cj, id_or_table, &template_id, &err) ||
        enqueue(&cj, template_id, id, ctx, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        out = CLI_EXIT_USAGE;
    } else {
        printf("%s\n", id);
        fflush(stdout);
        if (wait)
            out = cli_jobs_wait(&cj, id);
    }
    cli_jobs_close(&cj);
    return out;
}
