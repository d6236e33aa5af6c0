/*
 * Shared between the files that parse a template and the catalog that loads stored ones. Not
 * part of the import layer's interface. Who calls whom (no file calls back up):
 *
 *   template.c           the driver: the document, the top-level fields, upsert_key
 *     template_column.c  one column on its own (type, rules, date format, pattern)
 *     template_cross.c   the rules across columns (keys, headers and aliases)
 *       template_problems.c  the problem list (leaf)
 *       template_types.c     type names, header normalization, lookups (leaf)
 *       template_pattern.c   what a pattern may cost (leaf)
 *   template_json.c      writes a parsed template back as JSON
 *   template_catalog.c   templates in the database (template_catalog.h)
 *
 * Parsing never stops at the first mistake: every check that fails adds a sentence to the
 * context and parsing goes on, so a person fixing a template sees all of its problems at once.
 * Only an allocation failure cuts it short (nomem), because then no sentence can be trusted.
 */
#ifndef SHEETD_IMPORT_TEMPLATE_INTERNAL_H
#define SHEETD_IMPORT_TEMPLATE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "import/template.h"

/* Limits a template must respect (README "Import templates" lists them). */
#define TEMPLATE_JSON_MAX (4u * 1024 * 1024) /* bytes of JSON */
#define TEMPLATE_NAME_MAX 200                /* characters of name, header, alias */
#define TEMPLATE_COLUMNS_MAX 1000
#define TEMPLATE_ALIASES_MAX 100        /* per column */
#define TEMPLATE_VALUES_MAX 10000       /* enum values per column */
#define TEMPLATE_VALUE_MAX 1000         /* characters of one enum value */
#define TEMPLATE_MAX_LENGTH_MAX 1000000 /* largest max_length */
#define TEMPLATE_PATTERN_MAX 1000       /* bytes of a pattern */
/* Elements a pattern expands to once regcomp has copied its bounded repetitions
 * (template_pattern.c), for one pattern and for all the patterns of a template together:
 * the second bounds what compiling a whole template costs (about 25 ms and 10 MB at the
 * limit) however many columns share it. */
#define TEMPLATE_PATTERN_WEIGHT_MAX 10000
#define TEMPLATE_PATTERNS_WEIGHT_MAX 100000
#define TEMPLATE_FORMAT_MAX 64     /* bytes of a date format */
#define TEMPLATE_PROBLEMS_KEPT 200 /* sentences kept; the rest are counted */
/* Integer bounds must be exact in a double. */
#define TEMPLATE_INTEGER_LIMIT 9007199254740991.0

struct template_parse_ctx {
    struct template_problems problems;
    size_t total; /* problems found, including those past TEMPLATE_PROBLEMS_KEPT */
    bool nomem;
    /* true for a template people submit: regcomp must accept each pattern. A stored
     * definition was checked when it was created, so loading one compiles nothing. */
    bool check_patterns;
    size_t pattern_weight; /* summed over the columns read so far */
};

/*
 * template_parse with another size limit. The canonical JSON the store keeps can come out a
 * little longer than what the author wrote (spaces after colons, the default mode), so
 * reading a stored definition allows TEMPLATE_STORED_JSON_MAX: a template accepted once must
 * always load again. It is meant for stored definitions: patterns are weighed but not
 * handed to regcomp (template_parse does that for what people submit).
 */
#define TEMPLATE_STORED_JSON_MAX (2 * (size_t)TEMPLATE_JSON_MAX)
int template_parse_sized(struct import_template **out, const char *json, size_t len,
                         size_t max_bytes, struct template_problems *problems,
                         struct sd_error *err);

/* Records one problem sentence (printf-style). (template_problems.c) */
void template_problem(struct template_parse_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "columns[2] (\"Amount\")", or "columns[2]" while the header is unknown: how a problem
 * names a column, so a person can find it by the header they see. */
void template_column_name(const struct template_column *col, size_t index, char *out, size_t size);
/* The same followed by ": ", how every column problem starts. */
void template_column_where(const struct template_column *col, size_t index, char *out, size_t size);
#define TEMPLATE_WHERE_MAX 1024

/* Ends a parse that found problems (or ran out of memory): hands the sentences to `problems`
 * (when not NULL; else frees them) and fills err with the first sentence, or a count followed
 * by as many sentences as fit. Returns SD_EINVALID, or SD_ENOMEM when ctx->nomem. */
int template_problems_finish(struct template_parse_ctx *ctx, struct template_problems *problems,
                             struct sd_error *err);

/* Parses columns[index] into *col (zeroed by the caller), adding a problem for every
 * mistake. Cross-column rules (duplicate keys and headers) are template.c's. */
void template_column_parse(struct template_parse_ctx *ctx, struct template_column *col, json_t *obj,
                           size_t index);
/* Hands a column's pattern (when it has one) to regcomp, the judge of what is valid, and adds
 * a problem when regcomp refuses it. The compiled form is not kept: the validator compiles
 * its own where rows are checked. Called for a submitted template once every column has
 * been weighed, so a template over TEMPLATE_PATTERNS_WEIGHT_MAX compiles nothing. */
void template_column_check_pattern(struct template_parse_ctx *ctx, struct template_column *col,
                                   size_t index);
/* The rules across columns (template_cross.c): duplicate keys, and headers or aliases that
 * could match two columns. */
void template_check_columns(struct template_parse_ctx *ctx, const struct import_template *t);
/* Frees what a column owns (also a half-parsed one). */
void template_column_clear(struct template_column *col);

/* True when a pattern is safe to hand to regcomp (template_pattern.c), with *weight the
 * number of elements it expands to; otherwise false with the end of a sentence in `why`
 * ("uses the back-reference \\1, ..."). */
bool template_pattern_guard(const char *pattern, size_t len, size_t *weight, char *why,
                            size_t size);

/*
 * Reads a text field (name, header, alias, enum value): it must be a JSON string that is not
 * empty once surrounding white space is dropped, has no control characters and has at most
 * `max` characters. Returns a malloc'd trimmed copy, or NULL after adding a problem that starts
 * with `where` ("columns[0] (\"Email\"): " or "") and names the field as `what`.
 */
char *template_text_field(struct template_parse_ctx *ctx, json_t *value, const char *where,
                          const char *what, size_t max);

#endif
