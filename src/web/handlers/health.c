/* GET /healthz: liveness for load balancers and scripts. It answers "ok" only after a real
 * round trip to each database (store_ping), so a server whose database went away answers 503
 * until it is back. */
#include <jansson.h>

#include "base/log.h"
#include "store/store.h"
#include "web/handlers/handlers.h"
#include "web/request.h"
#include "web/response.h"

void health_show(struct web_request *req, struct web_response *res)
{
    struct sd_error err = SD_ERROR_INIT;
    json_t *doc;
    int status = 200;
    if (store_ping(req->app->store, &err) == 0) {
        doc = json_pack("{s:s}", "status", "ok");
    } else {
        log_kv(SD_LOG_ERROR, "health check failed", "error", sd_error_message(&err), NULL);
        status = 503;
        doc = json_pack("{s:s,s:s}", "status", "error", "error", sd_error_message(&err));
    }
    if (!doc) {
        web_response_error(res, req, 500, "The server ran out of memory; try again.");
        return;
    }
    web_response_json(res, status, doc);
    json_decref(doc);
}
