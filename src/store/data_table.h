/*
 * The tables imported rows land in, one per template. Each has the template's columns with
 * typed SQL columns, plus
 *
 *   _id      INTEGER PRIMARY KEY (BIGSERIAL on PostgreSQL), the order rows were written in
 *   _row     the spreadsheet row the values came from
 *   _job_id  the job (or CLI run) that wrote it
 *
 * and a unique index over the template's upsert key. Column names are identifiers that the
 * template layer has already validated ([a-z][a-z0-9_]{0,62}, not an SQL keyword); this file
 * asserts that again before putting them in SQL.
 *
 * How each type is stored:
 *   TEXT      TEXT
 *   INTEGER   BIGINT
 *   DECIMAL   DOUBLE PRECISION   (SQLite: REAL)
 *   DATE      DATE as 'YYYY-MM-DD'          (SQLite: TEXT)
 *   DATETIME  TIMESTAMP as 'YYYY-MM-DD HH:MM:SS' (SQLite: TEXT)
 *   BOOLEAN   BOOLEAN                         (SQLite: INTEGER 0/1)
 */
#ifndef SHEETD_STORE_DATA_TABLE_H
#define SHEETD_STORE_DATA_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "store/db.h"

enum data_column_type {
    DATA_COLUMN_TEXT = 1,
    DATA_COLUMN_INTEGER,
    DATA_COLUMN_DECIMAL,
    DATA_COLUMN_DATE,
    DATA_COLUMN_DATETIME,
    DATA_COLUMN_BOOLEAN,
};

struct data_column {
    const char *name;
    enum data_column_type type;
};

/* True for [a-z][a-z0-9_]{0,62} that is not an SQL keyword of SQLite or PostgreSQL, and
 * does not start with '_' (reserved for sheetd's own columns). */
bool data_table_identifier_ok(const char *name);
/* The shape half of that rule alone ([a-z][a-z0-9_]{0,62}), for callers that tell a person
 * about a keyword in a sentence of its own. */
bool data_table_identifier_shape_ok(const char *name);
/* True when `word` (any case) is a reserved word of SQLite or PostgreSQL. */
bool data_table_is_keyword(const char *word);

/* CREATE TABLE (inside the caller's transaction). SD_EEXISTS when the table exists. */
int data_table_create(struct db *db, const char *table, const struct data_column *columns,
                      size_t ncolumns, const char *const *key_columns, size_t nkey_columns,
                      struct sd_error *err);

/* Checks that the table still has every column the template expects (someone may have
 * altered it): SD_ENOTFOUND when the table is gone, SD_EINVALID naming the missing column. */
int data_table_check(struct db *db, const char *table, const struct data_column *columns,
                     size_t ncolumns, struct sd_error *err);

int data_table_count_rows(struct db *db, const char *table, int64_t *count, struct sd_error *err);

/* Prepares SELECT <columns> FROM table ORDER BY _id for exporting; the caller steps it with
 * db_step/db_column_* and finalizes it. */
int data_table_select_all(struct db_stmt **out, struct db *db, const char *table,
                          const struct data_column *columns, size_t ncolumns, struct sd_error *err);

/* Bulk writer over the table's columns plus _row and _job_id (the last two values). */
int data_table_bulk_open(struct db_bulk **out, struct db *db, const char *table,
                         const struct data_column *columns, size_t ncolumns,
                         const char *const *key_columns, size_t nkey_columns, struct sd_error *err);

#endif
