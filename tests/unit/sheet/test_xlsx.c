/*
 * The XLSX reader, one fixture per rule (DESIGN.md; the point 2). Each package is
 * built here with libzip (xlsx_fixture.c), so the XML that triggers a rule is in front of
 * the reader of the test. Limits are in test_xlsx_limits.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/civil_cases.h"
#include "base/buf.h"
#include "base/civil.h"
#include "sheet/cell_format.h"
#include "sheet/xlsx_internal.h"
#include "test_support.h"
#include "xlsx_fixture.h"

TestSuite(xlsx, .init = test_suite_tmpdir_setup, .fini = test_suite_tmpdir_teardown);

/* Writes a minimal package around `body` and returns its dump; asserts it read cleanly. */
static char *read_sheet(const char *body, const char *sst, const char *styles)
{
    char *path = test_suite_path("t.xlsx");
    cr_assert(xlsx_fixture_minimal(path, body, sst, styles));
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *text = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "read failed: %s", err.message);
    free(path);
    return text;
}

static void expect_sheet(const char *body, const char *sst, const char *styles, const char *want)
{
    char *got = read_sheet(body, sst, styles);
    cr_assert_str_eq(got, want);
    free(got);
}

#define SST(items) "<sst xmlns=\"" XLSX_NS "\">" items "</sst>"
#define STYLES(fmts, xfs)                                                                          \
    "<styleSheet xmlns=\"" XLSX_NS "\"><numFmts>" fmts "</numFmts>"                                \
    "<cellStyleXfs><xf numFmtId=\"14\"/></cellStyleXfs><cellXfs>" xfs "</cellXfs></styleSheet>"

Test(xlsx, cell_types)
{
    expect_sheet("<sheetData><row r=\"1\">"
                 "<c r=\"A1\" t=\"s\"><v>1</v></c>"
                 "<c r=\"B1\" t=\"str\"><f>A1&amp;\"x\"</f><v>worldx</v></c>"
                 "<c r=\"C1\" t=\"inlineStr\"><is><t>inline</t></is></c>"
                 "<c r=\"D1\" t=\"b\"><v>1</v></c>"
                 "<c r=\"E1\" t=\"b\"><v>0</v></c>"
                 "<c r=\"F1\" t=\"e\"><v>#DIV/0!</v></c>"
                 "<c r=\"G1\" t=\"n\"><v>-1.5E+3</v></c>"
                 "<c r=\"H1\"><v>42</v></c>"
                 "<c r=\"I1\" t=\"d\"><v>2015-03-01T10:11:12Z</v></c>"
                 "<c r=\"J1\" t=\"d\"><v>2015-03-01</v></c>"
                 "<c r=\"K1\" t=\"d\"><v>10:10:10</v></c>"
                 "<c r=\"L1\" t=\"\"><v>7</v></c>"
                 "<c r=\"M1\"><f>1/0</f><v>0.1</v></c>"
                 "</row></sheetData>",
                 SST("<si><t>hello</t></si><si><t>world</t></si>"), NULL,
                 "A1\ts\tworld\nB1\ts\tworldx\nC1\ts\tinline\nD1\tb\tTRUE\nE1\tb\tFALSE\n"
                 "F1\te\t#DIV/0!\nG1\tn\t-1500\nH1\tn\t42\nI1\td\t2015-03-01T10:11:12\n"
                 "J1\td\t2015-03-01\nK1\td\t10:10:10\nL1\tn\t7\nM1\tn\t0.1\n");
}

Test(xlsx, empty_values_are_empty_cells)
{
    expect_sheet("<sheetData><row r=\"1\"><c r=\"A1\"><v/></c><c r=\"B1\" t=\"s\"><v></v></c>"
                 "<c r=\"C1\" t=\"str\"><v/></c><c r=\"D1\" t=\"inlineStr\"><is><t/></is></c>"
                 "<c r=\"E1\" s=\"0\"/><c r=\"F1\" t=\"s\"><v>0</v></c></row>"
                 "<row r=\"2\"><c r=\"A2\"><v></v></c></row>"
                 "<row r=\"3\"><c r=\"B3\"><v>3</v></c></row></sheetData>",
                 SST("<si><t></t></si>"), NULL, "B3\tn\t3\n");
}

