/*
 * PostgreSQL tests through the real pipeline: events as Packetbeat writes
 * them, one per statement of a multi-statement query as the server answers
 * them, the extended protocol (statements, portals, parameters, pipelined
 * Executes, an error skipping to the Sync), the same events at every split
 * point, the SSL answer, gaps, and hostile input (bad types and lengths,
 * huge length claims, 65535 columns, binary parameters of the wrong length,
 * an Execute of a portal never bound) counted without a crash or a big
 * allocation. The statement splitter on its own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protos/pgsql.h"
#include "testutil.h"

#define PORT 5432
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_PGSQL][PSTAT_##id])

/* A wire buffer built message by message. */
struct wire {
	uint8_t b[1 << 16];
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	cr_assert_leq(w->n + n, sizeof(w->b));
	if (n)
		memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void be32(struct wire *w, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(w, b, 4);
}

static void be16(struct wire *w, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v };

	put(w, b, 2);
}

static void cstr(struct wire *w, const char *s)
{
	put(w, s, strlen(s) + 1);
}

/* A typed message: type, length, then the payload given as (bytes, len). */
static void msg(struct wire *w, char type, const void *payload, size_t len)
{
	put(w, &type, 1);
	be32(w, (uint32_t)len + 4);
	put(w, payload, len);
}

static void msg_str(struct wire *w, char type, const char *s)
{
	msg(w, type, s, strlen(s) + 1);
}

static void startup(struct wire *w, const char *user, const char *db, const char *app)
{
	struct wire p = { .n = 0 };

	be32(&p, 196608);
	cstr(&p, "user"), cstr(&p, user);
	cstr(&p, "database"), cstr(&p, db);
	cstr(&p, "application_name"), cstr(&p, app);
	put(&p, "", 1);
	be32(w, (uint32_t)p.n + 4);
	put(w, p.b, p.n);
}

/* RowDescription of text columns named in names (NULL-terminated). */
static void row_desc(struct wire *w, const char *const *names)
{
	struct wire p = { .n = 0 };
	uint16_t n = 0;

	while (names[n])
		n++;
	be16(&p, n);
	for (uint16_t i = 0; i < n; i++) {
		cstr(&p, names[i]);
		be32(&p, 0), be16(&p, 0), be32(&p, 25), be16(&p, 0xffff), be32(&p, 0xffffffff), be16(&p, 0);
	}
	msg(w, 'T', p.b, p.n);
}

/* DataRow of values (NULL value: SQL NULL); n columns. */
static void data_row(struct wire *w, const char *const *vals, uint16_t n)
{
	struct wire p = { .n = 0 };

	be16(&p, n);
	for (uint16_t i = 0; i < n; i++) {
		if (!vals[i]) {
			be32(&p, 0xffffffff);
			continue;
		}
		be32(&p, (uint32_t)strlen(vals[i]));
		put(&p, vals[i], strlen(vals[i]));
	}
	msg(w, 'D', p.b, p.n);
}

static void error(struct wire *w, const char *code, const char *text)
{
	struct wire p = { .n = 0 };

	put(&p, "S", 1), cstr(&p, "ERROR");
	put(&p, "V", 1), cstr(&p, "ERROR");
	put(&p, "C", 1), cstr(&p, code);
	put(&p, "M", 1), cstr(&p, text);
	put(&p, "", 1);
	msg(w, 'E', p.b, p.n);
}

static void ready(struct wire *w)
{
	msg(w, 'Z', "I", 1);
}

static void server_hello(struct wire *w)
{
	uint8_t ok[4] = { 0 }, key[8] = { 0, 0, 0, 42, 1, 2, 3, 4 };

	msg(w, 'R', ok, 4);
	msg(w, 'S', "server_version\00015.18\000", 20);
	msg(w, 'K', key, 8);
	ready(w);
}

static struct tp *pg_tp(const char *extra)
{
	return tp_proto("pgsql", PORT, extra);
}

/* The fields that must not depend on segmentation or timing. */
static char *stable(struct tp *tp)
{
	static const char *const keys[] = { "pgsql",  "status",	     "method",	"query",    "params", "user",
					    "source", "destination", "request", "response", "error",  NULL };

	return tp_fields_all(tp, keys);
}

/* ---- simple query ---- */

