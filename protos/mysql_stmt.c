/*
 * MySQL prepared statements and the binary protocol: the statements of a
 * connection by id (bounded by MYSQL_STMTS_MAX and statement_timeout, freed
 * on COM_STMT_CLOSE and with the connection), the parameters of a
 * COM_STMT_EXECUTE (null bitmap, types bound now or by an earlier EXECUTE,
 * values of every MySQL type) and binary values as text; plus the small
 * text and length-encoded helpers the other files share.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"
#include "mysql.h"

/* ---- capped text ---- */

void mysql_text_init(struct mysql_text *t, size_t max)
{
	t->p = NULL;
	t->len = t->cap = 0;
	t->max = max;
	t->cut = false;
}

void mysql_text_put(struct mysql_text *t, const void *s, size_t n)
{
	if (n > t->max - t->len) {
		n = t->max - t->len;
		t->cut = true;
	}
	if (!n)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 64;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->cut = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

void mysql_text_puts(struct mysql_text *t, const char *s)
{
	mysql_text_put(t, s, strlen(s));
}

void mysql_text_free(struct mysql_text *t)
{
	free(t->p);
	mysql_text_init(t, t->max);
}

char *mysql_text_take(struct mysql_text *t, size_t *len)
{
	char *p = t->p;

	*len = t->len;
	t->p = NULL;
	t->len = t->cap = 0;
	t->cut = false;
	return p;
}

/* ---- length-encoded integers and strings ---- */

uint64_t mysql_lenenc(struct reader *r, bool *null)
{
	uint8_t b = rd_u8(r);

	*null = false;
	switch (b) {
	case 0xfb:
		*null = true;
		return 0;
	case 0xfc:
		return rd_le16(r);
	case 0xfd:
		return rd_le24(r);
	case 0xfe:
		return rd_le64(r);
	case 0xff:
		r->err = true;
		return 0;
	default:
		return b;
	}
}

const uint8_t *mysql_lenenc_str(struct reader *r, uint64_t *len)
{
	bool null;

	*len = mysql_lenenc(r, &null);
	if (null || *len > rd_left(r)) {
		r->err = true;
		return NULL;
	}
	return rd_bytes(r, (size_t)*len);
}

/* ---- statements ---- */

struct mysql_stmt *mysql_stmt_find(struct mysql_stmts *s, uint32_t id)
{
	if (id == 0xffffffffu) /* MariaDB: the statement prepared last */
		id = s->last_id;
	for (struct mysql_stmt *st = s->head; st; st = st->next)
		if (st->id == id)
			return st;
	return NULL;
}

static void stmt_free(struct mysql_stmt *st)
{
	if (!st)
		return;
	free(st->ptypes);
	free(st->ctypes);
	free(st->query);
	free(st->header);
	free(st->path);
	free(st);
}

/* Unlink and free the least recently used statement, or every one unused since before cutoff. */
static void stmts_evict(struct mysql_stmts *s, uint64_t cutoff, bool one)
{
	struct mysql_stmt **pp = &s->head, **lru = NULL;

	while (*pp) {
		struct mysql_stmt *st = *pp;

		if (!one && st->used < cutoff) {
			*pp = st->next;
			stmt_free(st);
			s->n--;
			continue;
		}
		if (!lru || st->used <= (*lru)->used) /* ties: the older, further down */
			lru = pp;
		pp = &st->next;
	}
	if (one && lru) {
		struct mysql_stmt *st = *lru;

		*lru = st->next;
		stmt_free(st);
		s->n--;
	}
}

struct mysql_stmt *mysql_stmt_add(struct conn *c, struct mysql_stmts *s, uint32_t id, uint16_t nparams, uint16_t ncols,
				  const char *query, size_t qlen, uint64_t ts)
{
	const struct mysql_cfg *cfg = mysql_cfg_of(c);
	struct mysql_stmt *st;

	mysql_stmt_del(s, id);
	if (cfg->statement_timeout && ts > cfg->statement_timeout)
		stmts_evict(s, ts - cfg->statement_timeout, false);
	if (s->n >= MYSQL_STMTS_MAX) {
		corr_count(c, PSTAT_TOO_LARGE);
		stmts_evict(s, 0, true);
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->query = malloc(qlen + 1);
	if (!st->query) {
		free(st);
		return NULL;
	}
	memcpy(st->query, query, qlen);
	st->query[qlen] = '\0';
	st->qlen = qlen;
	st->id = id;
	st->nparams = nparams;
	st->ncols = ncols;
	st->used = ts;
	st->next = s->head;
	s->head = st;
	s->n++;
	s->last_id = id;
	return st;
}

void mysql_stmt_del(struct mysql_stmts *s, uint32_t id)
{
	for (struct mysql_stmt **pp = &s->head; *pp; pp = &(*pp)->next) {
		struct mysql_stmt *st = *pp;

		if (st->id == id) {
			*pp = st->next;
			stmt_free(st);
			s->n--;
			return;
		}
	}
}

void mysql_stmts_free(struct mysql_stmts *s)
{
	while (s->head) {
		struct mysql_stmt *st = s->head;

		s->head = st->next;
		stmt_free(st);
	}
	s->n = 0;
}

/* ---- binary values ---- */

static void put_fmt(struct mysql_text *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(struct mysql_text *out, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		mysql_text_put(out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The shortest text that reads back as v. */
static void put_double(struct mysql_text *out, double v, bool single)
{
	char buf[40];

	for (int prec = single ? 6 : 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (single ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	mysql_text_puts(out, buf);
}

static bool put_int(struct reader *r, size_t size, bool uns, struct mysql_text *out)
{
	uint64_t u = size == 1 ? rd_u8(r) : size == 2 ? rd_le16(r) : size == 4 ? rd_le32(r) : rd_le64(r);
	int64_t s;

	if (r->err)
		return false;
	if (uns || size == 8) {
		if (uns) {
			put_fmt(out, "%" PRIu64, u);
			return true;
		}
		s = (int64_t)u;
	} else {
		unsigned bits = (unsigned)size * 8;

		s = (int64_t)(u ^ (1ull << (bits - 1))) - (int64_t)(1ull << (bits - 1)); /* sign-extend */
	}
	put_fmt(out, "%" PRId64, s);
	return true;
}

/* DATE, DATETIME, TIMESTAMP: a length byte (0, 4, 7, 11) then the parts present. */
static bool put_datetime(struct reader *r, bool date_only, struct mysql_text *out)
{
	uint8_t n = rd_u8(r);
	unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
	uint32_t us = 0;

	if (n != 0 && n != 4 && n != 7 && n != 11)
		r->err = true;
	if (n >= 4) {
		y = rd_le16(r);
		mo = rd_u8(r);
		d = rd_u8(r);
	}
	if (n >= 7) {
		h = rd_u8(r);
		mi = rd_u8(r);
		s = rd_u8(r);
	}
	if (n >= 11)
		us = rd_le32(r);
	if (r->err)
		return false;
	put_fmt(out, "%04u-%02u-%02u", y, mo, d);
	if (!date_only)
		put_fmt(out, " %02u:%02u:%02u", h, mi, s);
	if (!date_only && us)
		put_fmt(out, ".%06u", us);
	return true;
}

/* TIME: a length byte (0, 8, 12), sign, days, hours, minutes, seconds, microseconds. */
static bool put_time(struct reader *r, struct mysql_text *out)
{
	uint8_t n = rd_u8(r);
	uint64_t hours = 0;
	unsigned neg = 0, mi = 0, s = 0;
	uint32_t us = 0;

	if (n != 0 && n != 8 && n != 12)
		r->err = true;
	if (n >= 8) {
		neg = rd_u8(r);
		hours = (uint64_t)rd_le32(r) * 24;
		hours += rd_u8(r);
		mi = rd_u8(r);
		s = rd_u8(r);
	}
	if (n >= 12)
		us = rd_le32(r);
	if (r->err)
		return false;
	put_fmt(out, "%s%02" PRIu64 ":%02u:%02u", neg ? "-" : "", hours, mi, s);
	if (us)
		put_fmt(out, ".%06u", us);
	return true;
}

static bool is_string_type(uint8_t type)
{
	return type == 0x00 || type == 0x0f || type == 0x10 || type >= 0xf5;
}

bool mysql_bin_value(struct reader *r, uint8_t type, uint8_t flags, struct mysql_text *out)
{
	bool uns = flags & 0x80;
	uint64_t n;
	const uint8_t *s;

	switch (type) {
	case 0x01:
		return put_int(r, 1, uns, out);
	case 0x02:
	case 0x0d: /* YEAR */
		return put_int(r, 2, uns, out);
	case 0x03:
	case 0x09: /* INT24 */
		return put_int(r, 4, uns, out);
	case 0x08:
		return put_int(r, 8, uns, out);
	case 0x04: {
		uint32_t u = rd_le32(r);
		float f;

		memcpy(&f, &u, sizeof(f));
		if (!r->err)
			put_double(out, f, true);
		return !r->err;
	}
	case 0x05: {
		uint64_t u = rd_le64(r);
		double d;

		memcpy(&d, &u, sizeof(d));
		if (!r->err)
			put_double(out, d, false);
		return !r->err;
	}
	case 0x06:
		mysql_text_puts(out, "NULL");
		return true;
	case 0x07:
	case 0x0c:
		return put_datetime(r, false, out);
	case 0x0a:
		return put_datetime(r, true, out);
	case 0x0b:
		return put_time(r, out);
	default:
		if (!is_string_type(type))
			return false;
		s = mysql_lenenc_str(r, &n);
		if (!s)
			return false;
		mysql_text_put(out, s, (size_t)n);
		return true;
	}
}

/* ---- EXECUTE parameters ---- */

/* Append value text v as the next JSON string of the array in out. */
static void put_json_value(struct mysql_text *out, const struct mysql_text *v, bool first)
{
	struct json_buf b = { 0 };

	json_buf_strn(&b, v->p ? v->p : "", v->len);
	if (!first)
		mysql_text_put(out, ",", 1);
	if (!b.err)
		mysql_text_put(out, b.p, b.len);
	json_buf_free(&b);
}

/* Types bound by this EXECUTE (kept for the next ones), or those of an earlier one. */
static const uint8_t *exec_types(struct reader *r, struct mysql_stmt *st)
{
	size_t n = 2 * (size_t)st->nparams;
	uint8_t bound = rd_u8(r);
	const uint8_t *t;

	if (!bound)
		return st->ptypes;
	t = rd_bytes(r, n);
	if (!t)
		return NULL;
	if (!st->ptypes)
		st->ptypes = malloc(n);
	if (st->ptypes)
		memcpy(st->ptypes, t, n);
	return t;
}

bool mysql_exec_params(struct reader *r, struct mysql_stmt *st, struct mysql_text *out)
{
	const uint8_t *nulls, *types;
	struct mysql_text v;
	bool ok = true;

	if (!st->nparams || st->nparams > MYSQL_TYPES_MAX)
		return st->nparams == 0;
	nulls = rd_bytes(r, ((size_t)st->nparams + 7) / 8);
	types = nulls ? exec_types(r, st) : NULL;
	if (!types)
		return false;
	mysql_text_init(&v, MYSQL_VALUE_MAX);
	mysql_text_put(out, "[", 1);
	for (size_t i = 0; i < st->nparams && ok; i++) {
		v.len = 0;
		if (nulls[i / 8] & (1u << (i % 8)))
			mysql_text_puts(&v, "NULL");
		else if (i < 64 && (st->long_data & (1ull << i)))
			mysql_text_puts(&v, "<long data>");
		else
			ok = mysql_bin_value(r, types[2 * i], types[2 * i + 1], &v);
		put_json_value(out, &v, i == 0);
	}
	mysql_text_put(out, "]", 1);
	mysql_text_free(&v);
	st->long_data = 0;
	return ok;
}
