/*
 * Streaming multipart uploads against the real server (in-process, port 0). The route is a
 * test-only one mounted through the config's extra_routes; its handler answers with what it
 * saw as JSON. After every request the upload directory is counted: no path may leave a
 * temporary file behind (success without taking it, CSRF refusal, 413 up front and while
 * streaming, malformed bodies, a client that vanishes mid-upload).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "http_client.h"
#include "store/store.h"
#include "test_support.h"
#include "web/request.h"
#include "web/response.h"
#include "web/router.h"
#include "web/server.h"
#include "web/upload.h"

#define MAX_BODY (64 * 1024)
#define BOUNDARY "----sheetdTestBoundary7MA4YWxk"
#define MULTIPART_TYPE "multipart/form-data; boundary=" BOUNDARY

static char *tmp;
static char *upload_dir;
static struct store *store;
static struct web_server *server;
static unsigned port;
static char token[256];
static char cookie_header[512];
static char origin_header[128];

/* The test route's handler: reports the upload and the fields; `move_to` asks it to take
 * the file by moving it into the upload directory under that name. */
static void upload_echo(struct web_request *req, struct web_response *res)
{
    json_t *doc = json_object();
    const char *note = web_request_form_value(req, "note", NULL);
    json_object_set_new(doc, "note", note ? json_string(note) : json_null());
    if (!req->upload) {
        json_object_set_new(doc, "upload", json_null());
        web_response_json(res, 200, doc);
        json_decref(doc);
        return;
    }
    struct stat st;
    cr_assert_eq(stat(req->upload->path, &st), 0);
    size_t len = 0;
    char *content = test_read_file(req->upload->path, &len);
    const char *slash = strrchr(req->upload->path, '/');
    json_object_set_new(
        doc, "upload",
        json_pack("{s:s,s:s,s:I,s:i,s:s,s:s%,s:b}", "filename", req->upload->filename,
                  "content_type", req->upload->content_type, "size", (json_int_t)req->upload->size,
                  "mode", (int)(st.st_mode & 0777), "name", slash ? slash + 1 : req->upload->path,
                  "content", content ? content : "", len, "in_dir",
                  !strncmp(req->upload->path, upload_dir, strlen(upload_dir))));
    free(content);
    const char *move_to = web_request_form_value(req, "move_to", NULL);
    if (move_to) {
        char dest[1024];
        struct sd_error err = SD_ERROR_INIT;
        snprintf(dest, sizeof dest, "%s/%s", upload_dir, move_to);
        cr_assert_eq(web_upload_move(req->upload, dest, &err), 0, "%s", err.message);
    }
    web_response_json(res, 200, doc);
    json_decref(doc);
}

static const struct route test_routes[] = {
    {WEB_METHOD_POST, "/test/upload", upload_echo, true},
};

static void fetch_token(void)
{
    struct http_reply r;
    http_request(&r, port, "GET", "/import_templates/new", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *cookie = http_header(&r, "Set-Cookie");
    cr_assert_not_null(cookie);
    cookie[strcspn(cookie, ";")] = '\0';
    snprintf(cookie_header, sizeof cookie_header, "Cookie: %s", cookie);
    free(cookie);
    const char *field = strstr(r.body, "name=\"authenticity_token\" value=\"");
    cr_assert_not_null(field, "the form page has a token field");
    field += strlen("name=\"authenticity_token\" value=\"");
    size_t n = strcspn(field, "\"");
    cr_assert_lt(n, sizeof token);
    memcpy(token, field, n);
    token[n] = '\0';
    http_reply_free(&r);
}

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    log_set_level(SD_LOG_ERROR);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    tmp = test_make_tmpdir();
    cr_assert_not_null(tmp);
    upload_dir = test_path(tmp, "uploads");
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = tmp;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", err.message);
    struct web_server_config wc = WEB_SERVER_CONFIG_INIT;
    wc.listen = "127.0.0.1:0";
    wc.store = store;
    wc.root_dir = test_source_dir();
    wc.threads = 2;
    wc.max_body_bytes = MAX_BODY;
    wc.upload_dir = upload_dir;
    wc.extra_routes = test_routes;
    wc.nextra_routes = sizeof test_routes / sizeof test_routes[0];
    cr_assert_eq(web_server_start(&server, &wc, &err), 0, "%s", err.message);
    port = web_server_port(server);
    snprintf(origin_header, sizeof origin_header, "Origin: http://127.0.0.1:%u", port);
    struct stat st;
    cr_assert_eq(stat(upload_dir, &st), 0, "the server creates the upload directory");
    cr_assert_eq(st.st_mode & 0777, 0700);
    fetch_token();
}

