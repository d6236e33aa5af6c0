#include "import/import_result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

struct import_result *import_result_new(void)
{
    return calloc(1, sizeof(struct import_result));
}

void import_result_free(struct import_result *res)
{
    if (!res)
        return;
    free(res->message);
    for (size_t i = 0; i < res->nignored; i++)
        free(res->ignored_columns[i]);
    free(res->ignored_columns);
    for (size_t i = 0; i < res->nerrors; i++) {
        free(res->errors[i].column);
        free(res->errors[i].value);
        free(res->errors[i].message);
    }
    free(res->errors);
    free(res);
}

bool import_result_success(const struct import_result *res)
{
    return res && res->success;
}

/* Cuts a value for display at a UTF-8 character boundary, marking the cut with "...": a
 * 30,000-character cell must not make every status document 30 KB. */
static char *value_copy(const char *value, size_t len)
{
    if (len <= IMPORT_RESULT_VALUE_MAX)
        return str_ndup(value, len);
    size_t cut = IMPORT_RESULT_VALUE_MAX;
    while (cut > 0 && ((unsigned char)value[cut] & 0xC0) == 0x80)
        cut--;
    char *out = malloc(cut + 4);
    if (!out)
        return NULL;
    memcpy(out, value, cut);
    memcpy(out + cut, "...", 4);
    return out;
}

int import_result_add_error(struct import_result *res, uint32_t row, const char *column,
                            const char *value, size_t value_len, const char *message)
{
    if (res->nerrors < IMPORT_RESULT_MAX_ERRORS) {
        if (!res->errors) {
            res->errors = calloc(IMPORT_RESULT_MAX_ERRORS, sizeof *res->errors);
            if (!res->errors)
                return SD_ENOMEM;
        }
        struct import_error *e = &res->errors[res->nerrors];
        e->row = row;
        e->column = str_dup(column ? column : "");
        e->value = value_copy(value ? value : "", value ? value_len : 0);
        e->message = str_dup(message);
        if (!e->column || !e->value || !e->message) {
            free(e->column);
            free(e->value);
            free(e->message);
            memset(e, 0, sizeof *e);
            return SD_ENOMEM;
        }
        res->nerrors++;
    }
    res->error_count++;
    return 0;
}

int import_result_add_ignored(struct import_result *res, const char *header)
{
    char **grown = realloc(res->ignored_columns, (res->nignored + 1) * sizeof *grown);
    if (!grown)
        return SD_ENOMEM;
    res->ignored_columns = grown;
    if (!(grown[res->nignored] = str_dup(header)))
        return SD_ENOMEM;
    res->nignored++;
    return 0;
}

int import_result_set_message(struct import_result *res, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        buf_free(&b);
        return SD_ENOMEM;
    }
    char *msg = buf_detach(&b);
    if (!msg)
        return SD_ENOMEM;
    free(res->message);
    res->message = msg;
    return 0;
}

char *import_format_count(char out[32], uint64_t n)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

static const char *rows_word(uint64_t n)
{
    return n == 1 ? "row" : "rows";
}

int import_result_summarize(struct import_result *res)
{
    char a[32], b[32], c[32];
    import_format_count(a, res->imported);
    import_format_count(b, res->updated);
    import_format_count(c, res->failed);
    if (!res->success)
        return import_result_set_message(res, "Nothing was imported: %s %s failed validation", c,
                                         rows_word(res->failed));
    struct buf m = BUF_INIT;
    int rc = buf_printf(&m, "%s %s %s", res->dry_run ? "Dry run: would import" : "Imported", a,
                        rows_word(res->imported));
    if (rc == 0 && res->updated)
        rc = buf_printf(&m, "; %s %s %s", res->dry_run ? "would update" : "updated", b,
                        rows_word(res->updated));
    if (rc == 0 && res->failed)
        rc = buf_printf(&m, "; %s %s failed", c, rows_word(res->failed));
    if (rc == 0 && res->dry_run)
        rc = buf_puts(&m, "; nothing was written");
    if (rc == 0)
        rc = import_result_set_message(res, "%s", buf_cstr(&m));
    buf_free(&m);
    return rc < 0 ? SD_ENOMEM : 0;
}

int import_error_format_cell(struct buf *out, const char *column, const char *value,
                             const char *message)
{
    const char *col = column && *column ? column : NULL;
    if (value && *value) {
        if (col)
            return buf_printf(out, "%s: \"%s\" %s", col, value, message);
        return buf_printf(out, "\"%s\" %s", value, message);
    }
    if (col)
        return buf_printf(out, "%s %s", col, message);
    return buf_puts(out, message);
}

int import_error_format(const struct import_error *e, struct buf *out)
{
    bool has_column = e->column && *e->column;
    if (buf_printf(out, has_column ? "Row %u, " : "Row %u: ", e->row) < 0)
        return SD_ENOMEM;
    return import_error_format_cell(out, e->column, e->value, e->message);
}

static json_t *result_object(const struct import_result *res)
{
    json_t *ignored = json_array();
    if (!ignored)
        return NULL;
    for (size_t i = 0; i < res->nignored; i++) {
        if (json_array_append_new(ignored, json_string(res->ignored_columns[i])) < 0) {
            json_decref(ignored);
            return NULL;
        }
    }
    return json_pack("{s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I}", "success",
                     res->success, "dry_run", res->dry_run, "message",
                     res->message ? res->message : "", "rows_read", (json_int_t)res->rows_read,
                     "imported", (json_int_t)res->imported, "updated", (json_int_t)res->updated,
                     "failed", (json_int_t)res->failed, "skipped", (json_int_t)res->skipped,
                     "ignored_columns", ignored, "error_count", (json_int_t)res->error_count,
                     "duration_ms", (json_int_t)res->duration_ms);
}

static json_t *errors_array(const struct import_result *res)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < res->nerrors; i++) {
        const struct import_error *e = &res->errors[i];
        json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "row", (json_int_t)e->row, "column",
                              e->column, "value", e->value, "message", e->message);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int import_result_to_json(json_t **result_out, json_t **errors_out, const struct import_result *res,
                          struct sd_error *err)
{
    json_t *r = NULL, *e = NULL;
    if (result_out && !(r = result_object(res)))
        goto nomem;
    if (errors_out && !(e = errors_array(res)))
        goto nomem;
    if (result_out)
        *result_out = r;
    if (errors_out)
        *errors_out = e;
    return 0;
nomem:
    json_decref(r);
    return sd_error_nomem(err);
}
