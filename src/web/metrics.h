/*
 * Request counters for GET /metrics: how many requests each route answered with each
 * status, counted in the completion callback. Routes are counted by their pattern
 * ("/jobs/:job_id/stream"), never by the address asked for, so the number of series stays
 * the size of the route table whatever clients send. The job figures of /metrics come from
 * the queue at scrape time (handlers/metrics.c); only what exists nowhere else is kept here.
 */
#ifndef SHEETD_WEB_METRICS_H
#define SHEETD_WEB_METRICS_H

#include "base/buf.h"
#include "base/error.h"

struct web_metrics;

int web_metrics_new(struct web_metrics **out, struct sd_error *err);
void web_metrics_free(struct web_metrics *m);

/* `route` is a pattern from the route table (static), or NULL for a request no route took. */
void web_metrics_count(struct web_metrics *m, const char *route, const char *method, int status);

/* Appends the counters in Prometheus text format. */
int web_metrics_render(struct web_metrics *m, struct buf *out);

#endif
