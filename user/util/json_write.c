/*
 * Compact JSON writing into a growing buffer: one pass, no allocation per
 * value (jansson's json_dumps allocates per fragment, which dominated the
 * event path).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"

/* Largest buffer we agree to grow to (an event, a bulk body, a response). */
#define JSON_BUF_MAX (1024UL * 1024 * 1024)

int json_buf_grow(struct json_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (extra > JSON_BUF_MAX || b->len > JSON_BUF_MAX - extra)
		return b->err = -ENOMEM;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Nonzero when one of the 8 bytes of v is below 0x20, a quote or a backslash (SWAR). */
static inline uint64_t needs_escape8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');

	return ((v - ones * 0x20) | (q - ones) | (bs - ones)) & ~v & high;
}

/* Valid UTF-8 in: only quotes, backslashes and controls need escapes; clean runs are copied 8 bytes at a time. */
int json_buf_str(struct json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0;
	char *o;

	if (json_buf_reserve(b, n * 6 + 2))
		return -ENOMEM;
	o = b->p + b->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c;
		uint64_t v;

		if (n - i >= 8) {
			memcpy(&v, s + i, 8);
			if (!needs_escape8(v)) {
				memcpy(o, &v, 8);
				o += 8, i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u', *o++ = '0', *o++ = '0';
			*o++ = hex[c >> 4], *o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->p);
	return 0;
}

/* "00" .. "99": decimal numbers are written two digits per division (an event has ~15 of them). */
static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

int json_buf_u64(struct json_buf *b, uint64_t v)
{
	char tmp[20]; /* UINT64_MAX has 20 digits */
	char *end = tmp + sizeof(tmp), *p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, two_digits + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, two_digits + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return json_buf_put(b, p, (size_t)(end - p));
}

int json_buf_i64(struct json_buf *b, int64_t v)
{
	if (v < 0) {
		if (json_buf_put(b, "-", 1))
			return -ENOMEM;
		return json_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	}
	return json_buf_u64(b, (uint64_t)v);
}

static bool skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(key, *skip) == 0)
			return true;
	return false;
}

int json_write_members(struct json_buf *b, const json_t *v, int first, const char *const *skip)
{
	int rc = 0;

	for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
		const char *key = json_object_iter_key(it);

		if (skipped(key, skip))
			continue;
		rc |= first ? 0 : json_buf_put(b, ",", 1);
		rc |= json_buf_str(b, key, json_object_iter_key_len(it));
		rc |= json_buf_put(b, ":", 1);
		rc |= json_write(b, json_object_iter_value(it));
		first = 0;
	}
	return rc;
}

int json_write(struct json_buf *b, const json_t *v)
{
	char num[64];
	int n, rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		rc = json_buf_put(b, "{", 1);
		rc |= json_write_members(b, v, 1, NULL);
		return rc | json_buf_put(b, "}", 1);
	case JSON_ARRAY:
		rc = json_buf_put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				rc |= json_buf_put(b, ",", 1);
			rc |= json_write(b, json_array_get(v, i));
		}
		return rc | json_buf_put(b, "]", 1);
	case JSON_STRING:
		return json_buf_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return json_buf_i64(b, json_integer_value(v));
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		if (!strpbrk(num, ".eEn"))
			num[n++] = '.', num[n++] = '0';
		return json_buf_put(b, num, (size_t)n);
	case JSON_TRUE:
		return json_buf_put(b, "true", 4);
	case JSON_FALSE:
		return json_buf_put(b, "false", 5);
	default:
		return json_buf_put(b, "null", 4);
	}
}

char *json_to_string(const json_t *v)
{
	struct json_buf b = { 0 };

	if (json_write(&b, v) != 0 || b.err) {
		json_buf_free(&b);
		return NULL;
	}
	return b.p;
}

void json_buf_free(struct json_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}
