/*
 * DESIGN
 * ------
 * template_parse turns the JSON of DESIGN.md's "Template file" into a struct import_template
 * in three passes, none of which stops at the first mistake:
 *
 *   1. jansson reads the document (duplicate object keys are refused; its line and column go
 *      into the message when the JSON itself is broken);
 *   2. each field is checked where it stands: the top-level fields here, each column in
 *      template_column.c (type, rules that fit the type, date format, pattern);
 *   3. rules that span columns: what the whole template may cost (its patterns together
 *      stay under TEMPLATE_PATTERNS_WEIGHT_MAX, so a thousand columns cannot multiply a
 *      per-column limit into seconds and gigabytes; here), no two columns share a key and no
 *      header or alias could match two columns (template_cross.c), and upsert_key names
 *      existing, required columns (here, once the columns are known).
 *
 * Every failed check adds one sentence to the problem list (template_problems.c) that says
 * where ("columns[2] (\"Amount\"): ...") and what to do, so the CLI and the web form can
 * show them all. A template is returned only when there is no problem at all; half-valid
 * templates never leave this file. This file is the driver: it calls the helpers, none of
 * them calls back into it (template_internal.h draws the graph).
 */
#include "import/template.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/template_internal.h"

void template_free(struct import_template *tmpl)
{
    if (!tmpl)
        return;
    free(tmpl->name);
    free(tmpl->table);
    for (size_t i = 0; i < tmpl->nupsert_key; i++)
        free(tmpl->upsert_key[i]);
    free(tmpl->upsert_key);
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        template_column_clear(&tmpl->columns[i]);
    free(tmpl->columns);
    free(tmpl);
}

/* ---- top-level fields ---- */

static void parse_table(struct template_parse_ctx *ctx, struct import_template *t, json_t *v)
{
    if (!v) {
        template_problem(ctx, "table is missing: give the name of the database table the rows "
                              "go to, e.g. \"customers\"");
        return;
    }
    if (!json_is_string(v)) {
        template_problem(ctx, "table must be a string such as \"customers\"");
        return;
    }
    const char *name = json_string_value(v);
    if (!data_table_identifier_shape_ok(name)) {
        template_problem(ctx,
                         "table \"%s\" is not a valid table name: use a lowercase letter, "
                         "then up to 62 lowercase letters, digits or underscores",
                         name);
        return;
    }
    if (data_table_is_keyword(name)) {
        template_problem(ctx, "table \"%s\" is an SQL keyword; choose another name", name);
        return;
    }
    t->table = str_dup(name);
    if (!t->table)
        ctx->nomem = true;
}

static void parse_mode(struct template_parse_ctx *ctx, struct import_template *t, json_t *v)
{
    t->mode = TEMPLATE_MODE_ALL_OR_NOTHING;
    if (!v)
        return;
    if (json_is_string(v) && !strcmp(json_string_value(v), "all_or_nothing"))
        return;
    if (json_is_string(v) && !strcmp(json_string_value(v), "partial")) {
        t->mode = TEMPLATE_MODE_PARTIAL;
        return;
    }
    if (json_is_string(v))
        template_problem(ctx,
                         "mode \"%s\" is unknown; use \"all_or_nothing\" (any invalid row "
                         "stops the import) or \"partial\" (valid rows are written)",
                         json_string_value(v));
    else
        template_problem(ctx, "mode must be \"all_or_nothing\" or \"partial\"");
}

