/*
 * Hostile and broken XLSX files (the point 4), and format detection: every limit is
 * tripped by a fixture built here, and every refusal is checked for its sentence.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "test_support.h"
#include "xlsx_fixture.h"

TestSuite(xlsx_limits, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

/* Writes a one-sheet package around body, reads it with opts, and returns the error. */
static int read_with(const char *name, const char *body, const char *sst,
                     const struct sheet_open_options *opts, struct sd_error *err)
{
    char *path = test_suite_path(name);
    cr_assert(xlsx_fixture_minimal(path, body, sst, NULL));
    int rc;
    char *text = xlsx_fixture_dump(path, opts, NULL, &rc, err);
    free(text);
    free(path);
    return rc;
}

/* n copies of s */
static char *repeat(const char *s, size_t n)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(buf_puts(&b, s), 0);
    return buf_detach(&b);
}

Test(xlsx_limits, cell_text_length)
{
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    char *text = repeat("x", 32768);
    char *body = NULL;
    cr_assert(asprintf(&body,
                       "<sheetData><row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>%s</t>"
                       "</is></c></row></sheetData>",
                       text) > 0);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(read_with("long.xlsx", body, NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "long.xlsx: cell B2 holds 32768 characters, more than the limit of 32767");
    text[32767] = '\0'; /* exactly at the limit reads */
    free(body);
    cr_assert(asprintf(&body,
                       "<sheetData><row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>%s</t>"
                       "</is></c></row></sheetData>",
                       text) > 0);
    cr_assert_eq(read_with("ok.xlsx", body, NULL, &opts, &err), 0, "%s", err.message);
    free(body);
    /* far past the limit: refused without holding the text */
    opts.limits.max_cell_chars = 10;
    char *sst = NULL;
    cr_assert(asprintf(&sst, "<sst xmlns=\"" XLSX_NS "\"><si><t>%s</t></si></sst>", text) > 0);
    cr_assert_eq(
        read_with("sst.xlsx",
                  "<sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row></sheetData>", sst,
                  &opts, &err),
        SD_ELIMIT);
    cr_assert(strstr(err.message, "sst.xlsx: cell A1 holds"), "%s", err.message);
    cr_assert(strstr(err.message, "more than the limit of 10"), "%s", err.message);
    cr_assert_eq(read_with("v.xlsx",
                           "<sheetData><row r=\"1\"><c r=\"A1\" t=\"str\"><v>"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "aaaaaaaaaaaaaaaaaaaa"
                           "</v></c></row></sheetData>",
                           NULL, &opts, &err),
                 SD_ELIMIT);
    cr_assert(strstr(err.message, "cell A1 holds more than the limit of 10 characters"), "%s",
              err.message);
    free(sst);
    free(text);
}

Test(xlsx_limits, columns_and_rows)
{
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(read_with("c.xlsx",
                           "<sheetData><row r=\"1\"><c r=\"XFD1\"><v>1</v></c></row></sheetData>",
                           NULL, &opts, &err),
                 0, "%s", err.message);
    cr_assert_eq(read_with("c.xlsx",
                           "<sheetData><row r=\"1\"><c r=\"XFE1\"><v>1</v></c></row></sheetData>",
                           NULL, &opts, &err),
                 SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "c.xlsx: row 1 has a cell in column XFE, beyond the limit of 16384 columns");
    cr_assert_eq(
        read_with("c.xlsx",
                  "<sheetData><row r=\"1\"><c r=\"ZZZZZZZZZZ1\"><v>1</v></c></row></sheetData>",
                  NULL, &opts, &err),
        SD_ELIMIT);
    cr_assert_eq(read_with("r.xlsx",
                           "<sheetData><row r=\"1048576\"><c><v>1</v></c></row></sheetData>", NULL,
                           &opts, &err),
                 0, "%s", err.message);
    cr_assert_eq(read_with("r.xlsx",
                           "<sheetData><row r=\"1048577\"><c><v>1</v></c></row></sheetData>", NULL,
                           &opts, &err),
                 SD_ELIMIT);
    cr_assert_str_eq(err.message, "r.xlsx: row 1048577 is beyond the limit of 1048576 rows");
    opts.limits.max_columns = 3;
    opts.limits.max_rows = 2;
    cr_assert_eq(read_with("c3.xlsx",
                           "<sheetData><row><c/><c/><c/><c><v>1</v></c></row></sheetData>", NULL,
                           &opts, &err),
                 SD_ELIMIT);
    cr_assert(strstr(err.message, "column D, beyond the limit of 3 columns"), "%s", err.message);
    cr_assert_eq(read_with("r2.xlsx",
                           "<sheetData><row><c><v>1</v></c></row><row><c><v>1</v></c></row>"
                           "<row><c><v>1</v></c></row></sheetData>",
                           NULL, &opts, &err),
                 SD_ELIMIT);
    cr_assert_str_eq(err.message, "r2.xlsx: row 3 is beyond the limit of 2 rows");
}

Test(xlsx_limits, xml_depth)
{
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    char *open_tags = repeat("<extLst>", 300);
    char *close_tags = repeat("</extLst>", 300);
    char *body = NULL;
    cr_assert(asprintf(&body, "%s%s<sheetData/>", open_tags, close_tags) > 0);
    cr_assert_eq(read_with("deep.xlsx", body, NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(
        err.message,
        "deep.xlsx: xl/worksheets/sheet1.xml nests XML elements deeper than the limit of 256");
    opts.limits.max_xml_depth = 400;
    cr_assert_eq(read_with("deep.xlsx", body, NULL, &opts, &err), 0, "%s", err.message);
    free(body);
    free(open_tags);
    free(close_tags);
}

Test(xlsx_limits, doctype_is_refused)
{
    struct sd_error err = SD_ERROR_INIT;
    char *path = test_suite_path("lol.xlsx");
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
                       "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
                       "<sst xmlns=\"" XLSX_NS "\"><si><t>&lol2;</t></si></sst>";
    cr_assert(xlsx_fixture_minimal(path, "<sheetData/>", bomb, NULL));
    struct sheet_book *book;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert_str_eq(err.message,
                     "lol.xlsx: xl/sharedStrings.xml contains a DOCTYPE declaration, "
                     "which no workbook needs; it is refused so that no entity is ever expanded");
    /* an external entity in a sheet: refused the same way, nothing fetched */
    free(path);
    path = test_suite_path("ext.xlsx");
    const char *ext = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><sheetData><row><c "
                      "t=\"inlineStr\"><is><t>&e;</t></is></c></row></sheetData>";
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"xl/workbook.xml",
         "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS
         "\"><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels", "<Relationships xmlns=\"" XLSX_PKG_REL_NS
                                       "\"><Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
                                       "/worksheet\" Target=\"s.xml\"/></Relationships>"},
        {"xl/s.xml", ext},
        {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, parts, true));
    int rc;
    char *text = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert(strstr(err.message, "ext.xlsx: xl/s.xml contains a DOCTYPE declaration"), "%s",
              err.message);
    free(text);
    free(path);
}

Test(xlsx_limits, compression_ratio_counted_on_inflated_bytes)
{
    /* 3 MB of one repeated cell compresses more than 1000:1 */
    char *rows = repeat("<row><c "
                        "t=\"inlineStr\"><is><t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa<"
                        "/t></is></c></row>",
                        30000);
    char *body = NULL;
    cr_assert(asprintf(&body, "<sheetData>%s</sheetData>", rows) > 0);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_compression_ratio = 50;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(read_with("bomb.xlsx", body, NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "bomb.xlsx: xl/worksheets/sheet1.xml is compressed more than 50 "
                                  "to 1, the limit (a zip bomb?)");
    opts.limits.max_compression_ratio = 100000;
    cr_assert_eq(read_with("bomb.xlsx", body, NULL, &opts, &err), 0, "%s", err.message);
    free(body);
    free(rows);
}

Test(xlsx_limits, entry_and_total_sizes)
{
    char *rows = repeat("<row><c><v>1</v></c></row>", 5000); /* ~130 KB */
    char *body = NULL;
    cr_assert(asprintf(&body, "<sheetData>%s</sheetData>", rows) > 0);
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    opts.limits.max_entry_uncompressed = 100000;
    cr_assert_eq(read_with("big.xlsx", body, NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "big.xlsx: xl/worksheets/sheet1.xml inflates to more than the "
                                  "limit of 100000 bytes per zip entry");
    opts.limits.max_entry_uncompressed = SHEET_LIMITS_DEFAULT_ENTRY;
    opts.limits.max_total_uncompressed = 120000;
    cr_assert_eq(read_with("big.xlsx", body, NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "big.xlsx inflates to more than the limit of 120000 bytes in total");
    opts.limits.max_total_uncompressed = 200000;
    cr_assert_eq(read_with("big.xlsx", body, NULL, &opts, &err), 0, "%s", err.message);
    free(body);
    free(rows);
}

Test(xlsx_limits, zip_entry_count)
{
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_zip_entries = 4;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(read_with("many.xlsx", "<sheetData/>", NULL, &opts, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "many.xlsx holds 5 zip entries, more than the limit of 4");
    opts.limits.max_zip_entries = 5;
    cr_assert_eq(read_with("many.xlsx", "<sheetData/>", NULL, &opts, &err), 0, "%s", err.message);
}

Test(xlsx_limits, shared_string_index_out_of_range)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(
        read_with("sst.xlsx",
                  "<sheetData><row r=\"3\"><c r=\"C3\" t=\"s\"><v>2</v></c></row></sheetData>",
                  "<sst xmlns=\"" XLSX_NS "\"><si><t>a</t></si><si><t>b</t></si></sst>", NULL,
                  &err),
        SD_EINVALID);
    cr_assert_str_eq(err.message, "sst.xlsx: sheet \"Sheet1\", cell C3 refers to shared string 2, "
                                  "but the workbook has only 2");
    cr_assert_eq(
        read_with("sst.xlsx",
                  "<sheetData><row r=\"3\"><c r=\"C3\" t=\"s\"><v>x</v></c></row></sheetData>",
                  NULL, NULL, &err),
        SD_EINVALID);
    cr_assert(
        strstr(err.message, "cell C3 refers to a shared string by something that is not a number"),
        "%s", err.message);
    cr_assert_eq(
        read_with(
            "sst.xlsx",
            "<sheetData><row r=\"3\"><c r=\"C3\" t=\"s\"><v>99999999999</v></c></row></sheetData>",
            NULL, NULL, &err),
        SD_EINVALID);
}

Test(xlsx_limits, truncated_and_broken_archives)
{
    char *path = test_suite_path("full.xlsx");
    cr_assert(xlsx_fixture_minimal(path, "<sheetData><row><c><v>1</v></c></row></sheetData>", NULL,
                                   NULL));
    size_t len;
    char *bytes = test_read_file(path, &len);
    cr_assert_not_null(bytes);
    /* every truncation: a clear error or (never) a crash; nothing half-read is reported OK */
    for (size_t cut = 4; cut < len; cut += 7) {
        char *tpath = test_suite_path("cut.xlsx");
        cr_assert(test_write_file(tpath, bytes, cut));
        struct sd_error err = SD_ERROR_INIT;
        int rc;
        char *text = xlsx_fixture_dump(tpath, NULL, NULL, &rc, &err);
        cr_assert_lt(rc, 0, "a file cut at %zu of %zu bytes read without an error", cut, len);
        cr_assert(strstr(err.message, "cut.xlsx"), "cut %zu: %s", cut, err.message);
        free(text);
        free(tpath);
    }
    /* flipped bytes in the middle: an error or a defined reading, never a crash */
    for (size_t at = 30; at < len; at += 11) {
        char *copy = malloc(len);
        memcpy(copy, bytes, len);
        copy[at] ^= 0x5A;
        char *tpath = test_suite_path("flip.xlsx");
        cr_assert(test_write_file(tpath, copy, len));
        struct sd_error err = SD_ERROR_INIT;
        int rc;
        free(xlsx_fixture_dump(tpath, NULL, NULL, &rc, &err));
        if (rc < 0)
            cr_assert(err.message[0] != '\0');
        free(tpath);
        free(copy);
    }
    free(bytes);
    free(path);
}

Test(xlsx_limits, entry_names_are_never_paths)
{
    char *path = test_suite_path("evil.xlsx");
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"xl/workbook.xml",
         "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS
         "\"><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS
         "\"><Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"../../../../escaped.xml\"/></Relationships>"},
        {"../../../../escaped.xml",
         "<worksheet xmlns=\"" XLSX_NS
         "\"><sheetData><row><c><v>1</v></c></row></sheetData></worksheet>"},
        {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, parts, true));
    char cwd_before[4096];
    cr_assert_not_null(getcwd(cwd_before, sizeof cwd_before));
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *text = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    /* The target resolves inside the package ("escaped.xml" at its root), the entry name
     * "../../../../escaped.xml" is only compared: it is not that part, and nothing is
     * written anywhere. */
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert(strstr(err.message, "its part escaped.xml is missing"), "%s", err.message);
    struct stat st;
    char *outside = test_suite_path("../../../../escaped.xml");
    cr_assert_neq(stat(outside, &st), 0);
    free(outside);
    free(text);
    free(path);
}

static void expect_refusal(const char *name, const void *bytes, size_t len, const char *want)
{
    char *path = test_suite_path(name);
    cr_assert(test_write_file(path, bytes, len));
    struct sheet_book *book = NULL;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_lt(sheet_open(&book, path, NULL, &err), 0, "%s opened", name);
    cr_assert_null(book);
    cr_assert_str_eq(err.message, want);
    free(path);
}

Test(xlsx_limits, detection_from_bytes)
{
    const char *text = "name,amount\nx,1\n";
    expect_refusal("orders.xlsx", text, strlen(text),
                   "orders.xlsx is not a spreadsheet: it looks like plain text");
    expect_refusal("orders.xls", "<html><body>", 12,
                   "orders.xls is not a spreadsheet: it looks like an HTML page");
    expect_refusal("photo.csv", "\x89PNG\r\n\x1a\n\0\0", 10,
                   "photo.csv is not a spreadsheet: it looks like a PNG image");
    expect_refusal("junk.csv", "ab\0cd", 5,
                   "junk.csv is not a spreadsheet: it looks like binary data");
    expect_refusal("empty.xlsx", "", 0, "empty.xlsx is empty");
    expect_refusal(
        "zip.xlsx", "PK\x03\x04garbage", 11,
        "zip.xlsx cannot be opened: it is not a zip archive, or its end is missing (truncated)");
    char *path = test_suite_path("doc.xlsx");
    struct xlsx_part docx[] = {
        {"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w/>"}, {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, docx, true));
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "doc.xlsx is not a spreadsheet: it looks like a Word document");
    free(path);
    path = test_suite_path("plain.zip");
    struct xlsx_part plain[] = {{"readme.txt", "hi"}, {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, plain, true));
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert_str_eq(
        err.message,
        "plain.zip is not a spreadsheet: it looks like a zip archive of something else");
    free(path);
    path = test_suite_path("odt.ods");
    struct xlsx_part odt[] = {{"mimetype", "application/vnd.oasis.opendocument.text"},
                              {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, odt, false));
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert_str_eq(err.message,
                     "odt.ods is not a spreadsheet: it looks like an OpenDocument text document");
    free(path);
    /* the extension does not decide: a real workbook named .csv is read as XLSX */
    path = test_suite_path("really.csv");
    cr_assert(xlsx_fixture_minimal(path, "<sheetData><row><c><v>5</v></c></row></sheetData>", NULL,
                                   NULL));
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_book_format(book), SHEET_FORMAT_XLSX);
    sheet_close(book);
    /* the display name is used in sentences instead of the path's */
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.display_name = "upload.xlsx";
    char *p2 = test_suite_path("3f9a.xlsx");
    cr_assert(test_write_file(p2, text, strlen(text)));
    cr_assert_lt(sheet_open(&book, p2, &opts, &err), 0);
    cr_assert_str_eq(err.message, "upload.xlsx is not a spreadsheet: it looks like plain text");
    free(p2);
    free(path);
    cr_assert_eq(sheet_open(&book, "/nonexistent/x.xlsx", NULL, &err), SD_ENOTFOUND);
}

