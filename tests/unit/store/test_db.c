/* The db wrappers over the SQLite backend: statements, types, transactions, error codes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/clock.h"
#include "store/db.h"
#include "store/db_backend.h"
#include "test_support.h"

static struct db *db;

static char *url_for(const char *name, const char *suffix)
{
    char *path = test_suite_path(name);
    size_t len = strlen(path) + strlen(suffix) + 16;
    char *url = malloc(len);
    cr_assert_not_null(url);
    snprintf(url, len, "sqlite:%s%s", path, suffix);
    free(path);
    return url;
}

static struct db *open_db(const char *name, const char *suffix)
{
    struct sd_error err = SD_ERROR_INIT;
    char *url = url_for(name, suffix);
    struct db *d = NULL;
    int rc = db_open(&d, url, &err);
    cr_assert_eq(rc, 0, "db_open(%s): %s", url, sd_error_message(&err));
    free(url);
    return d;
}

static void setup(void)
{
    test_suite_tmpdir_setup();
    db = open_db("test.db", "");
}

static void teardown(void)
{
    db_close(db);
    db = NULL;
    test_suite_tmpdir_teardown();
}

static void exec_ok(struct db *d, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc = db_exec(d, sql, &err);
    cr_assert_eq(rc, 0, "%s: %s", sql, sd_error_message(&err));
}

static int64_t query_int(struct db *d, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, d, sql, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    int64_t v = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return v;
}

TestSuite(db, .init = setup, .fini = teardown);

Test(db, opens_with_wal_and_foreign_keys)
{
    cr_assert_str_eq(db_backend_name(db), "sqlite");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "PRAGMA journal_mode", &err), 0);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "wal");
    db_finalize(stmt);
    cr_assert_eq(query_int(db, "PRAGMA foreign_keys"), 1);
    cr_assert_eq(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
}

/* The busy handler is sheetd's own (db_sqlite.c), so PRAGMA busy_timeout does not show it:
 * the wait for a lock another connection holds does. */
Test(db, busy_timeout_comes_from_the_url)
{
    struct db *d = open_db("test.db", "?busy_timeout=150");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0, "%s", sd_error_message(&err));
    int64_t t0 = clock_monotonic_ms(clock_system());
    cr_assert_eq(db_begin(d, &err), SD_ERETRY);
    int64_t waited = clock_monotonic_ms(clock_system()) - t0;
    cr_assert(waited >= 150 && waited < 3000, "waited %lld ms for a 150 ms timeout",
              (long long)waited);
    db_rollback(db);
    cr_assert_eq(db_begin(d, &err), 0, "the lock is free again: %s", sd_error_message(&err));
    db_rollback(d);
    db_close(d);
}

Test(db, page_size_comes_from_the_url_and_is_checked)
{
    cr_assert_eq(query_int(db, "PRAGMA page_size"), DB_SQLITE_DEFAULT_PAGE_SIZE);
    struct db *d = open_db("small.db", "?busy_timeout=50&page_size=4096");
    cr_assert_eq(query_int(d, "PRAGMA page_size"), 4096);
    db_close(d);
    struct sd_error err = SD_ERROR_INIT;
    char *url = url_for("bad.db", "?page_size=1000");
    cr_assert_eq(db_open(&d, url, &err), SD_EUSAGE);
    cr_assert(strstr(sd_error_message(&err), "power of two"));
    free(url);
}

/* Statements are kept per connection for reuse; one kept from before a schema change is
 * prepared again by SQLite itself and answers for the new schema. */
Test(db, a_statement_kept_for_reuse_follows_a_schema_change)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
    exec_ok(db, "INSERT INTO t VALUES (1)");
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 1 + round);
        exec_ok(db, "INSERT INTO t VALUES (2)");
    }
    exec_ok(db, "DROP TABLE t; CREATE TABLE t (a INTEGER, b INTEGER)");
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 0);
    /* Two at once of the same text: the second is prepared anew, both work. */
    struct db_stmt *one = NULL, *two = NULL;
    cr_assert_eq(db_prepare(&one, db, "SELECT COUNT(*) FROM t", NULL), 0);
    cr_assert_eq(db_prepare(&two, db, "SELECT COUNT(*) FROM t", NULL), 0);
    cr_assert_eq(db_step(one, NULL), DB_ROW);
    cr_assert_eq(db_step(two, NULL), DB_ROW);
    db_finalize(one);
    db_finalize(two);
    exec_ok(db, "INSERT INTO t VALUES (1, 2); INSERT INTO t VALUES (3, 4)");
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 2);
}

