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
 *   3. rules that span columns (template_cross.c): no two columns share a key, no header or
 *      alias could match two columns, and upsert_key names required columns; and what the
 *      whole template may cost: its patterns together stay under
 *      TEMPLATE_PATTERNS_WEIGHT_MAX, so a thousand columns cannot multiply a per-column
 *      limit into seconds and gigabytes.
 *
 * Every failed check adds one sentence that says where ("columns[2] (\"Amount\"): ...") and
 * what to do, so the CLI and the web form can show them all. A template is returned only
 * when there is no problem at all; half-valid templates never leave this file.
 */
#include "import/template.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/template_internal.h"

void template_problems_free(struct template_problems *problems)
{
    if (!problems)
        return;
    for (size_t i = 0; i < problems->count; i++)
        free(problems->messages[i]);
    free(problems->messages);
    problems->messages = NULL;
    problems->count = 0;
}

static void problem_add(struct template_parse_ctx *ctx, char *message)
{
    struct template_problems *p = &ctx->problems;
    char **grown = realloc(p->messages, (p->count + 1) * sizeof *grown);
    if (!grown) {
        free(message);
        ctx->nomem = true;
        return;
    }
    p->messages = grown;
    p->messages[p->count++] = message;
}

void template_problem(struct template_parse_ctx *ctx, const char *fmt, ...)
{
    ctx->total++;
    if (ctx->nomem || ctx->problems.count >= TEMPLATE_PROBLEMS_KEPT)
        return;
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *message = rc == 0 ? buf_detach(&b) : NULL;
    buf_free(&b);
    if (!message) {
        ctx->nomem = true;
        return;
    }
    problem_add(ctx, message);
}

void template_column_where(const struct template_column *col, size_t index, char *out, size_t size)
{
    if (col->header)
        snprintf(out, size, "columns[%zu] (\"%s\"): ", index, col->header);
    else
        snprintf(out, size, "columns[%zu]: ", index);
}

char *template_text_field(struct template_parse_ctx *ctx, json_t *value, const char *where,
                          const char *what, size_t max)
{
    if (!json_is_string(value)) {
        template_problem(ctx, "%s%s must be a string", where, what);
        return NULL;
    }
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    str_trim_span(&s, &len);
    if (len == 0) {
        template_problem(ctx, "%s%s is empty", where, what);
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            template_problem(ctx,
                             "%s%s contains a control character such as a tab or a "
                             "line break; use plain text",
                             where, what);
            return NULL;
        }
    }
    if (str_utf8_length(s, len) > max) {
        template_problem(ctx, "%s%s is longer than %zu characters", where, what, max);
        return NULL;
    }
    char *copy = str_ndup(s, len);
    if (!copy)
        ctx->nomem = true;
    return copy;
}

int template_header_normalize(struct buf *out, const char *header, size_t len)
{
    buf_clear(out);
    if (buf_grow(out, len + 1) != 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)header[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '_' ||
            c == '-')
            continue;
        if (c == 0xc2 && i + 1 < len && (unsigned char)header[i + 1] == 0xa0) {
            i++; /* U+00A0 NO-BREAK SPACE, which spreadsheets love */
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        out->data[out->len++] = (char)c;
    }
    out->data[out->len] = '\0';
    return 0;
}

static const char *const type_names[] = {
    [TEMPLATE_TYPE_STRING] = "string",     [TEMPLATE_TYPE_INTEGER] = "integer",
    [TEMPLATE_TYPE_DECIMAL] = "decimal",   [TEMPLATE_TYPE_DATE] = "date",
    [TEMPLATE_TYPE_DATETIME] = "datetime", [TEMPLATE_TYPE_BOOLEAN] = "boolean",
    [TEMPLATE_TYPE_EMAIL] = "email",       [TEMPLATE_TYPE_ENUM] = "enum",
};

const char *template_type_name(enum template_type type)
{
    if (type < TEMPLATE_TYPE_STRING || type > TEMPLATE_TYPE_ENUM)
        return "unknown";
    return type_names[type];
}

const char *template_mode_name(enum template_mode mode)
{
    return mode == TEMPLATE_MODE_PARTIAL ? "partial" : "all_or_nothing";
}

enum data_column_type template_type_column(enum template_type type)
{
    switch (type) {
    case TEMPLATE_TYPE_INTEGER:
        return DATA_COLUMN_INTEGER;
    case TEMPLATE_TYPE_DECIMAL:
        return DATA_COLUMN_DECIMAL;
    case TEMPLATE_TYPE_DATE:
        return DATA_COLUMN_DATE;
    case TEMPLATE_TYPE_DATETIME:
        return DATA_COLUMN_DATETIME;
    case TEMPLATE_TYPE_BOOLEAN:
        return DATA_COLUMN_BOOLEAN;
    case TEMPLATE_TYPE_STRING:
    case TEMPLATE_TYPE_EMAIL:
    case TEMPLATE_TYPE_ENUM:
        break;
    }
    return DATA_COLUMN_TEXT;
}

struct data_column *template_data_columns(const struct import_template *tmpl)
{
    struct data_column *cols = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *cols);
    if (!cols)
        return NULL;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        cols[i].name = tmpl->columns[i].key;
        cols[i].type = template_type_column(tmpl->columns[i].type);
    }
    return cols;
}

const struct template_column *template_find_column(const struct import_template *tmpl,
                                                   const char *key)
{
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        if (tmpl->columns[i].key && !strcmp(tmpl->columns[i].key, key))
            return &tmpl->columns[i];
    return NULL;
}

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
    template_check_columns(ctx, t, json_object_get(root, "upsert_key"));
}

/* Hands the problems to the caller (or frees them) and fills err with the first sentence, or
 * a count followed by as many sentences as fit. */
static int finish_problems(struct template_parse_ctx *ctx, struct template_problems *problems,
                           struct sd_error *err)
{
    if (!ctx->nomem && ctx->total > ctx->problems.count) {
        size_t more = ctx->total - ctx->problems.count;
        struct buf b = BUF_INIT;
        char *summary = NULL;
        if (buf_printf(&b, "... and %zu more problem%s", more, more == 1 ? "" : "s") == 0)
            summary = buf_detach(&b);
        buf_free(&b);
        if (summary)
            problem_add(ctx, summary);
        else
            ctx->nomem = true;
    }
    if (ctx->nomem) {
        template_problems_free(&ctx->problems);
        return sd_error_nomem(err);
    }
    if (ctx->problems.count == 1) {
        sd_error_set(err, SD_EINVALID, "%s", ctx->problems.messages[0]);
    } else {
        struct buf b = BUF_INIT;
        int rc = buf_printf(&b, "the template has %zu problems: ", ctx->problems.count);
        for (size_t i = 0; rc == 0 && i < ctx->problems.count && b.len < SD_ERROR_MESSAGE_MAX; i++)
            rc = buf_printf(&b, "%s%s", i ? "; " : "", ctx->problems.messages[i]);
        sd_error_set(err, SD_EINVALID, "%s", rc == 0 ? buf_cstr(&b) : "the template has problems");
        buf_free(&b);
    }
    if (problems)
        *problems = ctx->problems;
    else
        template_problems_free(&ctx->problems);
    return SD_EINVALID;
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
    return finish_problems(&ctx, problems, err);
}
