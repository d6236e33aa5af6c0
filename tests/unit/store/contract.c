/* The two backends of the contract suites (contract.h). */
#include "contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

struct contract contract;

void contract_setup_sqlite(void)
{
    test_suite_tmpdir_setup();
    memset(&contract, 0, sizeof contract);
    contract.backend = "sqlite";
    contract.dir = test_suite_tmpdir();
    char *path = test_suite_path("contract.db");
    size_t n = strlen(path) + 8;
    contract.url = malloc(n);
    cr_assert_not_null(contract.url);
    snprintf(contract.url, n, "sqlite:%s", path);
    free(path);
}

/* The admin URL with the test's schema first on the search_path: a URL gets an "options"
 * query parameter, a keyword=value string an options keyword. */
static char *url_with_schema(const char *admin, const char *schema)
{
    size_t n = strlen(admin) + strlen(schema) + 64;
    char *url = malloc(n);
    cr_assert_not_null(url);
    if (strstr(admin, "://"))
        snprintf(url, n, "%s%soptions=-csearch_path%%3D%s", admin, strchr(admin, '?') ? "&" : "?",
                 schema);
    else
        snprintf(url, n, "%s options='-csearch_path=%s'", admin, schema);
    return url;
}

void contract_setup_postgres(void)
{
    test_suite_tmpdir_setup();
    memset(&contract, 0, sizeof contract);
    contract.backend = "postgres";
    contract.dir = test_suite_tmpdir();
    const char *admin = getenv("SHEETD_TEST_PG_URL");
    if (!admin || !*admin) {
        contract.skip = true;
        return;
    }
    /* Criterion runs each test in a process of its own: the pid names the schema. */
    char schema[64];
    snprintf(schema, sizeof schema, "sd_test_%ld", (long)getpid());
    contract.schema = strdup(schema);
    cr_assert_not_null(contract.schema);
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_open(&db, admin, &err), 0, "SHEETD_TEST_PG_URL: %s", sd_error_message(&err));
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", schema, schema);
    contract_exec(db, sql);
    db_close(db);
    contract.url = url_with_schema(admin, schema);
}

void contract_check_skip(void)
{
    if (contract.skip)
        cr_skip_test("SHEETD_TEST_PG_URL is not set, so the PostgreSQL half of the store "
                     "contract is skipped; `make test` starts a server and sets it");
}

void contract_teardown(void)
{
    if (contract.schema) {
        struct db *db = NULL;
        if (db_open(&db, getenv("SHEETD_TEST_PG_URL"), NULL) == 0) {
            char sql[256];
            snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", contract.schema);
            db_exec(db, sql, NULL);
            db_close(db);
        }
    }
    free(contract.schema);
    free(contract.url);
    memset(&contract, 0, sizeof contract);
    test_suite_tmpdir_teardown();
}

bool contract_is_postgres(void)
{
    return strcmp(contract.backend, "postgres") == 0;
}

struct db *contract_open(void)
{
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_open(&db, contract.url, &err), 0, "%s", sd_error_message(&err));
    cr_assert_str_eq(db_backend_name(db), contract.backend);
    return db;
}

void contract_exec(struct db *db, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
}

int64_t contract_int(struct db *db, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s: %s", sql, sd_error_message(&err));
    int64_t v = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return v;
}

char *contract_text(struct db *db, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s: %s", sql, sd_error_message(&err));
    const char *t = db_column_text(stmt, 0);
    char *copy = t ? strdup(t) : NULL;
    cr_assert(!t || copy);
    db_finalize(stmt);
    return copy;
}

struct store *contract_store_open(void)
{
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = contract.dir;
    config.database_url = contract.url;
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), 0, "%s", sd_error_message(&err));
    return store;
}
