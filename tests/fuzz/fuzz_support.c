#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "sheet/cell_format.h"

bool fuzz_make_temp_path(char *path_template)
{
    int fd = mkstemp(path_template);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

bool fuzz_write_temp_file(char *path_template, const uint8_t *data, size_t size)
{
    int fd = mkstemp(path_template);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(path_template);
        return false;
    }
    bool ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0 || !ok) {
        unlink(path_template);
        return false;
    }
    return true;
}

void fuzz_read_whole_book(struct sheet_book *book, struct sd_error *err)
{
    struct buf text = BUF_INIT;
    for (size_t i = 0; i < sheet_count(book); i++) {
        if (sheet_select_index(book, i, err) < 0) {
            if (!err->message[0])
                abort();
            continue;
        }
        const struct sheet_row *row;
        int rc;
        while ((rc = sheet_next_row(book, &row, err)) == 1) {
            for (size_t c = 0; c < row->ncells; c++) {
                buf_clear(&text);
                cell_format_value(&row->cells[c], &text);
            }
        }
        if (rc < 0 && !err->message[0])
            abort(); /* every failure comes with a sentence */
    }
    buf_free(&text);
    sheet_close(book);
}

void fuzz_check_open(int rc, struct sheet_book *book, struct sd_error *err)
{
    if (rc == 0)
        fuzz_read_whole_book(book, err);
    else if (!err->message[0])
        abort(); /* every refusal comes with a sentence */
}

bool fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

void fuzz_run_backend(char *path_template,
                      bool (*write_input)(const char *path, const uint8_t *data, size_t size),
                      const struct sheet_backend_ops *ops, const uint8_t *data, size_t size)
{
    if (!fuzz_make_temp_path(path_template))
        return;
    if (!write_input(path_template, data, size)) {
        unlink(path_template);
        return;
    }
    struct sheet_open_options opts = SHEET_OPEN_OPTIONS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    struct sheet_book *book = NULL;
    fuzz_check_open(ops->open(&book, path_template, &opts, &err), book, &err);
    unlink(path_template);
}
