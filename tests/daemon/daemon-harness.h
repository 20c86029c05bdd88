/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

/* The daemon tests' side of the VM: the built jobrunner installed as an
 * operator would (tests/daemon/install-daemon: units, polkit rule, system
 * user, certificates, jobrunner.socket started), and connections to it as
 * one of the test users.  Only inside the test VM (tests/integration/
 * vm-main.c skips elsewhere). */

#include "test-client.h"

#define DH_TARGET "localhost:50051"
#define DH_TLS_DIR "/etc/jobrunner/tls"
#define DH_OTHER_CA_DIR "/run/jobrunner-other-ca"

/* Installs and starts jobrunner.socket once per VM boot; every test binary
 * calls it first (it serialises concurrent callers).  Fails the test on
 * error. */
void dh_install(void);

/* A connection as user (alice, bob: operators; root: admin; victor: viewer;
 * old: an expired operator certificate), from the certificates in
 * DH_TLS_DIR/users/<user>.  Fails the test on error. */
TcConn *dh_connect(const char *user);
/* The same from another directory made by jobrunner-keys, e.g.
 * DH_OTHER_CA_DIR (user mallory); NULL user = no client certificate. */
TcConn *dh_connect_from(const char *dir, const char *user);

/* Starts argv as the connection's user and returns the new job's status
 * (free with jobrunner__v1__job_status__free_unpacked()); fails the test
 * unless the call is OK. */
Jobrunner__V1__JobStatus *dh_start(TcConn *c, const char *const *argv);

/* The status code of GetStatus/Wait/Stop/Logs(follow=false) for id as the
 * connection's user; response discarded. */
int dh_call_on_job(TcConn *c, const char *method, const char *id);

/* Runs a shell command in the VM, fails the test unless it exits 0. */
void dh_shell(const char *command);

/* Runs a shell command and returns its whole stdout (free it).  ret_exit
 * NULL: the test fails unless it exits 0; else *ret_exit is its exit status
 * (-1 if it did not exit normally). */
char *dh_shell_output(const char *command, int *ret_exit);

/* The same without one final newline, as $(...) gives it. */
char *dh_shell_line(const char *command, int *ret_exit);

/* The daemon's audit records (daemon/audit.h) since a time that match the
 * journal fields in matches ("JOBRUNNER_METHOD=Check ..."), one line
 * each, "" for none (free it). */
char *dh_audit_records(time_t since, const char *matches);

/* The same, once there is one: journald stores records asynchronously to
 * the daemon.  Fails the test after 20 s without. */
char *dh_wait_audit_record(time_t since, const char *matches);

/* A random job id (32 hex digits), of no job. */
void dh_random_id(char ret[static 33]);

/* Frees a JobStatus; for _cleanup_job_. */
void dh_job_status_freep(Jobrunner__V1__JobStatus **j);
#define _cleanup_job_ _cleanup_(dh_job_status_freep)
