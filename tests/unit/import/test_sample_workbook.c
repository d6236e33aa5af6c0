/* sample_workbook_write: the workbook generated for a template, imported back through
 * import_service_run, gives exactly the valid rows as imported and the invalid ones as
 * failed, each with one error, for the demo template and for a template with every type. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/sample_workbook.h"
#include "import_fixture.h"
#include "test_support.h"

TestSuite(sample_workbook, .init = fx_setup, .fini = fx_teardown);

/* Writes the sample of `tmpl`, imports it and checks the counts; returns the result. */
static struct import_result *sample_import(const struct import_template *tmpl,
                                           struct sample_workbook_info *info)
{
    struct sd_error err = SD_ERROR_INIT;
    char *path = test_path(fx_dir, "sample.xlsx");
    cr_assert(path);
    cr_assert_eq(sample_workbook_write(tmpl, path, info, &err), 0, "%s", err.message);
    struct import_result *res = fx_import(tmpl, path, NULL);
    free(path);
    return res;
}

/* The template file in examples/, with its mode replaced. */
static struct import_template *demo_template(const char *mode)
{
    char *path = test_path(test_source_dir(), "examples/customers.template.json");
    char *json = test_read_file(path, NULL);
    cr_assert(json, "cannot read %s", path);
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    cr_assert(doc, "%s", jerr.text);
    json_object_set_new(doc, "mode", json_string(mode));
    char *text = json_dumps(doc, 0);
    struct import_template *t = fx_template_json(text);
    free(text);
    json_decref(doc);
    free(json);
    free(path);
    return t;
}

/* "Email|ID|Name" from the errors' columns, in row order. */
static char *error_columns(const struct import_result *res)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < res->nerrors; i++)
        cr_assert_eq(
            buf_printf(&b, "%s%u:%s", i ? "|" : "", res->errors[i].row, res->errors[i].column), 0);
    char *s = buf_detach(&b);
    return s ? s : strdup("");
}

Test(sample_workbook, the_demo_template_imports_five_rows_and_fails_three_in_partial_mode)
{
    struct import_template *t = demo_template("partial");
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 5);
    cr_assert_eq(info.invalid_rows, 3);
    cr_assert(res->success, "%s", res->message);
    cr_assert_eq(res->imported, 5, "%s", res->message);
    cr_assert_eq(res->failed, 3, "%s", res->message);
    cr_assert_eq(res->error_count, 3, "one error per invalid row");
    char *cols = error_columns(res);
    cr_assert_str_eq(cols, "7:Email|8:ID|9:Name");
    free(cols);
    cr_assert_eq(fx_count("customers"), 5);
    /* the pattern ^C-[0-9]{6,7}-[A-Z]{2}$ got distinct matching codes */
    fx_expect_dump("SELECT code FROM customers ORDER BY _row LIMIT 2",
                   "C-000000-AA\nC-000000-AB\n");
    import_result_free(res);
    template_free(t);
}

Test(sample_workbook, the_demo_template_as_shipped_fails_as_a_whole)
{
    struct import_template *t = demo_template("all_or_nothing");
    struct import_result *res = sample_import(t, NULL);
    cr_assert_not(res->success);
    cr_assert_eq(res->failed, 3, "%s", res->message);
    cr_assert_eq(fx_count("customers"), 0);
    import_result_free(res);
    template_free(t);
}

static const char *every_type =
    "{\"name\":\"Every type\",\"table\":\"every_type\",\"mode\":\"partial\","
    "\"upsert_key\":[\"sku\"],\"columns\":["
    "{\"key\":\"sku\",\"header\":\"SKU\",\"type\":\"string\",\"pattern\":\"^[A-Z]{3}-[0-9]{4}$\","
    "\"required\":true},"
    "{\"key\":\"label\",\"header\":\"Label\",\"type\":\"string\",\"max_length\":5},"
    "{\"key\":\"free\",\"header\":\"Free text\",\"type\":\"string\"},"
    "{\"key\":\"rank\",\"header\":\"Rank\",\"type\":\"integer\",\"min\":10,\"max\":20,"
    "\"unique\":true},"
    "{\"key\":\"ratio\",\"header\":\"Ratio\",\"type\":\"decimal\",\"min\":0.5,\"max\":1.5},"
    "{\"key\":\"day\",\"header\":\"Day\",\"type\":\"date\",\"format\":\"DD/MM/YYYY\"},"
    "{\"key\":\"at\",\"header\":\"At\",\"type\":\"datetime\"},"
    "{\"key\":\"ok\",\"header\":\"OK\",\"type\":\"boolean\",\"required\":true},"
    "{\"key\":\"mail\",\"header\":\"Mail\",\"type\":\"email\",\"unique\":true},"
    "{\"key\":\"tier\",\"header\":\"Tier\",\"type\":\"enum\",\"values\":[\"Gold\",\"Silver\"]}"
    "]}";