Test(xlsx_limits, missing_workbook_and_xlsb)
{
    char *path = test_suite_path("nowb.xlsx");
    struct xlsx_part nowb[] = {
        {"[Content_Types].xml", "<Types/>"}, {"xl/other.xml", "<x/>"}, {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, nowb, true));
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert_str_eq(err.message,
                     "nowb.xlsx is not a spreadsheet: it is an OOXML package without a workbook");
    free(path);
    path = test_suite_path("b.xlsb");
    struct xlsx_part xlsb[] = {
        {"[Content_Types].xml", "<Types/>"}, {"xl/workbook.bin", "\x01"}, {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, xlsb, true));
    cr_assert_eq(sheet_open(&book, path, NULL, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "b.xlsb is an Excel binary workbook (.xlsb)"), "%s", err.message);
    free(path);
}

/* Each cell style's format is looked up among the custom formats: a styles part with very
 * many of both must not cost their product (the reading used to scan every <numFmt> for
 * every <xf>, minutes for this file). The last <numFmt> of an id still wins. */
Test(xlsx_limits, many_styles_and_formats, .timeout = 20)
{
    enum { N = 200000 };
    struct buf styles = BUF_INIT;
    cr_assert_eq(buf_puts(&styles, "<styleSheet xmlns=\"" XLSX_NS "\"><numFmts>"), 0);
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(buf_printf(&styles, "<numFmt numFmtId=\"%u\" formatCode=\"0.0\"/>", 1000 + i),
                     0);
    cr_assert_eq(buf_puts(&styles, "<numFmt numFmtId=\"1005\" formatCode=\"yyyy-mm-dd\"/>"
                                   "</numFmts><cellXfs>"),
                 0);
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(buf_printf(&styles, "<xf numFmtId=\"%u\"/>", 1000 + (N - 1 - i)), 0);
    cr_assert_eq(buf_puts(&styles, "</cellXfs></styleSheet>"), 0);
    char *path = test_suite_path("styles.xlsx");
    char body[256];
    /* style N-6 is numFmtId 1005 (a date, redefined last); style 0 is 1000+N-1 (a number) */
    snprintf(body, sizeof body,
             "<sheetData><row r=\"1\"><c r=\"A1\" s=\"%u\"><v>42064</v></c>"
             "<c r=\"B1\" s=\"0\"><v>42064</v></c></row></sheetData>",
             (unsigned)(N - 6));
    cr_assert(xlsx_fixture_minimal(path, body, NULL, buf_cstr(&styles)));
    int rc;
    struct sd_error err = SD_ERROR_INIT;
    char *text = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_str_eq(text, "A1\td\t2015-03-01\nB1\tn\t42064\n");
    free(text);
    free(path);
    buf_free(&styles);
}

