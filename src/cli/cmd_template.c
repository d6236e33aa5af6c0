/*
 * sheetd template create --file T.json | list | show ID|TABLE | blank ...
 *
 * Each subcommand opens the store and migrates it first, so a fresh data directory works
 * without a separate `sheetd migrate`. `blank` (an empty XLSX with the template's headers)
 * belongs to the export side and lives in cmd_template_blank.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "import/template_catalog.h"

/* Bigger than any template template_parse accepts, so it can say how big the file is. */
#define TEMPLATE_FILE_READ_MAX (4u * 1024 * 1024 + 1)

static void template_usage(FILE *out)
{
    fputs("usage: sheetd template create --file T.json   (\"-\" reads standard input)\n"
          "       sheetd template list [--count]\n"
          "       sheetd template show ID|TABLE\n"
          "       sheetd template blank ID|TABLE OUT.xlsx\n",
          out);
}

/* Reads at most TEMPLATE_FILE_READ_MAX bytes of `path` ("-": standard input) into `out`. */
static int template_read_file(const char *path, struct buf *out)
{
    bool is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        cli_errorf("cannot open %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    int rc = 0;
    /* SD_ELIMIT is no failure here: template_parse says how much too big the file is. */
    int got = buf_read_stream(out, f, TEMPLATE_FILE_READ_MAX);
    if (got == SD_ENOMEM) {
        cli_errorf("out of memory while reading %s", path);
        rc = CLI_EXIT_FAILED;
    } else if (got == SD_ERROR) {
        cli_errorf("cannot read %s: %s", path, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    if (!is_stdin)
        fclose(f);
    return rc;
}

static int template_cmd_create(int argc, char **argv, const struct cli_config *config)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--file") && i + 1 < argc && !path) {
            path = argv[++i];
        } else if (str_has_prefix(argv[i], "--file=") && !path) {
            path = argv[i] + strlen("--file=");
        } else {
            cli_errorf("template create takes --file T.json once, not \"%s\"", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!path || !*path) {
        cli_errorf("template create needs --file T.json (the template definition)");
        return CLI_EXIT_USAGE;
    }
    struct buf json = BUF_INIT;
    int rc = template_read_file(path, &json);
    if (rc) {
        buf_free(&json);
        return rc;
    }
    struct cli_data d;
    if ((rc = cli_data_open_store(&d, config))) {
        buf_free(&json);
        return rc;
    }
    struct import_template *tmpl = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    struct sd_error err = SD_ERROR_INIT;
    int code = template_create(&tmpl, d.db, buf_cstr(&json), json.len, &problems, &err);
    const char *shown = strcmp(path, "-") ? path : "standard input";
    if (code == 0) {
        printf("created template %lld \"%s\" (table %s)\n", (long long)tmpl->id, tmpl->name,
               tmpl->table);
        rc = CLI_EXIT_OK;
    } else if (code == SD_EINVALID && problems.count > 0) {
        for (size_t i = 0; i < problems.count; i++)
            cli_errorf("%s: %s", shown, problems.messages[i]);
        rc = CLI_EXIT_FAILED;
    } else {
        cli_errorf("%s", sd_error_message(&err));
        rc = CLI_EXIT_FAILED;
    }
    template_problems_free(&problems);
    template_free(tmpl);
    cli_data_close(&d);
    buf_free(&json);
    return rc;
}

/* Pads `s` with spaces to `width` characters (not bytes: names may be UTF-8). */
static void print_cell(const char *s, size_t width, bool last)
{
    fputs(s, stdout);
    if (last) {
        fputc('\n', stdout);
        return;
    }
    for (size_t n = str_utf8_length(s, strlen(s)); n < width + 2; n++)
        fputc(' ', stdout);
}

/* `template list` prints a table; `template list --count` prints only how many templates
 * there are, which is what scripts (make run's demo-template step) want to ask. */
static int template_cmd_list(int argc, char **argv, const struct cli_config *config)
{
    bool count_only = argc == 2 && !strcmp(argv[1], "--count");
    if (argc > 1 && !count_only) {
        cli_errorf("template list takes only --count, not \"%s\"", argv[1]);
        return CLI_EXIT_USAGE;
    }
    struct cli_data d;
    int rc = cli_data_open_store(&d, config);
    if (rc)
        return rc;
    struct template_summary *tmpls = NULL;
    size_t count = 0;
    struct sd_error err = SD_ERROR_INIT;
    if (template_list(&tmpls, &count, d.db, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        cli_data_close(&d);
        return CLI_EXIT_FAILED;
    }
    if (count_only) {
        printf("%zu\n", count);
        template_summaries_free(tmpls, count);
        cli_data_close(&d);
        return CLI_EXIT_OK;
    }
    size_t wid = 2, wname = 4, wtable = 5;
    char num[32];
    for (size_t i = 0; i < count; i++) {
        size_t n = (size_t)snprintf(num, sizeof num, "%lld", (long long)tmpls[i].id);
        size_t name = str_utf8_length(tmpls[i].name, strlen(tmpls[i].name));
        wid = n > wid ? n : wid;
        wname = name > wname ? name : wname;
        wtable = strlen(tmpls[i].table) > wtable ? strlen(tmpls[i].table) : wtable;
    }
    print_cell("ID", wid, false);
    print_cell("NAME", wname, false);
    print_cell("TABLE", wtable, false);
    print_cell("COLUMNS", 0, true);
    for (size_t i = 0; i < count; i++) {
        snprintf(num, sizeof num, "%lld", (long long)tmpls[i].id);
        print_cell(num, wid, false);
        print_cell(tmpls[i].name, wname, false);
        print_cell(tmpls[i].table, wtable, false);
        snprintf(num, sizeof num, "%zu", tmpls[i].ncolumns);
        print_cell(num, 0, true);
    }
    if (count == 0)
        fprintf(stderr, "no templates yet; create one with: sheetd template create --file "
                        "T.json\n");
    template_summaries_free(tmpls, count);
    cli_data_close(&d);
    return CLI_EXIT_OK;
}

static int template_cmd_show(int argc, char **argv, const struct cli_config *config)
{
    if (argc != 2) {
        cli_errorf("template show needs one template: its id or table name");
        return CLI_EXIT_USAGE;
    }
    struct cli_data d;
    int rc = cli_data_open_store(&d, config);
    if (rc)
        return rc;
    struct import_template *tmpl = NULL;
    struct buf out = BUF_INIT;
    struct sd_error err = SD_ERROR_INIT;
    if (template_load_arg(&tmpl, d.db, argv[1], &err)) {
        /* The template named is the user's argument: like every command, 2. */
        cli_errorf("%s", sd_error_message(&err));
        rc = CLI_EXIT_USAGE;
    } else if (template_to_json(tmpl, &out, &err)) {
        cli_errorf("%s", sd_error_message(&err));
        rc = CLI_EXIT_FAILED;
    } else {
        fwrite(out.data, 1, out.len, stdout);
        rc = CLI_EXIT_OK;
    }
    buf_free(&out);
    template_free(tmpl);
    cli_data_close(&d);
    return rc;
}

int cmd_template(int argc, char **argv, const struct cli_config *config)
{
    if (argc < 2) {
        template_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "create"))
        return template_cmd_create(argc - 1, argv + 1, config);
    if (!strcmp(sub, "list"))
        return template_cmd_list(argc - 1, argv + 1, config);
    if (!strcmp(sub, "show"))
        return template_cmd_show(argc - 1, argv + 1, config);
    if (!strcmp(sub, "blank"))
        return cmd_template_blank(argc - 1, argv + 1, config);
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        template_usage(stdout);
        return CLI_EXIT_OK;
    }
    cli_errorf("unknown template command \"%s\"; use create, list, show or blank", sub);
    return CLI_EXIT_USAGE;
}