Test(xlsx, rows_and_cells_without_r)
{
    expect_sheet(
        "<sheetData>"
        "<row><c><v>1</v></c><c><v>2</v></c></row>"
        "<row><c t=\"inlineStr\"><is><t>a</t></is></c><c r=\"D2\"><v>4</v></c><c><v>5</v></c></row>"
        "<row r=\"7\"><c><v>7</v></c></row>"
        "<row><c r=\"B9\"><v>9</v></c></row>"
        "<row><c><v>10</v></c></row>"
        "</sheetData>",
        NULL, NULL,
        "A1\tn\t1\nB1\tn\t2\nA2\ts\ta\nD2\tn\t4\nE2\tn\t5\nA7\tn\t7\nB9\tn\t9\n"
        "A10\tn\t10\n");
}

Test(xlsx, wrong_or_missing_dimension_does_not_matter)
{
    expect_sheet("<dimension ref=\"A1:A1\"/><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"
                 "<row r=\"3\"><c r=\"C3\"><v>3</v></c></row></sheetData>",
                 NULL, NULL, "A1\tn\t1\nC3\tn\t3\n");
    expect_sheet(
        "<dimension ref=\"garbage\"/><sheetData><row r=\"2\"><c r=\"B2\"><v>2</v></c></row>"
        "</sheetData>",
        NULL, NULL, "B2\tn\t2\n");
}

Test(xlsx, rich_text_runs_and_phonetic)
{
    expect_sheet(
        "<sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
        "<c r=\"B1\" t=\"inlineStr\"><is><r><t>in</t></r><r><rPr><b/></rPr><t>line</t></r>"
        "<rPh sb=\"0\" eb=\"1\"><t>PHON</t></rPh></is></c></row></sheetData>",
        SST("<si><r><t xml:space=\"preserve\">Hello </t></r><r><rPr><b/></rPr><t>World</t></r>"
            "<rPh sb=\"0\" eb=\"2\"><t>HA</t></rPh><phoneticPr fontId=\"1\"/></si>"),
        NULL, "A1\ts\tHello World\nB1\ts\tinline\n");
}

Test(xlsx, xml_space_trimming)
{
    expect_sheet("<sheetData><row r=\"1\">"
                 "<c r=\"A1\" t=\"inlineStr\"><is><t>  trimmed  </t></is></c>"
                 "<c r=\"B1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">  kept  </t></is></c>"
                 "<c r=\"C1\" t=\"inlineStr\"><is><t>&#9;tab&#10;</t></is></c>"
                 "<c r=\"D1\" t=\"inlineStr\"><is><t> \n </t></is></c>"
                 "<c r=\"E1\" t=\"s\"><v>0</v></c>"
                 "<c r=\"F1\" t=\"inlineStr\"><is><t>a\n b</t></is></c>"
                 "<c r=\"G1\" t=\"inlineStr\"><is><t>x_x000D_</t></is></c>"
                 "</row></sheetData>",
                 SST("<si xml:space=\"preserve\"><t> inherited </t></si>"), NULL,
                 "A1\ts\ttrimmed\nB1\ts\t  kept  \nC1\ts\ttab\nE1\ts\t inherited \n"
                 "F1\ts\ta\\n b\nG1\ts\tx\\r\n");
}

Test(xlsx, escapes)
{
    expect_sheet("<sheetData><row r=\"1\">"
                 "<c r=\"A1\" t=\"s\"><v>0</v></c>"
                 "<c r=\"B1\" t=\"inlineStr\"><is><t>_x0041__x0062_c</t></is></c>"
                 "<c r=\"C1\" t=\"str\"><v>a_x0009_b</v></c>"
                 "<c r=\"D1\" t=\"inlineStr\"><is><t>_x005F_x0041_</t></is></c>"
                 "<c r=\"E1\" t=\"inlineStr\"><is><t>_xD83D__xDE00_</t></is></c>"
                 "<c r=\"F1\" t=\"inlineStr\"><is><t>_x00zz_ _x41_</t></is></c>"
                 "<c r=\"G1\" t=\"inlineStr\"><is><t>_xD800_</t></is></c>"
                 "</row></sheetData>",
                 SST("<si><t>ABC_x000D_&#10;DEF</t></si>"), NULL,
                 "A1\ts\tABC\\r\\nDEF\nB1\ts\tAbc\nC1\ts\ta\\tb\nD1\ts\t_x0041_\n"
                 "E1\ts\t\xF0\x9F\x98\x80\nF1\ts\t_x00zz_ _x41_\nG1\ts\t\xEF\xBF\xBD\n");
}

