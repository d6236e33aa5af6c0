/* db_bulk on SQLite: plain inserts at volume and in order, upserts that count new rows and
 * updates (also when a batch mixes them or repeats a key), and refusals that name the row,
 * whether they surface on a full batch or on the last short one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "store/db.h"
#include "store/db_sqlite.h"
#include "test_support.h"

static struct db *db;

static void setup(void)
{
    test_suite_tmpdir_setup();
    char *path = test_suite_path("bulk.db");
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
    test_suite_tmpdir_teardown();
}

TestSuite(bulk, .init = setup, .fini = teardown);

static const char *const columns[] = {"email", "name", "age", "score", "active"};
static const char *const key[] = {"email"};

/* db_bulk_open on `table` for `cols`, upserting on `keys` when nkeys > 0: the options every
 * test fills in. Returns the open's code; *out is the writer, or NULL when it failed. */
static int try_open(struct db_bulk **out, const char *table, const char *const *cols, size_t ncols,
                    const char *const *keys, size_t nkeys, struct sd_error *err)
{
    struct db_bulk_options opts = DB_BULK_OPTIONS_INIT;
    opts.table = table;
    opts.columns = cols;
    opts.ncolumns = ncols;
    opts.key_columns = keys;
    opts.nkey_columns = nkeys;
    *out = NULL;
    return db_bulk_open(out, db, &opts, err);
}

static struct db_bulk *open_bulk(bool upsert)
{
    struct db_bulk *bulk;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(try_open(&bulk, "people", columns, 5, upsert ? key : NULL, upsert ? 1 : 0, &err),
                 0, "%s", sd_error_message(&err));
    return bulk;
}

static int write_person(struct db_bulk *bulk, const char *email, const char *name, int64_t age,
                        struct sd_error *err)
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
    /* The tag is the age, so a refusal can be checked against the row it names. */
    return db_bulk_write_row(bulk, v, age, err);
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

static void assert_counts(struct db_bulk *bulk, uint64_t inserted, uint64_t updated)
{
    uint64_t i = 99999, u = 99999;
    db_bulk_counts(bulk, &i, &u);
    cr_assert_eq(i, inserted, "inserted %llu, expected %llu", (unsigned long long)i,
                 (unsigned long long)inserted);
    cr_assert_eq(u, updated, "updated %llu, expected %llu", (unsigned long long)u,
                 (unsigned long long)updated);
}

/* Writes people p<from>..p<to-1> named "<prefix> <i>" with age i. */
static void write_range(struct db_bulk *bulk, int from, int to, const char *prefix)
{
    struct sd_error err = SD_ERROR_INIT;
    for (int i = from; i < to; i++) {
        /* One buffer for every row: the writer must copy the text it keeps. */
        char email[32], name[32];
        snprintf(email, sizeof email, "p%d@example.com", i);
        snprintf(name, sizeof name, "%s %d", prefix, i);
        cr_assert_eq(write_person(bulk, email, name, i, &err), 0, "row %d: %s", i,
                     sd_error_message(&err));
    }
}

Test(bulk, inserts_ten_thousand_rows_in_order)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    write_range(bulk, 0, 10000, "Person"); /* full batches and a short last one */
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 10000, 0);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));

    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 10000);
    cr_assert_eq(query_int("SELECT SUM(age) FROM people"), 9999LL * 10000 / 2);
    cr_assert_eq(query_int("SELECT SUM(active) FROM people"), 5000);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'p1234@example.com' "
                           "AND name = 'Person 1234' AND score = 308.5"),
                 1234);
    /* In order: the n-th row written got the n-th id. */
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name != 'Person ' || age "
                           "OR email != 'p' || age || '@example.com'"),
                 0);
}

Test(bulk, every_row_count_up_to_two_batches_is_written)
{
    /* 0..130 rows covers an empty flush, a tail of one, full batches and tails after them. */
    struct sd_error err = SD_ERROR_INIT;
    for (int n = 0; n <= 130; n++) {
        cr_assert_eq(db_exec(db, "DELETE FROM people", &err), 0);
        struct db_bulk *bulk = open_bulk(n % 2 == 1);
        write_range(bulk, 0, n, "P");
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%d rows: %s", n, sd_error_message(&err));
        assert_counts(bulk, (uint64_t)n, 0);
        db_bulk_close(bulk);
        cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), n);
        if (n)
            cr_assert_eq(query_int("SELECT MAX(age) FROM people"), n - 1);
    }
}