static const char *const ab[] = { "a", "b", NULL };

Test(pgsql, select_as_packetbeat_with_user_database_application)
{
	struct tp *tp = pg_tp("    send_request: true\n    send_response: true\n");
	static struct wire c, s;
	const char *r1[] = { "1", "x,y" }, *r2[] = { NULL, " lead" };

	startup(&c, "alice", "shop", "app1");
	msg_str(&c, 'Q', "select a, b from t");
	server_hello(&s);
	row_desc(&s, ab);
	data_row(&s, r1, 2);
	data_row(&s, r2, 2);
	msg_str(&s, 'C', "SELECT 2");
	ready(&s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "type"), "pgsql");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SELECT");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "select a, b from t");
	cr_assert_str_eq(tp_str(tp, 0, "request"), "select a, b from t");
	cr_assert_str_eq(tp_str(tp, 0, "response"), "a,b\n1,\"x,y\"\n,\" lead\"\n");
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_rows"), 2);
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_fields"), 2);
	cr_assert_str_eq(tp_str(tp, 0, "user.name"), "alice");
	cr_assert_str_eq(json_string_value(json_array_get(tp_get(tp, 0, "related.user"), 0)), "alice");
	cr_assert_str_eq(tp_str(tp, 0, "pgsql.database"), "shop");
	cr_assert_str_eq(tp_str(tp, 0, "pgsql.application_name"), "app1");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 24, "the Query message");
	cr_assert_null(tp_get(tp, 0, "pgsql.error_code"));
	tp_free(tp);
}

Test(pgsql, multi_statement_query_one_transaction_per_answer)
{
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s;

	startup(&c, "u", "d", "a");
	msg_str(&c, 'Q', "insert into t values ('a;b'); /* ; */ select $x$;$x$; ;select 1/0; select 3");
	server_hello(&s);
	msg_str(&s, 'C', "INSERT 0 1");
	row_desc(&s, ab);
	msg_str(&s, 'C', "SELECT 0");
	error(&s, "22012", "division by zero");
	ready(&s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_count(tp), 3, "the statement after the error never ran");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "insert into t values ('a;b')");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "INSERT");
	cr_assert_str_eq(tp_str(tp, 1, "query"), "/* ; */ select $x$;$x$");
	cr_assert_str_eq(tp_str(tp, 1, "method"), "SELECT", "past the comment");
	cr_assert_eq(tp_int(tp, 1, "pgsql.num_fields"), 2);
	cr_assert_str_eq(tp_str(tp, 2, "query"), "select 1/0");
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 2, "pgsql.error_code"), "22012");
	cr_assert_str_eq(tp_str(tp, 2, "pgsql.error_message"), "division by zero");
	cr_assert_str_eq(tp_str(tp, 2, "pgsql.error_severity"), "ERROR");
	cr_assert_eq(PSTAT(tp, TXN), 3);
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	tp_free(tp);
}

Test(pgsql, empty_query_and_unanswered_query)
{
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s;

	startup(&c, "u", "d", "a");
	msg_str(&c, 'Q', "-- nothing");
	msg_str(&c, 'Q', "select pg_sleep(100)");
	server_hello(&s);
	msg(&s, 'I', NULL, 0);
	ready(&s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "-- nothing");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "query"), "select pg_sleep(100)");
	cr_assert_str_eq(tp_str(tp, 1, "event.outcome"), "unknown", "closed before its answer");
	tp_free(tp);
}

