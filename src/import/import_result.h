/*
 * Building an import_result (the public struct is in import_service.h): the service adds
 * errors as it meets them and the result keeps the first IMPORT_RESULT_MAX_ERRORS, counting
 * the rest, so memory does not grow with the number of bad rows.
 */
#ifndef SHEETD_IMPORT_IMPORT_RESULT_H
#define SHEETD_IMPORT_IMPORT_RESULT_H

#include "import/import_service.h"

/* A value longer than this is cut (at a character boundary) in the result's errors. */
#define IMPORT_RESULT_VALUE_MAX 200

/* NULL on allocation failure. */
struct import_result *import_result_new(void);

/* Records one error; keeps a copy when fewer than IMPORT_RESULT_MAX_ERRORS are kept.
 * 0 or SD_ENOMEM. */
int import_result_add_error(struct import_result *res, uint32_t row, const char *column,
                            const char *value, size_t value_len, const char *message);
int import_result_add_ignored(struct import_result *res, const char *header);

/* `Email: "x" is not a valid email address`, or `Email is required` when the value is
 * empty: the sentence without its row, as the error report's Errors cell lists them. */
int import_error_format_cell(struct buf *out, const char *column, const char *value,
                             const char *message);

/* Replaces the message; 0 or SD_ENOMEM. */
int import_result_set_message(struct import_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the message to the summary of the counts ("Imported 99,998 rows; 2 rows failed"). */
int import_result_summarize(struct import_result *res);

#endif
