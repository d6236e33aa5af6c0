/*
 * DESIGN
 * ------
 * libzip does the zip work; this file decides how much of it a hostile file may make us do.
 * Everything that can be lied about in a zip header (uncompressed sizes, entry counts) is
 * either checked against what the file really holds or not used at all: the inflated byte
 * counts are incremented by what zip_fread actually returned, and the compression ratio is
 * computed on those counts over the entry's compressed size, itself capped by the size of
 * the file on disk (libzip reads the compressed bytes from a window of that length, so a
 * claim larger than the file cannot buy a larger ratio).
 *
 * Nothing here writes to the file system: entries are read into memory only, and their names
 * are compared with zip_guard_names_equal, never joined onto a directory.
 */
#include "sheet/zip_guard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

struct zip_guard {
    zip_t *za;
    const struct sheet_limits *limits;
    const char *display_name;
    uint64_t nentries;
    uint64_t file_size;
    uint64_t total_inflated;
};

struct zip_guard_entry {
    struct zip_guard *zg;
    zip_file_t *zf;
    const char *name;
    uint64_t compressed;
    uint64_t inflated;
};

/* A sentence for libzip's error codes that tells a person what is wrong with the file. */
static const char *zip_problem(int code)
{
    switch (code) {
    case ZIP_ER_NOZIP:
        return "it is not a zip archive, or its end is missing (truncated)";
    case ZIP_ER_INCONS:
        return "the archive is inconsistent (damaged or truncated)";
    case ZIP_ER_CRC:
        return "a part of the archive fails its checksum (damaged)";
    case ZIP_ER_EOF:
        return "the archive ends early (truncated)";
    case ZIP_ER_MULTIDISK:
        return "it is a multi-disk (split) archive";
    case ZIP_ER_COMPNOTSUPP:
        return "a part uses an unsupported compression method";
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_WRONGPASSWD:
        return "it is password-protected; save it without a password and try again";
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
        return "a part's compressed data is damaged";
    case ZIP_ER_MEMORY:
        return "out of memory";
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
        return "the file could not be read";
    default:
        return "the archive is damaged";
    }
}

int zip_guard_open(struct zip_guard **out, const char *path, const struct sheet_limits *limits,
                   const char *display_name, struct sd_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return sd_error_set(err, SD_ERROR, "%s cannot be read: %s", display_name, strerror(errno));
    struct zip_guard *zg = calloc(1, sizeof *zg);
    if (!zg)
        return sd_error_nomem(err);
    int zerr = 0;
    zg->za = zip_open(path, ZIP_RDONLY, &zerr);
    if (!zg->za) {
        free(zg);
        if (zerr == ZIP_ER_MEMORY)
            return sd_error_nomem(err);
        return sd_error_set(err, SD_EINVALID, "%s cannot be opened: %s", display_name,
                            zip_problem(zerr));
    }
    zg->limits = limits;
    zg->display_name = display_name;
    zg->file_size = (uint64_t)st.st_size;
    zip_int64_t n = zip_get_num_entries(zg->za, 0);
    zg->nentries = n > 0 ? (uint64_t)n : 0;
    if (zg->nentries > limits->max_zip_entries) {
        int rc = sd_error_set(err, SD_ELIMIT,
                              "%s holds %llu zip entries, more than the limit of %u", display_name,
                              (unsigned long long)zg->nentries, (unsigned)limits->max_zip_entries);
        zip_guard_close(zg);
        return rc;
    }
    *out = zg;
    return 0;
}

void zip_guard_close(struct zip_guard *zg)
{
    if (!zg)
        return;
    if (zg->za)
        zip_discard(zg->za);
    free(zg);
}

uint64_t zip_guard_entry_count(const struct zip_guard *zg)
{
    return zg->nentries;
}

const char *zip_guard_display_name(const struct zip_guard *zg)
{
    return zg->display_name;
}

const struct sheet_limits *zip_guard_limits(const struct zip_guard *zg)
{
    return zg->limits;
}

const char *zip_guard_entry_name(struct zip_guard *zg, uint64_t index)
{
    if (index >= zg->nentries)
        return NULL;
    return zip_get_name(zg->za, index, ZIP_FL_ENC_RAW);
}

static char fold_char(char c)
{
    if (c == '\\')
        return '/';
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

bool zip_guard_names_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    while (alen && (*a == '/' || *a == '\\')) {
        a++;
        alen--;
    }
    while (blen && (*b == '/' || *b == '\\')) {
        b++;
        blen--;
    }
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (fold_char(a[i]) != fold_char(b[i]))
            return false;
    return true;
}

bool zip_guard_find(struct zip_guard *zg, const char *name, uint64_t *index)
{
    size_t len = strlen(name);
    for (uint64_t i = 0; i < zg->nentries; i++) {
        const char *entry = zip_get_name(zg->za, i, ZIP_FL_ENC_RAW);
        if (entry && zip_guard_names_equal(entry, strlen(entry), name, len)) {
            *index = i;
            return true;
        }
    }
    return false;
}

