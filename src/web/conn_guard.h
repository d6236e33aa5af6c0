/*
 * DESIGN
 * ------
 * Keeps one client from taking every connection. libmicrohttpd asks us before it accepts
 * (its accept-policy callback) and tells us when a connection starts and closes (its
 * connection-notify callback); we keep a count per client address and a record per
 * connection:
 *
 *   per address     an address already holding max_per_ip connections is refused
 *                   (0 = no limit)
 *   room for others once the server holds more than 80% of max_connections, an address
 *                   holding a tenth of max_connections or more is refused, so the last
 *                   fifth stays available to everyone else
 *   header deadline a request's header (the request line and every header line) must
 *                   arrive within header_timeout_ms of the connection opening or of the
 *                   previous request ending, however slowly the bytes trickle in.
 *                   libmicrohttpd's own idle timeout restarts on every byte, so a reaper
 *                   thread checks the deadline and shuts the socket down (shutdown(2),
 *                   never close: libmicrohttpd still owns the descriptor, and its close
 *                   notification waits for our lock, so the descriptor cannot be reused
 *                   under us). Streams and uploads are past their header and unaffected.
 *
 * A connection is counted when libmicrohttpd reports it started, not when we admit it (it
 * may still fail to set it up, and nothing would then uncount it), so when several request
 * threads accept at the same instant a limit can be passed by up to one connection per
 * thread.
 *
 * Refusals and libmicrohttpd's own messages are logged throttled: at most one line per
 * kind every warn_interval_ms, carrying the count of the ones left out.
 */
#ifndef SHEETD_WEB_CONN_GUARD_H
#define SHEETD_WEB_CONN_GUARD_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/error.h"

struct conn_guard_options {
    unsigned version;
    unsigned max_connections;   /* the server's total (libmicrohttpd enforces it too) */
    unsigned max_per_ip;        /* 0: no per-address limit */
    unsigned header_timeout_ms; /* 0: no header deadline */
    unsigned warn_interval_ms;  /* throttled warnings */
};

#define CONN_GUARD_OPTIONS_VERSION 1
#define CONN_GUARD_OPTIONS_INIT                                                                    \
    {                                                                                              \
        .version = CONN_GUARD_OPTIONS_VERSION, .max_connections = 1000, .max_per_ip = 0,           \
        .header_timeout_ms = 20000, .warn_interval_ms = 10000,                                     \
    }

struct conn_guard;

/* Starts the guard (and its reaper thread when there is a header deadline). */
int conn_guard_new(struct conn_guard **out, const struct conn_guard_options *opts,
                   struct sd_error *err);
/* Stops the reaper; call after the daemon stopped (every connection is closed). */
void conn_guard_free(struct conn_guard *guard);

/* The rule itself, a pure function: may an address holding `from_address` of the `total`
 * open connections open one more? */
bool conn_guard_admits(const struct conn_guard_options *opts, unsigned total,
                       unsigned from_address);

/* libmicrohttpd callbacks (cls = the guard): MHD_AcceptPolicyCallback and
 * MHD_NotifyConnectionCallback. */
enum MHD_Result conn_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conn_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* The request's header is complete (the access handler's first call): the deadline stops. */
void conn_guard_header_received(struct MHD_Connection *connection);
/* The request is over; on a kept-alive connection the next header's deadline starts. */
void conn_guard_request_done(struct MHD_Connection *connection);

/* Open connections (all addresses). */
size_t conn_guard_open(struct conn_guard *guard);

/* Logs one of libmicrohttpd's messages as a warning, throttled per message kind. */
void conn_guard_log_mhd(struct conn_guard *guard, const char *fmt, va_list ap);

#endif
