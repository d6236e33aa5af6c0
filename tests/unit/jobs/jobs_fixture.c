#include "jobs_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "jobs/job_files.h"
#include "store/job_store.h"
#include "test_support.h"

char *jf_dir;
struct store *jf_store;
struct jobs *jf_jobs;
int64_t jf_template_id;

static const char people_json[] =
    "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"partial\", \"columns\": ["
    " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true},"
    " {\"key\": \"name\", \"header\": \"Name\", \"type\": \"string\"},"
    " {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"integer\"}]}";

void jf_setup_store(void)
{
    jf_dir = test_make_tmpdir();
    cr_assert_not_null(jf_dir);
    struct store_config cfg = STORE_CONFIG_INIT;
    cfg.data_dir = jf_dir;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&jf_store, &cfg, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_migrate(jf_store, NULL, &err), 0, "%s", sd_error_message(&err));
    struct db *db = NULL;
    cr_assert_eq(store_acquire_main(jf_store, &db, &err), 0);
    struct import_template *t = NULL;
    cr_assert_eq(template_create(&t, db, people_json, strlen(people_json), NULL, &err), 0, "%s",
                 sd_error_message(&err));
    jf_template_id = t->id;
    template_free(t);
    store_release(jf_store, db);
}

struct jobs_config jf_config(void)
{
    struct jobs_config c = JOBS_CONFIG_INIT;
    c.data_dir = jf_dir;
    c.heartbeat_interval_ms = 100;
    c.heartbeat_silence_ms = 600;
    c.backoff_base_ms = 50;
    c.shutdown_timeout_ms = 5000;
    return c;
}

void jf_open_jobs(const struct jobs_config *config)
{
    struct jobs_config c = config ? *config : jf_config();
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(jobs_open(&jf_jobs, jf_store, &c, &err), 0, "%s", sd_error_message(&err));
}

void jf_setup(void)
{
    jf_setup_store();
    jf_open_jobs(NULL);
}

void jf_teardown(void)
{
    jobs_close(jf_jobs);
    jf_jobs = NULL;
    store_close(jf_store);
    test_rmtree(jf_dir);
    free(jf_dir);
}

char *jf_people_csv(const char *name, int good, int bad)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "Email,Name,Amount\n");
    for (int i = 0; i < good; i++)
        buf_printf(&b, "person%d@example.com,Person %d,%d\n", i, i, i);
    for (int i = 0; i < bad; i++)
        buf_printf(&b, "broken-%d,Bad %d,%d\n", i, i, i);
    char *path = test_path(jf_dir, name);
    cr_assert(test_write_file(path, b.data, b.len));
    buf_free(&b);
    return path;
}

void jf_enqueue_import(struct jobs *jobs, char id[17], const char *path)
{
    struct sd_error err = SD_ERROR_INIT;
    id[0] = '\0';
    cr_assert_eq(job_id_generate(id, &err), 0);
    cr_assert_eq(job_file_copy_upload(queue_store(jobs_queue(jobs)), jobs_data_dir(jobs), id, "csv",
                                      path, &err),
                 0, "%s", sd_error_message(&err));
    json_t *payload = json_pack("{s:s, s:s}", "ext", "csv", "filename", "people.csv");
    cr_assert_eq(queue_enqueue(jobs_queue(jobs), id, "import", jf_template_id, payload, 0, &err), 0,
                 "%s", sd_error_message(&err));
    json_decref(payload);
}

json_t *jf_wait_status(struct jobs *jobs, const char *id, const char *status, int timeout_ms)
{
    json_t *doc = NULL;
    for (int waited = 0;; waited += 10) {
        struct sd_error err = SD_ERROR_INIT;
        cr_assert_eq(job_status_get(&doc, NULL, jobs_status(jobs), id, &err), 0, "%s",
                     sd_error_message(&err));
        const char *now = json_string_value(json_object_get(doc, "status"));
        if (now && !strcmp(now, status))
            return doc;
        if (waited >= timeout_ms) {
            char *text = json_dumps(doc, JSON_COMPACT);
            cr_assert_fail("job %s did not reach %s within %d ms: %s", id, status, timeout_ms,
                           text);
        }
        json_decref(doc);
        usleep(10000);
    }
}

const char *jf_row_status(const char *id)
{
    static char status[32];
    struct db *db = NULL;
    struct job_record *job = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_acquire_queue(jf_store, &db, &err), 0);
    cr_assert_eq(job_store_get(&job, db, id, &err), 0, "%s", sd_error_message(&err));
    snprintf(status, sizeof status, "%s", job->status);
    job_record_free(job);
    store_release(jf_store, db);
    return status;
}

long jf_query_long(const char *sql)
{
    struct db *db = NULL;
    struct db_stmt *stmt = NULL;
    struct sd_error err = SD_ERROR_INIT;
    /* Both databases are asked in turn: the tables of each are disjoint. */
    cr_assert_eq(store_acquire_main(jf_store, &db, &err), 0);
    if (db_prepare(&stmt, db, sql, &err) != 0) {
        store_release(jf_store, db);
        cr_assert_eq(store_acquire_queue(jf_store, &db, &err), 0);
        cr_assert_eq(db_prepare(&stmt, db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    }
    cr_assert_eq(db_step(stmt, &err), DB_ROW, "%s", sd_error_message(&err));
    long v = (long)db_column_int64(stmt, 0);
    db_finalize(stmt);
    store_release(jf_store, db);
    return v;
}

int jf_count_files(const char *sub)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", jf_dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
        else if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++; /* a leftover temporary ".x.part" counts too */
    closedir(d);
    return n;
}
