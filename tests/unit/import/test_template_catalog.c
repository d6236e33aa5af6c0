/* template_create/load/load_arg/load_all against a real SQLite store: what gets written,
 * and that nothing is written when anything fails. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "store/data_table.h"
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
    cr_assert_eq(store_acquire_main(store, &db, &err), 0, "%s", sd_error_message(&err));
}

static void teardown(void)
{
    store_release(store, db);
    store_close(store);
    test_suite_tmpdir_teardown();
}

TestSuite(catalog, .init = setup, .fini = teardown);

static const char *customers =
    "{\"name\": \"Customers\", \"table\": \"customers\", \"upsert_key\": [\"email\"], "
    "\"columns\": ["
    "{\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true},"
    "{\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0},"
    "{\"key\": \"signup\", \"header\": \"Signup\", \"type\": \"date\"}]}";

static int64_t stored_count(void)
{
    int64_t n = -1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_store_count(db, &n, &err), 0, "%s", err.message);
    return n;
}

static bool table_exists(const char *table)
{
    struct sd_error err = SD_ERROR_INIT;
    int64_t rows;
    int rc = data_table_count_rows(db, table, &rows, &err);
    return rc == 0;
}

static struct import_template *create_ok(const char *json)
{
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_create(&t, db, json, strlen(json), &problems, &err);
    cr_assert_eq(rc, 0, "template_create: %s", err.message);
    cr_assert_eq(problems.count, 0);
    return t;
}

Test(catalog, create_stores_the_template_and_creates_its_table)
{
    struct import_template *t = create_ok(customers);
    cr_assert_gt(t->id, 0);
    cr_assert_eq(stored_count(), 1);

    /* the table has the typed columns plus _row and _job_id */
    struct data_column cols[] = {
        {"email", DATA_COLUMN_TEXT}, {"amount", DATA_COLUMN_DECIMAL}, {"signup", DATA_COLUMN_DATE}};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_check(db, "customers", cols, 3, &err), 0, "%s", err.message);
    int64_t rows = -1;
    cr_assert_eq(data_table_count_rows(db, "customers", &rows, &err), 0);
    cr_assert_eq(rows, 0);

    /* the upsert key is a unique index */
    cr_assert_eq(db_exec(db,
                         "INSERT INTO customers (email, _row, _job_id) VALUES "
                         "('a@example.com', 2, 'cli')",
                         &err),
                 0, "%s", err.message);
    cr_assert_eq(db_exec(db,
                         "INSERT INTO customers (email, _row, _job_id) VALUES "
                         "('a@example.com', 3, 'cli')",
                         &err),
                 SD_EEXISTS);

    /* what the store keeps is the canonical JSON */
    struct template_record *rec = NULL;
    cr_assert_eq(template_store_get(&rec, db, t->id, &err), 0);
    struct buf canonical = BUF_INIT;
    int64_t id = t->id;
    t->id = 0;
    cr_assert_eq(template_to_json(t, &canonical, NULL), 0);
    t->id = id;
    cr_assert_str_eq(rec->definition, canonical.data);
    cr_assert_str_eq(rec->name, "Customers");
    cr_assert_str_eq(rec->table_name, "customers");
    template_record_free(rec);
    buf_free(&canonical);
    template_free(t);
}

Test(catalog, an_invalid_template_writes_nothing)
{
    const char *bad = "{\"name\": \"Bad\", \"table\": \"bad\", \"columns\": [{\"key\": \"a\", "
                      "\"header\": \"A\", \"type\": \"money\"}]}";
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_create(&t, db, bad, strlen(bad), &problems, &err), SD_EINVALID);
    cr_assert_null(t);
    cr_assert_eq(problems.count, 1);
    cr_assert_str_eq(problems.messages[0],
                     "columns[0] (\"A\"): unknown type \"money\"; use string, integer, decimal, "
                     "date, datetime, boolean, email or enum");
    template_problems_free(&problems);
    cr_assert_eq(stored_count(), 0);
    cr_assert_not(table_exists("bad"));
}

