/*
 * DESIGN
 * ------
 * The CSV/TSV backend. One sheet, named after the file without its extension; every field
 * is a string cell (typing is the template's job). Row numbers are physical record numbers,
 * counting blank lines, so they match the row numbers a spreadsheet program shows when it
 * opens the file; a quoted field with line breaks inside is one record.
 *
 * libcsv is a push parser: it is handed bytes and calls back per field and per record,
 * however many records the bytes hold. To hand out one row per sheet_next_row without
 * queueing rows, the decoded text is fed in slices that end just after a CR or LF: every
 * slice holds at most one record end, so at most one record completes per feed, and fields
 * go straight into the row builder. CSV_REPALL_NL makes libcsv report blank lines too (so
 * they can be counted); the LF of a CRLF then arrives as an empty record of its own and is
 * recognised by the CR just before it.
 *
 * libcsv keeps an unfinished field in a buffer it grows as it likes. An unterminated quote
 * in a large file would make that buffer as large as the file, so the bytes fed since the
 * last completed field are counted: more than any field within max_cell_chars could take
 * is the cell-length limit, reported before the buffer grows further. libcsv's default of
 * trimming spaces and tabs around unquoted fields is turned off: the importer trims, and
 * "reads what is there" is the rule for a reader.
 */
#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/cell_format.h"
#include "sheet/csv_internal.h"
#include "sheet/sheet_backend.h"

struct csv_book {
    struct sheet_book base; /* first: sheet.c casts */
    FILE *file;
    struct csv_scan scan;
    struct csv_decoder decoder;
    bool decoder_open;
    struct csv_parser parser;
    bool parser_ready;
    struct buf chunk; /* decoded text not yet fed to libcsv */
    size_t chunk_pos;
    bool input_done; /* the decoder is exhausted */
    bool finished;   /* csv_fini has run */
    /* the record being parsed */
    uint32_t field;      /* its next column */
    uint32_t records;    /* records completed so far */
    bool record_ended;   /* the last feed completed a record */
    bool record_counted; /* ... and it was a record (not the LF of a CRLF) */
    int last_term;       /* the character that ended the previous record */
    uint64_t unfinished; /* bytes fed since a field last completed */
    int cb_rc;           /* an error raised inside a callback */
    struct sd_error cb_err;
};

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    struct csv_book *b = data;
    b->unfinished = 0;
    if (b->cb_rc == 0 && len > 0)
        b->cb_rc = row_builder_add_string(&b->base.row, b->field, s, len, &b->cb_err);
    if (b->field < UINT32_MAX)
        b->field++;
}

static void on_record(int c, void *data)
{
    struct csv_book *b = data;
    bool crlf_tail = b->field == 0 && c == '\n' && b->last_term == '\r';
    b->last_term = c;
    b->record_ended = true;
    b->record_counted = !crlf_tail;
    b->field = 0;
    if (!crlf_tail && b->records < UINT32_MAX)
        b->records++;
}

/* Sheet name: the display name without its extension ("orders.csv" -> "orders"). */
static int add_the_sheet(struct csv_book *b, struct sd_error *err)
{
    const char *name = b->base.display_name;
    const char *dot = strrchr(name, '.');
    size_t len = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    return sheet_book_add_sheet(&b->base, name, len, true, err);
}

/* Reads the first piece of text and sniffs the delimiter in it. */
static int sniff(struct csv_book *b, struct sd_error *err)
{
    struct csv_decoder d;
    struct buf sample = BUF_INIT;
    int rc = csv_decoder_open(&d, b->file, b->base.display_name, &b->scan, err);
    bool complete = false;
    while (rc == 0 && sample.len < CSV_READ_CHUNK) {
        rc = csv_decoder_read(&d, &sample, err);
        if (rc == 0)
            complete = true;
        if (rc <= 0)
            break;
        rc = 0;
    }
    csv_decoder_close(&d);
    if (rc >= 0)
        b->base.csv_delimiter = csv_sniff_delimiter(buf_cstr(&sample), sample.len, complete);
    buf_free(&sample);
    return rc < 0 ? rc : 0;
}

static void csv_close(struct sheet_book *book);

static int csv_open(struct sheet_book **out, const char *path,
                    const struct sheet_open_options *opts, struct sd_error *err)
{
    struct csv_book *b = calloc(1, sizeof *b);
    if (!b)
        return sd_error_nomem(err);
    int rc = sheet_book_init(&b->base, &csv_backend_ops, path, opts, err);
    if (rc < 0) {
        free(b);
        return rc;
    }
    b->file = fopen(path, "rb");
    if (!b->file) {
        rc = sd_error_set(err, errno == ENOENT ? SD_ENOTFOUND : SD_ERROR, "%s cannot be opened: %s",
                          b->base.display_name, strerror(errno));
        goto fail;
    }
    if ((rc = csv_scan_file(b->file, b->base.display_name, &b->scan, err)) < 0)
        goto fail;
    b->base.row_count_hint = b->scan.lines;
    if ((rc = sniff(b, err)) < 0 || (rc = add_the_sheet(b, err)) < 0)
        goto fail;
    *out = &b->base;
    return 0;
fail:
    csv_close(&b->base);
    return rc;
}

