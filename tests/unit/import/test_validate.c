/* validator_check_cell and validator_check_row: each rule, with the exact predicate people
 * read (the service prefixes "Row N, Header: "value""). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "import/validate.h"

static const char *tmpl_json =
    "{\"name\": \"V\", \"table\": \"v\", \"mode\": \"partial\", \"upsert_key\": [\"a\", \"b\"],"
    " \"columns\": ["
    " {\"key\": \"email\", \"header\": \"Email\", \"type\": \"email\", \"required\": true,"
    "  \"unique\": true},"
    " {\"key\": \"country\", \"header\": \"Country\", \"type\": \"enum\","
    "  \"values\": [\"Germany\", \"France\"]},"
    " {\"key\": \"qty\", \"header\": \"Qty\", \"type\": \"integer\", \"min\": 1, \"max\": 10},"
    " {\"key\": \"amount\", \"header\": \"Amount\", \"type\": \"decimal\", \"min\": 0.5},"
    " {\"key\": \"code\", \"header\": \"Code\", \"type\": \"string\", \"max_length\": 5,"
    "  \"pattern\": \"^[A-Z]+$\"},"
    " {\"key\": \"born\", \"header\": \"Born\", \"type\": \"date\", \"format\": \"DD/MM/YYYY\"},"
    " {\"key\": \"seen\", \"header\": \"Seen\", \"type\": \"datetime\"},"
    " {\"key\": \"ok\", \"header\": \"OK\", \"type\": \"boolean\"},"
    " {\"key\": \"a\", \"header\": \"A\", \"type\": \"string\", \"required\": true},"
    " {\"key\": \"b\", \"header\": \"B\", \"type\": \"integer\", \"required\": true},"
    " {\"key\": \"tag\", \"header\": \"Tag\", \"type\": \"string\", \"pattern\": \"^(A|B)+$\"}"
    "]}";

enum { EMAIL, COUNTRY, QTY, AMOUNT, CODE, BORN, SEEN, OK, A, B, TAG, NCOLS };

static struct import_template *tmpl;
static struct validator *v;
static struct buf msg = BUF_INIT;

static void setup(void)
{
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(template_parse(&tmpl, tmpl_json, strlen(tmpl_json), NULL, &err), 0, "%s",
                 err.message);
    struct convert_context ctx = {',', false};
    cr_assert_eq(validator_new(&v, tmpl, &ctx, &err), 0);
}

static void teardown(void)
{
    validator_free(v);
    template_free(tmpl);
    buf_free(&msg);
}

static struct sheet_cell text(const char *s)
{
    struct sheet_cell c = {0, SHEET_CELL_STRING, 0, s, strlen(s)};
    return c;
}

/* Checks a text cell: NULL want means valid. */
static void expect(size_t col, const char *value, const char *want)
{
    const char *shown = value ? value : "(no cell)";
    struct sheet_cell c = text(value ? value : "");
    struct cell_value out;
    int rc = validator_check_cell(v, col, value ? &c : NULL, &out, &msg);
    if (!want) {
        cr_assert_eq(rc, 0, "\"%s\" should pass, got: %s", shown, buf_cstr(&msg));
    } else {
        cr_assert_eq(rc, 1, "\"%s\" should fail with: %s", shown, want);
        cr_assert_str_eq(buf_cstr(&msg), want);
    }
}

TestSuite(validate, .init = setup, .fini = teardown);

Test(validate, required)
{
    expect(EMAIL, NULL, "is required");
    expect(EMAIL, "   ", "is required");
    expect(COUNTRY, NULL, NULL);
}

Test(validate, email)
{
    expect(EMAIL, "ada@example.com", NULL);
    expect(EMAIL, "  ada@example.com ", NULL);
    expect(EMAIL, "not-an-email", "is not a valid email address");
    expect(EMAIL, "a@b@example.com", "is not a valid email address");
    expect(EMAIL, "ada@localhost", "is not a valid email address");
    expect(EMAIL, "ada lovelace@example.com", "is not a valid email address");
    expect(EMAIL, "@example.com", "is not a valid email address");
    expect(EMAIL, "ada@example..com", "is not a valid email address");
    expect(EMAIL, "ada@.example.com", "is not a valid email address");
}

Test(validate, enum_canonical)
{
    struct sheet_cell c = text(" germany ");
    struct cell_value out;
    cr_assert_eq(validator_check_cell(v, COUNTRY, &c, &out, &msg), 0);
    cr_assert_eq(out.len, 7);
    cr_assert(!memcmp(out.text, "Germany", 7));
    expect(COUNTRY, "Spain", "is not one of Germany, France");
}

Test(validate, numbers)
{
    expect(QTY, "10", NULL);
    expect(QTY, "0", "is less than the minimum of 1");
    expect(QTY, "11", "is greater than the maximum of 10");
    expect(QTY, "2.5", "is not a whole number");
    expect(QTY, "two", "is not a whole number");
    expect(QTY, "99999999999999999999", "is too large for a whole number");
    expect(AMOUNT, "0.25", "is less than the minimum of 0.5");
    expect(AMOUNT, "$1,234.50", NULL);
    expect(AMOUNT, "abc", "is not a number");
    expect(AMOUNT, "1e999", "is too large for a number");
}

Test(validate, strings)
{
    expect(CODE, "ABC", NULL);
    expect(CODE, "ABCDEF", "is longer than 5 characters");
    expect(CODE, "abc", "does not match the pattern ^[A-Z]+$");
    struct sheet_cell e = {0, SHEET_CELL_ERROR, 0, "#N/A", 4};
    struct cell_value out;
    cr_assert_eq(validator_check_cell(v, CODE, &e, &out, &msg), 1);
    cr_assert_str_eq(buf_cstr(&msg), "is a formula error, not a value");
}

