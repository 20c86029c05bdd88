/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny streaming JSON writer: compact output, commas and nesting kept
 * track of here, strings escaped so that any input (control characters,
 * invalid UTF-8) yields valid JSON.  No allocation; write errors show up in
 * ferror() of the stream. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool first[JSON_DEPTH_MAX + 1];         /* no element written yet at this level */
        bool after_key;
} JsonWriter;

void json_init(JsonWriter *w, FILE *f);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
/* The name of the next member of the current object. */
void json_key(JsonWriter *w, const char *key);

/* NULL is written as null.  Bytes that are not valid UTF-8 become U+FFFD. */
void json_string(JsonWriter *w, const char *s);
void json_string_len(JsonWriter *w, const char *s, size_t len);
void json_int(JsonWriter *w, int64_t v);
void json_uint(JsonWriter *w, uint64_t v);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);
/* Binary data as a base64 string (RFC 4648, with padding). */
void json_base64(JsonWriter *w, const void *data, size_t len);

/* Shorthands for "key": value. */
void json_kv_string(JsonWriter *w, const char *key, const char *s);
void json_kv_int(JsonWriter *w, const char *key, int64_t v);
void json_kv_uint(JsonWriter *w, const char *key, uint64_t v);
void json_kv_bool(JsonWriter *w, const char *key, bool v);

/* Escapes s as the inside of a JSON string (no quotes) into f. */
void json_escape(FILE *f, const char *s, size_t len);

/* Base64 of data into buf (NUL-terminated); buf must hold
 * base64_size(len) bytes. */
static inline size_t base64_size(size_t len) {
        return (len + 2) / 3 * 4 + 1;
}
void base64_encode(const void *data, size_t len, char *buf);

/* The length of the valid UTF-8 sequence at s (at most len bytes), or 0 if
 * there is none (invalid, overlong, surrogate, beyond U+10FFFF or cut
 * short); *ret_cp gets the code point. */
size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *ret_cp);
