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
 * listeners (the broadcast reader) on its own thread.
 *
 * A caller owns the waker it started and stops it with waker_stop before the store closes.
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

/* Starts the watcher thread. `poll_ms` 0 means WAKER_POLL_MS. */
int waker_start(struct waker **out, struct store *store, int poll_ms, struct sd_error *err);
void waker_stop(struct waker *waker);

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
