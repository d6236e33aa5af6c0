/*
 * The blank template workbook people fill in: the template's headers only, with a dropdown
 * for each enum and boolean column, date and number-range validation, and each column's
 * rules as the input message (blank_template.c says which rules Excel can enforce).
 */
#ifndef SHEETD_IMPORT_BLANK_TEMPLATE_H
#define SHEETD_IMPORT_BLANK_TEMPLATE_H

#include "base/error.h"
#include "import/template.h"

/* Writes the blank workbook for `tmpl` to out_path; needs no database. 0 or a negative SD_E*
 * code with err filled. */
int blank_template_write(const struct import_template *tmpl, const char *out_path,
                         struct sd_error *err);

#endif
