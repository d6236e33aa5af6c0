/* The route matcher: 404 vs 405 with Allow, HEAD as GET, parameters and their rules, the
 * length cap, percent-decoding and traversal attempts. */
#include <criterion/criterion.h>
#include <string.h>

#include "web/handlers/handlers.h"
#include "web/router.h"

static int match(struct route_match *m, const char *method, const char *target)
{
    return router_match(m, method, target);
}

Test(router, matches_literal_routes_and_their_handlers)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/import_templates"), 200);
    cr_assert_eq(m.route->handler, import_templates_index);
    cr_assert_eq(match(&m, "POST", "/import_templates"), 200);
    cr_assert_eq(m.route->handler, import_templates_create);
    cr_assert_eq(match(&m, "GET", "/healthz"), 200);
    cr_assert_eq(m.route->handler, health_show);
    cr_assert_eq(match(&m, "GET", "/"), 200);
    cr_assert_eq(m.route->handler, import_templates_root);
}

Test(router, unknown_paths_are_404)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/nope"), 404);
    cr_assert_null(m.route);
    cr_assert_eq(match(&m, "GET", "/import_templates/"), 404);
    cr_assert_eq(match(&m, "GET", "//import_templates"), 404);
    cr_assert_eq(match(&m, "GET", "/import_templates/1/extra"), 404);
    cr_assert_eq(match(&m, "GET", "/IMPORT_TEMPLATES"), 404);
    cr_assert_eq(match(&m, "POST", "/nope"), 404, "an unknown path is 404 whatever the method");
}

Test(router, known_path_with_wrong_method_is_405_with_allow)
{
    struct route_match m;
    cr_assert_eq(match(&m, "DELETE", "/import_templates"), 405);
    cr_assert_str_eq(m.allow, "GET, HEAD, POST");
    cr_assert_null(m.route);
    cr_assert_eq(match(&m, "POST", "/healthz"), 405);
    cr_assert_str_eq(m.allow, "GET, HEAD");
    cr_assert_eq(match(&m, "PUT", "/import_templates/3"), 405);
    cr_assert_str_eq(m.allow, "GET, HEAD");
    cr_assert_eq(match(&m, "OPTIONS", "/import_templates"), 405);
    cr_assert_str_eq(m.allow, "GET, HEAD, POST");
    cr_assert_eq(match(&m, "BREW", "/healthz"), 405);
}

Test(router, head_is_routed_as_get)
{
    struct route_match m;
    cr_assert_eq(match(&m, "HEAD", "/import_templates"), 200);
    cr_assert_eq(m.route->handler, import_templates_index);
    cr_assert_eq(match(&m, "HEAD", "/import_templates/9"), 200);
    cr_assert_str_eq(router_param(&m, "tid"), "9");
}

Test(router, tid_parameter_is_digits_only)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/import_templates/42"), 200);
    cr_assert_eq(m.route->handler, import_templates_show);
    cr_assert_str_eq(router_param(&m, "tid"), "42");
    cr_assert_null(router_param(&m, "file"));
    cr_assert_eq(match(&m, "GET", "/import_templates/new"), 200);
    cr_assert_eq(m.route->handler, import_templates_new);
    cr_assert_eq(m.nparams, 0);
    cr_assert_eq(match(&m, "GET", "/import_templates/abc"), 404);
    cr_assert_eq(match(&m, "GET", "/import_templates/-1"), 404);
    cr_assert_eq(match(&m, "GET", "/import_templates/1e3"), 404);
    cr_assert_eq(match(&m, "GET", "/import_templates/1234567890123456789"), 404,
                 "19 digits may not fit an int64");
    cr_assert_eq(match(&m, "GET", "/import_templates/123456789012345678"), 200);
}

Test(router, query_string_is_ignored_for_matching)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/import_templates?page=2&x=%zz"), 200);
    cr_assert_eq(m.route->handler, import_templates_index);
    cr_assert_eq(match(&m, "GET", "/import_templates/7?x=1"), 200);
    cr_assert_str_eq(router_param(&m, "tid"), "7");
}

