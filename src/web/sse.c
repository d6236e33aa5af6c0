/* Server-sent event streams on suspended connections (see sse.h for the design). */
#include "web/sse.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"

#define READER_BLOCK_SIZE 2048
#define KEEPALIVE_COMMENT ": keep-alive\n\n"

struct sse_stream {
    struct sse_hub *hub;
    struct MHD_Connection *connection;
    struct sse_stream *prev, *next; /* in the hub's list, once open */
    bool open;
    char topic[SSE_MAX_TOPIC];
    char last_id[SSE_MAX_EVENT_ID];
    sse_render_fn render;
    void *ctx;
    void (*ctx_free)(void *);

    /* the reader's alone */
    struct buf out;
    size_t sent; /* bytes of `out` already handed to libmicrohttpd */

    pthread_mutex_t lock; /* guards what follows */
    bool dirty;           /* render before sending anything else */
    bool keepalive_due;
    bool suspended; /* the reader suspended the connection; only publish/keep-alive resume */
    bool finished;
    int64_t last_write_ms;
};

struct sse_hub {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the keep-alive thread's sleep; signalled at shutdown */
    pthread_t keepalive_thread;
    bool thread_started;
    _Atomic bool closed; /* read by readers without the hub's lock */
    unsigned keepalive_ms;
    struct sse_stream *head;
    size_t count;
};

static int64_t now_ms(void)
{
    return clock_monotonic_ms(clock_system());
}

/* Called with the hub's and the stream's locks held. */
static void wake_stream(struct sse_stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->connection);
    }
}

/* Why a thread: suspended connections never time out and a vanished client is not noticed
 * while nothing is written, so something must write now and then; one thread for all
 * streams, waking a few times per interval, does it without a timer per client. */
