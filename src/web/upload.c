/* Streaming multipart uploads (see upload.h for the rules). */
#include "web/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/job_id.h"
#include "base/str.h"
#include "web/request.h"

#define POST_BUFFER_SIZE (16 * 1024)
#define MAX_NAME_BYTES 256

enum part_kind { PART_NONE, PART_FILE, PART_FIELD, PART_SKIP };

struct web_multipart {
    struct MHD_PostProcessor *pp;
    const char *dir;
    uint64_t max_body_bytes;
    uint64_t received; /* body bytes fed so far */

    struct web_upload upload;
    bool have_upload; /* the file part began (upload.path is set) */
    int fd;           /* open while the file part is written; -1 otherwise */

    struct web_form_field *fields;
    size_t nfields;
    enum part_kind part; /* what the bytes being delivered belong to */

    int status; /* latched failure: 400, 413 or 500; 0 while fine */
    char message[SD_ERROR_MESSAGE_MAX];
};

int web_upload_move(struct web_upload *upload, const char *dest, struct sd_error *err)
{
    if (rename(upload->path, dest) != 0)
        return sd_error_set(err, SD_ERROR, "The upload could not be moved into place: %s.",
                            strerror(errno));
    upload->taken = true;
    return 0;
}

void web_upload_keep(struct web_upload *upload)
{
    upload->taken = true;
}

/* U+202A..U+202E and U+2066..U+2069 reorder the text around them (a name can then show
 * "exe.xlsx" for "xlsx.exe"); U+200E/U+200F and U+061C mark direction. */
static bool is_bidi_control(unsigned long cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
           cp == 0x200F || cp == 0x061C;
}

static unsigned long decode_cp(const unsigned char *p, size_t n)
{
    if (n == 1)
        return p[0];
    unsigned long cp = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

char *web_upload_sanitize_filename(const char *name)
{
    const char *base = name ? name : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    struct buf out = BUF_INIT;
    size_t len = strlen(base);
    size_t i = 0;
    while (i < len) {
        size_t n = str_utf8_sequence_length(base + i, len - i);
        const char *piece = base + i;
        size_t piece_len = n;
        if (n == 0) { /* an invalid byte: shown as U+FFFD */
            piece = "\xEF\xBF\xBD";
            piece_len = 3;
            n = 1;
        } else {
            unsigned long cp = decode_cp((const unsigned char *)base + i, n);
            if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || is_bidi_control(cp))
                piece_len = 0;
        }
        i += n;
        if (out.len + piece_len > WEB_UPLOAD_MAX_FILENAME)
            break;
        if (piece_len && buf_append(&out, piece, piece_len) != 0) {
            buf_free(&out);
            return NULL;
        }
    }
    if (out.len == 0 && buf_puts(&out, "upload") != 0) {
        buf_free(&out);
        return NULL;
    }
    char *text = buf_detach(&out);
    return text;
}

void web_upload_too_large_message(char *out, size_t size, uint64_t max_body_bytes)
{
    uint64_t mb = max_body_bytes / (1024 * 1024);
    if (mb > 0)
        snprintf(out, size, "The file is larger than this server accepts (%llu MB at most).",
                 (unsigned long long)mb);
    else
        snprintf(out, size, "The file is larger than this server accepts (%llu bytes at most).",
                 (unsigned long long)max_body_bytes);
}