static void teardown(void)
{
    web_server_stop(server);
    store_close(store);
    test_rmtree(tmp);
    free(upload_dir);
    free(tmp);
    curl_global_cleanup();
}

TestSuite(uploads, .init = setup, .fini = teardown, .timeout = 60);

static size_t count_files(void)
{
    DIR *d = opendir(upload_dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Waits (bounded) until the directory holds `want` files; the completion callback runs on a
 * server thread, possibly just after the client has its answer. */
static bool wait_for_files(size_t want)
{
    for (int i = 0; i < 500; i++) {
        if (count_files() == want)
            return true;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* A multipart body: the token (unless NULL), an optional note and move_to, and a file part
 * (unless filename is NULL). */
static char *multipart(size_t *len, const char *tok, const char *note, const char *move_to,
                       const char *filename, const char *content, size_t content_len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    cr_assert_not_null(f);
    if (tok)
        fprintf(f,
                "--%s\r\nContent-Disposition: form-data; name=\"authenticity_token\"\r\n\r\n%s\r\n",
                BOUNDARY, tok);
    if (note)
        fprintf(f, "--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n%s\r\n", BOUNDARY,
                note);
    if (move_to)
        fprintf(f, "--%s\r\nContent-Disposition: form-data; name=\"move_to\"\r\n\r\n%s\r\n",
                BOUNDARY, move_to);
    if (filename) {
        fprintf(f,
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: text/csv\r\n\r\n",
                BOUNDARY, filename);
        fwrite(content, 1, content_len, f);
        fputs("\r\n", f);
    }
    fprintf(f, "--%s--\r\n", BOUNDARY);
    fclose(f);
    return out;
}

static void post(struct http_reply *r, const char *body, size_t len, const char *type)
{
    const char *headers[] = {cookie_header, origin_header, NULL};
    http_request(r, port, "POST", "/test/upload", type, body, len, headers);
}

static json_t *reply_json(const struct http_reply *r)
{
    json_error_t jerr;
    json_t *doc = json_loads(r->body, 0, &jerr);
    cr_assert_not_null(doc, "%s: %s", jerr.text, r->body);
    return doc;
}

Test(uploads, the_file_is_streamed_to_a_private_temporary_file_and_deleted_when_not_taken)
{
    const char *csv = "name,amount\nAda,1\n";
    size_t len;
    char *body = multipart(&len, token, "hello", NULL, "orders.csv", csv, strlen(csv));
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    json_t *doc = reply_json(&r);
    json_t *up = json_object_get(doc, "upload");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "note")), "hello");
    cr_assert_str_eq(json_string_value(json_object_get(up, "filename")), "orders.csv");
    cr_assert_str_eq(json_string_value(json_object_get(up, "content_type")), "text/csv");
    cr_assert_eq(json_integer_value(json_object_get(up, "size")), (json_int_t)strlen(csv));
    cr_assert_str_eq(json_string_value(json_object_get(up, "content")), csv);
    cr_assert_eq(json_integer_value(json_object_get(up, "mode")), 0600);
    cr_assert(json_is_true(json_object_get(up, "in_dir")));
    const char *name = json_string_value(json_object_get(up, "name"));
    cr_assert(strlen(name) == strlen("upload-0123456789abcdef.part") &&
                  !strncmp(name, "upload-", 7) && strstr(name, ".part"),
              "%s", name);
    cr_assert_null(strstr(name, "orders"), "no part of the client's name is in the path");
    json_decref(doc);
    http_reply_free(&r);
    free(body);
    cr_assert_eq(count_files(), 0, "the untaken file is deleted before the answer is sent");
}

Test(uploads, a_handler_can_take_the_file_by_moving_it)
{
    size_t len;
    char *body = multipart(&len, token, NULL, "kept.csv", "x.csv", "a,b\n", 4);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    http_reply_free(&r);
    free(body);
    char *kept = test_path(upload_dir, "kept.csv");
    size_t n = 0;
    char *content = test_read_file(kept, &n);
    cr_assert_not_null(content, "the moved file stays");
    cr_assert_str_eq(content, "a,b\n");
    cr_assert(wait_for_files(1), "only the moved file is left");
    free(content);
    unlink(kept);
    free(kept);
}

Test(uploads, the_client_filename_is_sanitized_for_display)
{
    size_t len;
    /* a path, a right-to-left override and a control character */
    char *body =
        multipart(&len, token, NULL, NULL, "..\\..\\evil/../x\xE2\x80\xAEgpj.exe\x01.csv", "1", 1);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    json_t *doc = reply_json(&r);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "upload"), "filename")),
                     "xgpj.exe.csv");
    json_decref(doc);
    http_reply_free(&r);
    free(body);
    cr_assert(wait_for_files(0));
}

