/* The bulk writer's contract (db.h), on SQLite and on PostgreSQL (contract.h): inserts at
 * volume and in order, text that needs escaping, NULLs, dates, upserts that count new rows
 * and updates, and refusals that name the row, leave the rows before it written and the
 * caller's transaction usable. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "contract.h"
#include "store/db.h"

static struct db *db;

/* The people table of every test, and its unique email index. */
static void open_people(void)
{
    db = contract_open();
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE people (id %s, email TEXT, name TEXT, age BIGINT, "
             "score DOUBLE PRECISION, active BOOLEAN);"
             "CREATE UNIQUE INDEX people_email ON people (email)",
             contract_is_postgres() ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY");
    contract_exec(db, sql);
}

static const char *const columns[] = {"email", "name", "age", "score", "active"};
static const char *const key[] = {"email"};

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

/* The tag is the age, so a refusal can be checked against the row it names. */
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
    return db_bulk_write_row(bulk, v, age, err);
}

static int64_t q(const char *sql)
{
    return contract_int(db, sql);
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
        char email[32], name[32];
        snprintf(email, sizeof email, "p%d@example.com", i);
        snprintf(name, sizeof name, "%s %d", prefix, i);
        cr_assert_eq(write_person(bulk, email, name, i, &err), 0, "row %d: %s", i,
                     sd_error_message(&err));
    }
}

static void done(void)
{
    db_close(db);
    db = NULL;
}

CONTRACT_TEST(bulk, inserts_ten_thousand_rows_in_order)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    write_range(bulk, 0, 10000, "Person");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 10000, 0);
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));

    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 10000);
    cr_assert_eq(q("SELECT SUM(age) FROM people"), 9999LL * 10000 / 2);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE active"), 5000);
    cr_assert_eq(q("SELECT age FROM people WHERE email = 'p1234@example.com' "
                   "AND name = 'Person 1234' AND score = 308.5"),
                 1234);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE name != 'Person ' || age "
                   "OR email != 'p' || age || '@example.com'"),
                 0);
    done();
}

CONTRACT_TEST(bulk, every_row_count_up_to_a_few_hundred_is_written)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    for (int n = 0; n <= 130; n++) {
        contract_exec(db, "DELETE FROM people");
        struct db_bulk *bulk = open_bulk(n % 2 == 1);
        write_range(bulk, 0, n, "P");
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%d rows: %s", n, sd_error_message(&err));
        assert_counts(bulk, (uint64_t)n, 0);
        db_bulk_close(bulk);
        cr_assert_eq(q("SELECT COUNT(*) FROM people"), n);
        if (n)
            cr_assert_eq(q("SELECT MAX(age) FROM people"), n - 1);
    }
    done();
}

/* Every byte that COPY's text format escapes, a literal "\N", non-ASCII text, an empty
 * string and a NULL come back as they went in, through COPY and through an upsert. */
CONTRACT_TEST(bulk, text_that_needs_escaping_comes_back_unchanged)
{
    open_people();
    static const char *const texts[] = {
        "tab\there",    "line\nbreak",   "carriage\rreturn", "back\\slash",      "\\N",
        "ends with \\", "\\\\t",         "Grüße, 東京 🚀",    "'quoted' \"too\"", "",
        "  spaces  ",   "a\tb\nc\rd\\e",
    };
    size_t ntexts = sizeof texts / sizeof texts[0];
    struct sd_error err = SD_ERROR_INIT;
    for (int upsert = 0; upsert < 2; upsert++) {
        contract_exec(db, "DELETE FROM people");
        struct db_bulk *bulk = open_bulk(upsert);
        for (size_t i = 0; i <= ntexts; i++) {
            char email[32];
            snprintf(email, sizeof email, "t%zu@example.com", i);
            /* The last row has a NULL name. */
            cr_assert_eq(write_person(bulk, email, i < ntexts ? texts[i] : NULL, (int64_t)i, &err),
                         0, "%s", sd_error_message(&err));
        }
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
        db_bulk_close(bulk);
        struct db_stmt *stmt = NULL;
        cr_assert_eq(db_prepare(&stmt, db, "SELECT name FROM people WHERE age = $1", &err), 0);
        for (size_t i = 0; i <= ntexts; i++) {
            db_reset(stmt);
            db_bind_int64(stmt, 1, (int64_t)i);
            cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
            if (i == ntexts) {
                cr_assert(db_column_is_null(stmt, 0));
                cr_assert_null(db_column_text(stmt, 0));
            } else {
                cr_assert(!db_column_is_null(stmt, 0), "row %zu", i);
                cr_assert_str_eq(db_column_text(stmt, 0), texts[i], "upsert %d row %zu", upsert, i);
            }
        }
        db_finalize(stmt);
    }
    done();
}

