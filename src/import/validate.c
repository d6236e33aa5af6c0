#include "import/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/number.h"
#include "base/str.h"
#include "import/fastmatch.h"
#include "import/unique_set.h"

/* Enum values listed in a message before "... (N more)". */
#define ENUM_LIST_MAX 10

struct validator {
    const struct import_template *tmpl;
    struct convert_context ctx;
    struct unique_set *sets; /* per template column, used when the column is unique */
    struct unique_set key_set;
    size_t *key_cols; /* the upsert key as template column indexes */
    size_t nkey;
    bool check_key; /* false when the key is one unique column (already checked) */
    /* Per template column, and one more for the upsert key: the current row's key text, and
     * its stored form in the set, which is kept from the lookup to the insertion. */
    struct buf *keys;
    struct unique_key *ukeys;
    /* Per template column: its pattern compiled for fastmatch, or NULL (no pattern, or one
     * only regexec understands), and the scratch space fastmatch_run needs. */
    struct fastmatch **fast;
    void *fast_scratch;
    /* Per template column: its pattern compiled by regcomp, for the patterns fastmatch does
     * not take (compiled[i] says whether regex[i] holds one). Compiled here, once per
     * import, not when the template is loaded. */
    regex_t *regex;
    bool *compiled;
};

/* Compiles what each column's pattern needs: fastmatch when the pattern is in its subset,
 * else regcomp. A stored pattern regcomp refuses (edited by hand in the database) fails the
 * validator with a sentence naming the column. */
static int compile_patterns(struct validator *v, struct sd_error *err)
{
    const struct import_template *tmpl = v->tmpl;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        const struct template_column *col = &tmpl->columns[i];
        if (!col->pattern)
            continue;
        if (fastmatch_compile(&v->fast[i], col->pattern) < 0 ||
            (v->fast[i] && !v->fast_scratch &&
             !(v->fast_scratch = malloc(FASTMATCH_SCRATCH_BYTES(VALIDATE_PATTERN_MAX_BYTES)))))
            return sd_error_nomem(err);
        if (v->fast[i])
            continue;
        int rc = template_pattern_compile(&v->regex[i], col->pattern, err);
        if (rc == SD_EINVALID)
            return sd_error_prefix(err,
                                   "the pattern of column \"%s\" is not a valid regular "
                                   "expression",
                                   col->key);
        if (rc)
            return rc;
        v->compiled[i] = true;
    }
    return 0;
}

int validator_new(struct validator **out, const struct import_template *tmpl,
                  const struct convert_context *ctx, struct sd_error *err)
{
    *out = NULL;
    struct validator *v = calloc(1, sizeof *v);
    if (!v)
        return sd_error_nomem(err);
    v->tmpl = tmpl;
    v->ctx = *ctx;
    v->sets = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *v->sets);
    v->key_cols = calloc(tmpl->nupsert_key ? tmpl->nupsert_key : 1, sizeof *v->key_cols);
    v->keys = calloc(tmpl->ncolumns + 1, sizeof *v->keys);
    v->ukeys = calloc(tmpl->ncolumns + 1, sizeof *v->ukeys); /* zeroed: UNIQUE_KEY_INIT */
    v->fast = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *v->fast);
    v->regex = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *v->regex);
    v->compiled = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *v->compiled);
    if (!v->sets || !v->key_cols || !v->keys || !v->ukeys || !v->fast || !v->regex ||
        !v->compiled) {
        validator_free(v);
        return sd_error_nomem(err);
    }
    int rc = compile_patterns(v, err);
    if (rc) {
        validator_free(v);
        return rc;
    }
    for (size_t k = 0; k < tmpl->nupsert_key; k++) {
        const struct template_column *col = template_find_column(tmpl, tmpl->upsert_key[k]);
        if (!col) {
            validator_free(v);
            return sd_error_set(err, SD_EINVALID,
                                "the template's upsert key names \"%s\", which is not one of "
                                "its columns",
                                tmpl->upsert_key[k]);
        }
        v->key_cols[v->nkey++] = (size_t)(col - tmpl->columns);
    }
    v->check_key = v->nkey > 1 || (v->nkey == 1 && !tmpl->columns[v->key_cols[0]].unique);
    *out = v;
    return 0;
}

