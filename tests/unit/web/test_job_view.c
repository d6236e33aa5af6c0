/* The job views: status documents in every state turned into view data (job_view.c) and
 * rendered through the real views (views/shared/_job_status, views/jobs/...), checking the
 * HTML a browser gets: ids, data-status, the buttons each state offers, and that cell values
 * from an upload come out escaped. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "test_support.h"
#include "web/job_view.h"
#include "web/views.h"

#define ID "3f9a0c1d2e4b5a69"
/* 2026-12-04T12:00:00Z */
#define NOW 1796385600000LL

static struct views *views;

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    char *dir = test_path(test_source_dir(), "views");
    cr_assert(dir);
    cr_assert_eq(views_load(&views, dir, &err), 0, "%s", err.message);
    free(dir);
}

static void teardown(void)
{
    views_free(views);
}

TestSuite(job_view, .init = setup, .fini = teardown);

static json_t *doc_of(const char *json)
{
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    cr_assert(doc, "bad test JSON: %s", jerr.text);
    return doc;
}

/* Builds the view of `json` and renders `view` with it; the caller frees the HTML. */
static char *render_with(const char *view, const char *json, const struct job_view_extra *extra,
                         json_t **view_out)
{
    struct sd_error err = SD_ERROR_INIT;
    json_t *doc = doc_of(json);
    json_t *v = NULL;
    cr_assert_eq(job_view_build(&v, doc, NOW, extra, &err), 0, "%s", err.message);
    json_decref(doc);
    struct buf out = BUF_INIT;
    cr_assert_eq(views_render(views, view, v, &out, &err), 0, "%s", err.message);
    if (view_out)
        *view_out = v;
    else
        json_decref(v);
    char *html = buf_detach(&out);
    cr_assert(html);
    return html;
}

static char *render(const char *json, const struct job_view_extra *extra)
{
    return render_with("shared/_job_status", json, extra, NULL);
}

/* The extras a handler passes for a browser with a CSRF token. */
static void with_csrf(struct job_view_extra *extra)
{
    struct job_view_extra init = JOB_VIEW_EXTRA_INIT;
    *extra = init;
    extra->csrf_token = "tok123";
    extra->template_name = "Customers";
}

static void assert_has(const char *html, const char *needle)
{
    cr_assert(strstr(html, needle), "missing %s in:\n%s", needle, html);
}

static void assert_lacks(const char *html, const char *needle)
{
    cr_assert_not(strstr(html, needle), "unexpected %s in:\n%s", needle, html);
}

Test(job_view, pending_shows_the_queue_position_and_a_cancel_button)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    extra.queue_position = 3;
    char *html = render("{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,"
                        "\"status\":\"pending\",\"message\":\"Waiting\","
                        "\"created_at\":\"2026-12-04T11:59:00Z\"}",
                        &extra);
    assert_has(html, "<div id=\"job_status_" ID "\"");
    assert_has(html, "data-status=\"pending\"");
    assert_has(html, "data-controller=\"job-status\"");
    assert_has(html, "data-job-status-url-value=\"/jobs/" ID "/status.json\"");
    assert_has(html, "data-job-status-partial-url-value=\"/jobs/" ID "/partial\"");
    assert_has(html, "Number 3 in the queue");
    assert_has(html, "action=\"/jobs/" ID "/cancel\"");
    assert_has(html, "name=\"authenticity_token\" value=\"tok123\"");
    assert_lacks(html, "/retry");
    assert_lacks(html, "<progress");
    free(html);
}

Test(job_view, processing_shows_progress_rate_and_elapsed_time)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    json_t *v;
    char *html = render_with("shared/_job_status",
                             "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,"
                             "\"status\":\"processing\",\"progress\":{\"processed\":50000,"
                             "\"total\":100000,\"percent\":50},"
                             "\"created_at\":\"2026-12-04T11:59:55.000Z\","
                             "\"worker\":{\"pid\":4242,\"hostname\":\"web-1\"}}",
                             &extra, &v);
    assert_has(html, "data-status=\"processing\"");
    assert_has(html, "<progress class=\"job-progress\" id=\"job_progress_" ID
                     "\" max=\"100\" value=\"50\">");
    assert_has(html, "50,000 of 100,000 (50%)");
    assert_has(html, "10,000 rows/s");
    assert_has(html, "<dd>5 s</dd>");
    assert_has(html, "action=\"/jobs/" ID "/cancel\"");
    assert_lacks(html, "/retry");
    assert_lacks(html, "Number");
    cr_assert_eq(json_integer_value(json_object_get(v, "worker_pid")), 4242);
    cr_assert(json_is_true(json_object_get(v, "is_processing")));
    cr_assert(json_is_false(json_object_get(v, "is_terminal")));
    json_decref(v);
    free(html);
}

