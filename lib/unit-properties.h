/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A job spec as the properties of its transient systemd service unit, in the
 * order they go into StartTransientUnit's a(sv) array.  Built without sd-bus
 * so that it can be tested anywhere; the caller appends each item as
 * (name, variant of unit_property_signature(type)). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobrunner.h"

typedef enum UnitPropertyType {
        UNIT_PROP_STRING,               /* "s" */
        UNIT_PROP_BOOL,                 /* "b" */
        UNIT_PROP_U64,                  /* "t" */
        UNIT_PROP_STRV,                 /* "as" */
        UNIT_PROP_EXEC,                 /* "a(sasb)", ExecStart: one (path, argv, ignore failure: no) */
        UNIT_PROP_IO_BANDWIDTH,         /* "a(st)": (device, bytes per second) each */
        UNIT_PROP_FD,                   /* "h" */
        UNIT_PROP_TMPFS,                /* "a(ss)", TemporaryFileSystem=: one (path, options) */
        UNIT_PROP_BIND,                 /* "a(ssbt)", Bind(ReadOnly)Paths=: one (source, destination, -, flags) */
        _UNIT_PROP_TYPE_MAX,
} UnitPropertyType;

typedef struct UnitPropertyIO {
        char *device;
        uint64_t bps;
} UnitPropertyIO;

typedef struct UnitProperty {
        const char *name;               /* static */
        UnitPropertyType type;
        union {
                char *string;
                bool boolean;
                uint64_t u64;
                char **strv;            /* NULL-terminated */
                struct {
                        char *path;
                        char **argv;    /* NULL-terminated */
                } exec;
                struct {
                        UnitPropertyIO *items;
                        size_t n;
                } io;
                int fd;                 /* borrowed: not closed here; sd-bus dups it when appended */
                struct {
                        char *path;
                        char *options;  /* e.g. "ro" */
                } tmpfs;
                struct {
                        char *source;
                        char *destination;
                        bool ignore_missing;    /* the "-" prefix */
                } bind;
        };
} UnitProperty;

typedef struct UnitProperties {
        UnitProperty *items;            /* owns its strings */
        size_t n;
        int command_fd;                 /* owned: jobrunner-init's stdin, the job's argv and env in a
                                         * memfd, or with a stdin pipe a socket passing both */
} UnitProperties;

typedef struct UnitPropertiesInput {
        const jr_spec *spec;            /* already validated with jr_spec_validate() */
        const char *job_id;             /* for Description= */
        const char *slice;              /* Slice=, e.g. "jobrunner.slice" */
        const char *cgroup;             /* the unit's cgroup below /sys/fs/cgroup, "/jobrunner.slice/<unit>" */
        const char *init_path;          /* absolute path of jobrunner-init, the ExecStart= binary */
        uint64_t stop_timeout_usec;     /* TimeoutStopUSec=; systemd reads 0 as infinity */
        int stdout_fd;                  /* StandardOutputFileDescriptor=; < 0 leaves the property out */
        int stderr_fd;                  /* StandardErrorFileDescriptor=; < 0 leaves the property out */
        int stdin_fd;                   /* the read end of a JR_STDIN_PIPE, else < 0 */
} UnitPropertiesInput;

/* Every job's unit is JR_UNIT_PREFIX "<id>.service". */
#define JR_UNIT_PREFIX "jobrunner-"

/* The cgroup of unit in slice, below the cgroup root: "a-b.slice" lives in
 * "a.slice", and so on.  Returns 0 or -ENOMEM. */
int unit_cgroup_path(const char *slice, const char *unit, char **ret);

/* The D-Bus signature of a property's value, for the variant. */
const char *unit_property_signature(UnitPropertyType type);

/* Fills *ret (overwritten).  Returns 0, -EINVAL for incomplete input, or
 * -ENOMEM; on failure *ret is empty. */
int unit_properties_build(const UnitPropertiesInput *in, UnitProperties *ret, jr_error *e);

/* Frees the items and their strings (never the fds); *p is left empty. */
void unit_properties_done(UnitProperties *p);

/* The first property called name, or NULL. */
const UnitProperty *unit_properties_find(const UnitProperties *p, const char *name);
