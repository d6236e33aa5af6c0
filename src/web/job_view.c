/*
 * Status document -> view context (see job_view.h for the keys). Everything a person reads
 * is worded here once: counts with thousands separators (import_format_count), durations
 * (clock_format_duration), the state's label. Strings from the document (the message, the
 * row errors' cells) are copied as they are: the views escape them.
 */
#include "web/job_view.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/job_id.h"
#include "import/import_service.h"
#include "web/csrf.h"
#include "web/views.h"

static const struct {
    const char *status;
    const char *label;
    bool terminal;
} states[] = {
    {"pending", "Queued", false},     {"processing", "Processing", false},
    {"completed", "Completed", true}, {"failed", "Failed", true},
    {"cancelled", "Cancelled", true},
};

#define NSTATES (sizeof states / sizeof states[0])

static int state_index(const char *status)
{
    for (size_t i = 0; status && i < NSTATES; i++)
        if (strcmp(states[i].status, status) == 0)
            return (int)i;
    return -1;
}

bool job_view_status_known(const char *status)
{
    return state_index(status) >= 0;
}

/* A non-negative integer member, or -1 when it is missing or not a number. */
static int64_t count_of(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v) < 0 ? -1 : (int64_t)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9e18)
        return (int64_t)json_real_value(v);
    return -1;
}

static const char *string_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* A link the document names, only when it is a path on this server. */
static const char *local_path(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && s[0] == '/' && s[1] != '/' && s[1] != '\\' ? s : "";
}

static int set_str(json_t *o, const char *key, const char *value)
{
    return json_object_set_new(o, key, json_string(value ? value : ""));
}

static int set_count(json_t *o, const char *key, int64_t n)
{
    char text[32];
    import_format_count(text, n < 0 ? 0 : (uint64_t)n);
    return set_str(o, key, text);
}

/* "3 min ago" from an ISO timestamp; "" when the text is not one. */
static void age_text(char out[48], const char *iso, int64_t now_ms)
{
    int64_t at;
    out[0] = '\0';
    if (!clock_parse_iso8601(iso, &at))
        return;
    char d[CLOCK_DURATION_SIZE];
    if (now_ms - at < 1000)
        snprintf(out, 48, "just now");
    else
        snprintf(out, 48, "%s ago", clock_format_duration(d, now_ms - at));
}

/* Progress, rate and elapsed time. The clock starts at started_at when the document has
 * it (the job layer may add it), else at created_at, and stops at finished_at. */
static int add_progress(json_t *v, const json_t *doc, int idx, int64_t now_ms)
{
    const json_t *progress = json_object_get(doc, "progress");
    int64_t processed = count_of(progress, "processed");
    int64_t total = count_of(progress, "total");
    int64_t percent = count_of(progress, "percent");
    if (percent < 0 && processed >= 0 && total > 0)
        percent = processed >= total ? 100 : (int64_t)((double)processed * 100 / (double)total);
    if (percent > 100)
        percent = 100;
    int64_t start = 0, end = now_ms;
    bool timed = clock_parse_iso8601(string_of(doc, "started_at"), &start) ||
                 clock_parse_iso8601(string_of(doc, "created_at"), &start);
    if (states[idx].terminal && !clock_parse_iso8601(string_of(doc, "finished_at"), &end))
        timed = false;
    char elapsed[CLOCK_DURATION_SIZE] = "", rate[48] = "";
    if (timed && end >= start)
        clock_format_duration(elapsed, end - start);
    if (timed && end - start >= 1000 && processed > 0) {
        char n[32];
        import_format_count(n, (uint64_t)((double)processed * 1000 / (double)(end - start)));
        snprintf(rate, sizeof rate, "%s rows/s", n);
    }
    return json_object_set_new(v, "has_progress", json_boolean(processed > 0 || total > 0)) |
           json_object_set_new(v, "has_total", json_boolean(total > 0)) |
           set_count(v, "processed_text", processed) | set_count(v, "total_text", total) |
           json_object_set_new(v, "percent", json_integer(percent < 0 ? 0 : percent)) |
           set_str(v, "rate_text", rate) | set_str(v, "elapsed_text", elapsed);
}

