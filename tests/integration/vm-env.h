/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Facts about the machine the tests run on, read from /proc and /sys. */

/* The comm of PID 1, or "unknown"; a static buffer. */
const char *vm_env_pid1_name(void);

/* "cgroup2", "tmpfs (cgroup v1 or hybrid)", or another description. */
const char *vm_env_cgroup_fs_name(void);

/* Whether the root cgroup enables controller (a word of cgroup.controllers). */
bool vm_env_has_controller(const char *controller);