static void reset_stream(struct csv_book *b)
{
    if (b->decoder_open)
        csv_decoder_close(&b->decoder);
    b->decoder_open = false;
    if (b->parser_ready)
        csv_free(&b->parser);
    b->parser_ready = false;
    buf_clear(&b->chunk);
    b->chunk_pos = 0;
    b->input_done = false;
    b->finished = false;
    b->field = 0;
    b->records = 0;
    b->record_ended = false;
    b->last_term = 0;
    b->unfinished = 0;
    b->cb_rc = 0;
}

static int csv_select(struct sheet_book *book, size_t idx, struct sd_error *err)
{
    struct csv_book *b = (struct csv_book *)book;
    (void)idx; /* there is one sheet */
    reset_stream(b);
    if (csv_init(&b->parser, CSV_REPALL_NL) != 0)
        return sd_error_nomem(err);
    b->parser_ready = true;
    csv_set_delim(&b->parser, (unsigned char)b->base.csv_delimiter);
    csv_set_space_func(&b->parser, no_space);
    int rc = csv_decoder_open(&b->decoder, b->file, b->base.display_name, &b->scan, err);
    if (rc < 0) {
        b->finished = true;
        return rc;
    }
    b->decoder_open = true;
    return 0;
}

/* Bytes a field may take before it must be longer than max_cell_chars characters: four
 * per character, doubled for quotes written twice, plus its own quotes. */
static uint64_t field_byte_budget(const struct csv_book *b)
{
    return 8 * (uint64_t)b->base.limits.max_cell_chars + 16;
}

static int too_long(struct csv_book *b, struct sd_error *err)
{
    char col[8];
    cell_format_column_name(b->field, col);
    return sd_error_set(err, SD_ELIMIT,
                        "%s: the field in column %s of row %lu is longer than the limit of "
                        "%lu characters per cell (is a quote left open?)",
                        b->base.display_name, col, (unsigned long)b->records + 1,
                        (unsigned long)b->base.limits.max_cell_chars);
}

/* Feeds the next slice (up to and including the next CR or LF), or finishes the parser when
 * the text is exhausted. Returns 0 or a negative code. */
static int feed(struct csv_book *b, struct sd_error *err)
{
    if (b->chunk_pos == b->chunk.len) {
        if (b->input_done) {
            csv_fini(&b->parser, on_field, on_record, b);
            b->finished = true;
            return 0;
        }
        buf_clear(&b->chunk);
        b->chunk_pos = 0;
        int rc = csv_decoder_read(&b->decoder, &b->chunk, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            b->input_done = true;
        return 0;
    }
    const char *start = b->chunk.data + b->chunk_pos;
    size_t left = b->chunk.len - b->chunk_pos;
    size_t n = 0;
    while (n < left && start[n] != '\n' && start[n] != '\r')
        n++;
    if (n < left)
        n++;
    if (csv_parse(&b->parser, start, n, on_field, on_record, b) != n)
        return sd_error_nomem(err);
    b->chunk_pos += n;
    b->unfinished += n;
    if (b->unfinished > field_byte_budget(b))
        return too_long(b, err);
    return 0;
}

static int csv_next_row(struct sheet_book *book, const struct sheet_row **out, struct sd_error *err)
{
    struct csv_book *b = (struct csv_book *)book;
    struct row_builder *rb = &b->base.row;
    row_builder_begin(rb, b->records + 1);
    while (!b->finished) {
        int rc = feed(b, err);
        if (rc == 0 && b->cb_rc < 0) {
            rc = b->cb_rc;
            if (err)
                *err = b->cb_err;
        }
        if (rc < 0) {
            b->finished = true;
            return rc;
        }
        if (!b->record_ended)
            continue;
        b->record_ended = false;
        if (b->record_counted && !row_builder_is_empty(rb)) {
            rc = row_builder_finish(rb, b->records, out, err);
            return rc < 0 ? rc : 1;
        }
        row_builder_begin(rb, b->records + 1);
    }
    return 0;
}

static void csv_close(struct sheet_book *book)
{
    struct csv_book *b = (struct csv_book *)book;
    if (!b)
        return;
    reset_stream(b);
    buf_free(&b->chunk);
    if (b->file)
        fclose(b->file);
    sheet_book_release(&b->base);
    free(b);
}

const struct sheet_backend_ops csv_backend_ops = {
    .format = SHEET_FORMAT_CSV,
    .open = csv_open,
    .select = csv_select,
    .next_row = csv_next_row,
    .close = csv_close,
};
