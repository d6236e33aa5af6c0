/*
 * DESIGN
 * ------
 * Data validations for the XLSX writer. libxlsxwriter 1.1.4 is handed only formulas and
 * numbers, never a value list: its value-list code overflows on long or many-item lists.
 *
 * A list becomes one of two formulas:
 *  - inline, `"a,b,c"`, when Excel would read it back exactly: at most 255 characters in
 *    all, and no item with a comma (the separator), a double quote, a control character,
 *    surrounding spaces (Excel trims them) or an `_xHHHH_` look-alike;
 *  - otherwise a range on one row of the hidden sheet XLSX_WRITER_LISTS_SHEET: the items are
 *    written across columns A, B, ... of the next free row (a row per list keeps that sheet's
 *    rows in order, which constant_memory mode requires) and the validation refers to
 *    `_sheetd_lists!$A$n:$X$n` (the name needs no quotes).
 *
 * Bounds: dates go in as Excel serials (DATE_NUMBER); a rule without bounds still states its
 * type (any whole number, any decimal, any date from 1900-01-01) so Excel refuses text.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/str.h"
#include "sheet/xlsx_writer_internal.h"

#define XLSX_INLINE_LIST_MAX 255
#define XLSX_ANY_NUMBER_MIN (-9.99e307)

/* Adds the hidden sheet of long lists on first use (its name is reserved, so it cannot clash
 * with a user's sheet). */
static int lists_sheet(struct xlsx_writer *w, struct sd_error *err)
{
    if (w->lists_ws)
        return 0;
    lxw_worksheet *ws = workbook_add_worksheet(w->wb, XLSX_WRITER_LISTS_SHEET);
    if (!ws)
        return sd_error_set(err, SD_ERROR, "Could not add the hidden list sheet to %s", w->path);
    worksheet_hide(ws);
    w->lists_ws = ws;
    return 0;
}

/* Whether Excel would read `item` back unchanged from an inline list. */
static bool inline_safe(const char *item, size_t len)
{
    if (len == 0 || item[0] == ' ' || item[len - 1] == ' ')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)item[i];
        if (c < 0x20 || c == ',' || c == '"' || c == 0x7F)
            return false;
        if (c == '_' && i + 1 < len && (item[i + 1] == 'x' || item[i + 1] == 'X'))
            return false;
    }
    return str_utf8_valid(item, len);
}

/* Builds the inline formula `"a,b,c"` in out when the list qualifies; returns 1 when it
 * does, 0 when the list must go to the hidden sheet, SD_ENOMEM. */
static int inline_formula(struct buf *out, const struct xlsx_validation *v)
{
    size_t chars = 0;
    for (size_t i = 0; i < v->nitems; i++) {
        size_t len = strlen(v->items[i]);
        if (!inline_safe(v->items[i], len))
            return 0;
        chars += str_utf8_length(v->items[i], len) + (i > 0);
        if (chars > XLSX_INLINE_LIST_MAX)
            return 0;
    }
    buf_clear(out);
    if (buf_putc(out, '"') < 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < v->nitems; i++)
        if ((i > 0 && buf_putc(out, ',') < 0) || buf_puts(out, v->items[i]) < 0)
            return SD_ENOMEM;
    return buf_putc(out, '"') < 0 ? SD_ENOMEM : 1;
}

/* Writes the items across the next row of the hidden sheet and puts the range formula that
 * covers them in out. */
static int range_formula(struct xlsx_writer *w, struct buf *out, const struct xlsx_validation *v,
                         struct sd_error *err)
{
    int rc = lists_sheet(w, err);
    if (rc < 0)
        return rc;
    if (w->lists_rows >= XLSX_WRITER_MAX_ROWS)
        return sd_error_set(err, SD_ELIMIT, "The workbook holds too many validation lists");
    lxw_row_t row = w->lists_rows;
    struct buf item = BUF_INIT;
    for (size_t i = 0; i < v->nitems; i++) {
        buf_clear(&item);
        rc = xlsx_writer_sanitize(&item, v->items[i], strlen(v->items[i]),
                                  XLSX_WRITER_MAX_CELL_CHARS, true);
        if (rc < 0 || buf_putc(&item, '\0') < 0) {
            rc = sd_error_nomem(err);
            goto done;
        }
        if (rc == 1) {
            rc = sd_error_set(err, SD_EINVALID,
                              "Item %zu of the validation list is longer than a cell's 32,767 "
                              "characters",
                              i + 1);
            goto done;
        }
        lxw_error lrc = worksheet_write_string(w->lists_ws, row, (lxw_col_t)i, item.data, NULL);
        if (lrc != LXW_NO_ERROR) {
            rc = xlsx_writer_lxw_error(w, lrc, "a validation list", err);
            goto done;
        }
    }
    w->lists_rows++;
    char formula[LXW_MAX_FORMULA_RANGE_LENGTH + 8];
    lxw_rowcol_to_formula_abs(formula, XLSX_WRITER_LISTS_SHEET, row, 0, row,
                              (lxw_col_t)(v->nitems - 1));
    buf_clear(out);
    rc = buf_puts(out, formula) < 0 ? sd_error_nomem(err) : 0;
done:
    buf_free(&item);
    return rc;
}