Test(db, every_type_round_trips_including_nulls)
{
    exec_ok(db, "CREATE TABLE t (i INTEGER, d REAL, b INTEGER, s TEXT, n TEXT)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO t VALUES ($1, $2, $3, $4, $5)", &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_bind_int64(stmt, 1, INT64_MIN + 1), 0);
    cr_assert_eq(db_bind_double(stmt, 2, 3.25), 0);
    cr_assert_eq(db_bind_bool(stmt, 3, true), 0);
    /* Only the first 5 bytes count, and an embedded tab survives. */
    cr_assert_eq(db_bind_text(stmt, 4, "h\tllo world", 5), 0);
    cr_assert_eq(db_bind_null(stmt, 5), 0);
    cr_assert_eq(db_step(stmt, &err), DB_DONE, "%s", sd_error_message(&err));
    cr_assert_eq(db_changes(stmt), 1);
    db_finalize(stmt);

    cr_assert_eq(db_prepare(&stmt, db, "SELECT i, d, b, s, n FROM t", &err), 0);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_eq(db_column_count(stmt), 5);
    cr_assert_eq(db_column_int64(stmt, 0), INT64_MIN + 1);
    cr_assert_float_eq(db_column_double(stmt, 1), 3.25, 1e-12);
    cr_assert_eq(db_column_int64(stmt, 2), 1);
    cr_assert_str_eq(db_column_text(stmt, 3), "h\tllo");
    cr_assert(!db_column_is_null(stmt, 3));
    cr_assert(db_column_is_null(stmt, 4));
    cr_assert_null(db_column_text(stmt, 4));
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
}

Test(db, reset_lets_a_statement_run_again)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER, b TEXT)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO t (a, b) VALUES ($1, $2)", &err), 0);
    for (int i = 0; i < 3; i++) {
        char text[8];
        snprintf(text, sizeof text, "r%d", i);
        db_bind_int64(stmt, 1, i);
        db_bind_text(stmt, 2, text, strlen(text));
        cr_assert_eq(db_step(stmt, &err), DB_DONE, "%s", sd_error_message(&err));
        cr_assert_eq(db_last_insert_id(db), i + 1);
        cr_assert_eq(db_reset(stmt), 0);
    }
    db_finalize(stmt);

    cr_assert_eq(db_prepare(&stmt, db, "SELECT b FROM t WHERE a >= $1 ORDER BY a", &err), 0);
    db_bind_int64(stmt, 1, 1);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "r1");
    db_reset(stmt);
    db_bind_int64(stmt, 1, 2);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "r2");
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
}

Test(db, placeholders_bind_by_number_in_any_order)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER, b INTEGER); INSERT INTO t VALUES (1, 2), (2, 1)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "SELECT a FROM t WHERE b = $2 AND a = $1", &err), 0);
    db_bind_int64(stmt, 1, 2);
    db_bind_int64(stmt, 2, 1);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_eq(db_column_int64(stmt, 0), 2);
    db_finalize(stmt);
}

/* A statement taken again from the connection's cache binds through its map of numbers. */
Test(db, placeholders_keep_their_numbers_when_a_statement_is_reused)
{
    struct sd_error err = SD_ERROR_INIT;
    for (int round = 0; round < 2; round++) {
        struct db_stmt *stmt = NULL;
        cr_assert_eq(db_prepare(&stmt, db, "SELECT $3 - $1, $3", &err), 0);
        cr_assert_eq(db_bind_int64(stmt, 1, 10), 0);
        cr_assert_eq(db_bind_int64(stmt, 3, 25), 0);
        cr_assert_lt(db_bind_int64(stmt, 2, 1), 0, "the statement has no $2");
        cr_assert_lt(db_bind_int64(stmt, 4, 1), 0, "nor $4");
        cr_assert_eq(db_step(stmt, &err), SD_EUSAGE);
        db_reset(stmt);
        db_finalize(stmt);
        cr_assert_eq(db_prepare(&stmt, db, "SELECT $3 - $1, $3", &err), 0);
        cr_assert_eq(db_bind_int64(stmt, 1, 10), 0);
        cr_assert_eq(db_bind_int64(stmt, 3, 25), 0);
        cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
        cr_assert_eq(db_column_int64(stmt, 0), 15);
        cr_assert_eq(db_column_int64(stmt, 1), 25);
        db_finalize(stmt);
    }
}

