#include "sheet_dump.h"

#include <criterion/criterion.h>

#include "base/buf.h"
#include "sheet/cell_format.h"

char *sheet_dump(const char *path, const struct sheet_open_options *opts, const char *sheet,
                 int *rc, struct sd_error *err)
{
    struct sheet_book *book;
    struct buf out = BUF_INIT, value = BUF_INIT;
    *rc = sheet_open(&book, path, opts, err);
    if (*rc < 0)
        return NULL;
    *rc = sheet ? sheet_select_arg(book, sheet, err) : sheet_select_default(book, err);
    const struct sheet_row *row;
    while (*rc == 0 && (*rc = sheet_next_row(book, &row, err)) == 1) {
        *rc = 0;
        for (size_t i = 0; i < row->ncells; i++) {
            char ref[16];
            const struct sheet_cell *c = &row->cells[i];
            cell_format_ref(c->column, row->number, ref);
            buf_clear(&value);
            cr_assert_eq(cell_format_value(c, &value), 0);
            cr_assert_eq(buf_printf(&out, "%s\t%c\t", ref, cell_format_type_letter(c->type)), 0);
            cr_assert_eq(cell_format_escape(&out, buf_cstr(&value), value.len), 0);
            cr_assert_eq(buf_putc(&out, '\n'), 0);
        }
    }
    sheet_close(book);
    buf_free(&value);
    char *text = buf_detach(&out);
    cr_assert_not_null(text);
    return text;
}

void sheet_dump_expect(const char *path, const char *sheet, const char *expected)
{
    struct sd_error err = SD_ERROR_INIT;
    int rc;
    char *got = sheet_dump(path, NULL, sheet, &rc, &err);
    cr_assert_eq(rc, 0, "reading %s failed: %s", path, err.message);
    cr_assert_str_eq(got, expected);
    free(got);
}