Test(router, long_targets_are_414)
{
    struct route_match m;
    char target[ROUTER_MAX_TARGET + 2];
    target[0] = '/';
    memset(target + 1, 'a', ROUTER_MAX_TARGET);
    target[ROUTER_MAX_TARGET + 1] = '\0'; /* 2049 bytes */
    cr_assert_eq(match(&m, "GET", target), 414);
    cr_assert_not_null(m.problem);
    target[ROUTER_MAX_TARGET] = '\0'; /* exactly 2048: not too long, just unknown */
    cr_assert_eq(match(&m, "GET", target), 404);
}

Test(router, percent_escapes_are_decoded)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/import_templates/%34%32"), 200);
    cr_assert_str_eq(router_param(&m, "tid"), "42");
    cr_assert_eq(match(&m, "GET", "/import%5Ftemplates"), 200);
    cr_assert_eq(m.route->handler, import_templates_index);
    cr_assert_eq(match(&m, "GET", "/assets/app%2Ecss"), 200);
    cr_assert_str_eq(router_param(&m, "file"), "app.css");
}

Test(router, malformed_escapes_are_400)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/import_templates/%zz"), 400);
    cr_assert_not_null(m.problem);
    cr_assert_eq(match(&m, "GET", "/import_templates/%4"), 400);
    cr_assert_eq(match(&m, "GET", "/import_templates/%"), 400);
    cr_assert_eq(match(&m, "GET", "/import_templates%00"), 400);
    cr_assert_eq(match(&m, "GET", "import_templates"), 400);
    cr_assert_eq(match(&m, "GET", "*"), 400);
}

Test(router, traversal_attempts_never_match)
{
    struct route_match m;
    cr_assert_eq(match(&m, "GET", "/assets/../src/main.c"), 400);
    cr_assert_eq(match(&m, "GET", "/assets/%2e%2e/src/main.c"), 400);
    cr_assert_eq(match(&m, "GET", "/assets/..%2fsrc%2fmain.c"), 400);
    cr_assert_eq(match(&m, "GET", "/assets/controllers/..%2F..%2Fmeson.build"), 400);
    cr_assert_eq(match(&m, "GET", "/assets/./app.css"), 400);
    cr_assert_eq(match(&m, "GET", "/assets/.hidden"), 404);
    cr_assert_eq(match(&m, "GET", "/assets/a%5Cb.js"), 404, "a backslash is not a file name");
    cr_assert_eq(match(&m, "GET", "/assets/controllers/index.js"), 200);
    cr_assert_eq(m.route->handler, assets_show_controller);
    cr_assert_str_eq(router_param(&m, "file"), "index.js");
}

static void handler_a(struct web_request *req, struct web_response *res)
{
    (void)req;
    (void)res;
}

static void handler_b(struct web_request *req, struct web_response *res)
{
    (void)req;
    (void)res;
}

Test(router, custom_tables_first_match_wins_and_params_decode)
{
    static const struct route table[] = {
        {WEB_METHOD_GET, "/things/:name/parts/:job_id", handler_a, false},
        {WEB_METHOD_PATCH, "/things/:name", handler_b, false},
        {WEB_METHOD_DELETE, "/things/:name", handler_a, false},
    };
    struct route_match m;
    cr_assert_eq(
        router_match_table(&m, table, 3, "GET", "/things/caf%C3%A9%20bar/parts/0123456789abcdef"),
        200);
    cr_assert_eq(m.route->handler, handler_a);
    cr_assert_str_eq(router_param(&m, "name"), "caf\xc3\xa9 bar");
    cr_assert_str_eq(router_param(&m, "job_id"), "0123456789abcdef");
    cr_assert_eq(router_match_table(&m, table, 3, "GET", "/things/x/parts/0123456789ABCDEF"), 404,
                 "job ids are lowercase hex");
    cr_assert_eq(router_match_table(&m, table, 3, "PATCH", "/things/x"), 200);
    cr_assert_eq(m.route->handler, handler_b);
    cr_assert_eq(router_match_table(&m, table, 3, "GET", "/things/x"), 405);
    cr_assert_str_eq(m.allow, "PATCH, DELETE");
}
