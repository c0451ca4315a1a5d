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

/* Every digit count, and the edges of each two-digit step. */
Test(json, u64_digits)
{
	static const uint64_t vals[] = { 0,
					 7,
					 9,
					 10,
					 42,
					 99,
					 100,
					 101,
					 999,
					 1000,
					 12345,
					 99999,
					 100000,
					 1000000007,
					 9999999999999999999ull,
					 10000000000000000000ull,
					 UINT64_MAX };
	char want[32];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct json_buf b = { 0 };

		json_buf_u64(&b, vals[i]);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[i]);
		cr_assert_str_eq(b.p, want);
		json_buf_free(&b);
	}
	for (uint64_t v = 1; v < UINT64_MAX / 3; v = v * 3 + 1) {
		struct json_buf b = { 0 };

		json_buf_u64(&b, v);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		cr_assert_str_eq(b.p, want);
		json_buf_free(&b);
	}
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

/* json_buf_strn: a NUL or a byte >= 0x80 at any offset leaves the plain-ASCII fast path and is sanitized. */
Test(json, strn_sanitizes_at_every_offset)
{
	static const unsigned char odd[] = { 0x00, 0x80, 0xff, 0xc3 };
	unsigned char s[40];
	char want[200];

	for (size_t k = 0; k < sizeof(odd); k++) {
		for (size_t len = 1; len < sizeof(s); len++) {
			for (size_t at = 0; at < len; at++) {
				struct json_buf b = { 0 };
				size_t n;

				memset(s, 'a', len);
				s[at] = odd[k];
				n = (size_t)snprintf(want, sizeof(want), "\"%.*s\\\\x%02x%.*s\"", (int)at,
						     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", odd[k],
						     (int)(len - at - 1), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
				cr_assert_eq(json_buf_strn(&b, s, len), 0);
				cr_assert_eq(b.len, n, "len %zu at %zu: %s", len, at, b.p);
				cr_assert_str_eq(b.p, want);
				json_buf_free(&b);
			}
			struct json_buf b = { 0 };

			memset(s, 'a', len);
			json_buf_strn(&b, s, len);
			cr_assert_eq(b.len, len + 2, "plain: copied as it is");
			json_buf_free(&b);
		}
	}
}
