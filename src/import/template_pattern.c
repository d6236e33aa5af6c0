/*
 * DESIGN
 * ------
 * A column's `pattern` is a POSIX extended regex compiled with glibc's regcomp, and it comes
 * from people we do not control (the JSON API). regcomp has two ways to take seconds or
 * gigabytes on a short pattern, both measured here before this guard existed:
 *
 *   1. bounded repetitions are expanded by copying the repeated tree, so nesting multiplies:
 *      "((a{1,100}){1,100}){1,100}" builds a million nodes;
 *   2. repeating something that can already match empty text makes the epsilon closures
 *      blow up: "(o*){1,250}*(o*){1,250}*" takes ~10 s, seven of them ~270 s.
 *
 * Case 2 is never needed, since (a*)* means a*, so it is refused outright. Case 1 is bounded
 * by estimating the expanded size the way regcomp builds it ("x{m,n}" is n copies of x,
 * "x{m,}" m copies and a star, "x+" is "x x*") and refusing more than PATTERN_WEIGHT_MAX
 * nodes; one repetition may count to 255 (POSIX's RE_DUP_MAX). Back-references are refused
 * too: matching them can take exponential time, and a cell-by-cell validator has no use for
 * them.
 *
 * The weight of each pattern also counts towards the template's total
 * (TEMPLATE_PATTERNS_WEIGHT_MAX, checked in template.c): a thousand columns each just under
 * the per-pattern limit once cost seconds and gigabytes to compile.
 *
 * The scan is a small recursive-descent over the ERE grammar done with an explicit stack of
 * groups. It does not validate the pattern (regcomp does that afterwards); on anything it
 * does not understand it counts one more node and moves on.
 *
 * template_pattern_compile is the only caller of regcomp in sheetd, and it counts what it
 * compiles, so tests can check that listing or showing templates compiles nothing.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "import/template_internal.h"

#define PATTERN_BOUND_MAX 255
#define PATTERN_WEIGHT_MAX TEMPLATE_PATTERN_WEIGHT_MAX
#define PATTERN_DEPTH_MAX 64

/* A statistic, not state: nothing reads it but template_patterns_compiled. */
static atomic_ulong patterns_compiled;

int template_pattern_compile(regex_t *out, const char *pattern, struct sd_error *err)
{
    int rc = regcomp(out, pattern, REG_EXTENDED | REG_NOSUB);
    atomic_fetch_add_explicit(&patterns_compiled, 1, memory_order_relaxed);
    if (rc == 0)
        return 0;
    char reason[256];
    regerror(rc, out, reason, sizeof reason);
    regfree(out);
    if (rc == REG_ESPACE)
        return sd_error_nomem(err);
    return sd_error_set(err, SD_EINVALID, "%s", reason);
}

unsigned long template_patterns_compiled(void)
{
    return atomic_load_explicit(&patterns_compiled, memory_order_relaxed);
}

/* One level of grouping: the sequence being read at this depth. */
struct pattern_level {
    size_t cur;          /* nodes so far at this depth */
    size_t last;         /* nodes of the last atom (0: no atom to repeat yet) */
    bool last_nullable;  /* the last atom can match empty text */
    bool seq_nullable;   /* every atom of this alternative so far can */
    bool prev_nullable;  /* seq_nullable before the last atom was added */
    bool group_nullable; /* an earlier alternative of this group can */
};

/* Skips a bracket expression starting at p[i] == '['; returns the index of its ']', or len
 * when it is unterminated (regcomp then reports it). */
static size_t skip_bracket(const char *p, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && p[j] == '^')
        j++;
    if (j < len && p[j] == ']')
        j++;
    while (j < len && p[j] != ']') {
        if (p[j] == '[' && j + 1 < len && (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
            char close = p[j + 1];
            j += 2;
            while (j + 1 < len && !(p[j] == close && p[j + 1] == ']'))
                j++;
            j += 2;
            continue;
        }
        j++;
    }
    return j < len ? j : len;
}

/* Parses "{m}", "{m,}" or "{m,n}" at p[i]; returns the index of '}' or 0 when it is not one
 * (glibc then takes the brace literally or refuses it). Numbers saturate above 100000. */