Test(job_view, processing_without_a_total_computes_no_percent)
{
    json_t *v;
    char *html = render_with("shared/_job_status",
                             "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"processing\","
                             "\"progress\":{\"processed\":1234567,\"total\":0}}",
                             NULL, &v);
    assert_has(html, "<dd>1,234,567</dd>");
    assert_has(html, "data-indeterminate");
    assert_lacks(html, "max=\"100\" value=");
    cr_assert_eq(json_integer_value(json_object_get(v, "percent")), 0);
    json_decref(v);
    free(html);
}

Test(job_view, completed_import_shows_counts_duration_and_the_error_report)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    char *html =
        render("{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,"
               "\"status\":\"completed\",\"message\":\"Imported 99,998 rows; 2 rows failed\","
               "\"result\":{\"imported\":99998,\"updated\":0,\"failed\":2,"
               "\"duration_ms\":65000},\"error_count\":2,"
               "\"errors\":[{\"row\":7,\"column\":\"Email\",\"value\":\"x\","
               "\"message\":\"is not a valid email address\"}],"
               "\"files\":{\"report\":\"/jobs/" ID "/errors.xlsx\",\"download\":null}}",
               &extra);
    assert_has(html, "data-status=\"completed\"");
    assert_has(html, "Imported 99,998 rows; 2 rows failed");
    assert_has(html, "<dd id=\"job_imported_" ID "\">99,998</dd>");
    assert_has(html, "<dd id=\"job_failed_" ID "\">2</dd>");
    assert_has(html, "<dd>1 min 5 s</dd>");
    assert_has(html, "href=\"/jobs/" ID "/errors.xlsx\"");
    assert_has(html, "<td class=\"num\">7</td>");
    assert_lacks(html, "Download the export");
    assert_lacks(html, "Updated");
    assert_lacks(html, "<form");
    free(html);
}

Test(job_view, completed_export_links_the_file)
{
    char *html = render("{\"job_id\":\"" ID "\",\"kind\":\"export\",\"template_id\":7,"
                        "\"status\":\"completed\",\"result\":{\"rows\":1500,\"duration_ms\":850},"
                        "\"files\":{\"report\":null,\"download\":\"/jobs/" ID "/download\"}}",
                        NULL);
    assert_has(html, "href=\"/jobs/" ID "/download\"");
    assert_has(html, "<dd>1,500</dd>");
    assert_has(html, "<dd>850 ms</dd>");
    assert_lacks(html, "error report");
    assert_lacks(html, "Imported");
    free(html);
}

Test(job_view, failed_lists_escaped_row_errors_and_offers_retry)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    char *html =
        render("{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,\"status\":\"failed\","
               "\"message\":\"Nothing was imported: 2 rows failed validation\",\"error_count\":250,"
               "\"errors\":[{\"row\":3,\"column\":\"<b>Email</b>\",\"value\":\"<script>alert(1)</"
               "script>\","
               "\"message\":\"is not a valid email address\"},{\"row\":4,\"column\":\"Name\","
               "\"value\":\"\\\"quoted\\\" & 'single'\",\"message\":\"is required\"}],"
               "\"files\":{\"report\":\"/jobs/" ID "/errors.xlsx\"}}",
               &extra);
    assert_has(html, "data-status=\"failed\"");
    assert_has(html, "Nothing was imported: 2 rows failed validation");
    assert_has(html, "id=\"job_errors_" ID "\"");
    assert_has(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_has(html, "&lt;b&gt;Email&lt;/b&gt;");
    assert_has(html, "&quot;quoted&quot; &amp; &#39;single&#39;");
    assert_lacks(html, "<script>");
    assert_lacks(html, "<b>Email");
    assert_has(html, "Row errors (250)");
    assert_has(html, "The first 2 are listed here");
    assert_has(html, "href=\"/jobs/" ID "/errors.xlsx\"");
    assert_has(html, "action=\"/jobs/" ID "/retry\"");
    assert_lacks(html, "/cancel");
    free(html);
}

