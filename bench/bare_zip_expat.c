/*
 * The floor for `sheetd read`: libzip and expat alone over the same sheet XML, doing
 * nothing but counting elements. `sheetd read` is measured against this (the issue asks for
 * no more than 1.5 times its time on a 100k-row file).
 *
 *   bare_zip_expat FILE.xlsx [ENTRY]      (ENTRY defaults to xl/worksheets/sheet1.xml)
 *
 * Prints the element count. Standalone on purpose: it links nothing of sheetd's.
 */
#include <expat.h>
#include <stdio.h>
#include <zip.h>

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    (void)name;
    (void)attrs;
    (*(unsigned long *)data)++;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bare_zip_expat FILE.xlsx [ENTRY]\n");
        return 2;
    }
    const char *entry = argc == 3 ? argv[2] : "xl/worksheets/sheet1.xml";
    int zerr;
    zip_t *za = zip_open(argv[1], ZIP_RDONLY, &zerr);
    if (!za) {
        fprintf(stderr, "bare_zip_expat: cannot open %s as a zip (error %d)\n", argv[1], zerr);
        return 1;
    }
    zip_file_t *zf = zip_fopen(za, entry, 0);
    if (!zf) {
        fprintf(stderr, "bare_zip_expat: %s has no entry %s\n", argv[1], entry);
        zip_discard(za);
        return 1;
    }
    XML_Parser p = XML_ParserCreate(NULL);
    unsigned long elements = 0;
    XML_SetUserData(p, &elements);
    XML_SetStartElementHandler(p, on_start);
    int status = 0;
    for (;;) {
        void *buf = XML_GetBuffer(p, 64 * 1024);
        if (!buf) {
            status = 1;
            break;
        }
        zip_int64_t n = zip_fread(zf, buf, 64 * 1024);
        if (n < 0 || XML_ParseBuffer(p, (int)n, n == 0) != XML_STATUS_OK) {
            fprintf(stderr, "bare_zip_expat: %s is not readable XML\n", entry);
            status = 1;
            break;
        }
        if (n == 0)
            break;
    }
    XML_ParserFree(p);
    zip_fclose(zf);
    zip_discard(za);
    if (status == 0)
        printf("%lu\n", elements);
    return status;
}
