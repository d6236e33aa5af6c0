/*
 * DESIGN
 * ------
 * Server-sent events without a thread per client. A handler answers with an event stream
 * (web_response_sse); libmicrohttpd then pulls the body through our content reader, which
 * hands out whatever the stream has rendered and, when there is nothing, SUSPENDS the
 * connection (MHD_suspend_connection) and returns 0. The connection then costs a socket and
 * a few hundred bytes, and no thread looks at it.
 *
 * A hub keeps every open stream in one list. sse_hub_publish(hub, topic), callable from any
 * thread, marks each stream of that topic dirty and RESUMES the suspended ones;
 * MHD_resume_connection also wakes the worker's polling thread through its inter-thread
 * channel (MHD_ALLOW_SUSPEND_RESUME implies MHD_USE_ITC). That worker calls the reader
 * again, which calls the handler's render callback and sends the result. So rendering
 * happens on the pool's threads, never inside publish, and a slow renderer delays only its
 * own stream.
 *
 *   connect    the stream starts dirty: the first reader call renders the current state,
 *              with the request's Last-Event-ID
 *   publish    dirty + resume; later render calls get the id of the last event sent
 *   finished   the render callback sets *finished: what it wrote is flushed, then the
 *              body ends
 *   keep-alive one hub thread (not one per client) wakes every keep-alive interval and
 *              queues ": keep-alive\n\n" on streams that sent nothing for that long; this is
 *              also how a client that vanished while its stream was suspended is noticed
 *              (the write fails, libmicrohttpd closes the connection)
 *   shutdown   sse_hub_shutdown ends every stream and resumes the suspended ones, because
 *              libmicrohttpd must not be stopped with suspended connections
 *
 * Locking and lifetime. Each stream has a mutex guarding the flags publish touches (dirty,
 * keep-alive due, suspended, finished); the rendered bytes belong to the reader alone
 * (libmicrohttpd never runs two reader calls of one connection at once). The hub's mutex
 * guards the list. Lock order is always hub -> stream -> libmicrohttpd's own mutex:
 * publish and the keep-alive thread take hub then stream; the reader takes only the stream
 * (then calls MHD_suspend_connection). A stream is freed only by libmicrohttpd's
 * response-free callback, which first takes the hub's mutex to unlink it, so publish (which
 * holds that mutex while it touches streams) can never see a freed stream, even while the
 * connection is being torn down. MHD_resume_connection is called only on a stream whose
 * `suspended` flag the reader set right after suspending it, under the stream's mutex, and
 * a suspended connection is never closed by libmicrohttpd, so the connection is alive.
 */
#ifndef SHEETD_WEB_SSE_H
#define SHEETD_WEB_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

#define SSE_MAX_TOPIC 128
/* The topic of every job status change together (the jobs dashboard); a single job's topic
 * is its status key, "job_status:<id>". */
#define WEB_JOBS_TOPIC "jobs"
#define SSE_MAX_EVENT_ID 64

struct MHD_Connection;
struct MHD_Response;

/*
 * Appends whole events to `out` for stream `topic`. `last_event_id` is the id of the last
 * event this stream sent ("" when none): at connect the client's Last-Event-ID header,
 * later the last `id:` line rendered. Append nothing when there is nothing new. Set
 * *finished to end the stream after what was appended. Returns 0, or a negative SD_E* code
 * to end the stream at once. Runs on a request thread.
 */
typedef int (*sse_render_fn)(const char *topic, const char *last_event_id, struct buf *out,
                             bool *finished, void *ctx);

struct sse_hub_options {
    unsigned version;
    unsigned keepalive_ms; /* a comment line on streams idle this long */
};

#define SSE_HUB_OPTIONS_VERSION 1
#define SSE_HUB_OPTIONS_INIT                                                                       \
    {                                                                                              \
        .version = SSE_HUB_OPTIONS_VERSION, .keepalive_ms = 15000                                  \
    }

struct sse_hub;
struct sse_stream;

/* Creates a hub and starts its keep-alive thread. Free with sse_hub_free. */
int sse_hub_new(struct sse_hub **out, const struct sse_hub_options *opts, struct sd_error *err);

/* Ends every open stream (each flushes what it has) and makes new ones end at once; stops
 * the keep-alive thread. Call before MHD_stop_daemon. Idempotent. */
void sse_hub_shutdown(struct sse_hub *hub);

/* Frees the hub; every stream must be gone (the daemon stopped). */
void sse_hub_free(struct sse_hub *hub);

/* Wakes every stream following `topic`: each renders again on a request thread. Any thread,
 * any time (also while streams are being torn down); returns at once. */
void sse_hub_publish(struct sse_hub *hub, const char *topic);

/* The number of open streams (for /metrics). */
size_t sse_hub_open_streams(struct sse_hub *hub);

/* Appends one event: "id: <id>\n" (when id is not NULL or empty), then a "data: " line for
 * each line of `data` (split at LF, CRLF or CR, so no data line can end the event early),
 * then a blank line. 0, SD_ENOMEM, or SD_EINVALID when the id holds a line break. */
int sse_append_event(struct buf *out, const char *id, const char *data);

/* ---- used by the web layer (response.c, server.c) ---- */

/* A stream for `connection`, not yet open. `ctx` is the render callback's; ctx_free (may be
 * NULL) is called on it when the stream ends, also when this fails. */
int sse_stream_new(struct sse_stream **out, struct sse_hub *hub, struct MHD_Connection *connection,
                   const char *topic, const char *last_event_id, sse_render_fn render, void *ctx,
                   void (*ctx_free)(void *), struct sd_error *err);

/* Frees a stream that was never turned into a response. */
void sse_stream_discard(struct sse_stream *stream);

/* Turns the stream into a libmicrohttpd response (whose free callback frees the stream) and
 * opens it in the hub. NULL when out of memory (the stream is then freed). */
struct MHD_Response *sse_stream_to_mhd(struct sse_stream *stream);

#endif