Test(bulk, empty_text_stays_empty_and_null_stays_null)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(false);
    cr_assert_eq(write_person(bulk, "e@example.com", "", 1, &err), 0);
    cr_assert_eq(write_person(bulk, "n@example.com", NULL, 2, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT age FROM people WHERE name = ''"), 1);
    cr_assert_eq(query_int("SELECT age FROM people WHERE name IS NULL"), 2);
}

Test(bulk, a_duplicate_without_key_columns_is_eexists_and_names_the_row)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(false);
    cr_assert_eq(write_person(bulk, "a@example.com", "A", 1, &err), 0);
    cr_assert_eq(write_person(bulk, "b@example.com", "B", 2, &err), 0);
    cr_assert_eq(write_person(bulk, "a@example.com", "A again", 3, &err), 0);
    cr_assert_eq(write_person(bulk, "c@example.com", "C", 4, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), SD_EEXISTS);
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    int64_t tag = 0;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 3);
    /* The rows before the refused one are written, it and the rest of its batch are not. */
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 2);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE age IN (1, 2)"), 2);
    assert_counts(bulk, 2, 0);
    /* The writer is still usable after the refusal, and a later success clears it. */
    cr_assert_eq(write_person(bulk, "d@example.com", "D", 5, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    cr_assert(!db_bulk_refused_row(bulk, &tag));
    assert_counts(bulk, 3, 0);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 3);
}

Test(bulk, a_refusal_in_a_full_batch_surfaces_on_a_later_write_and_names_its_row)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    int rc = 0, at = -1;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        char email[32];
        /* Row 700 repeats row 5's email. */
        snprintf(email, sizeof email, "p%d@example.com", i == 700 ? 5 : i);
        rc = write_person(bulk, email, "X", i, &err);
        at = i;
    }
    cr_assert_eq(rc, SD_EEXISTS, "%s", sd_error_message(&err));
    /* Seen when the batch holding row 700 was full, not before row 700 was handed over. */
    cr_assert_geq(at, 700);
    cr_assert_lt(at, 700 + 64);
    int64_t tag = -1;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 700);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 700);
    cr_assert_eq(query_int("SELECT MAX(age) FROM people"), 699);
    db_bulk_close(bulk);
    db_rollback(db);
}

Test(bulk, a_not_null_refusal_names_the_row_on_an_upsert)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(
        db_exec(db, "CREATE TABLE strict_people (email TEXT UNIQUE, name TEXT NOT NULL)", &err), 0);
    static const char *const cols[] = {"email", "name"};
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "strict_people", cols, 2, key, 1, &err), 0, "%s",
                 sd_error_message(&err));
    /* Rows 0..149 new, 150..179 update s0..s29, row 170 has no name: in the third batch
     * (rows 128..191), which holds both new keys and updates. */
    int rc = 0, i;
    for (i = 0; i < 180 && rc == 0; i++) {
        char email[32];
        snprintf(email, sizeof email, "s%d@example.com", i % 150);
        struct db_value v[2] = {
            {.type = DB_VALUE_TEXT, .text = email, .len = strlen(email)},
            {.type = i == 170 ? DB_VALUE_NULL : DB_VALUE_TEXT, .text = "N", .len = 1},
        };
        rc = db_bulk_write_row(bulk, v, 1000 + i, &err);
    }
    if (rc == 0)
        rc = db_bulk_flush(bulk, &err);
    cr_assert_eq(rc, SD_EINVALID, "%s", sd_error_message(&err));
    cr_assert(strstr(err.message, "name"), "%s", err.message);
    int64_t tag = 0;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 1170);
    /* Rows 0..169 went in: 150 new keys, then 20 updates of s0..s19. */
    assert_counts(bulk, 150, 20);
    db_bulk_close(bulk);
}

/* A row whose key exists can pass the batch INSERT (skipped by DO NOTHING) and still be
 * refused by its UPDATE. The rows after it in the batch, which that INSERT did write, must
 * not stay written, just as when the INSERT itself refuses a row. */
Test(bulk, a_refusal_by_the_update_of_an_upsert_batch_leaves_the_later_rows_unwritten)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_exec(db,
                         "CREATE TABLE named (email TEXT UNIQUE, name TEXT UNIQUE);"
                         "INSERT INTO named VALUES ('a@example.com', 'Ann'), "
                         "('b@example.com', 'Bob')",
                         &err),
                 0, "%s", sd_error_message(&err));
    static const char *const cols[] = {"email", "name"};
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "named", cols, 2, key, 1, &err), 0, "%s", sd_error_message(&err));
    static const char *const rows[][2] = {
        {"n1@example.com", "N1"}, {"a@example.com", "Bob"}, {"n2@example.com", "N2"}};
    for (int i = 0; i < 3; i++) {
        struct db_value v[2] = {
            {.type = DB_VALUE_TEXT, .text = rows[i][0], .len = strlen(rows[i][0])},
            {.type = DB_VALUE_TEXT, .text = rows[i][1], .len = strlen(rows[i][1])},
        };
        cr_assert_eq(db_bulk_write_row(bulk, v, i + 1, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), SD_EEXISTS, "%s", sd_error_message(&err));
    int64_t tag = 0;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 2);
    assert_counts(bulk, 1, 0);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM named WHERE email = 'n1@example.com'"), 1);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM named WHERE email = 'n2@example.com'"), 0);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM named WHERE name = 'Ann'"), 1);
    db_bulk_close(bulk);
}

