/*
 * DESIGN
 * ------
 * One column of a template: its key (the SQL column), header and aliases (what people write),
 * type, and the rules that fit that type:
 *
 *   string            max_length, pattern (POSIX extended regex, checked with regcomp here
 *                     when a template is submitted; compiled again only to check rows)
 *   integer, decimal  min, max
 *   date, datetime    format ("DD/MM/YYYY", "YYYY-MM-DD HH:mm:ss", ...)
 *   enum              values (required)
 *
 * A rule on a type it does not fit is a mistake, not something to ignore: "min" on a string
 * column means the author expected a check that would never run.
 *
 * Patterns come from people we do not control (the JSON API); template_pattern.c refuses the
 * ones glibc's regcomp would take seconds or gigabytes to compile before regcomp sees them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/number.h"
#include "base/str.h"
#include "import/date_format.h"
#include "import/template.h"
#include "import/template_internal.h"

static const char *const type_list = "string, integer, decimal, date, datetime, boolean, "
                                     "email or enum";

void template_column_clear(struct template_column *col)
{
    free(col->key);
    free(col->header);
    for (size_t i = 0; i < col->naliases; i++)
        free(col->aliases[i]);
    free(col->aliases);
    free(col->pattern);
    for (size_t i = 0; i < col->nvalues; i++)
        free(col->values[i]);
    free(col->values);
    free(col->format);
    memset(col, 0, sizeof *col);
}

static bool known_field(const char *field)
{
    static const char *const fields[] = {"key",        "header",  "aliases", "type",
                                         "required",   "unique",  "min",     "max",
                                         "max_length", "pattern", "values",  "format"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!strcmp(field, fields[i]))
            return true;
    return false;
}

static void parse_key(struct template_parse_ctx *ctx, struct template_column *col,
                      const char *where, json_t *v)
{
    if (!v) {
        template_problem(ctx, "%skey is missing: the database column name, e.g. \"email\"", where);
        return;
    }
    if (!json_is_string(v)) {
        template_problem(ctx, "%skey must be a string such as \"email\"", where);
        return;
    }
    const char *key = json_string_value(v);
    if (!data_table_identifier_shape_ok(key)) {
        template_problem(ctx,
                         "%skey \"%s\" is not a valid column name: use a lowercase letter, "
                         "then up to 62 lowercase letters, digits or underscores",
                         where, key);
        return;
    }
    if (data_table_is_keyword(key)) {
        template_problem(ctx, "%skey \"%s\" is an SQL keyword; choose another name", where, key);
        return;
    }
    col->key = str_dup(key);
    if (!col->key)
        ctx->nomem = true;
}

static void parse_type(struct template_parse_ctx *ctx, struct template_column *col,
                       const char *where, json_t *v)
{
    if (!v) {
        template_problem(ctx, "%stype is missing; use %s", where, type_list);
        return;
    }
    if (!json_is_string(v)) {
        template_problem(ctx, "%stype must be a string: one of %s", where, type_list);
        return;
    }
    const char *name = json_string_value(v);
    for (int t = TEMPLATE_TYPE_STRING; t <= TEMPLATE_TYPE_ENUM; t++) {
        if (!strcmp(name, template_type_name((enum template_type)t))) {
            col->type = (enum template_type)t;
            return;
        }
    }
    template_problem(ctx, "%sunknown type \"%s\"; use %s", where, name, type_list);
}

static void parse_bool(struct template_parse_ctx *ctx, const char *where, const char *what,
                       json_t *v, bool *out)
{
    if (!v)
        return;
    if (!json_is_boolean(v)) {
        template_problem(ctx, "%s%s must be true or false", where, what);
        return;
    }
    *out = json_is_true(v);
}

/* Reads a list of text fields (aliases, values) into *items; duplicates are the caller's. */
static void parse_text_list(struct template_parse_ctx *ctx, const char *where, const char *what,
                            json_t *v, size_t max_items, size_t max_chars, char ***items,
                            size_t *count)
{
    if (!json_is_array(v)) {
        template_problem(ctx, "%s%s must be a list of strings", where, what);
        return;
    }
    size_t n = json_array_size(v);
    if (n > max_items) {
        template_problem(ctx, "%s%s has %zu entries; at most %zu are allowed", where, what, n,
                         max_items);
        return;
    }
    if (n == 0)
        return;
    *items = calloc(n, sizeof **items);
    if (!*items) {
        ctx->nomem = true;
        return;
    }
    for (size_t i = 0; i < n && !ctx->nomem; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s[%zu]", what, i);
        char *text = template_text_field(ctx, json_array_get(v, i), where, name, max_chars);
        if (text)
            (*items)[(*count)++] = text;
    }
}

