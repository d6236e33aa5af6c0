/*
 * sheetd's entry point: reads the configuration from the environment, finds the command in
 * the table below and runs it. The commands wire config -> store -> jobs -> web themselves
 * (src/cli/cmd_*.c), so this file stays a table of contents.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"

struct command {
    const char *name;
    cli_command_fn run;
    const char *usage;
};

static const struct command commands[] = {
    {"serve", cmd_serve, "serve [--listen HOST:PORT] [--workers N] [--no-workers]"},
    {"work", cmd_work, "work [--threads N]"},
    {"read", cmd_read, "read FILE [--sheet NAME|INDEX] [--format cells|csv]"},
    {"template", cmd_template,
     "template create --file T.json | list | show ID | blank ID OUT.xlsx"},
    {"import", cmd_import,
     "import TEMPLATE FILE [--sheet S] [--dry-run] [--json] [--errors-out E.xlsx]\n"
     "  sheetd import TEMPLATE FILE [--sheet S] --async [--wait]"},
    {"export", cmd_export, "export TEMPLATE OUT.xlsx | export TEMPLATE --async [--wait]"},
    {"jobs", cmd_jobs,
     "jobs list [--status S] [--template T] [--kind K] [--limit N] [--json]\n"
     "  sheetd jobs show ID [--json] | cancel ID | retry ID | prune"},
    {"migrate", cmd_migrate, "migrate"},
};

/* libgsf (the OLE2 container under .xls files) reports damaged containers through GLib's
 * logger, which would print raw warnings on stderr next to our one-line error. Route them into
 * our logfmt log at debug level instead: the reader's own error sentence is what a person
 * needs. */
static void glib_log_to_logfmt(const gchar *domain, GLogLevelFlags level, const gchar *message,
                               gpointer unused)
{
    (void)level;
    (void)unused;
    log_kv(SD_LOG_DEBUG, "library message", "domain", domain ? domain : "glib", "detail",
           message ? message : "", NULL);
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: sheetd COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  sheetd %s\n", commands[i].usage);
    fprintf(out, "\nenvironment: SHEETD_DATA_DIR SHEETD_DATABASE_URL SHEETD_LISTEN SHEETD_WORKERS\n"
                 "             SHEETD_MAX_UPLOAD_MB SHEETD_API_TOKEN SHEETD_LOG_LEVEL\n"
                 "             SHEETD_JOB_RETENTION_DAYS SHEETD_SHUTDOWN_TIMEOUT\n"
                 "             SHEETD_MAX_CONNECTIONS SHEETD_MAX_CONNECTIONS_PER_IP\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    struct cli_config config;
    if (cli_config_from_env(&config) != 0)
        return CLI_EXIT_USAGE;
    int level = log_level_parse(config.log_level);
    if (level < 0) {
        cli_errorf("SHEETD_LOG_LEVEL must be debug, info, warn, error or off, not \"%s\"",
                   config.log_level);
        return CLI_EXIT_USAGE;
    }
    log_set_level((enum log_level)level);
    g_log_set_default_handler(glib_log_to_logfmt, NULL);
    g_log_set_handler("libgsf", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      glib_log_to_logfmt, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1, &config);
    cli_errorf("unknown command \"%s\"; run \"sheetd help\" for the list", argv[1]);
    return CLI_EXIT_USAGE;
}
