/*
 * DESIGN
 * ------
 * A store is the data directory plus two connection pools, one per database (store.h):
 *
 *   main   sheetd.db  (or the SHEETD_DATABASE_URL database)
 *   queue  queue.db   (always in the data directory for SQLite; the same database as main
 *                      for PostgreSQL)
 *
 * A pool is a mutex-protected stack of idle connections. store_acquire_* pops one, or opens
 * a new one (outside the lock: opening a file can wait on the busy timeout) when the stack
 * is empty; store_release rolls back whatever transaction the borrower left open and pushes
 * the connection back. So the pool grows to the largest number of threads that ever used
 * the database at once and no further, and each connection is used by one thread at a time.
 *
 * Each connection remembers its pool in `db->owner` (db_backend.h), so store_release needs
 * only the connection.
 */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "store/db_backend.h"
#include "store/migrations.h"

struct store_pool {
    pthread_mutex_t lock;
    char *url;
    struct db **idle;
    size_t nidle, cap;
    size_t borrowed; /* connections out of the pool right now */
};

struct store {
    char *data_dir;
    struct store_pool main;
    struct store_pool queue;
};

/* mkdir -p: creates every missing directory of `path`. */
static int make_dirs(const char *path, struct sd_error *err)
{
    char *copy = str_dup(path);
    if (!copy)
        return sd_error_nomem(err);
    int rc = 0;
    size_t len = strlen(copy);
    for (size_t i = 1; i <= len && !rc; i++) {
        if (copy[i] != '/' && copy[i] != '\0')
            continue;
        char saved = copy[i];
        copy[i] = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST)
            rc = sd_error_set(err, SD_ERROR,
                              "could not create the data directory %s: %s; set "
                              "SHEETD_DATA_DIR to a directory sheetd may write",
                              copy, strerror(errno));
        copy[i] = saved;
    }
    free(copy);
    if (rc)
        return rc;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sd_error_set(err, SD_ERROR,
                            "the data directory %s exists but is not a directory; set "
                            "SHEETD_DATA_DIR to a directory",
                            path);
    return 0;
}

/* The URLs of the two databases; both malloc'd, owned by the caller. The queue database of a
 * SQLite setup keeps the main URL's options ("?busy_timeout=..."). */
static int database_urls(char **main_url, char **queue_url, const struct store_config *config)
{
    struct buf m = BUF_INIT, q = BUF_INIT;
    const char *url = config->database_url;
    int rc;
    if (!url || !*url) {
        rc = buf_printf(&m, "sqlite:%s/sheetd.db", config->data_dir);
        rc = rc ? rc : buf_printf(&q, "sqlite:%s/queue.db", config->data_dir);
    } else if (db_url_is_postgres(url)) {
        rc = buf_puts(&m, url);
        rc = rc ? rc : buf_puts(&q, url);
    } else {
        const char *opts = db_sqlite_url_options(url);
        rc = buf_puts(&m, url);
        rc = rc ? rc : buf_printf(&q, "sqlite:%s/queue.db%s", config->data_dir, opts ? opts : "");
    }
    if (rc) {
        buf_free(&m);
        buf_free(&q);
        return SD_ENOMEM;
    }
    *main_url = buf_detach(&m);
    *queue_url = buf_detach(&q);
    if (!*main_url || !*queue_url) {
        free(*main_url);
        free(*queue_url);
        return SD_ENOMEM;
    }
    return 0;
}

static void pool_init(struct store_pool *pool, char *url)
{
    pthread_mutex_init(&pool->lock, NULL);
    pool->url = url;
}

static void pool_destroy(struct store_pool *pool)
{
    for (size_t i = 0; i < pool->nidle; i++)
        db_close(pool->idle[i]);
    if (pool->borrowed > 0)
        log_warn("store closed while connections were still in use", "borrowed=%zu",
                 pool->borrowed);
    free(pool->idle);
    free(pool->url);
    pthread_mutex_destroy(&pool->lock);
}

