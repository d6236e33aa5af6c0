/*
 * Workbooks sheetd makes for a template, downloaded from its page:
 *
 *   GET /import_templates/:tid/blank.xlsx    the headers, with Excel's own checks per column
 *   GET /import_templates/:tid/sample.xlsx   a few valid rows and a few invalid ones
 *
 * Each is written to a fresh temporary file in the data directory, which is unlinked at
 * once and sent from its open descriptor, so no file outlives the request whatever happens
 * to it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import/blank_template.h"
#include "import/sample_workbook.h"
#include "import/template.h"
#include "store/store.h"
#include "web/handlers/handlers.h"
#include "web/handlers/job_support.h"
#include "web/request.h"
#include "web/response.h"

typedef int (*workbook_writer)(const struct import_template *tmpl, const char *path,
                               struct sd_error *err);

static int write_blank(const struct import_template *tmpl, const char *path, struct sd_error *err)
{
    return blank_template_write(tmpl, path, err);
}

static int write_sample(const struct import_template *tmpl, const char *path, struct sd_error *err)
{
    return sample_workbook_write(tmpl, path, NULL, err);
}

static void send_workbook(struct web_request *req, struct web_response *res, workbook_writer write,
                          const char *suffix)
{
    struct import_template *tmpl = job_support_template(req, res);
    if (!tmpl)
        return;
    char path[4096], name[128];
    snprintf(path, sizeof path, "%s/.workbook-XXXXXX", store_data_dir(req->app->store));
    int fd = mkstemp(path);
    struct sd_error err = SD_ERROR_INIT;
    if (fd < 0) {
        template_free(tmpl);
        web_response_error(res, req, 500, "The workbook could not be written; try again.");
        return;
    }
    close(fd);
    int rc = write(tmpl, path, &err);
    fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    unlink(path);
    snprintf(name, sizeof name, "%s-%s.xlsx", tmpl->table, suffix);
    template_free(tmpl);
    if (rc || fd < 0) {
        web_response_fail(res, req, rc ? rc : SD_ERROR, &err);
        return;
    }
    web_response_fd(res, req, fd,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name);
}

void template_files_blank(struct web_request *req, struct web_response *res)
{
    send_workbook(req, res, write_blank, "blank");
}

void template_files_sample(struct web_request *req, struct web_response *res)
{
    send_workbook(req, res, write_sample, "sample");
}
