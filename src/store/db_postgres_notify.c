/*
 * LISTEN/NOTIFY for the PostgreSQL backend: the seam the jobs queue wakes its workers
 * through (db.h's db_notify, db_listen, db_wait_notification).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "base/clock.h"
#include "store/db_postgres.h"

/*
 * A NOTIFY is delivered at commit anyway, so inside a transaction it waits for the COMMIT
 * and travels with it: a queue change would otherwise pay one more round trip for it, for
 * every job it touches (PostgreSQL folds repeats of one channel in a transaction into one).
 * Outside a transaction, pg_notify takes the channel as a value, bound, never spliced into
 * SQL; the deferred one quotes it with libpq.
 */
int db_pg_notify(struct db *db, const char *channel, struct sd_error *err)
{
    struct pg_db *p = (struct pg_db *)db;
    pg_settle(p);
    if (PQtransactionStatus(p->conn) == PQTRANS_INTRANS) {
        char *ident = PQescapeIdentifier(p->conn, channel, strlen(channel));
        if (!ident)
            return sd_error_nomem(err);
        char sql[sizeof p->pending_notify];
        int n = snprintf(sql, sizeof sql, "NOTIFY %s", ident);
        PQfreemem(ident);
        if (n > 0 && (size_t)n < sizeof sql &&
            (!p->pending_notify[0] || !strcmp(p->pending_notify, sql))) {
            memcpy(p->pending_notify, sql, (size_t)n + 1);
            return 0;
        }
    }
    const char *values[1] = {channel};
    PGresult *res =
        PQexecParams(p->conn, "SELECT pg_notify($1, '')", 1, NULL, values, NULL, NULL, 0);
    int rc = res && PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : pg_result_error(p, res, err);
    PQclear(res);
    return rc;
}

PGresult *pg_exec_after_notify(struct pg_db *db, const char *sql)
{
    if (!db->pending_notify[0])
        return PQexec(db->conn, sql);
    char both[sizeof db->pending_notify + 32];
    snprintf(both, sizeof both, "%s; %s", db->pending_notify, sql);
    db->pending_notify[0] = '\0';
    return PQexec(db->conn, both);
}

/* LISTEN takes an identifier, so the channel is quoted by libpq. */
int db_pg_listen(struct db *db, const char *channel, struct sd_error *err)
{
    struct pg_db *p = (struct pg_db *)db;
    char *ident = PQescapeIdentifier(p->conn, channel, strlen(channel));
    if (!ident)
        return sd_error_nomem(err);
    struct buf sql = BUF_INIT;
    int rc = buf_printf(&sql, "LISTEN %s", ident);
    PQfreemem(ident);
    rc = rc ? sd_error_nomem(err) : pg_command(p, buf_cstr(&sql), err);
    buf_free(&sql);
    return rc;
}

/* True (and every queued notification consumed) when a notification has arrived. */
static bool take_notifications(PGconn *conn)
{
    bool any = false;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

/* Why poll(): libpq only reads the socket when asked, so a connection that is not running a
 * query must wait on its socket itself; PQconsumeInput then reads what arrived and
 * PQnotifies hands out the notifications. */
int db_pg_wait_notification(struct db *db, int timeout_ms, bool *notified, struct sd_error *err)
{
    struct pg_db *p = (struct pg_db *)db;
    pg_settle(p);
    *notified = false;
    if (!PQconsumeInput(p->conn))
        return pg_result_error(p, NULL, err);
    if ((*notified = take_notifications(p->conn)))
        return 0;
    int64_t deadline = clock_monotonic_ms(clock_system()) + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = deadline - clock_monotonic_ms(clock_system());
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
        if (pfd.fd < 0)
            return pg_result_error(p, NULL, err);
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno != EINTR)
            return sd_error_set(err, SD_ERROR, "waiting for a database notification failed: %s",
                                strerror(errno));
        if (n > 0) {
            if (!PQconsumeInput(p->conn))
                return pg_result_error(p, NULL, err);
            if ((*notified = take_notifications(p->conn)))
                return 0;
        }
        if (left == 0)
            return 0;
    }
}
