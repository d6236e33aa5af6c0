/*
 * Shared pieces of the XLS reader (xls_reader.c, xls_biff.c, xls_sst.c, xls_cells.c). Not a
 * public header: only the xls_* files include it.
 *
 * An .xls file is an OLE2 compound file; libgsf opens the container and hands us the
 * "Workbook" (BIFF8) or "Book" (BIFF5) stream, a flat sequence of records
 * (type u16, length u16, body). Everything after that is ours: xls_biff.c reads records
 * and strings (including strings continued across CONTINUE records), xls_sst.c keeps the
 * shared string table, xls_cells.c turns cell records into cells, xls_reader.c is the
 * backend that ties them together.
 */
#ifndef SHEETD_SHEET_XLS_INTERNAL_H
#define SHEETD_SHEET_XLS_INTERNAL_H

#include <gsf/gsf.h>
#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/byte_load.h"
#include "base/error.h"
#include "sheet/sheet_backend.h"

/* Record types we read (MS-XLS 2.3). */
enum {
    XLS_FORMULA = 0x0006,
    XLS_EOF = 0x000A,
    XLS_FORMAT_OLD = 0x001E,
    XLS_DATEMODE = 0x0022,
    XLS_FILEPASS = 0x002F,
    XLS_CONTINUE = 0x003C,
    XLS_CODEPAGE = 0x0042,
    XLS_BOUNDSHEET = 0x0085,
    XLS_MULRK = 0x00BD,
    XLS_RSTRING = 0x00D6,
    XLS_XF = 0x00E0,
    XLS_SST = 0x00FC,
    XLS_LABELSST = 0x00FD,
    XLS_DIMENSION = 0x0200,
    XLS_NUMBER = 0x0203,
    XLS_LABEL = 0x0204,
    XLS_BOOLERR = 0x0205,
    XLS_FORMULA3 = 0x0206,
    XLS_STRING = 0x0207,
    XLS_RK = 0x027E,
    XLS_FORMULA4 = 0x0406,
    XLS_FORMAT = 0x041E,
    XLS_BOF = 0x0809,
    XLS_BOF2 = 0x0009, /* BIFF2, BIFF3 and BIFF4 BOFs: refused */
    XLS_BOF3 = 0x0209,
    XLS_BOF4 = 0x0409,
};

#define XLS_MAX_RECORD 65535u

/* The record reader: one record body at a time in a fixed buffer, so memory does not depend
 * on what lengths a file claims. */
struct xls_stream {
    GsfInput *input; /* owned by xls_book */
    gsf_off_t size;
    const char *name; /* display name for error sentences, borrowed */
    uint16_t type;
    uint16_t len;
    gsf_off_t offset; /* where the current record's header starts */
    bool pushed_back; /* next call to xls_stream_next returns the current record again */
    uint8_t body[XLS_MAX_RECORD + 1];
};

/* A read position inside a record that may go on in CONTINUE records. */
struct xls_cursor {
    struct xls_stream *stream;
    const uint8_t *p;
    size_t left;
};

/* Character set of 8-bit (BIFF5) strings. */
struct xls_codec {
    iconv_t cd; /* (iconv_t)-1 until set */
};

/* The shared string table: one arena of NUL-terminated UTF-8 strings plus an offset per
 * string. Grows with the strings the file holds, never with the count it claims. */
struct xls_sst {
    struct buf arena;
    size_t *offsets;
    size_t count;
    size_t cap;
};

/* A cell value as decoded from a record, already typed by its XF's number format. Text is
 * borrowed (SST arena or the book's scratch buffer) until the next record is read. */
struct xls_value {
    uint32_t row; /* 0-based, as in the file */
    uint32_t col;
    enum sheet_cell_type type;
    double number;
    const char *text;
    size_t len;
};

struct xls_buffered; /* a whole sheet's cells, for sheets whose rows are out of order */