static int add_result(json_t *v, const json_t *doc)
{
    const json_t *result = json_object_get(doc, "result");
    int64_t failed = count_of(result, "failed");
    int64_t updated = count_of(result, "updated");
    int64_t duration = count_of(result, "duration_ms");
    int64_t rows = count_of(result, "rows");
    char d[CLOCK_DURATION_SIZE] = "";
    if (duration >= 0)
        clock_format_duration(d, duration);
    return json_object_set_new(v, "has_result", json_boolean(json_is_object(result))) |
           set_count(v, "imported_text", count_of(result, "imported")) |
           set_count(v, "updated_text", updated) | set_count(v, "failed_text", failed) |
           set_count(v, "rows_text", rows) |
           json_object_set_new(v, "any_updated", json_boolean(updated > 0)) |
           json_object_set_new(v, "any_failed", json_boolean(failed > 0)) |
           set_str(v, "duration_text", d);
}

/* A cell value as text: strings as they are, numbers written out, anything else empty. */
static json_t *text_of(const json_t *value)
{
    char n[48];
    if (json_is_string(value))
        return json_stringn(json_string_value(value), json_string_length(value));
    if (json_is_integer(value)) {
        snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        return json_string(n);
    }
    if (json_is_real(value)) {
        snprintf(n, sizeof n, "%.15g", json_real_value(value));
        return json_string(n);
    }
    return json_string("");
}

static int add_errors(json_t *v, const json_t *doc)
{
    const json_t *errors = json_object_get(doc, "errors");
    json_t *list = json_array();
    if (!list)
        return -1;
    size_t shown = 0;
    for (size_t i = 0; json_is_array(errors) && i < json_array_size(errors); i++) {
        const json_t *e = json_array_get(errors, i);
        if (!json_is_object(e))
            continue;
        if (shown == JOB_VIEW_MAX_ERRORS)
            break;
        int64_t row = count_of(e, "row");
        json_t *item = json_object();
        if (!item || json_array_append_new(list, item) ||
            json_object_set_new(item, "row", row >= 0 ? json_integer(row) : json_string("")) ||
            json_object_set_new(item, "column", text_of(json_object_get(e, "column"))) ||
            json_object_set_new(item, "value", text_of(json_object_get(e, "value"))) ||
            json_object_set_new(item, "message", text_of(json_object_get(e, "message")))) {
            json_decref(list);
            return -1;
        }
        shown++;
    }
    int64_t count = count_of(doc, "error_count");
    if (count < (int64_t)shown)
        count = (int64_t)shown;
    return json_object_set_new(v, "errors", list) |
           json_object_set_new(v, "has_errors", json_boolean(shown > 0)) |
           set_count(v, "error_count_text", count) |
           set_count(v, "errors_shown_text", (int64_t)shown) |
           json_object_set_new(v, "errors_truncated", json_boolean(count > (int64_t)shown));
}

static int add_links(json_t *v, const char *job_id, int64_t template_id)
{
    char url[128];
    int rc = 0;
#define LINK(key, ...)                                                                             \
    do {                                                                                           \
        snprintf(url, sizeof url, __VA_ARGS__);                                                    \
        rc |= set_str(v, key, url);                                                                \
    } while (0)
    LINK("template_url", "/import_templates/%" PRId64, template_id);
    LINK("job_url", "/import_templates/%" PRId64 "/jobs/%s", template_id, job_id);
    LINK("status_url", "/jobs/%s/status.json", job_id);
    LINK("partial_url", "/jobs/%s/partial", job_id);
    LINK("stream_url", "/jobs/%s/stream", job_id);
    LINK("cancel_url", "/jobs/%s/cancel", job_id);
    LINK("retry_url", "/jobs/%s/retry", job_id);
#undef LINK
    return rc;
}

