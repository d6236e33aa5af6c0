/*
 * Import templates: what columns a sheet must have, their types and rules, and which table
 * the rows go to. The JSON form is DESIGN.md's "Template file"; template_parse turns it into
 * a `struct import_template` and reports EVERY mistake it finds (the web form shows them all),
 * not just the first.
 *
 * Ownership: template_parse gives the caller a template to free with template_free. All
 * strings inside belong to the template.
 */
#ifndef SHEETD_IMPORT_TEMPLATE_H
#define SHEETD_IMPORT_TEMPLATE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "store/data_table.h"

enum template_type {
    TEMPLATE_TYPE_STRING = 1,
    TEMPLATE_TYPE_INTEGER,
    TEMPLATE_TYPE_DECIMAL,
    TEMPLATE_TYPE_DATE,
    TEMPLATE_TYPE_DATETIME,
    TEMPLATE_TYPE_BOOLEAN,
    TEMPLATE_TYPE_EMAIL,
    TEMPLATE_TYPE_ENUM,
};

enum template_mode {
    TEMPLATE_MODE_ALL_OR_NOTHING = 1,
    TEMPLATE_MODE_PARTIAL,
};

struct template_column {
    char *key;    /* the SQL column name */
    char *header; /* the header people write */
    char **aliases;
    size_t naliases;
    enum template_type type;
    bool required;
    bool unique;
    bool has_min, has_max;
    double min, max; /* integer/decimal */
    long max_length; /* string: -1 when unset; counted in characters */
    char *pattern;   /* string: POSIX extended regex, NULL when unset; compiled only
                        where rows are checked (template_pattern_compile) */
    char **values;   /* enum: canonical spellings */
    size_t nvalues;
    char *format; /* date/datetime: e.g. "DD/MM/YYYY", NULL when unset */
};

struct import_template {
    int64_t id; /* 0 until stored */
    char *name;
    char *table;
    enum template_mode mode;
    char **upsert_key; /* column keys */
    size_t nupsert_key;
    struct template_column *columns;
    size_t ncolumns;
};

/* Every problem template_parse found, each one sentence ("columns[2].type: unknown type
 * \"money\"; use string, integer, decimal, date, datetime, boolean, email or enum"). */
struct template_problems {
    char **messages;
    size_t count;
};

#define TEMPLATE_PROBLEMS_INIT                                                                     \
    {                                                                                              \
        .messages = NULL, .count = 0                                                               \
    }
void template_problems_free(struct template_problems *problems);

/*
 * Parses and validates a template JSON document. On success returns 0 and *out. When the
 * document breaks rules, returns SD_EINVALID, fills `problems` (when not NULL) with every
 * sentence and `err` with the first one (or a count: "the template has 3 problems: ...").
 */
int template_parse(struct import_template **out, const char *json, size_t len,
                   struct template_problems *problems, struct sd_error *err);
void template_free(struct import_template *tmpl);

/* The canonical JSON form (what `sheetd template show` prints; includes "id" when set). */
int template_to_json(const struct import_template *tmpl, struct buf *out, struct sd_error *err);

const char *template_type_name(enum template_type type);
const char *template_mode_name(enum template_mode mode);
/* The SQL storage type of a template type. */
enum data_column_type template_type_column(enum template_type type);
/* The template's columns as its data table sees them (key and storage type), in template
 * order: a malloc'd array of at least one element that the caller frees; the names are
 * borrowed from tmpl. NULL when out of memory. */
struct data_column *template_data_columns(const struct import_template *tmpl);

/*
 * The one rule for matching a sheet's header to a column's header or alias, shared by the
 * template validator (two columns must not claim the same normalized header) and the import
 * (a sheet's "E-MAIL " finds the column headed "Email"): ASCII letters folded to lower case,
 * and spaces, tabs, line breaks, no-break spaces (U+00A0), underscores and hyphens dropped.
 * Other bytes, UTF-8 included, are kept as they are. Replaces the contents of `out` with the
 * normalized form of `header[0..len)`; 0 or SD_ENOMEM.
 */
int template_header_normalize(struct buf *out, const char *header, size_t len);

/* The column with this key, or NULL. */
const struct template_column *template_find_column(const struct import_template *tmpl,
                                                   const char *key);

/*
 * Compiles a column's pattern for matching rows (REG_EXTENDED | REG_NOSUB). This is the one
 * place sheetd calls regcomp, so the cost of patterns is paid where rows are checked (once
 * per import or validation), never where a template is only listed or shown. 0, SD_EINVALID
 * with regcomp's reason in `err`, or SD_ENOMEM. The caller regfree()s *out on success.
 */
int template_pattern_compile(regex_t *out, const char *pattern, struct sd_error *err);
/* How many patterns template_pattern_compile has compiled in this process: a statistic for
 * tests that check a page or command compiles none. */
unsigned long template_patterns_compiled(void);

#endif
