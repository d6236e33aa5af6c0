#include "base/failpoint.h"

#ifdef SHEETD_FAILPOINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void failpoint_hit(const char *name)
{
    const char *armed = getenv("SHEETD_FAILPOINT");
    if (armed && !strcmp(armed, name))
        kill(getpid(), SIGKILL);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int failpoint_unused;
#endif
