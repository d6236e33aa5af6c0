/* libFuzzer target for the router: the first input byte picks a method, the rest is the
 * request-target. Each input is matched against the real route table and against a table
 * of our own that uses every parameter rule, and the answers are checked against router.h's
 * promises: one of 200/400/404/405/414, 414 exactly when the target is too long, a problem
 * sentence with 400 and 414, an Allow list with 405, and on 200 a route of the asked method
 * whose parameters obey their rules and never hold a "/". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/job_id.h"
#include "web/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                           "PATCH", "DELETE", "OPTIONS", "get"};

/* Handlers are never called here, so the table needs none. */
static const struct route fuzz_table[] = {
    {WEB_METHOD_GET, "/", NULL, false},
    {WEB_METHOD_GET, "/import_templates/:tid", NULL, false},
    {WEB_METHOD_POST, "/import_templates/:tid/import_file", NULL, false},
    {WEB_METHOD_GET, "/import_templates/:tid/jobs/:job_id", NULL, false},
    {WEB_METHOD_DELETE, "/import_templates/:tid/jobs/:job_id", NULL, false},
    {WEB_METHOD_GET, "/jobs/:job_id/status.json", NULL, false},
    {WEB_METHOD_GET, "/assets/:file", NULL, false},
    {WEB_METHOD_PUT, "/x/:a/:b/:c/:d", NULL, false},
    {WEB_METHOD_PATCH, "/x/:a/:b/:c/:d", NULL, false},
};

static unsigned fuzz_method_bit(const char *m)
{
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
        return WEB_METHOD_GET;
    if (!strcmp(m, "POST"))
        return WEB_METHOD_POST;
    if (!strcmp(m, "PUT"))
        return WEB_METHOD_PUT;
    if (!strcmp(m, "PATCH"))
        return WEB_METHOD_PATCH;
    if (!strcmp(m, "DELETE"))
        return WEB_METHOD_DELETE;
    return 0;
}

static int fuzz_param_ok(const struct route_param *p)
{
    size_t n = strnlen(p->value, sizeof p->value);
    if (n == 0 || n == sizeof p->value || memchr(p->value, '/', n))
        return 0;
    if (p->name_len == 3 && !memcmp(p->name, "tid", 3))
        return strspn(p->value, "0123456789") == n;
    if (p->name_len == 6 && !memcmp(p->name, "job_id", 6))
        return job_id_valid(p->value);
    if (p->name_len == 4 && !memcmp(p->name, "file", 4))
        return p->value[0] != '.';
    return 1;
}

static void fuzz_check(int status, const struct route_match *m, const char *method,
                       const char *target)
{
    if (strlen(target) > ROUTER_MAX_TARGET)
        status == 414 ? (void)0 : abort();
    switch (status) {
    case 200:
        if (!m->route || m->route->method != fuzz_method_bit(method) ||
            m->nparams > ROUTER_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < m->nparams; i++) {
            if (!fuzz_param_ok(&m->params[i]))
                abort();
            char name[64];
            size_t len = m->params[i].name_len < sizeof name ? m->params[i].name_len : 0;
            memcpy(name, m->params[i].name, len);
            name[len] = '\0';
            if (len && router_param(m, name) == NULL)
                abort();
        }
        break;
    case 400:
    case 414:
        if (!m->problem || m->route)
            abort();
        break;
    case 404:
        if (m->route)
            abort();
        break;
    case 405:
        if (m->route || m->allow[0] == '\0' || !memchr(m->allow, '\0', sizeof m->allow))
            abort();
        break;
    default:
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *method = fuzz_methods[data[0] % (sizeof fuzz_methods / sizeof *fuzz_methods)];
    char *target = malloc(size);
    if (!target)
        return 0;
    memcpy(target, data + 1, size - 1);
    target[size - 1] = '\0';

    struct route_match m, again;
    int status = router_match(&m, method, target);
    fuzz_check(status, &m, method, target);
    if (router_match(&again, method, target) != status)
        abort(); /* a pure function answers the same twice */

    status =
        router_match_table(&m, fuzz_table, sizeof fuzz_table / sizeof *fuzz_table, method, target);
    fuzz_check(status, &m, method, target);
    free(target);
    return 0;
}