Test(xlsx, dates_from_styles)
{
    const char *styles = STYLES("<numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/>"
                                "<numFmt numFmtId=\"165\" formatCode=\"[h]:mm:ss\"/>"
                                "<numFmt numFmtId=\"166\" formatCode=\"0.00\"/>"
                                "<numFmt numFmtId=\"14\" formatCode=\"0.000\"/>",
                                "<xf numFmtId=\"0\"/><xf numFmtId=\"164\"/><xf numFmtId=\"165\"/>"
                                "<xf numFmtId=\"166\"/><xf numFmtId=\"22\"/><xf numFmtId=\"14\"/>"
                                "<xf numFmtId=\"20\"/>");
    expect_sheet("<sheetData><row r=\"1\">"
                 "<c r=\"A1\" s=\"1\"><v>42064</v></c>"
                 "<c r=\"B1\" s=\"2\"><v>0.5</v></c>"
                 "<c r=\"C1\" s=\"2\"><v>1.5</v></c>"
                 "<c r=\"D1\" s=\"3\"><v>42064</v></c>"
                 "<c r=\"E1\" s=\"4\"><v>42064.25</v></c>"
                 "<c r=\"F1\" s=\"5\"><v>42064</v></c>"
                 "<c r=\"G1\" s=\"6\"><v>0.75</v></c>"
                 "<c r=\"H1\" s=\"99\"><v>42064</v></c>"
                 "<c r=\"I1\" s=\"1\"><v>-5</v></c>"
                 "</row><row r=\"2\">"
                 "<c r=\"A2\" s=\"1\"><v>59</v></c><c r=\"B2\" s=\"1\"><v>60</v></c>"
                 "<c r=\"C2\" s=\"1\"><v>61</v></c><c r=\"D2\" s=\"1\"><v>1</v></c>"
                 "<c r=\"E2\" s=\"4\"><v>44197.999999</v></c>"
                 "</row></sheetData>",
                 NULL, styles,
                 "A1\td\t2015-03-01\nB1\td\t12:00:00\nC1\td\t1900-01-01T12:00:00\n"
                 "D1\tn\t42064\nE1\td\t2015-03-01T06:00:00\nF1\tn\t42064\nG1\td\t18:00:00\n"
                 "H1\tn\t42064\nI1\tn\t-5\n"
                 "A2\td\t1900-02-28\nB2\td\t1900-02-28\nC2\td\t1900-03-01\nD2\td\t1900-01-01\n"
                 "E2\td\t2021-01-02\n");
}

/* t="d" cells read the shared ISO table as base/civil.c does; text that is no date stays
 * text. */
Test(xlsx, iso_dates_follow_the_shared_table)
{
    struct buf body = BUF_INIT, want = BUF_INIT;
    buf_puts(&body, "<sheetData>");
    for (size_t i = 0; i < CIVIL_NCASES; i++) {
        const struct civil_case *c = &civil_cases[i];
        buf_printf(&body, "<row r=\"%zu\"><c r=\"A%zu\" t=\"d\"><v>%s</v></c></row>", i + 1, i + 1,
                   c->text);
        char text[32];
        if (c->ok)
            cell_format_date((double)civil_days_from_ymd(c->y, c->m, c->d) + c->secs / 86400, text);
        buf_printf(&want, "A%zu\t%c\t%s\n", i + 1, c->ok ? 'd' : 's', c->ok ? text : c->text);
    }
    buf_puts(&body, "</sheetData>");
    expect_sheet(buf_cstr(&body), NULL, NULL, buf_cstr(&want));
    buf_free(&body);
    buf_free(&want);
}

static const char *workbook_1904 =
    "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS "\"><workbookPr date1904=\"1\"/>"
    "<sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";

