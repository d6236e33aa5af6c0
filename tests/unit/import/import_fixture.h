/* Shared set-up for the import and export service tests: a migrated store in a temporary
 * directory, templates created from JSON, and spreadsheet files built on the spot (CSV text,
 * a minimal hand-made XLSX with an optional 1904 date system, a minimal ODS). */
#ifndef SHEETD_TEST_IMPORT_FIXTURE_H
#define SHEETD_TEST_IMPORT_FIXTURE_H

#include <stdbool.h>

#include "import/import_service.h"
#include "import/template.h"
#include "import/template_catalog.h"
#include "store/db.h"

extern char *fx_dir;
extern struct db *fx_db;

void fx_setup(void);
void fx_teardown(void);

/* The "people" test template on `table` in `mode` ("partial" or "all_or_nothing"). */
struct import_template *fx_people(const char *table, const char *mode);
struct import_template *fx_template_json(const char *json);

/* A file in fx_dir; the caller frees the path. */
char *fx_file(const char *name, const char *content);
/* An XLSX with one sheet. `rows` is the <sheetData> body; cells use inline strings
 * (t="inlineStr") and style 1 is a date format (numFmtId 14). */
char *fx_xlsx(const char *name, bool date1904, const char *rows);
/* An ODS with one table whose <table:table-row> elements are `rows`. */
char *fx_ods(const char *name, const char *rows);

/* The whole of one member of a zip file (an XLSX part), NUL-terminated; the caller frees. Fails
 * the test when the file is not a zip or has no such member. */
char *fx_zip_entry(const char *path, const char *name);

/* Every row of a query as "a|b|c\n" lines (NULL as "-"); the caller frees. */
char *fx_dump(const char *sql);
long fx_count(const char *table);
/* Fails the test unless fx_dump(sql) is exactly `want`. */
void fx_expect_dump(const char *sql, const char *want);

/* Runs an import and asserts it returned 0. */
struct import_result *fx_import(const struct import_template *tmpl, const char *path,
                                const struct import_options *opts);
/* The result's errors as "Row N, ...\n" sentences; the caller frees. */
char *fx_errors(const struct import_result *res);
/* Fails the test unless fx_errors(res) is exactly `want`. */
void fx_expect_errors(const struct import_result *res, const char *want);

#endif
