/*
 * The blank template workbook: the template's headers and, under each, the data validation
 * Excel can enforce while people type (a dropdown for enums and booleans, dates, whole
 * numbers and numbers within the column's range, text length), with the column's rules
 * spelled out as the input message shown when a cell is selected. Rules Excel cannot check
 * (a pattern, uniqueness) still appear in that message, so people learn them before the
 * import does. The message belongs to a validation, so a column with nothing Excel can enforce
 * (an email column, text without max_length) gets neither.
 */
#include "import/blank_template.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/number.h"
#include "base/str.h"
#include "sheet/xlsx_writer.h"

static const char *const bool_items[] = {"TRUE", "FALSE"};

/* "Required. A whole number from 1 to 100. Unique in the file." The appends are checked once,
 * at the end (a buffer's failure is sticky). */
static int describe_column(const struct template_column *col, struct buf *out)
{
    char lo[32], hi[32];
    if (col->required)
        buf_puts(out, "Required. ");
    switch (col->type) {
    case TEMPLATE_TYPE_INTEGER:
    case TEMPLATE_TYPE_DECIMAL:
        buf_puts(out, col->type == TEMPLATE_TYPE_INTEGER ? "A whole number" : "A number");
        number_format(col->min, lo);
        number_format(col->max, hi);
        if (col->has_min && col->has_max)
            buf_printf(out, " from %s to %s", lo, hi);
        else if (col->has_min)
            buf_printf(out, " of at least %s", lo);
        else if (col->has_max)
            buf_printf(out, " of at most %s", hi);
        break;
    case TEMPLATE_TYPE_DATE:
        buf_printf(out, "A date (%s)", col->format ? col->format : "YYYY-MM-DD");
        break;
    case TEMPLATE_TYPE_DATETIME:
        buf_printf(out, "A date and time (%s)", col->format ? col->format : "YYYY-MM-DD HH:MM:SS");
        break;
    case TEMPLATE_TYPE_BOOLEAN:
        buf_puts(out, "TRUE or FALSE");
        break;
    case TEMPLATE_TYPE_EMAIL:
        buf_puts(out, "An email address");
        break;
    case TEMPLATE_TYPE_ENUM:
        buf_puts(out, "One of: ");
        for (size_t i = 0; i < col->nvalues; i++)
            buf_printf(out, "%s%s", i ? ", " : "", col->values[i]);
        break;
    default:
        buf_puts(out, "Text");
        if (col->max_length >= 0)
            buf_printf(out, " of at most %ld characters", col->max_length);
        if (col->pattern)
            buf_printf(out, " matching %s", col->pattern);
        break;
    }
    buf_putc(out, '.');
    if (col->unique)
        buf_puts(out, " Unique in the file.");
    return buf_status(out);
}

/* The validation Excel can enforce for a column; false when there is none. */
static bool column_validation(const struct template_column *col, uint32_t index,
                              struct xlsx_validation *v)
{
    struct xlsx_validation init = XLSX_VALIDATION_INIT;
    *v = init;
    v->column = index;
    v->has_min = col->has_min;
    v->has_max = col->has_max;
    v->min = col->min;
    v->max = col->max;
    switch (col->type) {
    case TEMPLATE_TYPE_ENUM:
        if (col->nvalues == 0)
            return false;
        v->kind = XLSX_VALIDATE_LIST;
        v->items = (const char *const *)col->values;
        v->nitems = col->nvalues;
        v->has_min = v->has_max = false;
        return true;
    case TEMPLATE_TYPE_BOOLEAN:
        v->kind = XLSX_VALIDATE_LIST;
        v->items = bool_items;
        v->nitems = 2;
        v->has_min = v->has_max = false;
        return true;
    case TEMPLATE_TYPE_DATE:
    case TEMPLATE_TYPE_DATETIME:
        v->kind = XLSX_VALIDATE_DATE;
        v->has_min = v->has_max = false;
        return true;
    case TEMPLATE_TYPE_INTEGER:
        v->kind = XLSX_VALIDATE_INTEGER;
        return true;
    case TEMPLATE_TYPE_DECIMAL:
        v->kind = XLSX_VALIDATE_DECIMAL;
        return true;
    case TEMPLATE_TYPE_STRING:
        if (col->max_length < 0)
            return false;
        v->kind = XLSX_VALIDATE_TEXT_LENGTH;
        v->has_min = false;
        v->has_max = true;
        v->max = (double)col->max_length;
        return true;
    default:
        return false;
    }
}

int blank_template_write(const struct import_template *tmpl, const char *out_path,
                         struct sd_error *err)
{
    struct xlsx_writer *w = NULL;
    struct xlsx_column *cols = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *cols);
    char *copy = str_dup(out_path);
    char *tmpdir = copy ? str_dup(dirname(copy)) : NULL;
    struct buf msg = BUF_INIT;
    int rc;
    free(copy);
    if (!cols || !tmpdir) {
        rc = sd_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        cols[i].header = tmpl->columns[i].header;
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = out_path;
    o.tmpdir = tmpdir;
    if ((rc = xlsx_writer_open_table(&w, &o, tmpl->name, cols, tmpl->ncolumns, err)) < 0)
        goto done;
    for (size_t i = 0; i < tmpl->ncolumns && i < XLSX_WRITER_MAX_VALIDATIONS; i++) {
        const struct template_column *col = &tmpl->columns[i];
        struct xlsx_validation v;
        if (!column_validation(col, (uint32_t)i, &v))
            continue;
        buf_clear(&msg);
        if (describe_column(col, &msg) < 0) {
            rc = sd_error_nomem(err);
            goto done;
        }
        v.input_title = col->header;
        v.input_message = buf_cstr(&msg);
        v.error_title = col->header;
        v.error_message = buf_cstr(&msg);
        if ((rc = xlsx_writer_add_validation(w, &v, err)) < 0)
            goto done;
    }
    rc = xlsx_writer_close(w, err);
    w = NULL;
done:
    xlsx_writer_free(w);
    free(cols);
    free(tmpdir);
    buf_free(&msg);
    return rc;
}
