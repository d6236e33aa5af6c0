#include "cli/cli_signals.h"

#include <pthread.h>
#include <unistd.h>

#include "base/log.h"

int cli_signals_block(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

const char *cli_signal_name(int signal_number)
{
    return signal_number == SIGINT ? "SIGINT" : signal_number == SIGTERM ? "SIGTERM" : "signal";
}

static void *second_signal(void *arg)
{
    const sigset_t *set = arg;
    int signal_number = 0;
    if (sigwait(set, &signal_number) == 0) {
        log_kv(SD_LOG_WARN, "second signal: stopping at once", "signal",
               cli_signal_name(signal_number), NULL);
        _exit(130);
    }
    return NULL;
}

int cli_signals_wait(const sigset_t *set)
{
    int signal_number = 0;
    if (sigwait(set, &signal_number) != 0)
        signal_number = SIGTERM;
    pthread_t thread;
    if (pthread_create(&thread, NULL, second_signal, (void *)set) == 0)
        pthread_detach(thread);
    return signal_number;
}
