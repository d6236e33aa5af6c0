/*
 * DESIGN
 * ------
 * The XLSX backend (xlsx, xlsm and the other OOXML spreadsheet packages). Opening reads the
 * workbook's directory and keeps what every row needs:
 *
 *   _rels/.rels            -> the workbook part (officeDocument relationship; falling back
 *                             to xl/workbook.xml, then to any workbook.xml at the root)
 *   <workbook>_rels        -> the parts of its sheets, shared strings and styles
 *   workbook.xml           -> sheet names, order, visibility, the 1904 date system
 *   sharedStrings.xml      -> held whole, compactly (xlsx_shared_strings.c)
 *   styles.xml             -> one byte per cell style (xlsx_styles.c)
 *
 * Selecting a sheet opens a streaming reader on its part (xlsx_sheet.c); rows are pulled
 * from it one at a time. Relationship types are matched by their last path segment, and
 * elements and attributes by local name, so strict OOXML (purl.oclc.org namespaces) reads
 * like transitional.
 */
#include "sheet/xlsx_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"

struct workbook_ctx {
    struct xml_stream *xs;
    struct xlsx_book *book;
    const struct xlsx_rels *rels;
    size_t parts_cap;
};

static void workbook_nomem(struct workbook_ctx *c)
{
    struct sd_error e = SD_ERROR_INIT;
    sd_error_nomem(&e);
    xml_stream_fail(c->xs, &e);
}

static void workbook_start(void *data, const char *local, const char **attrs)
{
    struct workbook_ctx *c = data;
    struct xlsx_book *book = c->book;
    if (!strcmp(local, "workbookPr")) {
        const char *d = xml_attr(attrs, "date1904");
        if (d && (!strcmp(d, "1") || !strcmp(d, "true")))
            book->base.uses_1904 = true;
        return;
    }
    if (strcmp(local, "sheet") != 0)
        return;
    const char *name = xml_attr(attrs, "name");
    const char *state = xml_attr(attrs, "state");
    const char *rid = xml_attr(attrs, "id");
    if (!name)
        return;
    bool visible = !state || (strcmp(state, "hidden") != 0 && strcmp(state, "veryHidden") != 0);
    if (book->base.nsheets == c->parts_cap) {
        size_t cap = c->parts_cap ? c->parts_cap * 2 : 8;
        char **parts = realloc(book->sheet_parts, cap * sizeof *parts);
        if (!parts) {
            workbook_nomem(c);
            return;
        }
        book->sheet_parts = parts;
        c->parts_cap = cap;
    }
    const struct xlsx_rel *rel = rid ? xlsx_rels_by_id(c->rels, rid) : NULL;
    char *part = NULL;
    if (rel && !(part = str_dup(rel->target))) {
        workbook_nomem(c);
        return;
    }
    struct sd_error e = SD_ERROR_INIT;
    if (sheet_book_add_sheet(&book->base, name, strlen(name), visible, &e) < 0) {
        free(part);
        xml_stream_fail(c->xs, &e);
        return;
    }
    book->sheet_parts[book->base.nsheets - 1] = part;
}

/* The part a relationship of `type` points to, if the zip holds it (its index in *index);
 * NULL otherwise. */
static const char *find_part(struct xlsx_book *book, const struct xlsx_rels *rels, const char *type,
                             uint64_t *index)
{
    const struct xlsx_rel *rel = xlsx_rels_by_type(rels, type);
    if (rel && zip_guard_find(book->zg, rel->target, index))
        return rel->target;
    return NULL;
}

/* Finds the workbook part: the package's officeDocument relationship, else the usual
 * places. Sets *part (malloc'd). */
