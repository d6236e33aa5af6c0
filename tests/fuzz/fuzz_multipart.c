/*
 * libFuzzer target for streaming uploads (web/upload.c) behind libmicrohttpd's real
 * MHD_PostProcessor. A small daemon of its own (no listening socket) gets each input as a
 * POST over a socketpair: when the input starts with "BOUNDARY\n" (up to 70 bytes) that is
 * the boundary, else a fixed one; the rest is the body, fed in pieces whose sizes come from
 * the input too. The handler checks what upload.h promises: on success the file on disk has
 * the reported size, the display name is valid UTF-8 without control characters, the
 * fields are capped and valid UTF-8; on failure a status of 400/413/500 with a sentence.
 * After each input the upload directory must be empty again: no path leaves a file.
 */
#include <dirent.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "web/request.h"
#include "web/upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY (256 * 1024)

static struct MHD_Daemon *daemon_handle;
static char upload_dir[] = "/tmp/sheetd-fuzz-multipart-XXXXXX";

struct state {
    struct web_multipart *mp;
    bool started;
};

static void check_upload(struct web_multipart *mp)
{
    struct web_upload *up = web_multipart_upload(mp);
    if (up) {
        struct stat st;
        if (stat(up->path, &st) != 0 || (uint64_t)st.st_size != up->size ||
            (st.st_mode & 0777) != 0600)
            abort();
        size_t len = strlen(up->filename);
        if (len == 0 || len > WEB_UPLOAD_MAX_FILENAME || !str_utf8_valid(up->filename, len) ||
            strchr(up->filename, '/') || strchr(up->filename, '\\'))
            abort();
        for (const unsigned char *p = (const unsigned char *)up->filename; *p; p++)
            if (*p < 0x20 || *p == 0x7F)
                abort();
        if (strncmp(up->path, upload_dir, strlen(upload_dir)) != 0)
            abort();
    }
    struct web_form_field *fields = NULL;
    size_t count = 0;
    web_multipart_take_fields(mp, &fields, &count);
    if (count > WEB_UPLOAD_MAX_FIELDS)
        abort();
    for (size_t i = 0; i < count; i++) {
        if (fields[i].value_len > WEB_UPLOAD_MAX_FIELD_BYTES ||
            strlen(fields[i].value) != fields[i].value_len ||
            !str_utf8_valid(fields[i].value, fields[i].value_len))
            abort();
        free(fields[i].name);
        free(fields[i].value);
    }
    free(fields);
}

static enum MHD_Result answer(struct MHD_Connection *connection, unsigned status)
{
    static const char text[] = "done\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct state *st = *req_cls;
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            abort();
        *req_cls = st;
        struct web_multipart_options opts = WEB_MULTIPART_OPTIONS_INIT;
        opts.dir = upload_dir;
        opts.max_body_bytes = MAX_BODY;
        int status = 0;
        struct sd_error err = SD_ERROR_INIT;
        st->mp = web_multipart_new(connection, &opts, &status, &err);
        if (!st->mp) {
            if (status != 400 && status != 500)
                abort();
            return answer(connection, (unsigned)status);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        web_multipart_feed(st->mp, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    int status = 0;
    struct sd_error err = SD_ERROR_INIT;
    if (web_multipart_finish(st->mp, &status, &err) != 0) {
        if ((status != 400 && status != 413 && status != 500) || !err.message[0])
            abort();
        if (web_multipart_upload(st->mp))
            abort(); /* a failed upload keeps no file */
        return answer(connection, (unsigned)status);
    }
    check_upload(st->mp);
    return answer(connection, 200);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct state *st = *req_cls;
    (void)cls;
    (void)connection;
    (void)code;
    if (st) {
        web_multipart_free(st->mp);
        free(st);
    }
    *req_cls = NULL;
}

static void start(void)
{
    if (!mkdtemp(upload_dir))
        abort();
    daemon_handle =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET,
                         0, NULL, NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                         NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5, MHD_OPTION_END);
    if (!daemon_handle)
        abort();
}

static bool dir_empty(void)
{
    DIR *d = opendir(upload_dir);
    if (!d)
        abort();
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(d);
    return empty;
}

/* A file outlived its connection by 2 s. Says whether that was a slow cleanup (gone within
 * 30 s more) or a leak before failing, since a failure this rare may not come back when its
 * input is run again. */
static void report_left_file(void)
{
    int waited_ms = 0;
    for (; waited_ms < 30000 && !dir_empty(); waited_ms += 10)
        usleep(10000);
    if (dir_empty())
        fprintf(stderr, "fuzz_multipart: an upload file went only %d ms after the 2 s wait\n",
                waited_ms);
    else
        fprintf(stderr, "fuzz_multipart: an upload file outlived its connection by 32 s\n");
    abort();
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server answered early and closed: fine */
        p += n;
        len -= (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!daemon_handle)
        start();
    const char *boundary = "sheetdFuzzBoundary";
    char custom[72];
    const uint8_t *nl = memchr(data, '\n', size < 71 ? size : 71);
    if (nl) {
        memcpy(custom, data, (size_t)(nl - data));
        custom[nl - data] = '\0';
        if (strlen(custom) > 0 && !strpbrk(custom, "\r\"")) {
            boundary = custom;
        }
        size -= (size_t)(nl - data) + 1;
        data = nl + 1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(daemon_handle, sv[0], (struct sockaddr *)&addr, sizeof addr) != MHD_YES)
        abort();
    char head[512];
    snprintf(head, sizeof head,
             "POST /upload HTTP/1.1\r\nHost: fuzz\r\nContent-Type: multipart/form-data; "
             "boundary=%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
             boundary, size);
    send_all(sv[1], head, strlen(head));
    /* the body in pieces, so parts straddle the reads libmicrohttpd does */
    size_t piece = size > 0 ? (size_t)data[0] % 97 + 1 : 1;
    for (size_t off = 0; off < size; off += piece)
        send_all(sv[1], data + off, size - off < piece ? size - off : piece);
    char buf[4096];
    while (recv(sv[1], buf, sizeof buf, 0) > 0) {
    }
    close(sv[1]);
    /* the completion callback runs on the daemon's thread right after the close */
    for (int i = 0; i < 2000 && !dir_empty(); i++)
        usleep(1000);
    if (!dir_empty())
        report_left_file();
    return 0;
}
