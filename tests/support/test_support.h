/* Helpers shared by the Criterion suites: temporary directories that are removed at the end,
 * the repository and ../shared paths, whole-file reading. */
#ifndef SHEETD_TEST_SUPPORT_H
#define SHEETD_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* The repository's root (compiled in by meson). */
const char *test_source_dir(void);

/* The absolute path of ../shared beside the repository, or NULL when it is absent (tests
 * that need it call cr_skip with a message). SHEETD_SHARED_DIR overrides. */
const char *test_shared_dir(void);

/* Creates a fresh empty directory under $TMPDIR and returns its path (static storage per
 * call is not used: the caller frees the string). test_rmtree removes it again. */
char *test_make_tmpdir(void);
void test_rmtree(const char *path);

/* Joins two path parts into a malloc'd string. */
char *test_path(const char *dir, const char *name);

/* A fresh temporary directory for every test of a suite, so suites need not each keep their
 * own: pass test_suite_tmpdir_setup and test_suite_tmpdir_teardown as Criterion's .init and
 * .fini (or call them from a suite's own). Criterion runs each test in its own process, so the
 * one directory these keep belongs to the running test alone. test_suite_tmpdir is its path
 * (owned here, valid until the teardown); test_suite_path joins a name to it into a malloc'd
 * string the caller frees, and fails the test when that cannot be allocated. */
void test_suite_tmpdir_setup(void);
void test_suite_tmpdir_teardown(void);
const char *test_suite_tmpdir(void);
char *test_suite_path(const char *name);

/* The CLI suites run `sheetd` commands in-process with stdout and stderr redirected
 * (cr_redirect_stdout). test_cli_call runs `command` on argv and then flushes both streams,
 * so what the command printed is all there when the test compares it; it returns the
 * command's exit code. test_cli_run does the same with the argc (at most 8) strings that
 * follow as argv. The command's type is cli.h's, which this header does not include. */
struct cli_config;
typedef int test_cli_command(int argc, char **argv, const struct cli_config *config);
int test_cli_call(test_cli_command *command, const struct cli_config *config, int argc,
                  char **argv);
int test_cli_run(test_cli_command *command, const struct cli_config *config, int argc, ...);

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *test_read_file(const char *path, size_t *len);
/* Writes bytes to a file; false on failure. */
bool test_write_file(const char *path, const void *data, size_t len);

#endif
