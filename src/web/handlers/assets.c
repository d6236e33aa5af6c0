/* The asset routes (/assets/NAME, /assets/controllers/NAME): answers from the cache web/assets.c
 * loaded at start. */
#include <stdio.h>
#include <string.h>

#include "web/assets.h"
#include "web/handlers/handlers.h"
#include "web/request.h"
#include "web/response.h"

/* Answers from memory; a matching If-None-Match gets 304 without a body. "no-cache" makes
 * browsers ask every time (the names are not fingerprinted), which the ETag keeps cheap. */
static void serve(struct web_request *req, struct web_response *res, const char *name)
{
    const struct asset *a = assets_find(req->app->assets, name);
    if (a) {
        const char *inm = web_request_header(req, "If-None-Match");
        if (web_response_header(res, "ETag", a->etag) != 0 ||
            web_response_header(res, "Cache-Control", "no-cache") != 0) {
            web_response_error(res, req, 500, "The server ran out of memory; try again.");
            return;
        }
        res->content_type = a->content_type;
        if (inm && strstr(inm, a->etag)) {
            res->status = 304;
            return;
        }
        res->status = 200;
        res->static_body = a->data;
        res->static_len = a->len;
        return;
    }
    web_response_error(res, req, 404, "There is no such asset.");
}

void assets_show(struct web_request *req, struct web_response *res)
{
    serve(req, res, web_request_param(req, "file"));
}

void assets_show_controller(struct web_request *req, struct web_response *res)
{
    char name[160];
    snprintf(name, sizeof name, "controllers/%s", web_request_param(req, "file"));
    serve(req, res, name);
}
