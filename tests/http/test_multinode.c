/*
 * Several machines on one PostgreSQL, played by real processes (the release binary,
 * SHEETD_BIN) that share nothing but the database: two `sheetd serve --no-workers` web
 * processes A and B and two `sheetd work` processes, each with a data directory of its own,
 * all on a fresh schema of the database named by SHEETD_TEST_PG_URL (contract.h).
 *
 *   - an upload made through A is imported by a worker, its stream followed through B to
 *     the end, its error report downloaded through B; an export asked of B is downloaded
 *     through A; no upload or export is left in any data directory; a form page served by
 *     A posts through B (one secret key, kept in the database);
 *   - a worker killed with SIGKILL in the middle of a 1M-row import (the status document,
 *     read through B, says it holds the job and has imported some of the rows and not all):
 *     the other worker takes the job over once the heartbeat silence (HEARTBEAT_SILENCE_MS,
 *     30 s) has passed, every row lands exactly once (COUNT(*) and COUNT(DISTINCT) of the
 *     keys, 0 to the last), and no file is left behind, in the database or on any disk.
 *     The import itself runs in the release binary and takes seconds; the wait for the
 *     silence is most of the test's time.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/store/contract.h"
#include "base/buf.h"
#include "http_client.h"
#include "jobs/heartbeat.h"

#define NODES 4

/* Every test of this file gets the same time limit. Criterion's sandbox library (BoxFort)
 * keeps pending time limits in a list sorted by deadline, and inserting a deadline earlier
 * than one already pending drops the rest of the list: with two tests running at once, a
 * shorter limit started after a longer one leaks the longer one's entry (LeakSanitizer
 * reports 48 bytes in the runner) and leaves that test without a limit. Equal limits are
 * always appended. */
#define MULTINODE_TIMEOUT_S 300

struct node {
    pid_t pid;
    unsigned port; /* web processes */
    char dir[4096];
};

static struct node nodes[NODES]; /* A, B, worker 1, worker 2 */
static const char *bin;

static void need_binary_and_database(void)
{
    contract_check_skip();
    bin = getenv("SHEETD_BIN");
    if (!bin || access(bin, X_OK) != 0)
        cr_skip_test("SHEETD_BIN is not set to a built sheetd (make test sets it)");
}

static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Runs `sheetd ARGS...` in the node's data directory against the test's database. */
static pid_t spawn(struct node *n, char *const argv[])
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        setenv("SHEETD_DATA_DIR", n->dir, 1);
        setenv("SHEETD_DATABASE_URL", contract.url, 1);
        setenv("SHEETD_LOG_LEVEL", "warn", 1);
        unsetenv("SHEETD_API_TOKEN");
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

static void make_dir(struct node *n, const char *name)
{
    snprintf(n->dir, sizeof n->dir, "%s/%s", contract.dir, name);
    cr_assert(mkdir(n->dir, 0700) == 0, "%s", n->dir);
}

/* Migrates once (the processes would each try), then starts A, B and the two workers. */
static void start_nodes(void)
{
    need_binary_and_database();
    static const char *names[NODES] = {"web-a", "web-b", "worker-1", "worker-2"};
    for (int i = 0; i < NODES; i++)
        make_dir(&nodes[i], names[i]);
    char *migrate[] = {(char *)bin, "migrate", NULL};
    int status = 0;
    pid_t m = spawn(&nodes[0], migrate);
    cr_assert_eq(waitpid(m, &status, 0), m);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sheetd migrate worked");
    for (int i = 0; i < 2; i++) {
        nodes[i].port = free_port();
        char listen[32];
        snprintf(listen, sizeof listen, "127.0.0.1:%u", nodes[i].port);
        char *serve[] = {(char *)bin, "serve", "--no-workers", "--listen", listen, NULL};
        nodes[i].pid = spawn(&nodes[i], serve);
    }
    for (int i = 2; i < NODES; i++) {
        char *work[] = {(char *)bin, "work", "--threads", "1", NULL};
        nodes[i].pid = spawn(&nodes[i], work);
    }
    for (int i = 0; i < 2; i++) {
        bool up = false;
        for (int tries = 0; tries < 200 && !up; tries++) {
            struct http_reply r = {0};
            CURL *probe = curl_easy_init();
            char url[64];
            snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", nodes[i].port);
            curl_easy_setopt(probe, CURLOPT_URL, url);
            curl_easy_setopt(probe, CURLOPT_NOBODY, 1L);
            curl_easy_setopt(probe, CURLOPT_TIMEOUT_MS, 500L);
            if (curl_easy_perform(probe) == CURLE_OK)
                curl_easy_getinfo(probe, CURLINFO_RESPONSE_CODE, &r.status);
            curl_easy_cleanup(probe);
            up = r.status == 200;
            if (!up)
                usleep(50000);
        }
        cr_assert(up, "web process %c answers /healthz", 'A' + i);
    }
}

