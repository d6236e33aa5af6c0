/*
 * DESIGN
 * ------
 * Broadcasts: "channel X changed, its sequence number is now N", delivered to every
 * subscriber of X in every process. A message carries no payload on purpose: a subscriber
 * re-reads the state it follows (the job's status document), so a lost or repeated message
 * never leaves it stale, only early or late.
 *
 *   publish      a `broadcasts` row is written with the change it announces, in the same
 *                transaction (store's cache_store_publish; its id is the sequence number);
 *                after the commit broadcast_deliver calls this process's subscribers at once;
 *   other        the waker's watcher notices the commit and calls broadcast's listener, which
 *   processes    reads the rows after the last id it saw and calls the local subscribers;
 *                within WAKER_POLL_MS plus a query.
 *
 * So a subscriber may hear of one change twice (once from publish, once from the reader);
 * subscribers deduplicate by sequence number (a number they have already handled is old).
 *
 * Subscriber callbacks run on the publishing thread or the watcher thread and must be quick
 * and non-blocking (the web layer's just resumes a suspended connection). A callback may be
 * running while its subscription is being removed: broadcast_unsubscribe waits for it to
 * return, so after unsubscribe the callback's ctx may be freed.
 */
#ifndef SHEETD_JOBS_BROADCAST_H
#define SHEETD_JOBS_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/error.h"
#include "jobs/waker.h"
#include "store/store.h"

#define BROADCAST_CHANNEL_MAX 64

struct broadcaster;
struct broadcast_subscription;

typedef void (*broadcast_fn)(const char *channel, int64_t seq, void *ctx);

/* Listens through `waker` for other processes' broadcasts from the newest row on; the
 * waker starts watching with the first subscription (below). */
int broadcaster_new(struct broadcaster **out, struct store *store, struct waker *waker,
                    const struct sd_clock *clock, struct sd_error *err);
void broadcaster_free(struct broadcaster *b);

/* Tells this process's subscribers of `channel` about change `seq`. */
void broadcast_deliver(struct broadcaster *b, const char *channel, int64_t seq);

/* `channel` NULL subscribes to every channel (the dashboard). The first subscription starts
 * the waker's watcher (waker_watch), so other processes' broadcasts reach it. The caller
 * frees the subscription with broadcast_unsubscribe. */
int broadcast_subscribe(struct broadcast_subscription **out, struct broadcaster *b,
                        const char *channel, broadcast_fn fn, void *ctx, struct sd_error *err);
void broadcast_unsubscribe(struct broadcast_subscription *sub);

/* Number of live subscriptions (for /metrics). */
size_t broadcast_subscribers(struct broadcaster *b);

/* Deletes broadcast rows older than `age_ms`. */
int broadcast_prune(struct broadcaster *b, int64_t age_ms, struct sd_error *err);

#endif
