/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "macro.h"
#include "status.h"

/* Which errno the libraries return for what is documented where they return
 * it; this table only decides what a client is told.  Unlisted values are
 * INTERNAL: it is safer to admit a server fault than to blame the request. */
static const struct {
        int error;
        JrCode code;
} errno_table[] = {
        /* The request itself is malformed. */
        { EINVAL,       JR_CODE_INVALID_ARGUMENT },
        { ENAMETOOLONG, JR_CODE_INVALID_ARGUMENT },
        { EDOM,         JR_CODE_INVALID_ARGUMENT },
        { ENODEV,       JR_CODE_INVALID_ARGUMENT },     /* an IO limit on something that is no block device */

        { ENOENT,       JR_CODE_NOT_FOUND },
        { ESRCH,        JR_CODE_NOT_FOUND },

        { EPERM,        JR_CODE_PERMISSION_DENIED },
        { EACCES,       JR_CODE_PERMISSION_DENIED },

        { E2BIG,        JR_CODE_RESOURCE_EXHAUSTED },
        { ENOSPC,       JR_CODE_RESOURCE_EXHAUSTED },
        { EMFILE,       JR_CODE_RESOURCE_EXHAUSTED },
        { ENFILE,       JR_CODE_RESOURCE_EXHAUSTED },
        { ENOMEM,       JR_CODE_RESOURCE_EXHAUSTED },
        { EMSGSIZE,     JR_CODE_RESOURCE_EXHAUSTED },
        { EDQUOT,       JR_CODE_RESOURCE_EXHAUSTED },

        /* The request is fine but the job is not in a state for it, e.g. a
         * stop of a job that has ended (-EALREADY from jr_job_stop()). */
        { EALREADY,     JR_CODE_FAILED_PRECONDITION },
        { ESTALE,       JR_CODE_FAILED_PRECONDITION },
        { EBUSY,        JR_CODE_FAILED_PRECONDITION },
        { ENOTEMPTY,    JR_CODE_FAILED_PRECONDITION },

        { ERANGE,       JR_CODE_OUT_OF_RANGE },         /* a Logs offset past the end of its stream */
        { ETIMEDOUT,    JR_CODE_DEADLINE_EXCEEDED },
        { ECANCELED,    JR_CODE_CANCELLED },

        { EOPNOTSUPP,   JR_CODE_UNIMPLEMENTED },        /* == ENOTSUP on Linux */
        { ENOSYS,       JR_CODE_UNIMPLEMENTED },

        { ECONNREFUSED, JR_CODE_UNAVAILABLE },
        { ESHUTDOWN,    JR_CODE_UNAVAILABLE },
        { EHOSTUNREACH, JR_CODE_UNAVAILABLE },
        { ENOTCONN,     JR_CODE_UNAVAILABLE },

        /* No usable client certificate (daemon/authz.h). */
        { EKEYREJECTED, JR_CODE_UNAUTHENTICATED },
        { ENOKEY,       JR_CODE_UNAUTHENTICATED },

        /* libjobrunner returns -EBADMSG for a corrupt file of its own (job
         * metadata, output.log) and -ENODATA for a job whose stored output
         * could not be opened: the job exists, so NOT_FOUND would lie, and
         * the request is fine, so INVALID_ARGUMENT would too.  Malformed
         * client input is -EINVAL, never -EBADMSG. */
        { EBADMSG,      JR_CODE_DATA_LOSS },
        { ENODATA,      JR_CODE_DATA_LOSS },
};

JrCode jr_code_from_errno(int error) {
        if (error == 0)
                return JR_CODE_OK;
        if (error == INT_MIN)           /* not negatable, and no errno anyway */
                return JR_CODE_INTERNAL;
        if (error < 0)
                error = -error;

        for (size_t i = 0; i < ELEMENTSOF(errno_table); i++)
                if (errno_table[i].error == error)
                        return errno_table[i].code;
        return JR_CODE_INTERNAL;
}

static const char *const code_names[_JR_CODE_MAX] = {
        [JR_CODE_OK]                  = "OK",
        [JR_CODE_CANCELLED]           = "CANCELLED",
        [JR_CODE_UNKNOWN]             = "UNKNOWN",
        [JR_CODE_INVALID_ARGUMENT]    = "INVALID_ARGUMENT",
        [JR_CODE_DEADLINE_EXCEEDED]   = "DEADLINE_EXCEEDED",
        [JR_CODE_NOT_FOUND]           = "NOT_FOUND",
        [JR_CODE_ALREADY_EXISTS]      = "ALREADY_EXISTS",
        [JR_CODE_PERMISSION_DENIED]   = "PERMISSION_DENIED",
        [JR_CODE_RESOURCE_EXHAUSTED]  = "RESOURCE_EXHAUSTED",
        [JR_CODE_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [JR_CODE_ABORTED]             = "ABORTED",
        [JR_CODE_OUT_OF_RANGE]        = "OUT_OF_RANGE",
        [JR_CODE_UNIMPLEMENTED]       = "UNIMPLEMENTED",
        [JR_CODE_INTERNAL]            = "INTERNAL",
        [JR_CODE_UNAVAILABLE]         = "UNAVAILABLE",
        [JR_CODE_DATA_LOSS]           = "DATA_LOSS",
        [JR_CODE_UNAUTHENTICATED]     = "UNAUTHENTICATED",
};

const char *jr_code_to_string(JrCode code) {
        /* An enum may hold any int: compare as unsigned to catch negatives too. */
        if ((unsigned) code >= ELEMENTSOF(code_names))
                return NULL;
        return code_names[code];
}