static void stop_nodes(void)
{
    for (int i = 0; i < NODES; i++)
        if (nodes[i].pid > 0) {
            kill(nodes[i].pid, SIGTERM);
            waitpid(nodes[i].pid, NULL, 0);
            nodes[i].pid = 0;
        }
    contract_teardown();
}

/* A JSON answer of `port`, asserting `status`. */
static json_t *request_json(unsigned port, const char *method, const char *target,
                            const char *content_type, const char *body, size_t len, long status)
{
    struct http_reply r;
    http_request(&r, port, method, target, content_type, body, len, NULL);
    cr_assert_eq(r.status, status, "%s %s answered %ld: %s", method, target, r.status, r.body);
    json_error_t jerr;
    json_t *doc = json_loads(r.body, 0, &jerr);
    cr_assert_not_null(doc, "%s", r.body);
    http_reply_free(&r);
    return doc;
}

static int64_t create_template(unsigned port, const char *mode)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\": \"People\", \"table\": \"people\", \"mode\": \"%s\", \"columns\": ["
             " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": "
             "true}, {\"key\": \"n\", \"header\": \"N\", \"type\": \"integer\"}]}",
             mode);
    json_t *doc = request_json(port, "POST", "/api/v1/import_templates", "application/json", json,
                               strlen(json), 201);
    int64_t id = json_integer_value(json_object_get(doc, "id"));
    json_decref(doc);
    cr_assert_gt(id, 0);
    return id;
}

static size_t collect_reply(char *data, size_t size, size_t n, void *arg)
{
    return buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

/* Uploads a CSV through the API of `port`, streamed by curl from the file `path` or, when
 * `path` is NULL, from the `len` bytes of `csv`; the job's id into id. */
static void upload(char id[17], unsigned port, int64_t template_id, const char *csv, size_t len,
                   const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/import_templates/%lld/imports", port,
             (long long)template_id);
    CURL *curl = curl_easy_init();
    cr_assert_not_null(curl);
    curl_mime *form = curl_mime_init(curl);
    curl_mimepart *part = curl_mime_addpart(form);
    curl_mime_name(part, "file");
    if (path)
        cr_assert_eq(curl_mime_filedata(part, path), CURLE_OK, "%s", path);
    else
        curl_mime_data(part, csv, len);
    curl_mime_filename(part, "people.csv");
    curl_mime_type(part, "text/csv");
    struct buf reply = BUF_INIT;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, form);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_reply);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_mime_free(form);
    cr_assert_eq(rc, CURLE_OK, "the upload through port %u: %s", port, curl_easy_strerror(rc));
    cr_assert_eq(status, 202, "the upload answered %ld: %s", status, buf_cstr(&reply));
    json_error_t jerr;
    json_t *doc = json_loads(buf_cstr(&reply), 0, &jerr);
    cr_assert_not_null(doc, "%s", buf_cstr(&reply));
    buf_free(&reply);
    const char *job_id = json_string_value(json_object_get(doc, "job_id"));
    cr_assert(job_id && strlen(job_id) == 16, "the upload named its job");
    snprintf(id, 17, "%s", job_id);
    json_decref(doc);
}

