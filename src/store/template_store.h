/*
 * The import_templates table: the stored JSON definition of each template, plus its name and
 * data-table name so both can be looked up and kept unique. Parsing and validating the JSON
 * is the import layer's job (import/template.h); this file only keeps rows.
 */
#ifndef SHEETD_STORE_TEMPLATE_STORE_H
#define SHEETD_STORE_TEMPLATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/db.h"

struct template_record {
    int64_t id;
    char *name;
    char *table_name;
    char *definition;     /* the template JSON as stored; NULL from template_store_summaries */
    char *created_at;     /* ISO 8601 UTC */
    int64_t column_count; /* entries of the definition's "columns" (summaries only, else 0) */
};

/* Inserts a template row; SD_EEXISTS with a sentence when the name or table is taken. */
int template_store_insert(struct db *db, const char *name, const char *table_name,
                          const char *definition, int64_t *id_out, struct sd_error *err);
/* SD_ENOTFOUND when there is no such template. The caller frees with template_record_free. */
int template_store_get(struct template_record **out, struct db *db, int64_t id,
                       struct sd_error *err);
int template_store_get_by_table(struct template_record **out, struct db *db, const char *table_name,
                                struct sd_error *err);
/* All templates ordered by id; free with template_record_list_free. */
int template_store_list(struct template_record **out, size_t *count, struct db *db,
                        struct sd_error *err);
/* All templates ordered by id without their definitions: id, name, table and the length of
 * the definition's "columns" list, counted by the database, so listing templates costs the
 * same whatever they hold. Free with template_record_list_free. */
int template_store_summaries(struct template_record **out, size_t *count, struct db *db,
                             struct sd_error *err);
int template_store_count(struct db *db, int64_t *count, struct sd_error *err);

void template_record_free(struct template_record *record);
void template_record_list_free(struct template_record *records, size_t count);

#endif