static size_t parse_brace(const char *p, size_t len, size_t i, unsigned long *m, unsigned long *n,
                          bool *has_n)
{
    size_t j = i + 1;
    *m = *n = 0;
    *has_n = false;
    if (j >= len || p[j] < '0' || p[j] > '9')
        return 0;
    while (j < len && p[j] >= '0' && p[j] <= '9') {
        if (*m <= 100000)
            *m = *m * 10 + (unsigned long)(p[j] - '0');
        j++;
    }
    if (j < len && p[j] == ',') {
        j++;
        if (j < len && p[j] >= '0' && p[j] <= '9') {
            *has_n = true;
            while (j < len && p[j] >= '0' && p[j] <= '9') {
                if (*n <= 100000)
                    *n = *n * 10 + (unsigned long)(p[j] - '0');
                j++;
            }
        }
    } else {
        *n = *m;
        *has_n = true;
    }
    return j < len && p[j] == '}' ? j : 0;
}

static void add_atom(struct pattern_level *l, size_t weight, bool nullable)
{
    l->cur += weight;
    l->last = weight;
    l->last_nullable = nullable;
    l->prev_nullable = l->seq_nullable;
    l->seq_nullable = l->seq_nullable && nullable;
}

/* Applies a repetition of `copies` copies (0 for * and ?) that makes the atom optional or
 * not; false when the atom could already match empty text. */
static bool repeat_atom(struct pattern_level *l, size_t copies, bool optional)
{
    if (l->last == 0)
        return true; /* nothing to repeat: regcomp decides what this means */
    if (l->last_nullable)
        return false;
    size_t grown = copies > 1 ? l->last * copies : l->last;
    grown += 1; /* the repetition node itself */
    l->cur += grown - l->last;
    l->last = grown;
    if (optional) {
        l->last_nullable = true;
        l->seq_nullable = l->prev_nullable;
    }
    return true;
}

bool template_pattern_guard(const char *p, size_t len, size_t *weight, char *why, size_t size)
{
    *weight = 0;
    struct pattern_level stack[PATTERN_DEPTH_MAX + 1];
    size_t depth = 0, outer = 0;
    struct pattern_level *l = &stack[0];
    *l = (struct pattern_level){0, 0, false, true, true, false};
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < len) {
            char e = p[++i];
            if (e >= '1' && e <= '9') {
                snprintf(why, size,
                         "uses the back-reference \\%c, which sheetd does not allow "
                         "because it can make matching very slow",
                         e);
                return false;
            }
            /* GNU's zero-width escapes match empty text */
            add_atom(l, 1, strchr("bB<>`'", e) != NULL);
        } else if (c == '[') {
            i = skip_bracket(p, len, i);
            add_atom(l, 1, false);
        } else if (c == '^' || c == '$') {
            add_atom(l, 1, true);
        } else if (c == '(') {
            if (depth == PATTERN_DEPTH_MAX) {
                snprintf(why, size, "nests groups more than %d deep", PATTERN_DEPTH_MAX);
                return false;
            }
            outer += l->cur;
            l = &stack[++depth];
            *l = (struct pattern_level){0, 0, false, true, true, false};
        } else if (c == ')' && depth > 0) {
            size_t group = l->cur + 1;
            bool nullable = l->group_nullable || l->seq_nullable;
            l = &stack[--depth];
            outer -= l->cur;
            add_atom(l, group, nullable);
        } else if (c == '|') {
            l->group_nullable = l->group_nullable || l->seq_nullable;
            l->seq_nullable = true;
            l->prev_nullable = true;
            l->last = 0;
            l->cur++;
        } else if (c == '*' || c == '?') {
            ok = repeat_atom(l, 0, true);
        } else if (c == '+') {
            ok = repeat_atom(l, 2, false);
        } else if (c == '{') {
            unsigned long m, n;
            bool has_n;
            size_t end = parse_brace(p, len, i, &m, &n, &has_n);
            if (!end) {
                add_atom(l, 1, false);
                continue;
            }
            unsigned long big = has_n && n > m ? n : m;
            if (big > PATTERN_BOUND_MAX) {
                snprintf(why, size,
                         "repeats something up to %lu times; one repetition may go "
                         "up to %d",
                         big, PATTERN_BOUND_MAX);
                return false;
            }
            ok = repeat_atom(l, has_n ? n : m + 1, m == 0);
            i = end;
        } else {
            add_atom(l, 1, false);
        }
        if (ok && outer + l->cur > PATTERN_WEIGHT_MAX) {
            snprintf(why, size,
                     "is too complex: its repetitions would expand to more than %d "
                     "elements; use smaller bounds, or + and *",
                     PATTERN_WEIGHT_MAX);
            return false;
        }
    }
    if (!ok)
        snprintf(why, size,
                 "repeats something that can already match empty text, as in (a*)* "
                 "or (a?){2,5}; drop the outer repetition");
    else
        *weight = outer + l->cur;
    return ok;
}
