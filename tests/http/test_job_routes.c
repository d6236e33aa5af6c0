/* The job routes against the real server in-process with the job layer (issue 8): uploads
 * and every way they are refused, the job page, its stream, status.json, cancel, exports and
 * downloads, the dashboard, template workbooks, the JSON API and its token, /metrics. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "http_client.h"
#include "http_fixture.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/jobs.h"
#include "test_support.h"

static struct http_fixture fx;
static char token[HTTP_FIXTURE_TOKEN_LEN + 1];
static char cookie[HTTP_FIXTURE_TOKEN_LEN + 32];

static const char people_json[] =
    "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"partial\", \"columns\": ["
    " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true},"
    " {\"key\": \"name\", \"header\": \"Name\", \"type\": \"string\"}]}";

static void make_template(const char *json)
{
    struct db *db = NULL;
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_acquire_main(fx.store, &db, &err), 0);
    cr_assert_eq(template_create(&t, db, json, strlen(json), NULL, &err), 0, "%s",
                 sd_error_message(&err));
    template_free(t);
    store_release(fx.store, db);
}

static void start(int workers, const char *api_token, size_t max_body)
{
    struct http_fixture_options o = {
        .workers = workers, .api_token = api_token, .max_body_bytes = max_body};
    http_fixture_start_jobs(&fx, &o);
    make_template(people_json);
    http_fixture_token(&fx, token);
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", token);
}

static void start_working(void)
{
    start(1, NULL, 0);
}

static void start_idle(void)
{
    start(0, NULL, 0);
}

static void stop(void)
{
    http_fixture_stop(&fx, 0);
}

TestSuite(job_routes, .init = start_working, .fini = stop);
TestSuite(job_routes_idle, .init = start_idle, .fini = stop);

/* A multipart body with the CSRF field (unless token is NULL) and, when `filename` is not
 * NULL, a file part. */
static void multipart(struct buf *b, const char *csrf, const char *filename, const char *data,
                      size_t len)
{
    buf_clear(b);
    if (csrf)
        buf_printf(b,
                   "--XyZ\r\nContent-Disposition: form-data; name=\"authenticity_token\"\r\n\r\n"
                   "%s\r\n",
                   csrf);
    if (filename) {
        buf_printf(b,
                   "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n",
                   filename);
        buf_append(b, data, len);
        buf_puts(b, "\r\n");
    }
    buf_puts(b, "--XyZ--\r\n");
}

static void upload(struct http_reply *r, const char *target, const char *csrf, const char *filename,
                   const char *data, const char *const *headers)
{
    struct buf b = BUF_INIT;
    multipart(&b, csrf, filename, data, data ? strlen(data) : 0);
    const char *const with_cookie[] = {cookie, NULL};
    http_request(r, fx.port, "POST", target, "multipart/form-data; boundary=XyZ", b.data, b.len,
                 headers ? headers : with_cookie);
    buf_free(&b);
}

static int files_in(const char *sub)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fx.tmp, sub);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static long jobs_queued(void)
{
    struct job_filter f = {.limit = 100};
    struct job_record *rows = NULL;
    size_t n = 0;
    cr_assert_eq(queue_list(&rows, &n, jobs_queue(fx.jobs), &f, NULL), 0);
    job_record_list_free(rows, n);
    return (long)n;
}

/* The job id from a Location of /import_templates/1/jobs/<id>. */
static void job_from_location(const struct http_reply *r, char id[17])
{
    char *location = http_header(r, "Location");
    cr_assert_not_null(location);
    cr_assert_eq(sscanf(location, "/import_templates/1/jobs/%16[0-9a-f]", id), 1, "%s", location);
    free(location);
}

/* Polls status.json until the job is `status`. */
static void wait_for(const char *id, const char *status)
{
    char target[64], want[48];
    snprintf(target, sizeof target, "/jobs/%s/status.json", id);
    snprintf(want, sizeof want, "\"status\":\"%s\"", status);
    for (int i = 0; i < 1000; i++) {
        struct http_reply r;
        http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
        bool done = r.status == 200 && strstr(r.body, want);
        http_reply_free(&r);
        if (done)
            return;
        usleep(10000);
    }
    cr_assert_fail("job %s never became %s", id, status);
}

static const char good_csv[] = "Email,Name\nann@example.com,Ann\nbob@example.com,Bob\n";

