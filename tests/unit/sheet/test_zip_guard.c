/* zip_guard (limits, name lookup) and xml_stream (local names, suspend/resume, refusals). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sheet/xml_stream.h"
#include "sheet/zip_guard.h"
#include "test_support.h"
#include "xlsx_fixture.h"

static struct sheet_limits limits = SHEET_LIMITS_INIT;

static void setup(void)
{
    test_suite_tmpdir_setup();
    struct sheet_limits defaults = SHEET_LIMITS_INIT;
    limits = defaults;
}

static void teardown(void)
{
    test_suite_tmpdir_teardown();
}

TestSuite(zip_guard, .init = setup, .fini = teardown);
TestSuite(xml_stream, .init = setup, .fini = teardown);

static struct zip_guard *open_parts(const struct xlsx_part *parts, bool deflate)
{
    char *path = test_suite_path("z.zip");
    cr_assert(xlsx_fixture_write(path, parts, deflate));
    struct zip_guard *zg;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(zip_guard_open(&zg, path, &limits, "z.zip", &err), 0, "%s", err.message);
    free(path);
    return zg;
}

Test(zip_guard, names_ignore_case_backslashes_and_leading_slash)
{
    cr_assert(
        zip_guard_names_equal("xl/Worksheets/Sheet1.xml", 24, "/XL\\worksheets\\sheet1.XML", 25));
    cr_assert(zip_guard_names_equal("\\a", 2, "a", 1));
    cr_assert_not(zip_guard_names_equal("a/b", 3, "a/c", 3));
    cr_assert_not(zip_guard_names_equal("a/b", 3, "a/bc", 4));
    struct xlsx_part parts[] = {{"XL\\Part.xml", "one"}, {"xl/other.xml", "two"}, {NULL, NULL}};
    struct zip_guard *zg = open_parts(parts, true);
    uint64_t idx;
    cr_assert(zip_guard_find(zg, "xl/part.xml", &idx));
    cr_assert_eq(idx, 0);
    cr_assert(zip_guard_find(zg, "/xl/OTHER.xml", &idx));
    cr_assert_eq(idx, 1);
    cr_assert_not(zip_guard_find(zg, "xl/missing.xml", &idx));
    cr_assert_eq(zip_guard_entry_count(zg), 2);
    cr_assert_str_eq(zip_guard_entry_name(zg, 0), "XL\\Part.xml");
    cr_assert_null(zip_guard_entry_name(zg, 2));
    struct buf b = BUF_INIT;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(zip_guard_read_all(zg, 1, 100, &b, &err), 0);
    cr_assert_str_eq(buf_cstr(&b), "two");
    buf_clear(&b);
    cr_assert_eq(zip_guard_read_all(zg, 1, 2, &b, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "z.zip: xl/other.xml is larger than the 2 bytes expected");
    buf_free(&b);
    zip_guard_close(zg);
}

static char *big_text(size_t n, bool random)
{
    char *s = malloc(n + 1);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        s[i] = random ? (char)('a' + (x >> 16) % 26) : 'a';
    }
    s[n] = '\0';
    return s;
}

/* Reads entry 0 to the end and returns the final code (0 or negative). */
static int drain(struct zip_guard *zg, uint64_t index, struct sd_error *err)
{
    struct zip_guard_entry *e;
    int rc = zip_guard_entry_open(&e, zg, index, err);
    if (rc < 0)
        return rc;
    char chunk[8192];
    ssize_t n;
    while ((n = zip_guard_entry_read(e, chunk, sizeof chunk, err)) > 0)
        ;
    zip_guard_entry_close(e);
    return (int)n;
}

