/* The CSV/TSV reader: encodings, delimiters, quoting, line ends, limits and junk. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sheet/sheet.h"
#include "sheet_dump.h"
#include "test_support.h"

TestSuite(csv, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

static char *write_csv(const char *name, const void *data, size_t len)
{
    char *path = test_suite_path(name);
    cr_assert(test_write_file(path, data, len));
    return path;
}

/* Writes the bytes, reads the default sheet, compares with `expected`. */
static void expect_reading(const char *name, const void *data, size_t len, const char *expected)
{
    char *path = write_csv(name, data, len);
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s: %s", name, err.message);
    cr_assert_str_eq(got, expected, "%s", name);
    free(got);
    free(path);
}

#define EXPECT(name, literal, expected) expect_reading(name, literal, sizeof literal - 1, expected)

static char delimiter_of(const char *name, const char *text)
{
    char *path = write_csv(name, text, strlen(text));
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_book_format(book), SHEET_FORMAT_CSV);
    char d = sheet_csv_delimiter(book);
    sheet_close(book);
    free(path);
    return d;
}

Test(csv, utf8_with_and_without_bom)
{
    EXPECT("plain.csv", "name,city\nZoë,Köln\n",
           "A1\ts\tname\nB1\ts\tcity\nA2\ts\tZoë\nB2\ts\tKöln\n");
    EXPECT("bom.csv", "\xEF\xBB\xBFname,city\nZoë,Köln\n",
           "A1\ts\tname\nB1\ts\tcity\nA2\ts\tZoë\nB2\ts\tKöln\n");
}

Test(csv, utf16_little_and_big_endian)
{
    /* "a,é\n😀,b" */
    EXPECT("le.csv",
           "\xFF\xFE"
           "a\0,\0\xE9\0\n\0"
           "\x3D\xD8\x00\xDE"
           ",\0b\0",
           "A1\ts\ta\nB1\ts\té\nA2\ts\t😀\nB2\ts\tb\n");
    EXPECT("be.csv",
           "\xFE\xFF"
           "\0a\0;\x20\xAC\0\r\0\n"
           "\xD8\x3D\xDE\x00"
           "\0;\0b",
           "A1\ts\ta\nB1\ts\t€\nA2\ts\t😀\nB2\ts\tb\n");
}

/* A surrogate pair cut by the decoder's 64 KiB reads is put back together. */
Test(csv, utf16_pair_across_read_boundary)
{
    size_t units = 40000;
    unsigned char *data = malloc(2 * units);
    cr_assert_not_null(data);
    data[0] = 0xFF;
    data[1] = 0xFE;
    size_t i = 1;
    for (; i < 32768; i++) { /* "x" up to byte 65536; reads start after the BOM */
        data[2 * i] = 'x';
        data[2 * i + 1] = 0;
    }
    data[2 * i] = 0x3D; /* high surrogate: the last two bytes of the first read */
    data[2 * i + 1] = 0xD8;
    i++;
    data[2 * i] = 0x00; /* low surrogate: the first two of the second */
    data[2 * i + 1] = 0xDE;
    for (i++; i < units; i++) {
        data[2 * i] = i == 32800 ? ',' : 'y';
        data[2 * i + 1] = 0;
    }
    char *path = write_csv("pair.csv", data, 2 * units);
    free(data);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_cell_chars = 100000;
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, &opts, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    const char *emoji = strstr(got, "xx😀yy");
    cr_assert_not_null(emoji, "the pair was not rejoined");
    cr_assert_null(strstr(got, "\xEF\xBF\xBD"), "a replacement character appeared");
    cr_assert_not_null(strstr(got, "\nB1\ts\tyyy"));
    free(got);
    free(path);
}

Test(csv, windows_1252)
{
    EXPECT("cp1252.csv", "caf\xE9,\x80 5\n\x93quoted\x94,x\x81y\n",
           "A1\ts\tcafé\nB1\ts\t€ 5\nA2\ts\t“quoted”\nB2\ts\tx\xEF\xBF\xBDy\n");
}

/* The encoding is decided on the whole file: ASCII for 100 KiB, then one Windows-1252
 * byte, is Windows-1252 throughout. */
