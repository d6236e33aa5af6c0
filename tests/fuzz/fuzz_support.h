/* What the spreadsheet fuzz targets share: putting the input in a temporary file (the readers
 * open paths), and reading every sheet of an opened book to its end, formatting each cell, so
 * the whole reader and the cell formatting run on every input. */
#ifndef SHEETD_FUZZ_SUPPORT_H
#define SHEETD_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sheet/sheet.h"
#include "sheet/sheet_backend.h"

/* Creates a temporary file from `path_template` (mkstemp's "XXXXXX" form, rewritten in place)
 * holding data[0..size). False when that fails (the target then skips the input). */
bool fuzz_write_temp_file(char *path_template, const uint8_t *data, size_t size);

/* Creates an empty temporary file from `path_template`, for targets that build the file
 * themselves; false when that fails. */
bool fuzz_make_temp_path(char *path_template);

/* Writes data[0..size) to `path` as it is; false when that fails. */
bool fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* What a target that builds its own file around the input does with each input: a fresh
 * temporary file from `path_template` is filled by `write_input` (an input it cannot write
 * is skipped), opened straight through `ops` (past sheet.c's detection) and checked by
 * fuzz_check_open, then removed. */
void fuzz_run_backend(char *path_template,
                      bool (*write_input)(const char *path, const uint8_t *data, size_t size),
                      const struct sheet_backend_ops *ops, const uint8_t *data, size_t size);

/* Selects every sheet in turn and reads it to its end, formatting each cell. Aborts (a
 * finding) when a reader fails without a sentence in `err`. Closes the book. */
void fuzz_read_whole_book(struct sheet_book *book, struct sd_error *err);

/* The outcome of an open: aborts when it failed without a sentence (every refusal must say
 * why), otherwise reads the book when it opened. */
void fuzz_check_open(int rc, struct sheet_book *book, struct sd_error *err);

#endif
