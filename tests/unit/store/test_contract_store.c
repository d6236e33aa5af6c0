/* The store on SQLite and on PostgreSQL (contract.h): migrations that apply once, also when
 * several processes start at the same moment; template rows; data tables with every column
 * type, written by the bulk writer and read back as the export reads them. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/crypto.h"
#include "contract.h"
#include "store/data_table.h"
#include "store/db_backend.h"
#include "store/job_store.h"
#include "store/migrations.h"
#include "store/queue_tables.h"
#include "store/store.h"
#include "store/template_store.h"

static struct db *migrated(struct store **store)
{
    *store = contract_store_open();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(*store, NULL, &err), 0, "%s", sd_error_message(&err));
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(*store, &db, &err), 0, "%s", sd_error_message(&err));
    return db;
}

/* Every migration of both sets, each applied once. */
static int all_migrations(void)
{
    return (int)(migrations_main()->count + migrations_queue()->count);
}

CONTRACT_TEST(store, migrations_apply_once_and_are_idempotent)
{
    struct store *store = contract_store_open();
    struct sd_error err = SD_ERROR_INIT;
    int applied = -1;
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, all_migrations());
    cr_assert_eq(store_migrate(store, &applied, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(applied, 0);
    struct db *db = NULL;
    cr_assert_eq(store_acquire_queue(store, &db, &err), 0);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM jobs"), 0);
    /* A cache expiry in milliseconds since the epoch does not fit 32 bits. */
    contract_exec(db, "INSERT INTO cache (key, value, expires_at) VALUES ('k', 'v', "
                      "1764892800000)");
    cr_assert_eq(contract_int(db, "SELECT expires_at FROM cache"), 1764892800000LL);
    store_release(store, db);
    store_close(store);
}

/* Four processes released at the same moment all migrate; each migration is applied and
 * recorded once, and none of them fails. */
CONTRACT_TEST(store, processes_migrating_at_once_migrate_once)
{
    enum { N = 4 };
    /* The database files exist before the race: two SQLite connections that both create a
     * file and switch it to WAL at once can meet a lock the busy timeout does not cover. */
    store_close(contract_store_open());
    int gate[2];
    cr_assert_eq(pipe(gate), 0);
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }
            struct store_config config = STORE_CONFIG_INIT;
            config.data_dir = contract.dir;
            config.database_url = contract.url;
            struct store *store = NULL;
            struct sd_error err = SD_ERROR_INIT;
            int applied = 0;
            int rc = store_open(&store, &config, &err);
            if (rc == 0)
                rc = store_migrate(store, &applied, &err);
            if (rc)
                fprintf(stderr, "child %d: %s\n", i, sd_error_message(&err));
            store_close(store);
            _exit(rc ? 100 : applied);
        }
    }
    close(gate[0]);
    close(gate[1]);
    int total = 0;
    for (int i = 0; i < N; i++) {
        int status = 0;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status));
        cr_assert_neq(WEXITSTATUS(status), 100, "a migrating process failed");
        total += WEXITSTATUS(status);
    }
    cr_assert_eq(total, all_migrations(), "the %d migrations were applied %d times in all",
                 all_migrations(), total);
    /* On SQLite the queue's migration is recorded in queue.db, beside the main file. */
    struct db *db = contract_open();
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM schema_migrations"),
                 contract_is_postgres() ? all_migrations() : (int)migrations_main()->count);
    db_close(db);
}

