/*
 * Shared by csv_reader.c and csv_encoding.c; not a public header.
 *
 * csv_encoding.c turns the bytes of a text file into UTF-8, whatever they were written in:
 * UTF-8 (a BOM is dropped), UTF-16 LE or BE (recognised only by their BOM), or else
 * Windows-1252 (what Excel writes on Western Windows systems). csv_reader.c parses the UTF-8
 * with libcsv.
 */
#ifndef SHEETD_SHEET_CSV_INTERNAL_H
#define SHEETD_SHEET_CSV_INTERNAL_H

#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/error.h"

enum csv_encoding {
    CSV_ENC_UTF8 = 1,
    CSV_ENC_UTF16LE,
    CSV_ENC_UTF16BE,
    CSV_ENC_CP1252,
};

#define CSV_READ_CHUNK 65536

struct csv_decoder {
    FILE *file;
    const char *name; /* for error sentences, borrowed */
    enum csv_encoding encoding;
    size_t bom_len;
    iconv_t cd; /* (iconv_t)-1 for UTF-8 */
    unsigned char in[CSV_READ_CHUNK];
    size_t in_len; /* bytes in `in`, the first of which may be left over from the last read */
    bool eof;
};

/* What a first pass over the whole file found. */
struct csv_scan {
    enum csv_encoding encoding;
    size_t bom_len;
    uint64_t lines; /* line ends, quoted or not: the row-count hint */
};

/* Reads the file once: the BOM, whether the bytes are valid UTF-8 throughout, NUL bytes
 * (refused: the file is binary, SD_EINVALID with the offset), and how many lines it has. */
int csv_scan_file(FILE *file, const char *name, struct csv_scan *out, struct sd_error *err);

/* Positions the decoder at the first byte after the BOM. The FILE stays the caller's. */
int csv_decoder_open(struct csv_decoder *d, FILE *file, const char *name,
                     const struct csv_scan *scan, struct sd_error *err);
/* Appends the next piece of the text, as UTF-8, to out. 1: something was read (possibly
 * nothing appended, when a read ended inside a character); 0: end of file; negative: error. */
int csv_decoder_read(struct csv_decoder *d, struct buf *out, struct sd_error *err);
void csv_decoder_close(struct csv_decoder *d);

const char *csv_encoding_name(enum csv_encoding encoding);

/* The delimiter among , ; TAB | that splits the sample's lines most consistently
 * (quoted text ignored); ',' when none does. */
char csv_sniff_delimiter(const char *text, size_t len, bool complete);

#endif
