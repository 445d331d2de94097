/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small streaming JSON writer: commas and escaping are its business, the
 * caller only says what comes next.  Output is one value, pretty-printed
 * with two-space indentation, or on one line (for --batch).
 */
#ifndef AIOCORE_JSON_WRITER_H
#define AIOCORE_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define AC_JSON_MAX_DEPTH 32

struct ac_json {
	FILE *out;
	bool pretty;
	int depth;
	bool has_items[AC_JSON_MAX_DEPTH];
	bool after_key;
};

void ac_json_init(struct ac_json *json, FILE *out, bool pretty);
void ac_json_object_begin(struct ac_json *json);
void ac_json_object_end(struct ac_json *json);
void ac_json_array_begin(struct ac_json *json);
void ac_json_array_end(struct ac_json *json);
void ac_json_key(struct ac_json *json, const char *key);
void ac_json_string(struct ac_json *json, const char *value); /* NULL -> null */
void ac_json_int(struct ac_json *json, int64_t value);
void ac_json_uint(struct ac_json *json, uint64_t value);
void ac_json_bool(struct ac_json *json, bool value);
void ac_json_null(struct ac_json *json);
/* Addresses are strings "0x...", so no consumer loses precision. */
void ac_json_address(struct ac_json *json, uint64_t value);
void ac_json_double(struct ac_json *json, double value);
/* A key and its value; the _opt forms write null when !has. */
void ac_json_field_string(struct ac_json *json, const char *key, const char *value);
void ac_json_field_int(struct ac_json *json, const char *key, int64_t value);
void ac_json_field_uint(struct ac_json *json, const char *key, uint64_t value);
void ac_json_field_bool(struct ac_json *json, const char *key, bool value);
void ac_json_field_address(struct ac_json *json, const char *key, uint64_t value);
void ac_json_field_int_opt(struct ac_json *json, const char *key, bool has, int64_t value);
void ac_json_field_uint_opt(struct ac_json *json, const char *key, bool has, uint64_t value);
void ac_json_field_bool_opt(struct ac_json *json, const char *key, bool has, bool value);
void ac_json_field_address_opt(struct ac_json *json, const char *key, bool has,
			       uint64_t value);

/* Ends the document with a newline. */
void ac_json_finish(struct ac_json *json);

#endif
