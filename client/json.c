/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(JsonWriter *w, FILE *f) {
        *w = (JsonWriter) { .f = f };
        w->first[0] = true;
}

/* Before any value: the comma if needed. */
static void json_value_begin(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (!w->first[w->depth])
                fputc(',', w->f);
        w->first[w->depth] = false;
}

static void json_open(JsonWriter *w, char c) {
        json_value_begin(w);
        fputc(c, w->f);
        assert(w->depth < JSON_DEPTH_MAX);
        w->depth++;
        w->first[w->depth] = true;
}

static void json_close(JsonWriter *w, char c) {
        assert(w->depth > 0);
        w->depth--;
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) {
        json_open(w, '{');
}

void json_end_object(JsonWriter *w) {
        json_close(w, '}');
}

void json_begin_array(JsonWriter *w) {
        json_open(w, '[');
}

void json_end_array(JsonWriter *w) {
        json_close(w, ']');
}

size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *ret_cp) {
        uint32_t cp, min;
        size_t n;

        if (len == 0)
                return 0;
        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0) {
                n = 2, cp = s[0] & 0x1f, min = 0x80;
        } else if ((s[0] & 0xf0) == 0xe0) {
                n = 3, cp = s[0] & 0x0f, min = 0x800;
        } else if ((s[0] & 0xf8) == 0xf0) {
                n = 4, cp = s[0] & 0x07, min = 0x10000;
        } else
                return 0;
        if (len < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

void json_escape(FILE *f, const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;

        for (size_t i = 0; i < len;) {
                uint32_t cp;
                size_t n = utf8_sequence(p + i, len - i, &cp);

                if (n == 0) {
                        /* Not UTF-8: JSON text cannot carry the byte. */
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                switch (cp) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        /* Other controls must be escaped; DEL and the two
                         * JavaScript line separators are, for readers that
                         * embed JSON in JavaScript or print it raw. */
                        if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029)
                                fprintf(f, "\\u%04" PRIx32, cp);
                        else
                                fwrite(p + i, 1, n, f);
                }
                i += n;
        }
}

void json_string_len(JsonWriter *w, const char *s, size_t len) {
        json_value_begin(w);
        if (!s) {
                fputs("null", w->f);
                return;
        }
        fputc('"', w->f);
        json_escape(w->f, s, len);
        fputc('"', w->f);
}

void json_string(JsonWriter *w, const char *s) {
        json_string_len(w, s, s ? strlen(s) : 0);
}

void json_key(JsonWriter *w, const char *key) {
        json_string(w, key);
        fputc(':', w->f);
        w->after_key = true;
}

void json_int(JsonWriter *w, int64_t v) {
        json_value_begin(w);
        fprintf(w->f, "%" PRIi64, v);
}

void json_uint(JsonWriter *w, uint64_t v) {
        json_value_begin(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_bool(JsonWriter *w, bool v) {
        json_value_begin(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        json_value_begin(w);
        fputs("null", w->f);
}

void base64_encode(const void *data, size_t len, char *buf) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *p = data;
        char *o = buf;
        size_t i;

        for (i = 0; i + 2 < len; i += 3) {
                *o++ = alphabet[p[i] >> 2];
                *o++ = alphabet[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
                *o++ = alphabet[((p[i + 1] & 0x0f) << 2) | (p[i + 2] >> 6)];
                *o++ = alphabet[p[i + 2] & 0x3f];
        }
        if (i < len) {
                *o++ = alphabet[p[i] >> 2];
                if (i + 1 < len) {
                        *o++ = alphabet[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
                        *o++ = alphabet[(p[i + 1] & 0x0f) << 2];
                } else {
                        *o++ = alphabet[(p[i] & 0x03) << 4];
                        *o++ = '=';
                }
                *o++ = '=';
        }
        *o = '\0';
}

void json_base64(JsonWriter *w, const void *data, size_t len) {
        /* Chunks of 3 bytes make whole groups of 4 characters, so the
         * pieces concatenate to the encoding of the whole. */
        const unsigned char *p = data;
        char buf[4 * 1024 + 1];

        json_value_begin(w);
        fputc('"', w->f);
        while (len > 0) {
                size_t n = len < 3 * 1024 ? len : 3 * 1024;

                base64_encode(p, n, buf);
                fputs(buf, w->f);
                p += n;
                len -= n;
        }
        fputc('"', w->f);
}

void json_kv_string(JsonWriter *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}

void json_kv_int(JsonWriter *w, const char *key, int64_t v) {
        json_key(w, key);
        json_int(w, v);
}

void json_kv_uint(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_uint(w, v);
}

void json_kv_bool(JsonWriter *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}