static int pool_acquire(struct store_pool *pool, struct db **out, struct sd_error *err)
{
    struct db *db = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->nidle > 0)
        db = pool->idle[--pool->nidle];
    pool->borrowed++;
    pthread_mutex_unlock(&pool->lock);
    if (!db) {
        int rc = db_open(&db, pool->url, err);
        if (rc) {
            pthread_mutex_lock(&pool->lock);
            pool->borrowed--;
            pthread_mutex_unlock(&pool->lock);
            return rc;
        }
        db->owner = pool;
    }
    *out = db;
    return 0;
}

/* Returns a connection to its pool. A transaction left open is rolled back first, so the
 * next borrower never inherits half of someone else's work. When the idle stack cannot grow
 * the connection is closed instead: the pool only loses a spare. */
static void pool_release(struct store_pool *pool, struct db *db)
{
    db_rollback(db);
    pthread_mutex_lock(&pool->lock);
    assert(pool->borrowed > 0);
    pool->borrowed--;
    if (pool->nidle == pool->cap) {
        size_t ncap = pool->cap ? pool->cap * 2 : 8;
        struct db **grown = realloc(pool->idle, ncap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&pool->lock);
            db_close(db);
            return;
        }
        pool->idle = grown;
        pool->cap = ncap;
    }
    pool->idle[pool->nidle++] = db;
    pthread_mutex_unlock(&pool->lock);
}

/*
 * Creates the data directory, works out where the databases are, and opens one connection
 * to each (left in the pools for the first users) so that a database that cannot be opened
 * is reported now, as one sentence, rather than at the first request.
 */
int store_open(struct store **out, const struct store_config *config, struct sd_error *err)
{
    assert(out && config);
    assert(config->version == STORE_CONFIG_VERSION);
    *out = NULL;
    struct store_config cfg = *config;
    if (!cfg.data_dir || !*cfg.data_dir)
        cfg.data_dir = "./var";
    int rc = make_dirs(cfg.data_dir, err);
    if (rc)
        return rc;
    struct store *store = calloc(1, sizeof *store);
    if (!store)
        return sd_error_nomem(err);
    char *main_url = NULL, *queue_url = NULL;
    store->data_dir = str_dup(cfg.data_dir);
    if (!store->data_dir || database_urls(&main_url, &queue_url, &cfg)) {
        free(store->data_dir);
        free(store);
        return sd_error_nomem(err);
    }
    pool_init(&store->main, main_url);
    pool_init(&store->queue, queue_url);

    struct db *db;
    rc = store_acquire_main(store, &db, err);
    if (rc)
        goto fail;
    store_release(store, db);
    rc = store_acquire_queue(store, &db, err);
    if (rc)
        goto fail;
    store_release(store, db);
    *out = store;
    return 0;
fail:
    store_close(store);
    return rc;
}

void store_close(struct store *store)
{
    if (!store)
        return;
    pool_destroy(&store->main);
    pool_destroy(&store->queue);
    free(store->data_dir);
    free(store);
}

const char *store_data_dir(const struct store *store)
{
    assert(store);
    return store->data_dir;
}

int store_acquire_main(struct store *store, struct db **out, struct sd_error *err)
{
    assert(store && out);
    *out = NULL;
    return pool_acquire(&store->main, out, err);
}

int store_acquire_queue(struct store *store, struct db **out, struct sd_error *err)
{
    assert(store && out);
    *out = NULL;
    return pool_acquire(&store->queue, out, err);
}

void store_release(struct store *store, struct db *db)
{
    assert(store);
    if (!db)
        return;
    assert(db->owner == &store->main || db->owner == &store->queue);
    pool_release(db->owner, db);
}

/* Migrates sheetd.db, then queue.db. With PostgreSQL both connections reach the same
 * database; the two sets own different version numbers, so that works too. */
int store_migrate(struct store *store, int *applied, struct sd_error *err)
{
    assert(store);
    int count = 0;
    struct db *db = NULL;
    int rc = store_acquire_main(store, &db, err);
    if (rc)
        return rc;
    rc = migrations_apply(db, migrations_main(), &count, err);
    store_release(store, db);
    if (!rc)
        rc = store_acquire_queue(store, &db, err);
    if (!rc) {
        rc = migrations_apply(db, migrations_queue(), &count, err);
        store_release(store, db);
    }
    /* Also on failure: what was applied before it stays applied. */
    if (applied)
        *applied = count;
    return rc;
}
