#include "cli/cli_data.h"

#include <string.h>

#include "import/template_catalog.h"

int cli_data_open_store(struct cli_data *d, const struct cli_config *config)
{
    return cli_data_open(d, config, NULL);
}

int cli_data_open(struct cli_data *d, const struct cli_config *config, const char *id_or_table)
{
    memset(d, 0, sizeof *d);
    struct sd_error err = SD_ERROR_INIT;
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = config->data_dir;
    sc.database_url = config->database_url;
    if (store_open(&d->store, &sc, &err) || store_migrate(d->store, NULL, &err) ||
        store_acquire_main(d->store, &d->db, &err) ||
        (id_or_table && template_load_arg(&d->tmpl, d->db, id_or_table, &err))) {
        cli_errorf("%s", sd_error_message(&err));
        cli_data_close(d);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

void cli_data_close(struct cli_data *d)
{
    template_free(d->tmpl);
    if (d->db)
        store_release(d->store, d->db);
    if (d->store)
        store_close(d->store);
    memset(d, 0, sizeof *d);
}
