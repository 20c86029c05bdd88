/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>

#include "macro.h"
#include "vm-env.h"

const char *vm_env_pid1_name(void) {
        static char name[64];
        _cleanup_fclose_ FILE *f = fopen("/proc/1/comm", "re");

        if (!f || !fgets(name, sizeof(name), f))
                return "unknown";
        name[strcspn(name, "\n")] = '\0';
        return name;
}

const char *vm_env_cgroup_fs_name(void) {
        struct statfs s;

        if (statfs("/sys/fs/cgroup", &s) < 0)
                return "missing";
        if (s.f_type == CGROUP2_SUPER_MAGIC)
                return "cgroup2";
        if (s.f_type == TMPFS_MAGIC)
                return "tmpfs (cgroup v1 or hybrid)";
        return "neither cgroup2 nor tmpfs";
}

bool vm_env_has_controller(const char *controller) {
        _cleanup_fclose_ FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "re");
        char word[64];

        if (!f)
                return false;
        while (fscanf(f, "%63s", word) == 1)
                if (strcmp(word, controller) == 0)
                        return true;
        return false;
}