Test(uploads, a_form_without_a_file_reaches_the_handler_with_no_upload)
{
    size_t len;
    char *body = multipart(&len, token, "only a note", NULL, NULL, NULL, 0);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    json_t *doc = reply_json(&r);
    cr_assert(json_is_null(json_object_get(doc, "upload")));
    cr_assert_str_eq(json_string_value(json_object_get(doc, "note")), "only a note");
    json_decref(doc);
    http_reply_free(&r);
    free(body);
    cr_assert(wait_for_files(0));
}

Test(uploads, csrf_is_checked_like_a_urlencoded_form)
{
    size_t len;
    char *body = multipart(&len, NULL, NULL, NULL, "x.csv", "a\n", 2);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 422, "no token: %ld", r.status);
    cr_assert_eq(count_files(), 0, "deleted before the refusal is sent");
    http_reply_free(&r);
    free(body);
    body = multipart(&len, "0000000000000000000000000000000000000000000000000000000000000000", NULL,
                     NULL, "x.csv", "a\n", 2);
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 422, "wrong token: %ld", r.status);
    http_reply_free(&r);
    free(body);
    cr_assert(wait_for_files(0), "a refused upload leaves no file");
}

Test(uploads, a_declared_length_over_the_limit_is_refused_before_reading)
{
    size_t big = MAX_BODY + 1;
    char *content = malloc(big);
    memset(content, 'a', big);
    size_t len;
    char *body = multipart(&len, token, NULL, NULL, "big.csv", content, big);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 413, "%ld", r.status);
    cr_assert(strstr(r.body, "at most"), "%s", r.body);
    http_reply_free(&r);
    free(body);
    free(content);
    cr_assert(wait_for_files(0));
}

