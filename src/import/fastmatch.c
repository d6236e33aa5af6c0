/*
 * DESIGN
 * ------
 * A compiled pattern is a list of atoms, each a set of bytes (a 256-entry table) with a minimum
 * and maximum repeat count. Matching keeps the set of positions in the value that the atoms
 * so far can end at, starting with {0}; the value matches when the last atom can end at its
 * length. For one atom, from a reachable start p the atom can end anywhere in
 * p+min .. p+min(max, run[p]), where run[p] is how many bytes from p on are in the atom's
 * set; marking those ranges through a difference array keeps each atom O(length), so a match
 * costs O(atoms x length) whatever the pattern (no backtracking, no blow-up). Because every
 * way of splitting the value among the atoms is considered, the answer is the regex's.
 * Values under 64 bytes (nearly all) keep the positions as bits of one word instead.
 */
#include "import/fastmatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* Repeat counts above this are left to regexec (templates never need more). */
#define MAX_REPEAT 1000
#define UNBOUNDED ((unsigned)-1)

struct atom {
    bool set[256]; /* set[b]: byte b belongs (a byte table: one load per test) */
    unsigned min, max;
};

struct fastmatch {
    struct atom *atoms;
    size_t natoms;
};

static void set_add(struct atom *a, unsigned char c)
{
    a->set[c] = true;
}

static bool set_has(const struct atom *a, unsigned char c)
{
    return a->set[c];
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Same kind of character (digit, upper, lower), so a range between them is what it looks
 * like in every locale, not only in C. */
static bool same_kind(char a, char b)
{
    return (a >= '0' && a <= '9')   ? (b >= '0' && b <= '9')
           : (a >= 'A' && a <= 'Z') ? (b >= 'A' && b <= 'Z')
                                    : (b >= 'a' && b <= 'z');
}

/* A bracket set at p (just after '['); returns the position after ']' or NULL. */
static const char *parse_bracket(const char *p, struct atom *a)
{
    if (*p == '^' || *p == ']')
        return NULL; /* negation, or ']' as a member: leave them to regexec */
    while (*p && *p != ']') {
        char c = *p;
        if (is_alnum(c) && p[1] == '-' && p[2] != ']' && p[2]) {
            char hi = p[2];
            if (!is_alnum(hi) || !same_kind(c, hi) || hi < c)
                return NULL;
            for (int b = (unsigned char)c; b <= (unsigned char)hi; b++)
                set_add(a, (unsigned char)b);
            p += 3;
        } else if (is_alnum(c) || c == '_' || c == '.' || c == '@' || c == ' ') {
            set_add(a, (unsigned char)c);
            p++;
        } else {
            return NULL;
        }
    }
    return *p == ']' ? p + 1 : NULL;
}

static const char *parse_count(const char *p, unsigned *out)
{
    unsigned v = 0;
    if (!(*p >= '0' && *p <= '9'))
        return NULL;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned)(*p++ - '0');
        if (v > MAX_REPEAT)
            return NULL;
    }
    *out = v;
    return p;
}

/* A repeat after an atom; returns the position after it (p itself when there is none) or
 * NULL when it is outside the subset. */
static const char *parse_repeat(const char *p, struct atom *a)
{
    a->min = a->max = 1;
    switch (*p) {
    case '*':
        a->min = 0, a->max = UNBOUNDED;
        p++;
        break;
    case '+':
        a->max = UNBOUNDED;
        p++;
        break;
    case '?':
        a->min = 0;
        p++;
        break;
    case '{':
        if (!(p = parse_count(p + 1, &a->min)))
            return NULL;
        if (*p == '}') {
            a->max = a->min;
        } else if (p[0] == ',' && p[1] == '}') {
            a->max = UNBOUNDED;
            p++;
        } else if (*p == ',') {
            if (!(p = parse_count(p + 1, &a->max)) || *p != '}' || a->max < a->min)
                return NULL;
        } else {
            return NULL;
        }
        p++;
        break;
    default:
        return p;
    }
    /* Repeating a repeat ("a**", "a{2}?") is undefined in POSIX; leave it to regexec. */
    return strchr("*+?{", *p) ? NULL : p;
}

static bool is_special(char c)
{
    return c && strchr(".[]\\()*+?{}|^$", c);
}