void validator_free(struct validator *v)
{
    if (!v)
        return;
    if (v->sets)
        for (size_t i = 0; i < v->tmpl->ncolumns; i++)
            unique_set_free(&v->sets[i]);
    free(v->sets);
    unique_set_free(&v->key_set);
    free(v->key_cols);
    if (v->keys)
        for (size_t i = 0; i <= v->tmpl->ncolumns; i++)
            buf_free(&v->keys[i]);
    free(v->keys);
    if (v->ukeys)
        for (size_t i = 0; i <= v->tmpl->ncolumns; i++)
            unique_key_free(&v->ukeys[i]);
    free(v->ukeys);
    if (v->fast)
        for (size_t i = 0; i < v->tmpl->ncolumns; i++)
            fastmatch_free(v->fast[i]);
    free(v->fast);
    free(v->fast_scratch);
    if (v->compiled)
        for (size_t i = 0; i < v->tmpl->ncolumns; i++)
            if (v->compiled[i])
                regfree(&v->regex[i]);
    free(v->regex);
    free(v->compiled);
    free(v);
}

/* A practical email check, not RFC 5322: one '@', something before it, a dotted domain
 * after it without empty labels, and no spaces or control characters anywhere. */
static bool email_ok(const char *s, size_t len)
{
    if (len == 0 || len > 254)
        return false;
    const char *at = NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f)
            return false;
        if (c == '@') {
            if (at)
                return false;
            at = s + i;
        }
    }
    if (!at || at == s)
        return false;
    const char *dom = at + 1, *end = s + len;
    if (dom >= end || *dom == '.' || end[-1] == '.' || !memchr(dom, '.', (size_t)(end - dom)))
        return false;
    for (const char *p = dom; p + 1 < end; p++)
        if (p[0] == '.' && p[1] == '.')
            return false;
    return true;
}

static int status_message(const struct template_column *col, enum convert_status st,
                          struct buf *msg)
{
    bool integer = col->type == TEMPLATE_TYPE_INTEGER;
    switch (st) {
    case CONVERT_EMPTY:
        return buf_puts(msg, "is required");
    case CONVERT_ERROR_CELL:
        return buf_puts(msg, "is a formula error, not a value");
    case CONVERT_NOT_NUMBER:
        return buf_puts(msg, integer ? "is not a whole number" : "is not a number");
    case CONVERT_NOT_WHOLE:
        return buf_puts(msg, "is not a whole number");
    case CONVERT_OUT_OF_RANGE:
        return buf_puts(msg,
                        integer ? "is too large for a whole number" : "is too large for a number");
    case CONVERT_NOT_DATE:
    case CONVERT_NOT_DATETIME:
        return buf_printf(msg, "is not a valid %s (expected %s)",
                          st == CONVERT_NOT_DATE ? "date" : "date and time",
                          col->format              ? col->format
                          : st == CONVERT_NOT_DATE ? "YYYY-MM-DD"
                                                   : "YYYY-MM-DD HH:MM:SS");
    case CONVERT_NOT_BOOLEAN:
        return buf_puts(msg, "is not a yes/no value (use TRUE/FALSE, yes/no, y/n, 1/0 or x)");
    case CONVERT_OK:
        break;
    }
    return 0;
}