static int find_workbook(struct xlsx_book *book, char **part, struct sd_error *err)
{
    struct xlsx_rels pkg;
    int rc = xlsx_rels_load(&pkg, book->zg, "", err);
    if (rc < 0)
        return rc;
    uint64_t idx;
    const char *name = find_part(book, &pkg, "officeDocument", &idx);
    if (!name && zip_guard_find(book->zg, "xl/workbook.xml", &idx))
        name = "xl/workbook.xml";
    if (!name && zip_guard_find(book->zg, "workbook.xml", &idx))
        name = "workbook.xml";
    *part = name ? str_dup(name) : NULL;
    xlsx_rels_free(&pkg);
    if (name && !*part)
        return sd_error_nomem(err);
    if (name)
        return 0;
    if (zip_guard_find(book->zg, "xl/workbook.bin", &idx))
        return sd_error_set(err, SD_EINVALID,
                            "%s is an Excel binary workbook (.xlsb), which sheetd does not read; "
                            "save it as .xlsx and try again",
                            book->base.display_name);
    if (zip_guard_find(book->zg, "EncryptedPackage", &idx))
        return sd_error_set(err, SD_EINVALID,
                            "%s is password-protected; save it without a password and try again",
                            book->base.display_name);
    return sd_error_set(err, SD_EINVALID,
                        "%s is not a spreadsheet: it is an OOXML package without a workbook",
                        book->base.display_name);
}

/* Reads relationships, workbook, shared strings and styles into book. */
static int read_directory(struct xlsx_book *book, struct sd_error *err)
{
    char *wb_part = NULL;
    struct xlsx_rels rels = {0};
    int rc = find_workbook(book, &wb_part, err);
    if (rc < 0)
        return rc;
    rc = xlsx_rels_load(&rels, book->zg, wb_part, err);
    if (rc < 0)
        goto out;
    uint64_t idx;
    if (!zip_guard_find(book->zg, wb_part, &idx)) {
        rc = sd_error_set(err, SD_EINVALID, "%s: the workbook part %s is missing",
                          book->base.display_name, wb_part);
        goto out;
    }
    struct workbook_ctx ctx = {.xs = NULL, .book = book, .rels = &rels, .parts_cap = 0};
    struct xml_stream_handlers h = {.start = workbook_start};
    rc = xlsx_parse_part(book->zg, idx, &h, &ctx, &ctx.xs, err);
    if (rc < 0)
        goto out;
    if (find_part(book, &rels, "sharedStrings", &idx)) {
        rc = xlsx_sst_load(&book->sst, book->zg, idx, &book->base.limits, err);
        if (rc < 0)
            goto out;
    }
    if (find_part(book, &rels, "styles", &idx)) {
        rc = xlsx_styles_load(&book->styles, book->zg, idx, err);
        if (rc < 0)
            goto out;
    }
out:
    xlsx_rels_free(&rels);
    free(wb_part);
    return rc;
}

static void xlsx_close(struct sheet_book *base)
{
    struct xlsx_book *book = (struct xlsx_book *)base;
    xlsx_sheet_close(book->reader);
    for (size_t i = 0; i < base->nsheets; i++)
        free(book->sheet_parts[i]);
    free(book->sheet_parts);
    xlsx_sst_free(&book->sst);
    xlsx_styles_free(&book->styles);
    zip_guard_close(book->zg);
    sheet_book_release(base);
    free(book);
}

static int xlsx_open(struct sheet_book **out, const char *path,
                     const struct sheet_open_options *opts, struct sd_error *err)
{
    *out = NULL;
    struct xlsx_book *book = calloc(1, sizeof *book);
    if (!book)
        return sd_error_nomem(err);
    int rc = sheet_book_init(&book->base, &xlsx_backend_ops, path, opts, err);
    if (rc < 0) {
        free(book);
        return rc;
    }
    rc = zip_guard_open(&book->zg, path, &book->base.limits, book->base.display_name, err);
    if (rc == 0)
        rc = read_directory(book, err);
    if (rc < 0) {
        xlsx_close(&book->base);
        return rc;
    }
    *out = &book->base;
    return 0;
}

static int xlsx_select(struct sheet_book *base, size_t idx, struct sd_error *err)
{
    struct xlsx_book *book = (struct xlsx_book *)base;
    xlsx_sheet_close(book->reader);
    book->reader = NULL;
    return xlsx_sheet_open(&book->reader, book, book->sheet_parts[idx], base->sheets[idx].name,
                           err);
}

static int xlsx_next_row(struct sheet_book *base, const struct sheet_row **out,
                         struct sd_error *err)
{
    struct xlsx_book *book = (struct xlsx_book *)base;
    if (!book->reader)
        return sd_error_set(err, SD_EUSAGE, "%s: no sheet is selected", base->display_name);
    return xlsx_sheet_next(book->reader, out, err);
}

const struct sheet_backend_ops xlsx_backend_ops = {
    SHEET_FORMAT_XLSX, xlsx_open, xlsx_select, xlsx_next_row, xlsx_close,
};