Test(db, changes_counts_the_rows_an_update_touched)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "UPDATE t SET a = a + 10 WHERE a >= $1", &err), 0);
    db_bind_int64(stmt, 1, 2);
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    cr_assert_eq(db_changes(stmt), 2);
    db_reset(stmt);
    db_bind_int64(stmt, 1, 100);
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    cr_assert_eq(db_changes(stmt), 0);
    db_finalize(stmt);
}

Test(db, a_bad_bind_is_reported_by_step)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO t VALUES ($1)", &err), 0);
    cr_assert_lt(db_bind_int64(stmt, 2, 5), 0);
    cr_assert_eq(db_step(stmt, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "$2"), "%s", err.message);
    db_finalize(stmt);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 0);
}

Test(db, prepare_takes_one_statement)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "SELECT 1; SELECT 2", &err), SD_EUSAGE);
    cr_assert_null(stmt);
    cr_assert_eq(db_prepare(&stmt, db, "SELECT 1 ; ", &err), 0, "%s", sd_error_message(&err));
    db_finalize(stmt);
}

Test(db, commit_keeps_and_rollback_discards)
{
    struct sd_error err = SD_ERROR_INIT;
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
    cr_assert_eq(db_begin(db, &err), 0, "%s", sd_error_message(&err));
    exec_ok(db, "INSERT INTO t VALUES (1)");
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_begin(db, &err), 0);
    exec_ok(db, "INSERT INTO t VALUES (2)");
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 2);
    db_rollback(db);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM t"), 1);
    cr_assert_eq(query_int(db, "SELECT a FROM t"), 1);

    /* A second connection sees only what was committed. */
    struct db *other = open_db("test.db", "");
    cr_assert_eq(query_int(other, "SELECT COUNT(*) FROM t"), 1);
    db_close(other);
}

Test(db, rollback_without_a_transaction_is_harmless)
{
    db_rollback(db);
    db_rollback(db);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    db_rollback(db);
    db_rollback(db);
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
}

Test(db, unique_violation_is_eexists_with_a_sentence)
{
    exec_ok(db, "CREATE TABLE people (email TEXT UNIQUE)");
    exec_ok(db, "INSERT INTO people VALUES ('a@example.com')");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "INSERT INTO people VALUES ('a@example.com')", &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "people.email"), "%s", err.message);
    cr_assert(strstr(err.message, "already exists"), "%s", err.message);

    /* The same through a prepared statement. */
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO people VALUES ($1)", &err), 0);
    db_bind_text(stmt, 1, "a@example.com", 13);
    cr_assert_eq(db_step(stmt, &err), SD_EEXISTS);
    db_finalize(stmt);
}

Test(db, not_null_violation_is_einvalid)
{
    exec_ok(db, "CREATE TABLE t (a TEXT NOT NULL)");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "INSERT INTO t VALUES (NULL)", &err), SD_EINVALID);
    cr_assert(strstr(err.message, "NOT NULL"), "%s", err.message);
}