struct xls_book {
    struct sheet_book base; /* first: sheet.c casts */
    GsfInput *file;
    GsfInfile *ole;
    GsfInput *workbook;
    struct xls_stream *stream; /* heap: holds a 64 KiB record buffer */
    bool biff8;
    struct xls_codec codec;
    struct xls_sst sst;
    gsf_off_t *sheet_offsets; /* BOF of each listed sheet, parallel to base.sheets */
    uint8_t *xf_kinds;        /* enum numfmt_kind per XF index */
    size_t nxf;
    struct buf text; /* scratch for decoded strings */
    /* the selected sheet */
    bool sheet_done;
    unsigned depth;      /* nested BOF/EOF blocks (embedded charts) */
    bool pending_string; /* a FORMULA with a string result waits for its STRING */
    uint32_t pending_row, pending_col;
    struct xls_buffered *buffered; /* non-NULL when the sheet is read whole */
};

/* xls_cells.c */
/* True for records that carry a cell, with its 0-based row in *row. */
bool xls_cell_record_row(const struct xls_stream *s, uint32_t *row);
/* Decodes the current record (a cell record or a STRING) and emits its cells. */
int xls_cells_decode(struct xls_book *b,
                     int (*emit)(struct xls_book *b, const struct xls_value *v,
                                 struct sd_error *err),
                     struct sd_error *err);
/* Adds a decoded value to the row being built. */
int xls_cells_add(struct row_builder *rb, const struct xls_value *v, struct sd_error *err);
/* Reads the selected sheet from just after its BOF to its EOF without keeping anything:
 * whether cell rows ever go backwards, and how many rows it has (the progress hint). */
int xls_sheet_scan(struct xls_book *b, bool *out_of_order, uint64_t *rows, struct sd_error *err);
/* Reads the whole selected sheet into b->buffered, sorted by row then column. */
int xls_buffered_load(struct xls_book *b, struct sd_error *err);
/* The next row from b->buffered: 1, 0 at the end, or negative. */
int xls_buffered_next(struct xls_book *b, const struct sheet_row **out, struct sd_error *err);
void xls_buffered_free(struct xls_buffered *buffered);

/* xls_biff.c */
void xls_stream_init(struct xls_stream *s, GsfInput *input, const char *name);
/* 1: a record is in s->type/len/body; 0: the stream ended cleanly (on a record boundary);
 * negative: a truncated record. */
int xls_stream_next(struct xls_stream *s, struct sd_error *err);
void xls_stream_unread(struct xls_stream *s);
int xls_stream_seek(struct xls_stream *s, gsf_off_t offset, struct sd_error *err);

void xls_cursor_init(struct xls_cursor *c, struct xls_stream *s, size_t skip);
int xls_cursor_u8(struct xls_cursor *c, uint8_t *out, struct sd_error *err);
int xls_cursor_u16(struct xls_cursor *c, uint16_t *out, struct sd_error *err);
int xls_cursor_u32(struct xls_cursor *c, uint32_t *out, struct sd_error *err);
int xls_cursor_skip(struct xls_cursor *c, uint64_t n, struct sd_error *err);
/* Reads a BIFF8 unicode string (XLUnicodeString and its rich/extended forms) whose count of
 * characters is `cch_bytes` (1 or 2) wide, appending UTF-8 to out. */
int xls_read_unicode(struct xls_cursor *c, unsigned cch_bytes, struct buf *out,
                     struct sd_error *err);
/* Reads a BIFF5 8-bit string of `cch_bytes` (1 or 2) byte length, converting it. */
int xls_read_bytes_string(struct xls_cursor *c, unsigned cch_bytes, const struct xls_codec *codec,
                          struct buf *out, struct sd_error *err);

double xls_le_double(const uint8_t *p);

void xls_codec_init(struct xls_codec *codec);
/* Chooses the converter for a CODEPAGE value; unknown code pages fall back to Windows-1252. */
int xls_codec_set(struct xls_codec *codec, unsigned codepage, struct sd_error *err);
void xls_codec_free(struct xls_codec *codec);
/* Appends the UTF-8 form of `len` bytes in the codec's code page; bytes the code page does
 * not define become U+FFFD. */
int xls_codec_convert(const struct xls_codec *codec, const uint8_t *in, size_t len, struct buf *out,
                      struct sd_error *err);

/* xls_sst.c */
void xls_sst_init(struct xls_sst *sst);
void xls_sst_free(struct xls_sst *sst);
/* Reads the SST record in s (and the CONTINUE records after it). */
int xls_sst_read(struct xls_sst *sst, struct xls_stream *s, struct sd_error *err);
/* NULL when idx is out of range. */
const char *xls_sst_get(const struct xls_sst *sst, size_t idx, size_t *len);

#endif
