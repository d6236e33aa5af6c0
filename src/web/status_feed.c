/* Job status changes into event streams (status_feed.h). */
#include "web/status_feed.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/template_store.h"
#include "jobs/jobs.h"
#include "web/app.h"
#include "web/sse.h"

#define STATUS_CHANNEL_PREFIX "job_status:"

struct feed_entry {
    char id[JOB_ID_LEN + 1]; /* "" for a free slot */
    int64_t newest_seq;      /* the newest change heard of */
    int64_t seq;             /* the change `doc` reflects; -1 when none was read */
    json_t *doc;
    bool terminal;
    char *template_name;
    char *message[3]; /* rendered per enum job_view_target (1, 2), for `seq` */
    uint64_t used;    /* for least-recently-used eviction */
};

struct status_feed {
    struct web_app *app;
    struct broadcast_subscription *sub;
    pthread_mutex_t lock;
    struct feed_entry entries[FEED_CACHE_JOBS];
    uint64_t clock; /* use counter */
    char log[FEED_LOG_SIZE][JOB_ID_LEN + 1];
    uint64_t log_end; /* changes logged so far */
};

static void entry_clear_render(struct feed_entry *e)
{
    json_decref(e->doc);
    e->doc = NULL;
    for (int i = 0; i < 3; i++) {
        free(e->message[i]);
        e->message[i] = NULL;
    }
    e->seq = -1;
}

static void entry_reset(struct feed_entry *e)
{
    entry_clear_render(e);
    free(e->template_name);
    memset(e, 0, sizeof *e);
    e->seq = -1;
}

/* The entry of `id`, taking the least recently used slot when it has none. Under the lock. */
static struct feed_entry *entry_for(struct status_feed *f, const char *id)
{
    struct feed_entry *oldest = &f->entries[0];
    for (int i = 0; i < FEED_CACHE_JOBS; i++) {
        struct feed_entry *e = &f->entries[i];
        if (!strcmp(e->id, id)) {
            e->used = ++f->clock;
            return e;
        }
        if (e->used < oldest->used)
            oldest = e;
    }
    entry_reset(oldest);
    snprintf(oldest->id, sizeof oldest->id, "%s", id);
    oldest->used = ++f->clock;
    return oldest;
}

static void on_broadcast(const char *channel, int64_t seq, void *ctx)
{
    struct status_feed *f = ctx;
    if (!str_has_prefix(channel, STATUS_CHANNEL_PREFIX))
        return;
    const char *id = channel + strlen(STATUS_CHANNEL_PREFIX);
    if (!job_id_valid(id))
        return;
    pthread_mutex_lock(&f->lock);
    struct feed_entry *e = entry_for(f, id);
    if (seq > e->newest_seq)
        e->newest_seq = seq;
    snprintf(f->log[f->log_end % FEED_LOG_SIZE], JOB_ID_LEN + 1, "%s", id);
    f->log_end++;
    pthread_mutex_unlock(&f->lock);
    sse_hub_publish(f->app->sse_hub, channel);
    sse_hub_publish(f->app->sse_hub, WEB_JOBS_TOPIC);
}

