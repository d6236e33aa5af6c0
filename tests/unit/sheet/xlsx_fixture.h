/*
 * Builds small XLSX packages for the reader's tests with libzip, part by part, so that each
 * rule and each limit has a fixture made for it, and dumps a sheet in the `cells` layout.
 *
 *     struct xlsx_part parts[] = {{"[Content_Types].xml", CT}, {"xl/workbook.xml", WB}, ...,
 *                                 {NULL, NULL}};
 *     xlsx_fixture_write(path, parts, true);
 *
 * xlsx_fixture_minimal writes a complete one-sheet package around a sheetData body (and
 * optional shared strings and styles).
 */
#ifndef SHEETD_TEST_XLSX_FIXTURE_H
#define SHEETD_TEST_XLSX_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "sheet/sheet.h"

struct xlsx_part {
    const char *name;
    const char *data; /* NUL-terminated */
};

#define XLSX_NS "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define XLSX_REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define XLSX_PKG_REL_NS "http://schemas.openxmlformats.org/package/2006/relationships"

/* Writes the parts into a new zip at path (deflated, or stored when deflate is false). */
bool xlsx_fixture_write(const char *path, const struct xlsx_part *parts, bool deflate);
/* A package with one sheet "Sheet1" whose <worksheet> holds `sheet_body` (e.g.
 * "<sheetData>...</sheetData>"); sst and styles are the whole parts, or NULL for none. */
bool xlsx_fixture_minimal(const char *path, const char *sheet_body, const char *sst,
                          const char *styles);
/* Opens path and returns every row of the selected sheet (`sheet`: a --sheet argument, or
 * NULL for the default) as "REF\tTYPE\tVALUE\n" lines; *rc is 0 or the first error's code,
 * err its sentence. The caller frees the text; NULL when the file did not open. */
char *xlsx_fixture_dump(const char *path, const struct sheet_open_options *opts, const char *sheet,
                        int *rc, struct sd_error *err);

#endif