/* Orders values by case-folded text, then by position, so clashes come out in the order the
 * author wrote them. */
struct value_ref {
    const char *text;
    size_t index;
};

static int value_cmp(const void *pa, const void *pb)
{
    const struct value_ref *a = pa, *b = pb;
    int c = strcasecmp(a->text, b->text);
    return c ? c : (a->index < b->index ? -1 : a->index > b->index);
}

/* Enum values are matched ignoring case, so two that differ only in case are ambiguous.
 * Sorting keeps this O(n log n) for the up to TEMPLATE_VALUES_MAX values. */
static void check_enum_values(struct template_parse_ctx *ctx, const struct template_column *col,
                              const char *where)
{
    if (col->nvalues < 2)
        return;
    struct value_ref *refs = malloc(col->nvalues * sizeof *refs);
    if (!refs) {
        ctx->nomem = true;
        return;
    }
    for (size_t i = 0; i < col->nvalues; i++)
        refs[i] = (struct value_ref){.text = col->values[i], .index = i};
    qsort(refs, col->nvalues, sizeof *refs, value_cmp);
    for (size_t i = 1; i < col->nvalues; i++) {
        const char *first = refs[i - 1].text, *again = refs[i].text;
        if (strcasecmp(first, again))
            continue;
        if (!strcmp(first, again))
            template_problem(ctx, "%svalues has \"%s\" twice", where, again);
        else
            template_problem(ctx,
                             "%svalues has \"%s\" and \"%s\", which differ only in case "
                             "(values are matched ignoring case)",
                             where, first, again);
    }
    free(refs);
}

static void parse_bound(struct template_parse_ctx *ctx, const char *where, const char *what,
                        json_t *v, enum template_type type, bool *has, double *out)
{
    if (!json_is_number(v)) {
        template_problem(ctx, "%s%s must be a number", where, what);
        return;
    }
    double d = json_number_value(v);
    if (d == 0)
        d = 0; /* -0 would print as "-0" and read back as 0 */
    char text[32];
    number_format(d, text);
    if (type == TEMPLATE_TYPE_INTEGER) {
        if (fabs(d) > TEMPLATE_INTEGER_LIMIT) {
            template_problem(ctx,
                             "%s%s (%s) is beyond the whole numbers sheetd checks exactly "
                             "(-9007199254740991 to 9007199254740991)",
                             where, what, text);
            return;
        }
        if (d != floor(d)) {
            template_problem(ctx, "%s%s (%s) must be a whole number for an integer column", where,
                             what, text);
            return;
        }
    }
    *has = true;
    *out = d;
}

static void parse_pattern(struct template_parse_ctx *ctx, struct template_column *col,
                          const char *where, json_t *v)
{
    if (!json_is_string(v)) {
        template_problem(ctx, "%spattern must be a string: a POSIX extended regular expression",
                         where);
        return;
    }
    const char *pattern = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0) {
        template_problem(ctx, "%spattern is empty; leave it out to accept any text", where);
        return;
    }
    if (len > TEMPLATE_PATTERN_MAX) {
        template_problem(ctx, "%spattern is %zu bytes long; a pattern may be at most %d", where,
                         len, TEMPLATE_PATTERN_MAX);
        return;
    }
    char why[256];
    size_t weight = 0;
    if (!template_pattern_guard(pattern, len, &weight, why, sizeof why)) {
        template_problem(ctx, "%spattern \"%s\" %s", where, pattern, why);
        return;
    }
    ctx->pattern_weight += weight;
    col->pattern = str_dup(pattern);
    if (!col->pattern)
        ctx->nomem = true;
}

void template_column_check_pattern(struct template_parse_ctx *ctx, struct template_column *col,
                                   size_t index)
{
    if (!col->pattern)
        return;
    regex_t re;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_pattern_compile(&re, col->pattern, &err);
    if (rc == SD_ENOMEM) {
        ctx->nomem = true;
        return;
    }
    if (rc) {
        char where[TEMPLATE_WHERE_MAX];
        template_column_where(col, index, where, sizeof where);
        template_problem(ctx, "%spattern \"%s\" is not a valid regular expression: %s", where,
                         col->pattern, sd_error_message(&err));
        return;
    }
    regfree(&re);
}