Test(job_view, hostile_message_and_template_name_are_escaped_on_the_page)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    extra.template_name = "<img src=x onerror=alert(1)>";
    char *html = render_with("job_status/show",
                             "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,"
                             "\"status\":\"processing\",\"message\":\"\\\"><script>x()</script>\"}",
                             &extra, NULL);
    assert_lacks(html, "<script>");
    assert_lacks(html, "<img");
    assert_has(html, "&quot;&gt;&lt;script&gt;x()&lt;/script&gt;");
    assert_has(html, "<turbo-stream-source src=\"/jobs/" ID "/stream\">");
    assert_has(html, "href=\"/import_templates/7\">&lt;img src=x onerror=alert(1)&gt;</a>");
    assert_has(html, "id=\"job_live\"");
    assert_has(html, "<div id=\"job_status_" ID "\"");
    free(html);
}

Test(job_view, a_finished_job_page_does_not_subscribe)
{
    char *html = render_with("job_status/show",
                             "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"template_id\":7,"
                             "\"status\":\"completed\"}",
                             NULL, NULL);
    assert_lacks(html, "<turbo-stream-source");
    assert_has(html, "data-state=\"done\"");
    free(html);
}

Test(job_view, cancelled_offers_retry_only)
{
    struct job_view_extra extra;
    with_csrf(&extra);
    char *html = render("{\"job_id\":\"" ID "\",\"kind\":\"export\",\"template_id\":7,"
                        "\"status\":\"cancelled\",\"message\":\"Cancelled by a person\"}",
                        &extra);
    assert_has(html, "data-status=\"cancelled\"");
    assert_has(html, "Cancelled by a person");
    assert_has(html, "action=\"/jobs/" ID "/retry\"");
    assert_lacks(html, "/cancel\"");
    assert_lacks(html, "<table");
    free(html);
}

Test(job_view, a_broadcast_partial_has_the_buttons_with_an_empty_token)
{
    char *html = render("{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"failed\"}", NULL);
    assert_has(html, "action=\"/jobs/" ID "/retry\"");
    assert_has(html, "<input type=\"hidden\" name=\"authenticity_token\" value=\"\">");
    assert_lacks(html, "/cancel");
    free(html);
}

Test(job_view, missing_optional_keys_render_as_nothing)
{
    json_t *v;
    char *html = render_with("shared/_job_status",
                             "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"completed\","
                             "\"result\":null,\"errors\":\"nonsense\",\"files\":{\"report\":"
                             "\"javascript:alert(1)\",\"download\":\"//evil.example/x\"},"
                             "\"progress\":{\"processed\":-5}}",
                             NULL, &v);
    assert_has(html, "data-status=\"completed\"");
    assert_lacks(html, "javascript:");
    assert_lacks(html, "evil.example");
    assert_lacks(html, "<table");
    cr_assert_str_eq(json_string_value(json_object_get(v, "template_name")), "Template 0");
    cr_assert_str_eq(json_string_value(json_object_get(v, "message")), "");
    cr_assert_str_eq(json_string_value(json_object_get(v, "elapsed_text")), "");
    cr_assert(json_is_false(json_object_get(v, "has_downloads")));
    json_decref(v);
    free(html);
}

Test(job_view, at_most_100_errors_are_shown)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(buf_puts(&b, "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"failed\","
                              "\"error_count\":150,\"errors\":["),
                 0);
    for (int i = 0; i < 150; i++)
        cr_assert_eq(buf_printf(&b,
                                "%s{\"row\":%d,\"column\":\"A\",\"value\":\"v\",\"message\":"
                                "\"m\"}",
                                i ? "," : "", i + 2),
                     0);
    cr_assert_eq(buf_puts(&b, "]}"), 0);
    json_t *v;
    char *html = render_with("shared/_job_status", buf_cstr(&b), NULL, &v);
    cr_assert_eq(json_array_size(json_object_get(v, "errors")), 100);
    assert_has(html, "<td class=\"num\">101</td>");
    assert_lacks(html, "<td class=\"num\">102</td>");
    json_decref(v);
    buf_free(&b);
    free(html);
}

Test(job_view, refuses_documents_that_are_not_status_documents)
{
    const char *bad[] = {
        "[]",
        "{\"kind\":\"import\",\"status\":\"pending\"}",
        "{\"job_id\":\"../../etc\",\"kind\":\"import\",\"status\":\"pending\"}",
        "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"running\"}",
        "{\"job_id\":\"" ID "\",\"kind\":\"delete\",\"status\":\"pending\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sd_error err = SD_ERROR_INIT;
        json_t *doc = doc_of(bad[i]);
        json_t *v = (json_t *)1;
        cr_assert_eq(job_view_build(&v, doc, NOW, NULL, &err), SD_EINVALID, "%s", bad[i]);
        cr_assert_null(v);
        cr_assert(strlen(err.message) > 0);
        json_decref(doc);
    }
}

