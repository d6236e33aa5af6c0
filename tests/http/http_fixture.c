#include "http_fixture.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "jobs/jobs.h"
#include "http_client.h"
#include "store/template_store.h"
#include "test_support.h"

static void start_server_with(struct http_fixture *f, size_t max_form_bytes,
                              const struct http_fixture_options *o);

static void start_server(struct http_fixture *f, size_t max_form_bytes)
{
    start_server_with(f, max_form_bytes, NULL);
}

static void start_server_with(struct http_fixture *f, size_t max_form_bytes,
                              const struct http_fixture_options *o)
{
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = f->tmp;
    cr_assert_eq(store_open(&f->store, &sc, &err), 0, "%s", err.message);
    cr_assert_eq(store_migrate(f->store, NULL, &err), 0, "%s", err.message);
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = f->store;
    wc.root_dir = test_source_dir();
    wc.threads = 2;
    if (max_form_bytes)
        wc.max_form_bytes = max_form_bytes;
    /* The server borrows the path for its whole life. */
    static char upload_dir[4096];
    if (o) {
        struct jobs_config jc = JOBS_CONFIG_INIT;
        jc.data_dir = f->tmp;
        jc.shutdown_timeout_ms = 2000;
        cr_assert_eq(jobs_open(&f->jobs, f->store, &jc, &err), 0, "%s", err.message);
        cr_assert_eq(jobs_run(f->jobs, "serve", o->workers, &err), 0, "%s", err.message);
        snprintf(upload_dir, sizeof upload_dir, "%s/uploads", f->tmp);
        wc.jobs = f->jobs;
        wc.upload_dir = upload_dir;
        wc.api_token = o->api_token;
        if (o->max_body_bytes)
            wc.max_body_bytes = o->max_body_bytes;
    }
    cr_assert_eq(web_server_start(&f->server, &wc, &err), 0, "%s", err.message);
    f->port = web_server_port(f->server);
    cr_assert_gt(f->port, 0);
}

void http_fixture_start(struct http_fixture *f, size_t max_form_bytes)
{
    memset(f, 0, sizeof *f);
    log_set_level(SD_LOG_WARN);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    f->tmp = test_make_tmpdir();
    cr_assert_not_null(f->tmp);
    start_server(f, max_form_bytes);
}

void http_fixture_start_jobs(struct http_fixture *f, const struct http_fixture_options *o)
{
    memset(f, 0, sizeof *f);
    log_set_level(SD_LOG_WARN);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    f->tmp = test_make_tmpdir();
    cr_assert_not_null(f->tmp);
    start_server_with(f, 0, o);
}

void http_fixture_stop(struct http_fixture *f, int keep_data)
{
    web_server_stop(f->server);
    jobs_close(f->jobs);
    f->jobs = NULL;
    store_close(f->store);
    f->server = NULL;
    f->store = NULL;
    if (keep_data)
        return;
    test_rmtree(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    curl_global_cleanup();
}

void http_fixture_restart(struct http_fixture *f)
{
    http_fixture_stop(f, 1);
    start_server(f, 0);
}

void http_fixture_token(const struct http_fixture *f, char *token)
{
    struct http_reply r;
    http_request(&r, f->port, "GET", "/import_templates/new", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *cookie = http_header(&r, "Set-Cookie");
    cr_assert_not_null(cookie, "the form page sets the CSRF cookie");
    cr_assert_eq(sscanf(cookie, "sheetd_csrf=%128[0-9a-f];", token), 1, "%s", cookie);
    cr_assert_eq(strlen(token), HTTP_FIXTURE_TOKEN_LEN);
    free(cookie);
    http_reply_free(&r);
}

long long http_fixture_templates(const struct http_fixture *f)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db *db = NULL;
    int64_t n = -1;
    cr_assert_eq(store_acquire_main(f->store, &db, &err), 0, "%s", err.message);
    cr_assert_eq(template_store_count(db, &n, &err), 0, "%s", err.message);
    store_release(f->store, db);
    return (long long)n;
}
