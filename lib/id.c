/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <systemd/sd-id128.h>

#include "job.h"

/* 128 random bits, as 32 lowercase hex digits: never guessable, never a pid. */
int job_id_new(char ret[static JR_ID_STRING_MAX]) {
        sd_id128_t id;
        int r;

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        sd_id128_to_string(id, ret);
        return 0;
}

bool job_id_is_valid(const char *id) {
        if (!id || strlen(id) != JR_ID_STRING_MAX - 1)
                return false;
        return strspn(id, "0123456789abcdef") == JR_ID_STRING_MAX - 1;
}
