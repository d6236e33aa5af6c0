/*
 * /api/v1/import_templates: templates as JSON for scripts.
 *
 *   GET  /api/v1/import_templates        {"import_templates": [{id, name, table, column_count,
 * url}]} GET  /api/v1/import_templates/:tid   {"id": N, "definition": <the template's canonical
 * JSON>} POST /api/v1/import_templates        body: the template JSON (Content-Type
 * application/json) → 201 {"id", "definition"}; 422 {"error", "problems"}
 */
#include <jansson.h>
#include <stdio.h>

#include "import/template.h"
#include "import/template_catalog.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/request.h"
#include "web/response.h"

void api_import_templates_index(struct web_request *req, struct web_response *res)
{
    struct template_summary *list = NULL;
    size_t n = 0;
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = store_acquire_main(req->app->store, &db, &err);
    if (rc == 0)
        rc = template_list(&list, &n, db, &err);
    store_release(req->app->store, db);
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; items && i < n; i++) {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/import_templates/%lld", (long long)list[i].id);
        json_array_append_new(items,
                              json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)list[i].id,
                                        "name", list[i].name, "table", list[i].table,
                                        "column_count", (json_int_t)list[i].ncolumns, "url", url));
    }
    template_summaries_free(list, n);
    json_t *body = items ? json_pack("{s:o}", "import_templates", items) : NULL;
    if (!body) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_json(res, 200, body);
    json_decref(body);
}

/* {"id": N, "definition": {...}} for a template. */
static void answer_template(struct web_request *req, struct web_response *res, int status,
                            const struct import_template *t)
{
    struct buf text = BUF_INIT;
    struct sd_error err = SD_ERROR_INIT;
    json_error_t jerr;
    json_t *definition = NULL;
    if (template_to_json(t, &text, &err) == 0)
        definition = json_loadb(text.data, text.len, 0, &jerr);
    buf_free(&text);
    json_t *body = definition
                       ? json_pack("{s:I, s:o}", "id", (json_int_t)t->id, "definition", definition)
                       : NULL;
    if (!body) {
        web_response_error(res, req, 500, "The template could not be written as JSON.");
        return;
    }
    web_response_json(res, status, body);
    json_decref(body);
}

void api_import_templates_show(struct web_request *req, struct web_response *res)
{
    struct import_template *t = job_support_template(req, res);
    if (!t)
        return;
    answer_template(req, res, 200, t);
    template_free(t);
}

void api_import_templates_create(struct web_request *req, struct web_response *res)
{
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct import_template *t = NULL;
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = store_acquire_main(req->app->store, &db, &err);
    if (rc == 0)
        rc = template_create(&t, db, buf_cstr(&req->body), req->body.len, &problems, &err);
    store_release(req->app->store, db);
    if (rc == SD_EINVALID || rc == SD_EEXISTS) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < problems.count; i++)
            json_array_append_new(list, json_string(problems.messages[i]));
        if (list && problems.count == 0)
            json_array_append_new(list, json_string(sd_error_message(&err)));
        json_t *body =
            list ? json_pack("{s:s, s:o}", "error", sd_error_message(&err), "problems", list)
                 : NULL;
        if (body)
            web_response_json(res, 422, body);
        else
            web_response_error(res, req, 500, "The server ran out of memory; try again.");
        json_decref(body);
    } else if (rc) {
        web_response_fail(res, req, rc, &err);
    } else {
        answer_template(req, res, 201, t);
    }
    template_problems_free(&problems);
    template_free(t);
}