Test(bulk, upsert_counts_new_rows_and_updates_and_the_later_row_wins)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(true);
    cr_assert_eq(write_person(bulk, "a@example.com", "Ann", 30, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(write_person(bulk, "b@example.com", "Bob", 40, &err), 0);
    cr_assert_eq(write_person(bulk, "a@example.com", "Anna", 31, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(write_person(bulk, "c@example.com", NULL, 50, &err), 0);
    cr_assert_eq(write_person(bulk, "c@example.com", "Cy", 51, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 3, 2);
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

Test(bulk, upsert_of_existing_new_and_mixed_batches)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(true);
    write_range(bulk, 0, 1000, "Old");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 1000, 0);
    db_bulk_close(bulk);

    /* Every key again: all updates. */
    bulk = open_bulk(true);
    write_range(bulk, 0, 1000, "New");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 0, 1000);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 1000);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name != 'New ' || age"), 0);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);

    /* Keys 500..1499: each batch mixes (or, past 1000, holds only) new keys. */
    bulk = open_bulk(true);
    write_range(bulk, 500, 1500, "Mix");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 500, 500);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 1500);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name = 'New ' || age"), 500);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name = 'Mix ' || age"), 1000);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);
}

Test(bulk, a_key_repeated_inside_one_batch_is_inserted_then_updated_by_the_later_row)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(true);
    write_range(bulk, 0, 10, "Old"); /* p0..p9 exist before the batch below */
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    /* One batch of 64: new keys, an existing key twice, a new key three times. */
    for (int i = 0; i < 64; i++) {
        char email[32], name[32];
        int k = i == 20 || i == 40 ? 3 : i == 30 || i == 50 || i == 60 ? 100 : 1000 + i;
        snprintf(email, sizeof email, "p%d@example.com", k);
        snprintf(name, sizeof name, "Row %d", i);
        cr_assert_eq(write_person(bulk, email, name, i, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    /* 10 + 59 new keys plus p100; p3 updated twice, p100 twice after its insert. */
    assert_counts(bulk, 10 + 59 + 1, 4);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 10 + 59 + 1);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'p3@example.com' "
                           "AND name = 'Row 40'"),
                 40);
    cr_assert_eq(query_int("SELECT age FROM people WHERE email = 'p100@example.com' "
                           "AND name = 'Row 60'"),
                 60);
}

Test(bulk, upsert_where_every_column_is_key)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "people", key, 1, key, 1, &err), 0, "%s", sd_error_message(&err));
    struct db_value v = {.type = DB_VALUE_TEXT, .text = "k@example.com", .len = 13};
    cr_assert_eq(db_bulk_write_row(bulk, &v, 1, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    assert_counts(bulk, 1, 0);
    cr_assert_eq(db_bulk_write_row(bulk, &v, 2, &err), 0);
    cr_assert_eq(db_bulk_write_row(bulk, &v, 3, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    assert_counts(bulk, 1, 2);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 1);
}

Test(bulk, a_key_column_must_be_written)
{
    struct sd_error err = SD_ERROR_INIT;
    static const char *const cols[] = {"name"};
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "people", cols, 1, key, 1, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    cr_assert_null(bulk);
}

Test(bulk, a_missing_table_is_reported_on_open)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "nobody", columns, 5, NULL, 0, &err), SD_ERROR);
    cr_assert(strstr(err.message, "nobody"), "%s", err.message);
    cr_assert_null(bulk);
}

