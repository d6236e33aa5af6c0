/* The XLSX reader at the zip level: the input is the whole file. It goes through sheet_open
 * (so detection runs too), every sheet is selected and read to its end, and every cell is
 * formatted. Never a crash, a leak or a hang; an error is fine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "sheet/cell_format.h"
#include "sheet/sheet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_xlsx_zip_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path);
        return 0;
    }
    bool ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0 || !ok) {
        unlink(path);
        return 0;
    }
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    opts.display_name = "fuzz.xlsx";
    opts.limits.max_total_uncompressed = 64u << 20; /* keep each run short */
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book;
    if (sheet_open(&book, path, &opts, &err) == 0) {
        struct buf text = BUF_INIT;
        for (size_t i = 0; i < sheet_count(book); i++) {
            if (sheet_select_index(book, i, &err) < 0)
                continue;
            const struct sheet_row *row;
            while (sheet_next_row(book, &row, &err) == 1) {
                for (size_t c = 0; c < row->ncells; c++) {
                    buf_clear(&text);
                    cell_format_value(&row->cells[c], &text);
                }
            }
        }
        buf_free(&text);
        sheet_close(book);
    }
    unlink(path);
    return 0;
}
