/*
 * A bounds-checked BSON reader (bsonspec.org 1.1): every length field is
 * checked against the bytes that hold it, every document ends where its
 * length says with a NUL, strings end with theirs, nesting is limited to
 * BSON_DEPTH_MAX. Rendering follows the relaxed Extended JSON 2.0 format
 * (numbers as JSON numbers, dates as ISO-8601 within 1970..9999, the rest
 * as $oid, $binary, $timestamp, $numberDecimal, ... wrappers).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "mongodb.h"

static uint64_t le64_at(const uint8_t *p)
{
	return (uint64_t)mongodb_le32(p) | (uint64_t)mongodb_le32(p + 4) << 32;
}

size_t bson_doc_len(const uint8_t *p, size_t avail)
{
	uint32_t n;

	if (avail < 5)
		return 0;
	n = mongodb_le32(p);
	if (n < 5 || n > avail || p[n - 1] != 0)
		return 0;
	return n;
}

/* A string value: int32 length (NUL included, >= 1), bytes, NUL. Its size, or 0. */
static size_t string_len(const uint8_t *p, size_t avail)
{
	uint32_t n;

	if (avail < 5)
		return 0;
	n = mongodb_le32(p);
	if (n < 1 || n > avail - 4 || p[4 + n - 1] != 0)
		return 0;
	return 4 + (size_t)n;
}

/* Two C strings (a regular expression and its options). */
static size_t cstrings_len(const uint8_t *p, size_t avail)
{
	const uint8_t *a = memchr(p, 0, avail), *b;

	if (!a)
		return 0;
	b = memchr(a + 1, 0, avail - (size_t)(a + 1 - p));
	return b ? (size_t)(b + 1 - p) : 0;
}

/* Code with scope: int32 total, string, document, filling the total exactly. */
static size_t code_scope_len(const uint8_t *p, size_t avail)
{
	uint32_t n;
	size_t s;

	if (avail < 4)
		return 0;
	n = mongodb_le32(p);
	if (n < 4 + 5 + 5 || n > avail)
		return 0;
	s = string_len(p + 4, n - 4);
	if (!s || bson_doc_len(p + 4 + s, n - 4 - s) != n - 4 - s)
		return 0;
	return n;
}

static size_t fixed_len(uint8_t t)
{
	switch (t) {
	case BSON_DOUBLE:
	case BSON_DATE:
	case BSON_TIMESTAMP:
	case BSON_INT64:
		return 8;
	case BSON_OID:
		return 12;
	case BSON_BOOL:
		return 1;
	case BSON_INT32:
		return 4;
	case BSON_DECIMAL128:
		return 16;
	default:
		return 0;
	}
}

/* Bytes of a value of type t at p (avail bytes there), 0 for none, or -1 when it does not fit or is unknown. */
static long value_len(uint8_t t, const uint8_t *p, size_t avail)
{
	size_t n;

	switch (t) {
	case BSON_UNDEFINED:
	case BSON_NULL:
	case BSON_MINKEY:
	case BSON_MAXKEY:
		return 0;
	case BSON_STRING:
	case BSON_CODE:
	case BSON_SYMBOL:
		n = string_len(p, avail);
		break;
	case BSON_DOC:
	case BSON_ARRAY:
		n = bson_doc_len(p, avail);
		break;
	case BSON_BINARY:
		n = avail >= 5 && mongodb_le32(p) <= avail - 5 ? 5 + (size_t)mongodb_le32(p) : 0;
		break;
	case BSON_REGEX:
		n = cstrings_len(p, avail);
		break;
	case BSON_DBPOINTER:
		n = string_len(p, avail);
		n = n && avail - n >= 12 ? n + 12 : 0;
		break;
	case BSON_CODE_W_SCOPE:
		n = code_scope_len(p, avail);
		break;
	default:
		n = fixed_len(t);
		if (n > avail)
			n = 0;
		if (t == BSON_BOOL && n && p[0] > 1)
			n = 0;
		break;
	}
	return n ? (long)n : -1;
}

void bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len)
{
	rd_init(&it->r, doc + 4, len - 5);
}

