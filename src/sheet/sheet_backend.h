/*
 * What a format backend implements, and the shared state every backend builds on.
 *
 * Each backend (xlsx_reader.c, xls_reader.c, ods_reader.c, csv_reader.c) defines
 *
 *     const struct sheet_backend_ops xlsx_backend_ops = { ... };
 *
 * and a struct of its own whose FIRST member is `struct sheet_book base`, so that
 * sheet.c can hand the backend a `struct sheet_book *` and the backend can cast it back
 * (SQLite's VFS / PostgreSQL's table-access-method pattern). sheet.c detects the format
 * from the bytes, calls the backend's open, then routes every public call through the
 * table.
 */
#ifndef SHEETD_SHEET_SHEET_BACKEND_H
#define SHEETD_SHEET_SHEET_BACKEND_H

#include "sheet/row_builder.h"
#include "sheet/sheet.h"

struct sheet_backend_ops {
    enum sheet_format format;
    /* Allocates the backend's struct (base first), calls sheet_book_init on its base, reads
     * the workbook directory and fills base.sheets/base.nsheets. On failure frees everything
     * it allocated and returns a negative code with a sentence naming the file. */
    int (*open)(struct sheet_book **out, const char *path, const struct sheet_open_options *opts,
                struct sd_error *err);
    /* Positions the row stream at the top of sheet `idx` (< base.nsheets). */
    int (*select)(struct sheet_book *book, size_t idx, struct sd_error *err);
    /* 1 with *out set, 0 at the end of the sheet, negative on error. The row usually comes
     * from row_builder_finish on base.row. */
    int (*next_row)(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err);
    /* Frees the backend's state and then calls sheet_book_release on the base and frees the
     * struct itself. */
    void (*close)(struct sheet_book *book);
};

extern const struct sheet_backend_ops xlsx_backend_ops;
extern const struct sheet_backend_ops xls_backend_ops;
extern const struct sheet_backend_ops ods_backend_ops;
extern const struct sheet_backend_ops csv_backend_ops;

struct sheet_book {
    const struct sheet_backend_ops *ops;
    char *display_name; /* for error sentences: the basename or the caller's name */
    struct sheet_limits limits;
    struct sheet_info *sheets; /* names are owned (malloc'd), freed by sheet_book_release */
    size_t nsheets;
    size_t sheets_cap;
    size_t selected;
    bool has_selection;
    uint64_t row_count_hint;
    bool uses_1904;
    char csv_delimiter;
    struct row_builder row; /* where backends assemble the current row */
};

/* Fills the base fields (copies display name: opts->display_name or the path's basename).
 * Returns 0 or SD_ENOMEM. */
int sheet_book_init(struct sheet_book *book, const struct sheet_backend_ops *ops, const char *path,
                    const struct sheet_open_options *opts, struct sd_error *err);
/* Appends a sheet to book->sheets (copies the name). */
int sheet_book_add_sheet(struct sheet_book *book, const char *name, size_t name_len, bool visible,
                         struct sd_error *err);
/* Frees what sheet_book_init and sheet_book_add_sheet allocated (not the struct itself). */
void sheet_book_release(struct sheet_book *book);

#endif