Test(job_view, dashboard_counts_filters_rows_and_paging)
{
    struct sd_error err = SD_ERROR_INIT;
    json_t *jobs = doc_of("[{\"job_id\":\"" ID
                          "\",\"kind\":\"import\",\"template_id\":2,\"status\":\"processing\","
                          "\"progress\":{\"processed\":5,\"total\":10,\"percent\":50},"
                          "\"created_at\":\"2026-12-04T11:57:00Z\"},"
                          "{\"job_id\":\"00000000000000ff\",\"kind\":\"export\",\"template_id\":9,"
                          "\"status\":\"failed\",\"error_count\":3,\"errors\":[{\"row\":2}]}]");
    json_t *templates =
        doc_of("[{\"id\":2,\"name\":\"<Customers>\"},{\"id\":3,\"name\":\"Orders\"}]");
    json_t *counts = doc_of("{\"pending\":1200,\"processing\":1,\"failed\":3}");
    struct job_view_dashboard_input in = JOB_VIEW_DASHBOARD_INPUT_INIT;
    in.jobs = jobs;
    in.templates = templates;
    in.counts = counts;
    in.status = "failed";
    in.template_id = 3;
    in.page = 2;
    in.has_more = true;
    in.csrf_token = "tok";
    json_t *v;
    cr_assert_eq(job_view_dashboard(&v, &in, NOW, &err), 0, "%s", err.message);
    struct buf out = BUF_INIT;
    cr_assert_eq(views_render(views, "jobs/index", v, &out, &err), 0, "%s", err.message);
    const char *html = buf_cstr(&out);
    assert_has(html, "<tr id=\"job_row_" ID "\" data-status=\"processing\">");
    assert_has(html, "<tr id=\"job_row_00000000000000ff\" data-status=\"failed\">");
    assert_has(html, "&lt;Customers&gt;");
    assert_has(html, "Template 9");
    assert_has(html, "3 min ago");
    assert_has(html, "<span class=\"job-counts__n\">1,204</span> All");
    assert_has(html, "<span class=\"job-counts__n\">1,200</span> Queued");
    assert_has(html, "href=\"/jobs?status=failed&amp;template_id=3\" aria-current=\"true\"");
    assert_has(html, "<option value=\"failed\" selected>Failed</option>");
    assert_has(html, "<option value=\"3\" selected>Orders</option>");
    assert_has(html, "href=\"/jobs?status=failed&amp;template_id=3\" rel=\"prev\"");
    assert_has(html, "href=\"/jobs?status=failed&amp;template_id=3&amp;page=3\" rel=\"next\"");
    assert_has(html, "<turbo-stream-source src=\"/jobs/stream\">");
    assert_has(html, "action=\"/jobs/" ID "/cancel\"");
    assert_has(html, "action=\"/jobs/00000000000000ff/retry\"");
    assert_has(html, "3 row errors");
    buf_free(&out);
    json_decref(v);

    in.status = "bogus";
    v = (json_t *)1;
    cr_assert_eq(job_view_dashboard(&v, &in, NOW, &err), SD_EINVALID);
    cr_assert_null(v);
    json_decref(jobs);
    json_decref(templates);
    json_decref(counts);
}

Test(job_view, an_empty_dashboard_says_how_to_start)
{
    struct sd_error err = SD_ERROR_INIT;
    struct job_view_dashboard_input in = JOB_VIEW_DASHBOARD_INPUT_INIT;
    json_t *v;
    cr_assert_eq(job_view_dashboard(&v, &in, NOW, &err), 0, "%s", err.message);
    struct buf out = BUF_INIT;
    cr_assert_eq(views_render(views, "jobs/index", v, &out, &err), 0, "%s", err.message);
    assert_has(buf_cstr(&out), "There are no jobs yet.");
    assert_has(buf_cstr(&out), "<span class=\"job-counts__n\">0</span> All");
    assert_lacks(buf_cstr(&out), "rel=\"prev\"");
    assert_lacks(buf_cstr(&out), "rel=\"next\"");
    buf_free(&out);
    json_decref(v);
}

