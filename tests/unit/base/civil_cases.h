/* ISO 8601 inputs and what they are, shared by every caller of civil_parse_iso: the base
 * test (test_civil.c), the importer (test_cell_convert.c), and the XLSX (`t="d"` cells) and
 * ODS (`office:date-value`) readers, so the four readings cannot drift apart again. */
#ifndef SHEETD_TEST_CIVIL_CASES_H
#define SHEETD_TEST_CIVIL_CASES_H

#include <stdbool.h>

struct civil_case {
    const char *text;
    bool ok;
    int y, m, d;
    double secs; /* seconds into the day */
};

static const struct civil_case civil_cases[] = {
    {"2015-03-01", true, 2015, 3, 1, 0},
    {"2024-02-29", true, 2024, 2, 29, 0},
    {"2000-02-29", true, 2000, 2, 29, 0},
    {"1900-01-01", true, 1900, 1, 1, 0},
    {"9999-12-31T23:59:59", true, 9999, 12, 31, 86399},
    {"2015-3-1", true, 2015, 3, 1, 0},
    {"2015-03-01T10:30", true, 2015, 3, 1, 37800},
    {"2015-03-01 10:30:15", true, 2015, 3, 1, 37815},
    {"2015-03-01T7:05", true, 2015, 3, 1, 25500},
    {"2015-03-01T10:30:15Z", true, 2015, 3, 1, 37815},
    {"2015-03-01T10:30:15+02:00", true, 2015, 3, 1, 37815},
    {"2015-03-01T10:30:15-0530", true, 2015, 3, 1, 37815},
    {"2015-03-01T10:30:15.5", true, 2015, 3, 1, 37815.5},
    {"2015-03-01T10:30:15,25", true, 2015, 3, 1, 37815.25},
    {"2023-02-29", false, 0, 0, 0, 0},
    {"1900-02-29", false, 0, 0, 0, 0},
    {"2015-02-30", false, 0, 0, 0, 0},
    {"2015-04-31", false, 0, 0, 0, 0},
    {"2015-13-01", false, 0, 0, 0, 0},
    {"2015-00-10", false, 0, 0, 0, 0},
    {"2015-03-00", false, 0, 0, 0, 0},
    {"15-03-01", false, 0, 0, 0, 0},
    {"2015/03/01", false, 0, 0, 0, 0},
    {"2015-03-01x", false, 0, 0, 0, 0},
    {"2015-03-01T", false, 0, 0, 0, 0},
    {"2015-03-01T24:00", false, 0, 0, 0, 0},
    {"2015-03-01T10:60", false, 0, 0, 0, 0},
    {"2015-03-01T10:30:60", false, 0, 0, 0, 0},
    {"2015-03-01T10:30:15.", false, 0, 0, 0, 0},
    {"2015-03-01T10:30+25:00", false, 0, 0, 0, 0},
    {"2015-03-01T10:5", false, 0, 0, 0, 0},
};

#define CIVIL_NCASES (sizeof civil_cases / sizeof civil_cases[0])

#endif
