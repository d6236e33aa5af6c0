/*
 * The import templates pages: the list, one template's columns, and the form that creates a
 * template from pasted JSON. Parsing and storing are the import layer's (import/template.h);
 * this file only turns templates into view data and errors into status codes.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "store/store.h"
#include "web/handlers/handlers.h"
#include "web/request.h"
#include "web/response.h"

#define DEFINITION_FIELD "definition"

static const char example_definition[] =
    "{\n"
    "  \"name\": \"Customers\",\n"
    "  \"table\": \"customers\",\n"
    "  \"mode\": \"all_or_nothing\",\n"
    "  \"upsert_key\": [\"email\"],\n"
    "  \"columns\": [\n"
    "    {\"key\": \"email\", \"header\": \"Email\", \"aliases\": [\"E-mail\", \"Mail\"],\n"
    "     \"type\": \"email\", \"required\": true, \"unique\": true},\n"
    "    {\"key\": \"country\", \"header\": \"Country\", \"type\": \"enum\",\n"
    "     \"values\": [\"Germany\", \"France\"]},\n"
    "    {\"key\": \"signup\", \"header\": \"Signup Date\", \"type\": \"date\"},\n"
    "    {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0}\n"
    "  ]\n"
    "}\n";

/* "required, unique, min 0, one of Germany, France": the rules in the words people use. */
static int column_rules(struct buf *out, const struct template_column *c)
{
    int rc = 0;
#define RULE(...)                                                                                  \
    do {                                                                                           \
        if (!rc && out->len)                                                                       \
            rc = buf_puts(out, ", ");                                                              \
        if (!rc)                                                                                   \
            rc = buf_printf(out, __VA_ARGS__);                                                     \
    } while (0)
    if (c->required)
        RULE("required");
    if (c->unique)
        RULE("unique");
    if (c->has_min)
        RULE("min %.15g", c->min);
    if (c->has_max)
        RULE("max %.15g", c->max);
    if (c->max_length >= 0 && c->type == TEMPLATE_TYPE_STRING)
        RULE("at most %ld characters", c->max_length);
    if (c->pattern)
        RULE("matches %s", c->pattern);
    if (c->format)
        RULE("format %s", c->format);
    if (c->nvalues) {
        RULE("one of ");
        for (size_t i = 0; i < c->nvalues && !rc; i++)
            rc = buf_printf(out, "%s%s", i ? ", " : "", c->values[i]);
    }
#undef RULE
    return rc;
}

static int join(struct buf *out, char **items, size_t count)
{
    int rc = 0;
    for (size_t i = 0; i < count && !rc; i++)
        rc = buf_printf(out, "%s%s", i ? ", " : "", items[i]);
    return rc;
}

static json_t *column_json(const struct template_column *c)
{
    struct buf rules = BUF_INIT, aliases = BUF_INIT;
    json_t *col = NULL;
    if (column_rules(&rules, c) == 0 && join(&aliases, c->aliases, c->naliases) == 0)
        col = json_pack("{s:s,s:s,s:s,s:s,s:s}", "header", c->header, "key", c->key, "type",
                        template_type_name(c->type), "rules", buf_cstr(&rules), "aliases",
                        buf_cstr(&aliases));
    buf_free(&rules);
    buf_free(&aliases);
    return col;
}

static json_t *template_json(const struct import_template *t)
{
    char url[64];
    struct buf upsert = BUF_INIT;
    snprintf(url, sizeof url, "/import_templates/%lld", (long long)t->id);
    json_t *columns = json_array();
    json_t *doc = NULL;
    for (size_t i = 0; columns && i < t->ncolumns; i++) {
        if (json_array_append_new(columns, column_json(&t->columns[i])) != 0)
            goto done;
    }
    if (!columns || join(&upsert, t->upsert_key, t->nupsert_key) != 0)
        goto done;
    doc = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:O}", "id", (json_int_t)t->id, "name", t->name,
                    "table", t->table, "mode", template_mode_name(t->mode), "upsert_key",
                    buf_cstr(&upsert), "url", url, "column_count", (json_int_t)t->ncolumns,
                    "columns", columns);
done:
    json_decref(columns);
    buf_free(&upsert);
    return doc;
}

void import_templates_root(struct web_request *req, struct web_response *res)
{
    (void)req;
    web_response_redirect(res, "/import_templates");
}

/* The list shows name, table and column count only, so it reads summaries: no definition is
 * parsed and no pattern compiled, whatever the templates hold. */
void import_templates_index(struct web_request *req, struct web_response *res)
{
    struct sd_error err = SD_ERROR_INIT;
    struct store *store = req->app->store;
    struct template_summary *list = NULL;
    size_t count = 0;
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, &err);
    if (!rc) {
        rc = template_list(&list, &count, db, &err);
        store_release(store, db);
    }
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < count; i++) {
        char url[64];
        snprintf(url, sizeof url, "/import_templates/%lld", (long long)list[i].id);
        json_t *row = json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)list[i].id, "name",
                                list[i].name, "table", list[i].table, "url", url, "column_count",
                                (json_int_t)list[i].ncolumns);
        if (json_array_append_new(rows, row) != 0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    template_summaries_free(list, count);
    json_t *data = rows ? json_pack("{s:o,s:b}", "templates", rows, "any", count > 0) : NULL;
    if (!data) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_page(res, req, 200, "import_templates/index", "Import templates", data);
    json_decref(data);
}