int bson_iter_next(struct bson_iter *it, struct bson_elem *e)
{
	struct reader *r = &it->r;
	long n;

	if (rd_left(r) == 0)
		return r->err ? -1 : 0;
	e->type = rd_u8(r);
	if (e->type == 0) /* the end before the length says */
		return -1;
	e->key = rd_cstr(r, rd_left(r), &e->klen);
	if (!e->key)
		return -1;
	n = value_len(e->type, rd_ptr(r), rd_left(r));
	if (n < 0) {
		r->err = true;
		return -1;
	}
	e->val = rd_ptr(r);
	e->vlen = (size_t)n;
	rd_skip(r, (size_t)n);
	return 1;
}

static bool valid_at(const uint8_t *doc, size_t len, unsigned depth)
{
	struct bson_iter it;
	struct bson_elem e;
	int rc;

	if (depth > BSON_DEPTH_MAX)
		return false;
	bson_iter_init(&it, doc, len);
	while ((rc = bson_iter_next(&it, &e)) > 0) {
		if ((e.type == BSON_DOC || e.type == BSON_ARRAY) && !valid_at(e.val, e.vlen, depth + 1))
			return false;
		if (e.type == BSON_CODE_W_SCOPE) {
			size_t s = string_len(e.val + 4, e.vlen - 4);

			if (!valid_at(e.val + 4 + s, e.vlen - 4 - s, depth + 1))
				return false;
		}
	}
	return rc == 0;
}

bool bson_valid(const uint8_t *doc, size_t len)
{
	return bson_doc_len(doc, len) == len && valid_at(doc, len, 1);
}

bool bson_key_is(const struct bson_elem *e, const char *key)
{
	return strlen(key) == e->klen && memcmp(e->key, key, e->klen) == 0;
}

bool bson_find(const uint8_t *doc, size_t len, const char *key, struct bson_elem *e)
{
	struct bson_iter it;

	bson_iter_init(&it, doc, len);
	while (bson_iter_next(&it, e) > 0)
		if (bson_key_is(e, key))
			return true;
	return false;
}

bool bson_int(const struct bson_elem *e, int64_t *v)
{
	double d;

	switch (e->type) {
	case BSON_INT32:
		*v = (int32_t)mongodb_le32(e->val);
		return true;
	case BSON_INT64:
		*v = (int64_t)le64_at(e->val);
		return true;
	case BSON_BOOL:
		*v = e->val[0];
		return true;
	case BSON_DOUBLE: {
		uint64_t bits = le64_at(e->val);

		memcpy(&d, &bits, sizeof(d));
		if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d))
			return false;
		*v = (int64_t)d;
		return true;
	}
	default:
		return false;
	}
}

bool bson_str(const struct bson_elem *e, const char **s, size_t *n)
{
	if (e->type != BSON_STRING && e->type != BSON_SYMBOL)
		return false;
	*s = (const char *)e->val + 4;
	*n = e->vlen - 5;
	return true;
}

bool bson_sub(const struct bson_elem *e, const uint8_t **doc, size_t *len)
{
	if (e->type != BSON_DOC && e->type != BSON_ARRAY)
		return false;
	*doc = e->val;
	*len = e->vlen;
	return true;
}

/* ---- relaxed Extended JSON ---- */

