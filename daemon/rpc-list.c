/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* List: the jobs the caller may see, filtered, newest first, in pages.
 *
 * A page token is the position after the last job of the page, (start
 * time, id) in list order, plus a hash of the filters it belongs to:
 * "<start time hex>.<id>.<filter hash hex>".  Jobs started after the first
 * page sort before that position and so never appear on later pages. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "macro.h"
#include "rpc.h"

#define PAGE_SIZE_DEFAULT 100u
#define PAGE_SIZE_MAX 1000u

typedef struct ListPosition {
        uint64_t start_time_us;
        char id[JR_ID_STRING_MAX];
} ListPosition;

typedef struct ListEntry {
        jr_job *job;
        uint64_t start_time_us;
} ListEntry;

/* FNV-1a over everything that selects jobs, so that a token is refused with
 * other filters. */
static uint32_t filter_hash(const jr_list_filter *f, const char *owner_filter) {
        uint32_t h = 2166136261u;
        const unsigned char *p;

        for (unsigned i = 0; i < sizeof(f->states); i++)
                h = (h ^ ((f->states >> (8 * i)) & 0xff)) * 16777619u;
        for (p = (const unsigned char *) (owner_filter ? owner_filter : ""); *p; p++)
                h = (h ^ *p) * 16777619u;
        return h;
}

static int position_parse(const char *token, uint32_t hash, ListPosition *ret) {
        unsigned long long t;
        unsigned h;
        int n = 0;

        if (sscanf(token, "%16llx.%32[0-9a-f].%8x%n", &t, ret->id, &h, &n) != 3 || token[n] != '\0' ||
            !convert_job_id_is_valid(ret->id) || h != hash)
                return -EINVAL;
        ret->start_time_us = t;
        return 0;
}

/* Newest first, then by id, as the API promises. */
static int entry_cmp(const void *a, const void *b) {
        const ListEntry *x = a, *y = b;

        if (x->start_time_us != y->start_time_us)
                return x->start_time_us > y->start_time_us ? -1 : 1;
        return strcmp(jr_job_get_id(x->job), jr_job_get_id(y->job));
}

static bool entry_after(const ListEntry *e, const ListPosition *p) {
        if (e->start_time_us != p->start_time_us)
                return e->start_time_us < p->start_time_us;
        return strcmp(jr_job_get_id(e->job), p->id) > 0;
}

static int build_filter(const Jobrunner__V1__ListRequest *req, jr_list_filter *ret) {
        unsigned states = 0;

        for (size_t i = 0; i < req->n_states; i++) {
                jr_state s;

                if (convert_state_from_proto(req->states[i], &s) < 0)
                        return -EINVAL;
                states |= 1u << s;
        }
        if (req->active_only)
                states = (states ? states : ~0u) & ((1u << JR_STATE_STARTING) | (1u << JR_STATE_RUNNING));
        if ((req->n_states > 0 || req->active_only) && states == 0)
                states = 1u << 31;       /* nothing can match; 0 would mean "all" */
        ret->states = states;
        return 0;
}

static void list_reply(Call *call, ListEntry *entries, size_t n, size_t page_size, uint32_t hash) {
        Jobrunner__V1__ListResponse response = JOBRUNNER__V1__LIST_RESPONSE__INIT;
        _cleanup_free_ Jobrunner__V1__JobStatus **jobs = NULL;
        _cleanup_free_ char *token = NULL;
        size_t count = n < page_size ? n : page_size;

        jobs = calloc(count ? count : 1, sizeof(*jobs));
        if (!jobs)
                goto oom;
        for (size_t i = 0; i < count; i++)
                if (!(jobs[i] = rpc_job_status(entries[i].job, true)))
                        goto oom;
        if (n > count && asprintf(&token, "%016" PRIx64 ".%s.%08x", entries[count - 1].start_time_us,
                                  jr_job_get_id(entries[count - 1].job), hash) < 0)
                goto oom;

        response.n_jobs = count;
        response.jobs = jobs;
        response.next_page_token = token ? token : (char *) "";
        call_finish(call, &response.base, JR_CODE_OK, NULL);
        goto done;
oom:
        call_finish_errno(call, -ENOMEM, NULL);
done:
        for (size_t i = 0; jobs && i < count; i++)
                if (jobs[i])
                        convert_status_free(jobs[i]);
}

void rpc_list(Call *call, const ProtobufCMessage *request, void *userdata) {
        const Jobrunner__V1__ListRequest *req = (const Jobrunner__V1__ListRequest *) request;
        const AuthzIdentity *who = call_identity(call);
        const char *owner_filter = req->owner && req->owner[0] ? req->owner : NULL;
        Daemon *d = userdata;
        jr_list_filter filter = {};
        _cleanup_free_ jr_job **jobs = NULL;
        _cleanup_free_ ListEntry *entries = NULL;
        ListPosition position;
        size_t page_size, n = 0, first = 0;
        uint32_t hash;
        int r;

        if (authz_check(who, AUTHZ_METHOD_LIST, NULL, false) == AUTHZ_DENY_PERMISSION ||
            authz_check_list_owner(who, owner_filter) != AUTHZ_ALLOW) {
                call_finish(call, NULL, JR_CODE_PERMISSION_DENIED,
                            "permission denied: your role may list only your own jobs");
                return;
        }
        if (build_filter(req, &filter) < 0) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT, "states: unknown job state");
                return;
        }
        filter.owner = owner_filter ? owner_filter : authz_list_sees_all(who) ? NULL : who->name;
        hash = filter_hash(&filter, owner_filter);
        if (req->page_token && req->page_token[0] && position_parse(req->page_token, hash, &position) < 0) {
                call_finish(call, NULL, JR_CODE_INVALID_ARGUMENT,
                            "page_token is not one this server returned for these filters");
                return;
        }

        r = jr_manager_list(d->manager, &filter, &jobs);
        if (r < 0) {
                call_finish_errno(call, r, NULL);
                return;
        }
        entries = calloc(r ? r : 1, sizeof(ListEntry));
        if (!entries) {
                call_finish_errno(call, -ENOMEM, NULL);
                return;
        }
        for (int i = 0; i < r; i++)
                /* The listing's own check, per job: never show what the
                 * caller could not see one by one. */
                if (authz_check(who, AUTHZ_METHOD_LIST, jr_job_get_owner(jobs[i]), false) == AUTHZ_ALLOW)
                        entries[n++] = (ListEntry) { .job = jobs[i], .start_time_us = jr_job_get_start_time_us(jobs[i]) };
        qsort(entries, n, sizeof(ListEntry), entry_cmp);

        if (req->page_token && req->page_token[0])
                while (first < n && !entry_after(&entries[first], &position))
                        first++;
        page_size = req->page_size == 0 ? PAGE_SIZE_DEFAULT : req->page_size > PAGE_SIZE_MAX ? PAGE_SIZE_MAX : req->page_size;
        list_reply(call, entries + first, n - first, page_size, hash);
}
