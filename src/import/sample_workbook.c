/*
 * DESIGN
 * ------
 * The sample workbook (see sample_workbook.h for what it holds). Values are generated per
 * column, per row index r, so columns that must be distinct (unique, or part of the upsert
 * key) get distinct values:
 *
 *   integer   lo + r within [ceil(min), floor(max)]; without a min, lo is 1 or low enough
 *             below a small max to leave room for every row
 *   decimal   evenly spaced inside [min, max], two decimals
 *   date      2024-01-01 + r days, written as a date cell; datetime adds 09:30
 *   boolean   TRUE/FALSE alternating; email person<r+1>@example.com; enum values[r mod n]
 *   string    "Sample <r+1>" (just the number when max_length is smaller); with a pattern, a
 *             string built from the pattern itself when it is a plain sequence of literals,
 *             classes and counted repeats (no groups or alternation), the row index varying
 *             its last classes like an odometer ("C-000000-AA", "C-000000-AB"); otherwise the
 *             first of a few common shapes that matches. Every pattern value is checked with
 *             regexec, the validator's own matcher; when nothing matches, "Sample <r+1>" is
 *             written anyway (that row will then fail, which the import will say).
 *
 * Each invalid row starts from a valid row and breaks one cell. The breaks are chosen in
 * order of how common the mistake is, at most one per column while other columns remain.
 * A break never relies on the row's other values, so the row fails with exactly one error.
 */
#include "import/sample_workbook.h"

#include <libgen.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/str.h"
#include "sheet/xlsx_writer.h"

#define GEN_MAX_ATOMS 64
/* 2024-01-01 in days since 1970-01-01. */
#define SAMPLE_FIRST_DAY 19723

/* One character position of a string generated from a pattern: the bytes it may hold, in
 * ASCII order. */
struct gen_atom {
    char set[96];
    size_t nset;
};

static void atom_add_range(struct gen_atom *a, bool seen[128], int lo, int hi)
{
    for (int c = lo; c <= hi; c++) {
        if (c >= 0x20 && c < 0x7f && !seen[c]) {
            seen[c] = true;
            a->nset++;
        }
    }
}

static void atom_finish(struct gen_atom *a, const bool seen[128])
{
    size_t n = 0;
    for (int c = 0x20; c < 0x7f; c++)
        if (seen[c])
            a->set[n++] = (char)c;
    a->nset = n;
}

/* A bracket expression after its '['; returns the position after ']' or NULL when it is
 * one this generator does not handle (negation, non-ASCII, equivalence classes). */
static const char *parse_class(const char *p, struct gen_atom *a)
{
    bool seen[128] = {false};
    a->nset = 0;
    if (*p == '^')
        return NULL;
    bool first = true;
    while (*p && (*p != ']' || first)) {
        first = false;
        if ((unsigned char)*p >= 0x80)
            return NULL;
        if (p[0] == '[' && p[1] == ':') {
            static const struct {
                const char *name;
                int ranges[6];
            } named[] = {{"[:digit:]", {'0', '9', 0, 0, 0, 0}},
                         {"[:upper:]", {'A', 'Z', 0, 0, 0, 0}},
                         {"[:lower:]", {'a', 'z', 0, 0, 0, 0}},
                         {"[:alpha:]", {'A', 'Z', 'a', 'z', 0, 0}},
                         {"[:alnum:]", {'0', '9', 'A', 'Z', 'a', 'z'}},
                         {"[:space:]", {' ', ' ', 0, 0, 0, 0}}};
            size_t i;
            for (i = 0; i < sizeof named / sizeof named[0]; i++)
                if (strncmp(p, named[i].name, strlen(named[i].name)) == 0)
                    break;
            if (i == sizeof named / sizeof named[0])
                return NULL;
            for (int k = 0; k < 6 && named[i].ranges[k]; k += 2)
                atom_add_range(a, seen, named[i].ranges[k], named[i].ranges[k + 1]);
            p += strlen(named[i].name);
            continue;
        }
        if (p[0] == '[' && (p[1] == '.' || p[1] == '='))
            return NULL;
        if (p[1] == '-' && p[2] && p[2] != ']') {
            atom_add_range(a, seen, (unsigned char)p[0], (unsigned char)p[2]);
            p += 3;
        } else {
            atom_add_range(a, seen, (unsigned char)p[0], (unsigned char)p[0]);
            p++;
        }
    }
    if (*p != ']' || a->nset == 0)
        return NULL;
    atom_finish(a, seen);
    return p + 1;
}

