/*
 * Elasticsearch _bulk bodies and responses, index names and backoff math:
 * the pure (no I/O) half of the Elasticsearch output, unit tested in
 * tests/unit/test_es.c.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es.h"
#include "util/timefmt.h"

/* ---- index names ---- */

struct date_tok {
	const char *tok;
	const char *fmt; /* printf of the value */
	int which; /* 0 year 1 year%100 2 month 3 day 4 hour 5 min 6 sec */
};

/* Longest first so "yyyy" wins over "yy". */
static const struct date_tok date_toks[] = {
	{ "yyyy", "%04d", 0 }, { "YYYY", "%04d", 0 }, { "yy", "%02d", 1 }, { "MM", "%02d", 2 },
	{ "dd", "%02d", 3 },   { "HH", "%02d", 4 },   { "mm", "%02d", 5 }, { "ss", "%02d", 6 },
};

static const struct date_tok *date_tok_at(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(date_toks) / sizeof(date_toks[0]); i++) {
		size_t tl = strlen(date_toks[i].tok);

		if (tl <= n && !strncmp(p, date_toks[i].tok, tl))
			return &date_toks[i];
	}
	return NULL;
}

static int date_value(const struct tm *tm, int which)
{
	switch (which) {
	case 0:
		return tm->tm_year + 1900;
	case 1:
		return (tm->tm_year + 1900) % 100;
	case 2:
		return tm->tm_mon + 1;
	case 3:
		return tm->tm_mday;
	case 4:
		return tm->tm_hour;
	case 5:
		return tm->tm_min;
	default:
		return tm->tm_sec;
	}
}

/* Expand one date format (inside %{+...}); tm NULL = only validate. */
static int expand_date(const char *f, size_t n, const struct tm *tm, struct json_buf *out, char *why, size_t whylen)
{
	size_t i = 0;

	while (i < n) {
		const struct date_tok *t = date_tok_at(f + i, n - i);

		if (t) {
			char num[16];

			if (tm) {
				snprintf(num, sizeof(num), t->fmt, date_value(tm, t->which));
				if (json_buf_puts(out, num))
					return -ENOMEM;
			}
			i += strlen(t->tok);
			continue;
		}
		if (isalpha((unsigned char)f[i])) {
			if (why)
				snprintf(why, whylen, "unsupported date token '%c' (use yyyy yy MM dd HH mm ss)", f[i]);
			return -EINVAL;
		}
		if (tm && json_buf_put(out, &f[i], 1))
			return -ENOMEM;
		i++;
	}
	return 0;
}

static int expand_index(const char *pattern, const struct tm *tm, struct json_buf *out, char *why, size_t whylen)
{
	const char *p = pattern;

	while (*p) {
		const char *end;
		int rc;

		if (p[0] != '%' || p[1] != '{') {
			if (tm && json_buf_put(out, p, 1))
				return -ENOMEM;
			p++;
			continue;
		}
		end = strchr(p, '}');
		if (!end || p[2] != '+') {
			if (why)
				snprintf(why, whylen, "only %%{+date} formats are supported in index names");
			return -EINVAL;
		}
		rc = expand_date(p + 3, (size_t)(end - p - 3), tm, out, why, whylen);
		if (rc)
			return rc;
		p = end + 1;
	}
	return 0;
}

int es_index_check(const char *pattern, char *why, size_t whylen)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 0, .tm_mday = 1 };
	struct json_buf b = { 0 };
	int rc;

	if (!pattern || !*pattern) {
		snprintf(why, whylen, "index name is empty");
		return -EINVAL;
	}
	rc = expand_index(pattern, NULL, NULL, why, whylen);
	if (!rc)
		rc = expand_index(pattern, &tm, &b, why, whylen);
	for (size_t i = 0; !rc && i < b.len; i++) {
		if (strchr("\"\\ /*?<>|,#:", b.p[i]) || (i == 0 && strchr("-_+.", b.p[i]))) {
			snprintf(why, whylen, "index name may not contain or start with '%c'", b.p[i]);
			rc = -EINVAL;
		}
	}
	if (!rc && b.len >= ES_INDEX_MAX) {
		snprintf(why, whylen, "index name longer than %d bytes", ES_INDEX_MAX - 1);
		rc = -EINVAL;
	}
	json_buf_free(&b);
	return rc;
}

int es_index_format(const char *pattern, uint64_t ts_ns, char *out, size_t outlen)
{
	time_t secs = (time_t)(ts_ns / 1000000000ULL);
	struct json_buf b = { 0 };
	struct tm tm;
	int rc;

	if (!gmtime_r(&secs, &tm))
		return -EINVAL;
	rc = expand_index(pattern, &tm, &b, NULL, 0);
	if (!rc && (!b.len || b.len >= outlen || b.len >= ES_INDEX_MAX))
		rc = b.len ? -ENAMETOOLONG : -EINVAL;
	if (!rc) {
		for (size_t i = 0; i < b.len; i++)
			out[i] = (char)tolower((unsigned char)b.p[i]);
		out[b.len] = '\0';
	}
	json_buf_free(&b);
	return rc;
}

