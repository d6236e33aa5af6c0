/*
 * sheetd template blank TEMPLATE OUT.xlsx — the empty workbook people fill in: the headers,
 * a dropdown per enum column, date and number-range validation, the rules as input messages.
 * Reached through cmd_template, so argv[0] is "blank".
 */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "import/blank_template.h"

int cmd_template_blank(int argc, char **argv, const struct cli_config *config)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        cli_errorf("usage: sheetd template blank TEMPLATE OUT.xlsx");
        return CLI_EXIT_USAGE;
    }
    struct cli_data d;
    int rc = cli_data_open(&d, config, argv[1]);
    if (rc)
        return rc;
    struct sd_error err = SD_ERROR_INIT;
    rc = blank_template_write(d.tmpl, argv[2], &err);
    if (rc < 0)
        cli_errorf("%s", sd_error_message(&err));
    else
        printf("Wrote the blank template for %s to %s\n", d.tmpl->name, argv[2]);
    cli_data_close(&d);
    return rc < 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
