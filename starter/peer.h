/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who is on the other end of a connection to jobrunner-starter: only
 * jobrunnerd itself may ask it to start units, that is a process of the
 * daemon's user in the daemon's unit's cgroup, the same two facts the polkit
 * rule (50-jobrunner.rules) identifies jobrunnerd by.
 *
 * A limit the kernel sets (6.1 has no SO_PEERPIDFD): SO_PEERCRED gives the
 * pid of the process that connected, and /proc/<pid>/cgroup is read after
 * the fact.  If that process exited and its pid was reused in between, the
 * cgroup read is the new process'.  To gain from that, a process would have
 * to connect (the socket is the group jobrunner's alone), do it as the
 * daemon's user (the uid is the connecting process' own, fixed at connect
 * time), exit, and have its pid reused by a process of jobrunner.service:
 * only the daemon's own user can try, and it has nothing to gain beyond
 * what the daemon may ask anyway. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "jobrunner.h"

/* The most of /proc/<pid>/cgroup read: one line per hierarchy, each with a
 * path of at most PATH_MAX.  A longer file is refused. */
#define STARTER_PEER_CGROUP_MAX (16u * 1024u)

/* The connecting process of fd (SO_PEERCRED): 0, or a negative errno. */
int starter_peer_credentials(int fd, pid_t *ret_pid, uid_t *ret_uid);

/* Checks that fd's peer has want_uid and /proc/<pid>/cgroup has a line
 * exactly equal to want_cgroup_line, e.g. "0::/system.slice/jobrunner.service".
 * Returns 0, or a negative errno with e naming the peer's pid and uid:
 * -EPERM for another user or another cgroup, -ESRCH if the process is
 * gone, -EFBIG for a cgroup file above STARTER_PEER_CGROUP_MAX, or why the
 * credentials or the file could not be read. */
int starter_peer_check(int fd, uid_t want_uid, const char *want_cgroup_line, jr_error *e);

/* The cgroup half, with /proc at proc_root (tests use a directory of their
 * own); the same errors. */
int starter_peer_check_cgroup(const char *proc_root, pid_t pid, uid_t uid, const char *want_cgroup_line, jr_error *e);

/* Whether text (len bytes, lines separated by '\n', the last one with or
 * without it) has a line exactly equal to line. */
bool starter_peer_cgroup_has_line(const char *text, size_t len, const char *line);
