/*
 * sheetd export TEMPLATE OUT.xlsx — every row of the template's table, through the same
 * export service the workers run. Prints "Exported N rows to OUT.xlsx".
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "import/export_service.h"
#include "import/import_service.h"

int cmd_export(int argc, char **argv, const struct cli_config *config)
{
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        cli_errorf("usage: sheetd export TEMPLATE OUT.xlsx");
        return CLI_EXIT_USAGE;
    }
    struct cli_data d;
    int rc = cli_data_open(&d, config, argv[1]);
    if (rc)
        return rc;
    struct export_result res;
    struct sd_error err = SD_ERROR_INIT;
    rc = export_service_run(&res, d.db, d.tmpl, argv[2], NULL, &err);
    cli_data_close(&d);
    if (rc < 0) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_FAILED;
    }
    char n[32];
    printf("Exported %s row%s to %s\n", import_format_count(n, res.rows), res.rows == 1 ? "" : "s",
           argv[2]);
    return CLI_EXIT_OK;
}