/* Dates travel as text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS') and read back the same; on
 * PostgreSQL they are real DATE and TIMESTAMP values, and a date that does not exist is
 * refused as its row's fault. */
CONTRACT_TEST(bulk, dates_and_datetimes_land_in_date_columns)
{
    db = contract_open();
    contract_exec(db, "CREATE TABLE events (k TEXT UNIQUE, day DATE, at TIMESTAMP, n BIGINT)");
    static const char *const cols[] = {"k", "day", "at", "n"};
    static const char *const ekey[] = {"k"};
    struct sd_error err = SD_ERROR_INIT;
    for (int upsert = 0; upsert < 2; upsert++) {
        contract_exec(db, "DELETE FROM events");
        struct db_bulk *bulk;
        cr_assert_eq(try_open(&bulk, "events", cols, 4, upsert ? ekey : NULL, upsert ? 1 : 0, &err),
                     0, "%s", sd_error_message(&err));
        static const char *const rows[][3] = {
            {"a", "2015-03-01", "2015-03-01 12:34:56"},
            {"b", "1900-01-01", "1999-12-31 23:59:59"},
            {"c", "2024-02-29", "2024-02-29 00:00:00"},
        };
        for (int i = 0; i < 3; i++) {
            struct db_value v[4] = {
                {.type = DB_VALUE_TEXT, .text = rows[i][0], .len = 1},
                {.type = DB_VALUE_TEXT, .text = rows[i][1], .len = strlen(rows[i][1])},
                {.type = DB_VALUE_TEXT, .text = rows[i][2], .len = strlen(rows[i][2])},
                {.type = DB_VALUE_INT64, .i = i},
            };
            cr_assert_eq(db_bulk_write_row(bulk, v, i, &err), 0, "%s", sd_error_message(&err));
        }
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
        for (int i = 0; i < 3; i++) {
            char sql[96];
            snprintf(sql, sizeof sql, "SELECT day FROM events WHERE n = %d", i);
            char *day = contract_text(db, sql);
            cr_assert_str_eq(day, rows[i][1]);
            free(day);
            snprintf(sql, sizeof sql, "SELECT at FROM events WHERE n = %d", i);
            char *at = contract_text(db, sql);
            cr_assert_str_eq(at, rows[i][2]);
            free(at);
        }
        if (contract_is_postgres()) {
            char *type = contract_text(db, "SELECT pg_typeof(day)::text || ' ' || "
                                           "pg_typeof(at)::text FROM events LIMIT 1");
            cr_assert_str_eq(type, "date timestamp without time zone");
            free(type);
            cr_assert_eq(q("SELECT COUNT(*) FROM events WHERE day < DATE '2000-01-01'"), 1);
            struct db_value bad[4] = {
                {.type = DB_VALUE_TEXT, .text = "d", .len = 1},
                {.type = DB_VALUE_TEXT, .text = "2015-02-30", .len = 10},
                {.type = DB_VALUE_NULL},
                {.type = DB_VALUE_INT64, .i = 9},
            };
            cr_assert_eq(db_bulk_write_row(bulk, bad, 77, &err), 0);
            cr_assert_eq(db_bulk_flush(bulk, &err), SD_EINVALID, "%s", sd_error_message(&err));
            int64_t tag = 0;
            cr_assert(db_bulk_refused_row(bulk, &tag));
            cr_assert_eq(tag, 77);
            cr_assert_eq(q("SELECT COUNT(*) FROM events"), 3);
        }
        db_bulk_close(bulk);
    }
    done();
}

