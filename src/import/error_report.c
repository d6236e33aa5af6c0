#include "import/error_report.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/xlsx_writer.h"

struct error_report {
    struct xlsx_writer *w;
    const struct header_map *map;
    uint64_t rows;
};

/* libxlsxwriter's temporary files go beside the report (the data dir), not to /tmp, which
 * may be small or shared. */
static char *dir_of(const char *path)
{
    char *copy = str_dup(path);
    if (!copy)
        return NULL;
    char *dir = str_dup(dirname(copy));
    free(copy);
    return dir;
}

int error_report_open(struct error_report **out, const char *path, const struct header_map *map,
                      struct sd_error *err)
{
    *out = NULL;
    struct error_report *r = calloc(1, sizeof *r);
    struct xlsx_column *cols = calloc(map->ncells + 2, sizeof *cols);
    char *dir = dir_of(path);
    int rc;
    if (!r || !cols || !dir) {
        rc = sd_error_nomem(err);
        goto fail;
    }
    r->map = map;
    for (size_t i = 0; i < map->ncells; i++)
        cols[i].header = map->cells[i].text;
    cols[map->ncells].header = "Row";
    cols[map->ncells + 1].header = "Errors";
    cols[map->ncells + 1].width = 60;
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = path;
    o.tmpdir = dir;
    if ((rc = xlsx_writer_open_table(&r->w, &o, "Errors", cols, map->ncells + 2, err)) < 0)
        goto fail;
    free(cols);
    free(dir);
    *out = r;
    return 0;
fail:
    free(cols);
    free(dir);
    error_report_discard(r);
    return rc;
}

/* The report column of a file column: its position among the header cells, or -1. The
 * header cells are in column order, so a binary search finds it. */
static long report_column(const struct header_map *map, uint32_t file_column)
{
    size_t lo = 0, hi = map->ncells;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->cells[mid].column < file_column)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < map->ncells && map->cells[lo].column == file_column ? (long)lo : -1;
}

int error_report_add_row(struct error_report *r, const struct sheet_row *row,
                         const uint32_t *bad_columns, size_t nbad, const char *errors,
                         struct sd_error *err)
{
    int rc;
    if ((rc = xlsx_writer_begin_row(r->w, err)) < 0)
        return rc;
    for (size_t i = 0; i < row->ncells; i++) {
        long col = report_column(r->map, row->cells[i].column);
        if (col >= 0 && (rc = xlsx_writer_write_cell(r->w, (uint32_t)col, &row->cells[i], err)) < 0)
            return rc;
    }
    for (size_t i = 0; i < nbad; i++) {
        long col = report_column(r->map, bad_columns[i]);
        if (col >= 0 && (rc = xlsx_writer_highlight(r->w, (uint32_t)col, err)) < 0)
            return rc;
    }
    uint32_t base = (uint32_t)r->map->ncells;
    if ((rc = xlsx_writer_write_number(r->w, base, row->number, err)) < 0 ||
        (rc = xlsx_writer_write_string(r->w, base + 1, errors, strlen(errors), err)) < 0)
        return rc;
    r->rows++;
    return 0;
}

uint64_t error_report_rows(const struct error_report *r)
{
    return r->rows;
}

int error_report_close(struct error_report *r, struct sd_error *err)
{
    int rc = xlsx_writer_close(r->w, err);
    free(r);
    return rc;
}

void error_report_discard(struct error_report *r)
{
    if (!r)
        return;
    xlsx_writer_free(r->w);
    free(r);
}
