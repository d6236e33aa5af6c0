/* The db.h contract on SQLite and on PostgreSQL (contract.h): binding and reading every type,
 * placeholders in any order, RETURNING and change counts, error codes, transactions seen
 * from a second connection, statements interleaved on one connection, the schema question,
 * and the notification seam. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contract.h"
#include "store/db.h"
#include "store/db_backend.h"

static void create_values_table(struct db *db)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TABLE v (id %s, i BIGINT, d DOUBLE PRECISION, b BOOLEAN, t TEXT UNIQUE, "
             "day DATE)",
             contract_is_postgres() ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY");
    contract_exec(db, sql);
}

CONTRACT_TEST(db, every_type_binds_and_reads_back_exactly)
{
    struct db *db = contract_open();
    create_values_table(db);
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db,
                            "INSERT INTO v (i, d, b, t, day) VALUES ($1, $2, $3, $4, $5) "
                            "RETURNING id",
                            &err),
                 0, "%s", sd_error_message(&err));
    const char *text = "Grüße\ttab\nline \\ 🚀 'q'";
    db_bind_int64(stmt, 1, INT64_MAX);
    db_bind_double(stmt, 2, 0.1);
    db_bind_bool(stmt, 3, true);
    db_bind_text(stmt, 4, text, strlen(text));
    db_bind_text(stmt, 5, "2015-03-01", 10);
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    cr_assert_eq(db_column_int64(stmt, 0), 1);
    cr_assert_eq(db_step(stmt, &err), DB_DONE, "%s", sd_error_message(&err));
    cr_assert_eq(db_changes(stmt), 1);
    /* Bindings stay after a reset; only what changes is bound again. */
    db_reset(stmt);
    db_bind_int64(stmt, 1, INT64_MIN);
    db_bind_double(stmt, 2, -1e300);
    db_bind_bool(stmt, 3, false);
    db_bind_text(stmt, 4, "", 0);
    db_bind_null(stmt, 5);
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    cr_assert_eq(db_column_int64(stmt, 0), 2);
    db_finalize(stmt);

    cr_assert_eq(db_prepare(&stmt, db, "SELECT i, d, b, t, day FROM v ORDER BY id", &err), 0);
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    cr_assert_eq(db_column_count(stmt), 5);
    cr_assert_eq(db_column_int64(stmt, 0), INT64_MAX);
    cr_assert_eq(db_column_double(stmt, 1), 0.1);
    cr_assert_eq(db_column_int64(stmt, 2), 1);
    cr_assert_str_eq(db_column_text(stmt, 3), text);
    cr_assert_str_eq(db_column_text(stmt, 4), "2015-03-01");
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_eq(db_column_int64(stmt, 0), INT64_MIN);
    cr_assert_eq(db_column_double(stmt, 1), -1e300);
    cr_assert_eq(db_column_int64(stmt, 2), 0);
    cr_assert(!db_column_is_null(stmt, 3));
    cr_assert_str_eq(db_column_text(stmt, 3), "");
    cr_assert(db_column_is_null(stmt, 4));
    cr_assert_null(db_column_text(stmt, 4));
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
    db_close(db);
}

CONTRACT_TEST(db, placeholders_bind_by_number_whatever_their_order)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE t (a BIGINT, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y')");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "SELECT a FROM t WHERE b = $2 AND a = $1", &err), 0);
    db_bind_int64(stmt, 1, 2);
    db_bind_text(stmt, 2, "y", 1);
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    cr_assert_eq(db_column_int64(stmt, 0), 2);
    db_finalize(stmt);
    cr_assert_eq(db_prepare(&stmt, db, "UPDATE t SET b = $1 WHERE a >= $2", &err), 0);
    db_bind_text(stmt, 1, "z", 1);
    db_bind_int64(stmt, 2, 0);
    cr_assert_eq(db_step(stmt, &err), DB_DONE, "%s", sd_error_message(&err));
    cr_assert_eq(db_changes(stmt), 2);
    db_finalize(stmt);
    db_close(db);
}

CONTRACT_TEST(db, a_unique_violation_is_eexists_and_a_missing_value_einvalid)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE u (email TEXT UNIQUE, name TEXT NOT NULL);"
                      "INSERT INTO u VALUES ('a@example.com', 'A')");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('a@example.com', 'B')", &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    cr_assert(!strstr(err.message, "a@example.com"), "values stay out: %s", err.message);
    cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('b@example.com', NULL)", &err), SD_EINVALID);
    cr_assert(strstr(err.message, "name"), "%s", err.message);
    cr_assert_eq(db_exec(db, "SELECT nonsense FROM nowhere", &err), SD_ERROR);
    cr_assert(strstr(err.message, "nowhere"), "%s", err.message);
    db_close(db);
}