/* "{n}", "{n,}", "{n,m}" after an atom: how many copies to write. NULL when malformed. */
static const char *parse_count(const char *p, size_t *count)
{
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (end == p + 1 || n < 0)
        return NULL;
    long m = n;
    if (*end == ',') {
        m = *(end + 1) == '}' ? -1 : strtol(end + 1, &end, 10);
        if (m == -1)
            end++;
    }
    if (*end != '}')
        return NULL;
    *count = n > 0 ? (size_t)n : (m == 0 ? 0 : 1);
    return end + 1;
}

/* Turns a plain pattern into atoms; false for anything with groups or alternation. */
static bool parse_pattern(const char *p, struct gen_atom *atoms, size_t *natoms)
{
    *natoms = 0;
    if (*p == '^')
        p++;
    while (*p) {
        struct gen_atom a;
        bool seen[128] = {false};
        a.nset = 0;
        if (p[0] == '$' && p[1] == '\0')
            break;
        switch (*p) {
        case '(':
        case ')':
        case '|':
        case '*':
        case '+':
        case '?':
        case '{':
        case '^':
        case '$':
            return false;
        case '[':
            if (!(p = parse_class(p + 1, &a)))
                return false;
            break;
        case '.':
            atom_add_range(&a, seen, 'a', 'z');
            atom_finish(&a, seen);
            p++;
            break;
        case '\\':
            /* glibc's extensions; \d is not one (it means "d"). */
            if (p[1] == 'w') {
                atom_add_range(&a, seen, 'A', 'Z');
                atom_add_range(&a, seen, 'a', 'z');
            } else if (p[1] == 's') {
                atom_add_range(&a, seen, ' ', ' ');
            } else if (p[1] && (unsigned char)p[1] < 0x80) {
                atom_add_range(&a, seen, (unsigned char)p[1], (unsigned char)p[1]);
            } else {
                return false;
            }
            atom_finish(&a, seen);
            p += 2;
            break;
        default:
            if ((unsigned char)*p >= 0x80)
                return false;
            atom_add_range(&a, seen, (unsigned char)*p, (unsigned char)*p);
            atom_finish(&a, seen);
            p++;
            break;
        }
        size_t count = 1;
        if (*p == '*' || *p == '+')
            p++;
        else if (*p == '?')
            p++, count = 0;
        else if (*p == '{' && !(p = parse_count(p, &count)))
            return false;
        for (size_t i = 0; i < count; i++) {
            if (*natoms == GEN_MAX_ATOMS)
                return false;
            atoms[(*natoms)++] = a;
        }
    }
    return true;
}

/* True when the column's pattern matches s. The sample is a handful of rows, so the
 * pattern is compiled per question rather than kept; one that does not compile matches
 * nothing. */
static bool pattern_matches(const struct template_column *col, const char *s)
{
    regex_t re;
    if (template_pattern_compile(&re, col->pattern, NULL) != 0)
        return false;
    bool match = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return match;
}

static bool fits(const struct template_column *col, const char *s)
{
    if (col->max_length >= 0 && (long)str_utf8_length(s, strlen(s)) > col->max_length)
        return false;
    return !col->pattern || pattern_matches(col, s);
}

/* Text for row r of a string column, in out (at least 80 bytes). */
static void string_value(const struct template_column *col, uint32_t r, char *out, size_t size)
{
    if (col->pattern) {
        struct gen_atom atoms[GEN_MAX_ATOMS];
        size_t n;
        if (parse_pattern(col->pattern, atoms, &n) && n < size) {
            uint32_t rest = r;
            for (size_t i = n; i-- > 0;) {
                out[i] = atoms[i].set[rest % atoms[i].nset];
                rest /= (uint32_t)atoms[i].nset;
            }
            out[n] = '\0';
            if (fits(col, out))
                return;
        }
        static const char *const shapes[] = {"ABC-1234", "ABC123", "abc", "A1", "1234", "sample",
                                             "Sample",   "AB-12",  "X",   "1",  "a"};
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            snprintf(out, size, "%s", shapes[i]);
            if (fits(col, out))
                return;
        }
    }
    snprintf(out, size, "Sample %u", r + 1);
    if (col->max_length >= 0 && (long)strlen(out) > col->max_length)
        snprintf(out, size, "%u", r + 1);
}

