/* What the job handlers share (jobs.c, jobs_api.c, job_streams.c, imports.c, exports.c):
 * the job layer being there, the job a route names, a template's name for the views, and
 * query parameters. Each function that can fail answers the request itself. */
#ifndef SHEETD_WEB_HANDLERS_JOB_SUPPORT_H
#define SHEETD_WEB_HANDLERS_JOB_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct web_request;
struct web_response;
struct import_template;

/* False (503 answered) when this server runs without the job layer. */
bool job_support_ready(struct web_request *req, struct web_response *res);

/* The status document of the route's :job_id; NULL with 404 answered when the job is
 * unknown or was pruned. The caller decrefs. */
json_t *job_support_document(struct web_request *req, struct web_response *res);

/* The template of the route's :tid; NULL with 404 answered. Free with template_free. */
struct import_template *job_support_template(struct web_request *req, struct web_response *res);

/* The status document of job `id` as the API answers with it, plus "status_url" and
 * "job_url"; the caller decrefs. NULL when it cannot be read. */
json_t *job_support_api_document(struct web_request *req, const char *id);

struct job_filter;
struct job_record;
/* One page of jobs for `filter` and the counts by state for its template and kind (the
 * dashboard and the API list the same way): 0, or the failure answered. The caller frees
 * *rows with job_record_list_free. */
int job_support_list(struct web_request *req, struct web_response *res,
                     const struct job_filter *filter, struct job_record **rows, size_t *n,
                     int64_t counts[5]);

/* Answers 202 with job `id`'s API document: the reply to an API call that queued a job. */
void job_support_answer_queued(struct web_request *req, struct web_response *res, const char *id);

#endif