/* ---- bulk bodies ---- */

const char *es_op_name(enum es_op op)
{
	return op == ES_OP_CREATE ? "create" : "index";
}

/* ---- SipHash-2-4 (Aumasson, Bernstein), 64- and 128-bit output ---- */

static uint64_t rotl64(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static void sip_rounds(uint64_t v[4], int n)
{
	while (n--) {
		v[0] += v[1];
		v[1] = rotl64(v[1], 13) ^ v[0];
		v[0] = rotl64(v[0], 32);
		v[2] += v[3];
		v[3] = rotl64(v[3], 16) ^ v[2];
		v[0] += v[3];
		v[3] = rotl64(v[3], 21) ^ v[0];
		v[2] += v[1];
		v[1] = rotl64(v[1], 17) ^ v[2];
		v[2] = rotl64(v[2], 32);
	}
}

static uint64_t le64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void es_siphash(const uint8_t key[16], const void *data, size_t len, uint8_t *out, size_t outlen)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key, 8), k1 = le64(key + 8, 8), m;
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
			  k1 ^ 0x7465646279746573ULL };
	size_t i;

	if (outlen == 16)
		v[1] ^= 0xee;
	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i, 8);
		v[3] ^= m;
		sip_rounds(v, 2);
		v[0] ^= m;
	}
	m = le64(p + i, len - i) | (uint64_t)(len & 0xff) << 56;
	v[3] ^= m;
	sip_rounds(v, 2);
	v[0] ^= m;
	v[2] ^= outlen == 16 ? 0xee : 0xff;
	sip_rounds(v, 4);
	m = v[0] ^ v[1] ^ v[2] ^ v[3];
	for (int b = 0; b < 8; b++)
		out[b] = (uint8_t)(m >> (8 * b));
	if (outlen != 16)
		return;
	v[1] ^= 0xdd;
	sip_rounds(v, 4);
	m = v[0] ^ v[1] ^ v[2] ^ v[3];
	for (int b = 0; b < 8; b++)
		out[8 + b] = (uint8_t)(m >> (8 * b));
}

