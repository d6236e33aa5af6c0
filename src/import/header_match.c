/*
 * DESIGN
 * ------
 * Every name a template column answers to (its header and each alias) is normalized once
 * with template_header_normalize and kept in a flat list of (name, column) pairs. Scoring a
 * candidate row normalizes each of its cells into one reused buffer and looks the result up
 * in that list; a per-column "seen" stamp counts each template column once however many
 * aliases match. The list is sorted once and searched by bisection: a template may have 1,000
 * columns of 100 aliases each and a sheet 16,384 header cells, and scanning the list for each
 * cell of the ten candidate rows would cost billions of comparisons. (The template validator
 * guarantees no two columns share a normalized name, so any match found is the match.)
 */
#include "import/header_match.h"

#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "sheet/cell_format.h"

struct matcher_name {
    char *norm;
    size_t tmpl_index;
};

struct header_matcher {
    const struct import_template *tmpl;
    struct matcher_name *names;
    size_t nnames;
    unsigned *seen; /* per template column: the stamp of the last row that named it */
    unsigned stamp;
    struct buf norm; /* scratch */
    struct buf text; /* scratch */
};

static int matcher_add(struct header_matcher *m, const char *name, size_t tmpl_index)
{
    if (template_header_normalize(&m->norm, name, strlen(name)) < 0)
        return SD_ENOMEM;
    char *copy = str_dup(buf_cstr(&m->norm));
    if (!copy)
        return SD_ENOMEM;
    m->names[m->nnames].norm = copy;
    m->names[m->nnames].tmpl_index = tmpl_index;
    m->nnames++;
    return 0;
}

static int name_cmp(const void *pa, const void *pb)
{
    const struct matcher_name *a = pa, *b = pb;
    return strcmp(a->norm, b->norm);
}

int header_matcher_new(struct header_matcher **out, const struct import_template *tmpl,
                       struct sd_error *err)
{
    *out = NULL;
    struct header_matcher *m = calloc(1, sizeof *m);
    if (!m)
        return sd_error_nomem(err);
    m->tmpl = tmpl;
    size_t total = 0;
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        total += 1 + tmpl->columns[i].naliases;
    m->names = calloc(total ? total : 1, sizeof *m->names);
    m->seen = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *m->seen);
    if (!m->names || !m->seen)
        goto nomem;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        const struct template_column *col = &tmpl->columns[i];
        if (matcher_add(m, col->header, i) < 0)
            goto nomem;
        for (size_t a = 0; a < col->naliases; a++)
            if (matcher_add(m, col->aliases[a], i) < 0)
                goto nomem;
    }
    qsort(m->names, m->nnames, sizeof *m->names, name_cmp);
    *out = m;
    return 0;
nomem:
    header_matcher_free(m);
    return sd_error_nomem(err);
}

void header_matcher_free(struct header_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nnames; i++)
        free(m->names[i].norm);
    free(m->names);
    free(m->seen);
    buf_free(&m->norm);
    buf_free(&m->text);
    free(m);
}

/* The header text of a cell, trimmed, in m->text: numbers and dates in their cells-format
 * spelling, so a header typed as 2024 still reads "2024". */
static int matcher_cell_text(struct header_matcher *m, const struct sheet_cell *cell,
                             const char **text, size_t *len)
{
    buf_clear(&m->text);
    if (cell_format_value(cell, &m->text) < 0)
        return SD_ENOMEM;
    *text = buf_cstr(&m->text);
    *len = m->text.len;
    str_trim_span(text, len);
    return 0;
}

/* The template column a cell names, or HEADER_UNMAPPED; negative on SD_ENOMEM. */
static int matcher_lookup(struct header_matcher *m, const struct sheet_cell *cell,
                          size_t *tmpl_index)
{
    *tmpl_index = HEADER_UNMAPPED;
    if (cell->type != SHEET_CELL_STRING && cell->type != SHEET_CELL_NUMBER)
        return 0;
    const char *text;
    size_t len;
    if (matcher_cell_text(m, cell, &text, &len) < 0)
        return SD_ENOMEM;
    if (template_header_normalize(&m->norm, text, len) < 0)
        return SD_ENOMEM;
    if (m->norm.len == 0)
        return 0;
    struct matcher_name key = {.norm = m->norm.data, .tmpl_index = 0};
    const struct matcher_name *found =
        bsearch(&key, m->names, m->nnames, sizeof *m->names, name_cmp);
    if (found)
        *tmpl_index = found->tmpl_index;
    return 0;
}

int header_matcher_score(struct header_matcher *m, const struct sheet_row *row)
{
    if (++m->stamp == 0) {
        memset(m->seen, 0, m->tmpl->ncolumns * sizeof *m->seen);
        m->stamp = 1;
    }
    int score = 0;
    for (size_t c = 0; c < row->ncells; c++) {
        size_t idx;
        if (matcher_lookup(m, &row->cells[c], &idx) < 0)
            return SD_ENOMEM;
        if (idx != HEADER_UNMAPPED && m->seen[idx] != m->stamp) {
            m->seen[idx] = m->stamp;
            score++;
        }
    }
    return score;
}

int header_matcher_is_header(const struct header_matcher *m, int score)
{
    return score > 0 && (size_t)score * 2 >= m->tmpl->ncolumns;
}

/* Appends `items` joined by ", ", stopping with "..." once the list passes `cap` bytes so a
 * sheet with thousands of headers still yields a sentence that fits an error message. */
