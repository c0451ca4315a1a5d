/*
 * What the client sends: the StartupMessage (who is connected), simple
 * Queries, and the extended protocol. Parse keeps a statement's text by
 * name, Bind makes a portal of a statement and its parameters (rendered as
 * a JSON array: text values as sent, binary ones decoded for the common
 * types), Execute queues a request with both; Close forgets. Statements and
 * portals are bounded in number (PGSQL_STMTS_MAX) and bytes
 * (PGSQL_TABLE_BYTES): the oldest make room, counted as too_large. Every
 * message the server answers is noted in the ring of owed replies
 * (pgsql_owe), which pgsql_back.c follows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsql.h"
#include "reader.h"

/* A prepared statement or a portal. */
struct pgsql_stmt {
	struct pgsql_stmt *next;
	char *name;
	char *query;
	size_t qlen;
	uint32_t oids[PGSQL_PARAMS_MAX]; /* statements: declared parameter types (0: unspecified) */
	uint16_t noids;
	char *params; /* portals: the bound values as a JSON array */
	size_t plen;
};

static size_t stmt_bytes(const struct pgsql_stmt *s)
{
	return sizeof(*s) + strlen(s->name) + s->qlen + s->plen;
}

static void stmt_free(struct pgsql_stmt *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->query);
	free(s->params);
	free(s);
}

void pgsql_tables_free(struct pgsql_conn *pc)
{
	struct pgsql_stmt *lists[2] = { pc->stmts, pc->portals };

	for (int i = 0; i < 2; i++)
		while (lists[i]) {
			struct pgsql_stmt *n = lists[i]->next;

			stmt_free(lists[i]);
			lists[i] = n;
		}
	pc->stmts = pc->portals = NULL;
	pc->nstmts = pc->nportals = pc->table_bytes = 0;
}

static struct pgsql_stmt **find(struct pgsql_stmt **list, const char *name)
{
	for (; *list; list = &(*list)->next)
		if (strcmp((*list)->name, name) == 0)
			return list;
	return list;
}

static void drop(struct pgsql_conn *pc, struct pgsql_stmt **pp, size_t *count)
{
	struct pgsql_stmt *s = *pp;

	*pp = s->next;
	pc->table_bytes -= stmt_bytes(s);
	(*count)--;
	stmt_free(s);
}

/* Keep s in list (newest first), replacing one of the same name; the oldest make room. */
static void keep(struct conn *c, struct pgsql_conn *pc, struct pgsql_stmt **list, size_t *count, struct pgsql_stmt *s)
{
	struct pgsql_stmt **pp = find(list, s->name);

	if (*pp)
		drop(pc, pp, count);
	while (*list && (*count >= PGSQL_STMTS_MAX || pc->table_bytes + stmt_bytes(s) > PGSQL_TABLE_BYTES)) {
		pp = list;
		while ((*pp)->next)
			pp = &(*pp)->next;
		drop(pc, pp, count);
		corr_count(c, PSTAT_TOO_LARGE);
	}
	s->next = *list;
	*list = s;
	(*count)++;
	pc->table_bytes += stmt_bytes(s);
}