/* A copy of `text` cut to `max` characters for a title or message; NULL stays NULL. */
static int message_copy(char **out, const char *text, size_t max, struct sd_error *err)
{
    *out = NULL;
    if (!text || !*text)
        return 0;
    struct buf b = BUF_INIT;
    if (xlsx_writer_sanitize(&b, text, strlen(text), max, false) < 0 || buf_putc(&b, '\0') < 0)
        goto nomem;
    if (!(*out = buf_detach(&b)))
        goto nomem;
    return 0;
nomem:
    buf_free(&b);
    return sd_error_nomem(err);
}

static void set_bounds(lxw_data_validation *dv, const struct xlsx_validation *v, double lo,
                       double hi, double default_min)
{
    if (v->has_min && v->has_max) {
        dv->criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
        dv->minimum_number = lo;
        dv->maximum_number = hi;
    } else if (v->has_max) {
        dv->criteria = LXW_VALIDATION_CRITERIA_LESS_THAN_OR_EQUAL_TO;
        dv->value_number = hi;
    } else {
        dv->criteria = LXW_VALIDATION_CRITERIA_GREATER_THAN_OR_EQUAL_TO;
        dv->value_number = v->has_min ? lo : default_min;
    }
}

/* Checks what libxlsxwriter cannot be trusted to check, before anything is written. */
static int check_rule(const struct xlsx_validation *v, uint32_t first, uint32_t last,
                      struct sd_error *err)
{
    if (v->column >= XLSX_WRITER_MAX_COLUMNS)
        return sd_error_set(err, SD_EINVALID,
                            "A validation's column %u is past Excel's last column (16,384)",
                            v->column + 1);
    if (first < 1 || last > XLSX_WRITER_MAX_ROWS || first > last)
        return sd_error_set(err, SD_EINVALID,
                            "A validation's rows %u to %u are not a range of Excel rows", first,
                            last);
    if ((v->has_min && !isfinite(v->min)) || (v->has_max && !isfinite(v->max)))
        return sd_error_set(err, SD_EINVALID, "A validation's bounds must be finite numbers");
    if (v->has_min && v->has_max && v->min > v->max)
        return sd_error_set(err, SD_EINVALID, "A validation's minimum %g is above its maximum %g",
                            v->min, v->max);
    switch (v->kind) {
    case XLSX_VALIDATE_LIST:
        if (!v->items || v->nitems == 0)
            return sd_error_set(err, SD_EINVALID, "A list validation needs at least one item");
        if (v->nitems > XLSX_WRITER_MAX_COLUMNS)
            return sd_error_set(err, SD_ELIMIT,
                                "A list validation can hold at most 16,384 items, not %zu",
                                v->nitems);
        for (size_t i = 0; i < v->nitems; i++)
            if (!v->items[i] || !*v->items[i])
                return sd_error_set(err, SD_EINVALID, "Item %zu of a list validation is empty",
                                    i + 1);
        return 0;
    case XLSX_VALIDATE_DATE:
        if ((v->has_min && (v->min < CIVIL_EXCEL_FIRST_DAY || v->min >= CIVIL_EXCEL_END_DAY)) ||
            (v->has_max && (v->max < CIVIL_EXCEL_FIRST_DAY || v->max >= CIVIL_EXCEL_END_DAY)))
            return sd_error_set(err, SD_EINVALID,
                                "Date validation bounds must lie between 1900-01-01 and "
                                "9999-12-31");
        return 0;
    case XLSX_VALIDATE_INTEGER:
    case XLSX_VALIDATE_DECIMAL:
        return 0;
    case XLSX_VALIDATE_TEXT_LENGTH:
        if (!v->has_min && !v->has_max)
            return sd_error_set(err, SD_EINVALID,
                                "A text length validation needs a minimum or a maximum");
        if ((v->has_min && v->min < 0) || (v->has_max && v->max < 0))
            return sd_error_set(err, SD_EINVALID, "A text length cannot be negative");
        return 0;
    }
    return sd_error_set(err, SD_EUSAGE, "Unknown validation kind %d", (int)v->kind);
}

