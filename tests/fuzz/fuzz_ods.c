/* The ODS reader on arbitrary bytes: never a crash, leak or hang. An input that is a zip is
 * read as it is; anything else becomes the content.xml of a fresh ODS package (mimetype
 * stored first), so that most mutations land in the XML we interpret rather than in libzip.
 * Every sheet is selected and read to its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "fuzz_support.h"
#include "sheet/sheet.h"
#include "sheet/sheet_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool write_input(const char *path, const uint8_t *data, size_t size)
{
    if (size >= 4 && !memcmp(data, "PK\x03\x04", 4))
        return fuzz_write_file(path, data, size);
    static const char mime[] = "application/vnd.oasis.opendocument.spreadsheet";
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z)
        return false;
    zip_source_t *src = zip_source_buffer(z, mime, strlen(mime), 0);
    zip_int64_t idx = src ? zip_file_add(z, "mimetype", src, ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
        zip_source_free(src);
        zip_discard(z);
        return false;
    }
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    src = zip_source_buffer(z, data, size, 0);
    if (!src || zip_file_add(z, "content.xml", src, ZIP_FL_OVERWRITE) < 0) {
        zip_source_free(src);
        zip_discard(z);
        return false;
    }
    return zip_close(z) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_ods_XXXXXX";
    fuzz_run_backend(path, write_input, &ods_backend_ops, data, size);
    return 0;
}
