/* The file store on SQLite and on PostgreSQL (contract.h, store/file_store.h): a file put
 * comes back byte for byte wherever it is fetched; on PostgreSQL it lives in the database as
 * rows of FILE_STORE_CHUNK_BYTES (the count is what keeps memory constant) and the local
 * copy is gone; missing names, removal, replacement, empty files and the retention sweep. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "contract.h"
#include "store/file_store.h"
#include "store/store.h"

static struct store *migrated_store(void)
{
    struct store *store = contract_store_open();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", sd_error_message(&err));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/exports", contract.dir);
    cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
    return store;
}

/* The byte at offset i of a test file with `seed`: not periodic at any chunk boundary. */
static unsigned char byte_at(size_t i, unsigned seed)
{
    uint32_t x = (uint32_t)(i * 2654435761u) ^ (seed * 40503u) ^ (uint32_t)(i >> 13);
    return (unsigned char)(x >> 11);
}

/* Writes <data_dir>/<name> with `size` bytes of pattern `seed`. */
static void write_local(const char *name, size_t size, unsigned seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", contract.dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    for (size_t i = 0; i < size; i++)
        cr_assert_neq(fputc(byte_at(i, seed), f), EOF);
    cr_assert_eq(fclose(f), 0);
}

static bool local_exists(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", contract.dir, name);
    return access(path, F_OK) == 0;
}

/* Asserts that the file at `path` holds `size` bytes of pattern `seed`. */
static void assert_content(const char *path, size_t size, unsigned seed)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    size_t i = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        cr_assert_lt(i, size, "the fetched file is longer than %zu bytes", size);
        cr_assert_eq((unsigned char)c, byte_at(i, seed), "byte %zu differs", i);
        i++;
    }
    fclose(f);
    cr_assert_eq(i, size, "the fetched file has %zu bytes, not %zu", i, size);
}

static int64_t chunks(struct store *store, const char *name)
{
    int64_t n = -1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(file_store_chunks(&n, store, name, &err), 0, "%s", sd_error_message(&err));
    return n;
}

static bool stored(struct store *store, const char *name)
{
    bool yes = false;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(file_store_exists(&yes, store, contract.dir, name, &err), 0, "%s",
                 sd_error_message(&err));
    return yes;
}

