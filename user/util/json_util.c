/* JSON text helpers: valid UTF-8 from arbitrary bytes, dotted paths in jansson objects. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"

/* Set obj.a.b.c = value, creating intermediate objects. Steals value. */
int json_set_path(json_t *obj, const char *dotted, json_t *value)
{
	const char *seg = dotted;
	const char *dot;

	if (!value)
		return -ENOMEM;
	while ((dot = strchr(seg, '.'))) {
		size_t n = (size_t)(dot - seg);
		json_t *child = json_object_getn(obj, seg, n);

		if (!json_is_object(child)) {
			child = json_object();
			if (!child || json_object_setn_new(obj, seg, n, child)) {
				json_decref(value);
				return -ENOMEM;
			}
		}
		obj = child;
		seg = dot + 1;
	}
	return json_object_set_new(obj, seg, value) ? -ENOMEM : 0;
}

static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] == 0)
		return 0; /* NUL: escaped like invalid bytes */
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		return 0;
	return n;
}

/* No NUL and no byte >= 0x80: 8 bytes at a time (a zero byte or a high bit in the word says no). */
static bool plain_ascii(const unsigned char *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		if ((((v - ones) & ~v) | v) & high)
			return false;
	}
	while (i < len && p[i] > 0 && p[i] < 0x80)
		i++;
	return i == len;
}

/* Valid UTF-8 kept, other bytes (and NUL) as the text \xNN: out holds 4 * len bytes. */
size_t utf8_sanitize(char *out, const void *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = s;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n) {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
			i++;
		}
	}
	return o;
}

/* A JSON string from arbitrary bytes: valid UTF-8 kept, other bytes as \xNN. */
json_t *json_strn(const void *s, size_t len)
{
	char *out;
	json_t *j;

	if (plain_ascii(s, len)) /* no copy */
		return json_stringn_nocheck(s, len);
	out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	j = json_stringn_nocheck(out, utf8_sanitize(out, s, len));
	free(out);
	return j;
}

int json_buf_strn(struct json_buf *b, const void *s, size_t len)
{
	char *out;
	int rc;

	if (plain_ascii(s, len))
		return json_buf_str(b, s, len);
	out = malloc(len * 4 + 1);
	if (!out)
		return b->err = -ENOMEM;
	rc = json_buf_str(b, out, utf8_sanitize(out, s, len));
	free(out);
	return rc;
}
