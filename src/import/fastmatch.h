/*
 * A fast, exact stand-in for regexec on the patterns templates use most: anchored sequences
 * of literals and bracket sets with repeat counts, such as ^C-[0-9]{6,7}-[A-Z]{2}$. A column's
 * pattern runs against every row, and glibc's regexec costs about a thousand instructions
 * even on a ten-byte value; this costs a few per byte.
 *
 * It understands only a subset of POSIX extended regular expressions, and for that subset it
 * gives exactly regexec's answer (in the C locale sheetd runs in, with REG_EXTENDED and no
 * REG_ICASE or REG_NEWLINE): the whole pattern between ^ and $; literal ASCII characters and
 * backslash-escaped special characters; bracket sets of ASCII letters, digits, letter or digit
 * ranges, '_', '.', '@' and space, not negated; each optionally followed by *, +, ?, {m},
 * {m,} or {m,n}. Anything else (alternation, groups, '.', classes, negated sets, a pattern
 * that is not anchored at both ends) compiles to NULL and the caller uses regexec.
 */
#ifndef SHEETD_IMPORT_FASTMATCH_H
#define SHEETD_IMPORT_FASTMATCH_H

#include <stdbool.h>
#include <stddef.h>

struct fastmatch;

/* Scratch space fastmatch_run needs for a value of `len` bytes (in bytes). */
#define FASTMATCH_SCRATCH_BYTES(len) (3 * ((len) + 2) * sizeof(unsigned))

/*
 * Compiles `pattern`. 0 with *out set, or with *out NULL when the pattern is outside the
 * subset (not an error: use regexec); SD_ENOMEM. The caller owns *out (fastmatch_free).
 */
int fastmatch_compile(struct fastmatch **out, const char *pattern);

/* Whether the pattern matches s[0..len). `scratch` holds FASTMATCH_SCRATCH_BYTES(len). */
bool fastmatch_run(const struct fastmatch *m, const char *s, size_t len, void *scratch);

void fastmatch_free(struct fastmatch *m);

#endif
