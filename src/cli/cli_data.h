/* What the data and template commands share: opening and migrating the store, and loading the
 * template a user named by id or table name. */
#ifndef SHEETD_CLI_CLI_DATA_H
#define SHEETD_CLI_CLI_DATA_H

#include "cli/cli.h"
#include "import/template.h"
#include "store/store.h"

struct cli_data {
    struct store *store;
    struct db *db;
    struct import_template *tmpl;
};

/* Opens the store, migrates it and loads the template `id_or_table`. 0, or prints one line
 * and returns CLI_EXIT_USAGE (no such template, a database that cannot be opened). */
int cli_data_open(struct cli_data *d, const struct cli_config *config, const char *id_or_table);
/* The same without a template (d->tmpl stays NULL), for the commands that make or list them. */
int cli_data_open_store(struct cli_data *d, const struct cli_config *config);
void cli_data_close(struct cli_data *d);

#endif
