/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "jobrunner.h"

/* Reads a running job's resource usage from its cgroup v2 directory
 * (root, usually "/sys/fs/cgroup", joined with the unit's ControlGroup).
 * Fields the kernel does not offer stay 0.  -ENOENT once the cgroup is gone. */
int cgroup_read_usage(const char *root, const char *cgroup, jr_usage *ret);