CONTRACT_TEST(bulk, a_duplicate_without_key_columns_is_eexists_and_names_the_row)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(false);
    cr_assert_eq(write_person(bulk, "a@example.com", "A", 1, &err), 0);
    cr_assert_eq(write_person(bulk, "b@example.com", "B", 2, &err), 0);
    cr_assert_eq(write_person(bulk, "a@example.com", "A again", 3, &err), 0);
    cr_assert_eq(write_person(bulk, "c@example.com", "C", 4, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), SD_EEXISTS, "%s", sd_error_message(&err));
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    int64_t tag = 0;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 3);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 2);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE age IN (1, 2)"), 2);
    assert_counts(bulk, 2, 0);
    cr_assert_eq(write_person(bulk, "d@example.com", "D", 5, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    cr_assert(!db_bulk_refused_row(bulk, &tag));
    assert_counts(bulk, 3, 0);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 3);
    done();
}

/* Inside the caller's transaction: the refusal surfaces on a later write, once the batch
 * holding the bad row is sent; the rows before it stay written, the transaction stays usable
 * and commits them with what comes after. */
CONTRACT_TEST(bulk, a_refusal_in_a_full_batch_names_its_row_and_keeps_the_transaction)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    struct db_bulk *bulk = open_bulk(false);
    int rc = 0, at = -1;
    for (int i = 0; i < 6000 && rc == 0; i++) {
        char email[32];
        snprintf(email, sizeof email, "p%d@example.com", i == 2700 ? 5 : i);
        rc = write_person(bulk, email, "X", i, &err);
        at = i;
    }
    cr_assert_eq(rc, SD_EEXISTS, "%s", sd_error_message(&err));
    cr_assert_geq(at, 2700);
    int64_t tag = -1;
    cr_assert(db_bulk_refused_row(bulk, &tag));
    cr_assert_eq(tag, 2700);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 2700);
    cr_assert_eq(q("SELECT MAX(age) FROM people"), 2699);
    cr_assert_eq(write_person(bulk, "late@example.com", "L", 9999, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    db_bulk_close(bulk);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 2701);
    done();
}

CONTRACT_TEST(bulk, a_not_null_refusal_names_the_row_on_an_upsert)
{
    db = contract_open();
    contract_exec(db, "CREATE TABLE strict_people (email TEXT UNIQUE, name TEXT NOT NULL)");
    static const char *const cols[] = {"email", "name"};
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "strict_people", cols, 2, key, 1, &err), 0, "%s",
                 sd_error_message(&err));
    int rc = 0;
    for (int i = 0; i < 180 && rc == 0; i++) {
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
    assert_counts(bulk, 150, 20);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM strict_people"), 150);
    done();
}

CONTRACT_TEST(bulk, a_refusal_by_the_update_of_an_upsert_leaves_the_later_rows_unwritten)
{
    db = contract_open();
    contract_exec(db, "CREATE TABLE named (email TEXT UNIQUE, name TEXT UNIQUE);"
                      "INSERT INTO named VALUES ('a@example.com', 'Ann'), "
                      "('b@example.com', 'Bob')");
    static const char *const cols[] = {"email", "name"};
    struct sd_error err = SD_ERROR_INIT;
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
    cr_assert_eq(q("SELECT COUNT(*) FROM named WHERE email = 'n1@example.com'"), 1);
    cr_assert_eq(q("SELECT COUNT(*) FROM named WHERE email = 'n2@example.com'"), 0);
    cr_assert_eq(q("SELECT COUNT(*) FROM named WHERE name = 'Ann'"), 1);
    db_bulk_close(bulk);
    done();
}