CONTRACT_TEST(db, a_transaction_is_seen_by_another_connection_only_once_committed)
{
    struct db *db = contract_open();
    struct db *other = contract_open();
    contract_exec(db, "CREATE TABLE t (x BIGINT)");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0, "%s", sd_error_message(&err));
    contract_exec(db, "INSERT INTO t VALUES (1)");
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t"), 1);
    db_rollback(db);
    cr_assert_eq(contract_int(other, "SELECT COUNT(*) FROM t"), 0);
    /* A rollback with no transaction open is harmless. */
    db_rollback(db);
    cr_assert_eq(db_begin(db, &err), 0);
    contract_exec(db, "INSERT INTO t VALUES (2)");
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(contract_int(other, "SELECT SUM(x) FROM t"), 2);
    db_close(other);
    db_close(db);
}

/* A loop that updates as it reads: on PostgreSQL the rows of the SELECT are still streaming
 * when the UPDATE needs the connection. */
CONTRACT_TEST(db, statements_interleave_on_one_connection)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE t (x BIGINT, y BIGINT)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *ins = NULL, *sel = NULL, *upd = NULL;
    cr_assert_eq(db_prepare(&ins, db, "INSERT INTO t (x, y) VALUES ($1, 0)", &err), 0);
    for (int i = 0; i < 300; i++) {
        db_reset(ins);
        db_bind_int64(ins, 1, i);
        cr_assert_eq(db_step(ins, &err), DB_DONE, "%s", sd_error_message(&err));
    }
    db_finalize(ins);
    cr_assert_eq(db_prepare(&sel, db, "SELECT x FROM t ORDER BY x", &err), 0);
    cr_assert_eq(db_prepare(&upd, db, "UPDATE t SET y = $1 WHERE x = $2", &err), 0);
    int n = 0, rc;
    while ((rc = db_step(sel, &err)) == DB_ROW) {
        int64_t x = db_column_int64(sel, 0);
        cr_assert_eq(x, n);
        db_reset(upd);
        db_bind_int64(upd, 1, x * 2);
        db_bind_int64(upd, 2, x);
        cr_assert_eq(db_step(upd, &err), DB_DONE, "%s", sd_error_message(&err));
        cr_assert_eq(db_changes(upd), 1);
        /* The borrowed text of the current row is still readable after the other step. */
        cr_assert_eq(db_column_int64(sel, 0), x);
        n++;
    }
    cr_assert_eq(rc, DB_DONE, "%s", sd_error_message(&err));
    cr_assert_eq(n, 300);
    db_finalize(sel);
    db_finalize(upd);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t WHERE y = 2 * x"), 300);
    /* A statement finalized before its last row leaves the connection usable. */
    cr_assert_eq(db_prepare(&sel, db, "SELECT x FROM t", &err), 0);
    cr_assert_eq(db_step(sel, &err), DB_ROW);
    db_finalize(sel);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t"), 300);
    db_close(db);
}

CONTRACT_TEST(db, table_columns_lists_them_in_order_and_a_missing_table_is_not_found)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE \"Mixed\" (b TEXT, a BIGINT, \"c d\" TEXT)");
    char **names = NULL;
    size_t n = 0;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_table_columns(&names, &n, db, "Mixed", &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(n, 3);
    cr_assert_str_eq(names[0], "b");
    cr_assert_str_eq(names[1], "a");
    cr_assert_str_eq(names[2], "c d");
    db_free_names(names, n);
    /* Quoted names are exact on PostgreSQL; SQLite folds case. */
    if (contract_is_postgres())
        cr_assert_eq(db_table_columns(&names, &n, db, "mixed", &err), SD_ENOTFOUND);
    cr_assert_eq(db_table_columns(&names, &n, db, "nothing", &err), SD_ENOTFOUND);
    cr_assert(strstr(err.message, "nothing"), "%s", err.message);
    db_close(db);
}

CONTRACT_TEST(db, the_dialect_names_the_backend_types)
{
    struct db *db = contract_open();
    const struct db_dialect *d = db_dialect_of(db);
    if (contract_is_postgres()) {
        cr_assert_str_eq(d->id_column, "BIGSERIAL PRIMARY KEY");
        cr_assert_str_eq(d->date_type, "DATE");
        cr_assert_str_eq(d->datetime_type, "TIMESTAMP");
        cr_assert_str_eq(d->bool_type, "BOOLEAN");
        cr_assert_str_eq(d->skip_locked, " FOR UPDATE SKIP LOCKED");
    } else {
        cr_assert_str_eq(d->skip_locked, "");
        cr_assert_str_eq(d->date_type, "TEXT");
    }
    /* The claim query of a queue, written once for both. */
    contract_exec(db, "CREATE TABLE jobs (id BIGINT, status TEXT);"
                      "INSERT INTO jobs VALUES (1, 'pending'), (2, 'pending')");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1%s",
             d->skip_locked);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(contract_int(db, sql), 1);
    if (contract_is_postgres()) {
        /* A second claimer skips the row the first one holds. */
        struct db *other = contract_open();
        cr_assert_eq(db_begin(other, &err), 0);
        cr_assert_eq(contract_int(other, sql), 2);
        db_rollback(other);
        db_close(other);
    }
    db_rollback(db);
    db_close(db);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