Test(job_routes, an_upload_becomes_a_job_that_completes_and_its_page_follows_it)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    cr_assert_eq(r.status, 303, "%s", r.body);
    char id[17];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "completed");
    char target[96];
    snprintf(target, sizeof target, "/jobs/%s/status.json", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert(strstr(r.body, "\"imported\":2"), "%s", r.body);
    cr_assert(strstr(r.body, "\"message\":\"Imported 2 rows\""));
    http_reply_free(&r);
    snprintf(target, sizeof target, "/import_templates/1/jobs/%s", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char want[128];
    cr_assert_null(strstr(r.body, "<turbo-stream-source"), "an ended job needs no stream");
    snprintf(want, sizeof want, "id=\"job_status_%s\"", id);
    cr_assert(strstr(r.body, want));
    cr_assert(strstr(r.body, "data-status=\"completed\""));
    http_reply_free(&r);
    cr_assert_eq(files_in("uploads"), 0, "the upload is gone with the job's end");
}

Test(job_routes, the_stream_sends_the_current_state_as_a_turbo_stream_and_ends_when_done)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "completed");
    char target[64];
    snprintf(target, sizeof target, "/jobs/%s/stream", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *type = http_header(&r, "Content-Type");
    cr_assert(type && strstr(type, "text/event-stream"));
    free(type);
    char *cache = http_header(&r, "Cache-Control");
    cr_assert(cache && strstr(cache, "no-cache"));
    free(cache);
    cr_assert(!strncmp(r.body, "id: ", 4), "%s", r.body);
    char want[128];
    snprintf(want, sizeof want,
             "data: <turbo-stream action=\"replace\" target=\"job_status_%s\"><template>", id);
    cr_assert(strstr(r.body, want), "%s", r.body);
    cr_assert(strstr(r.body, "data-status=\"completed\""));
    /* The same id again: nothing new, and the ended job ends the stream at once. */
    long long seq = atoll(r.body + 4);
    http_reply_free(&r);
    char last[64];
    snprintf(last, sizeof last, "Last-Event-ID: %lld", seq);
    const char *const headers[] = {last, NULL};
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, headers);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0, "%s", r.body);
    http_reply_free(&r);
}

Test(job_routes, refused_uploads_go_back_to_the_template_page_and_leave_nothing)
{
    static const struct {
        const char *filename, *data, *says;
    } cases[] = {
        {"empty.csv", "", "is empty"},
        {"report.xlsx", "%PDF-1.4\n%binary\n", "is not a spreadsheet"},
        {NULL, NULL, "Choose a spreadsheet file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_reply r;
        upload(&r, "/import_templates/1/import_file", token, cases[i].filename, cases[i].data,
               NULL);
        cr_assert_eq(r.status, 422, "case %zu: %ld", i, r.status);
        cr_assert(strstr(r.body, cases[i].says), "case %zu: %s", i, r.body);
        cr_assert(strstr(r.body, "id=\"upload_error\""), "shown on the upload form");
        http_reply_free(&r);
    }
    cr_assert_eq(jobs_queued(), 0);
    cr_assert_eq(files_in("uploads"), 0);
}

Test(job_routes, an_upload_without_the_csrf_token_is_refused)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", NULL, "people.csv", good_csv, NULL);
    cr_assert_eq(r.status, 422);
    http_reply_free(&r);
    cr_assert_eq(jobs_queued(), 0);
    cr_assert_eq(files_in("uploads"), 0);
}

Test(job_routes, an_upload_to_an_unknown_template_is_404)
{
    struct http_reply r;
    upload(&r, "/import_templates/9/import_file", token, "people.csv", good_csv, NULL);
    cr_assert_eq(r.status, 404);
    http_reply_free(&r);
    cr_assert_eq(files_in("uploads"), 0);
}

Test(job_routes, unknown_jobs_and_jobs_of_another_template_are_404)
{
    make_template("{\"name\": \"Other\", \"table\": \"other\", \"columns\": [{\"key\": \"x\", "
                  "\"type\": \"string\", "
                  "\"header\": \"X\"}]}");
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17], target[96];
    job_from_location(&r, id);
    http_reply_free(&r);
    snprintf(target, sizeof target, "/import_templates/2/jobs/%s", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 404);
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/import_templates/1/jobs/0123456789abcdef", NULL, NULL, 0,
                 NULL);
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "There is no such job"));
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/jobs/0123456789abcdef/status.json", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 404);
    cr_assert(!strncmp(r.body, "{\"error\":", 9), "%s", r.body);
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/jobs/0123456789abcdef/stream", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 404);
    http_reply_free(&r);
}

