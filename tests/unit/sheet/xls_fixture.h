/*
 * A small BIFF writer for the XLS reader's tests: the tests build their own .xls files,
 * record by record, so every record type and every broken shape is there on purpose.
 *
 *     struct xls_fixture fx;
 *     xls_fixture_init(&fx, true);                  // BIFF8
 *     xls_fixture_sst(&fx, ...);                    // globals records, in order
 *     size_t s = xls_fixture_sheet(&fx, "Data", 0, 0);
 *     xls_fixture_number(&fx, s, 0, 1, 0, 42.0);    // cell records of sheet s
 *     xls_fixture_write(&fx, path, "Workbook");     // OLE2 file through libgsf
 *     xls_fixture_free(&fx);
 */
#ifndef SHEETD_TEST_XLS_FIXTURE_H
#define SHEETD_TEST_XLS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define XLS_FIXTURE_MAX_SHEETS 8

struct xls_fixture_sheet {
    char name[64];
    uint8_t visibility;   /* 0 visible, 1 hidden, 2 very hidden */
    uint8_t kind;         /* 0 worksheet, 2 chart */
    struct buf records;   /* between the sheet's BOF and EOF */
    long offset_override; /* >= 0: BOUNDSHEET points there instead */
};

struct xls_fixture {
    bool biff8;
    struct buf globals;      /* between the globals BOF and the BOUNDSHEETs */
    struct buf globals_tail; /* after the BOUNDSHEETs (SST usually goes here) */
    struct xls_fixture_sheet sheets[XLS_FIXTURE_MAX_SHEETS];
    size_t nsheets;
    uint16_t bof_type; /* the globals BOF record number, 0x0809 unless a test changes it */
};

void xls_fixture_init(struct xls_fixture *fx, bool biff8);
void xls_fixture_free(struct xls_fixture *fx);

/* Raw record appended to any buffer. */
void xls_fixture_record(struct buf *out, uint16_t type, const void *body, size_t len);
/* Record with a header claiming `claimed` bytes but only `len` body bytes written. */
void xls_fixture_record_claiming(struct buf *out, uint16_t type, uint16_t claimed, const void *body,
                                 size_t len);

/* Little-endian appenders for building bodies. */
void xls_put_u8(struct buf *b, uint8_t v);
void xls_put_u16(struct buf *b, uint16_t v);
void xls_put_u32(struct buf *b, uint32_t v);
void xls_put_double(struct buf *b, double v);
/* A BIFF8 string: 8-bit (compressed) when all code points are < 256, else UTF-16; cch is
 * `cch_bytes` wide. Text is UTF-8. */
void xls_put_unicode(struct buf *b, const char *utf8, unsigned cch_bytes);

/* Globals. */
void xls_fixture_codepage(struct xls_fixture *fx, uint16_t cp);
void xls_fixture_datemode(struct xls_fixture *fx, bool is1904);
void xls_fixture_format(struct xls_fixture *fx, uint16_t id, const char *code);
void xls_fixture_xf(struct xls_fixture *fx, uint16_t format_id);
/* An SST of `n` strings claiming `claimed` unique strings, in one SST record. */
void xls_fixture_sst(struct xls_fixture *fx, const char *const *strings, size_t n,
                     uint32_t claimed);
/* The same, split into SST + CONTINUE after `split_char` UTF-16 units of string
 * `split_string`, the way Excel splits: the CONTINUE starts with an option byte giving the
 * width of the rest of the characters, which is chosen afresh (8-bit when they all fit). */
void xls_fixture_sst_split(struct xls_fixture *fx, const char *const *strings, size_t n,
                           uint32_t claimed, size_t split_string, size_t split_char);

size_t xls_fixture_sheet(struct xls_fixture *fx, const char *name, uint8_t visibility,
                         uint8_t kind);

/* Cells (row, col 0-based). */
void xls_fixture_labelsst(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                          uint32_t idx);
void xls_fixture_label(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                       const char *utf8);
/* BIFF5 LABEL with raw 8-bit bytes. */
void xls_fixture_label_bytes(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                             const char *bytes);
void xls_fixture_number(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                        double v);
void xls_fixture_rk(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                    uint32_t rk);
void xls_fixture_mulrk(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                       const uint16_t *xfs, const uint32_t *rks, size_t n);
void xls_fixture_boolerr(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col,
                         uint8_t value, bool is_error);
/* kind: 'n' number (v), 's' string (text: STRING record follows), 'b' bool (v), 'e' error
 * (code v), 'E' empty string. */
void xls_fixture_formula(struct xls_fixture *fx, size_t s, uint16_t row, uint16_t col, uint16_t xf,
                         char kind, double v, const char *text);

/* Assembles the workbook stream. */
void xls_fixture_stream(struct xls_fixture *fx, struct buf *out);
/* Writes an OLE2 file holding the stream under `stream_name`. */
bool xls_fixture_write(struct xls_fixture *fx, const char *path, const char *stream_name);
/* The step every test ends its fixture with: writes it as `stream_name` of the file `name` in
 * the suite's temporary directory (test_suite_tmpdir_setup), frees the fixture, and returns
 * the file's path (the caller frees it). Fails the test when the file cannot be written. */
char *xls_fixture_save(struct xls_fixture *fx, const char *name, const char *stream_name);
/* Writes an OLE2 file holding `data` as stream `stream_name`. */
bool xls_fixture_write_raw(const char *path, const char *stream_name, const void *data, size_t len);

#endif