static void *keepalive_main(void *arg)
{
    struct sse_hub *hub = arg;
    unsigned tick = hub->keepalive_ms / 4 ? hub->keepalive_ms / 4 : 1;
    pthread_mutex_lock(&hub->lock);
    while (!hub->closed) {
        struct timespec until = clock_deadline_ms(tick);
        int rc = 0;
        while (!hub->closed && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&hub->wake, &hub->lock, &until);
        if (hub->closed)
            break;
        int64_t now = now_ms();
        for (struct sse_stream *s = hub->head; s; s = s->next) {
            pthread_mutex_lock(&s->lock);
            if (now - s->last_write_ms >= (int64_t)hub->keepalive_ms && !s->finished) {
                s->keepalive_due = true;
                s->last_write_ms = now;
                wake_stream(s);
            }
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

int sse_hub_new(struct sse_hub **out, const struct sse_hub_options *opts, struct sd_error *err)
{
    struct sse_hub_options defaults = SSE_HUB_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    struct sse_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return sd_error_nomem(err);
    hub->keepalive_ms = opts->keepalive_ms ? opts->keepalive_ms : defaults.keepalive_ms;
    pthread_mutex_init(&hub->lock, NULL);
    clock_cond_init(&hub->wake);
    if (pthread_create(&hub->keepalive_thread, NULL, keepalive_main, hub) != 0) {
        sse_hub_free(hub);
        return sd_error_set(err, SD_ERROR, "cannot start the event-stream keep-alive thread");
    }
    hub->thread_started = true;
    *out = hub;
    return 0;
}

void sse_hub_shutdown(struct sse_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->closed = true;
    pthread_cond_broadcast(&hub->wake);
    for (struct sse_stream *s = hub->head; s; s = s->next) {
        pthread_mutex_lock(&s->lock);
        wake_stream(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&hub->lock);
    if (hub->thread_started) {
        pthread_join(hub->keepalive_thread, NULL);
        hub->thread_started = false;
    }
}

void sse_hub_free(struct sse_hub *hub)
{
    if (!hub)
        return;
    sse_hub_shutdown(hub);
    pthread_cond_destroy(&hub->wake);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}

void sse_hub_publish(struct sse_hub *hub, const char *topic)
{
    pthread_mutex_lock(&hub->lock);
    for (struct sse_stream *s = hub->head; s; s = s->next) {
        if (strcmp(s->topic, topic) != 0)
            continue;
        pthread_mutex_lock(&s->lock);
        s->dirty = true;
        wake_stream(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&hub->lock);
}

size_t sse_hub_open_streams(struct sse_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    size_t n = hub->count;
    pthread_mutex_unlock(&hub->lock);
    return n;
}

int sse_append_event(struct buf *out, const char *id, const char *data)
{
    if (id && strpbrk(id, "\r\n"))
        return SD_EINVALID;
    if (id && *id && buf_printf(out, "id: %s\n", id) != 0)
        return SD_ENOMEM;
    const char *p = data ? data : "";
    for (;;) {
        size_t n = strcspn(p, "\r\n");
        if (buf_puts(out, "data: ") != 0 || buf_append(out, p, n) != 0 || buf_putc(out, '\n'))
            return SD_ENOMEM;
        p += n;
        if (!*p)
            break;
        p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
    }
    return buf_putc(out, '\n') ? SD_ENOMEM : 0;
}

/* Remembers the last "id: " line of freshly rendered text (from byte `from` on). */
static void note_last_id(struct sse_stream *s, size_t from)
{
    const char *text = buf_cstr(&s->out);
    const char *found = NULL;
    for (size_t i = from; i + 4 <= s->out.len; i++)
        if ((i == 0 || text[i - 1] == '\n') && !memcmp(text + i, "id: ", 4))
            found = text + i + 4;
    if (!found)
        return;
    size_t n = strcspn(found, "\r\n");
    if (n >= sizeof s->last_id)
        n = sizeof s->last_id - 1;
    memcpy(s->last_id, found, n);
    s->last_id[n] = '\0';
}

/*
 * libmicrohttpd's content reader: hand out rendered bytes; when there are none, render if
 * the topic was published, else suspend. Returning 0 is allowed only because the
 * connection is then suspended; the next call comes after a resume.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse_stream *s = cls;
    (void)pos;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->sent < s->out.len) {
            size_t n = s->out.len - s->sent;
            if (n > max)
                n = max;
            memcpy(buf, s->out.data + s->sent, n);
            s->sent += n;
            if (s->sent == s->out.len) {
                buf_free(&s->out); /* an idle stream keeps no buffer */
                s->sent = 0;
            }
            s->last_write_ms = now_ms();
            pthread_mutex_unlock(&s->lock);
            return (ssize_t)n;
        }
        if (s->finished) {
            pthread_mutex_unlock(&s->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (s->hub->closed) {
            s->finished = true;
            continue;
        }
        if (s->dirty) {
            s->dirty = false;
            pthread_mutex_unlock(&s->lock);
            bool finished = false;
            size_t before = s->out.len;
            int rc = s->render(s->topic, s->last_id, &s->out, &finished, s->ctx);
            pthread_mutex_lock(&s->lock);
            if (rc < 0) {
                pthread_mutex_unlock(&s->lock);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            note_last_id(s, before);
            if (finished)
                s->finished = true;
            continue;
        }
        if (s->keepalive_due) {
            s->keepalive_due = false;
            if (buf_puts(&s->out, KEEPALIVE_COMMENT) != 0) {
                pthread_mutex_unlock(&s->lock);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            continue;
        }
        s->suspended = true;
        MHD_suspend_connection(s->connection);
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
}

static void stream_free(struct sse_stream *s)
{
    if (s->ctx_free)
        s->ctx_free(s->ctx);
    buf_free(&s->out);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* libmicrohttpd's response-free callback: the connection is gone or done. Unlink under the
 * hub's lock first, so no publish is touching the stream when it is freed. */
static void stream_closed(void *cls)
{
    struct sse_stream *s = cls;
    struct sse_hub *hub = s->hub;
    pthread_mutex_lock(&hub->lock);
    if (s->open) {
        if (s->prev)
            s->prev->next = s->next;
        else
            hub->head = s->next;
        if (s->next)
            s->next->prev = s->prev;
        hub->count--;
    }
    pthread_mutex_unlock(&hub->lock);
    stream_free(s);
}

int sse_stream_new(struct sse_stream **out, struct sse_hub *hub, struct MHD_Connection *connection,
                   const char *topic, const char *last_event_id, sse_render_fn render, void *ctx,
                   void (*ctx_free)(void *), struct sd_error *err)
{
    if (!hub || strlen(topic) >= SSE_MAX_TOPIC) {
        if (ctx_free)
            ctx_free(ctx);
        return sd_error_set(err, SD_EUSAGE, "an event stream needs a hub and a short topic");
    }
    struct sse_stream *s = calloc(1, sizeof *s);
    if (!s) {
        if (ctx_free)
            ctx_free(ctx);
        return sd_error_nomem(err);
    }
    s->hub = hub;
    s->connection = connection;
    memcpy(s->topic, topic, strlen(topic) + 1);
    /* a client's Last-Event-ID is kept only when it is short and on one line */
    if (last_event_id && strlen(last_event_id) < sizeof s->last_id &&
        !strpbrk(last_event_id, "\r\n"))
        memcpy(s->last_id, last_event_id, strlen(last_event_id) + 1);
    s->render = render;
    s->ctx = ctx;
    s->ctx_free = ctx_free;
    s->dirty = true; /* the first event is the current state */
    s->last_write_ms = now_ms();
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void sse_stream_discard(struct sse_stream *stream)
{
    if (stream)
        stream_free(stream);
}

struct MHD_Response *sse_stream_to_mhd(struct sse_stream *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READER_BLOCK_SIZE,
                                                               stream_read, s, stream_closed);
    if (!r) {
        stream_free(s);
        return NULL;
    }
    struct sse_hub *hub = s->hub;
    pthread_mutex_lock(&hub->lock);
    s->open = true;
    s->next = hub->head;
    if (hub->head)
        hub->head->prev = s;
    hub->head = s;
    hub->count++;
    if (hub->closed) {
        pthread_mutex_lock(&s->lock);
        s->finished = true;
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&hub->lock);
    return r;
}
