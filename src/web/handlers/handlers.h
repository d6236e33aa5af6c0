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
void import_templates_new(struct web_request *req, struct web_response *res);
void import_templates_create(struct web_request *req, struct web_response *res);

/* health.c */
void health_show(struct web_request *req, struct web_response *res);

/* assets.c */
void assets_show(struct web_request *req, struct web_response *res);
void assets_show_controller(struct web_request *req, struct web_response *res);

#endif