int status_feed_new(struct status_feed **out, struct web_app *app, struct sd_error *err)
{
    struct status_feed *f = calloc(1, sizeof *f);
    if (!f)
        return sd_error_nomem(err);
    f->app = app;
    pthread_mutex_init(&f->lock, NULL);
    for (int i = 0; i < FEED_CACHE_JOBS; i++)
        f->entries[i].seq = -1;
    int rc = broadcast_subscribe(&f->sub, jobs_broadcaster(app->jobs), NULL, on_broadcast, f, err);
    if (rc) {
        pthread_mutex_destroy(&f->lock);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void status_feed_free(struct status_feed *f)
{
    if (!f)
        return;
    broadcast_unsubscribe(f->sub);
    for (int i = 0; i < FEED_CACHE_JOBS; i++)
        entry_reset(&f->entries[i]);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static bool terminal_status(const char *s)
{
    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled"));
}

char *status_feed_template_name(struct web_app *app, int64_t template_id)
{
    struct db *db = NULL;
    struct template_record *rec = NULL;
    char *name = NULL;
    if (store_acquire_main(app->store, &db, NULL) == 0 &&
        template_store_get(&rec, db, template_id, NULL) == 0)
        name = str_dup(rec->name);
    template_record_free(rec);
    store_release(app->store, db);
    return name;
}

/* Makes sure the entry of `id` holds its newest document: reads it (outside the lock) when
 * the cached one is older than the newest change heard of. Returns with the lock held and
 * *entry set, or an error without the lock. */
static int fresh_entry(struct status_feed *f, const char *id, struct feed_entry **entry,
                       struct sd_error *err)
{
    pthread_mutex_lock(&f->lock);
    struct feed_entry *e = entry_for(f, id);
    if (e->doc && e->seq >= e->newest_seq) {
        *entry = e;
        return 0;
    }
    bool need_name = !e->template_name;
    pthread_mutex_unlock(&f->lock);
    json_t *doc = NULL;
    int64_t seq = 0;
    int rc = job_status_get(&doc, &seq, jobs_status(f->app->jobs), id, err);
    if (rc)
        return rc;
    char *name = need_name ? status_feed_template_name(
                                 f->app, json_integer_value(json_object_get(doc, "template_id")))
                           : NULL;
    pthread_mutex_lock(&f->lock);
    e = entry_for(f, id); /* the slot may have been taken meanwhile */
    if (!e->template_name) {
        e->template_name = name;
        name = NULL;
    }
    free(name);
    if (!e->doc || seq > e->seq || seq == 0) {
        entry_clear_render(e);
        e->doc = doc;
        e->seq = seq;
        e->terminal = terminal_status(json_string_value(json_object_get(doc, "status")));
    } else {
        json_decref(doc);
    }
    *entry = e;
    return 0;
}

int status_feed_document(struct status_feed *f, const char *id, json_t **doc, int64_t *seq,
                         struct sd_error *err)
{
    struct feed_entry *e = NULL;
    int rc = fresh_entry(f, id, &e, err);
    if (rc)
        return rc;
    /* A copy: callers add to it, and the cached one is shared by every stream. */
    *doc = json_deep_copy(e->doc);
    if (seq)
        *seq = e->seq;
    pthread_mutex_unlock(&f->lock);
    return *doc ? 0 : sd_error_nomem(err);
}

int status_feed_message(struct status_feed *f, const char *id, enum job_view_target target,
                        struct buf *out, int64_t *seq, bool *terminal, struct sd_error *err)
{
    struct feed_entry *e = NULL;
    int rc = fresh_entry(f, id, &e, err);
    if (rc)
        return rc;
    if (!e->message[target]) {
        struct buf text = BUF_INIT;
        struct job_view_extra extra = JOB_VIEW_EXTRA_INIT;
        extra.template_name = e->template_name;
        /* A pending job's place is the same for every viewer: it is rendered in too, as of
         * this change (the page's own render and the polling fallback ask afresh). */
        int64_t ahead = 0;
        const char *status = json_string_value(json_object_get(e->doc, "status"));
        if (status && !strcmp(status, "pending") &&
            queue_position(jobs_queue(f->app->jobs), id, &ahead, NULL) == 0)
            extra.queue_position = ahead + 1;
        rc = job_view_stream_message(&text, f->app->views, e->doc, clock_now_ms(f->app->clock),
                                     &extra, target, err);
        if (rc == 0 && !(e->message[target] = buf_detach(&text)))
            rc = sd_error_nomem(err);
        buf_free(&text);
    }
    if (rc == 0 && buf_puts(out, e->message[target]) != 0)
        rc = sd_error_nomem(err);
    *seq = e->seq;
    *terminal = e->terminal;
    pthread_mutex_unlock(&f->lock);
    return rc;
}

uint64_t status_feed_cursor(struct status_feed *f)
{
    pthread_mutex_lock(&f->lock);
    uint64_t end = f->log_end;
    pthread_mutex_unlock(&f->lock);
    return end;
}

int status_feed_changes(struct status_feed *f, uint64_t *cursor, char (*ids)[JOB_ID_LEN + 1],
                        int max)
{
    pthread_mutex_lock(&f->lock);
    int n = 0;
    bool missed = f->log_end - *cursor > FEED_LOG_SIZE;
    for (uint64_t i = *cursor; !missed && i < f->log_end; i++) {
        const char *id = f->log[i % FEED_LOG_SIZE];
        bool seen = false;
        for (int k = 0; k < n && !seen; k++)
            seen = !strcmp(ids[k], id);
        if (seen)
            continue;
        if (n == max) {
            missed = true;
            break;
        }
        snprintf(ids[n++], JOB_ID_LEN + 1, "%s", id);
    }
    *cursor = f->log_end;
    pthread_mutex_unlock(&f->lock);
    return missed ? -1 : n;
}
