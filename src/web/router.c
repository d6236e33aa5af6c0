/* The route table and the matcher (see router.h for the rules). */
#include "web/router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/job_id.h"
#include "web/handlers/handlers.h"
#include "web/url.h"

#define MAX_SEGMENTS 16

/* Order matters only where two patterns could match the same path: the first wins. */
static const struct route routes[] = {
    {WEB_METHOD_GET, "/", import_templates_root, false},
    {WEB_METHOD_GET, "/healthz", health_show, false},
    {WEB_METHOD_GET, "/import_templates", import_templates_index, false},
    {WEB_METHOD_POST, "/import_templates", import_templates_create, false},
    {WEB_METHOD_GET, "/import_templates/new", import_templates_new, false},
    {WEB_METHOD_GET, "/import_templates/:tid", import_templates_show, false},
    {WEB_METHOD_GET, "/import_templates/:tid/blank.xlsx", template_files_blank, false},
    {WEB_METHOD_GET, "/import_templates/:tid/sample.xlsx", template_files_sample, false},
    {WEB_METHOD_POST, "/import_templates/:tid/import_file", imports_create, true},
    {WEB_METHOD_POST, "/import_templates/:tid/exports", exports_create, false},
    {WEB_METHOD_GET, "/import_templates/:tid/jobs/:job_id", jobs_show, false},
    {WEB_METHOD_GET, "/jobs", jobs_index, false},
    {WEB_METHOD_GET, "/jobs/stream", job_streams_index, false},
    {WEB_METHOD_GET, "/jobs/:job_id/status.json", jobs_status_json, false},
    {WEB_METHOD_GET, "/jobs/:job_id/partial", jobs_partial, false},
    {WEB_METHOD_GET, "/jobs/:job_id/stream", job_streams_show, false},
    {WEB_METHOD_GET, "/jobs/:job_id/download", jobs_download, false},
    {WEB_METHOD_GET, "/jobs/:job_id/errors.xlsx", jobs_errors_report, false},
    {WEB_METHOD_POST, "/jobs/:job_id/cancel", jobs_cancel, false},
    {WEB_METHOD_POST, "/jobs/:job_id/retry", jobs_retry, false},
    {WEB_METHOD_GET, "/api/v1/import_templates", api_import_templates_index, false},
    {WEB_METHOD_POST, "/api/v1/import_templates", api_import_templates_create, false},
    {WEB_METHOD_GET, "/api/v1/import_templates/:tid", api_import_templates_show, false},
    {WEB_METHOD_POST, "/api/v1/import_templates/:tid/imports", api_imports_create, true},
    {WEB_METHOD_POST, "/api/v1/import_templates/:tid/exports", api_exports_create, false},
    {WEB_METHOD_GET, "/api/v1/jobs", api_jobs_index, false},
    {WEB_METHOD_GET, "/api/v1/jobs/:job_id", api_jobs_show, false},
    {WEB_METHOD_POST, "/api/v1/jobs/:job_id/cancel", api_jobs_cancel, false},
    {WEB_METHOD_POST, "/api/v1/jobs/:job_id/retry", api_jobs_retry, false},
    {WEB_METHOD_GET, "/metrics", metrics_show, false},
    {WEB_METHOD_GET, "/assets/:file", assets_show, false},
    {WEB_METHOD_GET, "/assets/controllers/:file", assets_show_controller, false},
};

struct segments {
    char text[ROUTER_MAX_TARGET + 1]; /* the decoded segments, each NUL-terminated */
    const char *seg[MAX_SEGMENTS];
    size_t count;
};

static unsigned method_bit(const char *method)
{
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
        return WEB_METHOD_GET;
    if (!strcmp(method, "POST"))
        return WEB_METHOD_POST;
    if (!strcmp(method, "PUT"))
        return WEB_METHOD_PUT;
    if (!strcmp(method, "PATCH"))
        return WEB_METHOD_PATCH;
    if (!strcmp(method, "DELETE"))
        return WEB_METHOD_DELETE;
    return 0; /* unknown methods match no route, which makes a known path answer 405 */
}

/* Splits the path part of `target` at '/' and decodes each segment. Returns 0, or the
 * status to answer with (400, or 404 when there are more segments than any route has). */