Test(xlsx, date_1904_system)
{
    char *path = test_suite_path("d1904.xlsx");
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"a\" Type=\"" XLSX_REL_NS
         "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
        {"xl/workbook.xml", workbook_1904},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS
         "\"><Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"s.xml\"/><Relationship Id=\"rId2\" Type=\"" XLSX_REL_NS
         "/styles\" Target=\"st.xml\"/></Relationships>"},
        {"xl/s.xml", "<worksheet xmlns=\"" XLSX_NS
                     "\"><sheetData><row r=\"1\"><c r=\"A1\" s=\"1\"><v>42735</v></c><c r=\"B1\" "
                     "s=\"1\"><v>0</v></c><c s=\"1\"><v>-1460</v></c><c s=\"1\"><v>-1</v></c>"
                     "<c s=\"1\"><v>-0.25</v></c><c s=\"1\"><v>-1460.5</v></c><c><v>-1</v></c>"
                     "</row></sheetData></worksheet>"},
        {"xl/st.xml", STYLES("", "<xf numFmtId=\"0\"/><xf numFmtId=\"14\"/>")},
        {NULL, NULL}};
    cr_assert(xlsx_fixture_write(path, parts, true));
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    /* negative serials are the days before 1904-01-01 (as openpyxl writes them), down to
     * 1900-01-01; below that, or without a date format, they stay numbers */
    cr_assert_str_eq(got, "A1\td\t2021-01-01\nB1\td\t1904-01-01\nC1\td\t1900-01-01\n"
                          "D1\td\t1903-12-31\nE1\td\t1903-12-31T18:00:00\nF1\tn\t-1460.5\n"
                          "G1\tn\t-1\n");
    free(got);
    free(path);
}

/* A package whose parts are named and linked oddly, as real files are. */
static void expect_package(const struct xlsx_part *parts, const char *want_names,
                           const char *want_cells)
{
    char *path = test_suite_path("p.xlsx");
    cr_assert(xlsx_fixture_write(path, parts, true));
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    char names[256] = "";
    for (size_t i = 0; i < sheet_count(book); i++) {
        const struct sheet_info *info = sheet_get_info(book, i);
        strcat(names, info->name);
        strcat(names, info->visible ? ";" : "(hidden);");
    }
    cr_assert_str_eq(names, want_names);
    sheet_close(book);
    int rc;
    char *got = xlsx_fixture_dump(path, NULL, NULL, &rc, &err);
    cr_assert_eq(rc, 0, "%s", err.message);
    cr_assert_str_eq(got, want_cells);
    free(got);
    free(path);
}

#define PKG_RELS(target)                                                                           \
    "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"r1\" Type=\"" XLSX_REL_NS     \
    "/officeDocument\" Target=\"" target "\"/></Relationships>"
#define ONE_CELL(ns_attr, p)                                                                       \
    "<" p "worksheet " ns_attr "><" p "sheetData><" p "row r=\"1\"><" p "c r=\"A1\"><" p "v>1</" p \
    "v></" p "c></" p "row></" p "sheetData></" p "worksheet>"

Test(xlsx, absolute_backslash_and_case_targets)
{
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels", PKG_RELS("/xl/workbook.xml")},
        {"xl/workbook.xml", "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS "\"><sheets>"
                            "<sheet name=\"Abs\" sheetId=\"1\" r:id=\"rId1\"/>"
                            "<sheet name=\"Back\" sheetId=\"2\" r:id=\"rId2\" state=\"hidden\"/>"
                            "<sheet name=\"Case\" sheetId=\"3\" r:id=\"rId3\"/>"
                            "<sheet name=\"Up\" sheetId=\"4\" r:id=\"rId4\" "
                            "state=\"veryHidden\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\">"
         "<Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"/xl/worksheets/a.xml\"/>"
         "<Relationship Id=\"rId2\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"worksheets\\b.xml\"/>"
         "<Relationship Id=\"rId3\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"Worksheets/C.XML\"/>"
         "<Relationship Id=\"rId4\" Type=\"" XLSX_REL_NS "/worksheet\" Target=\"./x/../../d.xml\"/>"
         "<Relationship Id=\"rId9\" Type=\"" XLSX_REL_NS
         "/hyperlink\" Target=\"http://example.com/\" TargetMode=\"External\"/>"
         "</Relationships>"},
        {"xl/worksheets/a.xml", ONE_CELL("xmlns=\"" XLSX_NS "\"", "")},
        {"xl\\worksheets\\b.xml",
         "<worksheet xmlns=\"" XLSX_NS
         "\"><sheetData><row r=\"2\"><c r=\"B2\"><v>2</v></c></row></sheetData></worksheet>"},
        {"xl/worksheets/c.xml",
         "<worksheet xmlns=\"" XLSX_NS
         "\"><sheetData><row r=\"3\"><c r=\"C3\"><v>3</v></c></row></sheetData></worksheet>"},
        {"d.xml",
         "<worksheet xmlns=\"" XLSX_NS
         "\"><sheetData><row r=\"4\"><c r=\"D4\"><v>4</v></c></row></sheetData></worksheet>"},
        {NULL, NULL}};
    expect_package(parts, "Abs;Back(hidden);Case;Up(hidden);", "A1\tn\t1\n");
    char *path = test_suite_path("p.xlsx");
    const char *args[] = {"Back", "2", "3"};
    const char *want[] = {"B2\tn\t2\n", "C3\tn\t3\n", "D4\tn\t4\n"};
    for (size_t i = 0; i < 3; i++) {
        struct sd_error err = SD_ERROR_INIT;
        int rc;
        char *got = xlsx_fixture_dump(path, NULL, args[i], &rc, &err);
        cr_assert_eq(rc, 0, "%s: %s", args[i], err.message);
        cr_assert_str_eq(got, want[i], "sheet %s", args[i]);
        free(got);
    }
    free(path);
}

