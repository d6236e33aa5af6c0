/* Header matching: normalization, aliases, order, the half-the-headers rule, missing and
 * duplicate columns, with the exact sentences. */
#include <criterion/criterion.h>
#include <string.h>

#include "import/header_match.h"

static const char *json =
    "{\"name\": \"H\", \"table\": \"h\", \"mode\": \"partial\", \"columns\": ["
    " {\"key\": \"email\", \"header\": \"Email\", \"aliases\": [\"E-mail\", \"Mail\"],"
    "  \"type\": \"email\", \"required\": true},"
    " {\"key\": \"signup\", \"header\": \"Signup Date\", \"type\": \"date\"},"
    " {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"required\": true},"
    " {\"key\": \"country\", \"header\": \"Country\", \"type\": \"string\"}"
    "]}";

static struct import_template *tmpl;
static struct header_matcher *m;

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_parse(&tmpl, json, strlen(json), NULL, &err), 0, "%s", err.message);
    cr_assert_eq(header_matcher_new(&m, tmpl, &err), 0);
}

static void teardown(void)
{
    header_matcher_free(m);
    template_free(tmpl);
}

TestSuite(header, .init = setup, .fini = teardown);

/* A row of string cells in consecutive columns; NULL entries leave a column empty. */
static struct sheet_row make_row(uint32_t number, struct sheet_cell *cells, const char **texts,
                                 size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            continue;
        cells[k] =
            (struct sheet_cell){(uint32_t)i, SHEET_CELL_STRING, 0, texts[i], strlen(texts[i])};
        k++;
    }
    return (struct sheet_row){number, k, cells};
}

Test(header, normalization_and_aliases_in_any_order)
{
    const char *texts[] = {" AMOUNT ", "e_mail", "signup-date", "Notes", NULL, "country"};
    struct sheet_cell cells[6];
    struct sheet_row row = make_row(1, cells, texts, 6);
    cr_assert_eq(header_matcher_score(m, &row), 4);
    cr_assert(header_matcher_is_header(m, 4));
    struct header_map *map;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(header_map_build(&map, m, &row, &err), 0, "%s", err.message);
    cr_assert_eq(map->ncells, 5);
    cr_assert_eq(map->by_tmpl[0], 1); /* email <- "e_mail" in column B */
    cr_assert_eq(map->cells[map->by_tmpl[0]].column, 1);
    cr_assert_str_eq(map->cells[map->by_tmpl[0]].text, "e_mail");
    cr_assert_str_eq(map->cells[map->by_tmpl[2]].text, "AMOUNT"); /* trimmed */
    cr_assert_eq(map->cells[map->by_tmpl[3]].column, 5);
    cr_assert_eq(map->cells[3].tmpl_index, HEADER_UNMAPPED);
    cr_assert_str_eq(map->cells[3].text, "Notes");
    header_map_free(map);
}

Test(header, half_the_headers)
{
    const char *one[] = {"Email", "Something"};
    struct sheet_cell cells[4];
    struct sheet_row row = make_row(1, cells, one, 2);
    int score = header_matcher_score(m, &row);
    cr_assert_eq(score, 1);
    cr_assert_not(header_matcher_is_header(m, score));
    const char *two[] = {"Mail", "Amount"};
    row = make_row(2, cells, two, 2);
    score = header_matcher_score(m, &row);
    cr_assert_eq(score, 2);
    cr_assert(header_matcher_is_header(m, score));
    /* the same column twice counts once */
    const char *dup[] = {"Mail", "Email", "x"};
    row = make_row(3, cells, dup, 3);
    cr_assert_eq(header_matcher_score(m, &row), 1);
}

Test(header, missing_required_columns)
{
    const char *texts[] = {"Signup Date", "Country", "Notes"};
    struct sheet_cell cells[3];
    struct sheet_row row = make_row(1, cells, texts, 3);
    struct header_map *map;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(header_map_build(&map, m, &row, &err), SD_EINVALID);
    cr_assert_null(map);
    cr_assert_str_eq(err.message,
                     "the file is missing the required columns \"Email\", \"Amount\"; the "
                     "headers found are \"Signup Date\", \"Country\", \"Notes\"");
    const char *one[] = {"Email", "Signup Date", "Country"};
    row = make_row(1, cells, one, 3);
    cr_assert_eq(header_map_build(&map, m, &row, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "the file is missing the required column \"Amount\"; the "
                                  "headers found are \"Email\", \"Signup Date\", \"Country\"");
}

Test(header, duplicate_headers)
{
    const char *texts[] = {"Email", "Amount", "E-Mail"};
    struct sheet_cell cells[3];
    struct sheet_row row = make_row(1, cells, texts, 3);
    struct header_map *map;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(header_map_build(&map, m, &row, &err), SD_EINVALID);
    cr_assert_str_eq(err.message, "the headers \"Email\" (column A) and \"E-Mail\" (column C) "
                                  "both name the column \"Email\"; remove or rename one of them");
}

Test(header, describe_missing)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(header_matcher_describe_missing(m, &b), 0);
    cr_assert_str_eq(buf_cstr(&b), "no header row found: none of the first 10 rows holds at "
                                   "least half of the template's headers (\"Email\", \"Signup "
                                   "Date\", \"Amount\", \"Country\")");
    buf_free(&b);
}
