/* store_open, the connection pools and the migrations. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "store/migrations.h"
#include "store/store.h"
#include "test_support.h"

TestSuite(store, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

static struct store *open_store(const char *data_dir)
{
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = data_dir;
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), 0, "%s", sd_error_message(&err));
    return store;
}

static int64_t query_int(struct db *db, const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s: %s", sql, sd_error_message(&err));
    int64_t v = db_column_int64(stmt, 0);
    db_finalize(stmt);
    return v;
}

static bool is_file(const char *dir, const char *name)
{
    char *path = test_path(dir, name);
    struct stat st;
    bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    free(path);
    return ok;
}

Test(store, open_creates_the_data_dir_and_both_databases)
{
    char *dir = test_suite_path("a/b/var");
    struct store *store = open_store(dir);
    cr_assert_str_eq(store_data_dir(store), dir);
    cr_assert(is_file(dir, "sheetd.db"));
    cr_assert(is_file(dir, "queue.db"));
    store_close(store);
    /* Opening again over the existing directory works too. */
    store = open_store(dir);
    store_close(store);
    free(dir);
}

Test(store, a_data_dir_that_is_a_file_is_refused)
{
    char *path = test_suite_path("file");
    cr_assert(test_write_file(path, "x", 1));
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = path;
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), SD_ERROR);
    cr_assert(strstr(err.message, "not a directory"), "%s", err.message);
    cr_assert_null(store);
    free(path);
}

Test(store, an_unreachable_postgres_url_fails_at_open_with_a_sentence)
{
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = test_suite_tmpdir();
    config.database_url = "postgresql://sheetd@127.0.0.1:1/sheetd";
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), SD_ERROR);
    cr_assert(strstr(err.message, "could not connect to the PostgreSQL database"), "%s",
              err.message);
    cr_assert_null(store);
}

Test(store, database_url_names_the_main_file_and_queue_stays_in_the_data_dir)
{
    char *main_path = test_suite_path("elsewhere.db");
    char url[4096];
    snprintf(url, sizeof url, "sqlite:%s?busy_timeout=150", main_path);
    char *dir = test_suite_path("var");
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = dir;
    config.database_url = url;
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), 0, "%s", sd_error_message(&err));
    cr_assert(is_file(test_suite_tmpdir(), "elsewhere.db"));
    cr_assert(is_file(dir, "queue.db"));
    cr_assert(!is_file(dir, "sheetd.db"));
    /* queue.db keeps the URL's busy_timeout: a queue connection gives up on a lock held by
     * another connection after 150 ms, not the default 5 s. */
    char queue_url[4096];
    snprintf(queue_url, sizeof queue_url, "sqlite:%s/queue.db", dir);
    struct db *holder = NULL, *q = NULL;
    cr_assert_eq(db_open(&holder, queue_url, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_begin(holder, &err), 0);
    cr_assert_eq(store_acquire_queue(store, &q, &err), 0);
    int64_t t0 = clock_monotonic_ms(clock_system());
    cr_assert_eq(db_begin(q, &err), SD_ERETRY);
    int64_t waited = clock_monotonic_ms(clock_system()) - t0;
    cr_assert(waited >= 150 && waited < 3000, "waited %lld ms for a 150 ms timeout",
              (long long)waited);
    store_release(store, q);
    db_close(holder);
    store_close(store);
    free(main_path);
    free(dir);
}

Test(store, migrate_is_idempotent)
{
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    int applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, (int)(migrations_main()->count + migrations_queue()->count));
    applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, 0);

    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM schema_migrations"), 2);
    cr_assert_eq(query_int(db, "SELECT MIN(version) FROM schema_migrations"), 1);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM schema_migrations "
                               "WHERE applied_at LIKE '____-__-__T__:__:__Z'"),
                 2);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM import_templates"), 0);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs'"), 0);
    store_release(store, db);

    cr_assert_eq(store_acquire_queue(store, &db, &err), 0);
    cr_assert_eq(query_int(db, "PRAGMA page_size"), 4096, "queue.db takes small pages");
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM schema_migrations"),
                 (int64_t)migrations_queue()->count);
    cr_assert_eq(query_int(db, "SELECT MIN(version) FROM schema_migrations"), 1001);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM jobs"), 0);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM cache"), 0);
    cr_assert_eq(query_int(db,
                           "SELECT COUNT(*) FROM pragma_table_info('jobs') WHERE name IN ('id', "
                           "'kind', 'template_id', 'status', 'payload', 'attempts', 'run_at', "
                           "'claimed_at', 'finished_at', 'created_at')"),
                 10);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM sqlite_master "
                               "WHERE name = 'import_templates'"),
                 0);
    store_release(store, db);
    store_close(store);

    /* A fresh store over the same files also finds nothing to do. */
    store = open_store(test_suite_tmpdir());
    applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0);
    cr_assert_eq(applied, 0);
    store_close(store);
}

/* Every command migrates when it starts; a database that is up to date is only read, so a
 * command does not queue for the write lock behind a busy writer (here one that holds it). */
Test(store, migrating_an_up_to_date_store_takes_no_write_lock)
{
    char url[4096];
    snprintf(url, sizeof url, "sqlite:%s/queue.db", test_suite_tmpdir());
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", sd_error_message(&err));
    struct db *writer = NULL;
    cr_assert_eq(db_open(&writer, url, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_begin(writer, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_exec(writer, "DELETE FROM cache", &err), 0, "%s", sd_error_message(&err));
    int applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, 0);
    db_rollback(writer);
    db_close(writer);
    store_close(store);
}

/* The quick look must find every known version: one that went missing is applied again. */
Test(store, a_missing_migration_is_applied_again)
{
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(db_exec(db,
                         "DROP TABLE job_completions; DELETE FROM schema_migrations "
                         "WHERE version = 2",
                         &err),
                 0, "%s", sd_error_message(&err));
    store_release(store, db);
    int applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, 1);
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM job_completions"), 0);
    store_release(store, db);
    store_close(store);
}