static char *dup_n(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* A C string of the payload, or the rest of a truncated one. */
static const char *read_str(struct reader *r, bool truncated, size_t *len)
{
	const char *s = rd_cstr(r, rd_left(r), len);

	if (s || !truncated)
		return s;
	r->err = false;
	*len = rd_left(r);
	s = (const char *)rd_ptr(r);
	r->pos = r->len;
	return s;
}

/* ---- owed replies ---- */

bool pgsql_owe(struct conn *c, struct pgsql_conn *pc, enum pgsql_owed_kind kind, uint64_t id)
{
	if (pc->owed_n == pc->owed_cap) {
		size_t cap = pc->owed_cap ? 2 * pc->owed_cap : 16;
		struct pgsql_owed *o;

		if (cap > PGSQL_OWED_MAX) {
			corr_count(c, PSTAT_TOO_LARGE);
			return false;
		}
		o = malloc(cap * sizeof(*o));
		if (!o)
			return false;
		for (size_t i = 0; i < pc->owed_n; i++)
			o[i] = pc->owed[(pc->owed_head + i) % pc->owed_cap];
		free(pc->owed);
		pc->owed = o;
		pc->owed_cap = cap;
		pc->owed_head = 0;
	}
	pc->owed[(pc->owed_head + pc->owed_n) % pc->owed_cap] = (struct pgsql_owed){ .kind = (uint8_t)kind, .id = id };
	pc->owed_n++;
	return true;
}

/* ---- startup ---- */

static void copy_name(char *dst, const char *s, size_t n)
{
	if (n >= PGSQL_NAME_MAX)
		n = PGSQL_NAME_MAX - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

void pgsql_startup(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	const char *k, *v;
	size_t kl, vl;

	rd_init(&r, f->p, f->len);
	rd_skip(&r, 4); /* protocol version */
	while ((k = rd_cstr(&r, rd_left(&r), &kl)) && kl && (v = rd_cstr(&r, rd_left(&r), &vl))) {
		if (kl == 4 && memcmp(k, "user", 4) == 0)
			copy_name(pc->who.user, v, vl);
		else if (kl == 8 && memcmp(k, "database", 8) == 0)
			copy_name(pc->who.database, v, vl);
		else if (kl == 16 && memcmp(k, "application_name", 16) == 0)
			copy_name(pc->who.app, v, vl);
	}
	if (!pc->who.database[0]) /* the server's default: the user's name */
		memcpy(pc->who.database, pc->who.user, sizeof(pc->who.database));
	pgsql_owe(c, pc, OWED_STARTUP, 0);
}

/* ---- requests ---- */

static struct pgsql_req *req_new(struct pgsql_conn *pc, const char *text, size_t len)
{
	struct pgsql_req *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return NULL;
	pr->who = pc->who;
	pr->text = dup_n(text ? text : "", text ? len : 0);
	pr->len = text ? len : 0;
	if (!pr->text) {
		free(pr);
		return NULL;
	}
	return pr;
}

/* Queue pr as the request the next owed reply of kind answers. */
static void request(struct conn *c, struct pgsql_conn *pc, struct pgsql_req *pr, enum pgsql_owed_kind kind,
		    const struct pgsql_frame *f)
{
	uint64_t ts = pc->req_ts ? pc->req_ts : f->ts;
	struct msg *m = pgsql_req_msg(c, pr, ts, pc->req_bytes);

	pc->req_bytes = 0;
	pc->req_ts = 0;
	if (!m)
		return;
	m->ts_end = f->ts_end;
	msg_set_id(m, ++pc->next_id);
	corr_request(c, m);
	pgsql_owe(c, pc, kind, pc->next_id);
}

static void on_query(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	size_t n;
	const char *q;
	struct pgsql_req *pr;

	rd_init(&r, f->p, f->len);
	q = read_str(&r, f->truncated, &n);
	if (!q) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		q = (const char *)f->p, n = 0;
	}
	pr = req_new(pc, q, n);
	if (!pr)
		return;
	pr->split = malloc(2 * sizeof(uint32_t) * PGSQL_SPLIT_MAX);
	if (pr->split) {
		uint32_t *fit;

		pr->nsplit = pgsql_split(pr->text, pr->len, pr->split, PGSQL_SPLIT_MAX);
		fit = realloc(pr->split, 2 * sizeof(uint32_t) * (pr->nsplit ? pr->nsplit : 1));
		if (fit)
			pr->split = fit;
	}
	request(c, pc, pr, OWED_QUERY, f);
}

static void on_parse(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	const char *name, *q;
	size_t nl, ql;
	struct pgsql_stmt *s;

	rd_init(&r, f->p, f->len);
	name = rd_cstr(&r, rd_left(&r), &nl);
	q = name ? read_str(&r, f->truncated, &ql) : NULL;
	pgsql_owe(c, pc, OWED_PARSE, 0);
	if (!q) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	s->name = dup_n(name, nl);
	s->query = dup_n(q, ql);
	s->qlen = ql;
	s->noids = rd_be16(&r);
	if (s->noids > PGSQL_PARAMS_MAX)
		s->noids = PGSQL_PARAMS_MAX;
	for (uint16_t i = 0; i < s->noids; i++)
		s->oids[i] = rd_be32(&r);
	if (!s->name || !s->query) {
		stmt_free(s);
		return;
	}
	keep(c, pc, &pc->stmts, &pc->nstmts, s);
}

/* ---- parameters ---- */

static void put_hex(struct json_buf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char buf[2 * 64];

	json_buf_lit(b, "\\\\x");
	while (n) {
		size_t k = n < 64 ? n : 64;

		for (size_t i = 0; i < k; i++) {
			buf[2 * i] = digits[p[i] >> 4];
			buf[2 * i + 1] = digits[p[i] & 15];
		}
		json_buf_put(b, buf, 2 * k);
		p += k;
		n -= k;
	}
}

/* A binary value of type oid as text; false when its length does not fit the type. */
static bool put_binary(struct json_buf *b, uint32_t oid, const uint8_t *p, size_t n)
{
	struct reader r;
	char buf[64];
	int k = -1;

	rd_init(&r, p, n);
	if (oid == 21 && n == 2)
		k = snprintf(buf, sizeof(buf), "%d", (int16_t)rd_be16(&r));
	else if (oid == 23 && n == 4)
		k = snprintf(buf, sizeof(buf), "%" PRId32, (int32_t)rd_be32(&r));
	else if (oid == 26 && n == 4)
		k = snprintf(buf, sizeof(buf), "%" PRIu32, rd_be32(&r));
	else if (oid == 20 && n == 8)
		k = snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)rd_be64(&r));
	else if (oid == 16 && n == 1)
		k = snprintf(buf, sizeof(buf), "%s", p[0] ? "t" : "f");
	else if (oid == 700 && n == 4) {
		uint32_t u = rd_be32(&r);
		float v;

		memcpy(&v, &u, sizeof(v));
		k = snprintf(buf, sizeof(buf), "%.9g", (double)v);
	} else if (oid == 701 && n == 8) {
		uint64_t u = rd_be64(&r);
		double v;

		memcpy(&v, &u, sizeof(v));
		k = snprintf(buf, sizeof(buf), "%.17g", v);
	} else if (oid == 25 || oid == 1043 || oid == 1042 || oid == 19 || oid == 114 || oid == 705) {
		json_buf_strn(b, p, n);
		return true;
	} else if (oid == 21 || oid == 23 || oid == 26 || oid == 20 || oid == 16 || oid == 700 || oid == 701) {
		json_buf_lit(b, "\"");
		put_hex(b, p, n);
		json_buf_lit(b, "\"");
		return false;
	}
	if (k < 0) { /* bytea, and types not decoded here */
		json_buf_lit(b, "\"");
		put_hex(b, p, n);
		json_buf_lit(b, "\"");
		return true;
	}
	json_buf_str(b, buf, (size_t)k);
	return true;
}

