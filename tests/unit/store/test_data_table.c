/* Data tables: identifiers, CREATE with types and sheetd's columns, check, select, bulk. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/data_table.h"
#include "store/db.h"
#include "test_support.h"

static struct db *db;

static void setup(void)
{
    test_suite_tmpdir_setup();
    char *path = test_suite_path("data.db");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_open(&db, path, &err), 0, "%s", sd_error_message(&err));
    free(path);
}

static void teardown(void)
{
    db_close(db);
    test_suite_tmpdir_teardown();
}

TestSuite(data_table, .init = setup, .fini = teardown);

static const struct data_column columns[] = {
    {"email", DATA_COLUMN_TEXT},       {"age", DATA_COLUMN_INTEGER},
    {"amount", DATA_COLUMN_DECIMAL},   {"signup", DATA_COLUMN_DATE},
    {"seen_at", DATA_COLUMN_DATETIME}, {"active", DATA_COLUMN_BOOLEAN},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])
static const char *const key[] = {"email"};

static int64_t query_int(const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s: %s", sql, sd_error_message(&err));
    int64_t v = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return v;
}

static void create_customers(void)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(data_table_create(db, "customers", columns, NCOLUMNS, key, 1, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_commit(db, &err), 0);
}

Test(data_table, identifiers)
{
    cr_assert(data_table_identifier_ok("email"));
    cr_assert(data_table_identifier_ok("a"));
    cr_assert(data_table_identifier_ok("signup_date_2"));
    cr_assert(data_table_identifier_ok("selected")); /* contains a keyword, is not one */
    char longest[64];
    memset(longest, 'a', 63);
    longest[63] = '\0';
    cr_assert(data_table_identifier_ok(longest));
    char too_long[65];
    memset(too_long, 'a', 64);
    too_long[64] = '\0';
    cr_assert(!data_table_identifier_ok(too_long));

    cr_assert(!data_table_identifier_ok(""));
    cr_assert(!data_table_identifier_ok(NULL));
    cr_assert(!data_table_identifier_ok("_row"));
    cr_assert(!data_table_identifier_ok("1abc"));
    cr_assert(!data_table_identifier_ok("Email"));
    cr_assert(!data_table_identifier_ok("e-mail"));
    cr_assert(!data_table_identifier_ok("e mail"));
    cr_assert(!data_table_identifier_ok("x\"; DROP TABLE t; --"));
    cr_assert(!data_table_identifier_ok("caf\xc3\xa9"));
    cr_assert(!data_table_identifier_ok("select"));
    cr_assert(!data_table_identifier_ok("user"));
}

Test(data_table, keywords_of_both_databases_any_case)
{
    static const char *const words[] = {
        "add",     "all",          "alter",        "analyse",
        "and",     "as",           "asc",          "autoincrement",
        "between", "both",         "case",         "check",
        "collate", "column",       "constraint",   "create",
        "cross",   "current_date", "current_user", "default",
        "delete",  "desc",         "distinct",     "do",
        "drop",    "else",         "end",          "except",
        "exists",  "false",        "fetch",        "for",
        "foreign", "from",         "full",         "grant",
        "group",   "having",       "ilike",        "in",
        "index",   "inner",        "insert",       "intersect",
        "into",    "is",           "join",         "lateral",
        "left",    "like",         "limit",        "natural",
        "not",     "null",         "offset",       "on",
        "only",    "or",           "order",        "outer",
        "primary", "references",   "returning",    "right",
        "select",  "set",          "table",        "then",
        "to",      "true",         "union",        "unique",
        "update",  "user",         "using",        "values",
        "verbose", "when",         "where",        "window",
        "with",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_assert(data_table_is_keyword(words[i]), "%s", words[i]);
    cr_assert(data_table_is_keyword("SELECT"));
    cr_assert(data_table_is_keyword("Order"));
    cr_assert(!data_table_is_keyword("email"));
    cr_assert(!data_table_is_keyword("customers"));
    cr_assert(!data_table_is_keyword("selects"));
    cr_assert(!data_table_is_keyword("a"));
    cr_assert(!data_table_is_keyword("zzz"));
    cr_assert(!data_table_is_keyword(""));
    cr_assert(!data_table_is_keyword("an_identifier_longer_than_any_keyword_there_is"));
}

Test(data_table, create_makes_typed_columns_and_sheetd_columns)
{
    create_customers();
    static const char *const expect[][2] = {
        {"_id", "INTEGER"},    {"email", "TEXT"},  {"age", "BIGINT"},
        {"amount", "REAL"},    {"signup", "TEXT"}, {"seen_at", "TEXT"},
        {"active", "INTEGER"}, {"_row", "BIGINT"}, {"_job_id", "TEXT"},
    };
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db,
                            "SELECT name, type, pk FROM pragma_table_info('customers') "
                            "ORDER BY cid",
                            &err),
                 0);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        cr_assert_eq(db_step(stmt, &err), DB_ROW, "column %zu missing", i);
        cr_assert_str_eq(db_column_text(stmt, 0), expect[i][0]);
        cr_assert_str_eq(db_column_text(stmt, 1), expect[i][1], "%s", expect[i][0]);
        cr_assert_eq(db_column_int64(stmt, 2), i == 0 ? 1 : 0);
    }
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
}

