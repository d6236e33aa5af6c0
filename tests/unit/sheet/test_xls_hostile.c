/* The XLS reader against broken and hostile workbooks, and against the calamine corpus. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheet/sheet.h"
#include "sheet_dump.h"
#include "test_support.h"
#include "xls_fixture.h"

TestSuite(xls_hostile, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

static char *write_stream(const struct buf *stream, const char *name)
{
    char *path = test_suite_path(name);
    cr_assert(xls_fixture_write_raw(path, "Workbook", stream->data, stream->len));
    return path;
}

/* The workbook stream of a BIFF8 book whose one sheet "S" holds 1 in A1: the intact
 * stream the record-level tests then cut or extend. */
static void one_number_stream(struct buf *stream)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_number(&fx, s, 0, 0, 0, 1);
    xls_fixture_stream(&fx, stream);
    xls_fixture_free(&fx);
}

/* Reads the default sheet and expects it to fail with `code` and a sentence holding
 * `fragment` (and naming the file). */
static void expect_error(const char *path, int code, const char *fragment)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    free(sheet_dump(path, NULL, NULL, &rc, &err));
    cr_assert_eq(rc, code, "expected code %d, got %d (%s)", code, rc, err.message);
    cr_assert(strstr(err.message, fragment), "message \"%s\" lacks \"%s\"", err.message, fragment);
    const char *base = strrchr(path, '/') + 1;
    cr_assert(strstr(err.message, base), "message \"%s\" does not name the file", err.message);
}

Test(xls_hostile, sst_index_out_of_range)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    const char *sst[] = {"one", "two"};
    xls_fixture_sst(&fx, sst, 2, 2);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 0, 0, 1);
    xls_fixture_labelsst(&fx, s, 1, 2, 0, 5);
    char *path = xls_fixture_save(&fx, "sst_range.xls", "Workbook");
    expect_error(path, SD_EINVALID,
                 "cell C2 refers to shared string 5 but the workbook holds only 2");
    free(path);
}

/* An SST claiming 2^31 - 1 strings but holding two: nothing is reserved for the claim. */
Test(xls_hostile, sst_claiming_huge_count)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    const char *sst[] = {"a", "b"};
    xls_fixture_sst(&fx, sst, 2, 0x7FFFFFFFu);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 0, 0, 1);
    char *path = xls_fixture_save(&fx, "sst_huge.xls", "Workbook");
    sheet_dump_expect(path, NULL, "A1\ts\tb\n");
    free(path);
}

/* The last string claims more characters than the SST holds: the complete strings stay
 * readable, the cut one is not in the table. */
Test(xls_hostile, sst_string_cut_short)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    struct buf body = BUF_INIT;
    xls_put_u32(&body, 2);
    xls_put_u32(&body, 2);
    xls_put_unicode(&body, "whole", 2);
    xls_put_u16(&body, 1000);
    xls_put_u8(&body, 0);
    buf_append(&body, "cut", 3);
    xls_fixture_record(&fx.globals_tail, 0x00FC, body.data, body.len);
    buf_free(&body);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 0, 0, 0);
    xls_fixture_labelsst(&fx, s, 1, 0, 0, 1);
    char *path = xls_fixture_save(&fx, "sst_cut.xls", "Workbook");
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, SD_EINVALID, "%s", err.message);
    cr_assert_str_eq(got, "A1\ts\twhole\n");
    cr_assert(strstr(err.message, "holds only 1"), "%s", err.message);
    free(got);
    free(path);
}

/* The last record of the stream claims 1,000 bytes and has 10. */
Test(xls_hostile, record_length_past_stream_end)
{
    struct buf stream = BUF_INIT;
    one_number_stream(&stream);
    buf_truncate(&stream, stream.len - 4); /* drop the sheet's EOF */
    xls_fixture_record_claiming(&stream, 0x0203, 1000, "0123456789", 10);
    char *path = write_stream(&stream, "long_record.xls");
    buf_free(&stream);
    expect_error(path, SD_EINVALID, "claims 1000 bytes but only 10 are left");
    free(path);
}

Test(xls_hostile, truncated_record_header)
{
    struct buf stream = BUF_INIT;
    one_number_stream(&stream);
    buf_truncate(&stream, stream.len - 2); /* half of the EOF header */
    char *path = write_stream(&stream, "half_header.xls");
    buf_free(&stream);
    expect_error(path, SD_EINVALID, "ends in the middle of a record header");
    free(path);
}

