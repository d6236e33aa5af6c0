/*
 * DESIGN
 * ------
 * Bulk writing on PostgreSQL.
 *
 * Every row goes through COPY ... FROM STDIN in text format: db_bulk_write_row appends the row
 * to a buffer as one line (values separated by TAB; backslash, TAB, LF and CR escaped as
 * \\ \t \n \r; NULL as \N), and once BATCH_ROWS rows or BATCH_BYTES bytes wait, the batch is
 * sent. Plain inserts COPY straight into the table. Upserts (key columns) COPY into a
 * temporary staging table shaped like the written columns (created when missing, dropped at
 * commit, emptied before each batch), then
 *
 *     INSERT INTO t (a, b) SELECT a, b FROM stage
 *     ON CONFLICT (key) DO UPDATE SET b = EXCLUDED.b RETURNING (xmax = 0)
 *
 * whose RETURNING says, row by row, whether the row was new (a fresh tuple has no xmax) or an
 * update. (A batch of multi-row INSERT ... VALUES with parameters measured 3.5x slower: the
 * server parses and plans thousands of parameters per statement.) PostgreSQL refuses a
 * statement that would update one row twice, so a row whose key already waits in the batch (a
 * 64-bit hash of its key values, kept per batch) first sends the batch before it: the later
 * row then updates the earlier one, and the later row wins as it would row by row. When all
 * the columns are key columns there is nothing to update: DO NOTHING, and the rows that
 * returned nothing were "updates". And while the batches hold only new keys (a first import),
 * an upsert batch is first tried as a plain COPY into the table, twice as fast; the first
 * existing key makes that COPY fail, and the batch is rolled back to its savepoint and staged
 * (see write_batch).
 *
 * Refusals. On PostgreSQL a failed statement aborts the whole transaction, so every batch
 * runs inside SAVEPOINT sd_bulk (inside a transaction of its own when the caller has none
 * open, committed at the end of the batch). When a batch fails, the writer rolls back to the
 * savepoint and replays the batch one row per statement: the first row that fails is the
 * refused one. It rolls back to the savepoint once more, writes the rows before the refused
 * one again (one per statement, which is what just worked), and releases the savepoint. So
 * the rows before the refused row are written, it and the rest of its batch are not, and the
 * caller's transaction is intact. A busy database (deadlock, serialization failure), a lack
 * of memory and a lost connection belong to no row and are passed on as they are.
 *
 * Text PostgreSQL cannot hold at all (a NUL byte) is refused as the row's own fault before it
 * is buffered.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "store/db_postgres.h"

#define BATCH_ROWS 2000
#define BATCH_BYTES (1u << 20)
#define KEY_SLOTS 4096 /* a power of two, at least twice BATCH_ROWS */
_Static_assert(KEY_SLOTS >= 2 * BATCH_ROWS && (KEY_SLOTS & (KEY_SLOTS - 1)) == 0, "KEY_SLOTS");

struct pg_bulk {
    struct db_bulk base; /* first */
    size_t ncolumns;
    bool upsert;
    bool nothing_to_update; /* every column is a key column */
    size_t *key_index;      /* the position of each key column among the columns */
    size_t nkeys;
    char *copy_sql;       /* COPY t (a, b) FROM STDIN */
    char *stage_copy_sql; /* upserts: COPY stage (a, b) FROM STDIN */
    /* Upserts: try the next batch as a plain COPY (the last one held only new keys). */
    bool optimistic;
    char *stage_sql;  /* upserts: CREATE TEMP TABLE IF NOT EXISTS stage ...; TRUNCATE stage */
    char *upsert_sql; /* upserts: INSERT INTO t ... SELECT ... FROM stage ON CONFLICT ... */
    size_t batch_rows;
    /* The waiting rows: their COPY lines in `data`, line_end[r] where row r ends. */
    struct buf data;
    size_t *line_end;
    int64_t *tags;
    /* Upserts: the key hashes of the waiting rows, an open-addressing set of KEY_SLOTS slots
     * (0 marks an empty slot, so a hash of 0 is stored as 1). */
    uint64_t *key_set;
    size_t npending;
};

static struct pg_db *bulk_db(struct pg_bulk *b)
{
    return (struct pg_db *)b->base.db;
}

