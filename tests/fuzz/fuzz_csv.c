/* The CSV reader on arbitrary bytes (straight to its backend, past sheet.c's refusal of
 * binary-looking files): never a crash, leak or hang, and every failure has a sentence. Small
 * limits make the limit paths reachable with short inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "sheet/sheet.h"
#include "sheet/sheet_backend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_csv_XXXXXX";
    if (!fuzz_write_temp_file(path, data, size))
        return 0;
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.limits.max_cell_chars = 64;
    opts.limits.max_columns = 32;
    opts.limits.max_rows = 1000;
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book;
    if (csv_backend_ops.open(&book, path, &opts, &err) == 0) {
        const struct sheet_row *row;
        int rc;
        while ((rc = sheet_next_row(book, &row, &err)) == 1) {
            for (size_t c = 0; c < row->ncells; c++)
                if (row->cells[c].type != SHEET_CELL_STRING || !row->cells[c].text)
                    abort(); /* CSV fields are strings */
        }
        if (rc < 0 && !err.message[0])
            abort();
        sheet_close(book);
    } else if (!err.message[0]) {
        abort();
    }
    unlink(path);
    return 0;
}