Test(sample_workbook, a_template_with_every_type)
{
    struct import_template *t = fx_template_json(every_type);
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 5);
    cr_assert_eq(info.invalid_rows, 3);
    cr_assert(res->success, "%s", res->message);
    cr_assert_eq(res->imported, 5, "%s", res->message);
    cr_assert_eq(res->failed, 3, "%s", res->message);
    cr_assert_eq(res->error_count, 3);
    char *cols = error_columns(res);
    cr_assert_str_eq(cols, "7:Mail|8:Rank|9:SKU");
    free(cols);
    fx_expect_dump("SELECT sku, label, rank, tier FROM every_type ORDER BY _row",
                   "AAA-0000|1|10|Gold\n"
                   "AAA-0001|2|11|Silver\n"
                   "AAA-0002|3|12|Gold\n"
                   "AAA-0003|4|13|Silver\n"
                   "AAA-0004|5|14|Gold\n");
    import_result_free(res);
    template_free(t);
}

Test(sample_workbook, a_unique_boolean_limits_the_valid_rows_and_free_text_cannot_be_broken)
{
    struct import_template *t = fx_template_json(
        "{\"name\":\"Flags\",\"table\":\"flags\",\"mode\":\"partial\",\"columns\":["
        "{\"key\":\"flag\",\"header\":\"Flag\",\"type\":\"boolean\",\"unique\":true},"
        "{\"key\":\"note\",\"header\":\"Note\",\"type\":\"string\"}]}");
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 2);
    cr_assert_eq(info.invalid_rows, 3, "the boolean can still be broken");
    cr_assert_eq(res->imported, 2, "%s", res->message);
    cr_assert_eq(res->failed, 3, "%s", res->message);
    import_result_free(res);
    template_free(t);

    t = fx_template_json(
        "{\"name\":\"Notes\",\"table\":\"notes\",\"mode\":\"partial\","
        "\"columns\":[{\"key\":\"note\",\"header\":\"Note\",\"type\":\"string\"}]}");
    res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 5);
    cr_assert_eq(info.invalid_rows, 0);
    cr_assert_eq(res->imported, 5, "%s", res->message);
    cr_assert_eq(res->failed, 0);
    import_result_free(res);
    template_free(t);
}

Test(sample_workbook, a_pattern_with_alternation_gets_a_common_shape_that_matches)
{
    struct import_template *t = fx_template_json(
        "{\"name\":\"Codes\",\"table\":\"codes\",\"mode\":\"partial\",\"columns\":["
        "{\"key\":\"code\",\"header\":\"Code\",\"type\":\"string\",\"required\":true,"
        "\"pattern\":\"^(ABC|XYZ)[0-9]+$\"}]}");
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(res->imported, 5, "%s", res->message);
    cr_assert_eq(info.invalid_rows, 3);
    cr_assert_eq(res->failed, 3, "%s", res->message);
    fx_expect_dump("SELECT DISTINCT code FROM codes", "ABC123\n");
    import_result_free(res);
    template_free(t);
}

Test(sample_workbook, a_unique_integer_with_only_a_small_max_still_gets_distinct_values)
{
    struct import_template *t = fx_template_json(
        "{\"name\":\"Debts\",\"table\":\"debts\",\"mode\":\"partial\",\"columns\":["
        "{\"key\":\"n\",\"header\":\"N\",\"type\":\"integer\",\"max\":0,\"unique\":true},"
        "{\"key\":\"who\",\"header\":\"Who\",\"type\":\"email\",\"required\":true}]}");
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 5);
    cr_assert_eq(res->imported, 5, "%s", res->message);
    cr_assert_eq(res->failed, info.invalid_rows, "%s", res->message);
    fx_expect_dump("SELECT n FROM debts ORDER BY _row", "-4\n-3\n-2\n-1\n0\n");
    import_result_free(res);
    template_free(t);
}

Test(sample_workbook, a_unique_column_whose_pattern_allows_one_value_gets_one_valid_row)
{
    struct import_template *t = fx_template_json(
        "{\"name\":\"One\",\"table\":\"one\",\"mode\":\"partial\",\"columns\":["
        "{\"key\":\"k\",\"header\":\"K\",\"type\":\"string\",\"pattern\":\"^ABC$\","
        "\"unique\":true},{\"key\":\"n\",\"header\":\"N\",\"type\":\"integer\"}]}");
    struct sample_workbook_info info = {0, 0};
    struct import_result *res = sample_import(t, &info);
    cr_assert_eq(info.valid_rows, 1);
    cr_assert_eq(res->imported, 1, "%s", res->message);
    cr_assert_eq(res->failed, info.invalid_rows, "%s", res->message);
    import_result_free(res);
    template_free(t);
}
