/*
 * DESIGN
 * ------
 * The wake-up seam: how a process learns that queue.db changed, so idle workers claim a new
 * job and live-status subscribers see another process's update, without a tight polling
 * loop.
 *
 * A waker keeps a generation counter under a mutex and a condition variable. Anything that
 * changes the queue in this process calls waker_poke (no delay at all); waiters sleep in
 * waker_wait until the generation moves or their timeout passes.
 *
 * Changes made by OTHER processes are noticed by one watcher thread per process:
 *
 *   SQLite      `PRAGMA data_version` on a connection of its own, every WAKER_POLL_MS. The
 *               value changes when any other connection commits to the file; reading it
 *               touches only the WAL index in shared memory, so an idle process costs a few
 *               microseconds every poll.
 *   PostgreSQL  LISTEN on the queue channel, woken by the NOTIFY the writer sends; the poll
 *               stays as the correctness path when a notification is lost.
 *
 * On a change the watcher bumps the generation (waking every waiter) and calls the change
 * listeners (the broadcast reader) on its own thread. The watcher starts only when something
 * in the process needs it (waker_watch: workers, a broadcast subscriber), so a command that
 * makes one change and exits starts no thread and opens no extra connection.
 *
 * A caller owns the waker it made and frees it with waker_free before the store closes.
 */
#ifndef SHEETD_JOBS_WAKER_H
#define SHEETD_JOBS_WAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

#define WAKER_POLL_MS 20
/* The PostgreSQL channel queue changes are announced on (job_status.c notifies it). */
#define WAKER_CHANNEL "sheetd_queue"
/* How long the PostgreSQL watcher waits for a NOTIFY before it looks anyway. */
#define WAKER_PG_WAIT_MS 250

struct waker;

/* Called on the watcher thread after another connection changed the queue database. */
typedef void (*waker_listener_fn)(void *ctx);

/* A waker without its watcher: pokes and waits within this process work at once. `poll_ms`
 * 0 means WAKER_POLL_MS. */
int waker_new(struct waker **out, struct store *store, int poll_ms, struct sd_error *err);

/* Starts the watcher thread unless it runs already; called by whatever needs to hear of
 * other processes' changes (jobs_run, broadcast_subscribe). A process that only makes
 * changes (`sheetd jobs cancel`) never starts it: it would open a connection of its own and
 * read the broadcasts just to be stopped again. */
int waker_watch(struct waker *waker, struct sd_error *err);

/* Stops the watcher if it was started and frees the waker. */
void waker_free(struct waker *waker);

/* Registers a listener; at most a few (the broadcast reader). Call before changes matter. */
int waker_add_listener(struct waker *waker, waker_listener_fn fn, void *ctx);

/* Wakes every waiter of this process now. */
void waker_poke(struct waker *waker);

/* The current generation: pass it to waker_wait to sleep until something changes after it. */
uint64_t waker_generation(struct waker *waker);

/* Sleeps until the generation differs from `seen` or `timeout_ms` passes. Returns the
 * generation now. */
uint64_t waker_wait(struct waker *waker, uint64_t seen, int64_t timeout_ms);

#endif