#define FMT_BIT(field) (1u << (field))
#define FMT_YYYY FMT_BIT(DATE_FORMAT_YEAR)
#define FMT_YY FMT_BIT(DATE_FORMAT_YEAR2)
#define FMT_DD FMT_BIT(DATE_FORMAT_DAY)
#define FMT_MM FMT_BIT(DATE_FORMAT_MONTH)
#define FMT_HH FMT_BIT(DATE_FORMAT_HOUR)
#define FMT_MI FMT_BIT(DATE_FORMAT_MINUTE)
#define FMT_SS FMT_BIT(DATE_FORMAT_SECOND)

/* Checks a date/datetime format token by token: each of DD, MM, YYYY|YY, HH, mm, ss at most
 * once, separators from a short list, and the tokens the type needs. */
static void parse_format(struct template_parse_ctx *ctx, struct template_column *col,
                         const char *where, json_t *v)
{
    if (!json_is_string(v)) {
        template_problem(ctx, "%sformat must be a string such as \"DD/MM/YYYY\"", where);
        return;
    }
    const char *f = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0) {
        template_problem(ctx, "%sformat is empty; leave it out to accept ISO dates", where);
        return;
    }
    if (len > TEMPLATE_FORMAT_MAX) {
        template_problem(ctx, "%sformat is longer than %d characters", where, TEMPLATE_FORMAT_MAX);
        return;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < len;) {
        const struct date_format_token *tok = date_format_token_at(f + i);
        if (tok) {
            if (seen & FMT_BIT(tok->field)) {
                template_problem(ctx, "%sformat \"%s\" has %s twice", where, f, tok->text);
                return;
            }
            seen |= FMT_BIT(tok->field);
            i += tok->len;
            continue;
        }
        if (!date_format_is_separator(f[i])) {
            template_problem(ctx,
                             "%sformat \"%s\" has \"%c\" at character %zu, which is neither "
                             "a token (DD, MM, YYYY, YY, HH, mm, ss) nor a separator "
                             "(/ - . : , T or a space)",
                             where, f, (unsigned char)f[i] < 0x80 ? f[i] : '?', i + 1);
            return;
        }
        i++;
    }
    if ((seen & FMT_YYYY) && (seen & FMT_YY)) {
        template_problem(ctx, "%sformat \"%s\" has both YYYY and YY; use one", where, f);
        return;
    }
    bool has_date = (seen & FMT_DD) && (seen & FMT_MM) && (seen & (FMT_YYYY | FMT_YY));
    bool has_time = seen & (FMT_HH | FMT_MI | FMT_SS);
    if (col->type == TEMPLATE_TYPE_DATE) {
        if (!has_date) {
            template_problem(ctx, "%sformat \"%s\" needs DD, MM and YYYY (or YY)", where, f);
            return;
        }
        if (has_time) {
            template_problem(ctx,
                             "%sformat \"%s\" has a time of day, but the column is a date; "
                             "use \"type\": \"datetime\" or drop HH, mm and ss",
                             where, f);
            return;
        }
    } else if (!has_date || !(seen & FMT_HH) || !(seen & FMT_MI)) {
        template_problem(ctx,
                         "%sformat \"%s\" needs DD, MM, YYYY (or YY), HH and mm (ss is "
                         "optional)",
                         where, f);
        return;
    }
    col->format = str_dup(f);
    if (!col->format)
        ctx->nomem = true;
}

