/* The XLSX reader at the XML level: the input's first byte picks a part (worksheet, shared
 * strings, styles, workbook or workbook relationships) and the rest becomes that part of an
 * otherwise valid minimal package, written with libzip. Mutations then land in our XML
 * handlers rather than in the zip container. Never a crash, a leak or a hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "fuzz_support.h"
#include "sheet/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NS "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define PKG "http://schemas.openxmlformats.org/package/2006/relationships"

static const char *part_names[5] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml",
                                    "xl/styles.xml", "xl/workbook.xml",
                                    "xl/_rels/workbook.xml.rels"};

static const char *defaults[5] = {
    "<worksheet xmlns=\"" NS "\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
    "<c r=\"B1\" s=\"1\"><v>42064</v></c></row></sheetData></worksheet>",
    "<sst xmlns=\"" NS "\"><si><t>x</t></si></sst>",
    "<styleSheet xmlns=\"" NS "\"><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs>"
    "</styleSheet>",
    "<workbook xmlns=\"" NS "\" xmlns:r=\"" REL "\"><sheets><sheet name=\"S\" sheetId=\"1\" "
    "r:id=\"rId1\"/></sheets></workbook>",
    "<Relationships xmlns=\"" PKG "\"><Relationship Id=\"rId1\" Type=\"" REL "/worksheet\" "
    "Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"" REL "/sharedStrings\" "
    "Target=\"sharedStrings.xml\"/><Relationship Id=\"rId3\" Type=\"" REL "/styles\" "
    "Target=\"styles.xml\"/></Relationships>",
};

static bool add(zip_t *za, const char *name, const void *bytes, size_t len)
{
    zip_source_t *src = zip_source_buffer(za, bytes, len, 0);
    if (!src)
        return false;
    zip_int64_t idx = zip_file_add(za, name, src, 0);
    if (idx < 0) {
        zip_source_free(src);
        return false;
    }
    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = data[0] % 5;
    char path[] = "/tmp/fuzz_xlsx_xml_XXXXXX";
    if (!fuzz_make_temp_path(path))
        return 0;
    int zerr;
    zip_t *za = zip_open(path, ZIP_TRUNCATE, &zerr);
    if (!za) {
        unlink(path);
        return 0;
    }
    bool ok = add(za, "[Content_Types].xml", "<Types/>", 8);
    for (size_t i = 0; i < 5 && ok; i++) {
        if (i == which)
            ok = add(za, part_names[i], data + 1, size - 1);
        else
            ok = add(za, part_names[i], defaults[i], strlen(defaults[i]));
    }
    if (!ok || zip_close(za) != 0) {
        if (!ok)
            zip_discard(za);
        unlink(path);
        return 0;
    }
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book = NULL;
    fuzz_check_open(sheet_open(&book, path, &opts, &err), book, &err);
    unlink(path);
    return 0;
}