static int add_queue(json_t *v, int idx, int64_t position)
{
    char text[64] = "";
    bool shown = idx == 0 && position > 0;
    if (shown && position == 1)
        snprintf(text, sizeof text, "Next in the queue");
    else if (shown) {
        char n[32];
        snprintf(text, sizeof text, "Number %s in the queue",
                 import_format_count(n, (uint64_t)position));
    }
    return json_object_set_new(v, "has_position", json_boolean(shown)) |
           json_object_set_new(v, "queue_position", json_integer(shown ? position : 0)) |
           set_str(v, "queue_text", text);
}

static int add_worker(json_t *v, const json_t *doc)
{
    const json_t *worker = json_object_get(doc, "worker");
    int64_t pid = count_of(worker, "pid");
    return json_object_set_new(v, "has_worker", json_boolean(pid > 0)) |
           json_object_set_new(v, "worker_pid", json_integer(pid > 0 ? pid : 0)) |
           set_str(v, "worker_hostname", string_of(worker, "hostname"));
}

int job_view_build(json_t **out, const json_t *doc, int64_t now_ms,
                   const struct job_view_extra *extra, struct sd_error *err)
{
    static const struct job_view_extra none = JOB_VIEW_EXTRA_INIT;
    *out = NULL;
    if (!extra)
        extra = &none;
    if (!json_is_object(doc))
        return sd_error_set(err, SD_EINVALID, "the job's status document is not a JSON object");
    const char *job_id = string_of(doc, "job_id");
    const char *status = string_of(doc, "status");
    const char *kind = string_of(doc, "kind");
    int idx = state_index(status);
    if (!job_id_valid(job_id))
        return sd_error_set(err, SD_EINVALID, "the job's status document has no valid job_id");
    if (idx < 0)
        return sd_error_set(err, SD_EINVALID, "the job's status document has an unknown status");
    bool is_import = strcmp(kind, "import") == 0, is_export = strcmp(kind, "export") == 0;
    if (!is_import && !is_export)
        return sd_error_set(err, SD_EINVALID, "the job's status document has an unknown kind");
    int64_t template_id = count_of(doc, "template_id");
    if (template_id < 0)
        template_id = 0;
    char name[64], age[48];
    snprintf(name, sizeof name, "Template %" PRId64, template_id);
    age_text(age, string_of(doc, "created_at"), now_ms);
    const json_t *files = json_object_get(doc, "files");
    const char *download = local_path(files, "download"), *report = local_path(files, "report");
    bool csrf = extra->csrf_token && *extra->csrf_token;

    json_t *v = json_object();
    if (!v)
        return sd_error_nomem(err);
    int bad = set_str(v, "job_id", job_id) | set_str(v, "kind", kind) |
              set_str(v, "kind_label", is_import ? "Import" : "Export") |
              json_object_set_new(v, "is_import", json_boolean(is_import)) |
              json_object_set_new(v, "is_export", json_boolean(is_export)) |
              json_object_set_new(v, "template_id", json_integer(template_id)) |
              set_str(v, "template_name", extra->template_name ? extra->template_name : name) |
              set_str(v, "status", status) | set_str(v, "status_label", states[idx].label) |
              json_object_set_new(v, "is_pending", json_boolean(idx == 0)) |
              json_object_set_new(v, "is_processing", json_boolean(idx == 1)) |
              json_object_set_new(v, "is_completed", json_boolean(idx == 2)) |
              json_object_set_new(v, "is_failed", json_boolean(idx == 3)) |
              json_object_set_new(v, "is_cancelled", json_boolean(idx == 4)) |
              json_object_set_new(v, "is_terminal", json_boolean(states[idx].terminal)) |
              json_object_set_new(v, "can_cancel", json_boolean(!states[idx].terminal)) |
              json_object_set_new(v, "can_retry", json_boolean(idx == 3 || idx == 4)) |
              set_str(v, "message", string_of(doc, "message")) |
              set_str(v, "download_url", download) | set_str(v, "report_url", report) |
              json_object_set_new(v, "has_downloads", json_boolean(*download || *report)) |
              set_str(v, "created_at", string_of(doc, "created_at")) |
              set_str(v, "updated_at", string_of(doc, "updated_at")) |
              set_str(v, "finished_at", string_of(doc, "finished_at")) |
              set_str(v, "age_text", age) | set_str(v, "csrf_field", CSRF_FIELD_NAME) |
              set_str(v, "csrf_token", extra->csrf_token) |
              json_object_set_new(v, "has_csrf", json_boolean(csrf));
    if (bad || add_links(v, job_id, template_id) || add_queue(v, idx, extra->queue_position) ||
        add_progress(v, doc, idx, now_ms) || add_result(v, doc) || add_errors(v, doc) ||
        add_worker(v, doc)) {
        json_decref(v);
        return sd_error_nomem(err);
    }
    *out = v;
    return 0;
}