static void put_fmt(struct json_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(struct json_buf *b, const char *fmt, ...)
{
	char s[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n > 0)
		json_buf_put(b, s, (size_t)n < sizeof(s) ? (size_t)n : sizeof(s) - 1);
}

/* The shortest text that reads back as d, with ".0" when it would look like an integer. */
static void put_double(struct json_buf *b, const uint8_t *v)
{
	uint64_t bits = le64_at(v);
	char s[40];
	double d;

	memcpy(&d, &bits, sizeof(d));
	if (isnan(d) || isinf(d)) {
		json_buf_lit(b, "{\"$numberDouble\":");
		json_buf_puts(b, isnan(d) ? "\"NaN\"}" : d > 0 ? "\"Infinity\"}" : "\"-Infinity\"}");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	json_buf_puts(b, s);
	if (!strpbrk(s, ".e"))
		json_buf_lit(b, ".0");
}

static void put_hex(struct json_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char s[32];

	for (size_t i = 0; i < n && i < sizeof(s) / 2; i++) {
		s[2 * i] = hex[p[i] >> 4];
		s[2 * i + 1] = hex[p[i] & 15];
	}
	json_buf_put(b, s, 2 * (n < sizeof(s) / 2 ? n : sizeof(s) / 2));
}

static void put_oid(struct json_buf *b, const uint8_t *v)
{
	json_buf_lit(b, "{\"$oid\":\"");
	put_hex(b, v, 12);
	json_buf_lit(b, "\"}");
}

static void put_binary(struct json_buf *b, const uint8_t *v, size_t vlen)
{
	size_t n = vlen - 5;
	char *s;

	if (json_buf_reserve(b, base64_len(n) + 48))
		return;
	json_buf_lit(b, "{\"$binary\":{\"base64\":\"");
	s = b->p + b->len;
	b->len += base64_encode(v + 5, n, s);
	json_buf_lit(b, "\",\"subType\":\"");
	put_hex(b, v + 4, 1);
	json_buf_lit(b, "\"}}");
}

/* Milliseconds since the epoch: ISO-8601 for years 1970..9999, else $numberLong. */
static void put_date(struct json_buf *b, const uint8_t *v)
{
	int64_t ms = (int64_t)le64_at(v);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char s[40];

	if (ms < 0 || ms >= 253402300800000LL || !gmtime_r(&secs, &tm)) {
		put_fmt(b, "{\"$date\":{\"$numberLong\":\"%" PRId64 "\"}}", ms);
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	json_buf_lit(b, "{\"$date\":\"");
	json_buf_puts(b, s);
	if (ms % 1000)
		put_fmt(b, ".%03d", (int)(ms % 1000));
	json_buf_lit(b, "Z\"}");
}

/* The coefficient of a decimal128 as digits; its exponent in *exp. */
static size_t dec128_digits(const uint8_t *v, char *out, int *exp)
{
	uint64_t lo = le64_at(v), hi = le64_at(v + 8);
	unsigned __int128 c,
		max = (unsigned __int128)999999999999999999ULL * 10000000000000000ULL + 9999999999999999ULL;
	char tmp[48];
	size_t n = 0;

	if ((hi >> 61 & 3) == 3) { /* the "11" form: coefficient beyond 2^113, not canonical: zero */
		*exp = (int)(hi >> 47 & 0x3fff) - 6176;
		c = 0;
	} else {
		*exp = (int)(hi >> 49 & 0x3fff) - 6176;
		c = (unsigned __int128)(hi & 0x1ffffffffffffULL) << 64 | lo;
		if (c > max)
			c = 0;
	}
	do {
		tmp[n++] = (char)('0' + (int)(c % 10));
		c /= 10;
	} while (c);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

/* The string form of the decimal128 specification (plain within its range, else scientific). */
static void put_decimal128(struct json_buf *b, const uint8_t *v)
{
	uint64_t hi = le64_at(v + 8);
	char d[48];
	int exp, adj;
	size_t n;

	json_buf_lit(b, "{\"$numberDecimal\":\"");
	if (hi >> 63)
		json_buf_lit(b, "-");
	if ((hi >> 58 & 0x1f) == 0x1f || (hi >> 58 & 0x1f) == 0x1e) {
		json_buf_puts(b, (hi >> 58 & 0x1f) == 0x1f ? "NaN\"}" : "Infinity\"}");
		return;
	}
	n = dec128_digits(v, d, &exp);
	adj = exp + (int)n - 1;
	if (exp <= 0 && adj >= -6) {
		size_t point = (size_t)((int)n + exp > 0 ? (int)n + exp : 0);

		if (exp == 0) {
			json_buf_put(b, d, n);
		} else if (point > 0) {
			json_buf_put(b, d, point);
			json_buf_lit(b, ".");
			json_buf_put(b, d + point, n - point);
		} else {
			json_buf_lit(b, "0.");
			for (int i = 0; i < -exp - (int)n; i++)
				json_buf_lit(b, "0");
			json_buf_put(b, d, n);
		}
	} else {
		json_buf_put(b, d, 1);
		if (n > 1) {
			json_buf_lit(b, ".");
			json_buf_put(b, d + 1, n - 1);
		}
		put_fmt(b, "E%+d", adj);
	}
	json_buf_lit(b, "\"}");
}

static void put_regex(struct json_buf *b, const uint8_t *v, size_t vlen)
{
	size_t n = strnlen((const char *)v, vlen);

	json_buf_lit(b, "{\"$regularExpression\":{\"pattern\":");
	json_buf_strn(b, v, n);
	json_buf_lit(b, ",\"options\":");
	json_buf_strn(b, v + n + 1, vlen - n - 2);
	json_buf_lit(b, "}}");
}

static void put_string(struct json_buf *b, const uint8_t *v)
{
	json_buf_strn(b, v + 4, mongodb_le32(v) - 1);
}

static void put_wrapped(struct json_buf *b, const char *key, const uint8_t *v)
{
	json_buf_lit(b, "{\"");
	json_buf_puts(b, key);
	json_buf_lit(b, "\":");
	put_string(b, v);
	json_buf_lit(b, "}");
}

static void put_code_scope(struct json_buf *b, const uint8_t *v, size_t vlen, size_t limit)
{
	size_t s = 4 + mongodb_le32(v + 4);

	json_buf_lit(b, "{\"$code\":");
	put_string(b, v + 4);
	json_buf_lit(b, ",\"$scope\":");
	bson_json_doc(b, v + 4 + s, vlen - 4 - s, false, limit);
	json_buf_lit(b, "}");
}

static void put_dbpointer(struct json_buf *b, const uint8_t *v, size_t vlen)
{
	json_buf_lit(b, "{\"$dbPointer\":{\"$ref\":");
	put_string(b, v);
	json_buf_lit(b, ",\"$id\":");
	put_oid(b, v + vlen - 12);
	json_buf_lit(b, "}}");
}

void bson_json_value(struct json_buf *b, const struct bson_elem *e, size_t limit)
{
	const uint8_t *v = e->val;

	switch (e->type) {
	case BSON_DOUBLE:
		put_double(b, v);
		break;
	case BSON_STRING:
		put_string(b, v);
		break;
	case BSON_DOC:
	case BSON_ARRAY:
		bson_json_doc(b, v, e->vlen, e->type == BSON_ARRAY, limit);
		break;
	case BSON_BINARY:
		put_binary(b, v, e->vlen);
		break;
	case BSON_UNDEFINED:
		json_buf_lit(b, "{\"$undefined\":true}");
		break;
	case BSON_OID:
		put_oid(b, v);
		break;
	case BSON_BOOL:
		json_buf_puts(b, v[0] ? "true" : "false");
		break;
	case BSON_DATE:
		put_date(b, v);
		break;
	case BSON_NULL:
		json_buf_lit(b, "null");
		break;
	case BSON_REGEX:
		put_regex(b, v, e->vlen);
		break;
	case BSON_DBPOINTER:
		put_dbpointer(b, v, e->vlen);
		break;
	case BSON_CODE:
		put_wrapped(b, "$code", v);
		break;
	case BSON_SYMBOL:
		put_wrapped(b, "$symbol", v);
		break;
	case BSON_CODE_W_SCOPE:
		put_code_scope(b, v, e->vlen, limit);
		break;
	case BSON_INT32:
		put_fmt(b, "%" PRId32, (int32_t)mongodb_le32(v));
		break;
	case BSON_TIMESTAMP:
		put_fmt(b, "{\"$timestamp\":{\"t\":%" PRIu32 ",\"i\":%" PRIu32 "}}", mongodb_le32(v + 4),
			mongodb_le32(v));
		break;
	case BSON_INT64:
		put_fmt(b, "%" PRId64, (int64_t)le64_at(v));
		break;
	case BSON_DECIMAL128:
		put_decimal128(b, v);
		break;
	case BSON_MINKEY:
		json_buf_lit(b, "{\"$minKey\":1}");
		break;
	case BSON_MAXKEY:
		json_buf_lit(b, "{\"$maxKey\":1}");
		break;
	}
}

void bson_json_doc(struct json_buf *b, const uint8_t *doc, size_t len, bool array, size_t limit)
{
	struct bson_iter it;
	struct bson_elem e;
	bool first = true;

	json_buf_put(b, array ? "[" : "{", 1);
	bson_iter_init(&it, doc, len);
	while (b->len <= limit && bson_iter_next(&it, &e) > 0) {
		if (!first)
			json_buf_lit(b, ",");
		first = false;
		if (!array) {
			json_buf_strn(b, e.key, e.klen);
			json_buf_lit(b, ":");
		}
		bson_json_value(b, &e, limit);
	}
	json_buf_put(b, array ? "]" : "}", 1);
}