Test(csv, windows_1252_late_in_the_file)
{
    struct buf data = BUF_INIT;
    for (int i = 0; i < 10000; i++)
        buf_printf(&data, "row%05d,plain\n", i);
    buf_puts(&data, "last,caf\xE9\n");
    char *path = write_csv("late.csv", data.data, data.len);
    buf_free(&data);
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert(strstr(got, "A10001\ts\tlast\nB10001\ts\tcafé\n"), "tail: %s",
              got + strlen(got) - 60);
    free(got);
    free(path);
}

Test(csv, delimiters_are_sniffed)
{
    cr_assert_eq(delimiter_of("c.csv", "a,b,c\n1,2,3\n"), ',');
    cr_assert_eq(delimiter_of("s.csv", "a;b;c\n1,5;2,5;3\n"), ';');
    cr_assert_eq(delimiter_of("t.tsv", "a\tb,x\n1\t2\n"), '\t');
    cr_assert_eq(delimiter_of("p.txt", "a|b|c\n1|2|3\n"), '|');
    /* separators inside quotes do not count */
    cr_assert_eq(delimiter_of("q.csv", "\"a,b,c,d\";e\n\"1,2\";3\n"), ';');
    /* one column: the default */
    cr_assert_eq(delimiter_of("one.csv", "alpha\nbeta\n"), ',');
    EXPECT("tab.tsv", "name\tcity\nAda\tLondon\n",
           "A1\ts\tname\nB1\ts\tcity\nA2\ts\tAda\nB2\ts\tLondon\n");
    EXPECT("pipe.csv", "a|b\n1|2\n", "A1\ts\ta\nB1\ts\tb\nA2\ts\t1\nB2\ts\t2\n");
    EXPECT("semi.csv", "a;b\n1,5;2,5\n", "A1\ts\ta\nB1\ts\tb\nA2\ts\t1,5\nB2\ts\t2,5\n");
}

Test(csv, quoted_fields)
{
    EXPECT("quotes.csv",
           "id,note\n1,\"line one\nline two\"\n2,\"say \"\"hi\"\", then, go\"\n3,\"\"\n",
           "A1\ts\tid\nB1\ts\tnote\nA2\ts\t1\nB2\ts\tline one\\nline two\n"
           "A3\ts\t2\nB3\ts\tsay \"hi\", then, go\nA4\ts\t3\n");
}

/* Row numbers are physical records: blank lines count, a quoted line break does not. */
Test(csv, crlf_blank_lines_and_record_numbers)
{
    EXPECT("crlf.csv", "a,b\r\n\r\n\"x\r\ny\",z\r\n,\r\nlast,1\r\n",
           "A1\ts\ta\nB1\ts\tb\nA3\ts\tx\\r\\ny\nB3\ts\tz\nA5\ts\tlast\nB5\ts\t1\n");
    EXPECT("cr.csv", "a\rb\r\rc", "A1\ts\ta\nA2\ts\tb\nA4\ts\tc\n");
    EXPECT("lf.csv", "\n\na\n", "A3\ts\ta\n");
}

Test(csv, ragged_rows_and_spaces_kept)
{
    EXPECT("ragged.csv", "a,b,c\n1\n1,2,3,4,5\n , x ,\n",
           "A1\ts\ta\nB1\ts\tb\nC1\ts\tc\nA2\ts\t1\nA3\ts\t1\nB3\ts\t2\nC3\ts\t3\n"
           "D3\ts\t4\nE3\ts\t5\nA4\ts\t \nB4\ts\t x \n");
}

Test(csv, unterminated_quote_at_end_reads_to_the_end)
{
    EXPECT("open.csv", "a,\"b\nc", "A1\ts\ta\nB1\ts\tb\\nc\n");
}

Test(csv, empty_and_blank_files)
{
    char *path = write_csv("empty.csv", "", 0);
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert(strstr(err.message, "empty.csv is empty"), "%s", err.message);
    free(got);
    free(path);
    EXPECT("bom_only.csv", "\xEF\xBB\xBF", "");
    EXPECT("newlines.csv", "\r\n\n\n", "");
    EXPECT("commas.csv", ",,,\n,,\n", "");
}