/* "/jobs?status=failed&template_id=2&page=3": the dashboard's own URL with its filters. The
 * state is one of the five known words and the rest are numbers, so nothing needs quoting. */
static int dashboard_url(json_t *o, const char *key, const char *status, int64_t template_id,
                         int64_t page)
{
    char url[160];
    int n = snprintf(url, sizeof url, "/jobs");
    char sep = '?';
    if (status && *status) {
        n += snprintf(url + n, sizeof url - (size_t)n, "%cstatus=%s", sep, status);
        sep = '&';
    }
    if (template_id > 0) {
        n += snprintf(url + n, sizeof url - (size_t)n, "%ctemplate_id=%" PRId64, sep, template_id);
        sep = '&';
    }
    if (page > 1)
        snprintf(url + n, sizeof url - (size_t)n, "%cpage=%" PRId64, sep, page);
    return set_str(o, key, url);
}

/* The template's name from the {"id", "name"} list, or NULL. */
static const char *template_name_of(const json_t *templates, int64_t id)
{
    for (size_t i = 0; json_is_array(templates) && i < json_array_size(templates); i++) {
        const json_t *t = json_array_get(templates, i);
        if (count_of(t, "id") == id && json_is_string(json_object_get(t, "name")))
            return json_string_value(json_object_get(t, "name"));
    }
    return NULL;
}

static int add_counts(json_t *v, const struct job_view_dashboard_input *in)
{
    json_t *counts = json_array(), *options = json_array();
    int64_t total = 0;
    int bad = !counts || !options;
    bad |= json_array_append_new(options, json_pack("{s:s,s:s,s:b}", "value", "", "label",
                                                    "Every state", "selected", !in->status));
    for (size_t i = 0; i < NSTATES && !bad; i++) {
        int64_t n = count_of(in->counts, states[i].status);
        bool current = in->status && strcmp(in->status, states[i].status) == 0;
        json_t *c = json_pack("{s:s,s:s,s:b}", "state", states[i].status, "label", states[i].label,
                              "current", current);
        bad |= json_array_append_new(counts, c) || !c || set_count(c, "count_text", n) ||
               dashboard_url(c, "url", states[i].status, in->template_id, 1);
        bad |= json_array_append_new(options,
                                     json_pack("{s:s,s:s,s:b}", "value", states[i].status, "label",
                                               states[i].label, "selected", current));
        total += n > 0 ? n : 0;
    }
    bad |= json_object_set_new(v, "counts", counts) |
           json_object_set_new(v, "status_options", options) | set_count(v, "total_text", total);
    return bad ? -1 : 0;
}

static int add_template_options(json_t *v, const struct job_view_dashboard_input *in)
{
    json_t *options = json_array();
    int bad = !options ||
              json_array_append_new(options,
                                    json_pack("{s:s,s:s,s:b}", "value", "", "label",
                                              "Every template", "selected", in->template_id <= 0));
    for (size_t i = 0; json_is_array(in->templates) && i < json_array_size(in->templates) && !bad;
         i++) {
        const json_t *t = json_array_get(in->templates, i);
        int64_t id = count_of(t, "id");
        char value[32];
        if (id <= 0)
            continue;
        snprintf(value, sizeof value, "%" PRId64, id);
        bad = json_array_append_new(options, json_pack("{s:s,s:s,s:b}", "value", value, "label",
                                                       string_of(t, "name"), "selected",
                                                       id == in->template_id));
    }
    return json_object_set_new(v, "template_options", options) | bad ? -1 : 0;
}

