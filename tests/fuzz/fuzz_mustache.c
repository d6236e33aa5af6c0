/* libFuzzer target for the mustache engine: the input bytes are a template. It is compiled
 * and rendered twice against a small fixed data tree, with every partial name resolving to
 * the same input (so partials recurse into themselves). Besides crashes and leaks it checks
 * two properties: a failed render leaves the output buffer empty, and a template renders
 * the same way twice (the second render uses the cached partials). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/mustache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_source {
    const char *text;
    size_t len;
};

static const char *fuzz_partial(void *ctx, const char *name, size_t *len)
{
    (void)name;
    const struct fuzz_source *s = ctx;
    *len = s->len;
    return s->text;
}

static const char fuzz_data_json[] =
    "{\"name\": \"<b>Ada & 'Bob'</b>\", \"n\": 42, \"r\": 1.21, \"t\": true, \"f\": false,"
    " \"z\": null, \"e\": \"\", \"items\": [{\"name\": \"x\", \"items\": [1, 2]}, \"s\", 3,"
    " [true, false], {}], \"a\": {\"b\": {\"c\": \"deep\", \"items\": [\"p\", \"q\"]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *tree = json_loads(fuzz_data_json, 0, NULL);
    if (!tree)
        abort();
    struct fuzz_source src = {(const char *)data, size};
    struct mustache_partials partials = {fuzz_partial, &src};
    struct mustache_render_options opts = MUSTACHE_RENDER_OPTIONS_INIT;
    opts.max_steps = 100000;
    opts.max_output = 1 << 20;

    struct mustache_template *tmpl = NULL;
    struct sd_error err = SD_ERROR_INIT;
    if (mustache_compile(&tmpl, (const char *)data, size, "fuzz.mustache", &err) == 0) {
        struct buf first = BUF_INIT, second = BUF_INIT;
        int rc1 = mustache_render_opts(tmpl, tree, &partials, &opts, &first, &err);
        int rc2 = mustache_render_opts(tmpl, tree, &partials, &opts, &second, &err);
        if ((rc1 < 0 && first.len != 0) || (rc2 < 0 && second.len != 0))
            abort(); /* a failed render must not leave half a page behind */
        if (rc1 != rc2 || first.len != second.len ||
            (first.len && memcmp(first.data, second.data, first.len) != 0))
            abort(); /* rendering must not depend on whether partials were cached */
        buf_free(&first);
        buf_free(&second);
        mustache_free(tmpl);
    } else if (tmpl || err.message[0] == '\0') {
        abort(); /* a failed compile returns nothing and always says why */
    }
    json_decref(tree);
    return 0;
}