Test(job_routes_idle, a_pending_job_shows_its_place_and_can_be_cancelled)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17], target[96];
    job_from_location(&r, id);
    http_reply_free(&r);
    snprintf(target, sizeof target, "/import_templates/1/jobs/%s", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert(strstr(r.body, "data-status=\"pending\""));
    char want[96];
    snprintf(want, sizeof want, "<turbo-stream-source src=\"/jobs/%s/stream\"", id);
    cr_assert(strstr(r.body, want), "the page subscribes to its stream");
    cr_assert(strstr(r.body, "Next in the queue"), "its place");
    http_reply_free(&r);
    /* The stream's first event (the current state) keeps the place too. A pending job's
     * stream stays open, so read it raw for a moment. */
    char request[160];
    snprintf(request, sizeof request, "GET /jobs/%s/stream HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
             id);
    char *raw = http_raw_for(fx.port, request, 500);
    cr_assert(raw && strstr(raw, "Next in the queue"), "%s", raw ? raw : "(nothing)");
    free(raw);
    char *form = NULL;
    http_form_append(&form, "authenticity_token", token);
    const char *const headers[] = {cookie, NULL};
    snprintf(target, sizeof target, "/jobs/%s/cancel", id);
    http_request(&r, fx.port, "POST", target, "application/x-www-form-urlencoded", form,
                 strlen(form), headers);
    cr_assert_eq(r.status, 303);
    http_reply_free(&r);
    wait_for(id, "cancelled");
    cr_assert_eq(files_in("uploads"), 1, "kept for a retry");
    http_request(&r, fx.port, "POST", target, "application/x-www-form-urlencoded", form,
                 strlen(form), headers);
    cr_assert_eq(r.status, 422, "an ended job cannot be cancelled again");
    http_reply_free(&r);
    free(form);
}

Test(job_routes, an_export_job_offers_its_file_and_no_error_report)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17], target[96];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "completed");
    char *form = NULL;
    http_form_append(&form, "authenticity_token", token);
    const char *const headers[] = {cookie, NULL};
    http_request(&r, fx.port, "POST", "/import_templates/1/exports",
                 "application/x-www-form-urlencoded", form, strlen(form), headers);
    cr_assert_eq(r.status, 303);
    char export_id[17];
    job_from_location(&r, export_id);
    http_reply_free(&r);
    free(form);
    wait_for(export_id, "completed");
    snprintf(target, sizeof target, "/jobs/%s/download", export_id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(r.body_len > 100 && !memcmp(r.body, "PK", 2), "an XLSX");
    char *disposition = http_header(&r, "Content-Disposition");
    cr_assert(disposition && strstr(disposition, "attachment"));
    free(disposition);
    http_reply_free(&r);
    snprintf(target, sizeof target, "/jobs/%s/errors.xlsx", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 404, "no row failed");
    http_reply_free(&r);
}

Test(job_routes, failed_rows_come_with_an_error_report)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "bad.csv",
           "Email,Name\nnot-an-email,<script>x</script>\n", NULL);
    char id[17], target[96];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "failed");
    snprintf(target, sizeof target, "/import_templates/1/jobs/%s", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert(strstr(r.body, "not-an-email"));
    cr_assert(strstr(r.body, "is not a valid email address"));
    cr_assert_null(strstr(r.body, "<script>x</script>"), "cell values are escaped");
    http_reply_free(&r);
    snprintf(target, sizeof target, "/jobs/%s/errors.xlsx", id);
    http_request(&r, fx.port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(!memcmp(r.body, "PK", 2));
    http_reply_free(&r);
}

Test(job_routes, the_dashboard_lists_and_filters_jobs)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "completed");
    http_request(&r, fx.port, "GET", "/jobs", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, id));
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/jobs?status=failed", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, id), "filtered out");
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/jobs?status=bogus", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 400);
    http_reply_free(&r);
}

Test(job_routes, template_workbooks_download)
{
    const char *targets[] = {"/import_templates/1/blank.xlsx", "/import_templates/1/sample.xlsx"};
    for (int i = 0; i < 2; i++) {
        struct http_reply r;
        http_request(&r, fx.port, "GET", targets[i], NULL, NULL, 0, NULL);
        cr_assert_eq(r.status, 200, "%s", targets[i]);
        cr_assert(r.body_len > 100 && !memcmp(r.body, "PK", 2));
        http_reply_free(&r);
    }
    DIR *d = opendir(fx.tmp);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(strncmp(e->d_name, ".workbook", 9), "%s was left behind", e->d_name);
    closedir(d);
}