/* Puts a file of `size` bytes and fetches it back, checking every byte. */
static void round_trip(struct store *store, const char *name, size_t size, unsigned seed,
                       int64_t expected_chunks)
{
    struct sd_error err = SD_ERROR_INIT;
    write_local(name, size, seed);
    cr_assert_eq(file_store_put(store, contract.dir, name, &err), 0, "%s", sd_error_message(&err));
    /* PostgreSQL: in the database, gone from the disk; SQLite: where it was. */
    cr_assert_eq(local_exists(name), !contract_is_postgres());
    cr_assert_eq(chunks(store, name), contract_is_postgres() ? expected_chunks : 0);
    cr_assert(stored(store, name));
    struct file_store_local local;
    cr_assert_eq(file_store_fetch(&local, store, contract.dir, name, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(local.temporary, contract_is_postgres());
    assert_content(local.path, size, seed);
    char fetched[sizeof local.path];
    snprintf(fetched, sizeof fetched, "%s", local.path);
    file_store_local_done(&local);
    /* A fetched copy goes; the data directory's own file stays. */
    cr_assert_eq(access(fetched, F_OK) == 0, !contract_is_postgres());
}

CONTRACT_TEST(files, a_file_of_several_megabytes_comes_back_byte_for_byte)
{
    struct store *store = migrated_store();
    /* 3.5 MiB: three full chunks and a half one. */
    round_trip(store, "exports/big.xlsx", 3 * FILE_STORE_CHUNK_BYTES + FILE_STORE_CHUNK_BYTES / 2,
               1, 4);
    /* Exactly two chunks: no empty third row. */
    round_trip(store, "exports/even.xlsx", 2 * FILE_STORE_CHUNK_BYTES, 2, 2);
    /* An empty file exists, as one empty chunk. */
    round_trip(store, "exports/empty.xlsx", 0, 3, 1);
    store_close(store);
}

CONTRACT_TEST(files, a_missing_name_is_not_found_and_removing_it_is_fine)
{
    struct store *store = migrated_store();
    struct sd_error err = SD_ERROR_INIT;
    struct file_store_local local;
    cr_assert_eq(file_store_fetch(&local, store, contract.dir, "exports/none.xlsx", &err),
                 SD_ENOTFOUND);
    cr_assert_str_eq(local.path, "");
    file_store_local_done(&local);
    cr_assert_not(stored(store, "exports/none.xlsx"));
    cr_assert_eq(file_store_remove(store, contract.dir, "exports/none.xlsx", &err), 0, "%s",
                 sd_error_message(&err));
    /* A failed fetch leaves no temporary file behind. */
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -q fetched", contract.dir);
    cr_assert_neq(system(cmd), 0, "a temporary file was left in the data directory");
    store_close(store);
}

CONTRACT_TEST(files, removed_and_replaced_files)
{
    struct store *store = migrated_store();
    struct sd_error err = SD_ERROR_INIT;
    round_trip(store, "exports/a.xlsx", FILE_STORE_CHUNK_BYTES + 10, 4, 2);
    /* A second put of the same name replaces the whole file, chunks and all. */
    round_trip(store, "exports/a.xlsx", 10, 5, 1);
    cr_assert_eq(file_store_remove(store, contract.dir, "exports/a.xlsx", &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_not(stored(store, "exports/a.xlsx"));
    cr_assert_eq(chunks(store, "exports/a.xlsx"), 0);
    struct file_store_local local;
    cr_assert_eq(file_store_fetch(&local, store, contract.dir, "exports/a.xlsx", &err),
                 SD_ENOTFOUND);
    store_close(store);
}

CONTRACT_TEST(files, a_prefix_removes_only_the_files_it_begins)
{
    struct store *store = migrated_store();
    struct sd_error err = SD_ERROR_INIT;
    round_trip(store, "exports/ab.xlsx", 100, 6, 1);
    round_trip(store, "exports/abc.xlsx", 100, 7, 1);
    cr_assert_eq(file_store_remove_prefix(store, "exports/ab.", &err), 0, "%s",
                 sd_error_message(&err));
    /* On SQLite the directories are job_files.c's to scan: the prefix touches no file. */
    cr_assert_eq(stored(store, "exports/ab.xlsx"), !contract_is_postgres());
    cr_assert(stored(store, "exports/abc.xlsx"));
    store_close(store);
}

CONTRACT_TEST(files, the_sweep_removes_files_stored_before_the_limit)
{
    struct store *store = migrated_store();
    struct sd_error err = SD_ERROR_INIT;
    round_trip(store, "exports/old.xlsx", FILE_STORE_CHUNK_BYTES + 1, 8, 2);
    size_t removed = 99;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    cr_assert_eq(file_store_sweep(store, now_ms - 3600 * 1000, &removed, &err), 0, "%s",
                 sd_error_message(&err));
    cr_assert_eq(removed, 0);
    cr_assert(stored(store, "exports/old.xlsx"));
    cr_assert_eq(file_store_sweep(store, now_ms + 2000, &removed, &err), 0, "%s",
                 sd_error_message(&err));
    /* SQLite's files are swept by job_files_sweep from the directories. */
    cr_assert_eq(removed, contract_is_postgres() ? 1u : 0u);
    cr_assert_eq(stored(store, "exports/old.xlsx"), !contract_is_postgres());
    cr_assert_eq(chunks(store, "exports/old.xlsx"), 0);
    store_close(store);
}

CONTRACT_TEST(files, the_backend_says_whether_files_are_shared)
{
    struct store *store = migrated_store();
    cr_assert_eq(file_store_shared(store), contract_is_postgres());
    store_close(store);
}

/* Makes <data_dir>/<name> look `age_s` seconds old. */
static void age_local(const char *name, int age_s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", contract.dir, name);
    struct timespec times[2] = {{.tv_sec = time(NULL) - age_s}, {.tv_sec = time(NULL) - age_s}};
    cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

CONTRACT_TEST(files, fetched_copies_left_by_a_dead_process_are_cleaned_and_live_ones_kept)
{
    struct store *store = migrated_store();
    struct sd_error err = SD_ERROR_INIT;
    round_trip(store, "exports/in-use.xlsx", 1000, 9, 1);
    struct file_store_local held;
    cr_assert_eq(file_store_fetch(&held, store, contract.dir, "exports/in-use.xlsx", &err), 0, "%s",
                 sd_error_message(&err));
    /* A copy nobody holds (its process died), an hour old; one as young as a fresh fetch. */
    write_local(".fetched-dead01.csv", 10, 1);
    age_local(".fetched-dead01.csv", 3600);
    write_local(".fetched-young1.csv", 10, 1);
    if (held.temporary) {
        const char *base = strrchr(held.path, '/') + 1;
        age_local(base, 3600);
    }
    size_t removed = 0;
    file_store_clean_fetched(contract.dir, &removed);
    cr_assert_eq(removed, 1);
    cr_assert_not(local_exists(".fetched-dead01.csv"));
    cr_assert(local_exists(".fetched-young1.csv"));
    /* The copy this process holds stays readable, however old. */
    assert_content(held.path, 1000, 9);
    file_store_local_done(&held);
    store_close(store);
}
