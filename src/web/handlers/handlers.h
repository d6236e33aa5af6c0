/* Every request handler, one file per resource (import_templates.c, health.c, assets.c). The
 * route table in router.c is the only caller. */
#ifndef SHEETD_WEB_HANDLERS_HANDLERS_H
#define SHEETD_WEB_HANDLERS_HANDLERS_H

struct web_request;
struct web_response;

/* import_templates.c */
void import_templates_root(struct web_request *req, struct web_response *res);
void import_templates_index(struct web_request *req, struct web_response *res);
void import_templates_show(struct web_request *req, struct web_response *res);
/* The template page again with a sentence on its upload form (a refused upload). */
void import_templates_show_refusal(struct web_request *req, struct web_response *res, int status,
                                   const char *upload_error);
void import_templates_new(struct web_request *req, struct web_response *res);
void import_templates_create(struct web_request *req, struct web_response *res);

/* import_templates_api.c: /api/v1/import_templates */
void api_import_templates_index(struct web_request *req, struct web_response *res);
void api_import_templates_show(struct web_request *req, struct web_response *res);
void api_import_templates_create(struct web_request *req, struct web_response *res);

/* template_files.c: workbooks made for a template */
void template_files_blank(struct web_request *req, struct web_response *res);
void template_files_sample(struct web_request *req, struct web_response *res);

/* imports.c: uploads that become import jobs */
void imports_create(struct web_request *req, struct web_response *res);
void api_imports_create(struct web_request *req, struct web_response *res);

/* exports.c: export jobs */
void exports_create(struct web_request *req, struct web_response *res);
void api_exports_create(struct web_request *req, struct web_response *res);

/* jobs.c: the job page, the dashboard, status documents, cancel and retry, downloads */
void jobs_index(struct web_request *req, struct web_response *res);
void jobs_show(struct web_request *req, struct web_response *res);
void jobs_status_json(struct web_request *req, struct web_response *res);
void jobs_partial(struct web_request *req, struct web_response *res);
void jobs_cancel(struct web_request *req, struct web_response *res);
void jobs_retry(struct web_request *req, struct web_response *res);
void jobs_download(struct web_request *req, struct web_response *res);
void jobs_errors_report(struct web_request *req, struct web_response *res);

/* jobs_api.c: /api/v1/jobs */
void api_jobs_index(struct web_request *req, struct web_response *res);
void api_jobs_show(struct web_request *req, struct web_response *res);
void api_jobs_cancel(struct web_request *req, struct web_response *res);
void api_jobs_retry(struct web_request *req, struct web_response *res);

/* job_streams.c: live updates */
void job_streams_show(struct web_request *req, struct web_response *res);
void job_streams_index(struct web_request *req, struct web_response *res);

/* metrics.c */
void metrics_show(struct web_request *req, struct web_response *res);

/* health.c */
void health_show(struct web_request *req, struct web_response *res);

/* assets.c */
void assets_show(struct web_request *req, struct web_response *res);
void assets_show_controller(struct web_request *req, struct web_response *res);

#endif