Test(store, a_database_from_a_newer_sheetd_is_refused)
{
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(db_exec(db, "INSERT INTO schema_migrations VALUES (998, 'future')", &err), 0);
    store_release(store, db);
    int applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), SD_ERROR);
    cr_assert(strstr(err.message, "newer sheetd"), "%s", err.message);
    cr_assert_eq(applied, 0);
    store_close(store);
}

Test(store, a_released_connection_is_reused_and_its_transaction_rolled_back)
{
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0);
    struct db *a = NULL, *b = NULL;
    cr_assert_eq(store_acquire_main(store, &a, &err), 0);
    cr_assert_eq(store_acquire_main(store, &b, &err), 0);
    cr_assert_neq(a, b);
    cr_assert_eq(db_begin(a, &err), 0);
    cr_assert_eq(db_exec(a,
                         "INSERT INTO import_templates (name, table_name, definition, "
                         "created_at) VALUES ('x', 'x', '{}', 'now')",
                         &err),
                 0);
    store_release(store, a);
    struct db *c = NULL;
    cr_assert_eq(store_acquire_main(store, &c, &err), 0);
    cr_assert_eq(c, a);
    cr_assert_eq(query_int(c, "SELECT COUNT(*) FROM import_templates"), 0);
    /* The write lock went with the rollback: the other connection can write. */
    cr_assert_eq(db_begin(b, &err), 0, "%s", sd_error_message(&err));
    db_rollback(b);
    store_release(store, c);
    store_release(store, b);

    /* Main and queue connections are different databases. */
    struct db *q = NULL;
    cr_assert_eq(store_acquire_queue(store, &q, &err), 0);
    cr_assert_neq(q, a);
    cr_assert_neq(q, b);
    cr_assert_eq(query_int(q, "SELECT COUNT(*) FROM jobs"), 0);
    store_release(store, q);
    store_close(store);
}

struct worker {
    struct store *store;
    int id;
    int failures;
    char message[SD_ERROR_MESSAGE_MAX];
};

#define ROUNDS 200

/* Each round borrows a main connection, writes a row in a transaction (retrying when the
 * other thread holds the lock), and gives the connection back. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < ROUNDS; i++) {
        struct sd_error err = SD_ERROR_INIT;
        struct db *db = NULL;
        if (store_acquire_main(w->store, &db, &err)) {
            w->failures++;
            snprintf(w->message, sizeof w->message, "%s", err.message);
            continue;
        }
        char sql[200];
        snprintf(sql, sizeof sql,
                 "INSERT INTO import_templates (name, table_name, definition, created_at) "
                 "VALUES ('t%d_%d', 't%d_%d', '{}', 'now')",
                 w->id, i, w->id, i);
        int rc;
        do {
            rc = db_begin(db, &err);
            if (!rc)
                rc = db_exec(db, sql, &err);
            if (!rc)
                rc = db_commit(db, &err);
            if (rc)
                db_rollback(db);
        } while (rc == SD_ERETRY);
        if (rc) {
            w->failures++;
            snprintf(w->message, sizeof w->message, "%s", err.message);
        }
        store_release(w->store, db);
    }
    return NULL;
}

Test(store, two_threads_share_the_pool)
{
    struct store *store = open_store(test_suite_tmpdir());
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0);
    struct worker w[2] = {{store, 1, 0, ""}, {store, 2, 0, ""}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(w[0].failures, 0, "%s", w[0].message);
    cr_assert_eq(w[1].failures, 0, "%s", w[1].message);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(query_int(db, "SELECT COUNT(*) FROM import_templates"), 2 * ROUNDS);
    store_release(store, db);
    store_close(store);
}

/* A database that cannot be opened any more (here: its directory moved away while a
 * connection was open) makes the pool back off: the next acquire fails at once with the last
 * error and says when it tries again; once the database is back, an acquire after the
 * backoff opens it. */
Test(store, opening_backs_off_while_the_database_is_unreachable)
{
    char *dir = test_suite_path("data");
    char *moved = test_suite_path("moved");
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = dir;
    struct store *store = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &config, &err), 0, "%s", sd_error_message(&err));
    struct db *first = NULL, *second = NULL;
    cr_assert_eq(store_acquire_main(store, &first, &err), 0);
    cr_assert_eq(rename(dir, moved), 0);
    cr_assert_eq(store_acquire_main(store, &second, &err), SD_ERROR);
    cr_assert(strstr(err.message, "could not open the database"), "%s", err.message);
    cr_assert(!strstr(err.message, "tries again"), "%s", err.message);
    cr_assert_eq(store_acquire_main(store, &second, &err), SD_ERROR);
    cr_assert(strstr(err.message, "could not open the database"), "%s", err.message);
    cr_assert(strstr(err.message, "sheetd tries again in"), "%s", err.message);
    cr_assert_eq(rename(moved, dir), 0);
    usleep(250 * 1000);
    cr_assert_eq(store_acquire_main(store, &second, &err), 0, "%s", sd_error_message(&err));
    store_release(store, second);
    store_release(store, first);
    cr_assert_eq(store_ping(store, &err), 0, "%s", sd_error_message(&err));
    store_close(store);
    free(dir);
    free(moved);
}
