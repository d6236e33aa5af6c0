/*
 * A zip archive opened with every limit against hostile files (struct sheet_limits), for
 * the XLSX and ODS readers.
 *
 *     struct zip_guard *zg;
 *     if (zip_guard_open(&zg, path, &book->limits, book->display_name, &err) < 0) ...
 *     uint64_t idx;
 *     if (zip_guard_find(zg, "xl/workbook.xml", &idx)) {
 *         struct zip_guard_entry *e;
 *         zip_guard_entry_open(&e, zg, idx, &err);
 *         while ((n = zip_guard_entry_read(e, buf, sizeof buf, &err)) > 0) ...
 *         zip_guard_entry_close(e);
 *     }
 *     zip_guard_close(zg);
 *
 * Limits, each an SD_ELIMIT sentence naming the file and the limit:
 *  - the number of entries (checked when the archive is opened);
 *  - inflated bytes per entry and in total over every entry read through this guard,
 *    counted on the bytes actually produced, never on what the headers claim;
 *  - the compression ratio, inflated bytes so far over the entry's compressed size (which is
 *    bounded by the file's real size), enforced once an entry has inflated more than
 *    ZIP_GUARD_RATIO_FLOOR bytes so that tiny, highly compressible parts are fine.
 *
 * Entry names are only ever compared, never used as file system paths. Lookups ignore ASCII
 * case, treat `\` as `/`, and ignore a leading `/` (real files written by odd tools have
 * all three).
 */
#ifndef SHEETD_SHEET_ZIP_GUARD_H
#define SHEETD_SHEET_ZIP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/error.h"
#include "sheet/sheet.h"

#define ZIP_GUARD_RATIO_FLOOR (1U << 20) /* 1 MiB inflated before the ratio is enforced */

struct zip_guard;
struct zip_guard_entry;

/* Opens the archive. `limits` and `display_name` are borrowed and must outlive the guard.
 * SD_EINVALID with a sentence when the file is not a readable zip (truncated, damaged). The
 * caller owns *out and frees it with zip_guard_close. */
int zip_guard_open(struct zip_guard **out, const char *path, const struct sheet_limits *limits,
                   const char *display_name, struct sd_error *err);
void zip_guard_close(struct zip_guard *zg);

uint64_t zip_guard_entry_count(const struct zip_guard *zg);
/* What the guard was opened with (borrowed). */
const char *zip_guard_display_name(const struct zip_guard *zg);
const struct sheet_limits *zip_guard_limits(const struct zip_guard *zg);
/* The entry's name as stored in the archive (borrowed), or NULL. */
const char *zip_guard_entry_name(struct zip_guard *zg, uint64_t index);

/* True and *index set when an entry matches `name` (case-insensitive, `\` = `/`, leading `/`
 * ignored); the first such entry wins. */
bool zip_guard_find(struct zip_guard *zg, const char *name, uint64_t *index);

/* Compares two entry names the way zip_guard_find does. */
bool zip_guard_names_equal(const char *a, size_t alen, const char *b, size_t blen);

/* Opens one entry for reading; the caller closes it with zip_guard_entry_close before closing
 * the guard. Encrypted entries are SD_EINVALID ("is password-protected"). */
int zip_guard_entry_open(struct zip_guard_entry **out, struct zip_guard *zg, uint64_t index,
                         struct sd_error *err);
/* Reads up to len inflated bytes: the count (0 at the end of the entry) or a negative code.
 * Every limit is checked here. */
ssize_t zip_guard_entry_read(struct zip_guard_entry *e, void *data, size_t len,
                             struct sd_error *err);
/* The entry's name (borrowed from the archive), for error sentences. */
const char *zip_guard_entry_path(const struct zip_guard_entry *e);
void zip_guard_entry_close(struct zip_guard_entry *e);

/* Reads a whole (small) entry into out, refusing with SD_ELIMIT past `max` bytes: for parts
 * like ODF's `mimetype` that are read whole. */
int zip_guard_read_all(struct zip_guard *zg, uint64_t index, size_t max, struct buf *out,
                       struct sd_error *err);

#endif
