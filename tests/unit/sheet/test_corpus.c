/*
 * The shared corpus (../shared/corpus): 120 real workbooks that once broke some reader.
 *
 *  1. Every file, whatever its format, either opens and reads to the end of every sheet, or
 *     is refused with a sentence that names it. Files whose backend is not in this build
 *     are reported (and counted) rather than failed.
 *  2. For each file with an expected reading (calamine-expected/FILE.cells, made with
 *     openpyxl and xlrd), the `cells` dump of the default sheet equals it, except for the
 *     deliberate differences in the table below, each with its reason. The table is
 *     applied to the expected text, so a difference that is not listed fails, and so does
 *     a listed one that no longer happens.
 *
 * Skipped with a message when ../shared is absent.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "test_support.h"
#include "xlsx_fixture.h"

struct difference {
    const char *file;
    const char *theirs; /* the expected line (without "\n"), or NULL when they have none */
    const char *ours;   /* our line, or NULL when we have none */
    const char *reason;
};

/* Where sheetd deliberately reads a cell differently from openpyxl/xlrd: the expected line
 * `theirs` is replaced by `ours` (NULL: sheetd has no such cell) before comparing. */
static const struct difference differences[] = {
    {"date.xlsx", "A3\ts\t10 days, 15:10:10", "A3\td\t1900-01-10T15:10:10",
     "[h]:mm:ss elapsed time of 10.63 days: openpyxl makes a Python timedelta and prints "
     "it; sheetd's cell types have no duration, and a time of day would drop the 10 days, "
     "so it is the serial's date-time (as xlrd reads date.xls)"},
    {"date_1904.xlsx", "A3\ts\t10 days, 15:10:10", "A3\td\t1904-01-11T15:10:10",
     "the same elapsed time in the 1904 date system"},
    {"whitespace_trim.xlsx", "A1\ts\t  trimmed value  ", "A1\ts\ttrimmed value",
     "<t> without xml:space=\"preserve\": Excel trims leading and trailing white space; "
     "openpyxl keeps it"},
    {"whitespace_trim.xlsx", "B1\ts\t\\t\\n value with tabs \\n", "B1\ts\tvalue with tabs",
     "the same rule (tabs and line feeds are XML white space)"},
    {"whitespace_trim.xlsx", "A2\ts\t  line1\\nline2  ", "A2\ts\tline1\\nline2",
     "the same rule; the inner line feed stays"},
    {"encoded_entities.xlsx", "A2\ts\t\\n", NULL,
     "<t>&#xA;</t> without xml:space=\"preserve\" is white space only: Excel trims it to an "
     "empty cell"},
};

/* Expected files that hold no reading at all. */
static const struct difference whole_file[] = {
    {"OOM_alloc2.xls", NULL, NULL,
     "the expected file holds xlrd's warnings about the damaged OLE2 container, not cells"},
};

static bool is_whole_file_exception(const char *file)
{
    for (size_t i = 0; i < sizeof whole_file / sizeof whole_file[0]; i++)
        if (!strcmp(whole_file[i].file, file))
            return true;
    return false;
}

/* Sorted names of the regular files in dir (caller frees each and the array). */
static char **list_dir(const char *path, size_t *n)
{
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot open %s", path);
    char **names = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (*n + 1) * sizeof *names);
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < *n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    return names;
}

