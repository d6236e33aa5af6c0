/*
 * DESIGN
 * ------
 * One static route table (router.c) maps a method and a path pattern to a handler, the way
 * GNU Taler's exchange does it. Patterns are literal segments and `:name` parameters that
 * match exactly one segment:
 *
 *     GET  /import_templates/:tid      import_templates_show
 *
 * router_match is a pure function of (method, request-target): no I/O, no allocation, no
 * server. That is what lets the unit tests and a fuzz target call it directly. It answers
 * with an HTTP status:
 *
 *   200  a route matched; `route` and the decoded parameters are filled in;
 *   400  the address is malformed: a bad %-escape, an encoded NUL or "/", a "." or ".."
 *        segment (nothing here ever joins a path from the URL, but such an address is
 *        never legitimate, so it is refused outright);
 *   404  no pattern matches the path (a parameter that fails its rule counts as no match:
 *        `:tid` is digits only, `:job_id` 16 lowercase hex, `:file` a plain file name);
 *   405  some pattern matches the path but not with this method; `allow` lists the methods
 *        that would work ("GET, HEAD, POST") for the Allow header;
 *   414  the request-target is longer than ROUTER_MAX_TARGET bytes.
 *
 * HEAD is routed as GET (the server sends the headers without the body). The query string
 * is ignored for matching.
 */
#ifndef SHEETD_WEB_ROUTER_H
#define SHEETD_WEB_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTER_MAX_TARGET 2048
#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_PARAM_LEN 256

enum web_method {
    WEB_METHOD_GET = 1,
    WEB_METHOD_POST = 2,
    WEB_METHOD_PUT = 4,
    WEB_METHOD_PATCH = 8,
    WEB_METHOD_DELETE = 16,
};

struct web_request;
struct web_response;

/* A handler fills `res` (status, body, headers); it never fails silently: on an internal
 * error it writes an error response itself. */
typedef void (*web_handler_fn)(struct web_request *req, struct web_response *res);

struct route {
    unsigned method; /* one enum web_method */
    const char *pattern;
    web_handler_fn handler;
    bool upload; /* a multipart/form-data upload route: the body is streamed (upload.h) */
};

struct route_param {
    const char *name; /* points into the route's pattern; not NUL-terminated there */
    size_t name_len;
    char value[ROUTER_MAX_PARAM_LEN]; /* percent-decoded, NUL-terminated */
};

struct route_match {
    const struct route *route; /* NULL unless the status is 200 */
    size_t nparams;
    struct route_param params[ROUTER_MAX_PARAMS];
    char allow[64];      /* for 405: "GET, HEAD, POST" */
    const char *problem; /* for 400/414: a sentence saying what is wrong (static text) */
};

/* Matches `method` ("GET", "HEAD", ...) and `target` (the raw request-target, query string
 * included) against the route table; returns 200, 400, 404, 405 or 414 as described above. */
int router_match(struct route_match *out, const char *method, const char *target);

/* The same, against another table (for tests and fuzzing). */
int router_match_table(struct route_match *out, const struct route *table, size_t count,
                       const char *method, const char *target);

/* The decoded value of parameter `name`, or NULL. */
const char *router_param(const struct route_match *match, const char *name);

#endif
