/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What execve(2) takes of a job's argv and environment: the numbers behind
 * JR_STRING_MAX, JR_EXEC_POINTER_SIZE and JR_EXEC_BYTES_MAX (lib/jobrunner.h
 * says how they were found), here for the CLI, which refuses early what the
 * server would. */

#define EXEC_STRING_MAX 131071u         /* bytes of one string, without its NUL: MAX_ARG_STRLEN - 1 */
#define EXEC_POINTER_SIZE 8u            /* each string's pointer on the job's stack */
#define EXEC_BYTES_MAX (2u * 1024u * 1024u - 16u * 1024u) /* all of them, each with its NUL and pointer */
