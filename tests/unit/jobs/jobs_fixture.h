/* Shared set-up for the job layer's tests: a migrated store in a temporary directory with
 * one "people" template (partial mode, table people), the job layer on top of it, CSV files
 * written on the spot, and waiting (bounded) for a job to reach a state. */
#ifndef SHEETD_TEST_JOBS_FIXTURE_H
#define SHEETD_TEST_JOBS_FIXTURE_H

#include <jansson.h>
#include <stdint.h>

#include "jobs/jobs.h"
#include "store/store.h"

extern char *jf_dir;
extern struct store *jf_store;
extern struct jobs *jf_jobs;
extern int64_t jf_template_id;

/* Store and template only (no job layer), so a test may fork before any thread starts. */
void jf_setup_store(void);
/* jf_setup_store plus jobs_open with `config` (NULL: fast test settings). */
void jf_setup(void);
void jf_open_jobs(const struct jobs_config *config);
void jf_teardown(void);

/* The test settings: short heartbeats, a short backoff, data_dir = jf_dir. */
struct jobs_config jf_config(void);

/* A CSV of the people template with `good` valid rows, then `bad` rows with an invalid email;
 * the caller frees the path. */
char *jf_people_csv(const char *name, int good, int bad);

/* Copies `path` into the uploads and enqueues an import of it; id receives the job id. */
void jf_enqueue_import(struct jobs *jobs, char id[17], const char *path);

/* Polls the job's status document until its status is `status` (fails the test after
 * `timeout_ms`); the caller decrefs what comes back. */
json_t *jf_wait_status(struct jobs *jobs, const char *id, const char *status, int timeout_ms);

/* The status of job `id` as its row says ("pending", ...); static storage. */
const char *jf_row_status(const char *id);
long jf_query_long(const char *sql);
/* Files in data_dir/sub. */
int jf_count_files(const char *sub);

#endif