/* Writes the header "Email,N" and `rows` rows "person<i>@example.com,<i>", i from 0, to
 * `path`. No printf per row: a million rows take a fraction of a second, even under ASan. */
static void write_people_csv(const char *path, int rows)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    cr_assert(fputs("Email,N\n", f) >= 0);
    char block[1 << 16];
    size_t used = 0;
    for (int i = 0; i < rows; i++) {
        char digits[16];
        int nd = 0;
        for (int v = i; nd == 0 || v > 0; v /= 10)
            digits[nd++] = (char)('0' + v % 10); /* backwards */
        if (used + 64 > sizeof block) {
            cr_assert_eq(fwrite(block, 1, used, f), used, "%s", path);
            used = 0;
        }
        memcpy(block + used, "person", 6);
        used += 6;
        for (int k = nd; k-- > 0;)
            block[used++] = digits[k];
        memcpy(block + used, "@example.com,", 13);
        used += 13;
        for (int k = nd; k-- > 0;)
            block[used++] = digits[k];
        block[used++] = '\n';
    }
    cr_assert_eq(fwrite(block, 1, used, f), used, "%s", path);
    cr_assert_eq(fclose(f), 0, "%s", path);
}

/* What the stream has sent so far; the transfer stops once the job's end arrives. */
struct stream_state {
    struct buf seen;
    bool ended;
};

static size_t on_stream(char *data, size_t size, size_t n, void *arg)
{
    struct stream_state *s = arg;
    buf_append(&s->seen, data, size * n);
    if (strstr(buf_cstr(&s->seen), "data-status=\"completed\"") ||
        strstr(buf_cstr(&s->seen), "data-status=\"failed\"")) {
        s->ended = true;
        return 0; /* ends the transfer */
    }
    return size * n;
}

/* Follows /jobs/:id/stream of `port` until it reports the job's end, for at most
 * `timeout_s`; asserts `status`. */
static void follow_stream(unsigned port, const char *id, const char *status, long timeout_s)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/jobs/%s/stream", port, id);
    struct stream_state s = {BUF_INIT, false};
    CURL *curl = curl_easy_init();
    cr_assert_not_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    cr_assert(s.ended, "the stream through port %u told the end of job %s; it sent: %.400s", port,
              id, buf_cstr(&s.seen));
    char want[64];
    snprintf(want, sizeof want, "data-status=\"%s\"", status);
    cr_assert_not_null(strstr(buf_cstr(&s.seen), want), "%.400s", buf_cstr(&s.seen));
    buf_free(&s.seen);
}

/* GET of a file through `port`: asserts a 200 XLSX (zip) body. */
static void download_xlsx(unsigned port, const char *target)
{
    struct http_reply r;
    http_request(&r, port, "GET", target, NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200, "GET %s through port %u answered %ld: %s", target, port, r.status,
                 r.body);
    cr_assert(r.body_len > 100 && !memcmp(r.body, "PK", 2), "an XLSX (zip) file");
    http_reply_free(&r);
}

/* The number of files (not directories) below `dir`, recursively. */
static int files_under(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        n += e->d_type == DT_DIR ? files_under(path) : 1;
    }
    closedir(d);
    return n;
}

/* No job file stays in any node's data directory: uploads, reports and exports live in the
 * database, and nothing fetched for a run or a download is left. */
static void assert_no_job_files_on_disk(void)
{
    static const char *kinds[] = {"uploads", "reports", "exports"};
    for (int i = 0; i < NODES; i++) {
        for (size_t k = 0; k < 3; k++) {
            char dir[8192];
            snprintf(dir, sizeof dir, "%s/%s", nodes[i].dir, kinds[k]);
            cr_assert_eq(files_under(dir), 0, "a file was left in %s", dir);
        }
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "ls -A %s | grep -q '^\\.fetched'", nodes[i].dir);
        cr_assert_neq(system(cmd), 0, "a fetched copy was left in %s", nodes[i].dir);
    }
}

