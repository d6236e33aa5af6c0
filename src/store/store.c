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
 *
 * Connection loss (PostgreSQL's server restarted, the network went away): the backend marks a
 * connection whose server is gone `broken`, the statement that found out fails, and
 * store_release closes that connection instead of pooling it, so the next acquire opens a
 * fresh one. When opening fails, the pool backs off: acquires in the next 100 ms (doubling per
 * failure up to 5 s) fail at once with the last error instead of each waiting for their own
 * connect timeout, and the first open after that tries again. Both events are logged.
 */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "store/db_backend.h"
#include "store/migrations.h"
#include "store/secret_store.h"

struct store_pool {
    pthread_mutex_t lock;
    char *url;
    struct db **idle;
    size_t nidle, cap;
    size_t borrowed; /* connections out of the pool right now */
    /* Backing off after failed opens (see the DESIGN note): how many in a row, when the
     * next may be tried (monotonic ms), and the last failure. */
    int failures;
    int64_t retry_at_ms;
    int last_code;
    char last_error[SD_ERROR_MESSAGE_MAX];
};

struct store {
    char *data_dir;
    unsigned char secret_key[CRYPTO_KEY_BYTES]; /* <data_dir>/secret_key */
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
#define QUEUE_DB_OPTIONS "page_size=4096"

static int database_urls(char **main_url, char **queue_url, const struct store_config *config)
{
    struct buf m = BUF_INIT, q = BUF_INIT;
    const char *url = config->database_url;
    /* queue.db lives on many small transactions: 4 KiB pages (its own option, last, so it
     * wins over one copied from the main URL) make each commit write a quarter as much. */
    if (!url || !*url) {
        buf_printf(&m, "sqlite:%s/sheetd.db", config->data_dir);
        buf_printf(&q, "sqlite:%s/queue.db?%s", config->data_dir, QUEUE_DB_OPTIONS);
    } else if (db_url_is_postgres(url)) {
        buf_puts(&m, url);
        buf_puts(&q, url);
    } else {
        const char *opts = db_sqlite_url_options(url);
        buf_puts(&m, url);
        buf_printf(&q, "sqlite:%s/queue.db?%s%s%s", config->data_dir, opts ? opts + 1 : "",
                   opts ? "&" : "", QUEUE_DB_OPTIONS);
    }
    if (buf_status(&m) || buf_status(&q)) {
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
    if (pool->borrowed > 0) {
        char borrowed[24];
        snprintf(borrowed, sizeof borrowed, "%zu", pool->borrowed);
        log_kv(SD_LOG_WARN, "store closed while connections were still in use", "borrowed",
               borrowed, NULL);
    }
    free(pool->idle);
    free(pool->url);
    pthread_mutex_destroy(&pool->lock);
}

#define POOL_BACKOFF_FIRST_MS 100
#define POOL_BACKOFF_MAX_MS 5000

/* Records a failed open (called with the lock held) and logs it. */
static void pool_open_failed(struct store_pool *pool, int rc, const struct sd_error *err)
{
    int64_t delay = POOL_BACKOFF_FIRST_MS;
    for (int i = 0; i < pool->failures && delay < POOL_BACKOFF_MAX_MS; i++)
        delay *= 2;
    if (delay > POOL_BACKOFF_MAX_MS)
        delay = POOL_BACKOFF_MAX_MS;
    pool->failures++;
    pool->retry_at_ms = clock_monotonic_ms(clock_system()) + delay;
    pool->last_code = rc;
    snprintf(pool->last_error, sizeof pool->last_error, "%s", sd_error_message(err));
    char attempt[16], retry_in[24];
    snprintf(attempt, sizeof attempt, "%d", pool->failures);
    snprintf(retry_in, sizeof retry_in, "%lld", (long long)delay);
    log_kv(SD_LOG_WARN, "could not open a database connection", "attempt", attempt, "retry_in_ms",
           retry_in, "error", pool->last_error, NULL);
}

/* Hands out an idle connection, or opens one unless the pool is backing off. */
static int pool_acquire(struct store_pool *pool, struct db **out, struct sd_error *err)
{
    struct db *db = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->nidle > 0)
        db = pool->idle[--pool->nidle];
    if (!db && pool->failures > 0) {
        int64_t wait = pool->retry_at_ms - clock_monotonic_ms(clock_system());
        if (wait > 0) {
            int code = sd_error_set(err, pool->last_code, "%s (sheetd tries again in %lld ms)",
                                    pool->last_error, (long long)wait);
            pthread_mutex_unlock(&pool->lock);
            return code;
        }
    }
    pool->borrowed++;
    pthread_mutex_unlock(&pool->lock);
    if (!db) {
        struct sd_error local = SD_ERROR_INIT;
        int rc = db_open(&db, pool->url, &local);
        pthread_mutex_lock(&pool->lock);
        if (rc) {
            pool->borrowed--;
            /* A busy SQLite file or a lack of memory is not a database that went away. */
            if (rc != SD_ERETRY && rc != SD_ENOMEM)
                pool_open_failed(pool, rc, &local);
            pthread_mutex_unlock(&pool->lock);
            if (err)
                *err = local;
            return rc;
        }
        if (pool->failures > 0) {
            char attempts[16];
            snprintf(attempts, sizeof attempts, "%d", pool->failures);
            log_kv(SD_LOG_INFO, "database connection restored", "failed_attempts", attempts, NULL);
        }
        pool->failures = 0;
        pthread_mutex_unlock(&pool->lock);
        db->owner = pool;
    }
    *out = db;
    return 0;
}

/* Returns a connection to its pool. A transaction left open is rolled back first, so the
 * next borrower never inherits half of someone else's work. A connection whose server went
 * away is closed instead, and so is one the idle stack has no room for: the pool only loses
 * a spare. */
static void pool_release(struct store_pool *pool, struct db *db)
{
    if (!db->broken)
        db_rollback(db);
    pthread_mutex_lock(&pool->lock);
    assert(pool->borrowed > 0);
    pool->borrowed--;
    if (db->broken) {
        pthread_mutex_unlock(&pool->lock);
        log_kv(SD_LOG_WARN, "dropped a database connection whose server went away", "pool",
               pool->url && str_has_prefix(pool->url, "sqlite:") ? "sqlite" : "postgres", NULL);
        db_close(db);
        return;
    }
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
        cfg.data_dir = STORE_DEFAULT_DATA_DIR;
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

    struct buf key_path = BUF_INIT;
    rc = buf_printf(&key_path, "%s/secret_key", cfg.data_dir) ? sd_error_nomem(err) : 0;
    if (!rc)
        rc = crypto_key_file_load(store->secret_key, buf_cstr(&key_path), err);
    buf_free(&key_path);
    if (rc)
        goto fail;
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
    crypto_wipe(store->secret_key, sizeof store->secret_key);
    free(store);
}

const char *store_data_dir(const struct store *store)
{
    assert(store);
    return store->data_dir;
}

const unsigned char *store_secret_key(const struct store *store)
{
    assert(store);
    return store->secret_key;
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
        /* PostgreSQL: every process adopts one key (secret_store.h). Before any request is
         * served: store_migrate runs when a process starts. */
        if (!rc)
            rc = secret_store_share(db, store->secret_key, err);
        store_release(store, db);
    }
    /* Also on failure: what was applied before it stays applied. */
    if (applied)
        *applied = count;
    return rc;
}

/* One round trip on `pool`. A pooled connection whose server restarted fails once and is
 * dropped; that says nothing about the database now, so a second connection is tried. */
static int pool_ping(struct store *store, struct store_pool *pool, struct sd_error *err)
{
    for (int attempt = 0;; attempt++) {
        struct db *db = NULL;
        int rc = pool_acquire(pool, &db, err);
        if (rc)
            return rc;
        rc = db_exec(db, "SELECT 1", err);
        bool broken = db->broken;
        store_release(store, db);
        if (rc == 0 || !broken || attempt == 1)
            return rc;
    }
}

int store_ping(struct store *store, struct sd_error *err)
{
    assert(store);
    int rc = pool_ping(store, &store->main, err);
    return rc ? rc : pool_ping(store, &store->queue, err);
}
