/* The XLS reader on arbitrary bytes: never a crash, leak or hang. Inputs that are OLE2 files
 * are read as they are; anything else is first wrapped as the "Workbook" stream of a fresh
 * OLE2 file, so that most of the fuzzer's mutations land in the BIFF records we parse rather
 * than in libgsf's container code. Every sheet is selected and read to its end. */
#include <gsf/gsf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "sheet/sheet.h"
#include "sheet/sheet_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool write_input(const char *path, const uint8_t *data, size_t size)
{
    static const uint8_t magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    if (size >= 8 && !memcmp(data, magic, 8))
        return fuzz_write_file(path, data, size);
    GsfOutput *sink = gsf_output_stdio_new(path, NULL);
    if (!sink)
        return false;
    GsfOutfile *ole = gsf_outfile_msole_new(sink);
    GsfOutput *child = gsf_outfile_new_child(ole, "Workbook", FALSE);
    bool ok = gsf_output_write(child, size, data);
    gsf_output_close(child);
    g_object_unref(child);
    gsf_output_close(GSF_OUTPUT(ole));
    g_object_unref(ole);
    if (!gsf_output_is_closed(sink))
        gsf_output_close(sink);
    g_object_unref(sink);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_xls_XXXXXX";
    fuzz_run_backend(path, write_input, &xls_backend_ops, data, size);
    return 0;
}