Test(xls_hostile, cell_record_too_short)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    uint8_t body[8] = {0, 0, 1, 0, 0, 0, 0x40, 0x45}; /* NUMBER with 2 of 8 value bytes */
    xls_fixture_record(&fx.sheets[s].records, 0x0203, body, sizeof body);
    char *path = xls_fixture_save(&fx, "short_cell.xls", "Workbook");
    expect_error(path, SD_EINVALID, "a number cell at byte");
    free(path);
}

Test(xls_hostile, sheet_offset_outside_stream)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "Lost", 0, 0);
    fx.sheets[s].offset_override = 0x7FFFFFF0;
    char *path = xls_fixture_save(&fx, "lost_sheet.xls", "Workbook");
    expect_error(path, SD_EINVALID, "outside the workbook stream");
    free(path);
}

Test(xls_hostile, sheet_offset_not_at_a_bof)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "Moved", 0, 0);
    fx.sheets[s].offset_override = 20; /* the first BOUNDSHEET record */
    char *path = xls_fixture_save(&fx, "moved_sheet.xls", "Workbook");
    expect_error(path, SD_EINVALID, "sheet \"Moved\" does not start where the workbook says");
    free(path);
}

Test(xls_hostile, password_protected)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    xls_fixture_record(&fx.globals, 0x002F, "\x01\x00\x01\x00", 4);
    xls_fixture_sheet(&fx, "S", 0, 0);
    char *path = xls_fixture_save(&fx, "secret.xls", "Workbook");
    expect_error(path, SD_EINVALID, "is password-protected");
    free(path);
}

Test(xls_hostile, old_biff_versions_refused)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, false);
    fx.bof_type = 0x0409;
    xls_fixture_sheet(&fx, "S", 0, 0);
    char *path = xls_fixture_save(&fx, "biff4.xls", "Workbook");
    expect_error(path, SD_EINVALID, "Excel 2.x-4.x");
    free(path);
}

Test(xls_hostile, no_workbook_stream)
{
    char *path = test_suite_path("word.doc");
    cr_assert(xls_fixture_write_raw(path, "WordDocument", "hello", 5));
    expect_error(path, SD_EINVALID, "without an Excel workbook");
    free(path);
}

Test(xls_hostile, workbook_stream_of_junk)
{
    char *path = test_suite_path("junk.xls");
    cr_assert(xls_fixture_write_raw(path, "Workbook", "\x01\x02\x02\x00\x05\x06", 6));
    expect_error(path, SD_EINVALID, "does not start with a BOF record");
    free(path);
}

Test(xls_hostile, broken_ole2_container)
{
    char *path = test_suite_path("broken.xls");
    unsigned char data[1024];
    static const unsigned char magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    memset(data, 0xAB, sizeof data);
    memcpy(data, magic, sizeof magic);
    cr_assert(test_write_file(path, data, sizeof data));
    expect_error(path, SD_EINVALID, "OLE2 container");
    free(path);
}

/* The OLE2 root entry must have no siblings; one that claims some is refused (libgsf would
 * read them and leak them). */
Test(xls_hostile, ole2_root_entry_with_siblings)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_number(&fx, s, 0, 0, 0, 1);
    char *path = xls_fixture_save(&fx, "root_siblings.xls", "Workbook");
    sheet_dump_expect(path, NULL, "A1\tn\t1\n");
    size_t len;
    unsigned char *data = (unsigned char *)test_read_file(path, &len);
    cr_assert_not_null(data);
    unsigned shift = data[0x1E] | (data[0x1F] << 8);
    size_t dir = (size_t)(data[0x30] | (data[0x31] << 8) | (data[0x32] << 16)) + 1;
    size_t root = dir << shift;
    cr_assert_lt(root + 128, len);
    data[root + 0x44] = 1; /* left sibling: entry 1 */
    memset(data + root + 0x45, 0, 3);
    cr_assert(test_write_file(path, data, len));
    free(data);
    expect_error(path, SD_EINVALID, "OLE2 container");
    free(path);
}

Test(xls_hostile, workbook_without_worksheets)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    xls_fixture_sheet(&fx, "Chart", 0, 2);
    char *path = xls_fixture_save(&fx, "charts_only.xls", "Workbook");
    expect_error(path, SD_EINVALID, "has no worksheets");
    free(path);
}