int xlsx_writer_add_validation(struct xlsx_writer *w, const struct xlsx_validation *v,
                               struct sd_error *err)
{
    if (!w->has_sheet)
        return sd_error_set(err, SD_EUSAGE, "Add a sheet before adding validations to it");
    if (!v || v->version != XLSX_VALIDATION_VERSION)
        return sd_error_set(err, SD_EUSAGE, "Validations must be made with XLSX_VALIDATION_INIT");
    uint32_t first = v->first_row ? v->first_row : 2;
    uint32_t last = v->last_row ? v->last_row : XLSX_WRITER_MAX_ROWS;
    int rc = check_rule(v, first, last, err);
    if (rc < 0)
        return rc;
    if (w->sheet.nvalidations >= XLSX_WRITER_MAX_VALIDATIONS)
        return sd_error_set(err, SD_ELIMIT, "A sheet can hold at most %u data validations",
                            XLSX_WRITER_MAX_VALIDATIONS);

    lxw_data_validation dv;
    memset(&dv, 0, sizeof dv);
    struct buf formula = BUF_INIT;
    char *input_title = NULL, *input_message = NULL, *error_title = NULL, *error_message = NULL;
    switch (v->kind) {
    case XLSX_VALIDATE_LIST:
        rc = inline_formula(&formula, v);
        if (rc == 0)
            rc = range_formula(w, &formula, v, err);
        else if (rc < 0)
            rc = sd_error_nomem(err);
        if (rc < 0)
            goto done;
        dv.validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
        dv.value_formula = formula.data;
        break;
    case XLSX_VALIDATE_DATE:
        dv.validate = LXW_VALIDATION_TYPE_DATE_NUMBER;
        set_bounds(&dv, v, v->has_min ? civil_days_to_serial(v->min) : 0,
                   v->has_max ? civil_days_to_serial(v->max) : 0, 1);
        break;
    case XLSX_VALIDATE_INTEGER:
        dv.validate = LXW_VALIDATION_TYPE_INTEGER;
        set_bounds(&dv, v, v->min, v->max, XLSX_ANY_NUMBER_MIN);
        break;
    case XLSX_VALIDATE_DECIMAL:
        dv.validate = LXW_VALIDATION_TYPE_DECIMAL;
        set_bounds(&dv, v, v->min, v->max, XLSX_ANY_NUMBER_MIN);
        break;
    case XLSX_VALIDATE_TEXT_LENGTH:
        dv.validate = LXW_VALIDATION_TYPE_LENGTH;
        set_bounds(&dv, v, floor(v->min), floor(v->max), 0);
        break;
    }
    /* Excel's limits: titles 32 characters, messages 255 */
    if ((rc = message_copy(&input_title, v->input_title, 32, err)) < 0 ||
        (rc = message_copy(&input_message, v->input_message, 255, err)) < 0 ||
        (rc = message_copy(&error_title, v->error_title, 32, err)) < 0 ||
        (rc = message_copy(&error_message, v->error_message, 255, err)) < 0)
        goto done;
    dv.input_title = input_title;
    dv.input_message = input_message;
    dv.error_title = error_title;
    dv.error_message = error_message;
    lxw_error lrc = worksheet_data_validation_range(w->sheet.ws, first - 1, (lxw_col_t)v->column,
                                                    last - 1, (lxw_col_t)v->column, &dv);
    if (lrc != LXW_NO_ERROR) {
        rc = xlsx_writer_lxw_error(w, lrc, "a data validation", err);
        goto done;
    }
    w->sheet.nvalidations++;
    rc = 0;
done:
    buf_free(&formula);
    free(input_title);
    free(input_message);
    free(error_title);
    free(error_message);
    return rc;
}
