/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The API's status codes, and the one place where our negative-errno world is
 * translated into them.  The numbers are the gRPC status codes: they are
 * stable wire values (grpc/status.h, google.rpc.Code), so the daemon may cast
 * a JrCode straight to grpc_status_code.  common/ must not include any gRPC
 * header, hence this copy. */
typedef enum JrCode {
        JR_CODE_OK = 0,
        JR_CODE_CANCELLED = 1,
        JR_CODE_UNKNOWN = 2,
        JR_CODE_INVALID_ARGUMENT = 3,
        JR_CODE_DEADLINE_EXCEEDED = 4,
        JR_CODE_NOT_FOUND = 5,
        JR_CODE_ALREADY_EXISTS = 6,
        JR_CODE_PERMISSION_DENIED = 7,
        JR_CODE_RESOURCE_EXHAUSTED = 8,
        JR_CODE_FAILED_PRECONDITION = 9,
        JR_CODE_ABORTED = 10,
        JR_CODE_OUT_OF_RANGE = 11,
        JR_CODE_UNIMPLEMENTED = 12,
        JR_CODE_INTERNAL = 13,
        JR_CODE_UNAVAILABLE = 14,
        JR_CODE_DATA_LOSS = 15,
        JR_CODE_UNAUTHENTICATED = 16,
        _JR_CODE_MAX,
} JrCode;

/* error may have either sign; 0 is JR_CODE_OK, anything not in the table
 * JR_CODE_INTERNAL (a failure the caller cannot act on). */
JrCode jr_code_from_errno(int error);

/* "OK", "INVALID_ARGUMENT", ... as gRPC spells them; NULL if out of range. */
const char *jr_code_to_string(JrCode code);
