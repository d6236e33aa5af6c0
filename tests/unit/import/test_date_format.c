/* import/date_format.c: the one token table behind a date column's `format`. Every format the
 * template check accepts must read text written in it, token by token, as the template says;
 * a format the check refuses for its letters reads nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/civil.h"
#include "import/date_format.h"
#include "import/template.h"

/* Parses a one-column template with this type and format; true when it is accepted. */
static bool template_accepts(const char *type, const char *format)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"name\": \"T\", \"table\": \"t\", \"columns\": [{\"key\": \"d\", \"header\": "
             "\"D\", \"type\": \"%s\", \"format\": \"%s\"}]}",
             type, format);
    struct import_template *t = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int rc = template_parse(&t, json, strlen(json), &problems, &err);
    template_problems_free(&problems);
    if (t)
        template_free(t);
    return rc == 0;
}

/* Writes 2015-03-01 07:05:09 in `format` through the token table: each token's value with as
 * many digits as it may have at most, separators as they are. */
static void render(const char *format, char *out, size_t size)
{
    static const int value[] = {
        [DATE_FORMAT_YEAR] = 2015, [DATE_FORMAT_YEAR2] = 15, [DATE_FORMAT_MONTH] = 3,
        [DATE_FORMAT_DAY] = 1,     [DATE_FORMAT_HOUR] = 7,   [DATE_FORMAT_MINUTE] = 5,
        [DATE_FORMAT_SECOND] = 9,
    };
    size_t n = 0;
    for (size_t i = 0; format[i] && n + 8 < size;) {
        const struct date_format_token *tok = date_format_token_at(format + i);
        if (tok) {
            n += (size_t)snprintf(out + n, size - n, "%0*d", tok->max_digits, value[tok->field]);
            i += tok->len;
        } else {
            out[n++] = format[i++];
        }
    }
    out[n] = '\0';
}

Test(date_format, every_format_the_template_accepts_reads_its_own_text)
{
    static const struct {
        const char *type, *format;
        bool has_seconds;
    } cases[] = {
        {"date", "DD/MM/YYYY", false},
        {"date", "YYYY-MM-DD", false},
        {"date", "MM.DD.YY", false},
        {"date", "YYMMDD", false},
        {"date", "DD MM, YYYY", false},
        {"datetime", "YYYY-MM-DDTHH:mm:ss", true},
        {"datetime", "DD.MM.YYYY HH:mm", false},
        {"datetime", "HH:mm:ss DD/MM/YY", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool with_time = !strcmp(cases[i].type, "datetime");
        cr_assert(template_accepts(cases[i].type, cases[i].format), "%s", cases[i].format);
        char text[64];
        render(cases[i].format, text, sizeof text);
        double days = 0;
        cr_assert(date_format_parse(cases[i].format, text, strlen(text), with_time, &days),
                  "%s: \"%s\"", cases[i].format, text);
        double want = (double)civil_days_from_ymd(2015, 3, 1);
        if (with_time)
            want += (7 * 3600 + 5 * 60 + (cases[i].has_seconds ? 9 : 0)) / 86400.0;
        cr_assert_float_eq(days, want, 1e-9, "%s: \"%s\"", cases[i].format, text);
    }
}

Test(date_format, letters_the_template_refuses_are_no_tokens)
{
    static const char *const formats[] = {"dd/mm/yyyy", "D/M/YYYY", "YYYY-MM-DD hh:MM"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        cr_assert_not(template_accepts(strchr(formats[i], ':') ? "datetime" : "date", formats[i]),
                      "%s", formats[i]);
    double days;
    cr_assert_not(date_format_parse("dd/mm/yyyy", "01/03/2015", 10, false, &days));
    cr_assert_null(date_format_token_at("dd"));
    cr_assert_null(date_format_token_at("Y"));
    cr_assert_eq(date_format_token_at("YYYY")->field, DATE_FORMAT_YEAR);
    cr_assert_eq(date_format_token_at("YYMMDD")->field, DATE_FORMAT_YEAR2);
    cr_assert_eq(date_format_token_at("mm")->field, DATE_FORMAT_MINUTE);
    cr_assert_eq(date_format_token_at("MM")->field, DATE_FORMAT_MONTH);
}

Test(date_format, dates_are_checked_like_every_other_date)
{
    double days;
    cr_assert(date_format_parse("DD/MM/YYYY", " 29/02/2024 ", 12, false, &days));
    cr_assert_not(date_format_parse("DD/MM/YYYY", "29/02/2023", 10, false, &days));
    cr_assert_not(date_format_parse("DD/MM/YYYY", "31/04/2015", 10, false, &days));
    cr_assert_not(date_format_parse("DD/MM/YYYY HH:mm", "01/03/2015 24:00", 16, true, &days));
    cr_assert_not(date_format_parse("DD/MM/YYYY HH:mm", "01/03/2015 10:30", 16, false, &days));
    cr_assert(date_format_parse("DD/MM/YY", "01/03/69", 8, false, &days));
    cr_assert_eq(days, (double)civil_days_from_ymd(2069, 3, 1));
    cr_assert(date_format_parse("DD/MM/YY", "01/03/70", 8, false, &days));
    cr_assert_eq(days, (double)civil_days_from_ymd(1970, 3, 1));
}
