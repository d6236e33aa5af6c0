/*
 * Typed values of ODS cells. OpenDocument stores a cell's value in attributes, independent
 * of how it is displayed: office:value-type says what the cell is, office:value (float,
 * percentage, currency), office:date-value (ISO date, with or without a time),
 * office:time-value (an ISO 8601 duration), office:boolean-value or office:string-value hold
 * it. LibreOffice marks formula errors with calcext:value-type="error" next to a float
 * office:value-type, so that attribute is looked at first.
 *
 * Anything malformed falls back to the cell's displayed text: a wrong attribute must not
 * turn a visible value into nothing, and a person can still see and fix it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/str.h"
#include "sheet/ods_internal.h"

uint64_t ods_parse_repeat(const char *s)
{
    if (!s || !*s)
        return 1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return UINT64_MAX;
        v = v * 10 + d;
    }
    return v ? v : 1;
}

/* Reads an unsigned decimal number ("12", "12.5") at *p and advances; false when there is no
 * digit. strtod is not used: it would also accept "inf", hex and exponents. */
static bool decimal(const char **p, double *out)
{
    const char *s = *p;
    double v = 0;
    bool any = false;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        any = true;
    }
    if (*s == '.' || *s == ',') {
        double scale = 0.1;
        s++;
        while (*s >= '0' && *s <= '9') {
            v += (*s++ - '0') * scale;
            scale /= 10;
            any = true;
        }
    }
    if (!any)
        return false;
    *p = s;
    *out = v;
    return true;
}

bool ods_parse_duration(const char *s, double *days)
{
    const char *p = s;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        p++;
    } else if (*p == '+') {
        p++;
    }
    if (*p++ != 'P')
        return false;
    double seconds = 0;
    bool in_time = false, any = false;
    while (*p) {
        if (*p == 'T' && !in_time) {
            in_time = true;
            p++;
            continue;
        }
        double v;
        if (!decimal(&p, &v))
            return false;
        switch (*p++) {
        case 'D':
            if (in_time)
                return false;
            seconds += v * SECONDS_PER_DAY;
            break;
        case 'H':
            if (!in_time)
                return false;
            seconds += v * 3600;
            break;
        case 'M':
            if (!in_time) /* months have no fixed length */
                return false;
            seconds += v * 60;
            break;
        case 'S':
            if (!in_time)
                return false;
            seconds += v;
            break;
        default: /* Y, W, or junk */
            return false;
        }
        any = true;
    }
    if (!any || !isfinite(seconds))
        return false;
    *days = (negative ? -seconds : seconds) / SECONDS_PER_DAY;
    return true;
}

/* A finite number written the way ODF writes numbers; refuses "inf", "nan" and hex. */
static bool parse_number(const char *s, double *out)
{
    if (!s || !*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return false;
    *out = v;
    return true;
}

enum ods_value_kind ods_cell_value(const char **attrs, double *number, const char **string_value)
{
    *number = 0;
    *string_value = NULL;
    const char *calc_type = xml_attr_ns(attrs, ODS_NS_CALCEXT, "value-type");
    if (calc_type && str_eq(calc_type, "error"))
        return ODS_VALUE_ERROR;
    const char *type = xml_attr_ns(attrs, ODS_NS_OFFICE, "value-type");
    if (!type)
        return ODS_VALUE_TEXT;
    if (str_eq(type, "float") || str_eq(type, "percentage") || str_eq(type, "currency"))
        return parse_number(xml_attr_ns(attrs, ODS_NS_OFFICE, "value"), number) ? ODS_VALUE_NUMBER
                                                                                : ODS_VALUE_TEXT;
    if (str_eq(type, "date")) {
        const char *v = xml_attr_ns(attrs, ODS_NS_OFFICE, "date-value");
        return v && civil_parse_iso(v, strlen(v), NULL, number, NULL) ? ODS_VALUE_DATE
                                                                      : ODS_VALUE_TEXT;
    }
    if (str_eq(type, "time")) {
        const char *v = xml_attr_ns(attrs, ODS_NS_OFFICE, "time-value");
        if (!v || !ods_parse_duration(v, number))
            return ODS_VALUE_TEXT;
        /* a time of day is a fraction of a day; a longer or negative duration stays a
         * number of days */
        return *number >= 0 && *number < 1 ? ODS_VALUE_TIME : ODS_VALUE_NUMBER;
    }
    if (str_eq(type, "boolean")) {
        const char *v = xml_attr_ns(attrs, ODS_NS_OFFICE, "boolean-value");
        if (v && (str_ieq(v, "true") || str_eq(v, "1"))) {
            *number = 1;
            return ODS_VALUE_BOOL;
        }
        if (v && (str_ieq(v, "false") || str_eq(v, "0")))
            return ODS_VALUE_BOOL;
        return ODS_VALUE_TEXT;
    }
    if (str_eq(type, "string")) {
        *string_value = xml_attr_ns(attrs, ODS_NS_OFFICE, "string-value");
        return *string_value ? ODS_VALUE_STRING_ATTR : ODS_VALUE_TEXT;
    }
    return ODS_VALUE_TEXT;
}