Test(xlsx, any_namespace_prefix)
{
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels", "<pr:Relationships xmlns:pr=\"" XLSX_PKG_REL_NS
                        "\"><pr:Relationship Id=\"r1\" Type=\"" XLSX_REL_NS
                        "/officeDocument\" Target=\"xl/workbook.xml\"/></pr:Relationships>"},
        {"xl/workbook.xml", "<x:workbook xmlns:x=\"" XLSX_NS "\" xmlns:rel=\"" XLSX_REL_NS
                            "\"><x:sheets><x:sheet name=\"P\" sheetId=\"1\" "
                            "rel:id=\"rId1\"/></x:sheets></x:workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS
         "\"><Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"s.xml\"/><Relationship Id=\"rId2\" Type=\"" XLSX_REL_NS
         "/sharedStrings\" Target=\"sst.xml\"/></Relationships>"},
        {"xl/s.xml",
         "<x:worksheet xmlns:x=\"" XLSX_NS
         "\"><x:sheetData><x:row r=\"1\"><x:c r=\"A1\" t=\"s\"><x:v>0</x:v></x:c><x:c r=\"B1\" "
         "t=\"inlineStr\"><x:is><x:r><x:t>i</x:t></x:r></x:is></x:c></x:row></x:sheetData></"
         "x:worksheet>"},
        {"xl/sst.xml", "<y:sst xmlns:y=\"" XLSX_NS "\"><y:si><y:t>prefixed</y:t></y:si></y:sst>"},
        {NULL, NULL}};
    expect_package(parts, "P;", "A1\ts\tprefixed\nB1\ts\ti\n");
}

#define STRICT_NS "http://purl.oclc.org/ooxml/spreadsheetml/main"
#define STRICT_REL "http://purl.oclc.org/ooxml/officeDocument/relationships"

Test(xlsx, strict_ooxml)
{
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"r1\" Type=\"" STRICT_REL
         "/officeDocument\" Target=\"book/main.xml\"/></Relationships>"},
        {"book/main.xml", "<workbook xmlns=\"" STRICT_NS "\" xmlns:r=\"" STRICT_REL
                          "\"><workbookPr dateCompatibility=\"false\"/><sheets><sheet "
                          "name=\"Strict\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
        {"book/_rels/main.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\"><Relationship Id=\"rId1\" Type=\"" STRICT_REL
         "/worksheet\" Target=\"sheets/one.xml\"/><Relationship Id=\"rId2\" Type=\"" STRICT_REL
         "/sharedStrings\" Target=\"strings.xml\"/><Relationship Id=\"rId3\" Type=\"" STRICT_REL
         "/styles\" Target=\"styles.xml\"/></Relationships>"},
        {"book/sheets/one.xml", "<worksheet xmlns=\"" STRICT_NS
                                "\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c "
                                "r=\"B1\" s=\"1\"><v>42064</v></c></row></sheetData></worksheet>"},
        {"book/strings.xml", "<sst xmlns=\"" STRICT_NS "\"><si><t>strict</t></si></sst>"},
        {"book/styles.xml",
         "<styleSheet xmlns=\"" STRICT_NS
         "\"><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>"},
        {NULL, NULL}};
    expect_package(parts, "Strict;", "A1\ts\tstrict\nB1\td\t2015-03-01\n");
}