/* The values of a Bind at r (after its format codes) as a JSON array into b. */
static void render_params(struct conn *c, struct reader *r, const uint16_t *fmts, uint16_t nfmts,
			  const struct pgsql_stmt *s, struct json_buf *b)
{
	uint16_t n = rd_be16(r);

	json_buf_lit(b, "[");
	for (uint16_t i = 0; i < n && !r->err; i++) {
		uint32_t len = rd_be32(r);
		bool binary = nfmts == 1 ? fmts[0] : i < nfmts ? fmts[i] : false;
		uint32_t oid = s && i < s->noids ? s->oids[i] : 0;
		const uint8_t *v;

		if (i >= PGSQL_PARAMS_MAX) {
			corr_count(c, PSTAT_TOO_LARGE);
			break;
		}
		if (i)
			json_buf_lit(b, ",");
		if (len == UINT32_MAX) {
			json_buf_lit(b, "null");
			continue;
		}
		v = rd_bytes(r, len);
		if (!v) {
			json_buf_lit(b, "null");
			break;
		}
		if (!binary)
			json_buf_strn(b, v, len < PGSQL_PARAM_TEXT_MAX ? len : PGSQL_PARAM_TEXT_MAX);
		else if (!put_binary(b, oid, v, len < PGSQL_PARAM_TEXT_MAX ? len : PGSQL_PARAM_TEXT_MAX))
			corr_count(c, PSTAT_PARSE_ERRORS); /* a binary value of the wrong length for its type */
	}
	json_buf_lit(b, "]");
}