Test(job_routes, metrics_count_requests_and_jobs)
{
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    char id[17];
    job_from_location(&r, id);
    http_reply_free(&r);
    wait_for(id, "completed");
    http_request(&r, fx.port, "GET", "/metrics", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "sheetd_jobs{kind=\"import\",state=\"completed\"} 1"), "%s", r.body);
    cr_assert(strstr(r.body, "sheetd_job_rows{kind=\"import\"} 2"));
    cr_assert(strstr(r.body, "sheetd_http_requests_total{route=\"/import_templates/:tid/"
                             "import_file\",method=\"POST\",status=\"303\"} 1"));
    cr_assert(strstr(r.body, "sheetd_open_streams 0"));
    http_reply_free(&r);
}

/* The API with SHEETD_API_TOKEN set. */
static void start_api(void)
{
    start(1, "s3cret-token", 0);
}
TestSuite(job_api, .init = start_api, .fini = stop);

Test(job_api, every_api_request_needs_the_token)
{
    struct http_reply r;
    http_request(&r, fx.port, "GET", "/api/v1/jobs", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 401);
    char *auth = http_header(&r, "WWW-Authenticate");
    cr_assert(auth && strstr(auth, "Bearer"));
    free(auth);
    http_reply_free(&r);
    const char *const wrong[] = {"Authorization: Bearer s3cret-tokem", NULL};
    http_request(&r, fx.port, "GET", "/api/v1/jobs", NULL, NULL, 0, wrong);
    cr_assert_eq(r.status, 401);
    http_reply_free(&r);
}

Test(job_api, templates_imports_and_jobs_as_json)
{
    const char *const bearer[] = {"Authorization: Bearer s3cret-token", NULL};
    struct http_reply r;
    const char *def = "{\"name\": \"Orders\", \"table\": \"orders\", \"columns\": [{\"key\": "
                      "\"ref\", \"header\": \"Ref\", \"type\": \"string\", \"required\": true}]}";
    http_request(&r, fx.port, "POST", "/api/v1/import_templates", "application/json", def,
                 strlen(def), bearer);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert(strstr(r.body, "\"id\":2"));
    http_reply_free(&r);
    http_request(&r, fx.port, "POST", "/api/v1/import_templates", "application/json", "{}", 2,
                 bearer);
    cr_assert_eq(r.status, 422);
    cr_assert(strstr(r.body, "\"problems\":["), "%s", r.body);
    http_reply_free(&r);
    http_request(&r, fx.port, "GET", "/api/v1/import_templates", NULL, NULL, 0, bearer);
    cr_assert(strstr(r.body, "\"name\":\"Orders\""));
    http_reply_free(&r);
    /* A script uploads without any CSRF token: the bearer token is its credential. */
    upload(&r, "/api/v1/import_templates/1/imports", NULL, "people.csv", good_csv, bearer);
    cr_assert_eq(r.status, 202, "%s", r.body);
    char id[17];
    const char *at = strstr(r.body, "\"job_id\":\"");
    cr_assert_not_null(at);
    memcpy(id, at + 10, 16);
    id[16] = '\0';
    cr_assert(strstr(r.body, "\"status_url\":\"/api/v1/jobs/"));
    http_reply_free(&r);
    char target[64];
    snprintf(target, sizeof target, "/api/v1/jobs/%s", id);
    for (int i = 0; i < 500; i++) {
        http_request(&r, fx.port, "GET", target, NULL, NULL, 0, bearer);
        bool done = strstr(r.body, "\"status\":\"completed\"") != NULL;
        http_reply_free(&r);
        if (done)
            break;
        usleep(10000);
    }
    http_request(&r, fx.port, "GET", "/api/v1/jobs?status=completed", NULL, NULL, 0, bearer);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, id));
    cr_assert(strstr(r.body, "\"completed\":1"));
    http_reply_free(&r);
    http_request(&r, fx.port, "POST", "/api/v1/import_templates/1/exports", NULL, NULL, 0, bearer);
    cr_assert_eq(r.status, 202, "%s", r.body);
    http_reply_free(&r);
}

Test(job_routes, an_upload_that_cannot_be_queued_is_503_and_its_file_removed)
{
    struct db *db = NULL;
    cr_assert_eq(store_acquire_queue(fx.store, &db, NULL), 0);
    cr_assert_eq(db_exec(db, "DROP TABLE jobs", NULL), 0);
    store_release(fx.store, db);
    struct http_reply r;
    upload(&r, "/import_templates/1/import_file", token, "people.csv", good_csv, NULL);
    cr_assert_eq(r.status, 503, "%s", r.body);
    cr_assert(strstr(r.body, "could not be queued"));
    http_reply_free(&r);
    cr_assert_eq(files_in("uploads"), 0);
}