Test(zip_guard, ratio_is_enforced_past_the_floor_only)
{
    char *small = big_text(ZIP_GUARD_RATIO_FLOOR / 2, false); /* compresses ~1000:1, small */
    char *large = big_text(4u << 20, false);
    struct xlsx_part parts[] = {{"small", small}, {"large", large}, {NULL, NULL}};
    limits.max_compression_ratio = 20;
    struct zip_guard *zg = open_parts(parts, true);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(drain(zg, 0, &err), 0, "%s", err.message);
    cr_assert_eq(drain(zg, 1, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "z.zip: large is compressed more than 20 to 1, the limit (a zip bomb?)");
    zip_guard_close(zg);
    /* stored (uncompressed) data has a ratio of 1 */
    struct zip_guard *zs = open_parts(parts, false);
    cr_assert_eq(drain(zs, 1, &err), 0, "%s", err.message);
    zip_guard_close(zs);
    free(small);
    free(large);
}

Test(zip_guard, sizes_are_counted_as_read)
{
    char *a = big_text(300000, true);
    struct xlsx_part parts[] = {{"a", a}, {"b", a}, {NULL, NULL}};
    limits.max_entry_uncompressed = 300000;
    limits.max_total_uncompressed = 500000;
    struct zip_guard *zg = open_parts(parts, true);
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(drain(zg, 0, &err), 0, "exactly at the per-entry limit: %s", err.message);
    cr_assert_eq(drain(zg, 1, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "z.zip inflates to more than the limit of 500000 bytes in total");
    zip_guard_close(zg);
    limits.max_entry_uncompressed = 299999;
    zg = open_parts(parts, true);
    cr_assert_eq(drain(zg, 0, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message,
                     "z.zip: a inflates to more than the limit of 299999 bytes per zip entry");
    zip_guard_close(zg);
    free(a);
}

Test(zip_guard, entry_count_and_broken_files)
{
    struct xlsx_part parts[] = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {NULL, NULL}};
    char *path = test_suite_path("n.zip");
    cr_assert(xlsx_fixture_write(path, parts, true));
    limits.max_zip_entries = 2;
    struct zip_guard *zg;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(zip_guard_open(&zg, path, &limits, "n.zip", &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "n.zip holds 3 zip entries, more than the limit of 2");
    cr_assert_null(zg);
    char *junk = test_suite_path("junk.zip");
    cr_assert(test_write_file(junk, "PK\x03\x04 not really", 15));
    cr_assert_eq(zip_guard_open(&zg, junk, &limits, "junk.zip", &err), SD_EINVALID);
    cr_assert_str_eq(
        err.message,
        "junk.zip cannot be opened: it is not a zip archive, or its end is missing (truncated)");
    free(junk);
    free(path);
}

/* ---- xml_stream ---- */

struct collect {
    struct xml_stream *xs;
    struct buf log;
    int suspend_on_item;
    int fail_on;
    int finish_on;
};

static void c_start(void *data, const char *local, const char **attrs)
{
    struct collect *c = data;
    buf_printf(&c->log, "<%s", local);
    const char *id = xml_attr(attrs, "id");
    if (id)
        buf_printf(&c->log, " id=%s", id);
    const char *plain = xml_attr_ns(attrs, NULL, "id");
    const char *in_ns = xml_attr_ns(attrs, "urn:r", "id");
    if (plain || in_ns)
        buf_printf(&c->log, " plain=%s ns=%s", plain ? plain : "-", in_ns ? in_ns : "-");
    buf_printf(&c->log, " d%u>", xml_stream_depth(c->xs));
    if (c->fail_on && !strcmp(local, "boom")) {
        struct sd_error e = SD_ERROR_INIT;
        sd_error_set(&e, SD_EINVALID, "boom refused");
        xml_stream_fail(c->xs, &e);
    }
    if (c->finish_on && !strcmp(local, "stop"))
        xml_stream_finish(c->xs);
}

static void c_end(void *data, const char *local)
{
    struct collect *c = data;
    buf_printf(&c->log, "</%s>", local);
    if (c->suspend_on_item && !strcmp(local, "item"))
        xml_stream_suspend(c->xs);
}

static void c_text(void *data, const char *s, int len)
{
    struct collect *c = data;
    buf_append(&c->log, s, (size_t)len);
}

static bool str_ends(const struct buf *b, const char *suffix)
{
    size_t n = strlen(suffix);
    return b->len >= n && !memcmp(b->data + b->len - n, suffix, n);
}

static const struct xml_stream_handlers handlers = {c_start, c_end, c_text};

static struct zip_guard *one_part(const char *xml)
{
    struct xlsx_part parts[] = {{"doc.xml", xml}, {NULL, NULL}};
    return open_parts(parts, true);
}

Test(xml_stream, local_names_and_attributes)
{
    struct zip_guard *zg =
        one_part("<p:root xmlns:p=\"urn:x\" xmlns:r=\"urn:r\"><p:item r:id=\"a\">t</p:item>"
                 "<item id=\"b\"/></p:root>");
    struct collect c = {0};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xml_stream_open(&c.xs, zg, 0, &handlers, &c, &err), 0);
    cr_assert_eq(xml_stream_run(c.xs, &err), 0);
    cr_assert_str_eq(
        buf_cstr(&c.log),
        "<root d1><item id=a plain=- ns=a d2>t</item><item id=b plain=b ns=- d2></item></root>");
    cr_assert_str_eq(xml_stream_entry_name(c.xs), "doc.xml");
    cr_assert_eq(xml_stream_run(c.xs, &err), 0, "the end stays the end");
    xml_stream_close(c.xs);
    buf_free(&c.log);
    zip_guard_close(zg);
}

Test(xml_stream, suspends_after_each_item)
{
    struct buf doc = BUF_INIT;
    buf_puts(&doc, "<list>");
    for (int i = 0; i < 5000; i++)
        buf_printf(&doc, "<item>%d</item>", i);
    buf_puts(&doc, "</list>");
    struct zip_guard *zg = one_part(buf_cstr(&doc));
    struct collect c = {0};
    c.suspend_on_item = 1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xml_stream_open(&c.xs, zg, 0, &handlers, &c, &err), 0);
    int items = 0;
    int rc;
    while ((rc = xml_stream_run(c.xs, &err)) == 1) {
        char want[32];
        snprintf(want, sizeof want, "<item d2>%d</item>", items);
        cr_assert(strstr(buf_cstr(&c.log), want), "item %d", items);
        cr_assert(str_ends(&c.log, want), "suspended right after item %d", items);
        buf_clear(&c.log);
        items++;
    }
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_eq(items, 5000);
    xml_stream_close(c.xs);
    buf_free(&c.log);
    buf_free(&doc);
    zip_guard_close(zg);
}

Test(xml_stream, handler_failure_finish_and_malformed)
{
    struct zip_guard *zg = one_part("<a><boom/><b/></a>");
    struct collect c = {0};
    c.fail_on = 1;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xml_stream_open(&c.xs, zg, 0, &handlers, &c, &err), 0);
    cr_assert_eq(xml_stream_run(c.xs, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "boom refused");
    cr_assert_eq(xml_stream_run(c.xs, &err), SD_EINVALID, "failure is sticky");
    cr_assert_null(strstr(buf_cstr(&c.log), "<b d"), "nothing after the failure: %s",
                   buf_cstr(&c.log));
    xml_stream_close(c.xs);
    buf_free(&c.log);
    zip_guard_close(zg);

    zg = one_part("<a><stop/><b/><unclosed></a>");
    struct collect f = {0};
    f.finish_on = 1;
    cr_assert_eq(xml_stream_open(&f.xs, zg, 0, &handlers, &f, &err), 0);
    cr_assert_eq(xml_stream_run(f.xs, &err), 0, "finish stops before the broken part");
    xml_stream_close(f.xs);
    buf_free(&f.log);
    zip_guard_close(zg);

    zg = one_part("<a>\n<b></a>");
    struct collect m = {0};
    cr_assert_eq(xml_stream_open(&m.xs, zg, 0, &handlers, &m, &err), 0);
    cr_assert_eq(xml_stream_run(m.xs, &err), SD_EINVALID);
    cr_assert_str_eq(err.message,
                     "z.zip: doc.xml is not well-formed XML (line 2, column 6: mismatched tag)");
    xml_stream_close(m.xs);
    buf_free(&m.log);
    zip_guard_close(zg);
}

Test(xml_stream, depth_and_doctype)
{
    limits.max_xml_depth = 3;
    struct zip_guard *zg = one_part("<a><b><c><d/></c></b></a>");
    struct collect c = {0};
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xml_stream_open(&c.xs, zg, 0, &handlers, &c, &err), 0);
    cr_assert_eq(xml_stream_run(c.xs, &err), SD_ELIMIT);
    cr_assert_str_eq(err.message, "z.zip: doc.xml nests XML elements deeper than the limit of 3");
    xml_stream_close(c.xs);
    buf_free(&c.log);
    zip_guard_close(zg);
    zg = one_part("<!DOCTYPE a SYSTEM \"http://example.com/a.dtd\"><a/>");
    struct collect d = {0};
    cr_assert_eq(xml_stream_open(&d.xs, zg, 0, &handlers, &d, &err), 0);
    cr_assert_eq(xml_stream_run(d.xs, &err), SD_EINVALID);
    cr_assert(strstr(err.message, "contains a DOCTYPE declaration"), "%s", err.message);
    cr_assert_eq(d.log.len, 0, "no element was reported");
    xml_stream_close(d.xs);
    buf_free(&d.log);
    zip_guard_close(zg);
}