CONTRACT_TEST(bulk, upsert_counts_new_rows_and_updates_and_the_later_row_wins)
{
    open_people();
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
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 3);
    cr_assert_eq(q("SELECT age FROM people WHERE email = 'a@example.com' AND name = 'Anna'"), 31);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE email = 'a@example.com' AND active"), 1);
    cr_assert_eq(q("SELECT age FROM people WHERE email = 'c@example.com' AND name = 'Cy'"), 51);
    cr_assert_eq(q("SELECT id FROM people WHERE email = 'a@example.com'"), 1);
    done();
}

/* 2,500 rows: several batches on either backend (64 rows on SQLite, 2,000 on PostgreSQL). */
CONTRACT_TEST(bulk, upsert_of_existing_new_and_mixed_batches)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(true);
    write_range(bulk, 0, 2500, "Old");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 2500, 0);
    db_bulk_close(bulk);

    bulk = open_bulk(true);
    write_range(bulk, 0, 2500, "New");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 0, 2500);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 2500);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE name != 'New ' || age"), 0);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE id != age + 1"), 0);

    bulk = open_bulk(true);
    write_range(bulk, 1250, 3750, "Mix");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 1250, 1250);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 3750);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE name = 'New ' || age"), 1250);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE name = 'Mix ' || age"), 2500);
    cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE age < 2500 AND id != age + 1"), 0);
    done();
}

/* Rows of 3 KB: PostgreSQL sends a batch once 1 MiB waits, well before 2,000 rows. */
CONTRACT_TEST(bulk, long_rows_are_all_written)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    static char name[3001];
    memset(name, 'n', 3000);
    for (int upsert = 0; upsert < 2; upsert++) {
        contract_exec(db, "DELETE FROM people");
        struct db_bulk *bulk = open_bulk(upsert);
        for (int i = 0; i < 1500; i++) {
            char email[32];
            snprintf(email, sizeof email, "l%d@example.com", i);
            name[0] = (char)('a' + i % 26);
            cr_assert_eq(write_person(bulk, email, name, i, &err), 0, "%s", sd_error_message(&err));
        }
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
        assert_counts(bulk, 1500, 0);
        db_bulk_close(bulk);
        cr_assert_eq(q("SELECT COUNT(*) FROM people WHERE LENGTH(name) = 3000"), 1500);
        cr_assert_eq(q("SELECT age FROM people WHERE email = 'l1499@example.com' "
                       "AND SUBSTR(name, 1, 2) = 'rn'"),
                     1499);
    }
    done();
}

CONTRACT_TEST(bulk, a_key_repeated_inside_one_batch_is_inserted_then_updated_by_the_later_row)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk = open_bulk(true);
    write_range(bulk, 0, 10, "Old");
    cr_assert_eq(db_bulk_flush(bulk, &err), 0);
    for (int i = 0; i < 64; i++) {
        char email[32], name[32];
        int k = i == 20 || i == 40 ? 3 : i == 30 || i == 50 || i == 60 ? 100 : 1000 + i;
        snprintf(email, sizeof email, "p%d@example.com", k);
        snprintf(name, sizeof name, "Row %d", i);
        cr_assert_eq(write_person(bulk, email, name, i, &err), 0, "%s", sd_error_message(&err));
    }
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 10 + 59 + 1, 4);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 10 + 59 + 1);
    cr_assert_eq(q("SELECT age FROM people WHERE email = 'p3@example.com' AND name = 'Row 40'"),
                 40);
    cr_assert_eq(q("SELECT age FROM people WHERE email = 'p100@example.com' AND name = 'Row 60'"),
                 60);
    done();
}

