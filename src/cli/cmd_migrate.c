/*
 * `sheetd migrate`: brings both databases (sheetd.db and queue.db, or the one PostgreSQL
 * database) up to the schema this binary expects. Safe to run any number of times and while
 * other sheetd processes are running: each migration is applied once, in its own
 * transaction (src/store/migrations.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

int cmd_migrate(int argc, char **argv, const struct cli_config *config)
{
    (void)argv;
    if (argc > 1) {
        cli_errorf("migrate takes no arguments; configure it with SHEETD_DATA_DIR and "
                   "SHEETD_DATABASE_URL");
        return CLI_EXIT_USAGE;
    }
    struct store_config store_config = STORE_CONFIG_INIT;
    store_config.data_dir = config->data_dir;
    store_config.database_url = config->database_url;
    struct sd_error err = SD_ERROR_INIT;
    struct store *store = NULL;
    if (store_open(&store, &store_config, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    int applied = 0;
    int rc = store_migrate(store, &applied, &err);
    store_close(store);
    if (rc) {
        cli_errorf("%s", sd_error_message(&err));
        return CLI_EXIT_USAGE;
    }
    if (applied > 0)
        printf("migrated: %d migration%s applied\n", applied, applied == 1 ? "" : "s");
    else
        printf("database is up to date\n");
    return CLI_EXIT_OK;
}