Test(validate, long_text_is_not_run_through_the_pattern)
{
    static char big[VALIDATE_PATTERN_MAX_BYTES + 2];
    memset(big, 'A', sizeof big - 1);
    struct sheet_cell c = text(big);
    struct cell_value out;
    cr_assert_eq(validator_check_cell(v, TAG, &c, &out, &msg), 1);
    cr_assert_str_eq(buf_cstr(&msg), "is too long to check against the pattern (over 4096 bytes)");
    big[VALIDATE_PATTERN_MAX_BYTES] = '\0';
    c = text(big);
    cr_assert_eq(validator_check_cell(v, TAG, &c, &out, &msg), 0, "%s", buf_cstr(&msg));
}

Test(validate, dates_and_booleans)
{
    expect(BORN, "01/03/2015", NULL);
    expect(BORN, "2015-03-01", NULL);
    expect(BORN, "31/02/2015", "is not a valid date (expected DD/MM/YYYY)");
    expect(SEEN, "2015-03-01 10:00", NULL);
    expect(SEEN, "yesterday", "is not a valid date and time (expected YYYY-MM-DD HH:MM:SS)");
    expect(OK, "maybe", "is not a yes/no value (use TRUE/FALSE, yes/no, y/n, 1/0 or x)");
    expect(OK, "yes", NULL);
    expect(OK, NULL, NULL);
}

struct reported {
    size_t col[4];
    char msg[4][128];
    int n;
};

static int record(void *ctx, size_t col, const char *message)
{
    struct reported *r = ctx;
    r->col[r->n] = col;
    snprintf(r->msg[r->n], sizeof r->msg[0], "%s", message);
    r->n++;
    return 0;
}

static int row_check(struct cell_value *vals, const char *email, const char *a, int64_t b,
                     uint32_t row, struct reported *r)
{
    for (size_t i = 0; i < NCOLS; i++)
        vals[i].null = true;
    vals[EMAIL] =
        (struct cell_value){.type = DATA_COLUMN_TEXT, .text = email, .len = strlen(email)};
    vals[A] = (struct cell_value){.type = DATA_COLUMN_TEXT, .text = a, .len = strlen(a)};
    vals[B] = (struct cell_value){.type = DATA_COLUMN_INTEGER, .i = b};
    memset(r, 0, sizeof *r);
    return validator_check_row(v, vals, row, record, r);
}

Test(validate, unique_within_file_and_upsert_key)
{
    struct cell_value vals[NCOLS];
    struct reported r;
    cr_assert_eq(row_check(vals, "a@x.io", "k", 1, 2, &r), 0);
    cr_assert_eq(row_check(vals, "b@x.io", "k", 2, 3, &r), 0);
    /* same email: a unique column */
    cr_assert_eq(row_check(vals, "a@x.io", "j", 1, 4, &r), 1);
    cr_assert_eq(r.col[0], EMAIL);
    cr_assert_str_eq(r.msg[0], "appears more than once in the file (first in row 2)");
    /* same composite key (k, 2), reported on the key's first column */
    cr_assert_eq(row_check(vals, "c@x.io", "k", 2, 5, &r), 1);
    cr_assert_eq(r.col[0], A);
    cr_assert_str_eq(r.msg[0], "appears more than once in the file (first in row 3)");
    /* the failed rows' values were not remembered: c@x.io is still new */
    cr_assert_eq(row_check(vals, "c@x.io", "z", 9, 6, &r), 0);
    /* both at once */
    cr_assert_eq(row_check(vals, "c@x.io", "z", 9, 7, &r), 2);
}

/* Patterns are compiled when a validator is made (once per import), only those fastmatch
 * does not take, and never again while cells are checked. */
Test(validate, patterns_compile_once_per_validator)
{
    struct sd_error err = SD_ERROR_INIT;
    struct convert_context ctx = {',', false};
    struct validator *other = NULL;
    unsigned long before = template_patterns_compiled();
    cr_assert_eq(validator_new(&other, tmpl, &ctx, &err), 0, "%s", err.message);
    cr_assert_eq(template_patterns_compiled(), before + 1, "^(A|B)+$ needs regcomp; ^[A-Z]+$ not");
    struct cell_value val;
    for (int i = 0; i < 100; i++) {
        struct sheet_cell c = text(i % 2 ? "ABBA" : "ABC");
        cr_assert_geq(validator_check_cell(other, TAG, &c, &val, &msg), 0);
    }
    cr_assert_eq(template_patterns_compiled(), before + 1);
    validator_free(other);
}

/* A stored pattern regcomp refuses (edited by hand in the database) fails the validator with
 * a sentence naming the column, rather than matching nothing. */
Test(validate, a_pattern_regcomp_refuses_fails_the_validator)
{
    struct sd_error err = SD_ERROR_INIT;
    struct convert_context ctx = {',', false};
    struct validator *other = (struct validator *)0x1;
    char *saved = tmpl->columns[TAG].pattern;
    tmpl->columns[TAG].pattern = "(a|[b-";
    int rc = validator_new(&other, tmpl, &ctx, &err);
    tmpl->columns[TAG].pattern = saved;
    cr_assert_eq(rc, SD_EINVALID);
    cr_assert_null(other);
    cr_assert_str_eq(err.message, "the pattern of column \"tag\" is not a valid regular "
                                  "expression: Unmatched [, [^, [:, [., or [=");
}