/* The integer range a column allows; false when it holds no integer. */
static bool integer_range(const struct template_column *col, double *lo, double *hi)
{
    /* Without a min: from 1, or low enough below a small max to leave room for every row. */
    double below = col->has_max ? floor(col->max) - (SAMPLE_WORKBOOK_VALID_ROWS - 1) : 1;
    *lo = col->has_min ? ceil(col->min) : (below < 1 ? below : 1);
    *hi = col->has_max ? floor(col->max) : *lo + 1e6;
    return *lo <= *hi;
}

/* How many distinct valid values the column can take (for unique columns). */
static uint32_t capacity(const struct template_column *col)
{
    double lo, hi;
    switch (col->type) {
    case TEMPLATE_TYPE_BOOLEAN:
        return 2;
    case TEMPLATE_TYPE_ENUM:
        return (uint32_t)col->nvalues;
    case TEMPLATE_TYPE_INTEGER:
        if (!integer_range(col, &lo, &hi))
            return 0;
        return hi - lo + 1 > SAMPLE_WORKBOOK_VALID_ROWS ? SAMPLE_WORKBOOK_VALID_ROWS
                                                        : (uint32_t)(hi - lo + 1);
    case TEMPLATE_TYPE_DECIMAL:
        return col->has_min && col->has_max && col->min == col->max ? 1
                                                                    : SAMPLE_WORKBOOK_VALID_ROWS;
    case TEMPLATE_TYPE_STRING: {
        /* A pattern may allow few strings ("^ABC$" one): count until the first repeat. */
        char seen[SAMPLE_WORKBOOK_VALID_ROWS][160];
        for (uint32_t r = 0; r < SAMPLE_WORKBOOK_VALID_ROWS; r++) {
            string_value(col, r, seen[r], sizeof seen[r]);
            for (uint32_t k = 0; k < r; k++)
                if (strcmp(seen[k], seen[r]) == 0)
                    return r;
        }
        return SAMPLE_WORKBOOK_VALID_ROWS;
    }
    default:
        return SAMPLE_WORKBOOK_VALID_ROWS;
    }
}

static bool distinct(const struct import_template *tmpl, size_t i)
{
    if (tmpl->columns[i].unique)
        return true;
    for (size_t k = 0; k < tmpl->nupsert_key; k++)
        if (strcmp(tmpl->upsert_key[k], tmpl->columns[i].key) == 0)
            return true;
    return false;
}

/* Writes the valid value of row r in column c. */
static int write_valid(struct xlsx_writer *w, const struct template_column *col, uint32_t c,
                       uint32_t r, struct sd_error *err)
{
    char text[160];
    double lo, hi;
    switch (col->type) {
    case TEMPLATE_TYPE_INTEGER:
        if (!integer_range(col, &lo, &hi))
            return xlsx_writer_write_number(w, c, col->has_min ? col->min : 0, err);
        return xlsx_writer_write_number(w, c, lo + r > hi ? lo : lo + r, err);
    case TEMPLATE_TYPE_DECIMAL: {
        lo = col->has_min ? col->min : (col->has_max && col->max < 0 ? col->max - 100 : 0);
        hi = col->has_max ? col->max : lo + 100;
        double v = lo + (hi - lo) * (r + 1) / (SAMPLE_WORKBOOK_VALID_ROWS + 4);
        double rounded = round(v * 100) / 100;
        return xlsx_writer_write_number(w, c, rounded >= lo && rounded <= hi ? rounded : v, err);
    }
    case TEMPLATE_TYPE_DATE:
        return xlsx_writer_write_date(w, c, SAMPLE_FIRST_DAY + r, err);
    case TEMPLATE_TYPE_DATETIME:
        return xlsx_writer_write_date(w, c, SAMPLE_FIRST_DAY + r + 9.5 / 24, err);
    case TEMPLATE_TYPE_BOOLEAN:
        return xlsx_writer_write_bool(w, c, r % 2 == 0, err);
    case TEMPLATE_TYPE_EMAIL:
        snprintf(text, sizeof text, "person%u@example.com", r + 1);
        break;
    case TEMPLATE_TYPE_ENUM: {
        const char *v = col->nvalues ? col->values[r % col->nvalues] : "";
        return xlsx_writer_write_string(w, c, v, strlen(v), err);
    }
    default:
        string_value(col, r, text, sizeof text);
        break;
    }
    return xlsx_writer_write_string(w, c, text, strlen(text), err);
}