Test(xlsx, sheet_selection_and_listing)
{
    struct xlsx_part parts[] = {
        {"[Content_Types].xml", "<Types/>"},
        {"_rels/.rels", PKG_RELS("xl/workbook.xml")},
        {"xl/workbook.xml",
         "<workbook xmlns=\"" XLSX_NS "\" xmlns:r=\"" XLSX_REL_NS "\"><sheets>"
         "<sheet name=\"Secret\" sheetId=\"1\" state=\"hidden\" r:id=\"rId1\"/>"
         "<sheet name=\"Data\" sheetId=\"2\" r:id=\"rId2\"/>"
         "<sheet name=\"Broken\" sheetId=\"3\" r:id=\"rId9\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         "<Relationships xmlns=\"" XLSX_PKG_REL_NS "\">"
         "<Relationship Id=\"rId1\" Type=\"" XLSX_REL_NS "/worksheet\" Target=\"a.xml\"/>"
         "<Relationship Id=\"rId2\" Type=\"" XLSX_REL_NS
         "/worksheet\" Target=\"b.xml\"/></Relationships>"},
        {"xl/a.xml", ONE_CELL("xmlns=\"" XLSX_NS "\"", "")},
        {"xl/b.xml", "<worksheet xmlns=\"" XLSX_NS "\"><sheetData><row r=\"5\"><c r=\"E5\" "
                     "t=\"inlineStr\"><is><t>data</t></is></c></row></sheetData></worksheet>"},
        {NULL, NULL}};
    expect_package(parts, "Secret(hidden);Data;Broken;", "E5\ts\tdata\n");
    char *path = test_suite_path("p.xlsx");
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0);
    cr_assert_eq(sheet_select_name(book, "Nope", &err), SD_ENOTFOUND);
    cr_assert_str_eq(err.message, "p.xlsx has no sheet named \"Nope\"; its sheets are "
                                  "\"Secret\" (hidden), \"Data\", \"Broken\"");
    cr_assert_eq(sheet_select_arg(book, "7", &err), SD_ENOTFOUND);
    cr_assert(strstr(err.message, "has no sheet 7 (sheets are numbered from 0)"), "%s",
              err.message);
    cr_assert_eq(sheet_select_arg(book, "Broken", &err), SD_EINVALID);
    cr_assert(strstr(err.message, "sheet \"Broken\" cannot be read"), "%s", err.message);
    cr_assert_eq(sheet_select_name(book, "data", &err), 0, "names are case-insensitive");
    const struct sheet_row *row;
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->number, 5);
    cr_assert_eq(sheet_select_index(book, 0, &err), 0);
    cr_assert_eq(sheet_next_row(book, &row, &err), 1);
    cr_assert_eq(row->number, 1);
    cr_assert_eq(sheet_next_row(book, &row, &err), 0);
    cr_assert_eq(sheet_next_row(book, &row, &err), 0, "the end stays the end");
    sheet_close(book);
    free(path);
}

