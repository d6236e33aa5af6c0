/* template_parse on arbitrary bytes: it must never crash, leak or hang, and whatever it
 * accepts must survive template_to_json -> template_parse -> template_to_json unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/template.h"
#include "import/template_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct import_template *t = NULL, *again = NULL;
    struct template_problems problems = TEMPLATE_PROBLEMS_INIT;
    if (template_parse(&t, (const char *)data, size, &problems, NULL) != 0) {
        template_problems_free(&problems);
        return 0;
    }
    struct buf first = BUF_INIT, second = BUF_INIT;
    if (template_to_json(t, &first, NULL) == 0) {
        if (template_parse_sized(&again, first.data, first.len, TEMPLATE_STORED_JSON_MAX, NULL,
                                 NULL) != 0)
            abort(); /* the canonical form of a valid template must be valid */
        if (template_to_json(again, &second, NULL) == 0 && strcmp(first.data, second.data))
            abort(); /* and print the same */
    }
    buf_free(&first);
    buf_free(&second);
    template_free(again);
    template_free(t);
    return 0;
}