/* The rules that do not fit the column's type, each reported by name. */
static void check_rule_types(struct template_parse_ctx *ctx, const struct template_column *col,
                             const char *where, json_t *obj)
{
    static const struct {
        const char *field;
        unsigned types; /* bit per enum template_type */
        const char *fits;
    } rules[] = {
        {"min", 1u << TEMPLATE_TYPE_INTEGER | 1u << TEMPLATE_TYPE_DECIMAL, "integer and decimal"},
        {"max", 1u << TEMPLATE_TYPE_INTEGER | 1u << TEMPLATE_TYPE_DECIMAL, "integer and decimal"},
        {"max_length", 1u << TEMPLATE_TYPE_STRING, "string"},
        {"pattern", 1u << TEMPLATE_TYPE_STRING, "string"},
        {"values", 1u << TEMPLATE_TYPE_ENUM, "enum"},
        {"format", 1u << TEMPLATE_TYPE_DATE | 1u << TEMPLATE_TYPE_DATETIME, "date and datetime"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (json_object_get(obj, rules[i].field) && !(rules[i].types & (1u << col->type)))
            template_problem(ctx, "%s%s applies only to %s columns, not to a%s %s column", where,
                             rules[i].field, rules[i].fits,
                             col->type == TEMPLATE_TYPE_INTEGER ||
                                     col->type == TEMPLATE_TYPE_EMAIL ||
                                     col->type == TEMPLATE_TYPE_ENUM
                                 ? "n"
                                 : "",
                             template_type_name(col->type));
    }
}

static void parse_rules(struct template_parse_ctx *ctx, struct template_column *col,
                        const char *where, json_t *obj)
{
    check_rule_types(ctx, col, where, obj);
    json_t *v;
    switch (col->type) {
    case TEMPLATE_TYPE_INTEGER:
    case TEMPLATE_TYPE_DECIMAL:
        if ((v = json_object_get(obj, "min")))
            parse_bound(ctx, where, "min", v, col->type, &col->has_min, &col->min);
        if ((v = json_object_get(obj, "max")))
            parse_bound(ctx, where, "max", v, col->type, &col->has_max, &col->max);
        if (col->has_min && col->has_max && col->min > col->max) {
            char lo[32], hi[32];
            number_format(col->min, lo);
            number_format(col->max, hi);
            template_problem(ctx, "%smin (%s) is greater than max (%s)", where, lo, hi);
        }
        break;
    case TEMPLATE_TYPE_STRING:
        if ((v = json_object_get(obj, "max_length"))) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > TEMPLATE_MAX_LENGTH_MAX)
                template_problem(ctx, "%smax_length must be a whole number from 1 to %d", where,
                                 TEMPLATE_MAX_LENGTH_MAX);
            else
                col->max_length = (long)json_integer_value(v);
        }
        if ((v = json_object_get(obj, "pattern")))
            parse_pattern(ctx, col, where, v);
        break;
    case TEMPLATE_TYPE_DATE:
    case TEMPLATE_TYPE_DATETIME:
        if ((v = json_object_get(obj, "format")))
            parse_format(ctx, col, where, v);
        break;
    case TEMPLATE_TYPE_ENUM:
        v = json_object_get(obj, "values");
        if (!v || (json_is_array(v) && json_array_size(v) == 0)) {
            template_problem(ctx,
                             "%san enum column needs values: a non-empty list of the "
                             "allowed strings",
                             where);
            break;
        }
        parse_text_list(ctx, where, "values", v, TEMPLATE_VALUES_MAX, TEMPLATE_VALUE_MAX,
                        &col->values, &col->nvalues);
        if (!ctx->nomem)
            check_enum_values(ctx, col, where);
        break;
    case TEMPLATE_TYPE_BOOLEAN:
    case TEMPLATE_TYPE_EMAIL:
        break;
    }
}

void template_column_parse(struct template_parse_ctx *ctx, struct template_column *col, json_t *obj,
                           size_t index)
{
    char where[TEMPLATE_WHERE_MAX];
    col->max_length = -1;
    template_column_where(col, index, where, sizeof where);
    json_t *header = json_object_get(obj, "header");
    if (!header)
        template_problem(ctx, "%sheader is missing: the title people write above the column",
                         where);
    else
        col->header = template_text_field(ctx, header, where, "header", TEMPLATE_NAME_MAX);
    template_column_where(col, index, where, sizeof where);

    const char *field;
    json_t *value;
    json_object_foreach(obj, field, value)
    {
        if (!known_field(field))
            template_problem(ctx,
                             "%sunknown field \"%s\"; a column may have key, header, "
                             "aliases, type, required, unique, min, max, max_length, "
                             "pattern, values and format",
                             where, field);
    }
    parse_key(ctx, col, where, json_object_get(obj, "key"));
    parse_type(ctx, col, where, json_object_get(obj, "type"));
    parse_bool(ctx, where, "required", json_object_get(obj, "required"), &col->required);
    parse_bool(ctx, where, "unique", json_object_get(obj, "unique"), &col->unique);
    json_t *aliases = json_object_get(obj, "aliases");
    if (aliases)
        parse_text_list(ctx, where, "aliases", aliases, TEMPLATE_ALIASES_MAX, TEMPLATE_NAME_MAX,
                        &col->aliases, &col->naliases);
    if (col->type && !ctx->nomem)
        parse_rules(ctx, col, where, obj);
}