CONTRACT_TEST(bulk, upsert_where_every_column_is_key)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "people", key, 1, key, 1, &err), 0, "%s", sd_error_message(&err));
    struct db_value v = {.type = DB_VALUE_TEXT, .text = "k@example.com", .len = 13};
    cr_assert_eq(db_bulk_write_row(bulk, &v, 1, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 1, 0);
    cr_assert_eq(db_bulk_write_row(bulk, &v, 2, &err), 0);
    cr_assert_eq(db_bulk_write_row(bulk, &v, 3, &err), 0);
    cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
    assert_counts(bulk, 1, 2);
    db_bulk_close(bulk);
    cr_assert_eq(q("SELECT COUNT(*) FROM people"), 1);
    done();
}

CONTRACT_TEST(bulk, a_key_column_must_be_written_and_the_table_must_exist)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    static const char *const cols[] = {"name"};
    struct db_bulk *bulk;
    cr_assert_eq(try_open(&bulk, "people", cols, 1, key, 1, &err), SD_EUSAGE);
    cr_assert(strstr(err.message, "email"), "%s", err.message);
    cr_assert_null(bulk);
    cr_assert_eq(try_open(&bulk, "nobody", columns, 5, NULL, 0, &err), SD_ERROR);
    cr_assert(strstr(err.message, "nobody"), "%s", err.message);
    cr_assert_null(bulk);
    done();
}

/* 700 columns: an upsert batch must stay within the parameters one statement may have
 * (32,766 on SQLite, 65,535 on PostgreSQL). */
CONTRACT_TEST(bulk, a_wide_table_is_written_within_the_parameter_limits)
{
    db = contract_open();
    struct sd_error err = SD_ERROR_INIT;
    enum { NCOLS = 700, NROWS = 230 };
    struct buf sql = BUF_INIT;
    cr_assert_eq(buf_puts(&sql, "CREATE TABLE wide (c0 BIGINT UNIQUE"), 0);
    for (int c = 1; c < NCOLS; c++)
        cr_assert_eq(buf_printf(&sql, ", c%d BIGINT", c), 0);
    cr_assert_eq(buf_puts(&sql, ")"), 0);
    contract_exec(db, buf_cstr(&sql));
    buf_free(&sql);
    static char names[NCOLS][8];
    static const char *cols[NCOLS];
    static struct db_value v[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        snprintf(names[c], sizeof names[c], "c%d", c);
        cols[c] = names[c];
    }
    for (int upsert = 0; upsert < 2; upsert++) {
        struct db_bulk *bulk;
        cr_assert_eq(try_open(&bulk, "wide", cols, NCOLS, upsert ? cols : NULL, upsert, &err), 0,
                     "%s", sd_error_message(&err));
        for (int r = 0; r < NROWS; r++) {
            for (int c = 0; c < NCOLS; c++)
                v[c] = (struct db_value){.type = DB_VALUE_INT64, .i = r * NCOLS + c + upsert};
            v[0].i = r * NCOLS;
            cr_assert_eq(db_bulk_write_row(bulk, v, r, &err), 0, "%s", sd_error_message(&err));
        }
        cr_assert_eq(db_bulk_flush(bulk, &err), 0, "%s", sd_error_message(&err));
        assert_counts(bulk, upsert ? 0 : NROWS, upsert ? NROWS : 0);
        db_bulk_close(bulk);
    }
    cr_assert_eq(q("SELECT COUNT(*) FROM wide"), NROWS);
    cr_assert_eq(q("SELECT c699 FROM wide WHERE c0 = 229 * 700"), 229 * 700 + 699 + 1);
    done();
}

CONTRACT_TEST(bulk, rows_written_then_rolled_back_are_gone)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    for (int upsert = 0; upsert < 2; upsert++) {
        cr_assert_eq(db_begin(db, &err), 0);
        struct db_bulk *bulk = open_bulk(upsert);
        write_range(bulk, 0, 100, "R");
        cr_assert_eq(db_bulk_flush(bulk, &err), 0);
        db_bulk_close(bulk);
        db_rollback(db);
        cr_assert_eq(q("SELECT COUNT(*) FROM people"), 0);
    }
    done();
}

