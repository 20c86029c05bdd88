/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "exit-status.h"
#include "macro.h"

/* systemd 252's src/basic/exit-status.h; only those a transient unit of
 * ours can meet.  They are stable: systemd documents them in
 * systemd.exec(5), "Process Exit Codes". */
static const struct {
        int status;
        const char *what;
} setup_failures[] = {
        { 200, "cannot change to the working directory" },          /* EXIT_CHDIR */
        { 202, "cannot set up the file descriptors" },              /* EXIT_FDS */
        { 203, "cannot execute the program" },                      /* EXIT_EXEC */
        { 204, "out of memory while setting up the job" },          /* EXIT_MEMORY */
        { 205, "cannot set the resource limits" },                  /* EXIT_LIMITS */
        { 208, "cannot set up standard input" },                    /* EXIT_STDIN */
        { 209, "cannot set up standard output" },                   /* EXIT_STDOUT */
        { 216, "cannot resolve or set the group" },                 /* EXIT_GROUP */
        { 217, "cannot resolve or set the user" },                  /* EXIT_USER */
        { 218, "cannot set the capabilities" },                     /* EXIT_CAPABILITIES */
        { 219, "cannot enter the job's cgroup" },                   /* EXIT_CGROUP */
        { 222, "cannot set up standard error" },                    /* EXIT_STDERR */
        { 225, "cannot set up the private network" },               /* EXIT_NETWORK */
        { 226, "cannot set up the job's mount namespace" },         /* EXIT_NAMESPACE */
        { 227, "cannot set no-new-privileges" },                    /* EXIT_NO_NEW_PRIVILEGES */
        { 228, "cannot install the system call filter" },           /* EXIT_SECCOMP */
        { 233, "cannot create the runtime directory" },             /* EXIT_RUNTIME_DIRECTORY */
        { 235, "cannot change the owner of the job's directories" }, /* EXIT_CHOWN */
        { 242, "cannot set the NUMA policy" },                      /* EXIT_NUMA_POLICY */
        { 243, "cannot set up the credentials" },                   /* EXIT_CREDENTIALS */
        { 245, "cannot set up the BPF programs" },                  /* EXIT_BPF */
};

const char *exit_status_setup_failure(int status) {
        for (size_t i = 0; i < ELEMENTSOF(setup_failures); i++)
                if (setup_failures[i].status == status)
                        return setup_failures[i].what;
        return NULL;
}
