#include "xlsx_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "base/buf.h"
#include "sheet/cell_format.h"

bool xlsx_fixture_write(const char *path, const struct xlsx_part *parts, bool deflate)
{
    int zerr;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za)
        return false;
    for (size_t i = 0; parts[i].name; i++) {
        size_t len = strlen(parts[i].data);
        char *copy = malloc(len + 1);
        if (!copy)
            goto fail;
        memcpy(copy, parts[i].data, len + 1);
        zip_source_t *src = zip_source_buffer(za, copy, len, 1);
        if (!src) {
            free(copy);
            goto fail;
        }
        zip_int64_t idx = zip_file_add(za, parts[i].name, src, ZIP_FL_ENC_RAW);
        if (idx < 0) {
            zip_source_free(src);
            goto fail;
        }
        zip_set_file_compression(za, (zip_uint64_t)idx, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 9);
    }
    return zip_close(za) == 0;
fail:
    zip_discard(za);
    return false;
}

bool xlsx_fixture_minimal(const char *path, const char *sheet_body, const char *sst,
                          const char *styles)
{
    char *sheet = NULL;
    if (asprintf(&sheet,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<worksheet xmlns=\"" XLSX_NS
                 "\" xmlns:r=\"" XLSX_REL_NS "\">%s</worksheet>",
                 sheet_body) < 0)
        return false;
    struct xlsx_part parts[8];
    size_t n = 0;
    parts[n++] = (struct xlsx_part){
        "[Content_Types].xml",
        "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
        "content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>"};
    parts[n++] = (struct xlsx_part){
        "_rels/.rels",
        "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
        "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"};
    parts[n++] = (struct xlsx_part){"xl/workbook.xml",
                                    "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS
                                    "\"><sheets><sheet name=\"Sheet1\" "
                                    "sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"};
    parts[n++] = (struct xlsx_part){"xl/_rels/workbook.xml.rels",
                                    "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\">"
                                    "<Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
                                    "/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
                                    "<Relationship Id=\"rId2\" Type=\"" XLSX_REL_NS
                                    "/sharedStrings\" Target=\"sharedStrings.xml\"/>"
                                    "<Relationship Id=\"rId3\" Type=\"" XLSX_REL_NS
                                    "/styles\" Target=\"styles.xml\"/>"
                                    "</Relationships>"};
    parts[n++] = (struct xlsx_part){"xl/worksheets/sheet1.xml", sheet};
    if (sst)
        parts[n++] = (struct xlsx_part){"xl/sharedStrings.xml", sst};
    if (styles)
        parts[n++] = (struct xlsx_part){"xl/styles.xml", styles};
    parts[n] = (struct xlsx_part){NULL, NULL};
    bool ok = xlsx_fixture_write(path, parts, true);
    free(sheet);
    return ok;
}

char *xlsx_fixture_dump(const char *path, const struct sheet_open_options *opts, const char *sheet,
                        int *rc, struct sd_error *err)
{
    struct sheet_book *book;
    *rc = sheet_open(&book, path, opts, err);
    if (*rc < 0)
        return NULL;
    struct buf out = BUF_INIT;
    *rc = sheet ? sheet_select_arg(book, sheet, err) : sheet_select_default(book, err);
    const struct sheet_row *row;
    int r = 0;
    while (*rc == 0 && (r = sheet_next_row(book, &row, err)) == 1) {
        for (size_t i = 0; i < row->ncells; i++) {
            const struct sheet_cell *c = &row->cells[i];
            char ref[16];
            cell_format_ref(c->column, row->number, ref);
            buf_printf(&out, "%s\t%c\t", ref, cell_format_type_letter(c->type));
            if (c->type == SHEET_CELL_STRING || c->type == SHEET_CELL_ERROR)
                cell_format_escape(&out, c->text, c->text_len);
            else
                cell_format_value(c, &out);
            buf_putc(&out, '\n');
        }
    }
    if (*rc == 0 && r < 0)
        *rc = r;
    sheet_close(book);
    return buf_detach(&out);
}
