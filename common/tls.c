/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "tls.h"

#define PEM_MAX (1024 * 1024)

static const char tls13_config[] =
        "openssl_conf = jobrunner_conf\n"
        "[jobrunner_conf]\n"
        "ssl_conf = jobrunner_ssl\n"
        "[jobrunner_ssl]\n"
        "system_default = jobrunner_tls\n"
        "[jobrunner_tls]\n"
        "Protocol = -ALL, TLSv1.3\n";

int tls_restrict_to_tls13(void) {
        _cleanup_close_ int fd = -EBADF;
        OPENSSL_INIT_SETTINGS *settings;
        char path[64];
        int ok;

        /* An anonymous file: nothing on disk to tamper with or clean up. */
        fd = memfd_create("jobrunner-openssl.cnf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, tls13_config, sizeof(tls13_config) - 1) != (ssize_t) (sizeof(tls13_config) - 1))
                return -EIO;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

        settings = OPENSSL_INIT_new();
        if (!settings)
                return -ENOMEM;
        /* Flags 0: a configuration that fails to load is an error, not
         * silently skipped. */
        OPENSSL_INIT_set_config_file_flags(settings, 0);
        ok = OPENSSL_INIT_set_config_filename(settings, path) &&
             OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, settings);
        OPENSSL_INIT_free(settings);
        return ok ? 0 : -EPROTO;
}

int tls_read_pem(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > PEM_MAX)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        buf[n] = '\0';
        if (!strstr(buf, "-----BEGIN "))
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

void tls_erase_and_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}
