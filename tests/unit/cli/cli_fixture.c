#include "cli_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#include "import/template.h"
#include "import/template_catalog.h"
#include "store/store.h"
#include "test_support.h"

struct cli_config cli_fixture_config(int workers)
{
    return (struct cli_config){.data_dir = test_suite_tmpdir(),
                               .listen = "127.0.0.1:0",
                               .workers = workers,
                               .max_upload_mb = 1,
                               .log_level = "off"};
}

void cli_fixture_store_with_template(const char *json)
{
    struct store_config sc = STORE_CONFIG_INIT;
    sc.data_dir = test_suite_tmpdir();
    struct store *store;
    struct db *db;
    struct import_template *tmpl;
    struct sd_error err = SD_ERROR_INIT;
    cr_assert_eq(store_open(&store, &sc, &err), 0, "%s", err.message);
    cr_assert_eq(store_migrate(store, NULL, &err), 0, "%s", err.message);
    cr_assert_eq(store_acquire_main(store, &db, &err), 0);
    cr_assert_eq(template_create(&tmpl, db, json, strlen(json), NULL, &err), 0, "%s", err.message);
    template_free(tmpl);
    store_release(store, db);
    store_close(store);
}