int job_view_dashboard(json_t **out, const struct job_view_dashboard_input *in, int64_t now_ms,
                       struct sd_error *err)
{
    *out = NULL;
    struct job_view_dashboard_input f = *in;
    if (f.status && !*f.status)
        f.status = NULL;
    if (f.status && !job_view_status_known(f.status))
        return sd_error_set(err, SD_EINVALID,
                            "there is no job state \"%.40s\"; use pending, processing, completed, "
                            "failed or cancelled",
                            f.status);
    if (f.page < 1)
        f.page = 1;
    json_t *v = json_object(), *jobs = json_array();
    if (!v || !jobs || json_object_set_new(v, "jobs", jobs)) {
        json_decref(v);
        return sd_error_nomem(err);
    }
    for (size_t i = 0; json_is_array(f.jobs) && i < json_array_size(f.jobs); i++) {
        const json_t *doc = json_array_get(f.jobs, i);
        struct job_view_extra extra = JOB_VIEW_EXTRA_INIT;
        extra.template_name = template_name_of(f.templates, count_of(doc, "template_id"));
        extra.csrf_token = f.csrf_token;
        json_t *row;
        int rc = job_view_build(&row, doc, now_ms, &extra, err);
        if (rc < 0) {
            json_decref(v);
            return rc;
        }
        if (json_array_append_new(jobs, row)) {
            json_decref(v);
            return sd_error_nomem(err);
        }
    }
    int bad = add_counts(v, &f) | add_template_options(v, &f) |
              json_object_set_new(v, "any_jobs", json_boolean(json_array_size(jobs) > 0)) |
              json_object_set_new(v, "page", json_integer(f.page)) |
              json_object_set_new(v, "has_prev", json_boolean(f.page > 1)) |
              json_object_set_new(v, "has_next", json_boolean(f.has_more)) |
              json_object_set_new(v, "filtered", json_boolean(f.status || f.template_id > 0)) |
              dashboard_url(v, "prev_url", f.status, f.template_id, f.page - 1) |
              dashboard_url(v, "next_url", f.status, f.template_id, f.page + 1) |
              dashboard_url(v, "clear_url", NULL, 0, 1) | set_str(v, "stream_url", "/jobs/stream") |
              set_str(v, "csrf_field", CSRF_FIELD_NAME) | set_str(v, "csrf_token", f.csrf_token);
    if (bad) {
        json_decref(v);
        return sd_error_nomem(err);
    }
    *out = v;
    return 0;
}

int job_view_stream_message(struct buf *out, struct views *views, const json_t *status_doc,
                            int64_t now_ms, const struct job_view_extra *extra,
                            enum job_view_target target, struct sd_error *err)
{
    struct job_view_extra shared = JOB_VIEW_EXTRA_INIT;
    if (extra)
        shared = *extra;
    shared.csrf_token = NULL;
    json_t *v;
    int rc = job_view_build(&v, status_doc, now_ms, &shared, err);
    if (rc < 0)
        return rc;
    bool row = target == JOB_VIEW_TARGET_ROW;
    size_t mark = out->len;
    const char *job_id = json_string_value(json_object_get(v, "job_id"));
    if (buf_printf(out, "<turbo-stream action=\"replace\" target=\"%s%s\"><template>",
                   row ? "job_row_" : "job_status_", job_id) < 0)
        rc = sd_error_nomem(err);
    if (!rc)
        rc = views_render(views, row ? "jobs/_row" : "shared/_job_status", v, out, err);
    if (!rc && buf_puts(out, "</template></turbo-stream>") < 0)
        rc = sd_error_nomem(err);
    if (rc)
        buf_truncate(out, mark);
    json_decref(v);
    return rc;
}