static void parse_columns(struct template_parse_ctx *ctx, struct import_template *t, json_t *v)
{
    if (!v) {
        template_problem(ctx, "columns is missing: list the columns the sheet must have");
        return;
    }
    if (!json_is_array(v)) {
        template_problem(ctx, "columns must be a list of column definitions");
        return;
    }
    size_t n = json_array_size(v);
    if (n == 0) {
        template_problem(ctx, "columns is empty; a template needs at least one column");
        return;
    }
    if (n > TEMPLATE_COLUMNS_MAX) {
        template_problem(ctx, "columns has %zu entries; a template may have at most %d", n,
                         TEMPLATE_COLUMNS_MAX);
        return;
    }
    t->columns = calloc(n, sizeof *t->columns);
    if (!t->columns) {
        ctx->nomem = true;
        return;
    }
    t->ncolumns = n;
    for (size_t i = 0; i < n && !ctx->nomem; i++) {
        json_t *obj = json_array_get(v, i);
        t->columns[i].max_length = -1;
        if (!json_is_object(obj)) {
            template_problem(ctx,
                             "columns[%zu] must be an object such as {\"key\": \"email\", "
                             "\"header\": \"Email\", \"type\": \"email\"}",
                             i);
            continue;
        }
        template_column_parse(ctx, &t->columns[i], obj, i);
    }
    if (ctx->pattern_weight > TEMPLATE_PATTERNS_WEIGHT_MAX) {
        template_problem(ctx,
                         "the patterns of all columns together expand to %zu elements; a "
                         "template's patterns may expand to at most %d together (each at most "
                         "%d): use fewer or simpler patterns",
                         ctx->pattern_weight, TEMPLATE_PATTERNS_WEIGHT_MAX,
                         TEMPLATE_PATTERN_WEIGHT_MAX);
        return;
    }
    for (size_t i = 0; ctx->check_patterns && i < n && !ctx->nomem; i++)
        template_column_check_pattern(ctx, &t->columns[i], i);
}

/* upsert_key names existing, required columns, each once; read after the columns so it can
 * look them up. */
static void parse_upsert_key(struct template_parse_ctx *ctx, struct import_template *t, json_t *v)
{
    if (!v)
        return;
    if (!json_is_array(v)) {
        template_problem(ctx, "upsert_key must be a list of column keys, e.g. [\"email\"]");
        return;
    }
    size_t n = json_array_size(v);
    if (n == 0)
        return; /* the same as leaving it out: plain inserts */
    /* Each entry is looked up among the columns, so an unbounded list would cost entries x
     * columns (350,000 entries against 1,000 columns took 1.6 s): refused whole. */
    if (n > TEMPLATE_COLUMNS_MAX) {
        template_problem(ctx,
                         "upsert_key has %zu entries; it may name at most %d columns, each "
                         "once",
                         n, TEMPLATE_COLUMNS_MAX);
        return;
    }
    t->upsert_key = calloc(n, sizeof *t->upsert_key);
    if (!t->upsert_key) {
        ctx->nomem = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item)) {
            template_problem(ctx, "upsert_key[%zu] must be a string: the key of a column", i);
            continue;
        }
        const char *key = json_string_value(item);
        bool dup = false;
        for (size_t k = 0; k < t->nupsert_key; k++)
            dup = dup || !strcmp(t->upsert_key[k], key);
        if (dup) {
            template_problem(ctx, "upsert_key names \"%s\" twice", key);
            continue;
        }
        size_t index = 0;
        while (index < t->ncolumns &&
               !(t->columns[index].key && !strcmp(t->columns[index].key, key)))
            index++;
        if (index == t->ncolumns) {
            /* A key of the wrong shape is named as such: no column can have it, and the
             * column it was meant for has had its own key reported already. */
            if (data_table_identifier_shape_ok(key) || t->ncolumns == 0)
                template_problem(ctx, "upsert_key[%zu] \"%s\" is not the key of any column", i,
                                 key);
            else
                template_problem(ctx, "upsert_key[%zu] \"%s\" is not a valid column key", i, key);
            continue;
        }
        const struct template_column *col = &t->columns[index];
        if (!col->required) {
            char where[TEMPLATE_WHERE_MAX];
            template_column_where(col, index, where, sizeof where);
            template_problem(ctx,
                             "%sis in upsert_key, so it must be \"required\": true (a row "
                             "without its key could never be matched to update)",
                             where);
        }
        t->upsert_key[t->nupsert_key] = str_dup(key);
        if (!t->upsert_key[t->nupsert_key]) {
            ctx->nomem = true;
            return;
        }
        t->nupsert_key++;
    }
}

