/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stddef.h>

#include "json-writer.h"

void ac_json_init(struct ac_json *json, FILE *out, bool pretty)
{
	*json = (struct ac_json){ .out = out, .pretty = pretty };
}

static void newline(struct ac_json *json)
{
	if (!json->pretty)
		return;
	fputc('\n', json->out);
	for (int i = 0; i < json->depth; i++)
		fputs("  ", json->out);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct ac_json *json)
{
	if (json->after_key) {
		json->after_key = false;
		return;
	}
	if (json->depth > 0) {
		if (json->has_items[json->depth])
			fputc(',', json->out);
		json->has_items[json->depth] = true;
		newline(json);
	}
}

static void open_container(struct ac_json *json, char c)
{
	before_item(json);
	fputc(c, json->out);
	if (json->depth + 1 < AC_JSON_MAX_DEPTH)
		json->depth++;
	json->has_items[json->depth] = false;
}

static void close_container(struct ac_json *json, char c)
{
	bool had_items = json->has_items[json->depth];
	if (json->depth > 0)
		json->depth--;
	if (had_items)
		newline(json);
	fputc(c, json->out);
}

void ac_json_object_begin(struct ac_json *json) { open_container(json, '{'); }
void ac_json_object_end(struct ac_json *json) { close_container(json, '}'); }
void ac_json_array_begin(struct ac_json *json) { open_container(json, '['); }
void ac_json_array_end(struct ac_json *json) { close_container(json, ']'); }

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), 0 if p does not start one.
 */
static size_t utf8_length(const unsigned char *p)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t n;
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20) {
				fprintf(out, "\\u%04x", *p);
			} else if (*p < 0x80) {
				fputc(*p, out);
			} else if ((n = utf8_length(p))) {
				fwrite(p, 1, n, out);
				p += n - 1;
			} else {
				/* Not UTF-8 (a string read from a core can be any
				 * bytes): the byte as U+0080..U+00FF keeps the
				 * document valid JSON and the byte visible. */
				fprintf(out, "\\u%04x", *p);
			}
		}
	}
	fputc('"', out);
}

void ac_json_key(struct ac_json *json, const char *key)
{
	before_item(json);
	write_escaped(json->out, key);
	fputs(json->pretty ? ": " : ":", json->out);
	json->after_key = true;
}

void ac_json_string(struct ac_json *json, const char *value)
{
	before_item(json);
	if (value)
		write_escaped(json->out, value);
	else
		fputs("null", json->out);
}

void ac_json_int(struct ac_json *json, int64_t value)
{
	before_item(json);
	fprintf(json->out, "%" PRId64, value);
}

void ac_json_uint(struct ac_json *json, uint64_t value)
{
	before_item(json);
	fprintf(json->out, "%" PRIu64, value);
}

void ac_json_bool(struct ac_json *json, bool value)
{
	before_item(json);
	fputs(value ? "true" : "false", json->out);
}

void ac_json_null(struct ac_json *json)
{
	before_item(json);
	fputs("null", json->out);
}

void ac_json_address(struct ac_json *json, uint64_t value)
{
	before_item(json);
	fprintf(json->out, "\"0x%" PRIx64 "\"", value);
}

void ac_json_double(struct ac_json *json, double value)
{
	before_item(json);
	fprintf(json->out, "%.6f", value);
}

void ac_json_field_string(struct ac_json *json, const char *key, const char *value)
{
	ac_json_key(json, key);
	ac_json_string(json, value);
}

void ac_json_field_int(struct ac_json *json, const char *key, int64_t value)
{
	ac_json_key(json, key);
	ac_json_int(json, value);
}

void ac_json_field_uint(struct ac_json *json, const char *key, uint64_t value)
{
	ac_json_key(json, key);
	ac_json_uint(json, value);
}

void ac_json_field_bool(struct ac_json *json, const char *key, bool value)
{
	ac_json_key(json, key);
	ac_json_bool(json, value);
}

void ac_json_field_address(struct ac_json *json, const char *key, uint64_t value)
{
	ac_json_key(json, key);
	ac_json_address(json, value);
}

void ac_json_field_int_opt(struct ac_json *json, const char *key, bool has, int64_t value)
{
	ac_json_key(json, key);
	if (has)
		ac_json_int(json, value);
	else
		ac_json_null(json);
}

void ac_json_field_uint_opt(struct ac_json *json, const char *key, bool has, uint64_t value)
{
	ac_json_key(json, key);
	if (has)
		ac_json_uint(json, value);
	else
		ac_json_null(json);
}

void ac_json_field_bool_opt(struct ac_json *json, const char *key, bool has, bool value)
{
	ac_json_key(json, key);
	if (has)
		ac_json_bool(json, value);
	else
		ac_json_null(json);
}

void ac_json_field_address_opt(struct ac_json *json, const char *key, bool has,
			       uint64_t value)
{
	ac_json_key(json, key);
	if (has)
		ac_json_address(json, value);
	else
		ac_json_null(json);
}

void ac_json_finish(struct ac_json *json)
{
	fputc('\n', json->out);
}