int zip_guard_entry_open(struct zip_guard_entry **out, struct zip_guard *zg, uint64_t index,
                         struct sd_error *err)
{
    *out = NULL;
    zip_stat_t st;
    zip_stat_init(&st);
    if (index >= zg->nentries || zip_stat_index(zg->za, index, ZIP_FL_ENC_RAW, &st) != 0)
        return sd_error_set(err, SD_EINVALID, "%s: a zip entry cannot be read: %s",
                            zg->display_name,
                            zip_problem(zip_error_code_zip(zip_get_error(zg->za))));
    const char *name = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "(unnamed)";
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        return sd_error_set(err, SD_EINVALID, "%s cannot be read: %s", zg->display_name,
                            zip_problem(ZIP_ER_NOPASSWD));
    struct zip_guard_entry *e = calloc(1, sizeof *e);
    if (!e)
        return sd_error_nomem(err);
    e->zf = zip_fopen_index(zg->za, index, 0);
    if (!e->zf) {
        int code = zip_error_code_zip(zip_get_error(zg->za));
        free(e);
        if (code == ZIP_ER_MEMORY)
            return sd_error_nomem(err);
        return sd_error_set(err, SD_EINVALID, "%s: %s cannot be read: %s", zg->display_name, name,
                            zip_problem(code));
    }
    e->zg = zg;
    e->name = name;
    uint64_t comp = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : zg->file_size;
    e->compressed = comp < zg->file_size ? comp : zg->file_size;
    if (e->compressed == 0)
        e->compressed = 1;
    *out = e;
    return 0;
}

const char *zip_guard_entry_path(const struct zip_guard_entry *e)
{
    return e->name;
}

ssize_t zip_guard_entry_read(struct zip_guard_entry *e, void *data, size_t len,
                             struct sd_error *err)
{
    struct zip_guard *zg = e->zg;
    const struct sheet_limits *lim = zg->limits;
    /* Never ask for more than the limits leave, plus one byte to notice going over. */
    uint64_t room =
        lim->max_entry_uncompressed -
        (e->inflated < lim->max_entry_uncompressed ? e->inflated : lim->max_entry_uncompressed);
    uint64_t total_room =
        lim->max_total_uncompressed - (zg->total_inflated < lim->max_total_uncompressed
                                           ? zg->total_inflated
                                           : lim->max_total_uncompressed);
    if (total_room < room)
        room = total_room;
    if (room < (uint64_t)len)
        len = (size_t)(room + 1);
    zip_int64_t n = zip_fread(e->zf, data, len);
    if (n < 0) {
        int code = zip_error_code_zip(zip_file_get_error(e->zf));
        if (code == ZIP_ER_MEMORY)
            return sd_error_nomem(err);
        return sd_error_set(err, SD_EINVALID, "%s: %s cannot be read: %s", zg->display_name,
                            e->name, zip_problem(code));
    }
    e->inflated += (uint64_t)n;
    zg->total_inflated += (uint64_t)n;
    if (e->inflated > lim->max_entry_uncompressed)
        return sd_error_set(
            err, SD_ELIMIT, "%s: %s inflates to more than the limit of %llu bytes per zip entry",
            zg->display_name, e->name, (unsigned long long)lim->max_entry_uncompressed);
    if (zg->total_inflated > lim->max_total_uncompressed)
        return sd_error_set(err, SD_ELIMIT,
                            "%s inflates to more than the limit of %llu bytes in total",
                            zg->display_name, (unsigned long long)lim->max_total_uncompressed);
    /* inflated > ratio * compressed, written so that it cannot overflow */
    if (e->inflated > ZIP_GUARD_RATIO_FLOOR &&
        (e->inflated - 1) / e->compressed >= lim->max_compression_ratio)
        return sd_error_set(err, SD_ELIMIT,
                            "%s: %s is compressed more than %u to 1, the limit (a zip bomb?)",
                            zg->display_name, e->name, (unsigned)lim->max_compression_ratio);
    return (ssize_t)n;
}

void zip_guard_entry_close(struct zip_guard_entry *e)
{
    if (!e)
        return;
    if (e->zf)
        zip_fclose(e->zf);
    free(e);
}

int zip_guard_read_all(struct zip_guard *zg, uint64_t index, size_t max, struct buf *out,
                       struct sd_error *err)
{
    struct zip_guard_entry *e;
    int rc = zip_guard_entry_open(&e, zg, index, err);
    if (rc < 0)
        return rc;
    char chunk[4096];
    for (;;) {
        ssize_t n = zip_guard_entry_read(e, chunk, sizeof chunk, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > max) {
            rc = sd_error_set(err, SD_ELIMIT, "%s: %s is larger than the %zu bytes expected",
                              zg->display_name, e->name, max);
            break;
        }
        if (buf_append(out, chunk, (size_t)n) < 0) {
            rc = sd_error_nomem(err);
            break;
        }
    }
    zip_guard_entry_close(e);
    return rc;
}