/* NUL bytes: refused as binary (sheet.c sees the first 8 KiB; the reader the rest). Other
 * junk is read as Windows-1252 text. */
Test(csv, nul_bytes_and_junk)
{
    struct buf data = BUF_INIT;
    for (int i = 0; i < 1000; i++)
        buf_puts(&data, "0123456789,abcdefghi\n");
    size_t at = data.len;
    buf_append(&data, "x\0y\n", 4);
    char *path = write_csv("late_nul.csv", data.data, data.len);
    buf_free(&data);
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    free(sheet_dump(path, NULL, NULL, &rc, &err));
    cr_assert_eq(rc, SD_EINVALID);
    char want[128];
    snprintf(want, sizeof want, "late_nul.csv is not a text file: it has a NUL byte at byte %zu",
             at + 1);
    cr_assert(strstr(err.message, want), "%s", err.message);
    free(path);

    path = write_csv("nul16.csv",
                     "\xFF\xFE"
                     "a\0\0\0b\0",
                     8);
    free(sheet_dump(path, NULL, NULL, &rc, &err));
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert(strstr(err.message, "NUL byte at byte 4"), "%s", err.message);
    free(path);

    EXPECT("junk.csv", "\x01\x02\xFF\xFE,\x1B[0m\n", "A1\ts\t\x01\x02ÿþ\nB1\ts\t\x1B[0m\n");
}

Test(csv, cell_length_limit)
{
    char *path = write_csv("long.csv", "a,0123456789\nb,01234567890\n", 26);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_cell_chars = 10;
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, &opts, NULL, &rc, &err);
    cr_assert_eq(rc, SD_ELIMIT, "%s", err.message);
    cr_assert_str_eq(got, "A1\ts\ta\nB1\ts\t0123456789\n");
    cr_assert(strstr(err.message, "B2"), "%s", err.message);
    free(got);
    free(path);
}

/* A quote left open in a big file: the limit stops the read long before the file's end,
 * instead of letting the parser buffer all of it. */
Test(csv, open_quote_hits_the_limit_early)
{
    struct buf data = BUF_INIT;
    buf_puts(&data, "a,\"never closed\n");
    for (int i = 0; i < 200000; i++)
        buf_puts(&data, "more,text\n");
    char *path = write_csv("runaway.csv", data.data, data.len);
    buf_free(&data);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_cell_chars = 1000;
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    free(sheet_dump(path, &opts, NULL, &rc, &err));
    cr_assert_eq(rc, SD_ELIMIT, "%s", err.message);
    cr_assert(strstr(err.message, "column B of row 1"), "%s", err.message);
    cr_assert(strstr(err.message, "quote left open"), "%s", err.message);
    free(path);
}

Test(csv, column_limit)
{
    char *path = write_csv("wide.csv", "a,b,c,d\n", 8);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_columns = 3;
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    free(sheet_dump(path, &opts, NULL, &rc, &err));
    cr_assert_eq(rc, SD_ELIMIT, "%s", err.message);
    free(path);
}

Test(csv, sheet_name_hint_and_reselect)
{
    char *path = write_csv("orders.2024.csv", "a\nb\n\nc", 6);
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_count(book), 1);
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "orders.2024");
    cr_assert(sheet_get_info(book, 0)->visible);
    cr_assert_eq(sheet_row_count_hint(book), 4);
    const struct sheet_row *row;
    cr_assert_eq(sheet_select_arg(book, "orders.2024", &err), 0, "%s", err.message);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->number, 2);
    cr_assert_eq(sheet_select_index(book, 0, &err), 0);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->number, 1, "selecting again starts at the top");
    cr_assert_str_eq(row->cells[0].text, "a");
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->number, 4);
    cr_assert_eq(sheet_next_row(book, &row, &err), 0);
    cr_assert_eq(sheet_next_row(book, &row, &err), 0, "the end stays the end");
    sheet_close(book);

    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.display_name = "Customers Export.csv";
    cr_assert_eq(sheet_open(&book, path, &opts, &err), 0, "%s", err.message);
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "Customers Export");
    sheet_close(book);
    free(path);
}
