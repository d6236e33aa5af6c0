/* The files of jobs, in the data directory or the database (job_files.h). */
#include "jobs/job_files.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/job_id.h"
#include "base/log.h"

static const char *const dirs[] = {
    [JOB_FILE_UPLOAD] = "uploads",
    [JOB_FILE_REPORT] = "reports",
    [JOB_FILE_EXPORT] = "exports",
};

const char *job_file_dir(enum job_file_kind kind)
{
    return dirs[kind];
}

int job_file_path(char *out, size_t size, const char *data_dir, enum job_file_kind kind,
                  const char *job_id, const char *ext, struct sd_error *err)
{
    int n = snprintf(out, size, "%s/%s/%s.%s", data_dir, dirs[kind], job_id, ext ? ext : "xlsx");
    if (n < 0 || (size_t)n >= size)
        return sd_error_set(err, SD_ELIMIT, "the data directory's path is too long");
    return 0;
}

int job_files_prepare(const char *data_dir, struct sd_error *err)
{
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir, dirs[i]);
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return sd_error_set(err, SD_ERROR, "could not create %s: %s", path, strerror(errno));
    }
    file_store_clean_fetched(data_dir, NULL);
    return 0;
}

/* Removes the files named "<job_id>.<ext>" in data_dir/dir. */
static void remove_matching(const char *data_dir, const char *dir, const char *job_id)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir, dir);
    DIR *d = opendir(path);
    if (!d)
        return;
    size_t idlen = strlen(job_id);
    struct dirent *e;
    while ((e = readdir(d))) {
        /* "<id>." followed by an extension: the id alone identifies the job's file. */
        if (strncmp(e->d_name, job_id, idlen) != 0 || e->d_name[idlen] != '.')
            continue;
        char file[4096 + 300];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    closedir(d);
}

/* "<dir>/<job_id>.<ext>", the file's name in the store. */
static int store_name(char *out, size_t size, enum job_file_kind kind, const char *job_id,
                      const char *ext, struct sd_error *err)
{
    int n = snprintf(out, size, "%s/%s.%s", dirs[kind], job_id, ext ? ext : "xlsx");
    if (n < 0 || (size_t)n >= size)
        return sd_error_set(err, SD_ELIMIT, "the file's extension is too long");
    return 0;
}

int job_file_store(struct store *store, const char *data_dir, enum job_file_kind kind,
                   const char *job_id, const char *ext, struct sd_error *err)
{
    char name[128];
    int rc = store_name(name, sizeof name, kind, job_id, ext, err);
    return rc ? rc : file_store_put(store, data_dir, name, err);
}

int job_file_fetch(struct file_store_local *out, struct store *store, const char *data_dir,
                   enum job_file_kind kind, const char *job_id, const char *ext,
                   struct sd_error *err)
{
    char name[128];
    out->path[0] = '\0';
    out->temporary = false;
    out->fd = -1;
    int rc = store_name(name, sizeof name, kind, job_id, ext, err);
    return rc ? rc : file_store_fetch(out, store, data_dir, name, err);
}

int job_file_open(int *fd, struct store *store, const char *data_dir, enum job_file_kind kind,
                  const char *job_id, const char *ext, struct sd_error *err)
{
    *fd = -1;
    struct file_store_local local;
    int rc = job_file_fetch(&local, store, data_dir, kind, job_id, ext, err);
    if (rc == 0 && (*fd = open(local.path, O_RDONLY | O_CLOEXEC)) < 0)
        rc = sd_error_set(err, errno == ENOENT ? SD_ENOTFOUND : SD_ERROR,
                          "could not open the file of job %s: %s", job_id, strerror(errno));
    /* An open descriptor keeps a fetched copy readable after its name is gone. */
    file_store_local_done(&local);
    return rc;
}

int job_file_exists(bool *out, struct store *store, const char *data_dir, enum job_file_kind kind,
                    const char *job_id, const char *ext, struct sd_error *err)
{
    char name[128];
    *out = false;
    int rc = store_name(name, sizeof name, kind, job_id, ext, err);
    return rc ? rc : file_store_exists(out, store, data_dir, name, err);
}

