#include "test_support.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_source_dir(void)
{
    return SHEETD_SOURCE_DIR;
}

const char *test_shared_dir(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("SHEETD_SHARED_DIR");
    char candidate[PATH_MAX];
    if (env && *env)
        snprintf(candidate, sizeof candidate, "%s", env);
    else
        snprintf(candidate, sizeof candidate, "%s/../shared", SHEETD_SOURCE_DIR);
    if (!realpath(candidate, path))
        return NULL;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

char *test_make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/sheetd-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path)
{
    if (path)
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s/%s", dir, name);
    return out;
}

/* The directory of the running test; see test_suite_tmpdir_setup in the header. */
static char *suite_tmpdir;

void test_suite_tmpdir_setup(void)
{
    suite_tmpdir = test_make_tmpdir();
    cr_assert_not_null(suite_tmpdir);
}

void test_suite_tmpdir_teardown(void)
{
    test_rmtree(suite_tmpdir);
    free(suite_tmpdir);
    suite_tmpdir = NULL;
}

const char *test_suite_tmpdir(void)
{
    return suite_tmpdir;
}

char *test_suite_path(const char *name)
{
    char *p = test_path(suite_tmpdir, name);
    cr_assert_not_null(p);
    return p;
}

int test_cli_call(test_cli_command *command, const struct cli_config *config, int argc, char **argv)
{
    int rc = command(argc, argv, config);
    fflush(stdout);
    fflush(stderr);
    return rc;
}

int test_cli_run(test_cli_command *command, const struct cli_config *config, int argc, ...)
{
    char *argv[8];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 8; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return test_cli_call(command, config, argc, argv);
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

bool test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}