Test(pgsql, max_rows_and_max_row_length)
{
	struct tp *tp = pg_tp("    send_response: true\n    max_rows: 2\n    max_row_length: 5\n");
	static struct wire c, s;
	const char *r[] = { "abcd", "efgh" };

	startup(&c, "u", "d", "a");
	msg_str(&c, 'Q', "select a, b from t");
	server_hello(&s);
	row_desc(&s, ab);
	for (int i = 0; i < 4; i++)
		data_row(&s, r, 2);
	msg_str(&s, 'C', "SELECT 4");
	ready(&s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_rows"), 4);
	cr_assert_str_eq(tp_str(tp, 0, "response"), "a,b\nabcd,e\nabcd,e\n", "2 rows of 5 bytes of values");
	tp_free(tp);
}

/* ---- extended protocol ---- */

static void parse_msg(struct wire *w, const char *name, const char *q, const uint32_t *oids, uint16_t n)
{
	struct wire p = { .n = 0 };

	cstr(&p, name), cstr(&p, q), be16(&p, n);
	for (uint16_t i = 0; i < n; i++)
		be32(&p, oids[i]);
	msg(w, 'P', p.b, p.n);
}

/* Bind with one format code for all values (lens[i] -1: NULL). */
static void bind_msg(struct wire *w, const char *portal, const char *stmt, uint16_t fmt, const void *const *vals,
		     const int32_t *lens, uint16_t n)
{
	struct wire p = { .n = 0 };

	cstr(&p, portal), cstr(&p, stmt), be16(&p, 1), be16(&p, fmt), be16(&p, n);
	for (uint16_t i = 0; i < n; i++) {
		be32(&p, (uint32_t)lens[i]);
		if (lens[i] > 0)
			put(&p, vals[i], (size_t)lens[i]);
	}
	be16(&p, 0);
	msg(w, 'B', p.b, p.n);
}

static void exec_msg(struct wire *w, const char *portal)
{
	struct wire p = { .n = 0 };

	cstr(&p, portal), be32(&p, 0);
	msg(w, 'E', p.b, p.n);
}

/* A client's pipeline: named statement with binary parameters, then three unnamed Executes before one Sync. */
static void ext_traffic(struct wire *c, struct wire *s)
{
	static const uint32_t oids[] = { 23, 20, 25, 16, 701 };
	static const uint8_t i4[] = { 0, 0, 0, 40 }, i8[] = { 0, 0, 0, 0, 0, 0, 0, 2 }, b1[] = { 1 },
			     f8[] = { 0x40, 0x04, 0, 0, 0, 0, 0, 0 };
	const void *vals[] = { i4, i8, "hé", b1, f8, NULL };
	const int32_t lens[] = { 4, 8, 3, 1, 8, -1 };
	const char *one[] = { "1" };
	const char *const one_col[] = { "one", NULL };

	startup(c, "u", "d", "a");
	parse_msg(c, "s1", "select $1::int4 + $2 as n, $3, $4, $5, $6", oids, 5);
	bind_msg(c, "p1", "s1", 1, vals, lens, 6);
	msg_str(c, 'D', "Pp1");
	exec_msg(c, "p1");
	msg(c, 'C', "Pp1", 4);
	msg(c, 'S', NULL, 0);
	parse_msg(c, "", "select 1 as one", NULL, 0);
	bind_msg(c, "", "", 0, NULL, NULL, 0);
	exec_msg(c, "");
	parse_msg(c, "", "select 1/0", NULL, 0);
	bind_msg(c, "", "", 0, NULL, NULL, 0);
	exec_msg(c, "");
	parse_msg(c, "", "select 3", NULL, 0);
	bind_msg(c, "", "", 0, NULL, NULL, 0);
	exec_msg(c, "");
	msg(c, 'S', NULL, 0);
	msg(c, 'X', NULL, 0);

	server_hello(s);
	msg(s, '1', NULL, 0);
	msg(s, '2', NULL, 0);
	row_desc(s, one_col);
	data_row(s, one, 1);
	msg_str(s, 'C', "SELECT 1");
	msg(s, '3', NULL, 0);
	ready(s);
	msg(s, '1', NULL, 0);
	msg(s, '2', NULL, 0);
	data_row(s, one, 1);
	msg_str(s, 'C', "SELECT 1");
	msg(s, '1', NULL, 0);
	error(s, "22012", "division by zero");
	ready(s);
}

Test(pgsql, extended_protocol_statements_portals_params_pipeline)
{
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s;
	char *ps;

	ext_traffic(&c, &s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "select $1::int4 + $2 as n, $3, $4, $5, $6");
	ps = json_dumps(tp_get(tp, 0, "params"), JSON_COMPACT);
	cr_assert_str_eq(ps, "[\"40\",\"2\",\"hé\",\"t\",\"2.5\",null]");
	free(ps);
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_rows"), 1);
	cr_assert_str_eq(tp_str(tp, 1, "query"), "select 1 as one");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 2, "query"), "select 1/0");
	cr_assert_str_eq(tp_str(tp, 2, "pgsql.error_code"), "22012");
	cr_assert_str_eq(tp_str(tp, 3, "query"), "select 3");
	cr_assert_str_eq(tp_str(tp, 3, "event.outcome"), "unknown", "skipped by the server to the Sync");
	cr_assert_str_eq(tp_str(tp, 3, "error.message"), "Not executed: an earlier message of its pipeline failed");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

