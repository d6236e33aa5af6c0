/* The in-process server the HTTP suites start: a fresh data directory, a migrated store and
 * the web server on a free port. (test_pages.c predates this and keeps its own.) */
#ifndef SHEETD_TEST_HTTP_FIXTURE_H
#define SHEETD_TEST_HTTP_FIXTURE_H

#include <stddef.h>

#include "store/store.h"
#include "web/server.h"

#define HTTP_FIXTURE_TOKEN_LEN 128

struct jobs;

struct http_fixture {
    char *tmp;
    struct store *store;
    struct jobs *jobs; /* with http_fixture_start_jobs only */
    struct web_server *server;
    unsigned port;
};

/* What http_fixture_start_jobs sets up beyond the plain server. */
struct http_fixture_options {
    int workers;           /* worker threads in this process (0: jobs stay pending) */
    const char *api_token; /* SHEETD_API_TOKEN for the server, or NULL */
    size_t max_body_bytes; /* 0: the server's default */
};

/* The server with the job layer: uploads go to <tmp>/uploads and become jobs. */
void http_fixture_start_jobs(struct http_fixture *f, const struct http_fixture_options *o);

/* Starts everything; max_form_bytes 0 keeps the server's default. Fails the test on error. */
void http_fixture_start(struct http_fixture *f, size_t max_form_bytes);
/* Stops the server and the store; with `keep_data` the data directory stays for a restart. */
void http_fixture_stop(struct http_fixture *f, int keep_data);
/* Stops and starts the server and store again on the same data directory. */
void http_fixture_restart(struct http_fixture *f);

/* The CSRF token a browser gets from the form page (HTTP_FIXTURE_TOKEN_LEN hex and a NUL). */
void http_fixture_token(const struct http_fixture *f, char *token);

/* How many templates are stored. */
long long http_fixture_templates(const struct http_fixture *f);

#endif
