/* Request counters (metrics.h). */
#include "web/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Methods are folded to the ones routes use; anything else counts as "other". */
static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (method && !strcmp(method, known[i]))
            return known[i];
    return "other";
}

struct counter {
    const char *route; /* static */
    const char *method;
    int status;
    unsigned long long count;
};

struct web_metrics {
    pthread_mutex_t lock;
    struct counter *counters;
    size_t n, cap;
};

int web_metrics_new(struct web_metrics **out, struct sd_error *err)
{
    struct web_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return sd_error_nomem(err);
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return 0;
}

void web_metrics_free(struct web_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->counters);
    free(m);
}

void web_metrics_count(struct web_metrics *m, const char *route, const char *method, int status)
{
    if (!m)
        return;
    route = route ? route : "unmatched";
    method = method_label(method);
    pthread_mutex_lock(&m->lock);
    size_t i = 0;
    while (i < m->n && !(m->counters[i].route == route && m->counters[i].method == method &&
                         m->counters[i].status == status))
        i++;
    if (i == m->n && m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 32;
        struct counter *grown = realloc(m->counters, ncap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&m->lock);
            return; /* a lost count, not a failed request */
        }
        m->counters = grown;
        m->cap = ncap;
    }
    if (i == m->n)
        m->counters[m->n++] = (struct counter){route, method, status, 0};
    m->counters[i].count++;
    pthread_mutex_unlock(&m->lock);
}

int web_metrics_render(struct web_metrics *m, struct buf *out)
{
    int rc = buf_puts(out, "# HELP sheetd_http_requests_total HTTP requests answered, by route "
                           "pattern, method and status.\n"
                           "# TYPE sheetd_http_requests_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n && rc == 0; i++)
        rc = buf_printf(out,
                        "sheetd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                        "%llu\n",
                        m->counters[i].route, m->counters[i].method, m->counters[i].status,
                        m->counters[i].count);
    pthread_mutex_unlock(&m->lock);
    return rc;
}
