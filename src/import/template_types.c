/*
 * What a template's types mean outside the parser: their names, their storage types, the
 * rule for matching headers, and lookups on a parsed template. A leaf: it calls no other
 * template file.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "import/template.h"

int template_header_normalize(struct buf *out, const char *header, size_t len)
{
    buf_clear(out);
    if (buf_grow(out, len + 1) != 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)header[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '_' ||
            c == '-')
            continue;
        if (c == 0xc2 && i + 1 < len && (unsigned char)header[i + 1] == 0xa0) {
            i++; /* U+00A0 NO-BREAK SPACE, which spreadsheets love */
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        out->data[out->len++] = (char)c;
    }
    out->data[out->len] = '\0';
    return 0;
}

static const char *const type_names[] = {
    [TEMPLATE_TYPE_STRING] = "string",     [TEMPLATE_TYPE_INTEGER] = "integer",
    [TEMPLATE_TYPE_DECIMAL] = "decimal",   [TEMPLATE_TYPE_DATE] = "date",
    [TEMPLATE_TYPE_DATETIME] = "datetime", [TEMPLATE_TYPE_BOOLEAN] = "boolean",
    [TEMPLATE_TYPE_EMAIL] = "email",       [TEMPLATE_TYPE_ENUM] = "enum",
};

const char *template_type_name(enum template_type type)
{
    if (type < TEMPLATE_TYPE_STRING || type > TEMPLATE_TYPE_ENUM)
        return "unknown";
    return type_names[type];
}

const char *template_mode_name(enum template_mode mode)
{
    return mode == TEMPLATE_MODE_PARTIAL ? "partial" : "all_or_nothing";
}

enum data_column_type template_type_column(enum template_type type)
{
    switch (type) {
    case TEMPLATE_TYPE_INTEGER:
        return DATA_COLUMN_INTEGER;
    case TEMPLATE_TYPE_DECIMAL:
        return DATA_COLUMN_DECIMAL;
    case TEMPLATE_TYPE_DATE:
        return DATA_COLUMN_DATE;
    case TEMPLATE_TYPE_DATETIME:
        return DATA_COLUMN_DATETIME;
    case TEMPLATE_TYPE_BOOLEAN:
        return DATA_COLUMN_BOOLEAN;
    case TEMPLATE_TYPE_STRING:
    case TEMPLATE_TYPE_EMAIL:
    case TEMPLATE_TYPE_ENUM:
        break;
    }
    return DATA_COLUMN_TEXT;
}

struct data_column *template_data_columns(const struct import_template *tmpl)
{
    struct data_column *cols = calloc(tmpl->ncolumns ? tmpl->ncolumns : 1, sizeof *cols);
    if (!cols)
        return NULL;
    for (size_t i = 0; i < tmpl->ncolumns; i++) {
        cols[i].name = tmpl->columns[i].key;
        cols[i].type = template_type_column(tmpl->columns[i].type);
    }
    return cols;
}

const struct template_column *template_find_column(const struct import_template *tmpl,
                                                   const char *key)
{
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        if (tmpl->columns[i].key && !strcmp(tmpl->columns[i].key, key))
            return &tmpl->columns[i];
    return NULL;
}
