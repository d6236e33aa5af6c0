#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobs/jobs.h"
#include "store/store.h"
#include "web/server.h"

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    fputs("sheetd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int env_long(const char *name, long fallback, long min, long max, long *out)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        cli_errorf("%s must be a whole number from %ld to %ld, not \"%s\"", name, min, max, v);
        return CLI_EXIT_USAGE;
    }
    *out = n;
    return 0;
}

int cli_config_from_env(struct cli_config *config)
{
    long workers, upload, retention, shutdown, per_ip, max_conns;
    config->data_dir = env_or("SHEETD_DATA_DIR", STORE_DEFAULT_DATA_DIR);
    config->database_url = env_or("SHEETD_DATABASE_URL", NULL);
    config->listen = env_or("SHEETD_LISTEN", "127.0.0.1:8080");
    config->api_token = env_or("SHEETD_API_TOKEN", NULL);
    config->log_level = env_or("SHEETD_LOG_LEVEL", "info");
    if (env_long("SHEETD_WORKERS", 2, 0, 256, &workers) ||
        env_long("SHEETD_MAX_UPLOAD_MB", 100, 1, 1024 * 1024, &upload) ||
        env_long("SHEETD_JOB_RETENTION_DAYS", RETENTION_DEFAULT_DAYS, 1, 3650, &retention) ||
        env_long("SHEETD_SHUTDOWN_TIMEOUT", JOBS_DEFAULT_SHUTDOWN_TIMEOUT_S, 0, 86400, &shutdown) ||
        env_long("SHEETD_MAX_CONNECTIONS_PER_IP", WEB_DEFAULT_MAX_CONNECTIONS_PER_IP, 0, 1000000,
                 &per_ip) ||
        env_long("SHEETD_MAX_CONNECTIONS", WEB_DEFAULT_MAX_CONNECTIONS, 1, 1000000, &max_conns))
        return CLI_EXIT_USAGE;
    config->job_retention_days = retention;
    config->shutdown_timeout_s = shutdown;
    config->max_connections_per_ip = (unsigned)per_ip;
    config->max_connections = (unsigned)max_conns;
    config->workers = (int)workers;
    config->max_upload_mb = upload;
    return 0;
}