/* Appends text escaped for COPY's text format. */
static int put_copy_text(struct buf *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = s[i] == '\\'   ? "\\\\"
                          : s[i] == '\t' ? "\\t"
                          : s[i] == '\n' ? "\\n"
                          : s[i] == '\r' ? "\\r"
                                         : NULL;
        if (!esc)
            continue;
        if (buf_append(out, s + start, i - start) || buf_append(out, esc, 2))
            return SD_ENOMEM;
        start = i + 1;
    }
    return buf_append(out, s + start, len - start) ? SD_ENOMEM : 0;
}

/* The COPY text of a non-NULL, non-TEXT value. */
static const char *scalar_text(const struct db_value *v, char tmp[32])
{
    switch (v->type) {
    case DB_VALUE_INT64:
        snprintf(tmp, 32, "%lld", (long long)v->i);
        return tmp;
    case DB_VALUE_DOUBLE:
        pg_format_double(tmp, v->d);
        return tmp;
    case DB_VALUE_BOOL:
        return v->i ? "t" : "f";
    default:
        assert(!"not a scalar db_value");
        return "";
    }
}

/* The staging table's name: one per table and column list, so two writers in one transaction
 * never share one of a different shape. */
static uint64_t hash_bytes(uint64_t h, const void *data, size_t len);

static int build_sql(struct pg_bulk *b, const struct db_bulk_options *opts)
{
    struct buf cols = BUF_INIT, copy = BUF_INIT, stage = BUF_INIT, upsert = BUF_INIT;
    struct buf stage_copy = BUF_INIT;
    struct buf stage_name = BUF_INIT, table = BUF_INIT;
    db_append_ident(&table, opts->table);
    for (size_t i = 0; i < opts->ncolumns; i++) {
        if (i)
            buf_puts(&cols, ", ");
        db_append_ident(&cols, opts->columns[i]);
    }
    uint64_t h = hash_bytes(14695981039346656037ULL, opts->table, strlen(opts->table));
    h = hash_bytes(h, cols.data ? cols.data : "", cols.len);
    buf_printf(&stage_name, "\"sd_stage_%016llx\"", (unsigned long long)h);
    buf_printf(&copy, "COPY %s (%s) FROM STDIN", buf_cstr(&table), buf_cstr(&cols));
    int rc = buf_status(&table) || buf_status(&cols) || buf_status(&stage_name) || buf_status(&copy)
                 ? SD_ENOMEM
                 : 0;
    if (!rc && b->upsert) {
        buf_printf(&stage_copy, "COPY %s (%s) FROM STDIN", buf_cstr(&stage_name), buf_cstr(&cols));
        buf_printf(&stage,
                   "CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DROP AS SELECT %s FROM %s "
                   "WITH NO DATA; TRUNCATE %s",
                   buf_cstr(&stage_name), buf_cstr(&cols), buf_cstr(&table), buf_cstr(&stage_name));
        buf_printf(&upsert, "INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT (", buf_cstr(&table),
                   buf_cstr(&cols), buf_cstr(&cols), buf_cstr(&stage_name));
        for (size_t k = 0; k < opts->nkey_columns; k++) {
            if (k)
                buf_puts(&upsert, ", ");
            db_append_ident(&upsert, opts->key_columns[k]);
        }
        if (b->nothing_to_update) {
            buf_puts(&upsert, ") DO NOTHING RETURNING true");
        } else {
            buf_puts(&upsert, ") DO UPDATE SET ");
            bool any = false;
            for (size_t i = 0; i < opts->ncolumns; i++) {
                bool key = false;
                for (size_t k = 0; k < b->nkeys && !key; k++)
                    key = b->key_index[k] == i;
                if (key)
                    continue;
                if (any)
                    buf_puts(&upsert, ", ");
                any = true;
                db_append_ident(&upsert, opts->columns[i]);
                buf_puts(&upsert, " = EXCLUDED.");
                db_append_ident(&upsert, opts->columns[i]);
            }
            buf_puts(&upsert, " RETURNING (xmax = 0)");
        }
        rc = buf_status(&stage_copy) || buf_status(&stage) || buf_status(&upsert) ? SD_ENOMEM : 0;
        if (!rc) {
            b->stage_sql = buf_detach(&stage);
            b->upsert_sql = buf_detach(&upsert);
            b->stage_copy_sql = buf_detach(&stage_copy);
        }
    }
    if (!rc)
        b->copy_sql = buf_detach(&copy);
    buf_free(&cols);
    buf_free(&copy);
    buf_free(&stage);
    buf_free(&upsert);
    buf_free(&stage_copy);
    buf_free(&stage_name);
    buf_free(&table);
    if (rc || !b->copy_sql ||
        (b->upsert && (!b->stage_sql || !b->upsert_sql || !b->stage_copy_sql)))
        return SD_ENOMEM;
    return 0;
}

