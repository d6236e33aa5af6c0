/*
 * DESIGN
 * ------
 * Streaming multipart/form-data uploads. A route marked `.upload = true` in the route table
 * gets its body parsed by libmicrohttpd's MHD_PostProcessor while it arrives; the body is
 * never held whole in memory:
 *
 *   the file part   the part named `file` that carries a filename is written, chunk by
 *                   chunk, to a new file in the server's upload directory, opened
 *                   O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600 under a random name
 *                   ("upload-<32 hex>.part"); nothing the client sent is used in the path
 *   text fields     every other part without a filename (authenticity_token, …) is
 *                   collected into the request's form fields, at most WEB_UPLOAD_MAX_FIELDS
 *                   fields of at most WEB_UPLOAD_MAX_FIELD_BYTES each, and checked like
 *                   urlencoded fields (UTF-8, no NUL), so csrf_verify works unchanged
 *   other files     parts with a filename under another name are read and dropped
 *
 * Every byte of the body counts against max_body_bytes: a declared Content-Length over it is
 * refused before anything is read, a chunked body that grows past it is drained without
 * being written and answered 413. A malformed body (a broken boundary, a truncated last
 * part, a second `file` part) is 400. In every failing case the partial file is deleted at
 * once; in every other case it is deleted once the handler has answered (and, at the latest,
 * when the request's state is freed: the completion callback, also when the client vanished
 * mid-upload) unless the handler took it with web_upload_move or web_upload_keep. No temporary file
 * outlives its request.
 */
#ifndef SHEETD_WEB_UPLOAD_H
#define SHEETD_WEB_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WEB_UPLOAD_FIELD_NAME "file"
#define WEB_UPLOAD_MAX_FIELDS 32
#define WEB_UPLOAD_MAX_FIELD_BYTES 4096
#define WEB_UPLOAD_MAX_FILENAME 255 /* bytes of the sanitized name */

struct MHD_Connection;
struct web_form_field;

/* The uploaded file as a handler sees it (req->upload; NULL when the form had no file). */
struct web_upload {
    char *path;         /* the temporary file (0600, random name, in the upload directory) */
    char *filename;     /* the client's name, sanitized: no directory part, no control or
                           bidi characters, valid UTF-8; for display only, never a path */
    char *content_type; /* as the client declared it, or "application/octet-stream" */
    uint64_t size;      /* bytes written */
    bool taken;         /* the handler moved or kept the file: it is not deleted */
};

/* Moves the file to `dest` (rename(2): same file system, e.g. <data_dir>/uploads/<job>.xlsx)
 * and marks it taken. SD_ERROR with a sentence when the rename fails (the file stays where
 * it was and is still deleted at the end of the request). */
int web_upload_move(struct web_upload *upload, const char *dest, struct sd_error *err);

/* Marks the file taken without moving it: the handler now owns upload->path. */
void web_upload_keep(struct web_upload *upload);

/* The 413 sentence for a body over `max_body_bytes` ("… (100 MB at most)."). */
void web_upload_too_large_message(char *out, size_t size, uint64_t max_body_bytes);

/* Sanitizes a client's filename for display: the part after the last '/' or '\\', invalid
 * UTF-8 replaced by U+FFFD, control and bidi-override characters dropped, cut to
 * WEB_UPLOAD_MAX_FILENAME bytes on a character boundary; "upload" when nothing is left.
 * Returns a malloc'd string or NULL when out of memory. */
char *web_upload_sanitize_filename(const char *name);

/* ---- the streaming parser, used by the server (and the fuzz target) ---- */

struct web_multipart_options {
    unsigned version;
    const char *dir;         /* where the temporary file is created; must exist */
    uint64_t max_body_bytes; /* the whole body */
};

#define WEB_MULTIPART_OPTIONS_VERSION 1
#define WEB_MULTIPART_OPTIONS_INIT                                                                 \
    {                                                                                              \
        WEB_MULTIPART_OPTIONS_VERSION, NULL, 100u * 1024 * 1024                                    \
    }

struct web_multipart;

/* True when a Content-Type value is multipart/form-data (the boundary is checked later). */
bool web_multipart_is_multipart(const char *content_type);

/* Starts parsing the body of `connection` (its Content-Type must be multipart/form-data
 * with a boundary). NULL with *status (400, 415 or 500) and a sentence in err when it
 * cannot. Free with web_multipart_free. */
struct web_multipart *web_multipart_new(struct MHD_Connection *connection,
                                        const struct web_multipart_options *opts, int *status,
                                        struct sd_error *err);

/* Feeds the next chunk of the body. Errors are latched and reported by web_multipart_finish;
 * after one, the rest of the body is drained without being parsed or written. */
void web_multipart_feed(struct web_multipart *mp, const char *data, size_t len);

/* Ends the body: 0 when it was complete and well-formed, else *status (400, 413 or 500) and
 * a sentence in err, and the partial file is already deleted. */
int web_multipart_finish(struct web_multipart *mp, int *status, struct sd_error *err);

/* After a successful finish: the file (NULL when the form had none; borrowed, lives until
 * web_multipart_free) and the text fields (moved to the caller, who frees each name and
 * value and the array). */
struct web_upload *web_multipart_upload(struct web_multipart *mp);
void web_multipart_take_fields(struct web_multipart *mp, struct web_form_field **fields,
                               size_t *count);

/* Frees the parser; deletes the file unless it was taken. */
void web_multipart_free(struct web_multipart *mp);

#endif
