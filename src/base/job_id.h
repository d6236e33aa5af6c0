/* Job ids: 16 lowercase hex characters (64 bits) from base/random.h, so an id in a URL can't
 * be guessed from another one. */
#ifndef SHEETD_BASE_JOB_ID_H
#define SHEETD_BASE_JOB_ID_H

#include <stdbool.h>

#include "base/error.h"
#include "base/random.h"

#define JOB_ID_LEN 16

/* Writes 16 hex characters and a NUL into out. */
int job_id_generate(char out[JOB_ID_LEN + 1], struct sd_error *err);

/* True when s is exactly 16 lowercase hex characters. */
bool job_id_valid(const char *s);

#endif