/* Every prefix of a valid workbook stream: an error or a reading, never a crash (ASan
 * watches) — and the complete stream reads. */
Test(xls_hostile, every_truncation_of_a_stream)
{
    struct xls_fixture fx;
    xls_fixture_init(&fx, true);
    const char *sst[] = {"alpha", "beta gamma delta"};
    xls_fixture_sst_split(&fx, sst, 2, 2, 1, 5);
    size_t s = xls_fixture_sheet(&fx, "S", 0, 0);
    xls_fixture_labelsst(&fx, s, 0, 0, 0, 1);
    xls_fixture_formula(&fx, s, 1, 0, 0, 's', 0, "result");
    struct buf stream = BUF_INIT;
    xls_fixture_stream(&fx, &stream);
    xls_fixture_free(&fx);
    char *path = test_suite_path("prefix.xls");
    int ok = 0;
    for (size_t len = 1; len <= stream.len; len++) {
        cr_assert(xls_fixture_write_raw(path, "Workbook", stream.data, len));
        struct sd_error err = SD_ERROR_INIT;
        int rc;
        free(sheet_dump(path, NULL, NULL, &rc, &err));
        if (rc == 0)
            ok++;
        else
            cr_assert(err.message[0], "an error without a sentence at length %zu", len);
    }
    cr_assert_geq(ok, 1);
    buf_free(&stream);
    free(path);
}

/* --- the calamine corpus ------------------------------------------------------------ */

static char *corpus_file(const char *dir, const char *name)
{
    const char *shared = test_shared_dir();
    if (!shared)
        return NULL;
    char rel[512];
    snprintf(rel, sizeof rel, "corpus/%s/%s", dir, name);
    char *path = test_path(shared, rel);
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        free(path);
        return NULL;
    }
    fclose(f);
    return path;
}

/* The whole first sheet, compared with the second opinion in calamine-expected (xlrd's
 * reading). Lines starting with "WARNING" or "***" in those files are xlrd's own chatter,
 * printed on stdout when the expected files were made. */
static void expect_corpus_reading(const char *name)
{
    char *path = corpus_file("calamine", name);
    char expname[256];
    snprintf(expname, sizeof expname, "%s.cells", name);
    char *exp = corpus_file("calamine-expected", expname);
    if (!path || !exp) {
        free(path);
        free(exp);
        cr_skip("../shared/corpus/calamine is not here; corpus checks skipped");
    }
    size_t len;
    char *raw = test_read_file(exp, &len);
    cr_assert_not_null(raw);
    struct buf want = BUF_INIT;
    for (char *line = raw; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (strncmp(line, "WARNING", 7) && strncmp(line, "***", 3))
            buf_append(&want, line, n);
        line += n;
    }
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, "0", &rc, &err);
    cr_assert_eq(rc, 0, "%s: %s", name, err.message);
    cr_assert_str_eq(got, buf_cstr(&want), "%s reads differently", name);
    free(got);
    buf_free(&want);
    free(raw);
    free(path);
    free(exp);
}

Test(xls_hostile, corpus_readings)
{
    static const char *const files[] = {
        "date.xls",
        "date_1904.xls",
        "sst_continue.xls",
        "OOM_alloc.xls",
        "OOM_alloc2.xls",
        "biff5-rich-text-string.xls",
        "biff5_write.xls",
        "issue_643_biff5_formula.xls",
        "malformed_format.xls",
        "xls_formula.xls",
        "ptgexp-truncated-operand.xls",
        "optional_records.xls",
        "issue444.xls",
        "formula-date-format.xls",
        "xls_wrong_decimals.xls",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        expect_corpus_reading(files[i]);
}

Test(xls_hostile, corpus_sheet_names_and_refusals)
{
    char *path = corpus_file("calamine", "issue343.xls");
    if (!path)
        cr_skip("../shared/corpus/calamine is not here; corpus checks skipped");
    struct sheet_book *book;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_count(book), 1);
    cr_assert_str_eq(sheet_get_info(book, 0)->name, "Лист1");
    sheet_close(book);
    free(path);

    path = corpus_file("calamine", "capitalized_wbook_stream.xls");
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    sheet_close(book);
    free(path);

    path = corpus_file("calamine", "issue_385.xls");
    expect_error(path, SD_EINVALID, "password-protected");
    free(path);
    path = corpus_file("calamine", "OOM_alloc3.xls");
    expect_error(path, SD_EINVALID, "OLE2 container");
    free(path);
}