Test(corpus, every_file_opens_or_is_refused_clearly, .timeout = 600)
{
    const char *shared = test_shared_dir();
    if (!shared)
        cr_skip_test("../shared is absent: the corpus test needs ../shared/corpus/calamine");
    char *dir = test_path(shared, "corpus/calamine");
    size_t n;
    char **names = list_dir(dir, &n);
    cr_assert_gt(n, 100, "the corpus should hold about 120 files");
    struct buf failures = BUF_INIT;
    size_t opened = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = test_path(dir, names[i]);
        struct sheet_book *book = NULL;
        struct sd_error err = SD_ERROR_INIT;
        int rc = sheet_open(&book, path, NULL, &err);
        if (rc == 0) {
            for (size_t s = 0; s < sheet_count(book) && rc == 0; s++) {
                rc = sheet_select_index(book, s, &err);
                const struct sheet_row *row;
                while (rc == 0 && (rc = sheet_next_row(book, &row, &err)) == 1)
                    rc = 0; /* every row of every sheet, to the end */
            }
            sheet_close(book);
        }
        if (rc == 0 || rc == 1) {
            opened++;
        } else {
            refused++;
            cr_log_info("corpus: %s refused: %s", names[i], err.message);
            if (!strstr(err.message, names[i]) || strlen(err.message) < strlen(names[i]) + 10)
                buf_printf(&failures, "%s: unclear error \"%s\"\n", names[i], err.message);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    free(dir);
    cr_log_info("corpus: %zu read, %zu refused with a sentence", opened, refused);
    cr_assert_eq(failures.len, 0, "%s", buf_cstr(&failures));
    buf_free(&failures);
}

/* Applies the difference table to one expected text. */
static char *apply_differences(const char *file, const char *expected)
{
    struct buf out = BUF_INIT;
    buf_puts(&out, expected);
    for (size_t i = 0; i < sizeof differences / sizeof differences[0]; i++) {
        const struct difference *d = &differences[i];
        if (strcmp(d->file, file) != 0)
            continue;
        struct buf line = BUF_INIT;
        buf_printf(&line, "%s\n", d->theirs);
        char *at = strstr(out.data, buf_cstr(&line));
        cr_assert_not_null(at, "%s: the table's expected line \"%s\" is not in the file", file,
                           d->theirs);
        struct buf next = BUF_INIT;
        buf_append(&next, out.data, (size_t)(at - out.data));
        if (d->ours)
            buf_printf(&next, "%s\n", d->ours);
        buf_puts(&next, at + line.len);
        buf_free(&out);
        out = next;
        buf_free(&line);
    }
    return buf_detach(&out);
}

Test(corpus, cells_match_expected_readings, .timeout = 600)
{
    const char *shared = test_shared_dir();
    if (!shared)
        cr_skip_test("../shared is absent: the corpus test needs ../shared/corpus");
    char *dir = test_path(shared, "corpus/calamine");
    char *exp_dir = test_path(shared, "corpus/calamine-expected");
    size_t n;
    char **names = list_dir(exp_dir, &n);
    struct buf failures = BUF_INIT;
    size_t matched = 0, excepted = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len < 7 || strcmp(names[i] + len - 6, ".cells") != 0) {
            free(names[i]);
            continue;
        }
        char *file = strndup(names[i], len - 6);
        char *path = test_path(dir, file);
        char *exp_path = test_path(exp_dir, names[i]);
        if (is_whole_file_exception(file)) {
            excepted++;
            goto next;
        }
        size_t exp_len;
        char *expected = test_read_file(exp_path, &exp_len);
        cr_assert_not_null(expected);
        struct sd_error err = SD_ERROR_INIT;
        int rc;
        char *got = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
        if (rc < 0) {
            buf_printf(&failures, "%s: %s\n", file, err.message);
        } else {
            char *want = apply_differences(file, expected);
            if (strcmp(want, got) != 0)
                buf_printf(&failures, "%s: the cells differ from the expected reading\n", file);
            else
                matched++;
            free(want);
        }
        free(got);
        free(expected);
    next:
        free(exp_path);
        free(path);
        free(file);
        free(names[i]);
    }
    free(names);
    free(dir);
    free(exp_dir);
    cr_log_info("corpus: %zu expected readings matched, %zu expected files hold no reading",
                matched, excepted);
    cr_assert_eq(failures.len, 0, "%s", buf_cstr(&failures));
    buf_free(&failures);
}