/* Each <sheet> finds its part by relationship id: a workbook listing very many sheets, with as
 * many relationships, must not cost their product (a linear scan per sheet took minutes for
 * this file). The first relationship of a repeated id wins, and the last sheet still finds
 * its own part. */
Test(xlsx_limits, many_sheets_and_relationships, .timeout = 20)
{
    enum { N = 150000 };
    struct buf wb = BUF_INIT, rels = BUF_INIT;
    cr_assert_eq(
        buf_puts(&wb, "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS "\"><sheets>"), 0);
    cr_assert_eq(buf_puts(&rels, "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\">"), 0);
    for (unsigned i = 0; i < N; i++) {
        cr_assert_eq(buf_printf(&wb, "<sheet name=\"S%u\" sheetId=\"%u\" r:id=\"r%u\"/>", i, i + 1,
                                N - 1 - i),
                     0);
        cr_assert_eq(buf_printf(&rels,
                                "<Relationship Id=\"r%u\" Type=\"" XLSX_REL_NS
                                "/worksheet\" Target=\"%s\"/>",
                                i, i == 0 ? "last.xml" : "missing.xml"),
                     0);
    }
    cr_assert_eq(buf_puts(&rels, "<Relationship Id=\"r0\" Type=\"" XLSX_REL_NS
                                 "/worksheet\" Target=\"missing.xml\"/></Relationships>"),
                 0);
    cr_assert_eq(buf_puts(&wb, "</sheets></workbook>"), 0);
    char *path = test_suite_path("sheets.xlsx");
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"a\" Type=\"" XLSX_REL_NS
         "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
        {"xl/workbook.xml", buf_cstr(&wb)},
        {"xl/_rels/workbook.xml.rels", buf_cstr(&rels)},
        {"xl/last.xml", "<worksheet xmlns=\"" XLSX_NS "\"><sheetData><row r=\"1\"><c r=\"A1\" "
                        "t=\"inlineStr\"><is><t>found</t></is></c></row></sheetData></worksheet>"},
        {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, parts, true));
    char sheet[16];
    snprintf(sheet, sizeof sheet, "S%u", (unsigned)(N - 1)); /* the sheet with r:id="r0" */
    int rc;
    struct sd_error err = SD_ERROR_INIT;
    char *text = xlsx_fixture_dump(path, NULL, sheet, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_str_eq(text, "A1\ts\tfound\n");
    free(text);
    free(path);
    buf_free(&wb);
    buf_free(&rels);
}