Test(job_view, the_template_page_has_the_upload_form_and_file_links)
{
    struct sd_error err = SD_ERROR_INIT;
    json_t *data = doc_of("{\"template\":{\"id\":7,\"name\":\"<Customers>\",\"columns\":[]},"
                          "\"csrf_field\":\"authenticity_token\",\"csrf_token\":\"tok\","
                          "\"max_upload_bytes\":104857600,\"upload_error\":\"<b>empty</b>\"}");
    struct buf out = BUF_INIT;
    cr_assert_eq(views_render(views, "import_templates/show", data, &out, &err), 0, "%s",
                 err.message);
    const char *html = buf_cstr(&out);
    assert_has(html, "action=\"/import_templates/7/import_file\" method=\"post\"\n"
                     "        enctype=\"multipart/form-data\" data-controller=\"upload\"");
    assert_has(html, "data-upload-max-bytes-value=\"104857600\"");
    assert_has(html, "<input type=\"file\" id=\"upload_file\" name=\"file\" required");
    assert_has(html, "<input type=\"hidden\" name=\"authenticity_token\" value=\"tok\">");
    assert_has(html, "action=\"/import_templates/7/exports\" method=\"post\"");
    assert_has(html, "href=\"/import_templates/7/blank.xlsx\"");
    assert_has(html, "href=\"/import_templates/7/sample.xlsx\"");
    assert_has(html, "id=\"upload_error\">&lt;b&gt;empty&lt;/b&gt;</div>");
    const char *first = strstr(html, "name=\"authenticity_token\"");
    cr_assert(first && strstr(first + 1, "name=\"authenticity_token\""),
              "both forms carry the token");
    buf_free(&out);
    json_decref(data);
}

Test(job_view, stream_messages_replace_the_partial_or_the_row_without_a_token)
{
    struct sd_error err = SD_ERROR_INIT;
    struct job_view_extra extra;
    with_csrf(&extra);
    json_t *doc = doc_of("{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"processing\","
                         "\"message\":\"</template><script>x()</script>\"}");
    struct buf out = BUF_INIT;
    cr_assert_eq(buf_puts(&out, "kept|"), 0);
    cr_assert_eq(
        job_view_stream_message(&out, views, doc, NOW, &extra, JOB_VIEW_TARGET_PARTIAL, &err), 0,
        "%s", err.message);
    const char *s = buf_cstr(&out);
    cr_assert(strncmp(s,
                      "kept|<turbo-stream action=\"replace\" target=\"job_status_" ID
                      "\"><template><div id=\"job_status_" ID "\"",
                      strlen("kept|<turbo-stream action=\"replace\" target=\"job_status_" ID
                             "\"><template><div id=\"job_status_" ID "\"")) == 0,
              "%s", s);
    cr_assert(str_has_suffix(s, "</div>\n</template></turbo-stream>"), "%s", s);
    assert_has(s, "&lt;/template&gt;&lt;script&gt;");
    assert_has(s, "name=\"authenticity_token\" value=\"\"");
    assert_lacks(s, "tok123");

    buf_clear(&out);
    cr_assert_eq(job_view_stream_message(&out, views, doc, NOW, &extra, JOB_VIEW_TARGET_ROW, &err),
                 0, "%s", err.message);
    assert_has(buf_cstr(&out), "<turbo-stream action=\"replace\" target=\"job_row_" ID
                               "\"><template><tr id=\"job_row_" ID "\"");
    assert_lacks(buf_cstr(&out), "tok123");
    json_decref(doc);

    doc = doc_of("{\"job_id\":\"nope\",\"kind\":\"import\",\"status\":\"processing\"}");
    buf_clear(&out);
    cr_assert_eq(buf_puts(&out, "kept"), 0);
    cr_assert_eq(job_view_stream_message(&out, views, doc, NOW, NULL, JOB_VIEW_TARGET_ROW, &err),
                 SD_EINVALID);
    cr_assert_str_eq(buf_cstr(&out), "kept", "nothing appended on failure");
    json_decref(doc);
    buf_free(&out);
}

Test(job_view, percent_is_computed_when_the_document_has_none_and_capped_at_100)
{
    struct sd_error err = SD_ERROR_INIT;
    const char *cases[][2] = {
        {"{\"processed\":1,\"total\":3}", "33"},
        {"{\"processed\":5,\"total\":3}", "100"},
        {"{\"processed\":5,\"total\":10,\"percent\":250}", "100"},
        {"{\"processed\":9000000000000000000,\"total\":9200000000000000000}", "97"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"job_id\":\"" ID "\",\"kind\":\"import\",\"status\":\"processing\","
                 "\"progress\":%s}",
                 cases[i][0]);
        json_t *doc = doc_of(json), *v;
        cr_assert_eq(job_view_build(&v, doc, NOW, NULL, &err), 0, "%s", err.message);
        char got[32];
        snprintf(got, sizeof got, "%lld",
                 (long long)json_integer_value(json_object_get(v, "percent")));
        cr_assert_str_eq(got, cases[i][1], "%s", cases[i][0]);
        json_decref(v);
        json_decref(doc);
    }
}
