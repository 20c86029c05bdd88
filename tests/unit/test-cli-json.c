/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The CLI's JSON writer (client/json.c): escaping of odd strings (control
 * characters, invalid UTF-8, quotes), base64, nesting; and a job's JSON,
 * checked with a strict validator written here. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "macro.h"
#include "print.h"

/* ---- a strict validator (RFC 8259) -------------------------------------------- */

typedef struct Parser {
        const char *p, *end;
} Parser;

static bool value(Parser *x);

static void ws(Parser *x) {
        while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
                x->p++;
}

static bool lit(Parser *x, const char *s) {
        size_t n = strlen(s);

        if ((size_t) (x->end - x->p) < n || memcmp(x->p, s, n) != 0)
                return false;
        x->p += n;
        return true;
}

static bool string(Parser *x) {
        if (!lit(x, "\""))
                return false;
        while (x->p < x->end) {
                unsigned char c = (unsigned char) *x->p++;
                uint32_t cp;
                size_t n;

                if (c == '"')
                        return true;
                if (c < 0x20)
                        return false;
                if (c == '\\') {
                        if (x->p >= x->end)
                                return false;
                        c = (unsigned char) *x->p++;
                        if (c == 'u') {
                                for (int i = 0; i < 4; i++)
                                        if (x->p >= x->end || !strchr("0123456789abcdefABCDEF", *x->p++))
                                                return false;
                        } else if (!strchr("\"\\/bfnrt", c) || c == '\0')
                                return false;
                        continue;
                }
                /* Raw text must be UTF-8. */
                n = utf8_sequence((const unsigned char *) x->p - 1, (size_t) (x->end - x->p + 1), &cp);
                if (n == 0)
                        return false;
                x->p += n - 1;
        }
        return false;
}

static bool number(Parser *x) {
        const char *start = x->p;

        if (x->p < x->end && *x->p == '-')
                x->p++;
        if (x->p < x->end && *x->p == '0')
                x->p++;
        else {
                if (x->p >= x->end || *x->p < '1' || *x->p > '9')
                        return false;
                while (x->p < x->end && *x->p >= '0' && *x->p <= '9')
                        x->p++;
        }
        return x->p > start;
}

static bool members(Parser *x, char close, bool keyed) {
        ws(x);
        if (x->p < x->end && *x->p == close) {
                x->p++;
                return true;
        }
        for (;;) {
                ws(x);
                if (keyed) {
                        if (!string(x))
                                return false;
                        ws(x);
                        if (!lit(x, ":"))
                                return false;
                }
                if (!value(x))
                        return false;
                ws(x);
                if (x->p < x->end && *x->p == ',') {
                        x->p++;
                        continue;
                }
                return x->p < x->end && *x->p++ == close;
        }
}

static bool value(Parser *x) {
        ws(x);
        if (x->p >= x->end)
                return false;
        switch (*x->p) {
        case '{':
                x->p++;
                return members(x, '}', true);
        case '[':
                x->p++;
                return members(x, ']', false);
        case '"':
                return string(x);
        case 't':
                return lit(x, "true");
        case 'f':
                return lit(x, "false");
        case 'n':
                return lit(x, "null");
        default:
                return number(x);
        }
}

static bool valid_json(const char *s, size_t len) {
        Parser x = { .p = s, .end = s + len };

        if (!value(&x))
                return false;
        ws(&x);
        return x.p == x.end;
}

/* ---- helpers ----------------------------------------------------------------- */

typedef struct Out {
        char *buf;
        size_t size;
        FILE *f;
        JsonWriter w;
} Out;

static void out_open(Out *o) {
        o->buf = NULL;
        o->size = 0;
        o->f = open_memstream(&o->buf, &o->size);
        cr_assert_not_null(o->f);
        json_init(&o->w, o->f);
}

static const char *out_close(Out *o) {
        cr_assert_eq(fclose(o->f), 0);
        return o->buf;
}

static char *string_json(const char *s, size_t len) {
        Out o;

        out_open(&o);
        json_string_len(&o.w, s, len);
        out_close(&o);
        return o.buf;
}

