/*
 * The store contract suites run every test twice, once against SQLite and once against
 * PostgreSQL, from one body:
 *
 *     CONTRACT_TEST(bulk, inserts_in_order) { struct db *db = contract_open(); ... }
 *
 * registers bulk_sqlite::inserts_in_order and bulk_postgres::inserts_in_order. Each test gets
 * a fresh database of its own: a SQLite file in a fresh temporary directory, or a fresh
 * schema in the PostgreSQL database named by SHEETD_TEST_PG_URL (put first on the
 * search_path through the URL's options, and dropped at the end). Without
 * SHEETD_TEST_PG_URL the PostgreSQL half skips, saying so; `make test` (scripts/test.sh)
 * starts a throwaway server and sets it, so there it always runs.
 */
#ifndef SHEETD_TEST_CONTRACT_H
#define SHEETD_TEST_CONTRACT_H

#include <criterion/criterion.h>
#include <stdbool.h>

#include "store/db.h"
#include "store/store.h"

/* The running test's database: `url` for db_open or SHEETD_DATABASE_URL, `dir` a fresh
 * temporary directory (the data directory). */
struct contract {
    const char *backend; /* "sqlite" or "postgres" */
    char *url;
    const char *dir;
    char *schema; /* PostgreSQL: the test's schema */
    bool skip;
};

extern struct contract contract;

void contract_setup_sqlite(void);
void contract_setup_postgres(void);
void contract_teardown(void);
/* Skips the test (PostgreSQL without SHEETD_TEST_PG_URL); called by CONTRACT_TEST. */
void contract_check_skip(void);
bool contract_is_postgres(void);
/* store_open on contract.url with contract.dir as the data directory, asserting it works;
 * the caller closes it. */
struct store *contract_store_open(void);
/* db_open(contract.url), asserting it works; the caller closes it. */
struct db *contract_open(void);

/* Helpers on a connection: run SQL that must work, and read one integer or text. */
void contract_exec(struct db *db, const char *sql);
int64_t contract_int(struct db *db, const char *sql);
/* A malloc'd copy of the first column of the first row (NULL for SQL NULL). */
char *contract_text(struct db *db, const char *sql);

#define CONTRACT_TEST(suite, name, ...)                                                            \
    static void suite##_##name##_body(void);                                                       \
    Test(suite##_sqlite, name, .init = contract_setup_sqlite, .fini = contract_teardown,           \
         ##__VA_ARGS__)                                                                            \
    {                                                                                              \
        suite##_##name##_body();                                                                   \
    }                                                                                              \
    Test(suite##_postgres, name, .init = contract_setup_postgres, .fini = contract_teardown,       \
         ##__VA_ARGS__)                                                                            \
    {                                                                                              \
        contract_check_skip();                                                                     \
        suite##_##name##_body();                                                                   \
    }                                                                                              \
    static void suite##_##name##_body(void)

#endif