void import_templates_show(struct web_request *req, struct web_response *res)
{
    import_templates_show_refusal(req, res, 200, NULL);
}

/* The template page; with `upload_error` the upload form says why the last file was sent
 * back. The page offers uploads up to the server's limit (the upload controller checks the
 * size before sending). */
void import_templates_show_refusal(struct web_request *req, struct web_response *res, int status,
                                   const char *upload_error)
{
    struct sd_error err = SD_ERROR_INIT;
    struct store *store = req->app->store;
    int64_t id = web_request_id_param(req, "tid");
    struct import_template *t = NULL;
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, &err);
    if (!rc) {
        rc = template_load(&t, db, id, &err);
        store_release(store, db);
    }
    if (rc == SD_ENOTFOUND) {
        char message[96];
        snprintf(message, sizeof message, "There is no template with id %lld.", (long long)id);
        web_response_error(res, req, 404, message);
        return;
    }
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return;
    }
    json_t *tj = template_json(t);
    json_t *data =
        tj ? json_pack("{s:o, s:I, s:s?}", "template", tj, "max_upload_bytes",
                       (json_int_t)req->app->max_body_bytes, "upload_error", upload_error)
           : NULL;
    if (!data) {
        template_free(t);
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_page(res, req, status, "import_templates/show", t->name, data);
    template_free(t);
    json_decref(data);
}

/* The 422 form shows at most this much of what was submitted (cut at a character boundary),
 * and says so: echoing a whole definition back made a 1 MiB post of quotes answer with
 * 2.1 MB of escaped HTML. */
#define DEFINITION_ECHO_MAX (64 * 1024)

/* The form, with `definition` in the box (its first DEFINITION_ECHO_MAX bytes) and
 * `problems` (may be NULL) listed above it. */
static void render_form(struct web_response *res, struct web_request *req, int status,
                        const char *definition, size_t len, char **problems, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        if (json_array_append_new(list, json_string(problems[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    size_t shown = len;
    if (shown > DEFINITION_ECHO_MAX) {
        shown = DEFINITION_ECHO_MAX;
        while (shown > 0 && ((unsigned char)definition[shown] & 0xc0) == 0x80)
            shown--; /* not inside a UTF-8 sequence (the form parser checked the text) */
    }
    char heading[64], cut[160] = "";
    snprintf(heading, sizeof heading, "%zu %s to fix", count, count == 1 ? "problem" : "problems");
    if (shown < len)
        snprintf(cut, sizeof cut,
                 "The definition you sent is %zu bytes long; only its first %zu bytes are "
                 "shown below.",
                 len, shown);
    json_t *data = list ? json_pack("{s:s%,s:o,s:b,s:s,s:s}", "definition", definition, shown,
                                    "problems", list, "any_problems", count > 0, "problem_heading",
                                    heading, "definition_cut", cut)
                        : NULL;
    if (!data) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_page(res, req, status, "import_templates/new", "New import template", data);
    json_decref(data);
}

/* A template that was not created: JSON clients get 422 {"error": "...", "problems": [...]}
 * (the README's promise), browsers the form again with every problem listed. */
static void refuse(struct web_response *res, struct web_request *req, const char *error,
                   const char *definition, size_t len, char **problems, size_t count)
{
    if (!web_request_wants_json(req)) {
        render_form(res, req, 422, definition, len, problems, count);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        if (json_array_append_new(list, json_string(problems[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *doc = list ? json_pack("{s:s,s:o}", "error", error, "problems", list) : NULL;
    if (!doc) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_json(res, 422, doc);
    json_decref(doc);
}

void import_templates_new(struct web_request *req, struct web_response *res)
{
    render_form(res, req, 200, example_definition, strlen(example_definition), NULL, 0);
}

void import_templates_create(struct web_request *req, struct web_response *res)
{
    struct sd_error err = SD_ERROR_INIT;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct store *store = req->app->store;
    size_t len = 0;
    const char *definition = web_request_form_value(req, DEFINITION_FIELD, &len);
    const char *trimmed = definition;
    size_t trimmed_len = len;
    if (definition)
        str_trim_span(&trimmed, &trimmed_len);
    if (!definition || trimmed_len == 0) {
        char *only[] = {"Paste the template's JSON into the box."};
        refuse(res, req, only[0], "", 0, only, 1);
        return;
    }
    struct import_template *t = NULL;
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, &err);
    if (!rc) {
        rc = template_create(&t, db, definition, len, &problems, &err);
        store_release(store, db);
    }
    if (rc == SD_EINVALID || rc == SD_EEXISTS) {
        char *single[1] = {err.message};
        if (problems.count)
            refuse(res, req, err.message, definition, len, problems.messages, problems.count);
        else
            refuse(res, req, err.message, definition, len, single, 1);
        template_problems_free(&problems);
        return;
    }
    template_problems_free(&problems);
    if (rc) {
        web_response_fail(res, req, rc, &err);
        return;
    }
    char location[64];
    snprintf(location, sizeof location, "/import_templates/%lld", (long long)t->id);
    log_kv(SD_LOG_INFO, "template created", "id", LOG_NUM(t->id), "table", t->table, NULL);
    template_free(t);
    web_response_redirect(res, location);
}