CONTRACT_TEST(store, template_rows_insert_get_list_and_refuse_a_taken_name)
{
    struct store *store;
    struct db *db = migrated(&store);
    struct sd_error err = SD_ERROR_INIT;
    int64_t id = 0, id2 = 0;
    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(template_store_insert(db, "Customers", "customers", "{\"a\":1}", &id, &err), 0,
                 "%s", sd_error_message(&err));
    cr_assert_gt(id, 0);
    /* Inside the same transaction (which PostgreSQL would abort on a refused INSERT), a taken
     * name and a taken table are each named in a sentence, and the transaction goes on. */
    cr_assert_eq(template_store_insert(db, "Customers", "clients", "{}", &id2, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "a template named \"Customers\" already exists"), "%s",
              err.message);
    cr_assert_eq(template_store_insert(db, "Clients", "customers", "{}", &id2, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "the table \"customers\" is already used"), "%s", err.message);
    cr_assert_eq(template_store_insert(db, "Orders", "orders", "{}", &id2, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_gt(id2, id);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));

    struct template_record *r = NULL;
    cr_assert_eq(template_store_get(&r, db, id, &err), 0, "%s", sd_error_message(&err));
    cr_assert_str_eq(r->name, "Customers");
    cr_assert_str_eq(r->definition, "{\"a\":1}");
    cr_assert_eq(r->created_at[10], 'T');
    template_record_free(r);
    cr_assert_eq(template_store_get_by_table(&r, db, "orders", &err), 0);
    cr_assert_eq(r->id, id2);
    template_record_free(r);
    cr_assert_eq(template_store_get(&r, db, 424242, &err), SD_ENOTFOUND);
    struct template_record *list = NULL;
    size_t n = 0;
    cr_assert_eq(template_store_list(&list, &n, db, &err), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(list[0].id, id);
    cr_assert_eq(list[1].id, id2);
    template_record_list_free(list, n);

    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(template_store_insert(db, "Temp", "temp_rows", "{}", &id2, &err), 0);
    db_rollback(db);
    int64_t count = 0;
    cr_assert_eq(template_store_count(db, &count, &err), 0);
    cr_assert_eq(count, 2);
    store_release(store, db);
    store_close(store);
}

static const struct data_column columns[] = {
    {"email", DATA_COLUMN_TEXT},       {"age", DATA_COLUMN_INTEGER},
    {"amount", DATA_COLUMN_DECIMAL},   {"signup", DATA_COLUMN_DATE},
    {"seen_at", DATA_COLUMN_DATETIME}, {"active", DATA_COLUMN_BOOLEAN},
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])
static const char *const key[] = {"email"};