/* The browser's way: the CSRF token from a form page of `from`, then the upload form posted
 * to `to` with that token as cookie and field. The HTTP status of the post. */
static long form_upload_across(unsigned from, unsigned to, int64_t template_id, const char *csv)
{
    struct http_reply r;
    http_request(&r, from, "GET", "/import_templates/new", NULL, NULL, 0, NULL);
    cr_assert_eq(r.status, 200);
    char *set_cookie = http_header(&r, "Set-Cookie");
    cr_assert_not_null(set_cookie, "the form page sets the CSRF cookie");
    char token[200] = "";
    cr_assert_eq(sscanf(set_cookie, "sheetd_csrf=%128[0-9a-f];", token), 1, "%s", set_cookie);
    free(set_cookie);
    http_reply_free(&r);
    struct buf body = BUF_INIT;
    cr_assert_eq(buf_printf(&body,
                            "--XyZ\r\nContent-Disposition: form-data; "
                            "name=\"authenticity_token\"\r\n\r\n%s\r\n--XyZ\r\n"
                            "Content-Disposition: form-data; name=\"file\"; "
                            "filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n%s"
                            "\r\n--XyZ--\r\n",
                            token, csv),
                 0);
    char target[96], cookie[256];
    snprintf(target, sizeof target, "/import_templates/%lld/import_file", (long long)template_id);
    snprintf(cookie, sizeof cookie, "Cookie: sheetd_csrf=%s", token);
    const char *headers[] = {cookie, NULL};
    http_request(&r, to, "POST", target, "multipart/form-data; boundary=XyZ", buf_cstr(&body),
                 body.len, headers);
    long status = r.status;
    http_reply_free(&r);
    buf_free(&body);
    return status;
}

static int64_t stored_files(const char *prefix)
{
    struct db *db = contract_open();
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM job_files WHERE chunk = 0 AND name LIKE '%s%%'",
             prefix);
    int64_t n = contract_int(db, sql);
    db_close(db);
    return n;
}

Test(multinode, upload_through_a_stream_through_b_export_through_a, .init = contract_setup_postgres,
     .fini = stop_nodes, .timeout = MULTINODE_TIMEOUT_S)
{
    start_nodes();
    unsigned a = nodes[0].port, b = nodes[1].port;
    int64_t tid = create_template(a, "partial");
    static const char csv[] = "Email,N\nann@example.com,1\nbob@example.com,2\nnot-an-email,3\n";
    char id[17];
    upload(id, a, tid, csv, strlen(csv), NULL);
    follow_stream(b, id, "completed", 60);
    /* The report a worker wrote in its own data directory, downloaded through B. */
    char target[96];
    snprintf(target, sizeof target, "/jobs/%s/errors.xlsx", id);
    download_xlsx(b, target);
    cr_assert_eq(stored_files("uploads/"), 0, "the upload is deleted once the import ended");
    cr_assert_eq(stored_files("reports/"), 1);

    /* An export asked of B, written by a worker, downloaded through A. */
    char export_target[96];
    snprintf(export_target, sizeof export_target, "/api/v1/import_templates/%lld/exports",
             (long long)tid);
    json_t *doc = request_json(b, "POST", export_target, "application/json", "{}", 2, 202);
    char export_id[17];
    snprintf(export_id, sizeof export_id, "%s", json_string_value(json_object_get(doc, "job_id")));
    json_decref(doc);
    follow_stream(b, export_id, "completed", 60);
    snprintf(target, sizeof target, "/jobs/%s/download", export_id);
    download_xlsx(a, target);
    cr_assert_eq(stored_files("exports/"), 1);
    assert_no_job_files_on_disk();

    /* A form page served by A, posted to B: one secret key for every process. */
    cr_assert_eq(form_upload_across(a, b, tid, "Email,N\ncid@example.com,4\n"), 303,
                 "B accepts the CSRF token A signed");
    struct db *db = contract_open();
    for (int i = 0; i < 500 && contract_int(db, "SELECT count(*) FROM people") < 3; i++)
        usleep(20000);
    cr_assert_eq(contract_int(db, "SELECT count(*) FROM people"), 3);
    db_close(db);
}

