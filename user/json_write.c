/*
 * Compact JSON serializer for events: one pass over the jansson tree into a
 * caller-owned growing buffer, no allocation per value (jansson's json_dumps
 * allocates per fragment, which dominated the event path).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static int jb_reserve(struct json_buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 1024;
	while (cap < b->len + extra + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int jb_put(struct json_buf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n))
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Strings in a jansson tree are valid UTF-8: only quotes, backslashes and controls need escapes. */
static int jb_string(struct json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o;

	if (jb_reserve(b, n * 6 + 2))
		return -ENOMEM;
	o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

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
	b->len = (size_t)(o - b->p);
	return 0;
}

int json_write(struct json_buf *b, const json_t *v)
{
	char num[64];
	int n, rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		bool first = true;

		rc = jb_put(b, "{", 1);
		json_object_foreach((json_t *)v, key, val) {
			if (!first)
				rc |= jb_put(b, ",", 1);
			first = false;
			rc |= jb_string(b, key, strlen(key));
			rc |= jb_put(b, ":", 1);
			rc |= json_write(b, val);
		}
		return rc | jb_put(b, "}", 1);
	}
	case JSON_ARRAY:
		rc = jb_put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				rc |= jb_put(b, ",", 1);
			rc |= json_write(b, json_array_get(v, i));
		}
		return rc | jb_put(b, "]", 1);
	case JSON_STRING:
		return jb_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return jb_put(b, num, (size_t)n);
	case JSON_REAL:
		n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		if (!strpbrk(num, ".eEn"))
			num[n++] = '.', num[n++] = '0';
		return jb_put(b, num, (size_t)n);
	case JSON_TRUE:
		return jb_put(b, "true", 4);
	case JSON_FALSE:
		return jb_put(b, "false", 5);
	default:
		return jb_put(b, "null", 4);
	}
}

void json_buf_free(struct json_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
