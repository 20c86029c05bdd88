/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "interrupt.h"

static volatile sig_atomic_t interrupts = 0, pending = 0;
static const char *last_words = NULL;
/* Per thread: the hosts of a fan-out each handle the one Ctrl-C on their
 * own thread (interrupt.h); one thread alone sees no difference. */
static _Thread_local bool acknowledged = false;

static void on_signal(int sig) {
        (void) sig;

        /* The handler runs on whichever thread, gRPC's included: it only
         * touches the flag, or ends the process with async-signal-safe
         * calls. */
        if (interrupts++ == 0) {
                pending = 1;
                return;
        }
        if (last_words)
                (void) !write(STDERR_FILENO, last_words, strlen(last_words));
        _exit(CLI_EXIT_INTERRUPTED);
}

int interrupt_install(const char *words) {
        struct sigaction sa = { .sa_handler = on_signal };

        last_words = words;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
                return -errno;
        return 0;
}

bool interrupt_requested(void) {
        return pending && !acknowledged;
}

bool interrupt_received(void) {
        return pending;
}

void interrupt_acknowledge(void) {
        acknowledged = true;
}

int interrupt_handle(int (*on_interrupt)(void *userdata, CliError *e), void *userdata, CliError *e) {
        int r;

        interrupt_acknowledge();
        if (!on_interrupt)
                return -EINTR;
        r = on_interrupt(userdata, e);
        return r > 0 ? -EINTR : r;
}