/* Removes a job's files of one kind (whatever their extension), here and in the database. */
static void remove_kind(struct store *store, const char *data_dir, enum job_file_kind kind,
                        const char *job_id)
{
    remove_matching(data_dir, dirs[kind], job_id);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/%s.", dirs[kind], job_id);
    struct sd_error err = SD_ERROR_INIT;
    if (file_store_remove_prefix(store, prefix, &err) != 0)
        log_kv(SD_LOG_WARN, "could not remove a job's stored file", "job_id", job_id, "error",
               sd_error_message(&err), NULL);
}

void job_files_remove_upload(struct store *store, const char *data_dir, const char *job_id)
{
    if (job_id_valid(job_id))
        remove_kind(store, data_dir, JOB_FILE_UPLOAD, job_id);
}

void job_files_remove_all(struct store *store, const char *data_dir, const char *job_id)
{
    if (!job_id_valid(job_id))
        return;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        remove_kind(store, data_dir, (enum job_file_kind)i, job_id);
}

int job_files_sweep(struct store *store, const char *data_dir, int64_t before_s, size_t *removed,
                    struct sd_error *err)
{
    *removed = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", data_dir, dirs[i]);
        DIR *d = opendir(path);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char file[4096 + 300];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < before_s &&
                unlink(file) == 0)
                (*removed)++;
        }
        closedir(d);
    }
    size_t stored = 0, abandoned = 0;
    file_store_clean_fetched(data_dir, &abandoned);
    int rc = file_store_sweep(store, before_s * 1000, &stored, err);
    *removed += stored + abandoned;
    return rc;
}

void job_file_extension(char out[8], const char *filename)
{
    const char *dot = filename ? strrchr(filename, '.') : NULL;
    size_t n = 0;
    bool ok = dot && dot[1];
    for (const char *p = dot ? dot + 1 : ""; ok && *p; p++) {
        if (n == 5 || !isalnum((unsigned char)*p)) {
            ok = false;
            break;
        }
        out[n++] = (char)tolower((unsigned char)*p);
    }
    if (!ok || n == 0)
        n = (size_t)snprintf(out, 8, "bin");
    out[n] = '\0';
}

int job_file_copy_upload(struct store *store, const char *data_dir, const char *job_id,
                         const char *ext, const char *source, struct sd_error *err)
{
    char final_path[4096], tmp_path[4200];
    int rc =
        job_file_path(final_path, sizeof final_path, data_dir, JOB_FILE_UPLOAD, job_id, ext, err);
    if (rc)
        return rc;
    snprintf(tmp_path, sizeof tmp_path, "%s/%s/.%s.part", data_dir, dirs[JOB_FILE_UPLOAD], job_id);
    int in = open(source, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sd_error_set(err, SD_EINVALID, "cannot read %s: %s", source, strerror(errno));
    int out = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return sd_error_set(err, SD_ERROR, "cannot write into %s/%s: %s", data_dir,
                            dirs[JOB_FILE_UPLOAD], strerror(errno));
    }
    char buffer[1 << 16];
    ssize_t n;
    while ((n = read(in, buffer, sizeof buffer)) > 0) {
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buffer + done, (size_t)(n - done));
            if (w < 0) {
                rc =
                    sd_error_set(err, errno == ENOSPC ? SD_ENOSPC : SD_ERROR,
                                 "could not copy %s into the uploads: %s", source, strerror(errno));
                goto done;
            }
            done += w;
        }
    }
    if (n < 0)
        rc = sd_error_set(err, SD_ERROR, "could not read %s: %s", source, strerror(errno));
done:
    close(in);
    if (close(out) != 0 && rc == 0)
        rc = sd_error_set(err, SD_ERROR, "could not write the upload: %s", strerror(errno));
    if (rc == 0 && rename(tmp_path, final_path) != 0)
        rc = sd_error_set(err, SD_ERROR, "could not move the upload into place: %s",
                          strerror(errno));
    if (rc)
        unlink(tmp_path);
    if (rc == 0 && (rc = job_file_store(store, data_dir, JOB_FILE_UPLOAD, job_id, ext, err)) != 0)
        unlink(final_path);
    return rc;
}