Test(catalog, a_taken_name_is_refused_and_nothing_is_written)
{
    template_free(create_ok(customers));
    const char *same_name = "{\"name\": \"Customers\", \"table\": \"clients\", \"columns\": "
                            "[{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]}";
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_create(&t, db, same_name, strlen(same_name), NULL, &err), SD_EEXISTS);
    cr_assert_null(t);
    cr_assert_str_eq(err.message,
                     "a template named \"Customers\" already exists; choose another name");
    cr_assert_eq(stored_count(), 1);
    cr_assert_not(table_exists("clients"));
}

Test(catalog, a_taken_table_is_refused)
{
    template_free(create_ok(customers));
    const char *same_table = "{\"name\": \"Clients\", \"table\": \"customers\", \"columns\": "
                             "[{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]}";
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_create(&t, db, same_table, strlen(same_table), NULL, &err), SD_EEXISTS);
    cr_assert_null(t);
    cr_assert_eq(stored_count(), 1);
}

Test(catalog, a_table_that_exists_outside_sheetd_rolls_the_template_back)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "CREATE TABLE legacy (x INTEGER)", &err), 0, "%s", err.message);
    const char *json = "{\"name\": \"Legacy\", \"table\": \"legacy\", \"columns\": "
                       "[{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\"}]}";
    struct import_template *t = NULL;
    cr_assert_eq(template_create(&t, db, json, strlen(json), NULL, &err), SD_EEXISTS);
    cr_assert_null(t);
    cr_assert_str_eq(err.message, "the table \"legacy\" already exists in the database; choose "
                                  "another table name");
    cr_assert_eq(stored_count(), 0); /* the row inserted before CREATE TABLE was rolled back */
}

Test(catalog, load_by_id_and_by_argument)
{
    struct import_template *created = create_ok(customers);
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", (long long)created->id);

    cr_assert_eq(template_load(&t, db, created->id, &err), 0, "%s", err.message);
    cr_assert_eq(t->id, created->id);
    cr_assert_str_eq(t->name, "Customers");
    cr_assert_eq(t->ncolumns, 3);
    cr_assert_eq(template_find_column(t, "amount")->min, 0.0);
    template_free(t);

    cr_assert_eq(template_load_arg(&t, db, arg, &err), 0, "%s", err.message);
    cr_assert_eq(t->id, created->id);
    template_free(t);

    cr_assert_eq(template_load_arg(&t, db, "customers", &err), 0, "%s", err.message);
    cr_assert_eq(t->id, created->id);
    cr_assert_str_eq(t->upsert_key[0], "email");

    /* what was created and what was loaded print the same */
    struct buf a = BUF_INIT, b = BUF_INIT;
    cr_assert_eq(template_to_json(created, &a, NULL), 0);
    cr_assert_eq(template_to_json(t, &b, NULL), 0);
    cr_assert_str_eq(a.data, b.data);
    buf_free(&a);
    buf_free(&b);
    template_free(t);
    template_free(created);
}

Test(catalog, unknown_templates_have_clear_messages)
{
    struct import_template *t = (struct import_template *)0x1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_load(&t, db, 7, &err), SD_ENOTFOUND);
    cr_assert_null(t);
    cr_assert_str_eq(err.message, "there is no template with id 7");
    cr_assert_eq(template_load_arg(&t, db, "7", &err), SD_ENOTFOUND);
    cr_assert_str_eq(err.message, "there is no template with id 7");
    cr_assert_eq(template_load_arg(&t, db, "99999999999999999999", &err), SD_ENOTFOUND);
    cr_assert_str_eq(err.message, "there is no template with id 99999999999999999999");
    cr_assert_eq(template_load_arg(&t, db, "orders", &err), SD_ENOTFOUND);
    cr_assert_str_eq(err.message, "there is no template with table \"orders\"");
    cr_assert_eq(template_load_arg(&t, db, "My Orders", &err), SD_ENOTFOUND);
    cr_assert_str_eq(err.message,
                     "there is no template \"My Orders\": give a template's id or its table name");
    cr_assert_eq(template_load_arg(&t, db, "", &err), SD_ENOTFOUND);
    cr_assert_null(t);
}