/* Raw socket helpers for what curl would not send. */
static int connect_raw(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        cr_assert_gt(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

static char *read_all(int fd)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        fwrite(chunk, 1, (size_t)n, f);
    fclose(f);
    return out;
}

static void send_head(int fd, const char *extra)
{
    char head[1024];
    snprintf(head, sizeof head,
             "POST /test/upload HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s\r\n%s\r\n"
             "Content-Type: " MULTIPART_TYPE "\r\nConnection: close\r\n%s\r\n",
             port, cookie_header, origin_header, extra);
    send_all(fd, head, strlen(head));
}

Test(uploads, a_chunked_body_that_grows_past_the_limit_is_answered_413_and_deleted)
{
    int fd = connect_raw();
    send_head(fd, "Transfer-Encoding: chunked\r\n");
    size_t len;
    char *start = multipart(&len, token, NULL, NULL, "big.csv", "", 0);
    /* everything up to the file's content, then the content in chunks */
    char *cut = strstr(start, "text/csv\r\n\r\n") + strlen("text/csv\r\n\r\n");
    char line[64];
    snprintf(line, sizeof line, "%zx\r\n", (size_t)(cut - start));
    send_all(fd, line, strlen(line));
    send_all(fd, start, (size_t)(cut - start));
    send_all(fd, "\r\n", 2);
    char block[8192];
    memset(block, 'z', sizeof block);
    bool saw_file = false;
    for (size_t sent = 0; sent < 2 * MAX_BODY; sent += sizeof block) {
        snprintf(line, sizeof line, "%zx\r\n", sizeof block);
        send_all(fd, line, strlen(line));
        send_all(fd, block, sizeof block);
        send_all(fd, "\r\n", 2);
        if (sent == 2 * sizeof block)
            saw_file = wait_for_files(1);
    }
    send_all(fd, "0\r\n\r\n", 5);
    char *reply = read_all(fd);
    close(fd);
    cr_assert(saw_file, "the file was being written while the body streamed");
    cr_assert(reply && !strncmp(reply, "HTTP/1.1 413", 12), "%.200s", reply ? reply : "");
    cr_assert(strstr(reply, "X-Content-Type-Options: nosniff"), "%s", reply);
    free(reply);
    free(start);
    cr_assert(wait_for_files(0), "the partial file is deleted");
}

Test(uploads, a_client_that_vanishes_mid_upload_leaves_no_file)
{
    int fd = connect_raw();
    send_head(fd, "Content-Length: 60000\r\n");
    size_t len;
    char *start = multipart(&len, token, NULL, NULL, "big.csv", "", 0);
    char *cut = strstr(start, "text/csv\r\n\r\n") + strlen("text/csv\r\n\r\n");
    send_all(fd, start, (size_t)(cut - start));
    char block[20000];
    memset(block, 'q', sizeof block);
    send_all(fd, block, sizeof block);
    cr_assert(wait_for_files(1), "the upload is being written");
    close(fd);
    free(start);
    cr_assert(wait_for_files(0), "the completion callback deletes the partial file");
}

Test(uploads, malformed_bodies_are_400_and_leave_no_file)
{
    size_t len;
    char *body = multipart(&len, token, NULL, NULL, "x.csv", "abc\n", 4);
    /* cut before the closing boundary: the last part never ends */
    char *end = strstr(body, "\r\n--" BOUNDARY "--");
    cr_assert_not_null(end);
    struct http_reply r;
    post(&r, body, (size_t)(end - body) + 2, MULTIPART_TYPE);
    cr_assert_eq(r.status, 400, "truncated: %ld %s", r.status, r.body);
    http_reply_free(&r);
    free(body);
    /* two file parts */
    char *two = NULL;
    size_t two_len = 0;
    FILE *f = open_memstream(&two, &two_len);
    fprintf(f, "--%s\r\nContent-Disposition: form-data; name=\"authenticity_token\"\r\n\r\n%s\r\n",
            BOUNDARY, token);
    for (int i = 0; i < 2; i++)
        fprintf(f,
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%d.csv\"\r\n"
                "\r\nrow%d\r\n",
                BOUNDARY, i, i);
    fprintf(f, "--%s--\r\n", BOUNDARY);
    fclose(f);
    post(&r, two, two_len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 400, "two files: %ld %s", r.status, r.body);
    cr_assert(strstr(r.body, "more than one file"), "%s", r.body);
    http_reply_free(&r);
    free(two);
    /* no boundary at all */
    post(&r, "x", 1, "multipart/form-data");
    cr_assert_eq(r.status, 400, "no boundary: %ld", r.status);
    http_reply_free(&r);
    /* not multipart */
    post(&r, "a=b", 3, "application/x-www-form-urlencoded");
    cr_assert_eq(r.status, 415, "urlencoded: %ld", r.status);
    http_reply_free(&r);
    cr_assert(wait_for_files(0));
}

Test(uploads, a_text_field_is_capped)
{
    char *note = malloc(WEB_UPLOAD_MAX_FIELD_BYTES + 2);
    memset(note, 'n', WEB_UPLOAD_MAX_FIELD_BYTES + 1);
    note[WEB_UPLOAD_MAX_FIELD_BYTES + 1] = '\0';
    size_t len;
    char *body = multipart(&len, token, note, NULL, "x.csv", "a", 1);
    struct http_reply r;
    post(&r, body, len, MULTIPART_TYPE);
    cr_assert_eq(r.status, 413, "%ld %s", r.status, r.body);
    http_reply_free(&r);
    free(body);
    free(note);
    cr_assert(wait_for_files(0));
}

Test(uploads, the_sanitizer_keeps_names_readable)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"Book1.xlsx", "Book1.xlsx"},
        {"C:\\Users\\me\\Q3 Zoë.xlsx", "Q3 Zoë.xlsx"},
        {"/etc/passwd", "passwd"},
        {"bad\xFFname.csv", "bad\xEF\xBF\xBDname.csv"},
        {"a\xE2\x81\xA6"
         "b\x7F\x1B.csv",
         "ab.csv"},
        {"dir/", "upload"},
        {"", "upload"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = web_upload_sanitize_filename(cases[i].in);
        cr_assert_str_eq(got, cases[i].out, "case %zu", i);
        free(got);
    }
    char long_name[600];
    memset(long_name, 0, sizeof long_name);
    for (size_t i = 0; i + 2 < 599; i += 2)
        memcpy(long_name + i, "\xC3\xA9", 2);
    char *got = web_upload_sanitize_filename(long_name);
    cr_assert_leq(strlen(got), WEB_UPLOAD_MAX_FILENAME);
    cr_assert_eq(strlen(got) % 2, 0, "cut on a character boundary");
    free(got);
}
