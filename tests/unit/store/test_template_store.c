/* The import_templates rows: insert, get, list, count and their error codes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/template_store.h"
#include "test_support.h"

static struct store *store;
static struct db *db;

static void setup(void)
{
    test_suite_tmpdir_setup();
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = test_suite_tmpdir();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
}

static void teardown(void)
{
    store_release(store, db);
    store_close(store);
    test_suite_tmpdir_teardown();
}

TestSuite(template_store, .init = setup, .fini = teardown);

static int64_t insert(const char *name, const char *table, const char *definition)
{
    struct sd_error err = SD_ERROR_INIT;
    int64_t id = 0;
    cr_assert_eq(template_store_insert(db, name, table, definition, &id, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_gt(id, 0);
    return id;
}

Test(template_store, insert_then_get_by_id_and_by_table)
{
    int64_t id = insert("Customers", "customers", "{\"name\":\"Customers\"}");
    struct sd_error err = SD_ERROR_INIT;
    struct template_record *r = NULL;
    cr_assert_eq(template_store_get(&r, db, id, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(r->id, id);
    cr_assert_str_eq(r->name, "Customers");
    cr_assert_str_eq(r->table_name, "customers");
    cr_assert_str_eq(r->definition, "{\"name\":\"Customers\"}");
    cr_assert_eq(strlen(r->created_at), strlen("2026-11-28T20:34:00Z"), "%s", r->created_at);
    cr_assert_eq(r->created_at[10], 'T');
    template_record_free(r);

    r = NULL;
    cr_assert_eq(template_store_get_by_table(&r, db, "customers", &err), 0);
    cr_assert_eq(r->id, id);
    cr_assert_str_eq(r->name, "Customers");
    template_record_free(r);
}

Test(template_store, missing_templates_are_enotfound)
{
    struct sd_error err = SD_ERROR_INIT;
    struct template_record *r = NULL;
    cr_assert_eq(template_store_get(&r, db, 42, &err), SD_ENOTFOUND);
    cr_assert(strstr(err.message, "42"), "%s", err.message);
    cr_assert_null(r);
    cr_assert_eq(template_store_get_by_table(&r, db, "orders", &err), SD_ENOTFOUND);
    cr_assert(strstr(err.message, "orders"), "%s", err.message);
    cr_assert_null(r);
}

Test(template_store, a_taken_name_or_table_is_eexists_with_a_sentence)
{
    insert("Customers", "customers", "{}");
    struct sd_error err = SD_ERROR_INIT;
    int64_t id = -1;
    cr_assert_eq(template_store_insert(db, "Customers", "clients", "{}", &id, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "a template named \"Customers\" already exists"), "%s",
              err.message);
    cr_assert_eq(template_store_insert(db, "Clients", "customers", "{}", &id, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "the table \"customers\" is already used"), "%s", err.message);
    int64_t count = -1;
    cr_assert_eq(template_store_count(db, &count, &err), 0);
    cr_assert_eq(count, 1);
}

Test(template_store, list_is_ordered_by_id)
{
    struct sd_error err = SD_ERROR_INIT;
    struct template_record *list = NULL;
    size_t n = 99;
    cr_assert_eq(template_store_list(&list, &n, db, &err), 0);
    cr_assert_eq(n, 0);
    template_record_list_free(list, n);

    int64_t ids[12];
    for (int i = 0; i < 12; i++) {
        char name[16], table[16];
        snprintf(name, sizeof name, "T %d", i);
        snprintf(table, sizeof table, "t%d", i);
        ids[i] = insert(name, table, "{}");
    }
    cr_assert_eq(template_store_list(&list, &n, db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(n, 12);
    for (int i = 0; i < 12; i++) {
        char table[16];
        snprintf(table, sizeof table, "t%d", i);
        cr_assert_eq(list[i].id, ids[i]);
        cr_assert_str_eq(list[i].table_name, table);
        if (i)
            cr_assert_gt(list[i].id, list[i - 1].id);
    }
    template_record_list_free(list, n);
    int64_t count = 0;
    cr_assert_eq(template_store_count(db, &count, &err), 0);
    cr_assert_eq(count, 12);
}

Test(template_store, an_insert_rolled_back_leaves_nothing)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    insert("Temp", "temp_rows", "{}");
    db_rollback(db);
    int64_t count = -1;
    cr_assert_eq(template_store_count(db, &count, &err), 0);
    cr_assert_eq(count, 0);
}

Test(template_store, without_migrations_the_error_says_so)
{
    char *dir = test_suite_path("fresh");
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = dir;
    struct store *s = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&s, &config, &err), 0);
    struct db *d = NULL;
    cr_assert_eq(store_acquire_main(s, &d, &err), 0);
    int64_t count = 0;
    cr_assert_eq(template_store_count(d, &count, &err), SD_ERROR);
    cr_assert(strstr(err.message, "import_templates"), "%s", err.message);
    store_release(s, d);
    store_close(s);
    free(dir);
}
