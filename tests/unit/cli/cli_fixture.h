/* The CLI suites' starting point: a migrated store in test_suite_tmpdir() holding one
 * template. */
#ifndef SHEETD_TEST_CLI_FIXTURE_H
#define SHEETD_TEST_CLI_FIXTURE_H

/* Creates the store and saves the template `json` in it; asserts on any failure. */
void cli_fixture_store_with_template(const char *json);

#endif