/* ON CONFLICT (key) needs a unique index over exactly the key columns; without one an upsert
 * could not work (and the plain COPY that a first batch tries would insert duplicates). A
 * statement that writes nothing finds out; inside the caller's transaction it runs in a
 * savepoint, so that its failure does not abort the transaction. */
static int check_key_index(struct pg_bulk *b, const struct db_bulk_options *opts,
                           struct sd_error *err)
{
    struct pg_db *db = bulk_db(b);
    struct buf keys = BUF_INIT, sql = BUF_INIT;
    for (size_t k = 0; k < opts->nkey_columns; k++) {
        if (k)
            buf_puts(&keys, ", ");
        db_append_ident(&keys, opts->key_columns[k]);
    }
    buf_puts(&sql, "INSERT INTO ");
    db_append_ident(&sql, opts->table);
    buf_printf(&sql, " (%s) SELECT %s FROM ", buf_cstr(&keys), buf_cstr(&keys));
    db_append_ident(&sql, opts->table);
    buf_printf(&sql, " WHERE false ON CONFLICT (%s) DO NOTHING", buf_cstr(&keys));
    int rc = buf_status(&keys) || buf_status(&sql) ? SD_ENOMEM : 0;
    buf_free(&keys);
    if (rc) {
        buf_free(&sql);
        return sd_error_nomem(err);
    }
    pg_settle(db);
    bool fenced = PQtransactionStatus(db->conn) == PQTRANS_INTRANS;
    rc = fenced ? pg_command(db, "SAVEPOINT sd_bulk_check", err) : 0;
    if (rc == 0 && pg_command(db, buf_cstr(&sql), NULL) != 0) {
        rc = sd_error_set(err, SD_EUSAGE,
                          "upserting needs a unique index over exactly the key columns, and %s "
                          "has none",
                          opts->table);
        if (fenced)
            pg_command(db, "ROLLBACK TO SAVEPOINT sd_bulk_check", NULL);
    }
    if (fenced && !db->base.broken)
        pg_command(db, "RELEASE SAVEPOINT sd_bulk_check", NULL);
    buf_free(&sql);
    return rc;
}

/* Checks that the table and every column exist (without sending a statement that would
 * abort the caller's transaction if they did not), then builds the SQL. The caller owns *out
 * and closes it with db_bulk_close. */
int db_pg_bulk_open(struct db_bulk **out, struct db *db, const struct db_bulk_options *opts,
                    struct sd_error *err)
{
    struct pg_bulk *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    b->base.db = db;
    b->ncolumns = opts->ncolumns;
    b->upsert = opts->nkey_columns > 0;
    b->optimistic = true;
    b->nkeys = opts->nkey_columns;
    char **names = NULL;
    size_t nnames = 0;
    int rc;
    b->key_index = calloc(b->nkeys ? b->nkeys : 1, sizeof *b->key_index);
    if (!b->key_index) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    for (size_t k = 0; k < opts->nkey_columns; k++) {
        bool found = false;
        for (size_t i = 0; i < opts->ncolumns && !found; i++)
            if ((found = str_eq(opts->key_columns[k], opts->columns[i])))
                b->key_index[k] = i;
        if (!found) {
            rc = sd_error_set(err, SD_EUSAGE,
                              "the key column \"%s\" is not one of the columns written to %s",
                              opts->key_columns[k], opts->table);
            goto fail;
        }
    }
    b->nothing_to_update = b->upsert && b->nkeys == b->ncolumns;
    rc = db_pg_table_columns(&names, &nnames, db, opts->table, err);
    if (rc == SD_ENOTFOUND)
        rc = SD_ERROR; /* the sentence names the table */
    for (size_t i = 0; !rc && i < opts->ncolumns; i++) {
        bool found = false;
        for (size_t j = 0; j < nnames && !found; j++)
            found = str_eq(names[j], opts->columns[i]);
        if (!found)
            rc = sd_error_set(err, SD_ERROR, "the table has no column \"%s\"", opts->columns[i]);
    }
    db_free_names(names, nnames);
    if (rc)
        goto fail_prefix;
    b->batch_rows = BATCH_ROWS;
    b->tags = calloc(b->batch_rows, sizeof *b->tags);
    b->line_end = calloc(b->batch_rows, sizeof *b->line_end);
    if (b->upsert)
        b->key_set = calloc(KEY_SLOTS, sizeof *b->key_set);
    if (!b->tags || !b->line_end || (b->upsert && !b->key_set) || build_sql(b, opts)) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    if (b->upsert && (rc = check_key_index(b, opts, err)) != 0)
        goto fail;
    *out = &b->base;
    return 0;
fail_prefix:
    sd_error_prefix(err, "could not prepare writing rows to %s", opts->table);
fail:
    db_pg_bulk_close(&b->base);
    return rc;
}

