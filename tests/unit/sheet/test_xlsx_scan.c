/*
 * The worksheet scanner (src/sheet/xlsx_scan.c) on its own, fed from memory: tokens as a
 * string ("<c r=A1>", "[text]", "</c>"), compared between one chunk and chunks that split
 * the input at every byte; the XML features a worksheet uses; and every refusal with its
 * sentence.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sheet/xlsx_scan.h"

/* A source over memory: the first read returns at most `first` bytes, later ones at most
 * `step`, whatever the scanner asks for. */
struct mem {
    const char *data;
    size_t len;
    size_t pos;
    size_t first;
    size_t step;
    int reads;
};

static ssize_t mem_read(void *ctx, void *out, size_t len, struct sd_error *err)
{
    (void)err;
    struct mem *m = ctx;
    size_t n = m->len - m->pos;
    size_t most = m->reads++ == 0 ? m->first : m->step;
    if (n > most)
        n = most;
    if (n > len)
        n = len;
    memcpy(out, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* Scans `xml` and returns its tokens as text (adjacent text pieces joined, since where a
 * text is cut depends on the chunks), ending in "!" and the error sentence on failure. */
static char *scan_split(const char *xml, size_t len, size_t first, size_t step,
                        const struct xlsx_scan_options *o, int *rc_out)
{
    struct mem m = {xml, len, 0, first, step, 0};
    struct xlsx_scan_source src = {mem_read, &m};
    struct xlsx_scan_options opts = XLSX_SCAN_OPTIONS_INIT;
    if (o)
        opts = *o;
    opts.display_name = "t.xlsx";
    opts.part_name = "sheet.xml";
    struct xlsx_scan *s;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(xlsx_scan_open(&s, &src, &opts, &err), 0);
    struct buf out = BUF_INIT;
    struct xlsx_token tok;
    int rc;
    bool in_text = false;
    while ((rc = xlsx_scan_next(s, &tok, &err)) == 1) {
        if (tok.kind == XLSX_TOKEN_TEXT) {
            if (!in_text)
                buf_putc(&out, '[');
            buf_append(&out, tok.text, tok.text_len);
            in_text = true;
            continue;
        }
        if (in_text)
            buf_putc(&out, ']');
        in_text = false;
        if (tok.kind == XLSX_TOKEN_END) {
            buf_printf(&out, "</%.*s>", (int)tok.name_len, tok.name);
            continue;
        }
        buf_printf(&out, "<%.*s", (int)tok.name_len, tok.name);
        if (tok.local != tok.name)
            buf_printf(&out, "(%.*s)", (int)tok.local_len, tok.local);
        for (size_t i = 0; i < tok.nattrs; i++)
            buf_printf(&out, " %.*s=%.*s", (int)tok.attrs[i].name_len, tok.attrs[i].name,
                       (int)tok.attrs[i].value_len, tok.attrs[i].value);
        buf_printf(&out, "@%u>", tok.depth);
    }
    if (in_text)
        buf_putc(&out, ']');
    if (rc < 0)
        buf_printf(&out, "!%s", err.message);
    /* The outcome is sticky. */
    cr_assert_eq(xlsx_scan_next(s, &tok, &err), rc);
    xlsx_scan_close(s);
    *rc_out = rc;
    return buf_detach(&out);
}

static char *scan(const char *xml, int *rc)
{
    return scan_split(xml, strlen(xml), 1 << 20, 1 << 20, NULL, rc);
}

static void expect(const char *xml, const char *want)
{
    int rc;
    char *got = scan(xml, &rc);
    cr_assert_eq(rc, 0, "%s", got);
    cr_assert_str_eq(got, want);
    free(got);
}

/* Asserts the input is refused with `code` and a sentence containing `want`. */
static void refused(const char *xml, int code, const char *want)
{
    int rc;
    char *got = scan(xml, &rc);
    cr_assert_eq(rc, code, "%s -> %s", xml, got);
    cr_assert(strstr(got, want), "%s -> %s (wanted %s)", xml, got, want);
    free(got);
}

/* The same tokens, and the same outcome, however the input is cut into chunks: one chunk,
 * single bytes, and two chunks split at every offset. */
static void same_at_every_boundary(const char *xml)
{
    size_t len = strlen(xml);
    int rc_whole, rc;
    char *whole = scan_split(xml, len, len, len, NULL, &rc_whole);
    char *bytes = scan_split(xml, len, 1, 1, NULL, &rc);
    cr_assert_eq(rc, rc_whole);
    cr_assert_str_eq(bytes, whole);
    free(bytes);
    for (size_t k = 1; k < len; k++) {
        char *split = scan_split(xml, len, k, len, NULL, &rc);
        cr_assert_eq(rc, rc_whole, "split at %zu", k);
        cr_assert_str_eq(split, whole, "split at %zu", k);
        free(split);
    }
    free(whole);
}

static const char sheet[] =
    "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
    "<!-- a comment - with a dash -->\n"
    "<x:worksheet xmlns:x=\"http://purl.oclc.org/ooxml/spreadsheetml/main\">"
    "<?mso-app keep going?>"
    "<x:sheetData><x:row r='1' spans=\"1:3\">"
    "<x:c r=\"A1\" t=\"s\"><x:v>12</x:v></x:c>"
    "<x:c r = 'B1' t=\"inlineStr\"><x:is><x:t xml:space=\"preserve\"> a &amp; b &lt;&gt;"
    "&quot;&apos; &#65;&#x42;&#x20AC;&#128512; </x:t></x:is></x:c>"
    "<x:c r=\"C1\" t=\"str\"><x:f>A1&amp;\"\"</x:f><x:v><![CDATA[<raw> & ]] text]]></x:v></x:c>"
    "<x:c r=\"D1\"/>"
    "</x:row><x:row r=\"2\"><x:c r=\"A2\"><x:v>line1\r\nline2\rline3</x:v></x:c></x:row>"
    "</x:sheetData><!-- -- no: this is fine only if it is the end ---->"
    "</x:worksheet>\n<!-- after -->\n";

Test(xlsx_scan, a_small_sheet)
{
    /* the comment before </x:worksheet> has "--" inside: refused like expat does */
    refused(sheet, SD_EINVALID, "\"--\" inside a comment");
    char *fixed = strdup(sheet);
    char *bad = strstr(fixed, "<!-- -- no");
    memcpy(bad, "<!-- =- no", 10);
    bad = strstr(fixed, "end ---->");
    memcpy(bad, "end -=-->", 9);
    expect(fixed,
           "<x:worksheet(worksheet) xmlns:x=http://purl.oclc.org/ooxml/spreadsheetml/main@1>"
           "<x:sheetData(sheetData)@2><x:row(row) r=1 spans=1:3@3>"
           "<x:c(c) r=A1 t=s@4><x:v(v)@5>[12]</x:v></x:c>"
           "<x:c(c) r=B1 t=inlineStr@4><x:is(is)@5><x:t(t) xml:space=preserve@6>"
           "[ a & b <>\"' AB\xE2\x82\xAC\xF0\x9F\x98\x80 ]</x:t></x:is></x:c>"
           "<x:c(c) r=C1 t=str@4><x:f(f)@5>[A1&\"\"]</x:f><x:v(v)@5>[<raw> & ]] text]</x:v>"
           "</x:c><x:c(c) r=D1@4></x:c></x:row>"
           "<x:row(row) r=2@3><x:c(c) r=A2@4><x:v(v)@5>[line1\nline2\nline3]</x:v></x:c></x:row>"
           "</x:sheetData></x:worksheet>");
    same_at_every_boundary(fixed);
    same_at_every_boundary(sheet);
    free(fixed);
}

Test(xlsx_scan, every_boundary_of_the_refusals)
{
    const char *inputs[] = {
        "<a><b>x</c></a>",
        "<a b=\"1<\"/>",
        "<a>&bogus;</a>",
        "<a>&#0;</a>",
        "<a>]]></a>",
        "<a><!-- x -- y --></a>",
        "<a><![CDATA[x]]</a>",
        "<a b=\"1\" b=\"2\"/>",
        "<!DOCTYPE a><a/>",
        "<a/><b/>",
        "<a/>text",
        "<a><b></b>",
        "<a>&#x110000;</a>",
        "<a>\x01</a>",
        "<a b=1/>",
        "<a>&amp</a>",
        "<a></ a>",
        "<a><?pi?x?></a>",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        same_at_every_boundary(inputs[i]);
}

Test(xlsx_scan, entities_and_character_references)
{
    expect("<a b=\"&lt;&amp;&#x9;&#10;\t\r\n\n&apos;&quot;\">&#x41;&#0066;&#x10FFFF;</a>",
           "<a b=<&\t\n   '\"@1>[AB\xF4\x8F\xBF\xBF]</a>");
    expect("<a b='\"' c=\"'\"/>", "<a b=\" c='@1></a>");
    refused("<a>&nbsp;</a>", SD_EINVALID, "a reference to an undefined entity");
    refused("<a>&#xD800;</a>", SD_EINVALID, "a reference to an invalid character number");
    refused("<a>&#X41;</a>", SD_EINVALID, "character reference with a bad digit");
    refused("<a>&#;</a>", SD_EINVALID, "a character reference without digits");
    refused("<a>& b</a>", SD_EINVALID, "an '&' that does not start a reference");
    refused("<a b=\"&#1;\"/>", SD_EINVALID, "a reference to an invalid character number");
}

Test(xlsx_scan, cdata_comments_and_processing_instructions)
{
    expect("<a><![CDATA[]]><![CDATA[<&>]]]]><!--c--><?p?><?q x y?>z</a>", "<a@1>[<&>]]z]</a>");
    expect("<!----><?pi?><a/><!-- end --><?pi x?> \n", "<a@1></a>");
    refused("<a><![CDATA[x</a>", SD_EINVALID, "a CDATA section that is never closed");
    refused("<a><!-- x</a>", SD_EINVALID, "a comment that is never closed");
    refused("<a><?p x</a>", SD_EINVALID, "a processing instruction that is never closed");
    refused("<![CDATA[x]]><a/>", SD_EINVALID, "a '<!' that starts nothing XML allows here");
    refused("<a><?xml version=\"1.0\"?></a>", SD_EINVALID, "an XML declaration not at the start");
    refused("<a><?XmL x?></a>", SD_EINVALID, "a processing instruction named like \"xml\"");
}

Test(xlsx_scan, prefixes_and_local_names)
{
    expect("<p:a xmlns:p=\"u\"><q:b q:r=\"1\" r=\"2\"/><:c/><d:/></p:a>",
           "<p:a(a) xmlns:p=u@1><q:b(b) q:r=1 r=2@2></q:b><:c(c)@2></:c><d:()@2></d:></p:a>");
    refused("<p:a></q:a>", SD_EINVALID, "mismatched tag");
}

Test(xlsx_scan, xml_declaration_and_encoding)
{
    expect("<?xml version='1.0' encoding='us-ascii'?><a/>", "<a@1></a>");
    expect("<?xml version=\"1.0\"  ?><a/>", "<a@1></a>");
    expect("<?xml version=\"\"?><a/>", "<a@1></a>"); /* as expat reads it */
    refused("<?xml version=\"1:0\"?><a/>", SD_EINVALID, "XML declaration that is not well");
    refused("<?xml version=\"1.0\" encoding=\"-8\"?><a/>", SD_EINVALID,
            "XML declaration that is not well");
    refused("<?xml encoding=\"UTF-8\"?><a/>", SD_EINVALID, "XML declaration that is not well");
    refused("<?xml version=\"1.0\" standalone=\"maybe\"?><a/>", SD_EINVALID,
            "XML declaration that is not well");
    refused(" <?xml version=\"1.0\"?><a/>", SD_EINVALID, "an XML declaration not at the start");
    refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", SD_EINVALID,
            "t.xlsx: sheet.xml declares the encoding \"ISO-8859-1\"; worksheets and shared "
            "strings are read only in UTF-8, so save the file again");
    refused("\xFF\xFE<\0a\0/\0>\0", SD_EINVALID, "t.xlsx: sheet.xml is written in UTF-16");
}

Test(xlsx_scan, doctype_and_entities_are_refused)
{
    const char *want = "t.xlsx: sheet.xml contains a DOCTYPE declaration, which no workbook "
                       "needs; it is refused so that no entity is ever expanded";
    int rc;
    char *got = scan("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]>"
                     "<a>&lol;</a>",
                     &rc);
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert_str_eq(got + 1, want); /* no token came before the refusal */
    free(got);
    refused("<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>", SD_EINVALID, want);
    refused("<a><!DOCTYPE a></a>", SD_EINVALID, want);
    refused("<a><!ENTITY e \"x\"></a>", SD_EINVALID,
            "t.xlsx: sheet.xml declares an XML entity, which no workbook needs");
}

Test(xlsx_scan, depth_limit)
{
    struct xlsx_scan_options o = XLSX_SCAN_OPTIONS_INIT;
    o.max_depth = 3;
    int rc;
    char *got = scan_split("<a><b><c/></b></a>", 18, 100, 100, &o, &rc);
    cr_assert_eq(rc, 0, "%s", got);
    free(got);
    got = scan_split("<a><b><c><d/></c></b></a>", 25, 100, 100, &o, &rc);
    cr_assert_eq(rc, SD_ELIMIT);
    cr_assert(strstr(got, "!t.xlsx: sheet.xml nests XML elements deeper than the limit of 3"), "%s",
              got);
    free(got);
}

Test(xlsx_scan, a_tag_longer_than_the_token_limit)
{
    struct xlsx_scan_options o = XLSX_SCAN_OPTIONS_INIT;
    o.max_token = 100;
    o.chunk = 16;
    struct buf xml = BUF_INIT;
    buf_puts(&xml, "<a><b x=\"");
    for (int i = 0; i < 200; i++)
        buf_putc(&xml, 'y');
    buf_puts(&xml, "\"/>");
    /* long text is fine: it is handed out in pieces */
    for (int i = 0; i < 1000; i++)
        buf_putc(&xml, 't');
    buf_puts(&xml, "</a>");
    int rc;
    char *got = scan_split(xml.data, xml.len, 16, 16, &o, &rc);
    cr_assert_eq(rc, SD_ELIMIT, "%s", got);
    cr_assert(
        strstr(got,
               "!t.xlsx: sheet.xml has an XML tag or reference longer than the limit of 100 bytes"),
        "%s", got);
    free(got);
    char *b = strstr(xml.data, "<b");
    memcpy(b, "<b/>", 4);
    memset(b + 4, ' ', 209 - 4); /* the rest of the old tag becomes text */
    got = scan_split(xml.data, xml.len, 16, 16, &o, &rc);
    cr_assert_eq(rc, 0, "%s", got);
    cr_assert_eq(strlen(got), strlen("<a@1><b@2></b>[]</a>") + 205 + 1000, "%s", got);
    free(got);
    buf_free(&xml);
}

Test(xlsx_scan, malformed_markup)
{
    refused("<a><b>", SD_EINVALID, "the document ends inside an element");
    refused("<a><b", SD_EINVALID, "a token that is never closed");
    refused("<a b=\"x<y\"/>", SD_EINVALID, "a '<' inside an attribute value");
    refused("<a b=\"1\"c=\"2\"/>", SD_EINVALID, "a character that does not belong in a tag");
    refused("<a b=\"1\" b=\"2\"/>", SD_EINVALID, "an attribute given twice");
    refused("<a b=1/>", SD_EINVALID, "an attribute value without quotes");
    refused("<a b/>", SD_EINVALID, "an attribute without '=' and a value");
    refused("<a/ >", SD_EINVALID, "a '/' in a tag not followed by '>'");
    refused("<a></b>", SD_EINVALID, "mismatched tag");
    refused("<a></ a>", SD_EINVALID, "an end tag without a name");
    refused("<a></a x>", SD_EINVALID, "a character that does not belong in an end tag");
    refused("<a>]]></a>", SD_EINVALID, "\"]]>\" in text");
    refused("<a>\x0B</a>", SD_EINVALID, "a control character XML does not allow");
    refused("<a b=\"\x01\"/>", SD_EINVALID, "a control character XML does not allow");
    refused("<1a/>", SD_EINVALID, "a '<' that does not start a tag");
    refused("", SD_EINVALID, "no element found");
    refused("  <!-- only a comment -->", SD_EINVALID, "no element found");
    refused("x<a/>", SD_EINVALID, "text before the root element");
    refused("<a/>x", SD_EINVALID, "text after the root element");
    refused("<a/><b/>", SD_EINVALID, "a second root element");
    refused("<a/></a>", SD_EINVALID, "an end tag outside the root element");
    refused("<a><!- x --></a>", SD_EINVALID, "a '<!-' that does not start a comment");
    /* where: line and column of the offending token */
    refused("<a>\n<b>\n  </c>", SD_EINVALID,
            "t.xlsx: sheet.xml is not well-formed XML (line 3, column 3: mismatched tag)");
}

Test(xlsx_scan, bytes_that_are_not_utf8_pass_through)
{
    /* the row builder replaces them, once, for every reader */
    expect("<a b=\"\xFF\">\xC3(\xF0</a>", "<a b=\xFF@1>[\xC3(\xF0]</a>");
}