CONTRACT_TEST(bulk, rows_not_flushed_are_not_written)
{
    open_people();
    struct db_bulk *bulk = open_bulk(false);
    write_range(bulk, 0, 70, "D");
    db_bulk_close(bulk);
    cr_assert_lt(q("SELECT COUNT(*) FROM people"), 70);
    done();
}

/* PostgreSQL text cannot hold a NUL byte: the row carrying one is refused by its tag and the
 * rows before it are written (SQLite stores such text as it is). */
CONTRACT_TEST(bulk, text_with_a_nul_byte_is_refused_on_postgres_as_its_rows_fault)
{
    open_people();
    struct sd_error err = SD_ERROR_INIT;
    for (int upsert = 0; upsert < 2; upsert++) {
        contract_exec(db, "DELETE FROM people");
        struct db_bulk *bulk = open_bulk(upsert);
        cr_assert_eq(write_person(bulk, "a@example.com", "A", 1, &err), 0);
        cr_assert_eq(write_person(bulk, "b@example.com", "B", 2, &err), 0);
        struct db_value v[5] = {
            {.type = DB_VALUE_TEXT, .text = "c@example.com", .len = 13},
            {.type = DB_VALUE_TEXT, .text = "nul\0inside", .len = 10},
            {.type = DB_VALUE_INT64, .i = 3},
            {.type = DB_VALUE_DOUBLE, .d = 0},
            {.type = DB_VALUE_BOOL, .i = 0},
        };
        int rc = db_bulk_write_row(bulk, v, 3, &err);
        if (rc == 0)
            rc = db_bulk_flush(bulk, &err);
        if (contract_is_postgres()) {
            cr_assert_eq(rc, SD_EINVALID, "%s", sd_error_message(&err));
            cr_assert(strstr(err.message, "NUL"), "%s", err.message);
            int64_t tag = 0;
            cr_assert(db_bulk_refused_row(bulk, &tag));
            cr_assert_eq(tag, 3);
            cr_assert_eq(q("SELECT COUNT(*) FROM people"), 2);
        } else {
            cr_assert_eq(rc, 0, "%s", sd_error_message(&err));
            cr_assert_eq(q("SELECT COUNT(*) FROM people"), 3);
        }
        db_bulk_close(bulk);
    }
    struct db_stmt *stmt = NULL;
    cr_assert_eq(db_prepare(&stmt, db, "INSERT INTO people (email) VALUES ($1)", &err), 0);
    db_bind_text(stmt, 1, "x\0y", 3);
    cr_assert_eq(db_step(stmt, &err), contract_is_postgres() ? SD_EINVALID : DB_DONE, "%s",
                 sd_error_message(&err));
    db_finalize(stmt);
    done();
}

/* Upserting on columns no unique index covers cannot work on either database; the writer
 * says so when it opens, and the caller's transaction goes on. */
CONTRACT_TEST(bulk, upserting_needs_a_unique_index_over_the_key)
{
    db = contract_open();
    contract_exec(db, "CREATE TABLE loose (email TEXT, name TEXT)");
    static const char *const cols[] = {"email", "name"};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(db_begin(db, &err), 0);
    contract_exec(db, "INSERT INTO loose VALUES ('a@example.com', 'A')");
    struct db_bulk *bulk = NULL;
    cr_assert_neq(try_open(&bulk, "loose", cols, 2, key, 1, &err), 0);
    cr_assert_null(bulk);
    if (contract_is_postgres())
        cr_assert(strstr(err.message, "unique index"), "%s", err.message);
    cr_assert_eq(db_commit(db, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(q("SELECT COUNT(*) FROM loose"), 1);
    done();
}