/* Sends rows [from, to) of the batch through COPY; *inserted receives the count. */
static int copy_rows(struct pg_bulk *b, const char *sql, size_t from, size_t to, uint64_t *inserted,
                     struct sd_error *err)
{
    struct pg_db *db = bulk_db(b);
    PGresult *res = PQexec(db->conn, sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = pg_result_error(db, res, err);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    size_t start = from ? b->line_end[from - 1] : 0;
    size_t len = b->line_end[to - 1] - start;
    const char *data = b->data.data + start;
    int ok = 1;
    /* PQputCopyData takes an int length: large batches go in slices. */
    while (ok == 1 && len > 0) {
        size_t part = len > (1u << 30) ? (1u << 30) : len;
        ok = PQputCopyData(db->conn, data, (int)part);
        data += part;
        len -= part;
    }
    if (ok == 1)
        ok = PQputCopyEnd(db->conn, NULL);
    int rc = 0;
    while ((res = PQgetResult(db->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            const char *n = PQcmdTuples(res);
            *inserted = n && *n ? strtoull(n, NULL, 10) : 0;
        } else if (!rc) {
            rc = pg_result_error(db, res, err);
        }
        PQclear(res);
    }
    if (!rc && ok != 1)
        rc = pg_result_error(db, NULL, err);
    return rc;
}

/* Sends rows [from, to) of the batch into the staging table and from there into the table,
 * counting new and updated rows from what the INSERT returns. */
static int upsert_rows(struct pg_bulk *b, size_t from, size_t to, uint64_t *inserted,
                       uint64_t *updated, struct sd_error *err)
{
    struct pg_db *db = bulk_db(b);
    uint64_t staged = 0;
    int rc = pg_command(db, b->stage_sql, err);
    rc = rc ? rc : copy_rows(b, b->stage_copy_sql, from, to, &staged, err);
    if (rc)
        return rc;
    PGresult *res = PQexec(db->conn, b->upsert_sql);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = pg_result_error(db, res, err);
        PQclear(res);
        return rc;
    }
    uint64_t fresh = 0;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        fresh += b->nothing_to_update || str_eq(PQgetvalue(res, r, 0), "t");
    PQclear(res);
    *inserted = fresh;
    *updated = (to - from) - fresh;
    return 0;
}

static int write_rows(struct pg_bulk *b, size_t from, size_t to, uint64_t *inserted,
                      uint64_t *updated, struct sd_error *err)
{
    *inserted = *updated = 0;
    return b->upsert ? upsert_rows(b, from, to, inserted, updated, err)
                     : copy_rows(b, b->copy_sql, from, to, inserted, err);
}

/* Writes rows [0, n) one statement per row; the counts are added to *ins and *upd. On a
 * failure *at is the row that failed. */
static int write_singly(struct pg_bulk *b, size_t n, uint64_t *ins, uint64_t *upd, size_t *at,
                        struct sd_error *err)
{
    for (size_t r = 0; r < n; r++) {
        uint64_t i = 0, u = 0;
        int rc = write_rows(b, r, r + 1, &i, &u, err);
        if (rc) {
            *at = r;
            return rc;
        }
        *ins += i;
        *upd += u;
    }
    return 0;
}

/* Writes the whole batch as one statement (inside the savepoint). An upsert batch that follows
 * a batch of only new keys first tries a plain COPY into the table, which is all a fresh import
 * needs; when that meets an existing key it is rolled back and the batch takes the staging
 * path, as do the batches after it until one holds only new keys again. */
static int write_batch(struct pg_bulk *b, size_t n, uint64_t *ins, uint64_t *upd,
                       struct sd_error *err)
{
    if (b->upsert && b->optimistic && n > 1) {
        *upd = 0;
        int rc = copy_rows(b, b->copy_sql, 0, n, ins, err);
        if (rc != SD_EEXISTS)
            return rc;
        b->optimistic = false;
        rc = pg_command(bulk_db(b), "ROLLBACK TO SAVEPOINT sd_bulk", err);
        if (rc)
            return rc;
    }
    int rc = write_rows(b, 0, n, ins, upd, err);
    if (rc == 0 && b->upsert)
        b->optimistic = *upd == 0;
    return rc;
}

static bool belongs_to_no_row(struct pg_bulk *b, int rc)
{
    return rc == SD_ERETRY || rc == SD_ENOMEM || b->base.db->broken;
}

/* Writes the waiting rows inside the savepoint as the DESIGN note explains, and empties the
 * batch whatever happens. */
static int flush_batch(struct pg_bulk *b, struct sd_error *err)
{
    size_t n = b->npending;
    if (n == 0)
        return 0;
    struct pg_db *db = bulk_db(b);
    pg_settle(db);
    bool own = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
    uint64_t ins = 0, upd = 0;
    int rc = own ? pg_command(db, "BEGIN", err) : 0;
    if (rc)
        goto done;
    rc = pg_command(db, "SAVEPOINT sd_bulk", err);
    if (rc)
        goto end;
    rc = write_batch(b, n, &ins, &upd, err);
    if (rc && !belongs_to_no_row(b, rc)) {
        size_t at = 0;
        struct sd_error ignored = SD_ERROR_INIT;
        ins = upd = 0;
        int prc = pg_command(db, "ROLLBACK TO SAVEPOINT sd_bulk", &ignored);
        rc = prc ? prc : write_singly(b, n, &ins, &upd, &at, err);
        if (rc && !prc && !belongs_to_no_row(b, rc)) {
            /* Row `at` is the refused one: undo the replay and write the rows before it. */
            b->base.refused = true;
            b->base.refused_tag = b->tags[at];
            ins = upd = 0;
            size_t none;
            prc = pg_command(db, "ROLLBACK TO SAVEPOINT sd_bulk", &ignored);
            if (!prc)
                prc = write_singly(b, at, &ins, &upd, &none, &ignored);
            if (prc) {
                b->base.refused = false;
                rc = sd_error_set(err, prc, "%s", sd_error_message(&ignored));
            }
        }
    }
    if (rc && belongs_to_no_row(b, rc)) {
        if (!b->base.db->broken)
            pg_command(db, "ROLLBACK TO SAVEPOINT sd_bulk", NULL);
        ins = upd = 0;
    }
    if (!b->base.db->broken) {
        int released = pg_command(db, "RELEASE SAVEPOINT sd_bulk", rc ? NULL : err);
        rc = rc ? rc : released;
    }
end:
    if (own) {
        if (!b->base.db->broken && (rc == 0 || b->base.refused)) {
            /* The backend's commit, which also catches a COMMIT answered "ROLLBACK". */
            int committed = db->base.ops->commit(&db->base, rc ? NULL : err);
            if (committed && !rc)
                rc = committed;
            if (committed)
                ins = upd = 0;
        } else {
            db->base.ops->rollback(&db->base);
        }
    }
done:
    if (rc == 0 || b->base.refused) {
        b->base.inserted += ins;
        b->base.updated += upd;
    }
    b->npending = 0;
    buf_clear(&b->data);
    if (b->key_set)
        memset(b->key_set, 0, KEY_SLOTS * sizeof *b->key_set);
    return rc;
}

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* The hash of a row's key values (with their types), to see a key repeat inside a batch. */
static uint64_t key_hash(const struct pg_bulk *b, const struct db_value *values)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t k = 0; k < b->nkeys; k++) {
        const struct db_value *v = &values[b->key_index[k]];
        unsigned char type = (unsigned char)v->type;
        h = hash_bytes(h, &type, 1);
        if (v->type == DB_VALUE_TEXT)
            h = hash_bytes(h, v->text ? v->text : "", v->text ? v->len : 0);
        else if (v->type == DB_VALUE_DOUBLE)
            h = hash_bytes(h, &v->d, sizeof v->d);
        else if (v->type != DB_VALUE_NULL)
            h = hash_bytes(h, &v->i, sizeof v->i);
        h = hash_bytes(h, "\x1f", 1);
    }
    return h;
}

