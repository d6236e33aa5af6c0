/*
 * DESIGN
 * ------
 * The front door of the reader: detect the format from the file's first bytes, hand the
 * file to that format's backend (a table of function pointers, sheet_backend.h), and route
 * every later call through the table. Sheet selection lives here too, so every format
 * accepts `--sheet` the same way and lists its sheets the same way when asked for one it
 * does not have.
 *
 * Detection never trusts the extension: a zip holding `[Content_Types].xml` is OOXML, a zip
 * whose `mimetype` entry names an ODF spreadsheet is ODS, the OLE2 signature is XLS, and
 * anything else must look like text to be read as CSV. The extension only matters to catch
 * a mismatch a person would want to hear about: a file called orders.xlsx holding plain text
 * is almost certainly not what they meant to upload, so it is refused rather than read as a
 * one-column CSV.
 */
#include "sheet/sheet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "sheet/sheet_backend.h"
#include "sheet/zip_guard.h"

#define SNIFF_BYTES 8192

const char *sheet_format_name(enum sheet_format format)
{
    switch (format) {
    case SHEET_FORMAT_XLSX:
        return "xlsx";
    case SHEET_FORMAT_XLS:
        return "xls";
    case SHEET_FORMAT_ODS:
        return "ods";
    case SHEET_FORMAT_CSV:
        return "csv";
    }
    return "unknown";
}

/* The one place that names the backends. */
static const struct sheet_backend_ops *backend_for_format(enum sheet_format format)
{
    switch (format) {
    case SHEET_FORMAT_XLSX:
        return &xlsx_backend_ops;
    case SHEET_FORMAT_XLS:
        return &xls_backend_ops;
    case SHEET_FORMAT_ODS:
        return &ods_backend_ops;
    case SHEET_FORMAT_CSV:
        break;
    }
    return &csv_backend_ops;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int sheet_book_init(struct sheet_book *book, const struct sheet_backend_ops *ops, const char *path,
                    const struct sheet_open_options *opts, struct sd_error *err)
{
    memset(book, 0, sizeof *book);
    book->ops = ops;
    const char *name = opts && opts->display_name ? opts->display_name : base_name(path);
    book->display_name = str_dup(name);
    if (!book->display_name)
        return sd_error_nomem(err);
    if (opts) {
        book->limits = opts->limits;
    } else {
        struct sheet_limits defaults = SHEET_LIMITS_INIT;
        book->limits = defaults;
    }
    row_builder_init(&book->row, &book->limits, book->display_name);
    return 0;
}

int sheet_book_add_sheet(struct sheet_book *book, const char *name, size_t name_len, bool visible,
                         struct sd_error *err)
{
    if (book->nsheets == book->sheets_cap) {
        /* doubling: a workbook may list very many sheets, and growing one at a time would
         * copy the list once per sheet */
        if (book->sheets_cap > SIZE_MAX / (4 * sizeof *book->sheets))
            return sd_error_nomem(err);
        size_t cap = book->sheets_cap ? book->sheets_cap * 2 : 8;
        struct sheet_info *grown = realloc(book->sheets, cap * sizeof *grown);
        if (!grown)
            return sd_error_nomem(err);
        book->sheets = grown;
        book->sheets_cap = cap;
    }
    struct sheet_info *sheets = book->sheets;
    char *copy = str_ndup(name, name_len);
    if (!copy)
        return sd_error_nomem(err);
    sheets[book->nsheets].name = copy;
    sheets[book->nsheets].visible = visible;
    book->nsheets++;
    return 0;
}

void sheet_book_release(struct sheet_book *book)
{
    for (size_t i = 0; i < book->nsheets; i++)
        free((char *)book->sheets[i].name);
    free(book->sheets);
    book->sheets = NULL;
    book->nsheets = book->sheets_cap = 0;
    row_builder_free(&book->row);
    free(book->display_name);
    book->display_name = NULL;
}

/* What the first bytes of a file that is not a spreadsheet look like, for the error
 * sentence; NULL when they look like text. */
static const char *looks_like_binary(const unsigned char *p, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } magics[] = {
        {"%PDF", 4, "a PDF document"},
        {"\x89PNG", 4, "a PNG image"},
        {"\xFF\xD8\xFF", 3, "a JPEG image"},
        {"GIF8", 4, "a GIF image"},
        {"\x1F\x8B", 2, "a gzip-compressed file"},
        {"Rar!", 4, "a RAR archive"},
        {"7z\xBC\xAF", 4, "a 7-Zip archive"},
        {"BZh", 3, "a bzip2-compressed file"},
        {"\xFD"
         "7zXZ",
         5, "an xz-compressed file"},
        {"\x7F"
         "ELF",
         4, "a program"},
    };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (n >= magics[i].len && !memcmp(p, magics[i].magic, magics[i].len))
            return magics[i].what;
    bool utf16 = n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF));
    if (utf16)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0)
            return "binary data";
    return NULL;
}