static void on_bind(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	const char *portal, *name;
	size_t pl, nl;
	uint16_t nfmts, fmts[PGSQL_PARAMS_MAX];
	struct pgsql_stmt *s, **sp;
	struct json_buf b = { 0 };

	pgsql_owe(c, pc, OWED_BIND, 0);
	rd_init(&r, f->p, f->len);
	portal = rd_cstr(&r, rd_left(&r), &pl);
	name = portal ? rd_cstr(&r, rd_left(&r), &nl) : NULL;
	if (!name) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	nfmts = rd_be16(&r);
	for (uint16_t i = 0; i < nfmts && !r.err; i++) {
		uint16_t v = rd_be16(&r);

		if (i < PGSQL_PARAMS_MAX)
			fmts[i] = v;
	}
	if (nfmts > PGSQL_PARAMS_MAX)
		nfmts = PGSQL_PARAMS_MAX;
	sp = find(&pc->stmts, name);
	render_params(c, &r, fmts, nfmts, *sp, &b);
	if (r.err && !f->truncated)
		corr_count(c, PSTAT_PARSE_ERRORS);
	s = calloc(1, sizeof(*s));
	if (!s || b.err) {
		free(s);
		json_buf_free(&b);
		return;
	}
	s->name = dup_n(portal, pl);
	s->query = *sp ? dup_n((*sp)->query, (*sp)->qlen) : NULL;
	s->qlen = *sp ? (*sp)->qlen : 0;
	s->params = b.p;
	s->plen = b.len;
	if (!s->name || (*sp && !s->query)) {
		stmt_free(s);
		return;
	}
	keep(c, pc, &pc->portals, &pc->nportals, s);
}

static void on_execute(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	const char *portal;
	size_t pl;
	struct pgsql_stmt *p;
	struct pgsql_req *pr;

	rd_init(&r, f->p, f->len);
	portal = rd_cstr(&r, rd_left(&r), &pl);
	if (!portal) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		portal = "";
	}
	p = *find(&pc->portals, portal);
	pr = req_new(pc, p ? p->query : NULL, p ? p->qlen : 0);
	if (!pr)
		return;
	if (p && p->params && p->plen > 2) {
		pr->params = dup_n(p->params, p->plen);
		pr->params_len = pr->params ? p->plen : 0;
	}
	request(c, pc, pr, OWED_EXECUTE, f);
}

static void on_close(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	uint8_t what;
	const char *name;
	size_t nl;
	struct pgsql_stmt **pp;

	rd_init(&r, f->p, f->len);
	what = rd_u8(&r);
	name = rd_cstr(&r, rd_left(&r), &nl);
	pgsql_owe(c, pc, OWED_CLOSE, 0);
	if (!name || (what != 'S' && what != 'P')) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	pp = find(what == 'S' ? &pc->stmts : &pc->portals, name);
	if (*pp)
		drop(pc, pp, what == 'S' ? &pc->nstmts : &pc->nportals);
}

void pgsql_front(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	if (!pc->req_ts)
		pc->req_ts = f->ts;
	pc->req_bytes += f->wire;
	switch (f->type) {
	case 'Q':
		on_query(c, pc, f);
		break;
	case 'P':
		on_parse(c, pc, f);
		break;
	case 'B':
		on_bind(c, pc, f);
		break;
	case 'D':
		pgsql_owe(c, pc, OWED_DESCRIBE, 0);
		break;
	case 'E':
		on_execute(c, pc, f);
		break;
	case 'C':
		on_close(c, pc, f);
		break;
	case 'S':
		pgsql_owe(c, pc, OWED_SYNC, 0);
		break;
	case 'F':
		pgsql_owe(c, pc, OWED_CALL, 0);
		break;
	default: /* Flush, CopyData/Done/Fail, password and SASL messages, Terminate */
		break;
	}
	if (f->type == 'S' || f->type == 'X' || f->type == 'p') { /* not part of the next request */
		pc->req_bytes = 0;
		pc->req_ts = 0;
	}
}