static int append_list(struct buf *out, const char *const *items, size_t n, size_t cap)
{
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        if (out->len - start > cap)
            return buf_printf(out, ", ... (%zu more)", n - i);
        if (buf_printf(out, "%s\"%s\"", i ? ", " : "", items[i]) < 0)
            return SD_ENOMEM;
    }
    return 0;
}

int header_matcher_describe_missing(const struct header_matcher *m, struct buf *out)
{
    const char **names = calloc(m->tmpl->ncolumns ? m->tmpl->ncolumns : 1, sizeof *names);
    if (!names)
        return SD_ENOMEM;
    for (size_t i = 0; i < m->tmpl->ncolumns; i++)
        names[i] = m->tmpl->columns[i].header;
    int rc = buf_printf(out,
                        "no header row found: none of the first %d rows holds at least half of "
                        "the template's headers (",
                        HEADER_MATCH_MAX_ROW);
    if (rc == 0)
        rc = append_list(out, names, m->tmpl->ncolumns, 240);
    if (rc == 0)
        rc = buf_putc(out, ')');
    free(names);
    return rc < 0 ? SD_ENOMEM : 0;
}

void header_map_free(struct header_map *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->ncells; i++)
        free(map->cells[i].text);
    free(map->cells);
    free(map->by_tmpl);
    free(map);
}

/* The sentence for missing required columns: names them, then lists what the file has, so a
 * person sees at once whether a header is misspelt or simply absent. */
static int map_missing_error(const struct header_map *map, const struct import_template *tmpl,
                             struct sd_error *err)
{
    struct buf msg = BUF_INIT;
    const char **items = NULL;
    size_t nmissing = 0;
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        if (tmpl->columns[i].required && map->by_tmpl[i] == HEADER_UNMAPPED)
            nmissing++;
    size_t nitems = nmissing > map->ncells ? nmissing : map->ncells;
    items = calloc(nitems ? nitems : 1, sizeof *items);
    if (!items)
        goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        if (tmpl->columns[i].required && map->by_tmpl[i] == HEADER_UNMAPPED)
            items[k++] = tmpl->columns[i].header;
    if (buf_printf(&msg, "the file is missing the required column%s ", nmissing > 1 ? "s" : "") <
            0 ||
        append_list(&msg, items, nmissing, 160) < 0)
        goto nomem;
    for (size_t i = 0; i < map->ncells; i++)
        items[i] = map->cells[i].text;
    if (map->ncells == 0) {
        if (buf_puts(&msg, "; the header row is empty") < 0)
            goto nomem;
    } else if (buf_puts(&msg, "; the headers found are ") < 0 ||
               append_list(&msg, items, map->ncells, 240) < 0) {
        goto nomem;
    }
    sd_error_set(err, SD_EINVALID, "%s", buf_cstr(&msg));
    free(items);
    buf_free(&msg);
    return SD_EINVALID;
nomem:
    free(items);
    buf_free(&msg);
    return sd_error_nomem(err);
}

int header_map_build(struct header_map **out, struct header_matcher *m, const struct sheet_row *row,
                     struct sd_error *err)
{
    *out = NULL;
    const struct import_template *tmpl = m->tmpl;
    struct header_map *map = calloc(1, sizeof *map);
    if (!map)
        return sd_error_nomem(err);
    map->row = row->number;
    map->ntmpl = tmpl->ncolumns;
    map->by_tmpl = malloc((tmpl->ncolumns ? tmpl->ncolumns : 1) * sizeof *map->by_tmpl);
    map->cells = calloc(row->ncells ? row->ncells : 1, sizeof *map->cells);
    if (!map->by_tmpl || !map->cells)
        goto nomem;
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        map->by_tmpl[i] = HEADER_UNMAPPED;
    int rc;
    for (size_t c = 0; c < row->ncells; c++) {
        const struct sheet_cell *cell = &row->cells[c];
        const char *text;
        size_t len, idx;
        /* matcher_lookup uses m->text as scratch, so the text is taken after it. */
        if (matcher_lookup(m, cell, &idx) < 0 || matcher_cell_text(m, cell, &text, &len) < 0)
            goto nomem;
        if (len == 0)
            continue;
        struct header_cell *hc = &map->cells[map->ncells];
        hc->column = cell->column;
        hc->tmpl_index = idx;
        if (!(hc->text = str_ndup(text, len)))
            goto nomem;
        map->ncells++;
        map->last_column = cell->column;
        if (idx == HEADER_UNMAPPED)
            continue;
        if (map->by_tmpl[idx] != HEADER_UNMAPPED) {
            const struct header_cell *first = &map->cells[map->by_tmpl[idx]];
            char a[8], b[8];
            cell_format_column_name(first->column, a);
            cell_format_column_name(hc->column, b);
            rc = sd_error_set(err, SD_EINVALID,
                              "the headers \"%s\" (column %s) and \"%s\" (column %s) both name "
                              "the column \"%s\"; remove or rename one of them",
                              first->text, a, hc->text, b, tmpl->columns[idx].header);
            goto fail;
        }
        map->by_tmpl[idx] = map->ncells - 1;
    }
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        if (tmpl->columns[i].required && map->by_tmpl[i] == HEADER_UNMAPPED) {
            rc = map_missing_error(map, tmpl, err);
            goto fail;
        }
    }
    *out = map;
    return 0;
nomem:
    rc = sd_error_nomem(err);
fail:
    header_map_free(map);
    return rc;
}
