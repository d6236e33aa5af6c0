/*
 * Templates in the database. The store keeps rows (store/template_store.h) and tables
 * (store/data_table.h); this file keeps them consistent with each other: a template row is
 * only ever committed together with its data table, and what the store keeps is the canonical
 * JSON, so every load parses a document this version of sheetd wrote.
 */
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "import/template_catalog.h"
#include "import/template_internal.h"
#include "store/template_store.h"

/*
 * Parses, then stores the canonical JSON and creates the data table in one transaction, so
 * a failure at either step leaves nothing behind (on PostgreSQL DDL is transactional; on
 * SQLite too). The caller owns *out.
 */
int template_create(struct import_template **out, struct db *db, const char *json, size_t len,
                    struct template_problems *problems, struct sd_error *err)
{
    struct import_template *tmpl = NULL;
    struct data_column *cols = NULL;
    struct buf canonical = BUF_INIT;
    bool in_tx = false;
    int64_t id = 0;
    *out = NULL;

    int rc = template_parse(&tmpl, json, len, problems, err);
    if (rc)
        return rc;
    if ((rc = template_to_json(tmpl, &canonical, err)))
        goto fail;
    if (!(cols = template_data_columns(tmpl))) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    if ((rc = db_begin(db, err)))
        goto fail;
    in_tx = true;
    rc = template_store_insert(db, tmpl->name, tmpl->table, buf_cstr(&canonical), &id, err);
    if (rc)
        goto fail;
    rc = data_table_create(db, tmpl->table, cols, tmpl->ncolumns,
                           (const char *const *)tmpl->upsert_key, tmpl->nupsert_key, err);
    if (rc) /* SD_EEXISTS: a table of that name exists without a template */
        goto fail;
    if ((rc = db_commit(db, err)))
        goto fail;
    in_tx = false;
    tmpl->id = id;
    *out = tmpl;
    tmpl = NULL;

fail:
    if (in_tx)
        db_rollback(db);
    free(cols);
    buf_free(&canonical);
    template_free(tmpl);
    return rc;
}

/* Turns a stored record into a template. A definition that no longer parses (written by a
 * newer sheetd, or edited by hand in the database) is a hard error naming the template. */
static int from_record(struct import_template **out, const struct template_record *rec,
                       struct sd_error *err)
{
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    const char *def = rec->definition ? rec->definition : "";
    int rc = template_parse_sized(out, def, strlen(def), TEMPLATE_STORED_JSON_MAX, &problems, err);
    if (rc == SD_EINVALID) {
        sd_error_set(err, SD_ERROR,
                     "template %lld (\"%s\") is stored with a definition this sheetd cannot "
                     "read: %s",
                     (long long)rec->id, rec->name ? rec->name : "",
                     problems.count ? problems.messages[0] : "unknown problem");
        rc = SD_ERROR;
    }
    template_problems_free(&problems);
    if (rc == 0)
        (*out)->id = rec->id;
    return rc;
}

int template_load(struct import_template **out, struct db *db, int64_t id, struct sd_error *err)
{
    struct template_record *rec = NULL;
    *out = NULL;
    int rc = template_store_get(&rec, db, id, err);
    if (rc == SD_ENOTFOUND)
        return sd_error_set(err, SD_ENOTFOUND, "there is no template with id %lld", (long long)id);
    if (rc)
        return rc;
    rc = from_record(out, rec, err);
    template_record_free(rec);
    return rc;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

int template_load_arg(struct import_template **out, struct db *db, const char *id_or_table,
                      struct sd_error *err)
{
    *out = NULL;
    if (all_digits(id_or_table)) {
        long long id;
        if (!str_to_int64(id_or_table, &id) || id <= 0)
            return sd_error_set(err, SD_ENOTFOUND, "there is no template with id %s", id_or_table);
        return template_load(out, db, id, err);
    }
    if (!data_table_identifier_ok(id_or_table))
        return sd_error_set(err, SD_ENOTFOUND,
                            "there is no template \"%s\": give a template's id or its table name",
                            id_or_table);
    struct template_record *rec = NULL;
    int rc = template_store_get_by_table(&rec, db, id_or_table, err);
    if (rc == SD_ENOTFOUND)
        return sd_error_set(err, SD_ENOTFOUND, "there is no template with table \"%s\"",
                            id_or_table);
    if (rc)
        return rc;
    rc = from_record(out, rec, err);
    template_record_free(rec);
    return rc;
}

void template_free_all(struct import_template **tmpls, size_t count)
{
    if (!tmpls)
        return;
    for (size_t i = 0; i < count; i++)
        template_free(tmpls[i]);
    free(tmpls);
}

int template_load_all(struct import_template ***out, size_t *count, struct db *db,
                      struct sd_error *err)
{
    struct template_record *recs = NULL;
    size_t n = 0;
    *out = NULL;
    *count = 0;
    int rc = template_store_list(&recs, &n, db, err);
    if (rc)
        return rc;
    struct import_template **tmpls = calloc(n ? n : 1, sizeof *tmpls);
    if (!tmpls) {
        rc = sd_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = from_record(&tmpls[i], &recs[i], err))) {
            template_free_all(tmpls, n);
            goto done;
        }
    }
    *out = tmpls;
    *count = n;
done:
    template_record_list_free(recs, n);
    return rc;
}

void template_summaries_free(struct template_summary *list, size_t count)
{
    if (!list)
        return;
    for (size_t i = 0; i < count; i++) {
        free(list[i].name);
        free(list[i].table);
    }
    free(list);
}

/* The list takes the names the store read and the column count the database counted; no
 * definition is parsed, so a template of a thousand patterned columns lists as fast as a
 * template of one. */
int template_list(struct template_summary **out, size_t *count, struct db *db, struct sd_error *err)
{
    struct template_record *recs = NULL;
    size_t n = 0;
    *out = NULL;
    *count = 0;
    int rc = template_store_summaries(&recs, &n, db, err);
    if (rc)
        return rc;
    struct template_summary *list = calloc(n ? n : 1, sizeof *list);
    if (!list) {
        rc = sd_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        list[i].id = recs[i].id;
        list[i].name = recs[i].name;
        list[i].table = recs[i].table_name;
        list[i].ncolumns = recs[i].column_count > 0 ? (size_t)recs[i].column_count : 0;
        recs[i].name = recs[i].table_name = NULL;
    }
    *out = list;
    *count = n;
done:
    template_record_list_free(recs, n);
    return rc;
}
