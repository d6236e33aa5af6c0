#include "import_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "base/buf.h"
#include "store/store.h"
#include "test_support.h"

char *fx_dir;
struct db *fx_db;
static struct store *fx_store;

void fx_setup(void)
{
    fx_dir = test_make_tmpdir();
    cr_assert_not_null(fx_dir);
    struct store_config cfg = STORE_CONFIG_INIT;
    cfg.data_dir = fx_dir;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&fx_store, &cfg, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_migrate(fx_store, NULL, &err), 0, "%s", sd_error_message(&err));
    cr_assert_eq(store_acquire_main(fx_store, &fx_db, &err), 0, "%s", sd_error_message(&err));
}

void fx_teardown(void)
{
    store_release(fx_store, fx_db);
    store_close(fx_store);
    test_rmtree(fx_dir);
    free(fx_dir);
}

struct import_template *fx_template_json(const char *json)
{
    struct import_template *t = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_create(&t, fx_db, json, strlen(json), NULL, &err);
    cr_assert_eq(rc, 0, "template_create: %s", sd_error_message(&err));
    return t;
}

struct import_template *fx_people(const char *table, const char *mode)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"%s\", \"table\": \"%s\", \"mode\": \"%s\", \"upsert_key\": [\"email\"],"
             " \"columns\": ["
             " {\"key\": \"email\", \"header\": \"Email\", \"aliases\": [\"E-mail\"],"
             "  \"type\": \"email\", \"required\": true, \"unique\": true},"
             " {\"key\": \"name\", \"header\": \"Name\", \"type\": \"string\", \"max_length\": 20},"
             " {\"key\": \"country\", \"header\": \"Country\", \"type\": \"enum\","
             "  \"values\": [\"Germany\", \"France\"]},"
             " {\"key\": \"born\", \"header\": \"Born\", \"type\": \"date\","
             "  \"format\": \"DD/MM/YYYY\"},"
             " {\"key\": \"seen\", \"header\": \"Seen At\", \"type\": \"datetime\"},"
             " {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0},"
             " {\"key\": \"qty\", \"header\": \"Qty\", \"type\": \"integer\"},"
             " {\"key\": \"active\", \"header\": \"Active\", \"type\": \"boolean\"}"
             "]}",
             table, table, mode);
    return fx_template_json(json);
}

char *fx_file(const char *name, const char *content)
{
    char *path = test_path(fx_dir, name);
    cr_assert(test_write_file(path, content, strlen(content)));
    return path;
}

static void fx_zip_add(zip_t *z, const char *name, const char *text, bool store)
{
    char *copy = strdup(text);
    zip_source_t *src = zip_source_buffer(z, copy, strlen(copy), 1);
    cr_assert_not_null(src);
    zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_OVERWRITE);
    cr_assert(idx >= 0, "%s", zip_strerror(z));
    if (store)
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
}

char *fx_xlsx(const char *name, bool date1904, const char *rows)
{
    char *path = test_path(fx_dir, name);
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    cr_assert_not_null(z);
    fx_zip_add(z, "[Content_Types].xml",
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
               "<Default Extension=\"rels\" "
               "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
               "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
               "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
               "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
               "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/"
               "vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
               "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/"
               "vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>"
               "</Types>",
               false);
    fx_zip_add(
        z, "_rels/.rels",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>",
        false);
    char wb[1024];
    snprintf(wb, sizeof wb,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
             "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
             "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
             "<workbookPr%s/><sheets><sheet name=\"People\" sheetId=\"1\" r:id=\"rId1\"/>"
             "</sheets></workbook>",
             date1904 ? " date1904=\"1\"" : "");
    fx_zip_add(z, "xl/workbook.xml", wb, false);
    fx_zip_add(
        z, "xl/_rels/workbook.xml.rels",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
        "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
        "2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>",
        false);
    fx_zip_add(
        z, "xl/styles.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
        "<cellXfs count=\"2\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\" applyNumberFormat=\"1\"/>"
        "</cellXfs></styleSheet>",
        false);
    struct buf sheet = BUF_INIT;
    buf_printf(&sheet,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
               "<sheetData>%s</sheetData></worksheet>",
               rows);
    fx_zip_add(z, "xl/worksheets/sheet1.xml", buf_cstr(&sheet), false);
    buf_free(&sheet);
    cr_assert_eq(zip_close(z), 0);
    return path;
}