#define KILL_ROWS 1000000

/* The status document of a job through `port`. */
static json_t *status_of(unsigned port, const char *id)
{
    char target[64];
    snprintf(target, sizeof target, "/jobs/%s/status.json", id);
    return request_json(port, "GET", target, NULL, NULL, 0, 200);
}

static const char *status_field(json_t *doc)
{
    const char *status = json_string_value(json_object_get(doc, "status"));
    cr_assert_not_null(status, "a status document has a status");
    return status;
}

/* The pid of the process a status document says holds the job; 0 when none does. */
static pid_t holder_pid(json_t *doc)
{
    return (pid_t)json_integer_value(json_object_get(json_object_get(doc, "worker"), "pid"));
}

static json_int_t progress_field(json_t *doc, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(doc, "progress"), key));
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(multinode, a_worker_killed_mid_import_is_taken_over_and_every_row_lands_once,
     .init = contract_setup_postgres, .fini = stop_nodes, .timeout = MULTINODE_TIMEOUT_S)
{
    start_nodes();
    unsigned a = nodes[0].port, b = nodes[1].port;
    int64_t tid = create_template(a, "all_or_nothing");
    double started = seconds_now();
    char csv[8192];
    snprintf(csv, sizeof csv, "%s/people.csv", contract.dir);
    write_people_csv(csv, KILL_ROWS);
    double written = seconds_now();
    char id[17];
    upload(id, a, tid, NULL, 0, csv);
    double uploaded = seconds_now();

    /* The worker that holds the job, as the status document (kept in PostgreSQL, read
     * through B) names it, dies without a word once it has imported some rows and not all. */
    struct node *holder = NULL;
    json_int_t processed = 0, total = 0;
    while (!holder) {
        json_t *doc = status_of(b, id);
        const char *status = status_field(doc);
        cr_assert(strcmp(status, "completed") && strcmp(status, "failed"),
                  "the import ended (%s) before a worker could be killed", status);
        processed = progress_field(doc, "processed");
        total = progress_field(doc, "total");
        pid_t pid = holder_pid(doc);
        for (int n = 2; n < NODES; n++)
            if (pid > 0 && nodes[n].pid == pid && !strcmp(status, "processing") && processed > 0 &&
                processed < total)
                holder = &nodes[n];
        json_decref(doc);
        if (!holder) {
            cr_assert_lt(seconds_now() - uploaded, 120.0,
                         "no worker was seen in the middle of the import within 2 minutes "
                         "(last seen: %lld of %lld rows)",
                         (long long)processed, (long long)total);
            usleep(10000);
        }
    }
    pid_t killed = holder->pid;
    cr_assert_eq(kill(killed, SIGKILL), 0);
    double kill_time = seconds_now();
    cr_assert_eq(waitpid(killed, NULL, 0), killed);
    holder->pid = 0;
    cr_assert_eq(total, KILL_ROWS, "the document counts the file's rows");
    struct node *other = holder == &nodes[2] ? &nodes[3] : &nodes[2];

    /* Silent but not yet pruned: the job still looks held by the dead worker. */
    json_t *doc = status_of(b, id);
    cr_assert_str_eq(status_field(doc), "processing", "killed mid-import");
    cr_assert_eq(holder_pid(doc), killed, "the dead worker still holds the job");
    json_decref(doc);
    /* Nothing of the killed attempt was committed: no rows and no completion marker, so
     * the next attempt imports the whole file again. */
    struct db *db = contract_open();
    cr_assert_eq(contract_int(db, "SELECT count(*) FROM people"), 0);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM job_completions WHERE job_id = '%s'", id);
    cr_assert_eq(contract_int(db, sql), 0);
    db_close(db);

    /* The other worker prunes the silent one once its heartbeat has been missing for
     * HEARTBEAT_SILENCE_MS, and runs the job again. */
    double taken_over = 0;
    while (!taken_over) {
        doc = status_of(b, id);
        const char *status = status_field(doc);
        cr_assert(strcmp(status, "completed") && strcmp(status, "failed"),
                  "the job ended (%s) before the other worker was seen running it", status);
        if (!strcmp(status, "processing") && holder_pid(doc) == other->pid)
            taken_over = seconds_now();
        json_decref(doc);
        if (!taken_over) {
            cr_assert_lt(seconds_now() - kill_time,
                         (HEARTBEAT_SILENCE_MS + HEARTBEAT_INTERVAL_MS) / 1000.0 + 30,
                         "the other worker did not take the job over");
            usleep(50000);
        }
    }
    /* The dead worker's last heartbeat was at most HEARTBEAT_INTERVAL_MS before the kill. */
    cr_assert_geq(taken_over - kill_time,
                  (HEARTBEAT_SILENCE_MS - HEARTBEAT_INTERVAL_MS) / 1000.0 - 1,
                  "taken over %.1f s after the kill, before the heartbeat silence had passed",
                  taken_over - kill_time);
    follow_stream(a, id, "completed", 240);
    double completed = seconds_now();
    doc = status_of(b, id);
    json_t *result = json_object_get(doc, "result");
    cr_assert_eq(json_integer_value(json_object_get(result, "imported")), KILL_ROWS);
    cr_assert_eq(json_integer_value(json_object_get(result, "failed")), 0);
    json_decref(doc);
    fprintf(stderr,
            "multinode: %d rows written in %.1f s, uploaded in %.1f s; worker killed "
            "%.1f s later at row %lld; taken over %.1f s after the kill; completed %.1f s "
            "after that\n",
            KILL_ROWS, written - started, uploaded - written, kill_time - uploaded,
            (long long)processed, taken_over - kill_time, completed - taken_over);

    /* Every row exactly once: as many rows as the file has, each key once, 0 to the last. */
    db = contract_open();
    cr_assert_eq(contract_int(db, "SELECT count(*) FROM people"), KILL_ROWS);
    cr_assert_eq(contract_int(db, "SELECT count(DISTINCT n) FROM people"), KILL_ROWS);
    cr_assert_eq(contract_int(db, "SELECT count(DISTINCT email) FROM people"), KILL_ROWS);
    cr_assert_eq(contract_int(db, "SELECT min(n) FROM people"), 0);
    cr_assert_eq(contract_int(db, "SELECT max(n) FROM people"), KILL_ROWS - 1);
    cr_assert_eq(contract_int(db, "SELECT count(*) FROM processes"), 3, "the dead one is gone");
    snprintf(sql, sizeof sql, "SELECT attempts FROM jobs WHERE id = '%s'", id);
    cr_assert_eq(contract_int(db, sql), 2, "claimed by the killed worker, then by the other");
    /* No stored file is left: the upload goes after the final attempt, and an import
     * without failed rows writes no report. */
    cr_assert_eq(contract_int(db, "SELECT count(*) FROM job_files"), 0,
                 "a file was left in the database");
    db_close(db);

    /* The dead worker's machine comes back: its abandoned copy of the upload goes. */
    char has_copy[8192];
    snprintf(has_copy, sizeof has_copy, "ls -A %s | grep -q '^\\.fetched'", holder->dir);
    cr_assert_eq(system(has_copy), 0, "the killed worker was reading its own copy of the upload");
    /* Aged past the minute a fresh copy is spared for. */
    char copy[8192];
    snprintf(copy, sizeof copy, "touch -d '2 minutes ago' %s/.fetched-*", holder->dir);
    cr_assert_eq(system(copy), 0);
    char *work[] = {(char *)bin, "work", "--threads", "1", NULL};
    holder->pid = spawn(holder, work);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = system(has_copy) != 0;
        if (!gone)
            usleep(25000);
    }
    cr_assert(gone, "the restarted worker removed the abandoned copy");
    assert_no_job_files_on_disk();
}