/* How an invalid row is broken: which column, and how. */
enum break_kind {
    BREAK_EMAIL = 1, /* "not-an-email" */
    BREAK_RANGE,     /* a number just outside min/max */
    BREAK_REQUIRED,  /* the cell left empty */
    BREAK_ENUM,      /* a value not in the list */
    BREAK_PATTERN,   /* text the pattern does not match */
    BREAK_LENGTH,    /* one character more than max_length */
    BREAK_DATE,      /* "not a date" */
    BREAK_NUMBER,    /* "twelve" */
    BREAK_BOOLEAN,   /* "maybe" */
};

struct row_break {
    enum break_kind kind;
    size_t column;
};

static const char *const not_matching[] = {"??", "not valid!", "0", "a", "Z", "-", "xx yy"};

/* The text that breaks a pattern column, or NULL when every candidate matches. */
static const char *pattern_breaker(const struct template_column *col)
{
    for (size_t i = 0; i < sizeof not_matching / sizeof not_matching[0]; i++)
        if (!pattern_matches(col, not_matching[i]))
            return not_matching[i];
    return NULL;
}

/* An empty row is skipped, not failed: a missing required value needs another column. */
static bool can_break(const struct import_template *tmpl, const struct template_column *col,
                      enum break_kind kind)
{
    switch (kind) {
    case BREAK_EMAIL:
        return col->type == TEMPLATE_TYPE_EMAIL;
    case BREAK_RANGE:
        return (col->type == TEMPLATE_TYPE_INTEGER || col->type == TEMPLATE_TYPE_DECIMAL) &&
               (col->has_min || col->has_max);
    case BREAK_REQUIRED:
        return col->required && col->type != TEMPLATE_TYPE_BOOLEAN && tmpl->ncolumns > 1;
    case BREAK_ENUM:
        return col->type == TEMPLATE_TYPE_ENUM;
    case BREAK_PATTERN:
        return col->type == TEMPLATE_TYPE_STRING && col->pattern && pattern_breaker(col);
    case BREAK_LENGTH:
        return col->type == TEMPLATE_TYPE_STRING && col->max_length >= 0 &&
               col->max_length < 1000 && !col->pattern;
    case BREAK_DATE:
        return col->type == TEMPLATE_TYPE_DATE || col->type == TEMPLATE_TYPE_DATETIME;
    case BREAK_NUMBER:
        return col->type == TEMPLATE_TYPE_INTEGER || col->type == TEMPLATE_TYPE_DECIMAL;
    case BREAK_BOOLEAN:
        return col->type == TEMPLATE_TYPE_BOOLEAN;
    }
    return false;
}

/* Picks up to SAMPLE_WORKBOOK_INVALID_ROWS breaks: the most common mistakes first, each
 * column once while unused ones can still be broken, then the same breaks again. */
static size_t choose_breaks(const struct import_template *tmpl,
                            struct row_break out[SAMPLE_WORKBOOK_INVALID_ROWS])
{
    size_t n = 0, found = 0;
    struct row_break all[SAMPLE_WORKBOOK_INVALID_ROWS];
    for (int kind = BREAK_EMAIL; kind <= BREAK_BOOLEAN && n < SAMPLE_WORKBOOK_INVALID_ROWS;
         kind++) {
        for (size_t i = 0; i < tmpl->ncolumns && n < SAMPLE_WORKBOOK_INVALID_ROWS; i++) {
            if (!can_break(tmpl, &tmpl->columns[i], (enum break_kind)kind))
                continue;
            bool used = false;
            for (size_t k = 0; k < n; k++)
                used |= out[k].column == i;
            if (found < SAMPLE_WORKBOOK_INVALID_ROWS)
                all[found++] = (struct row_break){.kind = (enum break_kind)kind, .column = i};
            if (used)
                continue;
            out[n++] = (struct row_break){.kind = (enum break_kind)kind, .column = i};
            break; /* one column per kind, so the rows show different mistakes */
        }
    }
    for (size_t k = 0; found > 0 && n < SAMPLE_WORKBOOK_INVALID_ROWS; k++)
        out[n++] = all[k % found];
    return n;
}