/* What a text file's content is, for the mismatch sentence. */
static const char *text_kind(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    const char *s = (const char *)p + i;
    size_t left = n - i;
    if (left >= 5 && (!strncasecmp(s, "<html", 5) || !strncasecmp(s, "<!doc", 5)))
        return "an HTML page";
    if (left >= 5 && !strncmp(s, "<?xml", 5))
        return "an XML document";
    return "plain text";
}

static bool has_spreadsheet_extension(const char *name)
{
    static const char *const exts[] = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls",
                                       ".xlt",  ".ods",  ".ots",  ".xlsb"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t el = strlen(exts[i]);
        if (len > el && !strcasecmp(name + len - el, exts[i]))
            return true;
    }
    return false;
}

/* Decides between OOXML, ODF and other zips by their entries. */
static int detect_zip(const char *path, const char *name, const struct sheet_limits *limits,
                      enum sheet_format *format, struct sd_error *err)
{
    struct zip_guard *zg;
    int rc = zip_guard_open(&zg, path, limits, name, err);
    if (rc < 0)
        return rc;
    uint64_t idx;
    if (zip_guard_find(zg, "[Content_Types].xml", &idx)) {
        if (zip_guard_find(zg, "word/document.xml", &idx))
            rc = sd_error_set(err, SD_EINVALID,
                              "%s is not a spreadsheet: it looks like a Word document", name);
        else if (zip_guard_find(zg, "ppt/presentation.xml", &idx))
            rc = sd_error_set(err, SD_EINVALID,
                              "%s is not a spreadsheet: it looks like a PowerPoint presentation",
                              name);
        else
            *format = SHEET_FORMAT_XLSX;
        zip_guard_close(zg);
        return rc;
    }
    if (zip_guard_find(zg, "mimetype", &idx)) {
        struct buf mime = BUF_INIT;
        rc = zip_guard_read_all(zg, idx, 256, &mime, err);
        if (rc == 0) {
            const char *m = buf_cstr(&mime);
            if (str_has_prefix(m, "application/vnd.oasis.opendocument.spreadsheet"))
                *format = SHEET_FORMAT_ODS;
            else if (str_has_prefix(m, "application/vnd.oasis.opendocument.text"))
                rc = sd_error_set(err, SD_EINVALID,
                                  "%s is not a spreadsheet: it looks like an OpenDocument text "
                                  "document",
                                  name);
            else
                rc = sd_error_set(err, SD_EINVALID,
                                  "%s is not a spreadsheet: it looks like an OpenDocument file "
                                  "of another kind",
                                  name);
        }
        buf_free(&mime);
        zip_guard_close(zg);
        return rc;
    }
    zip_guard_close(zg);
    return sd_error_set(err, SD_EINVALID,
                        "%s is not a spreadsheet: it looks like a zip archive of something else",
                        name);
}

/* Reads the first bytes and decides the format; the error sentence names the file by the
 * name people know it by. */
static int detect_format(const char *path, const char *name, const struct sheet_limits *limits,
                         enum sheet_format *format, struct sd_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sd_error_set(err, errno == ENOENT ? SD_ENOTFOUND : SD_ERROR,
                            "%s cannot be opened: %s", name, strerror(errno));
    unsigned char head[SNIFF_BYTES];
    size_t n = fread(head, 1, sizeof head, f);
    bool failed = ferror(f);
    fclose(f);
    if (failed)
        return sd_error_set(err, SD_ERROR, "%s cannot be read", name);
    if (n == 0)
        return sd_error_set(err, SD_EINVALID, "%s is empty", name);
    if (n >= 4 && head[0] == 'P' && head[1] == 'K' &&
        ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6) ||
         (head[2] == 7 && head[3] == 8)))
        return detect_zip(path, name, limits, format, err);
    static const unsigned char ole2[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (n >= 8 && !memcmp(head, ole2, 8)) {
        *format = SHEET_FORMAT_XLS;
        return 0;
    }
    const char *binary = looks_like_binary(head, n);
    if (binary)
        return sd_error_set(err, SD_EINVALID, "%s is not a spreadsheet: it looks like %s", name,
                            binary);
    if (has_spreadsheet_extension(name))
        return sd_error_set(err, SD_EINVALID, "%s is not a spreadsheet: it looks like %s", name,
                            text_kind(head, n));
    *format = SHEET_FORMAT_CSV;
    return 0;
}

int sheet_sniff_file(const char *path, const char *display_name, enum sheet_format *format,
                     struct sd_error *err)
{
    struct sheet_limits limits = SHEET_LIMITS_INIT;
    return detect_format(path, display_name ? display_name : base_name(path), &limits, format, err);
}

