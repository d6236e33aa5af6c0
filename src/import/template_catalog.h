/*
 * Templates in the database: the catalog. store/template_store.h holds the rows; these wrap
 * them with parsing (import/template.h) and the data table. Parsing needs no database; only
 * this header does.
 */
#ifndef SHEETD_IMPORT_TEMPLATE_CATALOG_H
#define SHEETD_IMPORT_TEMPLATE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "import/template.h"
#include "store/db.h"

/*
 * template_create parses and validates `json`, then in one transaction stores the template
 * and creates its data table; nothing is written when anything fails. SD_EINVALID with
 * `problems` for a bad template, SD_EEXISTS when the name or table is taken.
 */
int template_create(struct import_template **out, struct db *db, const char *json, size_t len,
                    struct template_problems *problems, struct sd_error *err);
/* By id. SD_ENOTFOUND with "there is no template with id 7". */
int template_load(struct import_template **out, struct db *db, int64_t id, struct sd_error *err);
/* By a user's argument: an id when it is all digits, else a table name. */
int template_load_arg(struct import_template **out, struct db *db, const char *id_or_table,
                      struct sd_error *err);
/*
 * What a list of templates shows: id, name, table and column count, read without parsing
 * any definition or compiling any pattern, so a list costs the same whatever the templates
 * hold. Ordered by id; free with template_summaries_free.
 */
struct template_summary {
    int64_t id;
    char *name;
    char *table;
    size_t ncolumns;
};
int template_list(struct template_summary **out, size_t *count, struct db *db,
                  struct sd_error *err);
void template_summaries_free(struct template_summary *list, size_t count);

/* Every stored template, fully parsed, ordered by id. */
int template_load_all(struct import_template ***out, size_t *count, struct db *db,
                      struct sd_error *err);
void template_free_all(struct import_template **tmpls, size_t count);

#endif