void es_doc_id(const char *line, size_t len, char out[ES_ID_LEN + 1])
{
	/* a fixed key: the same event must get the same id after a restart */
	static const uint8_t key[16] = "xdpbeat:doc-id:1";
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t h[16];
	size_t o = 0;

	/*
	 * agent.ephemeral_id is new at every start: left out of the hash, so the
	 * same traffic read again (a replayed pcap, a restart) gets the same ids.
	 */
	static const char eph[] = "\"ephemeral_id\":\"";
	const char *at = memmem(line, len, eph, sizeof(eph) - 1);
	const char *end = at ? memchr(at + sizeof(eph) - 1, '"', len - (size_t)(at + sizeof(eph) - 1 - line)) : NULL;

	if (end) {
		uint8_t parts[32];

		es_siphash(key, line, (size_t)(at - line), parts, 16);
		es_siphash(key, end, len - (size_t)(end - line), parts + 16, 16);
		es_siphash(key, parts, sizeof(parts), h, sizeof(h));
	} else {
		es_siphash(key, line, len, h, sizeof(h));
	}
	/* 15 bytes = 120 bits = 20 base64url characters */
	for (size_t i = 0; i < 15; i += 3) {
		uint32_t v = (uint32_t)h[i] << 16 | (uint32_t)h[i + 1] << 8 | h[i + 2];

		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	out[o] = '\0';
}

int es_bulk_append(struct json_buf *b, enum es_op op, const char *index, const char *id, const char *pipeline,
		   const char *line, size_t len)
{
	size_t mark = b->len;
	int rc = 0;

	rc |= json_buf_puts(b, "{\"");
	rc |= json_buf_puts(b, es_op_name(op));
	rc |= json_buf_puts(b, "\":{\"_index\":");
	rc |= json_buf_str(b, index, strlen(index));
	if (id) {
		rc |= json_buf_puts(b, ",\"_id\":");
		rc |= json_buf_str(b, id, strlen(id));
	}
	if (pipeline) {
		rc |= json_buf_puts(b, ",\"pipeline\":");
		rc |= json_buf_str(b, pipeline, strlen(pipeline));
	}
	rc |= json_buf_puts(b, "}}\n");
	rc |= json_buf_put(b, line, len);
	rc |= json_buf_puts(b, "\n");
	if (rc) {
		b->len = mark; /* never leave half an item behind */
		if (b->p)
			b->p[mark] = '\0';
		return -ENOMEM;
	}
	return 0;
}

char *es_dead_letter_doc(const char *line, size_t len, int status, const char *type, const char *reason,
			 uint64_t now_ns)
{
	char ts[40];
	json_t *doc;
	char *out;

	format_timestamp(now_ns, ts, sizeof(ts));
	doc = json_pack("{s:s, s:s%, s:{s:s, s:s, s:i}}", "@timestamp", ts, "message", line, len, "error", "type",
			type && *type ? type : "unknown", "message", reason && *reason ? reason : "", "code", status);
	if (!doc)
		return NULL;
	out = json_to_string(doc);
	json_decref(doc);
	return out;
}

/* ---- responses ---- */

enum es_verdict es_item_verdict(int status, enum es_op op)
{
	if (status >= 200 && status < 300)
		return ES_ACK;
	if (status == 409 && op == ES_OP_CREATE)
		return ES_DUP;
	if (status == 429 || (status >= 500 && status < 600))
		return ES_RETRY;
	return ES_FAIL;
}

enum es_req_verdict es_req_verdict(long status)
{
	if (status >= 200 && status < 300)
		return ES_REQ_OK;
	if (status == 401 || status == 403)
		return ES_REQ_AUTH;
	if (status == 408 || status == 429 || status >= 500 || status < 400)
		return ES_REQ_RETRY;
	return ES_REQ_SPLIT;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void parse_error(json_t *err, struct es_item *it)
{
	if (json_is_string(err)) {
		copy_str(it->reason, sizeof(it->reason), json_string_value(err));
		return;
	}
	if (!json_is_object(err))
		return;
	copy_str(it->type, sizeof(it->type), json_string_value(json_object_get(err, "type")));
	copy_str(it->reason, sizeof(it->reason), json_string_value(json_object_get(err, "reason")));
	if (!it->reason[0]) {
		json_t *cb = json_object_get(err, "caused_by");

		if (json_is_object(cb))
			copy_str(it->reason, sizeof(it->reason), json_string_value(json_object_get(cb, "reason")));
	}
}

static void parse_item(json_t *wrap, enum es_op op, struct es_item *it)
{
	json_t *body = NULL, *status;
	const char *key;
	json_t *v;

	memset(it, 0, sizeof(*it));
	if (json_is_object(wrap) && json_object_size(wrap) == 1)
		json_object_foreach(wrap, key, v)
			body = v;
	status = body ? json_object_get(body, "status") : NULL;
	if (!json_is_integer(status) || json_integer_value(status) < 100 || json_integer_value(status) > 599) {
		it->verdict = ES_RETRY;
		copy_str(it->type, sizeof(it->type), "malformed_item");
		copy_str(it->reason, sizeof(it->reason), "bulk response item without a valid status");
		return;
	}
	it->status = (int)json_integer_value(status);
	it->verdict = es_item_verdict(it->status, op);
	parse_error(json_object_get(body, "error"), it);
}

int es_bulk_parse(const char *body, size_t len, enum es_op op, struct es_item *items, size_t n)
{
	json_t *root, *arr;
	int rc = 0;

	root = json_loadb(body, len, 0, NULL);
	if (!root)
		return -EBADMSG;
	arr = json_object_get(root, "items");
	if (!json_is_object(root) || !json_is_array(arr) || json_array_size(arr) != n) {
		rc = -EBADMSG;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		parse_item(json_array_get(arr, i), op, &items[i]);
out:
	json_decref(root);
	return rc;
}

void es_error_summary(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *err = root ? json_object_get(root, "error") : NULL;
	struct es_item it = { 0 };

	out[0] = '\0';
	if (err) {
		json_t *rc = json_object_get(err, "root_cause");

		parse_error(err, &it);
		if (!it.reason[0] && json_is_array(rc))
			parse_error(json_array_get(rc, 0), &it);
		snprintf(out, outlen, "%s%s%s", it.type, it.type[0] ? ": " : "", it.reason);
	} else if (body && len) {
		size_t n = len < 120 ? len : 120;
		size_t o = 0;

		/* not JSON: show the start, printable only */
		for (size_t i = 0; i < n && o + 1 < outlen; i++)
			out[o++] = isprint((unsigned char)body[i]) ? body[i] : '.';
		out[o] = '\0';
	}
	json_decref(root);
}

/* ---- backoff ---- */

uint64_t es_backoff_ns(uint64_t init, uint64_t max, unsigned attempt, uint64_t rnd)
{
	uint64_t d = init ? init : 1;

	for (unsigned i = 0; i < attempt && d < max; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (max && d > max)
		d = max;
	return d / 2 + rnd % (d - d / 2 + 1);
}