/* Appends one row as a COPY line. */
static int buffer_copy_row(struct pg_bulk *b, const struct db_value *values)
{
    int rc = 0;
    for (size_t c = 0; !rc && c < b->ncolumns; c++) {
        const struct db_value *v = &values[c];
        rc = c ? buf_putc(&b->data, '\t') : 0;
        if (rc)
            break;
        char tmp[32];
        if (v->type == DB_VALUE_NULL)
            rc = buf_append(&b->data, "\\N", 2);
        else if (v->type == DB_VALUE_TEXT)
            rc = put_copy_text(&b->data, v->text ? v->text : "", v->text ? v->len : 0);
        else
            rc = buf_puts(&b->data, scalar_text(v, tmp));
    }
    return rc || buf_putc(&b->data, '\n') ? SD_ENOMEM : 0;
}

static bool key_set_has(const struct pg_bulk *b, uint64_t h)
{
    h = h ? h : 1;
    for (size_t i = h & (KEY_SLOTS - 1);; i = (i + 1) & (KEY_SLOTS - 1)) {
        if (b->key_set[i] == h)
            return true;
        if (b->key_set[i] == 0)
            return false;
    }
}

static void key_set_add(struct pg_bulk *b, uint64_t h)
{
    h = h ? h : 1;
    size_t i = h & (KEY_SLOTS - 1);
    while (b->key_set[i] != 0 && b->key_set[i] != h)
        i = (i + 1) & (KEY_SLOTS - 1);
    b->key_set[i] = h;
}