CONTRACT_TEST(store, a_data_table_has_every_type_and_sheetd_columns)
{
    struct store *store;
    struct db *db = migrated(&store);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(data_table_create(db, "customers", columns, NCOLUMNS, key, 1, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_commit(db, &err), 0);
    char **names = NULL;
    size_t n = 0;
    cr_assert_eq(db_table_columns(&names, &n, db, "customers", &err), 0);
    static const char *const expect[] = {"_id",     "email",  "age",  "amount", "signup",
                                         "seen_at", "active", "_row", "_job_id"};
    cr_assert_eq(n, 9);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(names[i], expect[i]);
    db_free_names(names, n);
    if (contract_is_postgres()) {
        char *types = contract_text(
            db, "SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum) "
                "FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0");
        cr_assert_str_eq(types, "bigint,text,bigint,double precision,date,timestamp without "
                                "time zone,boolean,bigint,text");
        free(types);
    }
    cr_assert_eq(data_table_create(db, "customers", columns, NCOLUMNS, key, 1, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "customers"), "%s", err.message);
    cr_assert_eq(data_table_check(db, "customers", columns, NCOLUMNS, &err), 0, "%s",
                 sd_error_message(&err));
    contract_exec(db, "ALTER TABLE customers DROP COLUMN amount");
    cr_assert_eq(data_table_check(db, "customers", columns, NCOLUMNS, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "amount"), "%s", err.message);
    cr_assert_eq(data_table_check(db, "gone", columns, NCOLUMNS, &err), SD_ENOTFOUND);
    store_release(store, db);
    store_close(store);
}

/* What an import writes (db_values from the converted cells) is what an export reads. */
CONTRACT_TEST(store, data_table_rows_round_trip_through_the_bulk_writer_and_select)
{
    struct store *store;
    struct db *db = migrated(&store);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(data_table_create(db, "customers", columns, NCOLUMNS, key, 1, &err), 0, "%s",
                 sd_error_message(&err));
    struct db_bulk *bulk = NULL;
    cr_assert_eq(db_begin(db, &err), 0);
    cr_assert_eq(data_table_bulk_open(&bulk, db, "customers", columns, NCOLUMNS, key, 1, &err), 0,
                 "%s", sd_error_message(&err));
    for (int i = 0; i < 3; i++) {
        char email[32];
        snprintf(email, sizeof email, "c%d@example.com", i % 2); /* row 2 updates row 0 */
        struct db_value v[NCOLUMNS + 2] = {
            {.type = DB_VALUE_TEXT, .text = email, .len = strlen(email)},
            {.type = DB_VALUE_INT64, .i = 1000000000000LL + i},
            {.type = DB_VALUE_DOUBLE, .d = 12.5 + i},
            {.type = DB_VALUE_TEXT, .text = "2015-03-01", .len = 10},
            {.type = DB_VALUE_TEXT, .text = "2015-03-01 12:34:56", .len = 19},
            {.type = i == 1 ? DB_VALUE_NULL : DB_VALUE_BOOL, .i = 1},
            {.type = DB_VALUE_INT64, .i = i + 2},
            {.type = DB_VALUE_TEXT, .text = "job1", .len = 4},
        };
        cr_assert_eq(db_bulk_write_row(bulk, v, i + 2, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    uint64_t ins = 0, upd = 0;
    db_bulk_counts(bulk, &ins, &upd);
    cr_assert_eq(ins, 2);
    cr_assert_eq(upd, 1);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    int64_t count = 0;
    cr_assert_eq(data_table_count_rows(db, "customers", &count, &err), 0);
    cr_assert_eq(count, 2);

    struct db_stmt *stmt = NULL;
    cr_assert_eq(data_table_select_all(&stmt, db, "customers", columns, NCOLUMNS, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    cr_assert_str_eq(db_column_text(stmt, 0), "c0@example.com");
    cr_assert_eq(db_column_int64(stmt, 1), 1000000000002LL);
    cr_assert_eq(db_column_double(stmt, 2), 14.5);
    cr_assert_str_eq(db_column_text(stmt, 3), "2015-03-01");
    cr_assert_str_eq(db_column_text(stmt, 4), "2015-03-01 12:34:56");
    cr_assert_eq(db_column_int64(stmt, 5), 1);
    cr_assert_eq(db_step(stmt, &err), DB_ROW);
    cr_assert_str_eq(db_column_text(stmt, 0), "c1@example.com");
    cr_assert(db_column_is_null(stmt, 5));
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
    store_release(store, db);
    store_close(store);
}

/* The server ends a pooled connection (as a restart would): the statement that finds out
 * fails with a sentence, the connection is dropped at release, and the next acquire gets a
 * fresh one; store_ping answers through it. (PostgreSQL only: a SQLite file cannot go away
 * under an open connection.) */
CONTRACT_TEST(store, a_connection_the_server_ended_is_replaced_at_the_next_acquire)
{
    struct store *store;
    struct db *db = migrated(&store);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_ping(store, &err), 0, "%s", sd_error_message(&err));
    if (!contract_is_postgres()) {
        store_release(store, db);
        store_close(store);
        return;
    }
    int64_t pid = contract_int(db, "SELECT pg_backend_pid()");
    struct db *admin = contract_open();
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    cr_assert_eq(contract_int(admin, sql), 1);
    db_close(admin);
    cr_assert_eq(db_exec(db, "SELECT 1", &err), SD_ERROR);
    cr_assert(strstr(err.message, "lost the connection to the PostgreSQL database"), "%s",
              err.message);
    store_release(store, db);
    cr_assert_eq(store_acquire_main(store, &db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_neq(contract_int(db, "SELECT pg_backend_pid()"), pid);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM import_templates"), 0);
    /* An idle pooled connection the server ended: the ping drops it and tries a new one. */
    pid = contract_int(db, "SELECT pg_backend_pid()");
    store_release(store, db);
    admin = contract_open();
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    cr_assert_eq(contract_int(admin, sql), 1);
    db_close(admin);
    cr_assert_eq(store_ping(store, &err), 0, "%s", sd_error_message(&err));
    store_close(store);
}

/* Every name the identifier rules accept works as a column on both databases, including words
 * that are key words of one of them without being reserved ("name", "type", "date", ...);
 * the reserved ones are refused before any SQL is built. */
CONTRACT_TEST(store, the_identifier_rules_let_through_only_names_both_databases_take)
{
    static const char *const names[] = {
        "name", "type",  "value", "date",        "time",    "timestamp", "text",        "integer",
        "year", "month", "key",   "level",       "comment", "data",      "status",      "position",
        "role", "zone",  "first", "primary_key", "x1",      "a_b_c",     "select_list",
    };
    enum { N = sizeof names / sizeof names[0] };
    struct data_column cols[N];
    for (size_t i = 0; i < N; i++) {
        cr_assert(data_table_identifier_ok(names[i]), "%s", names[i]);
        cols[i] = (struct data_column){names[i], DATA_COLUMN_TEXT};
    }
    static const char *const refused[] = {"select", "user", "order", "table", "Name", "_row"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        cr_assert(!data_table_identifier_ok(refused[i]), "%s", refused[i]);
    cr_assert(data_table_identifier_ok("window_size"));
    struct store *store;
    struct db *db = migrated(&store);
    struct sd_error err = SD_ERROR_INIT;
    const char *const key_column[] = {"key"};
    cr_assert_eq(data_table_create(db, "timestamp", cols, N, key_column, 1, &err), 0, "%s",
                 sd_error_message(&err));
    struct db_bulk *bulk = NULL;
    cr_assert_eq(data_table_bulk_open(&bulk, db, "timestamp", cols, N, key_column, 1, &err), 0,
                 "%s", sd_error_message(&err));
    struct db_value v[N + 2];
    for (size_t i = 0; i < N; i++)
        v[i] = (struct db_value){.type = DB_VALUE_TEXT, .text = names[i], .len = strlen(names[i])};
    v[N] = (struct db_value){.type = DB_VALUE_INT64, .i = 2};
    v[N + 1] = (struct db_value){.type = DB_VALUE_TEXT, .text = "j", .len = 1};
    cr_assert_eq(db_bulk_write_row(bulk, v, 2, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_bulk_write_row(bulk, v, 3, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    db_bulk_close(bulk);
    struct db_stmt *stmt = NULL;
    cr_assert_eq(data_table_select_all(&stmt, db, "timestamp", cols, N, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    for (size_t i = 0; i < N; i++)
        cr_assert_str_eq(db_column_text(stmt, (int)i), names[i]);
    cr_assert_eq(db_step(stmt, &err), DB_DONE);
    db_finalize(stmt);
    store_release(store, db);
    store_close(store);
}

/* Two processes on two machines: each data directory has its own key file, yet on
 * PostgreSQL both adopt the one stored in the database, so a token signed by one passes on
 * the other. On SQLite the key stays the data directory's. */
CONTRACT_TEST(store, processes_with_different_data_dirs_share_the_key_on_postgres)
{
    char other[4096];
    snprintf(other, sizeof other, "%s/other-machine", contract.dir);
    cr_assert_eq(mkdir(other, 0700), 0);
    struct store_config config = STORE_CONFIG_INIT;
    config.data_dir = other;
    config.database_url = contract_is_postgres() ? contract.url : NULL;
    struct store *first = contract_store_open(), *second = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&second, &config, &err), 0, "%s", sd_error_message(&err));
    unsigned char before[CRYPTO_KEY_BYTES];
    memcpy(before, store_secret_key(second), sizeof before);
    /* Before migrating, each has its own file's key. */
    cr_assert_neq(memcmp(store_secret_key(first), store_secret_key(second), CRYPTO_KEY_BYTES), 0);
    cr_assert_eq(store_migrate(first, NULL, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_migrate(second, NULL, &err), 0, "%s", sd_error_message(&err));
    bool same = !memcmp(store_secret_key(first), store_secret_key(second), CRYPTO_KEY_BYTES);
    cr_assert_eq(same, contract_is_postgres());
    if (!contract_is_postgres())
        cr_assert_eq(memcmp(store_secret_key(second), before, sizeof before), 0);
    store_close(second);
    store_close(first);
}

/* A migrated store and a connection of its queue pool. */
static struct db *migrated_queue(struct store **store)
{
    struct db *main_db = migrated(store);
    store_release(*store, main_db);
    struct db *db = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_acquire_queue(*store, &db, &err), 0, "%s", sd_error_message(&err));
    return db;
}

/* A pending export job `id`, due since 1000 ms. */
static void insert_export_job(struct db *db, const char *id)
{
    struct job_record job = {
        .kind = "export", .payload = "{}", .max_attempts = 3, .run_at = 1000, .created_at = 1000};
    snprintf(job.id, sizeof job.id, "%s", id);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(job_store_insert(db, &job, &err), 0, "%s", sd_error_message(&err));
}

/* A second pruner of the same dead process, in a thread: it begins while the first one's
 * recovery is not committed yet. */
struct pruner {
    struct store *store;
    size_t count;
    int rc;
};

static void *prune_too(void *arg)
{
    struct pruner *p = arg;
    struct db *db = NULL;
    char(*ids)[JOB_ID_LEN + 1] = NULL;
    p->rc = store_acquire_queue(p->store, &db, NULL);
    if (p->rc == 0)
        p->rc = db_begin(db, NULL);
    if (p->rc == 0)
        p->rc = job_store_recover(&ids, &p->count, db, 9, 2000, "gone", NULL);
    if (p->rc == 0)
        p->rc = db_commit(db, NULL);
    free(ids);
    store_release(p->store, db);
    return NULL;
}

/* Two processes pruning one dead process at the same moment: the job goes back once, and
 * only the pruner that moved it lists it (and so reports and announces it). */
CONTRACT_TEST(store, two_pruners_at_once_recover_a_job_once)
{
    struct store *store = NULL;
    struct db *db = migrated_queue(&store);
    struct sd_error err = SD_ERROR_INIT;
    insert_export_job(db, "00000000000000a1");
    contract_exec(db, "UPDATE jobs SET status = 'processing', process_id = 9, attempts = 1");
    cr_assert_eq(db_begin(db, &err), 0);
    char(*ids)[JOB_ID_LEN + 1] = NULL;
    size_t count = 0;
    cr_assert_eq(job_store_recover(&ids, &count, db, 9, 2000, "gone", &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(count, 1);
    free(ids);
    struct pruner second = {.store = store};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, prune_too, &second), 0);
    usleep(200000); /* the second pruner now waits for the first one's rows or lock */
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    pthread_join(thread, NULL);
    cr_assert_eq(second.rc, 0);
    cr_assert_eq(second.count, 0, "the second pruner listed %zu job(s) it did not recover",
                 second.count);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM jobs WHERE status = 'pending'"), 1);
    store_release(store, db);
    store_close(store);
}

/* A claimer on a connection of its own, claiming outside any transaction until nothing is
 * left; it counts what it got. */
struct claimer {
    struct store *store;
    int64_t process_id;
    int claimed;
    int rc;
};

static void *claim_all(void *arg)
{
    struct claimer *c = arg;
    struct db *db = NULL;
    c->rc = store_acquire_queue(c->store, &db, NULL);
    while (c->rc == 0) {
        struct job_record *job = NULL;
        int rc = job_store_claim(&job, db, c->process_id, 5000, NULL);
        if (rc == SD_ENOTFOUND)
            break;
        if (rc == SD_ERETRY) /* the other claimer held the write lock past the timeout */
            continue;
        if ((c->rc = rc) == 0) {
            c->claimed++;
            if (job->process_id != c->process_id || strcmp(job->status, "processing") != 0)
                c->rc = -1;
        }
        job_record_free(job);
    }
    store_release(c->store, db);
    return NULL;
}

/* Two connections claiming at once, each statement in a transaction of its own, never get
 * the same job: every job is claimed once, by the claimer its row names. */
CONTRACT_TEST(store, two_claimers_outside_a_transaction_never_share_a_job)
{
    struct store *store = NULL;
    struct db *db = migrated_queue(&store);
    enum { JOBS = 400 };
    contract_exec(db, "BEGIN");
    for (int i = 0; i < JOBS; i++) {
        char id[JOB_ID_LEN + 1];
        snprintf(id, sizeof id, "%016x", i + 1);
        insert_export_job(db, id);
    }
    contract_exec(db, "COMMIT");
    struct claimer claimers[2] = {{.store = store, .process_id = 1},
                                  {.store = store, .process_id = 2}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&threads[i], NULL, claim_all, &claimers[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(claimers[i].rc, 0, "claimer %d failed (%d)", i + 1, claimers[i].rc);
    cr_assert_eq(claimers[0].claimed + claimers[1].claimed, JOBS, "%d + %d claims",
                 claimers[0].claimed, claimers[1].claimed);
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM jobs WHERE status = 'processing' AND "
                                  "attempts = 1"),
                 JOBS, "each job claimed once");
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM jobs WHERE process_id = 1"),
                 claimers[0].claimed);
    store_release(store, db);
    store_close(store);
}

/* Rewriting an entry leaves its expiry alone when the new one is less than a minute later
 * (the index entry is not rewritten), and moves it when it is further off or earlier. */
static int64_t cache_expiry(struct db *db, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT expires_at FROM cache WHERE key = '%s'", name);
    return contract_int(db, sql);
}

static const char *cache_value(struct db *db, const char *name)
{
    static char value[64];
    char *text = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(cache_store_get(&text, NULL, db, name, 0, &err), 0, "%s", sd_error_message(&err));
    snprintf(value, sizeof value, "%s", text);
    free(text);
    return value;
}

/* Writes "k" as cache_store_put does, with `seq`; returns the seq the entry should carry. */
static int64_t put_entry(struct db *db, const char *value, int64_t expires_at, int64_t seq)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(cache_store_put(db, "k", value, expires_at, seq, &err), 0, "%s",
                 sd_error_message(&err));
    return seq;
}

/* Writes "k" as a job's status is written (with its broadcast; sheetd_publish on
 * PostgreSQL); returns the broadcast's id. */
static int64_t publish_entry(struct db *db, const char *value, int64_t expires_at, int64_t seq)
{
    struct sd_error err = SD_ERROR_INIT;
    int64_t id = 0;
    (void)seq;
    cr_assert_eq(cache_store_publish(db, "k", value, expires_at, 1000, &id, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_gt(id, 0);
    return id;
}

static void check_expiry_rule(int64_t (*write)(struct db *, const char *, int64_t, int64_t))
{
    struct store *store = NULL;
    struct db *db = migrated_queue(&store);
    write(db, "one", 1000000, 1);
    write(db, "two", 1000000 + 59000, 2);
    cr_assert_str_eq(cache_value(db, "k"), "two");
    cr_assert_eq(cache_expiry(db, "k"), 1000000);
    write(db, "three", 1000000 + 61000, 3);
    cr_assert_str_eq(cache_value(db, "k"), "three");
    cr_assert_eq(cache_expiry(db, "k"), 1061000);
    int64_t seq = write(db, "four", 500000, 4);
    cr_assert_str_eq(cache_value(db, "k"), "four");
    cr_assert_eq(cache_expiry(db, "k"), 500000, "an earlier expiry is never kept longer");
    cr_assert_eq(contract_int(db, "SELECT seq FROM cache WHERE key = 'k'"), seq);
    store_release(store, db);
    store_close(store);
}

CONTRACT_TEST(store, a_cache_entry_keeps_an_expiry_within_a_minute_of_the_new_one)
{
    check_expiry_rule(put_entry);
}

CONTRACT_TEST(store, a_published_status_keeps_an_expiry_within_a_minute_of_the_new_one)
{
    check_expiry_rule(publish_entry);
}

/* A status document and its broadcast row go in together, the row's id as the entry's seq;
 * when they cannot be written, the change they belong to still commits (PostgreSQL aborts a
 * transaction at its first error unless something took a savepoint). */
CONTRACT_TEST(store, a_status_write_that_fails_leaves_the_transaction_usable)
{
    struct store *store = NULL;
    struct db *db = migrated_queue(&store);
    struct sd_error err = SD_ERROR_INIT;
    int64_t seq = 0;
    cr_assert_eq(cache_store_publish(db, "job_status:a", "{}", 9000, 1000, &seq, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_gt(seq, 0);
    cr_assert_eq(contract_int(db, "SELECT MAX(id) FROM broadcasts"), seq);
    cr_assert_eq(contract_int(db, "SELECT seq FROM cache WHERE key = 'job_status:a'"), seq);
    contract_exec(db, "DROP TABLE cache");
    cr_assert_eq(db_begin(db, &err), 0);
    insert_export_job(db, "00000000000000b2");
    cr_assert_neq(cache_store_publish(db, "job_status:b", "{}", 9000, 1000, &seq, &err), 0);
    cr_assert_eq(seq, 0);
    cr_assert(strstr(sd_error_message(&err), "cache"), "%s", sd_error_message(&err));
    cr_assert_eq(db_commit(db, &err), 0, "the job's row commits: %s", sd_error_message(&err));
    cr_assert_eq(contract_int(db, "SELECT COUNT(*) FROM jobs WHERE id = '00000000000000b2'"), 1);
    store_release(store, db);
    store_close(store);
}