Test(catalog, load_all_in_id_order)
{
    struct import_template **all = NULL;
    size_t n = 99;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_load_all(&all, &n, db, &err), 0, "%s", err.message);
    cr_assert_eq(n, 0);
    template_free_all(all, n);

    template_free(create_ok(customers));
    template_free(create_ok("{\"name\": \"Orders\", \"table\": \"orders\", \"mode\": "
                            "\"partial\", \"columns\": [{\"key\": \"ref\", \"header\": "
                            "\"Ref\", \"type\": \"string\"}]}"));
    cr_assert_eq(template_load_all(&all, &n, db, &err), 0, "%s", err.message);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(all[0]->name, "Customers");
    cr_assert_str_eq(all[1]->name, "Orders");
    cr_assert_lt(all[0]->id, all[1]->id);
    cr_assert_eq(all[1]->mode, TEMPLATE_MODE_PARTIAL);
    template_free_all(all, n);
}

Test(catalog, a_stored_definition_that_no_longer_parses_is_reported)
{
    struct sd_error err = SD_ERROR_INIT;
    int64_t id = 0;
    cr_assert_eq(template_store_insert(db, "Broken", "broken", "{\"name\": \"Broken\"}", &id, &err),
                 0, "%s", err.message);
    struct import_template *t = NULL;
    char want[256];
    snprintf(want, sizeof want,
             "template %lld (\"Broken\") is stored with a definition this sheetd cannot read: "
             "table is missing: give the name of the database table the rows go to, e.g. "
             "\"customers\"",
             (long long)id);
    cr_assert_eq(template_load(&t, db, id, &err), SD_ERROR);
    cr_assert_null(t);
    cr_assert_str_eq(err.message, want);
}

Test(catalog, the_shipped_example_is_valid)
{
    char *path = test_path(test_source_dir(), "examples/customers.template.json");
    size_t len = 0;
    char *json = test_read_file(path, &len);
    cr_assert_not_null(json, "cannot read %s", path);
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_create(&t, db, json, len, &problems, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_eq(t->ncolumns, 10);
    cr_assert_str_eq(t->table, "customers");
    template_free(t);
    free(json);
    free(path);
}

/* Listing shows id, name, table and column count, and reads them without parsing a
 * definition: a template whose patterns are costly lists as cheaply as any other. Loading
 * one to show it parses it, but compiles no pattern either. */
Test(catalog, listing_and_loading_compile_no_pattern)
{
    struct template_summary *list = NULL;
    size_t n = 99;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_list(&list, &n, db, &err), 0, "%s", err.message);
    cr_assert_eq(n, 0);
    template_summaries_free(list, n);

    template_free(create_ok(customers));
    template_free(create_ok("{\"name\": \"Codes\", \"table\": \"codes\", \"columns\": ["
                            "{\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", "
                            "\"pattern\": \"^(ab|cd)+$\"},"
                            "{\"key\": \"b\", \"header\": \"B\", \"type\": \"string\", "
                            "\"pattern\": \"([a-z]{99}){99}\"}]}"));
    unsigned long before = template_patterns_compiled();
    cr_assert_eq(template_list(&list, &n, db, &err), 0, "%s", err.message);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].name, "Customers");
    cr_assert_str_eq(list[0].table, "customers");
    cr_assert_eq(list[0].ncolumns, 3);
    cr_assert_str_eq(list[1].name, "Codes");
    cr_assert_eq(list[1].ncolumns, 2);
    cr_assert_lt(list[0].id, list[1].id);
    struct import_template *t = NULL;
    cr_assert_eq(template_load(&t, db, list[1].id, &err), 0, "%s", err.message);
    cr_assert_str_eq(t->columns[1].pattern, "([a-z]{99}){99}");
    template_summaries_free(list, n);
    cr_assert_eq(template_patterns_compiled(), before, "listing and loading compiled a pattern");
    template_free(t);
}
