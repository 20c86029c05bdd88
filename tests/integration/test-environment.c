/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The test VM is what every later integration test stands on: systemd as
 * PID 1, reachable over D-Bus, on the unified cgroup v2 hierarchy with the
 * controllers jobrunner's limits need. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "macro.h"
#include "vm-env.h"

Test(environment, systemd_is_pid1) {
        printf("PID 1: %s\n", vm_env_pid1_name());
        cr_assert_str_eq(vm_env_pid1_name(), "systemd");
        cr_assert_gt(sd_booted(), 0, "sd_booted() says systemd did not boot this system");
}

Test(environment, systemd_answers_on_the_system_bus) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char *version = NULL;

        cr_assert_geq(sd_bus_open_system(&bus), 0);
        cr_assert_geq(sd_bus_get_property_string(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                 "org.freedesktop.systemd1.Manager", "Version", &error, &version),
                      0, "%s", error.message ?: "");
        printf("systemd version: %s\n", version);
        cr_assert_eq(strncmp(version, "252", 3), 0);
        free(version);
}

Test(environment, cgroup2_with_cpu_memory_io_pids) {
        static const char *const controllers[] = { "cpu", "memory", "io", "pids" };

        printf("/sys/fs/cgroup: %s\n", vm_env_cgroup_fs_name());
        cr_assert_str_eq(vm_env_cgroup_fs_name(), "cgroup2");
        for (size_t i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++)
                cr_expect(vm_env_has_controller(controllers[i]), "controller %s is not available",
                          controllers[i]);
}
