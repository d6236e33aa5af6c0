/*
 * The problem list of a template being parsed: every check that fails adds one sentence
 * here, and template_problems_finish hands them over at the end. A leaf: the parser's files
 * (template.c, template_column.c, template_cross.c) call into it, it calls none of them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "import/template.h"
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

/* Takes ownership of message: kept, or freed and nomem set. */
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

void template_column_name(const struct template_column *col, size_t index, char *out, size_t size)
{
    if (col->header)
        snprintf(out, size, "columns[%zu] (\"%s\")", index, col->header);
    else
        snprintf(out, size, "columns[%zu]", index);
}

void template_column_where(const struct template_column *col, size_t index, char *out, size_t size)
{
    char name[TEMPLATE_WHERE_MAX];
    template_column_name(col, index, name, sizeof name);
    snprintf(out, size, "%s: ", name);
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

int template_problems_finish(struct template_parse_ctx *ctx, struct template_problems *problems,
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
