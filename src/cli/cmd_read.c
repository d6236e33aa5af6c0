/*
 * `sheetd read FILE [--sheet NAME|INDEX] [--format cells|csv]`: dumps what the reader sees,
 * in DESIGN.md's `cells` layout (one `REF<TAB>TYPE<TAB>VALUE` line per non-empty cell) or as
 * RFC 4180 CSV of the same values (CRLF line ends; rows and columns keep their positions,
 * so skipped empty rows are empty lines and empty cells are empty fields).
 *
 * Output goes through one buffer flushed in large writes: dumping a million-row sheet is
 * tens of millions of small appends, and stdio's per-call locking would dominate.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/number.h"
#include "cli/cli.h"
#include "sheet/cell_format.h"
#include "sheet/sheet.h"

#define READ_FLUSH_AT (256 * 1024)

enum read_format { READ_CELLS, READ_CSV };

static int flush_out(struct buf *out)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        return -1;
    buf_clear(out);
    return 0;
}

static int write_cells_row(struct buf *out, const struct sheet_row *row)
{
    for (size_t i = 0; i < row->ncells; i++) {
        const struct sheet_cell *c = &row->cells[i];
        /* Reference, type and the tabs go straight into the buffer: this runs per cell. */
        if (buf_grow(out, 48) < 0)
            return SD_ENOMEM;
        char *p = out->data + out->len;
        size_t n = cell_format_ref(c->column, row->number, p);
        p[n++] = '\t';
        p[n++] = cell_format_type_letter(c->type);
        p[n++] = '\t';
        out->len += n;
        int rc;
        if (c->type == SHEET_CELL_STRING || c->type == SHEET_CELL_ERROR) {
            rc = cell_format_escape(out, c->text, c->text_len);
        } else if (c->type == SHEET_CELL_NUMBER) {
            out->len += number_format(c->number, p + n); /* fits: 48 bytes grown */
            rc = 0;
        } else {
            rc = cell_format_value(c, out);
        }
        if (rc < 0 || buf_putc(out, '\n') < 0)
            return SD_ENOMEM;
    }
    return 0;
}

/* Appends one CSV field, quoted only when it must be. */
static int write_csv_field(struct buf *out, const char *s, size_t len)
{
    bool quote = len && strpbrk(s, ",\"\r\n") != NULL;
    if (!quote)
        return buf_append(out, s, len);
    if (buf_putc(out, '"') < 0)
        return SD_ENOMEM;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            if (buf_append(out, s + start, i + 1 - start) < 0 || buf_putc(out, '"') < 0)
                return SD_ENOMEM;
            start = i + 1;
        }
    }
    if (buf_append(out, s + start, len - start) < 0 || buf_putc(out, '"') < 0)
        return SD_ENOMEM;
    return 0;
}

static int write_csv_row(struct buf *out, struct buf *field, const struct sheet_row *row,
                         uint32_t *next_row)
{
    for (; *next_row < row->number; (*next_row)++)
        if (buf_puts(out, "\r\n") < 0)
            return SD_ENOMEM;
    uint32_t col = 0; /* the next field to write */
    for (size_t i = 0; i < row->ncells; i++) {
        const struct sheet_cell *c = &row->cells[i];
        for (; col <= c->column; col++) /* separators before empty fields and this one */
            if (col > 0 && buf_putc(out, ',') < 0)
                return SD_ENOMEM;
        buf_clear(field);
        if (cell_format_value(c, field) < 0 ||
            write_csv_field(out, buf_cstr(field), field->len) < 0)
            return SD_ENOMEM;
    }
    *next_row = row->number + 1;
    return buf_puts(out, "\r\n");
}

static void usage(void)
{
    cli_errorf("usage: sheetd read FILE [--sheet NAME|INDEX] [--format cells|csv]");
}

int cmd_read(int argc, char **argv, const struct cli_config *config)
{
    (void)config;
    const char *path = NULL;
    const char *sheet_arg = NULL;
    enum read_format format = READ_CELLS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sheet") && i + 1 < argc) {
            sheet_arg = argv[++i];
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "cells")) {
                format = READ_CELLS;
            } else if (!strcmp(f, "csv")) {
                format = READ_CSV;
            } else {
                cli_errorf("--format must be cells or csv, not \"%s\"", f);
                return CLI_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            cli_errorf("unknown option \"%s\"", argv[i]);
            usage();
            return CLI_EXIT_USAGE;
        } else if (!path) {
            path = argv[i];
        } else {
            usage();
            return CLI_EXIT_USAGE;
        }
    }
    if (!path) {
        usage();
        return CLI_EXIT_USAGE;
    }

    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book = NULL;
    struct buf out = BUF_INIT;
    struct buf field = BUF_INIT;
    int status = CLI_EXIT_FAILED;
    if (sheet_open(&book, path, NULL, &err) < 0)
        goto fail;
    int rc = sheet_arg ? sheet_select_arg(book, sheet_arg, &err) : sheet_select_default(book, &err);
    if (rc < 0)
        goto fail;
    const struct sheet_row *row;
    uint32_t next_row = 1;
    while ((rc = sheet_next_row(book, &row, &err)) == 1) {
        rc = format == READ_CELLS ? write_cells_row(&out, row)
                                  : write_csv_row(&out, &field, row, &next_row);
        if (rc < 0) {
            sd_error_nomem(&err);
            goto fail;
        }
        if (out.len >= READ_FLUSH_AT && flush_out(&out) < 0)
            goto write_fail;
    }
    if (rc < 0)
        goto fail;
    if (flush_out(&out) < 0 || fflush(stdout) != 0)
        goto write_fail;
    status = CLI_EXIT_OK;
    goto done;
write_fail:
    cli_errorf("cannot write the output");
    goto done;
fail:
    flush_out(&out);
    fflush(stdout);
    cli_errorf("%s", sd_error_message(&err));
done:
    buf_free(&out);
    buf_free(&field);
    sheet_close(book);
    return status;
}