Test(bulk, a_wide_table_gets_smaller_batches_within_the_parameter_limit)
{
    /* 700 columns: 64 rows would need 44,800 parameters, past SQLite's 32,766. */
    struct sd_error err = SD_ERROR_INIT;
    enum { NCOLS = 700, NROWS = 130 };
    struct buf sql = BUF_INIT;
    cr_assert_eq(buf_puts(&sql, "CREATE TABLE wide (c0 INTEGER"), 0);
    for (int c = 1; c < NCOLS; c++)
        cr_assert_eq(buf_printf(&sql, ", c%d INTEGER", c), 0);
    cr_assert_eq(buf_puts(&sql, ")"), 0);
    cr_assert_eq(db_exec(db, buf_cstr(&sql), &err), 0, "%s", sd_error_message(&err));
    buf_free(&sql);
    char names[NCOLS][8];
    const char *cols[NCOLS];
    struct db_value v[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        snprintf(names[c], sizeof names[c], "c%d", c);
        cols[c] = names[c];
    }
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "wide", cols, NCOLS, NULL, 0, &err), 0, "%s",
                 sd_error_message(&err));
    for (int r = 0; r < NROWS; r++) {
        for (int c = 0; c < NCOLS; c++)
            v[c] = (struct db_value){.type = DB_VALUE_INT64, .i = r * NCOLS + c};
        cr_assert_eq(db_bulk_write_row(bulk, v, r, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, NROWS, 0);
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM wide"), NROWS);
    cr_assert_eq(query_int("SELECT c699 FROM wide WHERE c0 = 129 * 700"), 129 * 700 + 699);
}

Test(bulk, rows_written_then_rolled_back_are_gone)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    for (int i = 0; i < 100; i++) {
        char email[32];
        snprintf(email, sizeof email, "r%d@example.com", i);
        cr_assert_eq(write_person(bulk, email, "R", i, &err), 0);
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    db_bulk_close(bulk);
    db_rollback(db);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 0);
}

Test(bulk, rows_not_flushed_are_dropped_on_close)
{
    struct db_bulk *bulk = open_bulk(false);
    write_range(bulk, 0, 70, "D"); /* one full batch written, six rows waiting */
    db_bulk_close(bulk);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 64);
}

/* Counts the statements the connection runs whose text starts with `prefix`. */
struct statement_count {
    const char *prefix;
    int n;
};

static int count_statement(unsigned type, void *ctx, void *stmt, void *sql)
{
    (void)stmt;
    struct statement_count *c = ctx;
    if (type == SQLITE_TRACE_STMT && !strncmp(sql, c->prefix, strlen(c->prefix)))
        c->n++;
    return 0;
}

static void count_statements(struct statement_count *c)
{
    sqlite3_trace_v2(((struct sqlite_db *)db)->conn, SQLITE_TRACE_STMT, c ? count_statement : NULL,
                     c);
}

/* A savepoint makes SQLite copy every page a batch changes first; a batch whose keys are all
 * new needs none. One that meets an existing key takes its rows back and runs in a
 * savepoint, and the table ends as if the rows had been written one by one. */
Test(bulk, only_a_batch_that_meets_an_existing_key_takes_a_savepoint)
{
    struct sd_error err = SD_ERROR_INIT;
    struct statement_count savepoints = {.prefix = "SAVEPOINT"};
    count_statements(&savepoints);
    struct db_bulk *bulk = open_bulk(true);
    write_range(bulk, 0, 640, "Old");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 640, 0);
    cr_assert_eq(savepoints.n, 0);

    write_range(bulk, 630, 694, "Mix"); /* one batch: 10 keys exist, 54 are new */
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 694, 10);
    cr_assert_eq(savepoints.n, 1);
    db_bulk_close(bulk);
    count_statements(NULL);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 694);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name = 'Mix ' || age"), 64);
    /* the rows taken back leave no gap in the numbering */
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);
}

/* When the rows written choose their own rowid, the INSERT's rows cannot be told apart by
 * rowid, so every upsert batch runs in a savepoint, with the same outcome. */
Test(bulk, an_upsert_that_writes_the_rowid_always_takes_the_savepoint)
{
    static const char *const cols[] = {"id", "email", "name"};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(
        db_exec(db, "INSERT INTO people (id, email, name) VALUES (500, 'p3', 'Old')", &err), 0,
        "%s", sd_error_message(&err));
    struct statement_count savepoints = {.prefix = "SAVEPOINT"};
    count_statements(&savepoints);
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "people", cols, 3, key, 1, &err), 0, "%s", sd_error_message(&err));
    for (int i = 0; i < 64; i++) {
        char email[16];
        snprintf(email, sizeof email, "p%d", i);
        struct db_value v[3] = {
            {.type = DB_VALUE_INT64, .i = 100 - i}, /* descending, below the existing row */
            {.type = DB_VALUE_TEXT, .text = email, .len = strlen(email)},
            {.type = DB_VALUE_TEXT, .text = "New", .len = 3},
        };
        cr_assert_eq(db_bulk_write_row(bulk, v, i, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 63, 1);
    cr_assert_eq(savepoints.n, 1);
    db_bulk_close(bulk);
    count_statements(NULL);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people"), 64);
    cr_assert_eq(query_int("SELECT COUNT(*) FROM people WHERE name = 'New'"), 64);
    cr_assert_eq(query_int("SELECT id FROM people WHERE email = 'p3'"), 97);
}