int fastmatch_compile(struct fastmatch **out, const char *pattern)
{
    *out = NULL;
    size_t n = strlen(pattern);
    if (n < 2 || pattern[0] != '^' || pattern[n - 1] != '$' || (n >= 3 && pattern[n - 2] == '\\'))
        return 0;
    struct fastmatch *m = calloc(1, sizeof *m);
    if (!m || !(m->atoms = calloc(n, sizeof *m->atoms))) {
        free(m);
        return SD_ENOMEM;
    }
    const char *p = pattern + 1, *end = pattern + n - 1;
    while (p < end) {
        struct atom *a = &m->atoms[m->natoms];
        if (*p == '\\' && is_special(p[1])) {
            set_add(a, (unsigned char)p[1]);
            p += 2;
        } else if (*p == '[') {
            p = parse_bracket(p + 1, a);
        } else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && !is_special(*p)) {
            set_add(a, (unsigned char)*p++);
        } else {
            p = NULL;
        }
        if (p && p <= end)
            p = parse_repeat(p, a);
        if (!p || p > end) {
            fastmatch_free(m);
            return 0;
        }
        m->natoms++;
    }
    *out = m;
    return 0;
}

/* One byte of the atom's set consumed from each position in `from` (bits), for values under
 * 64 bytes. Only the set bits are visited: there are rarely more than two. */
static uint64_t step_short(const struct atom *a, const unsigned char *s, size_t len, uint64_t from)
{
    uint64_t to = 0;
    while (from) {
        unsigned p = (unsigned)__builtin_ctzll(from);
        from &= from - 1;
        if (p < len && set_has(a, s[p]))
            to |= 2ULL << p;
    }
    return to;
}

/* The same walk for values under 64 bytes, with the reachable positions as the bits of one
 * word. */
static bool run_short(const struct fastmatch *m, const unsigned char *s, size_t len)
{
    uint64_t reach = 1; /* bit p: the atoms so far can end at position p */
    for (size_t k = 0; k < m->natoms && reach; k++) {
        const struct atom *a = &m->atoms[k];
        uint64_t cur = reach, next = a->min == 0 ? reach : 0;
        for (unsigned n = 1; n <= a->max && cur; n++) {
            cur = step_short(a, s, len, cur);
            if (n >= a->min)
                next |= cur;
        }
        reach = next;
    }
    return (reach >> len) & 1;
}

bool fastmatch_run(const struct fastmatch *m, const char *str, size_t len, void *scratch)
{
    const unsigned char *s = (const unsigned char *)str;
    if (len < 64)
        return run_short(m, s, len);
    unsigned *reach = scratch, *run = reach + len + 2, *diff = run + len + 2;
    /* Reachable positions lie in [lo, hi]; each pass looks only at that window. */
    size_t lo = 0, hi = 0;
    reach[0] = 1;
    for (size_t k = 0; k < m->natoms; k++) {
        const struct atom *a = &m->atoms[k];
        /* run[p] for p in [lo, hi]: bytes from p on in the set, counted from the right. */
        size_t r = 0, p = len; /* r: run[p] */
        for (; p > hi + 1; p--)
            r = set_has(a, s[p - 1]) ? r + 1 : 0;
        run[hi] = hi < len && set_has(a, s[hi]) ? (unsigned)r + 1 : 0;
        for (p = hi; p > lo; p--)
            run[p - 1] = set_has(a, s[p - 1]) ? run[p] + 1 : 0;
        size_t nlo = SIZE_MAX, nhi = 0;
        for (p = lo; p <= hi; p++) {
            if (!reach[p] || run[p] < a->min)
                continue;
            size_t end = p + (a->max == UNBOUNDED || run[p] < a->max ? run[p] : a->max);
            if (nlo == SIZE_MAX) {
                nlo = p + a->min;
                memset(diff + nlo, 0, (len + 2 - nlo) * sizeof *diff);
            }
            diff[p + a->min]++;
            diff[end + 1]--;
            if (end > nhi)
                nhi = end;
        }
        if (nlo == SIZE_MAX)
            return false;
        unsigned live = 0;
        for (p = nlo; p <= nhi; p++) {
            live += diff[p];
            reach[p] = live != 0;
        }
        lo = nlo;
        hi = nhi;
    }
    return hi == len && reach[len];
}

void fastmatch_free(struct fastmatch *m)
{
    if (!m)
        return;
    free(m->atoms);
    free(m);
}