/* sheet_sniff_file is the detector sheet_open uses, exposed for the upload path: it names
 * the file by the name its owner gave it, not by the path on disk. */
Test(xlsx_limits, sniff_names_the_format_or_says_what_the_file_looks_like)
{
    struct sd_error err = SD_ERROR_INIT;
    enum sheet_format format = 0;
    char *path = test_suite_path("upload-1.part");
    cr_assert(test_write_file(path, "%PDF-1.7\n", 9));
    cr_assert_eq(sheet_sniff_file(path, "x.pdf", &format, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "x.pdf is not a spreadsheet: it looks like a PDF document");
    cr_assert(test_write_file(path, "", 0));
    cr_assert_eq(sheet_sniff_file(path, "empty.xlsx", &format, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "empty.xlsx is empty");
    cr_assert(test_write_file(path, "a,b\n1,2\n", 8));
    cr_assert_eq(sheet_sniff_file(path, "data.csv", &format, &err), 0, "%s", err.message);
    cr_assert_eq(format, SHEET_FORMAT_CSV);
    cr_assert(test_write_file(path, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8));
    cr_assert_eq(sheet_sniff_file(path, NULL, &format, &err), 0, "%s", err.message);
    cr_assert_eq(format, SHEET_FORMAT_XLS);
    free(path);
    path = test_suite_path("book.bin");
    cr_assert(xlsx_fixture_minimal(path, "<sheetData/>", NULL, NULL));
    cr_assert_eq(sheet_sniff_file(path, "Book 1.xlsx", &format, &err), 0, "%s", err.message);
    cr_assert_eq(format, SHEET_FORMAT_XLSX);
    unlink(path);
    cr_assert_eq(sheet_sniff_file(path, "gone.xlsx", &format, &err), SD_ENOTFOUND);
    free(path);
}
