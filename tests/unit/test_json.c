/* The JSON text writer (user/json_write.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"

/* s written by json_buf_str must read back (jansson) as exactly s, with no raw control byte left. */
static void round_trips(const char *s, size_t n)
{
	struct json_buf b = { 0 };
	json_error_t e;
	json_t *v;

	cr_assert_eq(json_buf_str(&b, s, n), 0);
	cr_assert_eq(strlen(b.p), b.len);
	for (size_t i = 0; i < b.len; i++)
		cr_assert_geq((unsigned char)b.p[i], 0x20, "raw control byte at %zu", i);
	v = json_loadb(b.p, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	cr_assert_not_null(v, "%s: %s", b.p, e.text);
	cr_assert_eq(json_string_length(v), n);
	cr_assert_eq(memcmp(json_string_value(v), s, n), 0, "%s", b.p);
	json_decref(v);
	json_buf_free(&b);
}

Test(json, str_escapes_at_every_offset)
{
	static const char special[] = { '"', '\\', '\n', '\r', '\t', 0x01, 0x1f, 0x7f, 0x00 };
	char s[40];

	/* one special byte at each offset of strings long enough for the 8-byte fast path */
	for (size_t k = 0; k < sizeof(special); k++) {
		for (size_t len = 1; len < sizeof(s); len++) {
			for (size_t at = 0; at < len; at++) {
				memset(s, 'a', len);
				s[at] = special[k];
				round_trips(s, len);
			}
		}
	}
}

Test(json, str_utf8_and_empty)
{
	const char *u = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac and \xf0\x9f\x98\x80 \"quoted\" back\\slash";

	round_trips("", 0);
	round_trips(u, strlen(u));
	round_trips("0123456789abcdef0123456789abcdef", 32);
}

Test(json, key_u64_and_growth)
{
	struct json_buf b = { 0 };

	json_buf_put(&b, "{", 1);
	for (int i = 0; i < 2000; i++) {
		json_buf_key(&b, "k", i == 0);
		json_buf_u64(&b, (uint64_t)i * 1000003u);
	}
	json_buf_key(&b, "max", 0);
	json_buf_u64(&b, UINT64_MAX);
	json_buf_put(&b, "}", 1);
	cr_assert_eq(b.err, 0);
	cr_assert_eq(strlen(b.p), b.len);
	cr_assert(strstr(b.p, "\"k\":1999005997,\"max\":18446744073709551615}"), "%s", b.p + b.len - 60);
	json_buf_free(&b);
}
