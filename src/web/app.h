/*
 * The web layer's context: what every handler needs to answer a request (the store, the
 * compiled views, the asset cache, limits, the clock). One `struct web_app` lives inside the
 * server and is shared read-only by the request threads; nothing in it changes after start.
 */
#ifndef SHEETD_WEB_APP_H
#define SHEETD_WEB_APP_H

#include <stddef.h>

#include "base/clock.h"
#include "store/store.h"

struct jobs;
struct route;
struct sse_hub;
struct web_metrics;
struct status_feed;
struct views;
struct assets;

struct web_app {
    struct store *store;              /* borrowed from the caller of web_server_start */
    struct views *views;              /* owned */
    struct assets *assets;            /* owned */
    const struct sd_clock *clock;     /* borrowed */
    size_t max_form_bytes;            /* urlencoded bodies are held in memory: small cap */
    size_t max_body_bytes;            /* uploads (SHEETD_MAX_UPLOAD_MB) */
    struct sse_hub *sse_hub;          /* owned by the server: event streams (sse.h) */
    struct jobs *jobs;                /* borrowed: the job layer (jobs/jobs.h) */
    const char *api_token;            /* SHEETD_API_TOKEN; NULL: the API needs none */
    struct web_metrics *metrics;      /* owned: request counters for /metrics */
    struct status_feed *status_feed;  /* owned: job status changes -> streams (with jobs) */
    const char *upload_dir;           /* borrowed from the config; NULL: no uploads */
    const struct route *extra_routes; /* borrowed from the config (tests) */
    size_t nextra_routes;
    char script_hash[64]; /* "'sha256-…'" of the inline import map, for the CSP */
};

#endif