Test(data_table, the_unique_index_is_enforced)
{
    create_customers();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "INSERT INTO customers (email) VALUES ('a@example.com')", &err), 0);
    cr_assert_eq(db_exec(db, "INSERT INTO customers (email) VALUES ('a@example.com')", &err),
                 SD_EEXISTS);
    cr_assert(strstr(err.message, "customers.email"), "%s", err.message);
    cr_assert_eq(db_exec(db, "INSERT INTO customers (email) VALUES ('b@example.com')", &err), 0);
}

Test(data_table, without_a_key_duplicates_are_allowed)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_create(db, "events", columns, NCOLUMNS, NULL, 0, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_exec(db,
                         "INSERT INTO events (email) VALUES ('a@example.com');"
                         "INSERT INTO events (email) VALUES ('a@example.com')",
                         &err),
                 0, "%s", sd_error_message(&err));
    int64_t n = 0;
    cr_assert_eq(data_table_count_rows(db, "events", &n, &err), 0);
    cr_assert_eq(n, 2);
}

Test(data_table, create_refuses_what_cannot_work)
{
    create_customers();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_create(db, "customers", columns, NCOLUMNS, key, 1, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "\"customers\" already exists"), "%s", err.message);

    /* A template may have its own "id" column: sheetd's row id is "_id". */
    const struct data_column with_id[] = {{"id", DATA_COLUMN_INTEGER}};
    cr_assert_eq(data_table_create(db, "with_id", with_id, 1, NULL, 0, &err), 0, "%s",
                 sd_error_message(&err));

    const struct data_column twice[] = {{"a", DATA_COLUMN_TEXT}, {"a", DATA_COLUMN_TEXT}};
    cr_assert_eq(data_table_create(db, "other", twice, 2, NULL, 0, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "twice"), "%s", err.message);

    static const char *const bad_key[] = {"nope"};
    cr_assert_eq(data_table_create(db, "other", columns, NCOLUMNS, bad_key, 1, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "nope"), "%s", err.message);

    cr_assert_eq(data_table_create(db, "other", columns, 0, NULL, 0, &err), SD_EINVALID);

    /* None of the refusals left a table behind. */
    cr_assert_eq(query_int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'other'"), 0);
}

Test(data_table, check_passes_then_reports_a_dropped_column)
{
    create_customers();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_check(db, "customers", columns, NCOLUMNS, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_exec(db, "ALTER TABLE customers DROP COLUMN amount", &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(data_table_check(db, "customers", columns, NCOLUMNS, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "no column \"amount\""), "%s", err.message);
    cr_assert(strstr(err.message, "\"customers\""), "%s", err.message);
}

Test(data_table, check_reports_a_missing_table)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_check(db, "customers", columns, NCOLUMNS, &err), SD_ENOTFOUND);
    cr_assert(strstr(err.message, "\"customers\" no longer exists"), "%s", err.message);
}

Test(data_table, bulk_writes_rows_with_row_and_job_and_select_reads_them_back)
{
    create_customers();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = NULL;
    cr_assert_eq(data_table_bulk_open(&bulk, db, "customers", columns, NCOLUMNS, key, 1, &err), 0,
                 "%s", sd_error_message(&err));
    const char *emails[] = {"a@example.com", "b@example.com", "a@example.com"};
    for (int i = 0; i < 3; i++) {
        struct db_value v[NCOLUMNS + 2] = {
            {.type = DB_VALUE_TEXT, .text = emails[i], .len = strlen(emails[i])},
            {.type = DB_VALUE_INT64, .i = 20 + i},
            {.type = DB_VALUE_DOUBLE, .d = 1.5 * i},
            {.type = DB_VALUE_TEXT, .text = "2015-03-01", .len = 10},
            {.type = DB_VALUE_NULL},
            {.type = DB_VALUE_BOOL, .i = 1},
            {.type = DB_VALUE_INT64, .i = i + 2},
            {.type = DB_VALUE_TEXT, .text = "3f9a0c1d2e4b5a69", .len = 16},
        };
        cr_assert_eq(db_bulk_write_row(bulk, v, i + 2, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    uint64_t inserted = 0, updated = 0;
    db_bulk_counts(bulk, &inserted, &updated);
    cr_assert_eq(inserted, 2);
    cr_assert_eq(updated, 1);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0);

    int64_t n = 0;
    cr_assert_eq(data_table_count_rows(db, "customers", &n, &err), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(query_int("SELECT _row FROM customers WHERE email = 'a@example.com'"), 4);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM customers WHERE _job_id = '3f9a0c1d2e4b5a69'"), 2);

    struct db_stmt *stmt = NULL;
    cr_assert_eq(data_table_select_all(&stmt, db, "customers", columns, NCOLUMNS, &err), 0);
    cr_assert_eq(db_column_count(stmt), (int)NCOLUMNS);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "a@example.com");
    cr_assert_eq(db_column_int64(stmt, 1), 22);
    cr_assert_float_eq(db_column_double(stmt, 2), 3.0, 1e-12);
    cr_assert_str_eq(db_column_text(stmt, 3), "2015-03-01");
    cr_assert(db_column_is_null(stmt, 4));
    cr_assert_eq(db_column_int64(stmt, 5), 1);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "b@example.com");
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
}

Test(data_table, count_of_a_missing_table_is_an_error)
{
    struct sd_error err = SD_ERROR_INIT;
    int64_t n = 0;
    cr_assert_lt(data_table_count_rows(db, "customers", &n, &err), 0);
    cr_assert(strstr(err.message, "customers"), "%s", err.message);
}