char *fx_ods(const char *name, const char *rows)
{
    char *path = test_path(fx_dir, name);
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    cr_assert_not_null(z);
    fx_zip_add(z, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", true);
    fx_zip_add(z, "META-INF/manifest.xml",
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:"
               "manifest:1.0\" manifest:version=\"1.2\">"
               "<manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/"
               "vnd.oasis.opendocument.spreadsheet\"/>"
               "<manifest:file-entry manifest:full-path=\"content.xml\" "
               "manifest:media-type=\"text/xml\"/></manifest:manifest>",
               false);
    struct buf c = BUF_INIT;
    buf_printf(&c,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<office:document-content "
               "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
               "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "
               "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
               "office:version=\"1.2\"><office:body><office:spreadsheet>"
               "<table:table table:name=\"People\">%s</table:table>"
               "</office:spreadsheet></office:body></office:document-content>",
               rows);
    fx_zip_add(z, "content.xml", buf_cstr(&c), false);
    buf_free(&c);
    cr_assert_eq(zip_close(z), 0);
    return path;
}

char *fx_dump(const char *sql)
{
    struct sd_error err = SD_ERROR_INIT;
    struct db_stmt *st = NULL;
    cr_assert_eq(db_prepare(&st, fx_db, sql, &err), 0, "%s: %s", sql, sd_error_message(&err));
    struct buf out = BUF_INIT;
    int rc;
    while ((rc = db_step(st, &err)) == DB_ROW) {
        for (int i = 0; i < db_column_count(st); i++) {
            const char *t = db_column_text(st, i);
            buf_printf(&out, "%s%s", i ? "|" : "", t ? t : "-");
        }
        buf_putc(&out, '\n');
    }
    cr_assert_eq(rc, DB_DONE, "%s", sd_error_message(&err));
    db_finalize(st);
    return buf_detach(&out);
}

void fx_expect_dump(const char *sql, const char *want)
{
    char *got = fx_dump(sql);
    cr_assert_str_eq(got, want);
    free(got);
}

long fx_count(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    char *s = fx_dump(sql);
    long n = atol(s);
    free(s);
    return n;
}

struct import_result *fx_import(const struct import_template *tmpl, const char *path,
                                const struct import_options *opts)
{
    struct import_result *res = NULL;
    struct sd_error err = SD_ERROR_INIT;
    int rc = import_service_run(&res, fx_db, tmpl, path, opts, &err);
    cr_assert_eq(rc, 0, "import_service_run: %d %s", rc, sd_error_message(&err));
    cr_assert_not_null(res);
    return res;
}

char *fx_errors(const struct import_result *res)
{
    struct buf out = BUF_INIT;
    for (size_t i = 0; i < res->nerrors; i++) {
        import_error_format(&res->errors[i], &out);
        buf_putc(&out, '\n');
    }
    return buf_detach(&out);
}

void fx_expect_errors(const struct import_result *res, const char *want)
{
    char *got = fx_errors(res);
    cr_assert_str_eq(got, want);
    free(got);
}

char *fx_zip_entry(const char *path, const char *name)
{
    int zerr;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    cr_assert_not_null(z, "%s is not a zip", path);
    zip_stat_t st;
    cr_assert_eq(zip_stat(z, name, 0, &st), 0, "%s has no %s", path, name);
    char *data = calloc(1, st.size + 1);
    zip_file_t *f = zip_fopen(z, name, 0);
    cr_assert_eq(zip_fread(f, data, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    zip_close(z);
    return data;
}