/* c2s cut at cq (0 = whole), then s2c cut at cr. */
static char *exchange(const struct wire *c, const struct wire *s, size_t cq, size_t cr, size_t *nev)
{
	struct tp *tp = pg_tp("    send_request: true\n    send_response: true\n");
	char *out;

	tp_exchange(tp, c->b, c->n, s->b, s->n, cq, cr);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "split %zu/%zu", cq, cr);
	*nev = tp_count(tp);
	out = stable(tp);
	tp_free(tp);
	return out;
}

static void every_split(const struct wire *c, const struct wire *s, size_t events)
{
	size_t n;
	char *ref = exchange(c, s, 0, 0, &n);

	cr_assert_eq(n, events, "events %zu", n);
	for (size_t i = 1; i < c->n; i++) {
		char *x = exchange(c, s, i, 0, &n);

		cr_assert_str_eq(x, ref, "request split at %zu", i);
		free(x);
	}
	for (size_t i = 1; i < s->n; i++) {
		char *x = exchange(c, s, 0, i, &n);

		cr_assert_str_eq(x, ref, "response split at %zu", i);
		free(x);
	}
	free(ref);
}

Test(pgsql, extended_split_at_every_byte)
{
	static struct wire c, s;

	ext_traffic(&c, &s);
	every_split(&c, &s, 4);
}

Test(pgsql, simple_split_at_every_byte_with_ssl_request_answered_n)
{
	static struct wire c, s;
	const char *r1[] = { "1", "two\nlines" };

	be32(&c, 8), be32(&c, 80877103);
	startup(&c, "u", "d", "a");
	msg_str(&c, 'Q', "select 1; select 'x;y'");
	put(&s, "N", 1);
	server_hello(&s);
	msg_str(&s, 'N', "SNOTICE\0Mhello\0");
	row_desc(&s, ab);
	data_row(&s, r1, 2);
	msg_str(&s, 'C', "SELECT 1");
	msg_str(&s, 'A', "\0\0\0\1ch\0payload");
	msg_str(&s, 'C', "SELECT 1");
	ready(&s);
	every_split(&c, &s, 2);
}

Test(pgsql, ssl_answered_s_is_skipped_and_counted)
{
	struct tp *tp = pg_tp(NULL);
	struct wire c = { .n = 0 };

	be32(&c, 8), be32(&c, 80877103);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, "S", 1);
	tp_tcp(tp, 0, 0, "\x16\x03\x01\x02\x00garbage of a client hello", 30);
	tp_tcp(tp, 1, 0, "\x16\x03\x03\x00\x10server hello....", 21);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "TLS bytes are not parsed");
	cr_assert_eq(PSTAT(tp, GAPS), 1, "the encrypted session is counted");
	tp_free(tp);
}

/* ---- hostile input ---- */

Test(pgsql, bad_type_and_short_length_are_parse_errors)
{
	struct tp *tp = pg_tp(NULL);
	struct wire c = { .n = 0 };

	startup(&c, "u", "d", "a");
	put(&c, "Z\0\0\0\5x", 6); /* not a client message */
	tp_exchange(tp, c.b, c.n, "", 0, 0, 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);
	tp = pg_tp(NULL);
	c.n = 0;
	startup(&c, "u", "d", "a");
	put(&c, "Q\0\0\0\2", 5); /* a length below its own size */
	tp_exchange(tp, c.b, c.n, "", 0, 0, 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);
}

