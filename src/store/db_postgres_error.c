/*
 * DESIGN
 * ------
 * How a failed PostgreSQL result becomes an SD_E* code and a sentence (db.h's contract), by
 * SQLSTATE:
 *
 *   23505 unique_violation                         SD_EEXISTS, naming the key columns;
 *   other 23xxx (not null, check, foreign key)      SD_EINVALID "the database refused the row";
 *   22xxx data exceptions (a bad date, overflow)    SD_EINVALID "the database refused a value";
 *   40001 serialization, 40P01 deadlock, 55P03     SD_ERETRY;
 *   54xxx program limits                            SD_ELIMIT;
 *   a lost connection (08xxx, 57P0x, or libpq's     SD_ERROR saying the connection was lost;
 *     own CONNECTION_BAD)                            the connection is marked broken so the
 *                                                    store's pool drops it;
 *   anything else                                   SD_ERROR with the server's message.
 *
 */
#include <string.h>

#include "base/str.h"
#include "store/db_postgres.h"

/* The first line of a libpq message, without its trailing newline. */
int pg_first_line_len(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    return (int)(n > 400 ? 400 : n);
}

static bool lost_connection(const char *state)
{
    return str_has_prefix(state, "08") || str_eq(state, "57P01") || str_eq(state, "57P02") ||
           str_eq(state, "57P03");
}

/* "Key (email)=(a@example.com) already exists." -> "email"; the values stay out of the
 * message, as on SQLite. */
static int key_columns_of(const char *detail, const char **start)
{
    if (!detail || !str_has_prefix(detail, "Key ("))
        return 0;
    *start = detail + strlen("Key (");
    const char *end = strstr(*start, ")=(");
    return end ? (int)(end - *start) : 0;
}

int pg_result_error(struct pg_db *db, const PGresult *res, struct sd_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(db->conn);
    if (!state)
        state = "";
    if (PQstatus(db->conn) == CONNECTION_BAD || lost_connection(state)) {
        db->base.broken = true;
        return sd_error_set(err, SD_ERROR,
                            "lost the connection to the PostgreSQL database (%.*s); check that "
                            "the server is running and reachable",
                            pg_first_line_len(msg), msg);
    }
    if (str_eq(state, "23505")) {
        const char *cols = NULL;
        int len =
            key_columns_of(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL, &cols);
        const char *table = res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
        if (len > 0)
            return sd_error_set(err, SD_EEXISTS,
                                "a row with the same %s%s%.*s already exists (a unique "
                                "constraint refused the new one)",
                                table ? table : "", table ? "." : "", len, cols);
        return sd_error_set(err, SD_EEXISTS, "a row with the same key already exists: %.*s",
                            pg_first_line_len(msg), msg);
    }
    if (str_has_prefix(state, "23"))
        return sd_error_set(err, SD_EINVALID, "the database refused the row: %.*s",
                            pg_first_line_len(msg), msg);
    if (str_has_prefix(state, "22"))
        return sd_error_set(err, SD_EINVALID, "the database refused a value: %.*s",
                            pg_first_line_len(msg), msg);
    if (str_eq(state, "40001") || str_eq(state, "40P01") || str_eq(state, "55P03"))
        return sd_error_set(err, SD_ERETRY,
                            "the database is busy (a concurrent transaction conflicted with this "
                            "one); try again");
    if (str_eq(state, "53200"))
        return sd_error_nomem(err);
    if (str_has_prefix(state, "54"))
        return sd_error_set(err, SD_ELIMIT,
                            "a value or statement is too large for the database: "
                            "%.*s",
                            pg_first_line_len(msg), msg);
    return sd_error_set(err, SD_ERROR, "database error: %.*s", pg_first_line_len(msg), msg);
}