static void parse_top(struct template_parse_ctx *ctx, struct import_template *t, json_t *root)
{
    const char *field;
    json_t *value;
    json_object_foreach(root, field, value)
    {
        if (!strcmp(field, "name") || !strcmp(field, "table") || !strcmp(field, "mode") ||
            !strcmp(field, "upsert_key") || !strcmp(field, "columns"))
            continue;
        if (!strcmp(field, "id")) {
            /* `sheetd template show` prints the id; accept it back, but ids are the store's
             * to give, so the value is ignored. */
            if (!json_is_integer(value))
                template_problem(ctx, "id must be a whole number (it is ignored: the store "
                                      "gives each template its id)");
            continue;
        }
        template_problem(ctx,
                         "unknown field \"%s\"; a template has name, table, mode, "
                         "upsert_key and columns",
                         field);
    }
    json_t *name = json_object_get(root, "name");
    if (!name)
        template_problem(ctx, "name is missing: give the template a name people will "
                              "recognise, e.g. \"Customers\"");
    else
        t->name = template_text_field(ctx, name, "", "name", TEMPLATE_NAME_MAX);
    parse_table(ctx, t, json_object_get(root, "table"));
    parse_mode(ctx, t, json_object_get(root, "mode"));
    parse_columns(ctx, t, json_object_get(root, "columns"));
    if (ctx->nomem)
        return;
    template_check_columns(ctx, t);
    if (ctx->nomem)
        return;
    parse_upsert_key(ctx, t, json_object_get(root, "upsert_key"));
}

static int parse_document(struct import_template **out, const char *json, size_t len,
                          size_t max_bytes, bool check_patterns, struct template_problems *problems,
                          struct sd_error *err);

int template_parse(struct import_template **out, const char *json, size_t len,
                   struct template_problems *problems, struct sd_error *err)
{
    return parse_document(out, json, len, TEMPLATE_JSON_MAX, true, problems, err);
}

int template_parse_sized(struct import_template **out, const char *json, size_t len,
                         size_t max_bytes, struct template_problems *problems, struct sd_error *err)
{
    return parse_document(out, json, len, max_bytes, false, problems, err);
}

static int parse_document(struct import_template **out, const char *json, size_t len,
                          size_t max_bytes, bool check_patterns, struct template_problems *problems,
                          struct sd_error *err)
{
    assert(out && (json || len == 0));
    *out = NULL;
    if (problems)
        *problems = (struct template_problems)TEMPLATE_PROBLEMS_INIT;
    struct template_parse_ctx ctx = {.problems = TEMPLATE_PROBLEMS_INIT,
                                     .check_patterns = check_patterns};
    struct import_template *t = NULL;
    json_t *root = NULL;

    if (len > max_bytes) {
        template_problem(&ctx, "the template is %zu bytes; a template may be at most %zu bytes",
                         len, max_bytes);
        goto fail;
    }
    json_error_t jerr;
    root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line > 0)
            template_problem(&ctx, "the template is not valid JSON: %s (line %d, column %d)",
                             jerr.text, jerr.line, jerr.column);
        else
            template_problem(&ctx, "the template is not valid JSON: %s", jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        template_problem(&ctx, "the template must be a JSON object such as {\"name\": "
                               "\"Customers\", \"table\": \"customers\", \"columns\": [...]}");
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        ctx.nomem = true;
        goto fail;
    }
    parse_top(&ctx, t, root);
    if (ctx.nomem || ctx.total > 0)
        goto fail;
    json_decref(root);
    *out = t;
    return 0;

fail:
    json_decref(root);
    template_free(t);
    return template_problems_finish(&ctx, problems, err);
}