Test(pgsql, huge_length_claim_is_read_from_its_head_and_skipped)
{
	struct tp *tp = pg_tp("    send_response: true\n");
	static struct wire c, s;
	static uint8_t chunk[PGSQL_HEAD_MAX + 100];

	startup(&c, "u", "d", "a");
	msg_str(&c, 'Q', "select big");
	server_hello(&s);
	row_desc(&s, ab);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, s.b, s.n);
	/* a DataRow claiming 1 GiB: its head, then 3 chunks of the rest, then the end of the result */
	memset(chunk, 'x', sizeof(chunk));
	memcpy(chunk, "D\x40\0\0\0\0\2\x3f\xff\xff\xf0", 11);
	tp_tcp(tp, 1, 0, chunk, sizeof(chunk));
	for (int i = 0; i < 3; i++)
		tp_tcp(tp, 1, 0, chunk, sizeof(chunk));
	tp_tcp_cut(tp, 1, chunk, 0, (1u << 30) + 1 - 4 * (uint32_t)sizeof(chunk)); /* the rest lost: a gap */
	s.n = 0;
	msg_str(&s, 'C', "SELECT 1");
	ready(&s);
	tp_tcp(tp, 1, 0, s.b, s.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_rows"), 1);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1);
	cr_assert_leq(strlen(tp_str(tp, 0, "response")), 1100, "max_row_length bounds the text");
	tp_free(tp);
}

Test(pgsql, many_columns_and_wrong_binary_params_are_counted)
{
	struct tp *tp = pg_tp(NULL);
	struct wire c = { .n = 0 }, s = { .n = 0 }, p = { .n = 0 };
	static const uint32_t oids[] = { 23 };
	const void *vals[] = { "\1\2" };
	const int32_t lens[] = { 2 };

	startup(&c, "u", "d", "a");
	parse_msg(&c, "", "select $1::int4", oids, 1);
	bind_msg(&c, "", "", 1, vals, lens, 1); /* an int4 of 2 bytes */
	exec_msg(&c, "");
	exec_msg(&c, "never_bound");
	msg(&c, 'S', NULL, 0);
	server_hello(&s);
	msg(&s, '1', NULL, 0);
	msg(&s, '2', NULL, 0);
	be16(&p, 65535); /* 65535 columns announced, one there */
	cstr(&p, "a");
	be32(&p, 0), be16(&p, 0), be32(&p, 23), be16(&p, 4), be32(&p, 0), be16(&p, 0);
	msg(&s, 'T', p.b, p.n);
	msg_str(&s, 'C', "SELECT 0");
	error(&s, "34000", "portal \"never_bound\" does not exist");
	ready(&s);
	tp_exchange(tp, c.b, c.n, s.b, s.n, 0, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "params.0"), "\\x0102", "shown as hex");
	cr_assert_eq(tp_int(tp, 0, "pgsql.num_fields"), 65535);
	cr_assert_null(tp_get(tp, 1, "query"), "a portal never bound has no query");
	cr_assert_str_eq(tp_str(tp, 1, "pgsql.error_code"), "34000");
	cr_assert_geq(PSTAT(tp, PARSE_ERRORS), 2, "the wrong length and the short RowDescription");
	cr_assert_geq(PSTAT(tp, TOO_LARGE), 1, "more columns than kept");
	tp_free(tp);
}

Test(pgsql, gap_resyncs_at_the_next_message)
{
	struct tp *tp = pg_tp(NULL);
	struct wire c = { .n = 0 }, s = { .n = 0 }, q = { .n = 0 };

	startup(&c, "u", "d", "a");
	server_hello(&s);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, s.b, s.n);
	tp_tcp_cut(tp, 0, "Q\0\0\0\x20select lost", 4, 33);
	msg_str(&q, 'Q', "select 2");
	tp_tcp(tp, 0, 0, q.b, q.n);
	s.n = 0;
	msg_str(&s, 'C', "SELECT 1");
	ready(&s);
	tp_tcp(tp, 1, 0, s.b, s.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "select 2");
	tp_free(tp);
}

/* ---- the splitter ---- */

static char *split_str(const char *q)
{
	uint32_t out[2 * 16];
	uint32_t n = pgsql_split(q, strlen(q), out, 16);
	static char buf[1024];
	size_t k = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "[%.*s]", (int)out[2 * i + 1], q + out[2 * i]);
	return buf;
}