static int enum_message(const struct template_column *col, struct buf *msg)
{
    if (buf_puts(msg, "is not one of ") < 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < col->nvalues && i < ENUM_LIST_MAX; i++)
        if (buf_printf(msg, "%s%s", i ? ", " : "", col->values[i]) < 0)
            return SD_ENOMEM;
    if (col->nvalues > ENUM_LIST_MAX &&
        buf_printf(msg, ", ... (%zu more)", col->nvalues - ENUM_LIST_MAX) < 0)
        return SD_ENOMEM;
    return 0;
}

/* Case-insensitive (ASCII) comparison of a span with a NUL-terminated string. */
static bool span_ieq(const char *s, size_t len, const char *z)
{
    for (size_t i = 0; i < len; i++, z++) {
        int a = (unsigned char)s[i], b = (unsigned char)*z;
        if (!b)
            return false;
        if (a >= 'A' && a <= 'Z')
            a += 32;
        if (b >= 'A' && b <= 'Z')
            b += 32;
        if (a != b)
            return false;
    }
    return *z == '\0';
}

/* The column's pattern against a value of at most VALIDATE_PATTERN_MAX_BYTES: fastmatch when
 * the pattern is in its subset (same answer, a fraction of the time), else regexec. */
static bool pattern_matches(const struct validator *v, size_t col_index, const char *s, size_t len)
{
    if (v->fast[col_index])
        return fastmatch_run(v->fast[col_index], s, len, v->fast_scratch);
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)len;
    return regexec(&v->regex[col_index], s, 1, m, REG_STARTEND) == 0;
}

static int check_text(const struct validator *v, size_t col_index, struct cell_value *val,
                      struct buf *msg)
{
    const struct template_column *col = &v->tmpl->columns[col_index];
    switch (col->type) {
    case TEMPLATE_TYPE_EMAIL:
        if (!email_ok(val->text, val->len))
            return buf_puts(msg, "is not a valid email address") < 0 ? SD_ENOMEM : 1;
        break;
    case TEMPLATE_TYPE_ENUM:
        for (size_t i = 0; i < col->nvalues; i++) {
            if (span_ieq(val->text, val->len, col->values[i])) {
                val->text = col->values[i]; /* stored in its canonical spelling */
                val->len = strlen(col->values[i]);
                return 0;
            }
        }
        return enum_message(col, msg) < 0 ? SD_ENOMEM : 1;
    default:
        break;
    }
    if (col->max_length >= 0 && str_utf8_length(val->text, val->len) > (size_t)col->max_length)
        return buf_printf(msg, "is longer than %ld characters", col->max_length) < 0 ? SD_ENOMEM
                                                                                     : 1;
    if (col->pattern) {
        if (val->len > VALIDATE_PATTERN_MAX_BYTES)
            return buf_printf(msg, "is too long to check against the pattern (over %d bytes)",
                              VALIDATE_PATTERN_MAX_BYTES) < 0
                       ? SD_ENOMEM
                       : 1;
        if (!pattern_matches(v, col_index, val->text, val->len))
            return buf_printf(msg, "does not match the pattern %s", col->pattern) < 0 ? SD_ENOMEM
                                                                                      : 1;
    }
    return 0;
}

static int check_range(const struct template_column *col, double x, struct buf *msg)
{
    char bound[32];
    if (col->has_min && x < col->min) {
        number_format(col->min, bound);
        return buf_printf(msg, "is less than the minimum of %s", bound) < 0 ? SD_ENOMEM : 1;
    }
    if (col->has_max && x > col->max) {
        number_format(col->max, bound);
        return buf_printf(msg, "is greater than the maximum of %s", bound) < 0 ? SD_ENOMEM : 1;
    }
    return 0;
}