/* Buffers the row (after sending the batch when it is full, or for an upsert when the row's
 * key already waits in it) and sends the batch once it is full. */
int db_pg_bulk_write_row(struct db_bulk *bulk, const struct db_value *values, int64_t tag,
                         struct sd_error *err)
{
    struct pg_bulk *b = (struct pg_bulk *)bulk;
    for (size_t c = 0; c < b->ncolumns; c++) {
        if (values[c].type == DB_VALUE_TEXT && values[c].text &&
            memchr(values[c].text, '\0', values[c].len)) {
            int rc = flush_batch(b, err);
            if (rc)
                return rc;
            b->base.refused = true;
            b->base.refused_tag = tag;
            return sd_error_set(err, SD_EINVALID,
                                "the database refused a value: text with a NUL byte cannot be "
                                "stored in PostgreSQL");
        }
    }
    int rc;
    uint64_t h = 0;
    if (b->upsert) {
        h = key_hash(b, values);
        /* The rows before this one go first, so this one updates what they wrote. */
        if (key_set_has(b, h) && (rc = flush_batch(b, err)) != 0)
            return rc;
    }
    size_t mark = b->data.len;
    rc = buffer_copy_row(b, values);
    b->line_end[b->npending] = b->data.len;
    if (rc) {
        buf_truncate(&b->data, mark);
        return sd_error_nomem(err);
    }
    if (b->upsert)
        key_set_add(b, h);
    b->tags[b->npending++] = tag;
    if (b->npending == b->batch_rows || b->data.len >= BATCH_BYTES)
        return flush_batch(b, err);
    return 0;
}

int db_pg_bulk_flush(struct db_bulk *bulk, struct sd_error *err)
{
    return flush_batch((struct pg_bulk *)bulk, err);
}

void db_pg_bulk_close(struct db_bulk *bulk)
{
    struct pg_bulk *b = (struct pg_bulk *)bulk;
    free(b->key_index);
    free(b->copy_sql);
    free(b->stage_copy_sql);
    free(b->stage_sql);
    free(b->upsert_sql);
    buf_free(&b->data);
    free(b->line_end);
    free(b->tags);
    free(b->key_set);
    free(b);
}
