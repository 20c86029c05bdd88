/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Who may do what.  Pure: no gRPC, no I/O.  The daemon turns the peer's
 * certificate into an AuthzIdentity once per call, then asks authz_check()
 * before it acts, and maps the answer with authz_decision_to_errno() and
 * jr_code_from_errno(). */

#define AUTHZ_NAME_MAX 64       /* bytes; X.509's ub-common-name is 64 */

typedef enum AuthzRole {
        AUTHZ_ROLE_ADMIN,
        AUTHZ_ROLE_OPERATOR,
        AUTHZ_ROLE_VIEWER,
        _AUTHZ_ROLE_MAX,
} AuthzRole;

typedef enum AuthzMethod {
        AUTHZ_METHOD_START,
        AUTHZ_METHOD_STOP,
        AUTHZ_METHOD_STATUS,
        AUTHZ_METHOD_LIST,
        AUTHZ_METHOD_WAIT,
        AUTHZ_METHOD_LOGS,
        AUTHZ_METHOD_HEALTH,    /* grpc.health.v1.Health/Check */
        AUTHZ_METHOD_ATTACH,
        _AUTHZ_METHOD_MAX,
} AuthzMethod;

typedef enum AuthzDecision {
        AUTHZ_ALLOW,
        AUTHZ_DENY_PERMISSION,  /* PERMISSION_DENIED */
        AUTHZ_DENY_NOT_FOUND,   /* NOT_FOUND: indistinguishable from an unknown job id */
} AuthzDecision;

typedef struct AuthzIdentity {
        char name[AUTHZ_NAME_MAX + 1];  /* the certificate's CN: the owner of its jobs */
        AuthzRole role;                 /* the certificate's OU */
} AuthzIdentity;

/* common_name and subject are gRPC's x509_common_name and x509_subject (may
 * be NULL when absent).  The name must be valid UTF-8 of 1..AUTHZ_NAME_MAX
 * bytes without control characters (or Unicode noncharacters, line
 * separators, bidi controls: it ends up in logs, job files and D-Bus), and
 * equal the subject's CN if the subject has one.  The role is the subject's
 * only OU, spelled exactly "admin", "operator" or "viewer".
 *
 * Errors follow the API's contract (proto/jobrunner.proto): no CN or no OU
 * -ENOKEY and an unusable one (bad characters, too long, given twice, CN
 * mismatch, unparsable subject) -EKEYREJECTED, both UNAUTHENTICATED; a
 * well-formed but unknown role -EPERM (PERMISSION_DENIED); -ENOMEM.  On
 * failure *ret is untouched and, if ret_error is not NULL, *ret_error is a
 * new message for the log and the client (or NULL if out of memory); on
 * success *ret_error is untouched. */
int authz_identity_from_subject(const char *common_name, const char *subject,
                                AuthzIdentity *ret, char **ret_error);

/* job_owner: the owner of the job the call acts on; NULL for Start, for List
 * as a whole, and for a job that does not exist.  Passing each job's owner
 * with AUTHZ_METHOD_LIST tells whether the caller may see it in a listing.
 * requests_named_user: Start with JobSpec.user set.
 *
 * A denial that depends on the job is always AUTHZ_DENY_NOT_FOUND, and a
 * PERMISSION_DENIED never depends on the job, so that nobody learns whether
 * a job they may not see exists. */
AuthzDecision authz_check(const AuthzIdentity *who, AuthzMethod method, const char *job_owner,
                          bool requests_named_user);

/* Does List show the caller every job (true) or only its own? */
bool authz_list_sees_all(const AuthzIdentity *who);

/* ListRequest.owner: NULL or "" = no filter.  Who only sees its own jobs may
 * name only itself (PERMISSION_DENIED otherwise, as the API says). */
AuthzDecision authz_check_list_owner(const AuthzIdentity *who, const char *owner_filter);

/* 0, -EPERM or -ENOENT: what jr_code_from_errno() turns into the API's code. */
int authz_decision_to_errno(AuthzDecision d);

/* "admin", "operator", "viewer"; NULL if out of range. */
const char *authz_role_to_string(AuthzRole role);
/* "Start", "Stop", "GetStatus", "List", "Wait", "Logs", "Check", "Attach"
 * (the rpc names); NULL if out of range. */
const char *authz_method_to_string(AuthzMethod method);