CONTRACT_TEST(db, a_notification_wakes_a_listener_on_another_connection)
{
    struct db *listener = contract_open();
    struct db *sender = contract_open();
    struct sd_error err = SD_ERROR_INIT;
    bool notified = true;
    if (!contract_is_postgres()) {
        cr_assert_eq(db_notify(sender, "jobs", &err), 0);
        cr_assert_eq(db_listen(listener, "jobs", &err), SD_EUSAGE);
        cr_assert_eq(db_wait_notification(listener, 10, &notified, &err), SD_EUSAGE);
        cr_assert(!notified);
    } else {
        cr_assert_eq(db_listen(listener, "jobs", &err), 0, "%s", sd_error_message(&err));
        /* Nothing sent: the wait times out, not much later than asked. */
        int64_t t0 = now_ms();
        cr_assert_eq(db_wait_notification(listener, 50, &notified, &err), 0, "%s",
                     sd_error_message(&err));
        cr_assert(!notified);
        cr_assert_geq(now_ms() - t0, 45);
        cr_assert_lt(now_ms() - t0, 1000);
        /* Another channel does not wake it. */
        cr_assert_eq(db_notify(sender, "other", &err), 0, "%s", sd_error_message(&err));
        cr_assert_eq(db_wait_notification(listener, 50, &notified, &err), 0);
        cr_assert(!notified);
        cr_assert_eq(db_notify(sender, "jobs", &err), 0, "%s", sd_error_message(&err));
        t0 = now_ms();
        cr_assert_eq(db_wait_notification(listener, 2000, &notified, &err), 0, "%s",
                     sd_error_message(&err));
        cr_assert(notified);
        cr_assert_lt(now_ms() - t0, 100);
        /* It was consumed: the next wait times out. */
        cr_assert_eq(db_wait_notification(listener, 20, &notified, &err), 0);
        cr_assert(!notified);
        /* A notification sent inside a transaction arrives only with its commit. */
        cr_assert_eq(db_begin(sender, &err), 0);
        cr_assert_eq(db_notify(sender, "jobs", &err), 0);
        cr_assert_eq(db_wait_notification(listener, 50, &notified, &err), 0);
        cr_assert(!notified);
        cr_assert_eq(db_commit(sender, &err), 0);
        cr_assert_eq(db_wait_notification(listener, 2000, &notified, &err), 0);
        cr_assert(notified);
    }
    db_close(sender);
    db_close(listener);
}

/* PostgreSQL aborts a transaction at its first failed statement; committing it then is an
 * error, not a silent rollback. */
CONTRACT_TEST(db, committing_after_a_failed_statement_is_an_error_on_postgres)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE t (x BIGINT UNIQUE)");
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    contract_exec(db, "INSERT INTO t VALUES (1)");
    cr_assert_eq(db_exec(db, "INSERT INTO t VALUES (1)", &err), SD_EEXISTS);
    if (contract_is_postgres()) {
        cr_assert_eq(db_commit(db, &err), SD_ERROR);
        cr_assert(strstr(err.message, "rolled back"), "%s", err.message);
        cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t"), 0);
    } else {
        db_rollback(db);
    }
    db_close(db);
}

/* A statement run again and again (prepared on the server from its second run on, on
 * PostgreSQL) keeps working when the types bound change between runs, and leaves nothing
 * prepared behind once finalized. */
CONTRACT_TEST(db, a_statement_reused_with_changing_types_keeps_working)
{
    struct db *db = contract_open();
    contract_exec(db, "CREATE TABLE t (a BIGINT, b TEXT)");
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO t (a, b) VALUES ($1, $2)", &err), 0);
    for (int i = 0; i < 40; i++) {
        db_reset(stmt);
        switch (i % 4) {
        case 0:
            db_bind_int64(stmt, 1, i);
            break;
        case 1:
            db_bind_null(stmt, 1);
            break;
        case 2:
            db_bind_text(stmt, 1, "1000", 4);
            break;
        default:
            db_bind_double(stmt, 1, 3.0);
            break;
        }
        db_bind_text(stmt, 2, i % 2 ? "odd" : "even", i % 2 ? 3 : 4);
        cr_assert_eq(db_step(stmt, &err), DB_DONE, "run %d: %s", i, sd_error_message(&err));
        cr_assert_eq(db_changes(stmt), 1);
    }
    if (contract_is_postgres())
        cr_assert_gt(contract_int(db, "SELECT COUNT(*) FROM pg_prepared_statements"), 0);
    db_finalize(stmt);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t"), 40);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t WHERE a IS NULL"), 10);
    int64_t sum = contract_int(db, "SELECT SUM(a) FROM t WHERE b = 'even' AND a != 1000");
    cr_assert_eq(sum, 180, "%lld", (long long)sum);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t WHERE a = 1000"), 10);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM t WHERE a = 3"), 10);
    if (contract_is_postgres())
        cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM pg_prepared_statements"), 0);
    db_close(db);
}