/* Writes the broken cell of an invalid row (nothing for a missing required value). */
static int write_break(struct xlsx_writer *w, const struct template_column *col, uint32_t c,
                       enum break_kind kind, struct sd_error *err)
{
    char text[1100] = "";
    const char *s = text;
    double lo, hi;
    switch (kind) {
    case BREAK_REQUIRED:
        return 0;
    case BREAK_RANGE:
        if (col->type == TEMPLATE_TYPE_INTEGER && integer_range(col, &lo, &hi))
            return xlsx_writer_write_number(w, c, col->has_min ? lo - 1 : hi + 1, err);
        return xlsx_writer_write_number(w, c, col->has_min ? col->min - 1 : col->max + 1, err);
    case BREAK_EMAIL:
        s = "not-an-email";
        break;
    case BREAK_ENUM:
        s = "Not a listed value";
        for (size_t i = 0; i < col->nvalues; i++)
            if (strcasecmp(col->values[i], s) == 0)
                s = "zzz-unlisted-zzz";
        break;
    case BREAK_PATTERN:
        s = pattern_breaker(col);
        break;
    case BREAK_LENGTH:
        memset(text, 'x', (size_t)col->max_length + 1);
        text[col->max_length + 1] = '\0';
        break;
    case BREAK_DATE:
        s = "not a date";
        break;
    case BREAK_NUMBER:
        s = "twelve";
        break;
    case BREAK_BOOLEAN:
        s = "maybe";
        break;
    }
    return xlsx_writer_write_string(w, c, s, strlen(s), err);
}

int sample_workbook_write(const struct import_template *tmpl, const char *out_path,
                          struct sample_workbook_info *info, struct sd_error *err)
{
    struct xlsx_writer *w = NULL;
    struct xlsx_column *cols = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *cols);
    char *copy = str_dup(out_path);
    char *tmpdir = copy ? str_dup(dirname(copy)) : NULL;
    int rc;
    free(copy);
    if (!cols || !tmpdir) {
        rc = sd_error_nomem(err);
        goto done;
    }
    uint32_t valid = SAMPLE_WORKBOOK_VALID_ROWS;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        cols[i].header = tmpl->columns[i].header;
        if (distinct(tmpl, i) && capacity(&tmpl->columns[i]) < valid)
            valid = capacity(&tmpl->columns[i]);
    }
    struct row_break breaks[SAMPLE_WORKBOOK_INVALID_ROWS];
    size_t nbreaks = choose_breaks(tmpl, breaks);
    struct xlsx_writer_options o = XLSX_WRITER_OPTIONS_INIT;
    o.path = out_path;
    o.tmpdir = tmpdir;
    if ((rc = xlsx_writer_open_table(&w, &o, tmpl->name, cols, tmpl->ncolumns, err)) < 0)
        goto done;
    for (uint32_t r = 0; r < valid + nbreaks; r++) {
        const struct row_break *b = r >= valid ? &breaks[r - valid] : NULL;
        if ((rc = xlsx_writer_begin_row(w, err)) < 0)
            goto done;
        for (size_t i = 0; i < tmpl->ncolumns; i++) {
            const struct template_column *col = &tmpl->columns[i];
            if (b && b->column == i)
                rc = write_break(w, col, (uint32_t)i, b->kind, err);
            else
                rc = write_valid(w, col, (uint32_t)i, r, err);
            if (rc < 0)
                goto done;
        }
    }
    rc = xlsx_writer_close(w, err);
    w = NULL;
    if (rc == 0 && info) {
        info->valid_rows = valid;
        info->invalid_rows = (uint32_t)nbreaks;
    }
done:
    xlsx_writer_free(w);
    free(cols);
    free(tmpdir);
    return rc;
}
