/*
 * Failpoints: named places where a test can make the process die, to prove that a crash at
 * exactly that instant loses nothing and does nothing twice (the way FoundationDB and TiKV
 * test recovery). They exist only in builds configured with -Dfailpoints=true, which the
 * test build is; in every other build FAILPOINT(name) compiles to nothing.
 *
 * A test sets SHEETD_FAILPOINT=<name> in a child process; when that child reaches
 * FAILPOINT(<name>) it kills itself with SIGKILL, as `kill -9` would.
 */
#ifndef SHEETD_BASE_FAILPOINT_H
#define SHEETD_BASE_FAILPOINT_H

#ifdef SHEETD_FAILPOINTS
void failpoint_hit(const char *name);
#define FAILPOINT(name) failpoint_hit(name)
#else
#define FAILPOINT(name) ((void)0)
#endif

#endif