Test(db, bad_sql_is_an_error_with_the_database_message)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "SELEKT 1", &err), SD_ERROR);
    cr_assert(strstr(err.message, "syntax error"), "%s", err.message);
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "SELECT * FROM nowhere", &err), SD_ERROR);
    cr_assert(strstr(err.message, "no such table: nowhere"), "%s", err.message);
    cr_assert_null(stmt);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(db, a_write_against_another_writer_is_eretry_after_the_busy_timeout)
{
    exec_ok(db, "CREATE TABLE t (a INTEGER)");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    exec_ok(db, "INSERT INTO t VALUES (1)");

    struct db *other = open_db("test.db", "?busy_timeout=50");
    int64_t start = now_ms();
    cr_assert_eq(db_exec(other, "INSERT INTO t VALUES (2)", &err), SD_ERETRY);
    int64_t waited = now_ms() - start;
    cr_assert(strstr(err.message, "busy"), "%s", err.message);
    cr_assert_geq(waited, 40, "gave up after %lld ms", (long long)waited);
    cr_assert_lt(waited, 3000, "waited %lld ms", (long long)waited);
    cr_assert_eq(db_begin(other, &err), SD_ERETRY);

    /* Readers are not blocked by the writer (WAL). */
    cr_assert_eq(query_int(other, "SELECT COUNT(*) FROM t"), 0);

    db_commit(db, &err);
    exec_ok(other, "INSERT INTO t VALUES (2)");
    cr_assert_eq(query_int(other, "SELECT COUNT(*) FROM t"), 2);
    db_close(other);
}

Test(db, urls_that_cannot_work_are_usage_errors)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db *d = NULL;
    /* A PostgreSQL server nobody listens for: one sentence naming where it looked. */
    cr_assert_eq(db_open(&d, "postgres://user@127.0.0.1:1/sheetd", &err), SD_ERROR);
    cr_assert(strstr(err.message, "could not connect to the PostgreSQL database sheetd on "
                                  "127.0.0.1 port 1"),
              "%s", err.message);
    cr_assert(strstr(err.message, "SHEETD_DATABASE_URL"), "%s", err.message);
    cr_assert_null(d);
    cr_assert(db_url_is_postgres("postgresql://localhost/x"));
    cr_assert(db_url_is_postgres("  dbname = sheetd host=/run/postgresql"));
    cr_assert(db_url_is_postgres("hostaddr=10.0.0.1 dbname=x"));
    cr_assert(!db_url_is_postgres("hostnames.db"));
    cr_assert(!db_url_is_postgres("dbname.db?busy_timeout=5"));
    cr_assert(!db_url_is_postgres("sqlite:host=x"));
    cr_assert_eq(db_open(&d, "host=127.0.0.1 port=1 dbname=other", &err), SD_ERROR);
    cr_assert(strstr(err.message, "database other on 127.0.0.1 port 1"), "%s", err.message);
    cr_assert_eq(db_open(&d, "mysql://localhost/x", &err), SD_EUSAGE);
    cr_assert_eq(db_open(&d, "sqlite:", &err), SD_EUSAGE);
    char *url = url_for("x.db", "?busy_timeout=soon");
    cr_assert_eq(db_open(&d, url, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "busy_timeout"), "%s", err.message);
    free(url);
    url = url_for("x.db", "?cache=shared");
    cr_assert_eq(db_open(&d, url, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "cache"), "%s", err.message);
    free(url);
    cr_assert_null(d);
}

Test(db, a_bare_path_opens_sqlite)
{
    char *path = test_suite_path("bare.db");
    struct sd_error err = SD_ERROR_INIT;
    struct db *d = NULL;
    cr_assert_eq(db_open(&d, path, &err), 0, "%s", sd_error_message(&err));
    exec_ok(d, "CREATE TABLE t (a INTEGER)");
    db_close(d);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    free(path);
}

Test(db, a_file_that_is_not_a_database_is_reported_on_open)
{
    char *path = test_suite_path("notes.txt");
    const char text[] = "these are not the pages of a database, just some plain text......"
                        "................................................................";
    cr_assert(test_write_file(path, text, sizeof text - 1));
    struct sd_error err = SD_ERROR_INIT;
    struct db *d = NULL;
    cr_assert_eq(db_open(&d, path, &err), SD_ERROR);
    cr_assert(strstr(err.message, "notes.txt"), "%s", err.message);
    cr_assert(strstr(err.message, "not a database"), "%s", err.message);
    cr_assert_null(d);
    free(path);
}

Test(db, a_missing_directory_is_reported_on_open)
{
    char *url = url_for("no/such/dir/x.db", "");
    struct sd_error err = SD_ERROR_INIT;
    struct db *d = NULL;
    cr_assert_eq(db_open(&d, url, &err), SD_ERROR);
    cr_assert(strstr(err.message, "directory exists"), "%s", err.message);
    free(url);
}