Test(json, validator_sanity) {
        static const char *const good[] = {
                "{\"a\":[1,-2,\"x\\u00e9\",true,false,null,{}],\"b\":[]}", "[]", "0", "\"\\/\"",
        };
        static const char *const bad[] = {
                "{\"a\":1,}", "[1 2]", "\"\x01\"", "\"\xff\"", "\"\\x41\"", "01", "{a:1}", "", "[",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                cr_assert(valid_json(good[i], strlen(good[i])), "%s", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                cr_assert_not(valid_json(bad[i], strlen(bad[i])), "%s", bad[i]);
}

Test(json, string_escaping) {
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } table[] = {
                { "", 0, "\"\"" },
                { "plain text", 10, "\"plain text\"" },
                { "a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"" },
                { "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },
                { "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
                { "nul\0byte", 8, "\"nul\\u0000byte\"" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
                { "\xff", 1, "\"\\ufffd\"" },
                { "a\x80z", 3, "\"a\\ufffdz\"" },
                { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },                 /* overlong '/' */
                { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },      /* a surrogate */
                { "\xe2\x82", 2, "\"\\ufffd\\ufffd\"" },                 /* cut short */
                { "\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* above U+10FFFF */
                { "\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"" },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                _cleanup_free_ char *j = string_json(table[i].in, table[i].len);

                cr_assert_str_eq(j, table[i].out, "entry %zu", i);
                cr_assert(valid_json(j, strlen(j)), "entry %zu: invalid: %s", i, j);
        }

        {
                Out o;

                out_open(&o);
                json_string(&o.w, NULL);
                cr_assert_str_eq(out_close(&o), "null");
                free(o.buf);
        }
}

Test(json, every_byte_sequence_of_two_is_valid) {
        for (unsigned a = 0; a < 256; a++)
                for (unsigned b = 0; b < 256; b++) {
                        char in[2] = { (char) a, (char) b };
                        _cleanup_free_ char *j = string_json(in, 2);

                        cr_assert(valid_json(j, strlen(j)), "%02x %02x: %s", a, b, j);
                }
}

Test(json, nesting_and_commas) {
        Out o;

        out_open(&o);
        json_begin_object(&o.w);
        json_kv_int(&o.w, "a", -1);
        json_key(&o.w, "b");
        json_begin_array(&o.w);
        json_uint(&o.w, UINT64_MAX);
        json_int(&o.w, INT64_MIN);
        json_begin_object(&o.w);
        json_key(&o.w, "c");
        json_null(&o.w);
        json_end_object(&o.w);
        json_begin_array(&o.w);
        json_end_array(&o.w);
        json_end_array(&o.w);
        json_kv_bool(&o.w, "d", true);
        json_kv_string(&o.w, "e\n", "f");
        json_end_object(&o.w);
        cr_assert_str_eq(out_close(&o), "{\"a\":-1,\"b\":[18446744073709551615,-9223372036854775808,{\"c\":null},[]],"
                                        "\"d\":true,\"e\\n\":\"f\"}");
        cr_assert(valid_json(o.buf, o.size));
        free(o.buf);
}

static size_t base64_decode(const char *s, uint8_t *out) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        uint32_t acc = 0;
        size_t n = 0;
        int bits = 0;

        for (; *s && *s != '='; s++) {
                const char *p = strchr(alphabet, *s);

                cr_assert_not_null(p, "not base64: %c", *s);
                acc = (acc << 6) | (uint32_t) (p - alphabet);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (uint8_t) (acc >> bits);
                }
        }
        return n;
}

Test(json, base64) {
        static const struct {
                const char *in, *out;
        } rfc4648[] = {
                { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
                { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
        };
        static uint8_t data[10000], back[10000];
        static char buf[(sizeof(data) + 2) / 3 * 4 + 1];

        for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
                Out o;
                char expected[32];

                base64_encode(rfc4648[i].in, strlen(rfc4648[i].in), buf);
                cr_assert_str_eq(buf, rfc4648[i].out);
                out_open(&o);
                json_base64(&o.w, rfc4648[i].in, strlen(rfc4648[i].in));
                snprintf(expected, sizeof(expected), "\"%s\"", rfc4648[i].out);
                cr_assert_str_eq(out_close(&o), expected);
                free(o.buf);
        }

        /* Binary data of lengths around json_base64()'s pieces of 3072
         * bytes: the same as in one piece, and back again. */
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t) (i * 7 + i / 256);
        for (size_t len = 3070; len < 3076; len++) {
                size_t lens[] = { len, 2 * len, sizeof(data) };

                for (size_t k = 0; k < 3; k++) {
                        Out o;
                        size_t n;

                        base64_encode(data, lens[k], buf);
                        out_open(&o);
                        json_base64(&o.w, data, lens[k]);
                        out_close(&o);
                        cr_assert_eq(o.size, strlen(buf) + 2);
                        cr_assert(memcmp(o.buf + 1, buf, strlen(buf)) == 0, "length %zu", lens[k]);
                        n = base64_decode(buf, back);
                        cr_assert_eq(n, lens[k]);
                        cr_assert(memcmp(back, data, n) == 0);
                        free(o.buf);
                }
        }
}

Test(json, a_job_with_odd_strings_is_valid_json) {
        static char *argv[] = { (char *) "/bin/echo", (char *) "\"quoted\"", (char *) "back\\slash",
                                (char *) "new\nline", (char *) "\xff\xfe binary", (char *) "" };
        static char *env[] = { (char *) "A=\t", (char *) "B=\xe2\x82\xac" };
        Jobrunner__V1__IoDeviceLimit io = JOBRUNNER__V1__IO_DEVICE_LIMIT__INIT, *ios[] = { &io };
        Jobrunner__V1__Limits limits = JOBRUNNER__V1__LIMITS__INIT;
        Jobrunner__V1__Isolation iso = JOBRUNNER__V1__ISOLATION__INIT;
        Jobrunner__V1__JobSpec spec = JOBRUNNER__V1__JOB_SPEC__INIT;
        Jobrunner__V1__ResourceUsage usage = JOBRUNNER__V1__RESOURCE_USAGE__INIT;
        JobStatus j = JOBRUNNER__V1__JOB_STATUS__INIT;
        Out o;

        io.device = (char *) "/dev/vda";
        io.read_bytes_per_second = 10000000;
        limits.io_device_limits = ios;
        limits.n_io_device_limits = 1;
        limits.memory_max_bytes = UINT64_MAX;
        iso.network = JOBRUNNER__V1__NETWORK_MODE__NETWORK_MODE_HOST;
        iso.private_tmp = JOBRUNNER__V1__TOGGLE__TOGGLE_OFF;
        spec.argv = argv;
        spec.n_argv = ELEMENTSOF(argv);
        spec.env = env;
        spec.n_env = ELEMENTSOF(env);
        spec.limits = &limits;
        spec.isolation = &iso;
        usage.cpu_usage_ns = 123;
        j.id = (char *) "0123456789abcdef0123456789abcdef";
        j.owner = (char *) "al\"ice";
        j.spec = &spec;
        j.state = JOBRUNNER__V1__JOB_STATE__JOB_STATE_OOM_KILLED;
        j.failure_reason = (char *) "\x01\x02";
        j.usage = &usage;
        j.start_time_us = -1;

        out_open(&o);
        json_job_status(&o.w, &j);
        out_close(&o);
        cr_log_info("%s", o.buf);
        cr_assert(valid_json(o.buf, o.size), "%s", o.buf);
        cr_assert_not_null(strstr(o.buf, "\"owner\":\"al\\\"ice\""));
        cr_assert_not_null(strstr(o.buf, "\"state\":\"oom-killed\""));
        cr_assert_not_null(strstr(o.buf, "\"failure_reason\":\"\\u0001\\u0002\""));
        cr_assert_not_null(strstr(o.buf, "\"argv\":[\"/bin/echo\",\"\\\"quoted\\\"\",\"back\\\\slash\",\"new\\nline\","
                                         "\"\\ufffd\\ufffd binary\",\"\"]"));
        cr_assert_not_null(strstr(o.buf, "\"io_device_limits\":[{\"device\":\"/dev/vda\",\"read_bytes_per_second\":"
                                         "10000000,\"write_bytes_per_second\":0}]"));
        cr_assert_not_null(strstr(o.buf, "\"isolation\":{\"network\":\"host\",\"pid_namespace\":\"default\","
                                         "\"private_mounts\":\"default\",\"private_tmp\":\"off\"}"));
        cr_assert_not_null(strstr(o.buf, "\"start_time_us\":-1,"));
        free(o.buf);

        /* Without spec and usage. */
        j.spec = NULL;
        j.usage = NULL;
        out_open(&o);
        json_job_status(&o.w, &j);
        out_close(&o);
        cr_assert(valid_json(o.buf, o.size), "%s", o.buf);
        cr_assert_not_null(strstr(o.buf, "\"spec\":null}"));
        free(o.buf);
}