Test(xlsx, row_count_hint_and_1904_flag)
{
    char *path = test_suite_path("h.xlsx");
    cr_assert(xlsx_fixture_minimal(path, "<dimension ref=\"A1:C250\"/><sheetData/>", NULL, NULL));
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book;
    cr_assert_eq(sheet_open(&book, path, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(sheet_book_format(book), SHEET_FORMAT_XLSX);
    cr_assert_eq(sheet_select_default(book, &err), 0);
    cr_assert_eq(sheet_row_count_hint(book), 250);
    cr_assert_not(sheet_uses_1904(book));
    const struct sheet_row *row;
    cr_assert_eq(sheet_next_row(book, &row, &err), 0);
    sheet_close(book);
    free(path);
}

Test(xlsx, out_of_order_and_repeated_cells)
{
    expect_sheet("<sheetData><row r=\"1\"><c r=\"C1\"><v>3</v></c><c r=\"A1\"><v>1</v></c>"
                 "<c r=\"C1\"><v>33</v></c></row></sheetData>",
                 NULL, NULL, "A1\tn\t1\nC1\tn\t33\n");
}

Test(xlsx, non_numbers_in_numeric_cells_stay_text)
{
    expect_sheet("<sheetData><row r=\"1\"><c r=\"A1\"><v>inf</v></c><c r=\"B1\"><v>0x10</v></c>"
                 "<c r=\"C1\"><v> 12 </v></c><c r=\"D1\" t=\"b\"><v>yes</v></c>"
                 "<c r=\"E1\" t=\"d\"><v>not a date</v></c></row></sheetData>",
                 NULL, NULL, "A1\ts\tinf\nB1\ts\t0x10\nC1\tn\t12\nD1\ts\tyes\nE1\ts\tnot a date\n");
}

Test(xlsx, invalid_utf8_is_replaced)
{
    expect_sheet("<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>ok</t></is></c>"
                 "</row></sheetData>",
                 NULL, NULL, "A1\ts\tok\n");
    /* The worksheet scanner passes bytes that are not UTF-8 through and the row builder
     * replaces each with U+FFFD, like every other reader; shared strings, which cells
     * reference without a copy, are made valid when the table is loaded. */
    expect_sheet("<sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is>"
                 "<t>bad\xFF</t></is></c><c r=\"B1\" t=\"s\"><v>0</v></c>"
                 "<c r=\"C1\" t=\"str\"><v>\xC3(\xE2\x82</v></c></row></sheetData>",
                 SST("<si><t>x\xED\xA0\x80y\xF0\x9F\x98\x80</t></si>"), NULL,
                 "A1\ts\tbad\xEF\xBF\xBD\n"
                 "B1\ts\tx\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDy\xF0\x9F\x98\x80\n"
                 "C1\ts\t\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\n");
}

Test(xlsx, number_parsing_agrees_with_strtod)
{
    const char *bad[] = {"",  " ", "inf",   "nan", "0x10", "1e", "1e+",
                         ".", "-", "1.2.3", "1,5", "--1",  "1 2"};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(xlsx_parse_number(bad[i], strlen(bad[i]), &v), "\"%s\"", bad[i]);
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char text[64];
        int decimals = (int)(x % 12);
        unsigned long long whole = (x >> 8) % 100000000ULL;
        unsigned long long frac = (x >> 20) % 1000000000000ULL;
        snprintf(text, sizeof text, "%s%llu.%0*llu", i % 3 ? "" : "-", whole, decimals,
                 decimals ? frac % 1000000000000ULL : 0ULL);
        if (decimals == 0)
            snprintf(text, sizeof text, "%llu.", whole);
        cr_assert(xlsx_parse_number(text, strlen(text), &v), "\"%s\"", text);
        cr_assert_eq(v, strtod(text, NULL), "\"%s\"", text);
    }
    cr_assert(xlsx_parse_number(" -1.5E+3 ", 9, &v));
    cr_assert_eq(v, -1500);
    cr_assert(xlsx_parse_number("12345678901234567890", 20, &v));
    cr_assert_eq(v, 12345678901234567890.0);
}

Test(xlsx, target_resolution)
{
    struct {
        const char *source, *target, *want;
    } cases[] = {
        {"xl/workbook.xml", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"},
        {"xl/workbook.xml", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"},
        {"xl/workbook.xml", "worksheets\\sheet1.xml", "xl/worksheets/sheet1.xml"},
        {"xl/workbook.xml", "\\xl\\s.xml", "xl/s.xml"},
        {"xl/workbook.xml", "../docProps/app.xml", "docProps/app.xml"},
        {"xl/workbook.xml", "../../../../etc/passwd", "etc/passwd"},
        {"xl/workbook.xml", "./a//b/./c.xml", "xl/a/b/c.xml"},
        {"", "xl/workbook.xml", "xl/workbook.xml"},
        {"workbook.xml", "sheet1.xml", "sheet1.xml"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = xlsx_resolve_target(cases[i].source, cases[i].target);
        cr_assert_str_eq(got, cases[i].want, "%s + %s", cases[i].source, cases[i].target);
        free(got);
    }
}
