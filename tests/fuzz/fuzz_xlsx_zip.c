/* The XLSX reader at the zip level: the input is the whole file. It goes through sheet_open
 * (so detection runs too), every sheet is selected and read to its end, and every cell is
 * formatted. Never a crash, a leak or a hang; an error is fine. */
#include <stdint.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "sheet/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_xlsx_zip_XXXXXX";
    if (!fuzz_write_temp_file(path, data, size))
        return 0;
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.display_name = "fuzz.xlsx";
    opts.limits.max_total_uncompressed = 64u << 20; /* keep each run short */
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book = NULL;
    fuzz_check_open(sheet_open(&book, path, &opts, &err), book, &err);
    unlink(path);
    return 0;
}