int sheet_open(struct sheet_book **out, const char *path, const struct sheet_open_options *opts,
               struct sd_error *err)
{
    *out = NULL;
    struct sheet_open_options defaults = SHEET_OPEN_OPTIONS_INIT;
    if (!opts)
        opts = &defaults;
    if (opts->version != SHEET_OPEN_OPTIONS_VERSION)
        return sd_error_set(err, SD_EUSAGE, "sheet_open: unknown options version %u",
                            opts->version);
    const char *name = opts->display_name ? opts->display_name : base_name(path);
    enum sheet_format format;
    int rc = detect_format(path, name, &opts->limits, &format, err);
    if (rc < 0)
        return rc;
    return backend_for_format(format)->open(out, path, opts, err);
}

void sheet_close(struct sheet_book *book)
{
    if (book)
        book->ops->close(book);
}

enum sheet_format sheet_book_format(const struct sheet_book *book)
{
    return book->ops->format;
}

size_t sheet_count(const struct sheet_book *book)
{
    return book->nsheets;
}

const struct sheet_info *sheet_get_info(const struct sheet_book *book, size_t idx)
{
    return idx < book->nsheets ? &book->sheets[idx] : NULL;
}

/* "its sheets are "A", "B" (hidden)" for not-found sentences; truncated by the error's size. */
static void list_sheets(const struct sheet_book *book, struct buf *out)
{
    if (book->nsheets == 0) {
        buf_puts(out, "it has no sheets");
        return;
    }
    buf_puts(out, book->nsheets == 1 ? "its only sheet is " : "its sheets are ");
    for (size_t i = 0; i < book->nsheets && out->len < SD_ERROR_MESSAGE_MAX; i++) {
        buf_printf(out, "%s\"%s\"%s", i ? ", " : "", book->sheets[i].name,
                   book->sheets[i].visible ? "" : " (hidden)");
    }
}

static int not_found(struct sheet_book *book, const char *what, struct sd_error *err)
{
    struct buf list = BUF_INIT;
    list_sheets(book, &list);
    int rc = sd_error_set(err, SD_ENOTFOUND, "%s has no %s; %s", book->display_name, what,
                          buf_cstr(&list));
    buf_free(&list);
    return rc;
}

int sheet_select_index(struct sheet_book *book, size_t idx, struct sd_error *err)
{
    if (idx >= book->nsheets) {
        char what[64];
        snprintf(what, sizeof what, "sheet %zu (sheets are numbered from 0)", idx);
        return not_found(book, what, err);
    }
    int rc = book->ops->select(book, idx, err);
    if (rc < 0) {
        book->has_selection = false;
        return rc;
    }
    book->selected = idx;
    book->has_selection = true;
    return 0;
}

int sheet_select_name(struct sheet_book *book, const char *name, struct sd_error *err)
{
    for (size_t i = 0; i < book->nsheets; i++)
        if (str_eq(book->sheets[i].name, name))
            return sheet_select_index(book, i, err);
    /* Excel treats sheet names case-insensitively (two sheets cannot differ only by case). */
    for (size_t i = 0; i < book->nsheets; i++)
        if (str_ieq(book->sheets[i].name, name))
            return sheet_select_index(book, i, err);
    char what[SD_ERROR_MESSAGE_MAX / 2];
    snprintf(what, sizeof what, "sheet named \"%s\"", name);
    return not_found(book, what, err);
}

int sheet_select_arg(struct sheet_book *book, const char *name_or_index, struct sd_error *err)
{
    for (size_t i = 0; i < book->nsheets; i++)
        if (str_eq(book->sheets[i].name, name_or_index))
            return sheet_select_index(book, i, err);
    bool digits = *name_or_index != '\0';
    for (const char *p = name_or_index; *p; p++)
        if (*p < '0' || *p > '9')
            digits = false;
    if (digits && strlen(name_or_index) < 10)
        return sheet_select_index(book, (size_t)strtoul(name_or_index, NULL, 10), err);
    return sheet_select_name(book, name_or_index, err);
}

int sheet_select_default(struct sheet_book *book, struct sd_error *err)
{
    for (size_t i = 0; i < book->nsheets; i++)
        if (book->sheets[i].visible)
            return sheet_select_index(book, i, err);
    if (book->nsheets > 0)
        return sheet_select_index(book, 0, err);
    return sd_error_set(err, SD_ENOTFOUND, "%s has no sheets", book->display_name);
}

int sheet_next_row(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err)
{
    *out = NULL;
    if (!book->has_selection) {
        int rc = sheet_select_default(book, err);
        if (rc < 0)
            return rc;
    }
    return book->ops->next_row(book, out, err);
}

uint64_t sheet_row_count_hint(const struct sheet_book *book)
{
    return book->row_count_hint;
}

char sheet_csv_delimiter(const struct sheet_book *book)
{
    return book->csv_delimiter;
}

bool sheet_uses_1904(const struct sheet_book *book)
{
    return book->uses_1904;
}
