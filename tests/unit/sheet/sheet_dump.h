/* Reads a whole sheet into the `cells` text layout, for the reader tests (xls, csv). */
#ifndef SHEETD_TEST_SHEET_DUMP_H
#define SHEETD_TEST_SHEET_DUMP_H

#include "sheet/sheet.h"

/* Opens path, selects `sheet` (a --sheet argument) or the default sheet, and returns every
 * row as "REF\tTYPE\tVALUE\n" lines (caller frees). *rc is 0 when everything was read, else
 * the failing call's code with the sentence in err (the text read so far is returned;
 * NULL when the file did not open). */
char *sheet_dump(const char *path, const struct sheet_open_options *opts, const char *sheet,
                 int *rc, struct sd_error *err);

/* Dumps the sheet as sheet_dump does (no options) and fails the test unless it reads
 * cleanly and matches `expected` exactly. */
void sheet_dump_expect(const char *path, const char *sheet, const char *expected);

#endif