static int split_path(struct segments *s, const char *target, const char **problem)
{
    size_t path_len = strcspn(target, "?#");
    size_t out = 0;
    s->count = 0;
    size_t i = 1; /* skip the leading '/' */
    for (;;) {
        size_t end = i;
        while (end < path_len && target[end] != '/')
            end++;
        if (s->count == MAX_SEGMENTS)
            return 404;
        long n = url_decode(s->text + out, target + i, end - i, false);
        if (n < 0) {
            *problem = "The address holds a malformed %-escape; check the link.";
            return 400;
        }
        const char *seg = s->text + out;
        if (memchr(seg, '/', (size_t)n)) {
            *problem = "The address holds an encoded \"/\", which no page here uses.";
            return 400;
        }
        if (!strcmp(seg, ".") || !strcmp(seg, "..")) {
            *problem = "The address holds a \".\" or \"..\" segment, which no page here uses.";
            return 400;
        }
        s->seg[s->count++] = seg;
        out += (size_t)n + 1;
        if (end >= path_len)
            break;
        i = end + 1;
    }
    /* "/" is one empty segment; make it zero so it matches the pattern "/" */
    if (s->count == 1 && s->seg[0][0] == '\0')
        s->count = 0;
    return 0;
}

static bool all_digits(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

static bool plain_file_name(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 100 || v[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* True when the pattern's parameter name (not NUL-terminated there) is `literal`. */
static bool param_named(const char *name, size_t name_len, const char *literal)
{
    return strlen(literal) == name_len && !memcmp(name, literal, name_len);
}

/* Each parameter name carries its rule, so a handler never sees a value it must re-check
 * for shape (it still checks meaning, e.g. whether template 7 exists). */
static bool param_valid(const char *name, size_t name_len, const char *value)
{
    if (param_named(name, name_len, "tid"))
        return all_digits(value, 18);
    if (param_named(name, name_len, "job_id"))
        return job_id_valid(value);
    if (param_named(name, name_len, "file"))
        return plain_file_name(value);
    return value[0] != '\0' && strlen(value) < ROUTER_MAX_PARAM_LEN;
}

/* Compares one pattern with the decoded segments; fills params when it matches. */
static bool pattern_matches(const char *pattern, const struct segments *s, struct route_match *m)
{
    const char *p = pattern + 1;
    size_t idx = 0;
    m->nparams = 0;
    if (*p == '\0')
        return s->count == 0;
    for (;;) {
        size_t plen = strcspn(p, "/");
        if (idx >= s->count)
            return false;
        const char *seg = s->seg[idx];
        if (p[0] == ':') {
            if (!param_valid(p + 1, plen - 1, seg) || m->nparams == ROUTER_MAX_PARAMS)
                return false;
            struct route_param *param = &m->params[m->nparams++];
            param->name = p + 1;
            param->name_len = plen - 1;
            snprintf(param->value, sizeof param->value, "%s", seg);
        } else if (strlen(seg) != plen || memcmp(seg, p, plen) != 0) {
            return false;
        }
        idx++;
        if (p[plen] == '\0')
            break;
        p += plen + 1;
    }
    return idx == s->count;
}

static void format_allow(char *out, size_t size, unsigned methods)
{
    static const struct {
        unsigned bit;
        const char *names;
    } order[] = {{WEB_METHOD_GET, "GET, HEAD"},
                 {WEB_METHOD_POST, "POST"},
                 {WEB_METHOD_PUT, "PUT"},
                 {WEB_METHOD_PATCH, "PATCH"},
                 {WEB_METHOD_DELETE, "DELETE"}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(methods & order[i].bit))
            continue;
        int n = snprintf(out + len, size - len, "%s%s", len ? ", " : "", order[i].names);
        if (n < 0 || (size_t)n >= size - len)
            return;
        len += (size_t)n;
    }
}

int router_match_table(struct route_match *out, const struct route *table, size_t count,
                       const char *method, const char *target)
{
    static const char too_long[] = "The address is too long; links to this server are short.";
    memset(out, 0, sizeof *out);
    if (strlen(target) > ROUTER_MAX_TARGET) {
        out->problem = too_long;
        return 414;
    }
    if (target[0] != '/') {
        out->problem = "The request must name a path starting with \"/\".";
        return 400;
    }
    struct segments s;
    int status = split_path(&s, target, &out->problem);
    if (status)
        return status;
    unsigned want = method_bit(method);
    unsigned allowed = 0;
    for (size_t i = 0; i < count; i++) {
        struct route_match attempt;
        if (!pattern_matches(table[i].pattern, &s, &attempt))
            continue;
        if (table[i].method == want) {
            attempt.route = &table[i];
            attempt.allow[0] = '\0';
            attempt.problem = NULL;
            *out = attempt;
            return 200;
        }
        allowed |= table[i].method;
    }
    if (!allowed)
        return 404;
    format_allow(out->allow, sizeof out->allow, allowed);
    return 405;
}

int router_match(struct route_match *out, const char *method, const char *target)
{
    return router_match_table(out, routes, sizeof routes / sizeof routes[0], method, target);
}

const char *router_param(const struct route_match *match, const char *name)
{
    for (size_t i = 0; i < match->nparams; i++)
        if (param_named(match->params[i].name, match->params[i].name_len, name))
            return match->params[i].value;
    return NULL;
}
