/* The CLI suites' starting point: a configuration on test_suite_tmpdir(), and a migrated
 * store there holding one template. */
#ifndef SHEETD_TEST_CLI_FIXTURE_H
#define SHEETD_TEST_CLI_FIXTURE_H

#include "cli/cli.h"

/* The configuration every CLI suite starts from: the data directory test_suite_tmpdir(), a
 * loopback address on a free port, `workers` worker threads, 1 MB uploads, no log. */
struct cli_config cli_fixture_config(int workers);

/* Creates the store and saves the template `json` in it; asserts on any failure. */
void cli_fixture_store_with_template(const char *json);

#endif