bool web_multipart_is_multipart(const char *type)
{
    const char *mp = "multipart/form-data";
    size_t n = strlen(mp);
    return type && !strncasecmp(type, mp, n) &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* Remembers the first failure; later ones are consequences of it. */
static void fail(struct web_multipart *mp, int status, const char *message)
{
    if (mp->status)
        return;
    mp->status = status;
    snprintf(mp->message, sizeof mp->message, "%s", message);
}

static void close_and_remove(struct web_multipart *mp)
{
    if (mp->fd >= 0) {
        close(mp->fd);
        mp->fd = -1;
    }
    if (mp->have_upload && !mp->upload.taken && mp->upload.path)
        unlink(mp->upload.path);
    mp->have_upload = false;
}

/* Creates the temporary file under a fresh random name; nothing of the client's name is
 * used, so no name can point outside the directory or collide with another upload. */
static int open_temp_file(struct web_multipart *mp)
{
    struct sd_error err = SD_ERROR_INIT;
    for (int attempt = 0; attempt < 4; attempt++) {
        char id[JOB_ID_LEN + 1];
        if (job_id_generate(id, &err) != 0)
            return -1;
        struct buf path = BUF_INIT;
        if (buf_printf(&path, "%s/upload-%s.part", mp->dir, id) != 0) {
            buf_free(&path);
            return -1;
        }
        int fd = open(buf_cstr(&path), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            free(mp->upload.path);
            mp->upload.path = buf_detach(&path);
            mp->fd = fd;
            mp->have_upload = true;
            return 0;
        }
        buf_free(&path);
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static void begin_file(struct web_multipart *mp, const char *filename, const char *content_type)
{
    if (mp->upload.path) {
        fail(mp, 400, "The form holds more than one file; send one file at a time.");
        return;
    }
    if (!mp->dir) {
        fail(mp, 500, "Uploads are not configured on this server.");
        return;
    }
    mp->upload.filename = web_upload_sanitize_filename(filename);
    mp->upload.content_type =
        str_dup(content_type && *content_type ? content_type : "application/octet-stream");
    if (!mp->upload.filename || !mp->upload.content_type) {
        fail(mp, 500, "The server ran out of memory; try again.");
        return;
    }
    for (char *p = mp->upload.content_type; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
            *p = '?';
    if (open_temp_file(mp) != 0) {
        char message[300];
        snprintf(message, sizeof message, "The upload could not be saved: %s.", strerror(errno));
        fail(mp, 500, message);
        return;
    }
    mp->part = PART_FILE;
}

static void write_file(struct web_multipart *mp, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t n = write(mp->fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            char message[300];
            snprintf(message, sizeof message, "The upload could not be saved: %s.",
                     n < 0 ? strerror(errno) : "the disk accepted nothing");
            fail(mp, 500, message);
            close_and_remove(mp);
            return;
        }
        data += n;
        size -= (size_t)n;
        mp->upload.size += (uint64_t)n;
    }
}

static void begin_field(struct web_multipart *mp, const char *key)
{
    if (mp->nfields == WEB_UPLOAD_MAX_FIELDS) {
        fail(mp, 413, "The form has too many fields.");
        return;
    }
    if (strlen(key) > MAX_NAME_BYTES) {
        fail(mp, 413, "The form has a field name that is too long.");
        return;
    }
    struct web_form_field *grown = realloc(mp->fields, (mp->nfields + 1) * sizeof *grown);
    if (!grown) {
        fail(mp, 500, "The server ran out of memory; try again.");
        return;
    }
    mp->fields = grown;
    struct web_form_field *f = &mp->fields[mp->nfields];
    memset(f, 0, sizeof *f);
    f->name = str_dup(key);
    f->value = str_dup("");
    if (!f->name || !f->value) {
        free(f->name);
        free(f->value);
        fail(mp, 500, "The server ran out of memory; try again.");
        return;
    }
    mp->nfields++;
    mp->part = PART_FIELD;
}

static void append_field(struct web_multipart *mp, const char *data, size_t size)
{
    struct web_form_field *f = &mp->fields[mp->nfields - 1];
    if (f->value_len + size > WEB_UPLOAD_MAX_FIELD_BYTES) {
        fail(mp, 413, "A form field is too long; only the file may be large.");
        return;
    }
    char *grown = realloc(f->value, f->value_len + size + 1);
    if (!grown) {
        fail(mp, 500, "The server ran out of memory; try again.");
        return;
    }
    memcpy(grown + f->value_len, data, size);
    f->value_len += size;
    grown[f->value_len] = '\0';
    f->value = grown;
}

/* The post processor calls this for each piece of each part; `off` is 0 for a part's first
 * piece. Returning MHD_NO stops the parsing (the failure is latched in mp). */
static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct web_multipart *mp = cls;
    (void)kind;
    (void)transfer_encoding;
    if (!key)
        key = "";
    if (off == 0) {
        bool continues_empty_field = mp->part == PART_FIELD && !filename && mp->nfields > 0 &&
                                     mp->fields[mp->nfields - 1].value_len == 0 &&
                                     !strcmp(mp->fields[mp->nfields - 1].name, key);
        bool continues_empty_file = mp->part == PART_FILE && filename && mp->upload.size == 0 &&
                                    !strcmp(key, WEB_UPLOAD_FIELD_NAME);
        if (continues_empty_field || continues_empty_file) {
            /* the same part again with its first bytes (0.9.75 may announce a part empty) */
        } else if (filename && !strcmp(key, WEB_UPLOAD_FIELD_NAME)) {
            if (mp->part == PART_FILE && mp->fd >= 0) {
                close(mp->fd);
                mp->fd = -1;
            }
            begin_file(mp, filename, content_type);
        } else if (filename) {
            if (mp->part == PART_FILE && mp->fd >= 0) {
                close(mp->fd);
                mp->fd = -1;
            }
            mp->part = PART_SKIP;
        } else {
            if (mp->part == PART_FILE && mp->fd >= 0) {
                close(mp->fd);
                mp->fd = -1;
            }
            begin_field(mp, key);
        }
    }
    if (mp->status)
        return MHD_NO;
    if (size == 0)
        return MHD_YES;
    if (mp->part == PART_FILE && mp->fd >= 0)
        write_file(mp, data, size);
    else if (mp->part == PART_FIELD)
        append_field(mp, data, size);
    return mp->status ? MHD_NO : MHD_YES;
}

struct web_multipart *web_multipart_new(struct MHD_Connection *connection,
                                        const struct web_multipart_options *opts, int *status,
                                        struct sd_error *err)
{
    struct web_multipart *mp = calloc(1, sizeof *mp);
    if (!mp) {
        *status = 500;
        sd_error_nomem(err);
        return NULL;
    }
    mp->fd = -1;
    mp->dir = opts->dir;
    mp->max_body_bytes = opts->max_body_bytes;
    mp->pp = MHD_create_post_processor(connection, POST_BUFFER_SIZE, on_part, mp);
    if (!mp->pp) {
        free(mp);
        *status = 400;
        sd_error_set(err, SD_EINVALID,
                     "The upload's Content-Type names no usable multipart boundary; send it "
                     "again from the form.");
        return NULL;
    }
    return mp;
}

void web_multipart_feed(struct web_multipart *mp, const char *data, size_t len)
{
    mp->received += len;
    if (mp->received > mp->max_body_bytes) {
        char message[200];
        web_upload_too_large_message(message, sizeof message, mp->max_body_bytes);
        fail(mp, 413, message);
    }
    if (mp->status) {
        close_and_remove(mp);
        return; /* drained: neither parsed nor written */
    }
    if (MHD_post_process(mp->pp, data, len) != MHD_YES) {
        fail(mp, 400, "The upload is malformed; send it again from the form.");
        close_and_remove(mp);
    }
}

int web_multipart_finish(struct web_multipart *mp, int *status, struct sd_error *err)
{
    if (mp->pp) {
        if (MHD_destroy_post_processor(mp->pp) != MHD_YES)
            fail(mp, 400, "The upload ended before its last part was complete; send it again.");
        mp->pp = NULL;
    }
    if (mp->fd >= 0) {
        if (close(mp->fd) != 0)
            fail(mp, 500, "The upload could not be saved: the file could not be closed.");
        mp->fd = -1;
    }
    for (size_t i = 0; !mp->status && i < mp->nfields; i++) {
        const struct web_form_field *f = &mp->fields[i];
        if (memchr(f->value, '\0', f->value_len) || !str_utf8_valid(f->value, f->value_len) ||
            !str_utf8_valid(f->name, strlen(f->name)))
            fail(mp, 400,
                 "The form data is malformed (a NUL byte or text that is not UTF-8); send it "
                 "again from the form.");
    }
    if (!mp->status)
        return 0;
    close_and_remove(mp);
    *status = mp->status;
    return sd_error_set(err, mp->status == 500 ? SD_ERROR : SD_EINVALID, "%s", mp->message);
}

struct web_upload *web_multipart_upload(struct web_multipart *mp)
{
    return mp->have_upload ? &mp->upload : NULL;
}

void web_multipart_take_fields(struct web_multipart *mp, struct web_form_field **fields,
                               size_t *count)
{
    *fields = mp->fields;
    *count = mp->nfields;
    mp->fields = NULL;
    mp->nfields = 0;
}

void web_multipart_discard(struct web_multipart *mp)
{
    if (mp)
        close_and_remove(mp);
}

void web_multipart_free(struct web_multipart *mp)
{
    if (!mp)
        return;
    if (mp->pp)
        MHD_destroy_post_processor(mp->pp);
    close_and_remove(mp);
    for (size_t i = 0; i < mp->nfields; i++) {
        free(mp->fields[i].name);
        free(mp->fields[i].value);
    }
    free(mp->fields);
    free(mp->upload.path);
    free(mp->upload.filename);
    free(mp->upload.content_type);
    free(mp);
}