Test(pgsql, splitter_knows_literals_comments_and_dollar_quotes)
{
	cr_assert_str_eq(split_str("a;b"), "[a][b]");
	cr_assert_str_eq(split_str(" a ; ; -- x;\n ;b;"), "[a][b]", "empty statements and comments only are left out");
	cr_assert_str_eq(split_str("select 'x;''y'; select E'\\';'"), "[select 'x;''y'][select E'\\';']");
	cr_assert_str_eq(split_str("select \"a;b\"; x"), "[select \"a;b\"][x]");
	cr_assert_str_eq(split_str("do $f$ a; $$ b; $f$; select $1;"), "[do $f$ a; $$ b; $f$][select $1]");
	cr_assert_str_eq(split_str("/* a /* ; */ ; */ x; y"), "[/* a /* ; */ ; */ x][y]");
	cr_assert_str_eq(split_str("select 'unterminated; x"), "[select 'unterminated; x]");
}

Test(pgsql, method_is_the_first_keyword)
{
	char m[32];

	cr_assert_eq(pgsql_method("  -- c\n/* d */ select\n1", 23, m, sizeof(m)), 6);
	cr_assert_str_eq(m, "SELECT");
	cr_assert_eq(pgsql_method("(select 1)", 10, m, sizeof(m)), 0);
}

/* ---- more startup and bounds ---- */

Test(pgsql, gssenc_and_ssl_answered_n_then_startup)
{
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s;

	be32(&c, 8), be32(&c, 80877104);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, "N", 1);
	c.n = 0;
	be32(&c, 8), be32(&c, 80877103);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, "N", 1);
	c.n = 0;
	startup(&c, "bob", "db", "x");
	msg_str(&c, 'Q', "select 1");
	tp_tcp(tp, 0, 0, c.b, c.n);
	server_hello(&s);
	msg_str(&s, 'C', "SELECT 1");
	ready(&s);
	tp_tcp(tp, 1, 0, s.b, s.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "user.name"), "bob");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, GAPS), 0);
	tp_free(tp);
}

Test(pgsql, bind_claiming_more_params_than_sent_is_a_parse_error)
{
	struct tp *tp = pg_tp(NULL);
	struct wire c = { .n = 0 }, p = { .n = 0 };

	startup(&c, "u", "d", "a");
	parse_msg(&c, "", "select $1", NULL, 0);
	cstr(&p, ""), cstr(&p, ""), be16(&p, 0), be16(&p, 65535), be32(&p, 0x7fffffff), put(&p, "ab", 2);
	msg(&c, 'B', p.b, p.n);
	exec_msg(&c, "");
	msg(&c, 'S', NULL, 0);
	tp_exchange(tp, c.b, c.n, "", 0, 0, 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(tp_count(tp), 1, "the Execute still counts (unanswered)");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "select $1");
	tp_free(tp);
}

Test(pgsql, owed_replies_are_bounded)
{
	struct tp *tp = pg_tp("    queue_max_messages: 100000\n");
	static struct wire c;

	c.n = 0;
	startup(&c, "u", "d", "a");
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	for (int i = 0; i < 5000; i++) {
		c.n = 0;
		msg(&c, 'D', "S\0", 2); /* a Describe owes a reply; nothing answers */
		tp_tcp(tp, 0, 0, c.b, c.n);
	}
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 5000 + 1 - PGSQL_OWED_MAX, "%lu", (unsigned long)PSTAT(tp, TOO_LARGE));
	tp_free(tp);
}

Test(pgsql, rows_without_command_complete_are_unparsed_at_close)
{
	static const char *const names[] = { "a", NULL }, *const vals[] = { "1" };
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s;

	msg_str(&c, 'Q', "SELECT a FROM t");
	row_desc(&s, names);
	data_row(&s, vals, 1); /* no CommandComplete, no ReadyForQuery */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, s.b, s.n);
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, c.n, 0, 0, s.n);
	tp_free(tp);
}

Test(pgsql, parse_error_after_rows_in_the_same_segment_drops_the_response)
{
	static const char *const names[] = { "a", NULL }, *const vals[] = { "1" };
	struct tp *tp = pg_tp(NULL);
	static struct wire c, s1, s2;

	msg_str(&c, 'Q', "SELECT a FROM t");
	row_desc(&s1, names);
	data_row(&s2, vals, 1);
	put(&s2, "\x01garbage", 8); /* not a message type: the segment fails after its DataRow */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c.b, c.n);
	tp_tcp(tp, 1, 0, s1.b, s1.n);
	tp_tcp(tp, 1, 0, s2.b, s2.n);
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, c.n, s1.n + s2.n, 0, 0);
	tp_free(tp);
}
