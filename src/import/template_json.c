/*
 * The canonical JSON form of a template: what `sheetd template show` prints and what the
 * store keeps. Written by hand rather than through jansson so that numbers come out the way
 * people wrote them (jansson prints 0.1 as 0.10000000000000001) and each column sits on one
 * line, as in DESIGN.md. Fields appear in a fixed order; rules that are unset, and required
 * and unique when false, are left out. template_parse reads the result back to an equal
 * template.
 */
#include <stdio.h>
#include <string.h>

#include "base/number.h"
#include "import/template.h"
#include "import/template_internal.h"

static int put_string(struct buf *b, const char *s)
{
    int rc = buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        switch (*p) {
        case '"':
            rc = buf_puts(b, "\\\"");
            break;
        case '\\':
            rc = buf_puts(b, "\\\\");
            break;
        case '\n':
            rc = buf_puts(b, "\\n");
            break;
        case '\r':
            rc = buf_puts(b, "\\r");
            break;
        case '\t':
            rc = buf_puts(b, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                rc = buf_printf(b, "\\u%04x", *p);
            else
                rc = buf_putc(b, (char)*p);
        }
    }
    return rc ? rc : buf_putc(b, '"');
}

static int put_field(struct buf *b, const char *name, const char *value)
{
    if (buf_printf(b, ", \"%s\": ", name))
        return SD_ENOMEM;
    return put_string(b, value);
}

static int put_list(struct buf *b, const char *name, char *const *items, size_t n, bool first)
{
    if (buf_printf(b, "%s\"%s\": [", first ? "" : ", ", name))
        return SD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((i && buf_puts(b, ", ")) || put_string(b, items[i]))
            return SD_ENOMEM;
    return buf_putc(b, ']');
}

static int put_bound(struct buf *b, const char *name, const struct template_column *c, double v)
{
    char text[32];
    if (c->type == TEMPLATE_TYPE_INTEGER)
        snprintf(text, sizeof text, "%.0f", v); /* exact: |v| <= 2^53 */
    else
        number_format(v, text);
    return buf_printf(b, ", \"%s\": %s", name, text);
}

static int put_column(struct buf *b, const struct template_column *c)
{
    if (buf_puts(b, "{\"key\": ") || put_string(b, c->key) || put_field(b, "header", c->header))
        return SD_ENOMEM;
    if (c->naliases && put_list(b, "aliases", c->aliases, c->naliases, false))
        return SD_ENOMEM;
    if (buf_printf(b, ", \"type\": \"%s\"", template_type_name(c->type)))
        return SD_ENOMEM;
    if ((c->required && buf_puts(b, ", \"required\": true")) ||
        (c->unique && buf_puts(b, ", \"unique\": true")))
        return SD_ENOMEM;
    if ((c->has_min && put_bound(b, "min", c, c->min)) ||
        (c->has_max && put_bound(b, "max", c, c->max)))
        return SD_ENOMEM;
    if (c->max_length >= 0 && buf_printf(b, ", \"max_length\": %ld", c->max_length))
        return SD_ENOMEM;
    if (c->pattern && put_field(b, "pattern", c->pattern))
        return SD_ENOMEM;
    if (c->nvalues && put_list(b, "values", c->values, c->nvalues, false))
        return SD_ENOMEM;
    if (c->format && put_field(b, "format", c->format))
        return SD_ENOMEM;
    return buf_putc(b, '}');
}

int template_to_json(const struct import_template *tmpl, struct buf *out, struct sd_error *err)
{
    size_t start = out->len;
    if (buf_putc(out, '{'))
        goto nomem;
    if (tmpl->id > 0 && buf_printf(out, "\n  \"id\": %lld,", (long long)tmpl->id))
        goto nomem;
    if (buf_puts(out, "\n  \"name\": ") || put_string(out, tmpl->name) ||
        buf_puts(out, ",\n  \"table\": ") || put_string(out, tmpl->table) ||
        buf_printf(out, ",\n  \"mode\": \"%s\",\n  ", template_mode_name(tmpl->mode)))
        goto nomem;
    if (tmpl->nupsert_key &&
        (put_list(out, "upsert_key", tmpl->upsert_key, tmpl->nupsert_key, true) ||
         buf_puts(out, ",\n  ")))
        goto nomem;
    if (buf_puts(out, "\"columns\": ["))
        goto nomem;
    for (size_t i = 0; i < tmpl->ncolumns; i++)
        if (buf_puts(out, i ? ",\n    " : "\n    ") || put_column(out, &tmpl->columns[i]))
            goto nomem;
    if (buf_puts(out, "\n  ]\n}\n"))
        goto nomem;
    return 0;
nomem:
    buf_truncate(out, start);
    return sd_error_nomem(err);
}
