/* db_bulk on SQLite: plain inserts at volume, and upserts that say which rows were updates. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "test_support.h"

static char *tmpdir;
static struct db *db;

static void setup(void)
{
    tmpdir = test_make_tmpdir();
    cr_assert_not_null(tmpdir);
    char *path = test_path(tmpdir, "bulk.db");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_open(&db, path, &err), 0, "%s", sd_error_message(&err));
    free(path);
    cr_assert_eq(db_exec(db,
                         "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, name TEXT, "
                         "age BIGINT, score REAL, active INTEGER);"
                         "CREATE UNIQUE INDEX people_email ON people (email)",
                         &err),
                 0, "%s", sd_error_message(&err));
}

static void teardown(void)
{
    db_close(db);
    test_rmtree(tmpdir);
    free(tmpdir);
}

TestSuite(bulk, .init = setup, .fini = teardown);

static const char *const columns[] = {"email", "name", "age", "score", "active"};
static const char *const key[] = {"email"};

static struct db_bulk *open_bulk(bool upsert)
{
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = "people";
    opts.columns = columns;
    opts.ncolumns = 5;
    if (upsert) {
        opts.key_columns = key;
        opts.nkey_columns = 1;
    }
    struct db_bulk *bulk = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_bulk_open(&bulk, db, &opts, &err), 0, "%s", sd_error_message(&err));
    return bulk;
}

static int write_person(struct db_bulk *bulk, const char *email, const char *name, int64_t age,
                        bool *updated, struct sd_error *err)
{
    struct db_value v[5] = {
        {.type = DB_VALUE_TEXT, .text = email, .len = strlen(email)},
        {.type = name ? DB_VALUE_TEXT : DB_VALUE_NULL,
         .text = name,
         .len = name ? strlen(name) : 0},
        {.type = DB_VALUE_INT64, .i = age},
        {.type = DB_VALUE_DOUBLE, .d = age / 4.0},
        {.type = DB_VALUE_BOOL, .i = age % 2},
    };
    return db_bulk_write_row(bulk, v, updated, err);
}

static int64_t query_int(const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    int64_t v = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return v;
}

Test(bulk, inserts_ten_thousand_rows)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    for (int i = 0; i < 10000; i++) {
        char email[32], name[32];
        snprintf(email, sizeof email, "p%d@example.com", i);
        snprintf(name, sizeof name, "Person %d", i);
        bool updated = true;
        cr_assert_eq(write_person(bulk, email, name, i, &updated, &err), 0, "row %d: %s", i,
                     sd_error_message(&err));
        cr_assert(!updated);
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));

    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 10000);
    cr_assert_eq(query_int("SELECT SUM(age) FROM people"), 9999LL * 10000 / 2);
    cr_assert_eq(query_int("SELECT SUM(active) FROM people"), 5000);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'p1234@example.com' "
                           "AND name = 'Person 1234' AND score = 308.5"),
                 1234);
}

Test(bulk, a_duplicate_without_key_columns_is_eexists)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(false);
    cr_assert_eq(write_person(bulk, "a@example.com", "A", 1, NULL, &err), 0);
    cr_assert_eq(write_person(bulk, "a@example.com", "A again", 2, NULL, &err), SD_EEXISTS);
    /* The writer is still usable after the refusal. */
    cr_assert_eq(write_person(bulk, "b@example.com", "B", 3, NULL, &err), 0, "%s",
                 sd_error_message(&err));
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 2);
}

Test(bulk, upsert_reports_which_rows_were_updates)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(true);
    bool updated = true;
    cr_assert_eq(write_person(bulk, "a@example.com", "Ann", 30, &updated, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert(!updated);
    cr_assert_eq(write_person(bulk, "b@example.com", "Bob", 40, &updated, &err), 0);
    cr_assert(!updated);
    cr_assert_eq(write_person(bulk, "a@example.com", "Anna", 31, &updated, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert(updated);
    cr_assert_eq(write_person(bulk, "c@example.com", NULL, 50, &updated, &err), 0);
    cr_assert(!updated);
    cr_assert_eq(write_person(bulk, "c@example.com", "Cy", 51, &updated, &err), 0);
    cr_assert(updated);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0);

    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 3);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'a@example.com' "
                           "AND name = 'Anna'"),
                 31);
    cr_assert_eq(query_int("SELECT active FROM people WHERE email = 'a@example.com'"), 1);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'c@example.com' "
                           "AND name = 'Cy'"),
                 51);
    /* The first row kept its id: it was updated in place, not replaced. */
    cr_assert_eq(query_int("SELECT id FROM people WHERE email = 'a@example.com'"), 1);
}

Test(bulk, upsert_where_every_column_is_key)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = "people";
    opts.columns = key;
    opts.ncolumns = 1;
    opts.key_columns = key;
    opts.nkey_columns = 1;
    struct db_bulk *bulk = NULL;
    cr_assert_eq(db_bulk_open(&bulk, db, &opts, &err), 0, "%s", sd_error_message(&err));
    struct db_value v = {.type = DB_VALUE_TEXT, .text = "k@example.com", .len = 13};
    bool updated = true;
    cr_assert_eq(db_bulk_write_row(bulk, &v, &updated, &err), 0);
    cr_assert(!updated);
    cr_assert_eq(db_bulk_write_row(bulk, &v, &updated, &err), 0);
    cr_assert(updated);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 1);
}

Test(bulk, a_key_column_must_be_written)
{
    struct sd_error err = SD_ERROR_INIT;
    static const char *const cols[] = {"name"};
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = "people";
    opts.columns = cols;
    opts.ncolumns = 1;
    opts.key_columns = key;
    opts.nkey_columns = 1;
    struct db_bulk *bulk = NULL;
    cr_assert_eq(db_bulk_open(&bulk, db, &opts, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    cr_assert_null(bulk);
}

Test(bulk, a_missing_table_is_reported_on_open)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = "nobody";
    opts.columns = columns;
    opts.ncolumns = 5;
    struct db_bulk *bulk = NULL;
    cr_assert_eq(db_bulk_open(&bulk, db, &opts, &err), SD_ERROR);
    cr_assert(strstr(err.message, "nobody"), "%s", err.message);
    cr_assert_null(bulk);
}

Test(bulk, rows_written_then_rolled_back_are_gone)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    for (int i = 0; i < 100; i++) {
        char email[32];
        snprintf(email, sizeof email, "r%d@example.com", i);
        cr_assert_eq(write_person(bulk, email, "R", i, NULL, &err), 0);
    }
    db_bulk_close(bulk);
    db_rollback(db);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 0);
}