int validator_check_cell(struct validator *v, size_t col_index, const struct sheet_cell *cell,
                         struct cell_value *out, struct buf *msg)
{
    const struct template_column *col = &v->tmpl->columns[col_index];
    buf_clear(msg);
    enum convert_status st = cell_convert(out, col, cell, &v->ctx);
    if (st == CONVERT_EMPTY && !col->required)
        return 0;
    if (st != CONVERT_OK)
        return status_message(col, st, msg) < 0 ? SD_ENOMEM : 1;
    switch (col->type) {
    case TEMPLATE_TYPE_STRING:
    case TEMPLATE_TYPE_EMAIL:
    case TEMPLATE_TYPE_ENUM:
        return check_text(v, col_index, out, msg);
    case TEMPLATE_TYPE_INTEGER:
        return check_range(col, (double)out->i, msg);
    case TEMPLATE_TYPE_DECIMAL:
        return check_range(col, out->d, msg);
    default:
        return 0;
    }
}

/* Appends a whole number without printf (this runs for every row of a unique id column). */
static int append_int64(struct buf *out, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    return buf_append(out, tmp + sizeof tmp - n, n);
}

/* The value as the text the unique sets compare: the stored value, so "1,000" and 1000
 * in a number column are the same value. */
static int value_key(const struct cell_value *val, struct buf *out)
{
    switch (val->type) {
    case DATA_COLUMN_INTEGER:
        return append_int64(out, val->i);
    case DATA_COLUMN_DECIMAL:
        return buf_printf(out, "%.17g", val->d);
    case DATA_COLUMN_BOOLEAN:
        return buf_putc(out, val->b ? '1' : '0');
    default:
        return buf_append(out, val->text, val->len);
    }
}

static void dup_message(uint32_t first_row, char out[96])
{
    snprintf(out, 96, "appears more than once in the file (first in row %u)", first_row);
}

/* Looks up the key of slot `k` (a unique column, or the upsert key when k == ncolumns) and
 * reports it when the file already had it. Returns 1 for a duplicate, 0, or a negative code. */
static int check_key(struct validator *v, size_t k, size_t report_col, validator_report_fn report,
                     void *ctx)
{
    struct unique_set *set = k < v->tmpl->ncolumns ? &v->sets[k] : &v->key_set;
    if (unique_set_key(set, &v->ukeys[k], buf_cstr(&v->keys[k]), v->keys[k].len) < 0)
        return SD_ENOMEM;
    uint32_t first = unique_set_find(set, &v->ukeys[k]);
    if (!first)
        return 0;
    char msg[96];
    dup_message(first, msg);
    int rc = report(ctx, report_col, msg);
    return rc < 0 ? rc : 1;
}

int validator_check_row(struct validator *v, const struct cell_value *values, uint32_t row,
                        validator_report_fn report, void *ctx)
{
    const struct import_template *tmpl = v->tmpl;
    size_t n = tmpl->ncolumns;
    int dups = 0, rc;
    for (size_t i = 0; i < n; i++) {
        if (!tmpl->columns[i].unique || values[i].null)
            continue;
        buf_clear(&v->keys[i]);
        if (value_key(&values[i], &v->keys[i]) < 0)
            return SD_ENOMEM;
        if ((rc = check_key(v, i, i, report, ctx)) < 0)
            return rc;
        dups += rc;
    }
    bool key_complete = v->check_key;
    if (key_complete) {
        buf_clear(&v->keys[n]);
        for (size_t k = 0; k < v->nkey && key_complete; k++) {
            const struct cell_value *val = &values[v->key_cols[k]];
            if (val->null)
                key_complete = false;
            else if ((k && buf_putc(&v->keys[n], '\x1f') < 0) || value_key(val, &v->keys[n]) < 0)
                return SD_ENOMEM;
        }
    }
    if (key_complete) {
        if ((rc = check_key(v, n, v->key_cols[0], report, ctx)) < 0)
            return rc;
        dups += rc;
    }
    if (dups)
        return dups;
    if (key_complete && unique_set_add(&v->key_set, &v->ukeys[n], row) < 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!tmpl->columns[i].unique || values[i].null)
            continue;
        if (unique_set_add(&v->sets[i], &v->ukeys[i], row) < 0)
            return SD_ENOMEM;
    }
    return 0;
}
