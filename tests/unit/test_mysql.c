/*
 * MySQL tests through the real pipeline: events as Packetbeat writes them
 * (method, query, path, mysql.*, CSV response), prepared statements with
 * their parameters, CLIENT_DEPRECATE_EOF, multi-results, the handshake
 * (user, database, TLS and compression announced), the same events at every
 * split point, gaps resynchronised, payloads over several 16 MiB packets,
 * and hostile input counted without a crash or a big allocation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"

#define PORT 3306
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_MYSQL][PSTAT_##id])

static struct tp *my_tp(void)
{
	return tp_proto("mysql", PORT, "    send_request: true\n    send_response: true\n");
}

/* A packet: 3-byte length, sequence id, payload; returns its size. */
static size_t pk(uint8_t *out, uint8_t seq, const void *p, size_t n)
{
	out[0] = (uint8_t)n;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)(n >> 16);
	out[3] = seq;
	memcpy(out + 4, p, n);
	return n + 4;
}

#define PK(buf, off, seq, lit) ((off) += pk((buf) + (off), (seq), (lit), sizeof(lit) - 1))

/* A column definition of db.t named name (type LONG). */
static size_t coldef(uint8_t *out, uint8_t seq, const char *name)
{
	uint8_t p[128];
	size_t n = 0, k = strlen(name);

	memcpy(p,
	       "\x03"
	       "def"
	       "\x02"
	       "db"
	       "\x01"
	       "t"
	       "\x01"
	       "t",
	       11);
	n = 11;
	p[n++] = (uint8_t)k;
	memcpy(p + n, name, k);
	n += k;
	p[n++] = (uint8_t)k;
	memcpy(p + n, name, k);
	n += k;
	memcpy(p + n, "\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00", 13);
	n += 13;
	return pk(out, seq, p, n);
}

/* The fields that must not depend on segmentation or timing. */
static char *stable(struct tp *tp)
{
	static const char *const keys[] = { "mysql",  "status",	     "method",	"query",    "path", "params",
					    "source", "destination", "request", "response", "user", NULL };

	return tp_fields_all(tp, keys);
}

/*
 * A session: QUERY (text result set), PREPARE; then, once the PREPARE is
 * answered (c_mid, s_mid), EXECUTE (binary result), CLOSE, PING.
 */
static size_t c_mid, s_mid;

static size_t session_c2s(uint8_t *b)
{
	size_t n = 0;

	PK(b, n, 0, "\x03SELECT a, b FROM t");
	PK(b, n, 0, "\x16SELECT ?, ? FROM t");
	c_mid = n;
	PK(b, n, 0,
	   "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\xfe\x00"
	   "\x07\x00\x00\x00\x00\x00\x00\x00\x03"
	   "abc");
	PK(b, n, 0, "\x1a\x01\x00\x00\x00");
	PK(b, n, 0, "\x0e");
	return n;
}

static size_t session_s2c(uint8_t *b)
{
	size_t n = 0;

	PK(b, n, 1, "\x02");
	n += coldef(b + n, 2, "a");
	n += coldef(b + n, 3, "b");
	PK(b, n, 4, "\xfe\x00\x00\x22\x00");
	PK(b, n, 5,
	   "\x01"
	   "1"
	   "\x03"
	   "x,y");
	PK(b, n, 6, "\xfb\x00");
	PK(b, n, 7, "\xfe\x00\x00\x02\x00");
	PK(b, n, 1, "\x00\x01\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00");
	n += coldef(b + n, 2, "?");
	n += coldef(b + n, 3, "?");
	PK(b, n, 4, "\xfe\x00\x00\x02\x00");
	n += coldef(b + n, 5, "a");
	PK(b, n, 6, "\xfe\x00\x00\x02\x00");
	s_mid = n;
	PK(b, n, 1, "\x01\x00"); /* MariaDB: metadata not resent */
	PK(b, n, 2, "\xfe\x00\x00\x02\x00");
	PK(b, n, 3, "\x00\x00\x2a\x00\x00\x00");
	PK(b, n, 4, "\xfe\x00\x00\x02\x00\x00\x00");
	PK(b, n, 1, "\x00\x00\x00\x02\x00\x00\x00");
	PK(b, n, 1, "\x00\x00\x00\x02\x00\x00\x00");
	return n;
}

/* The session in its two halves, c2s cut at cq, s2c cut at cr (0: whole). */
static void session(struct tp *tp, const uint8_t *c, size_t nc, const uint8_t *s, size_t ns, size_t cq, size_t cr)
{
	tp_handshake(tp);
	tp_tcp_split(tp, 0, c, c_mid, cq < c_mid ? cq : 0);
	tp_tcp_split(tp, 1, s, s_mid, cr < s_mid ? cr : 0);
	tp_tcp_split(tp, 0, c + c_mid, nc - c_mid, cq > c_mid ? cq - c_mid : 0);
	tp_tcp_split(tp, 1, s + s_mid, ns - s_mid, cr > s_mid ? cr - s_mid : 0);
	tp_flush(tp);
}

Test(mysql, session_events_as_packetbeat)
{
	uint8_t c[512], s[1024];
	size_t nc = session_c2s(c), ns = session_s2c(s);
	struct tp *tp = my_tp();

	session(tp, c, nc, s, ns, 0, 0);
	cr_assert_eq(tp_count(tp), 5);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SELECT");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "SELECT a, b FROM t");
	cr_assert_str_eq(tp_str(tp, 0, "path"), "db.t");
	cr_assert_eq(tp_int(tp, 0, "mysql.num_rows"), 2);
	cr_assert_eq(tp_int(tp, 0, "mysql.num_fields"), 2);
	cr_assert_str_eq(tp_str(tp, 0, "response"), "a,b\n1,\"x,y\"\nNULL,\n", "CSV quoted, NULL");
	cr_assert_str_eq(tp_str(tp, 1, "event.action"), "mysql.stmt_prepare");
	cr_assert_str_eq(tp_str(tp, 2, "query"), "SELECT ?, ? FROM t", "the prepared text");
	cr_assert_str_eq(tp_str(tp, 2, "params.0"), "7");
	cr_assert_str_eq(tp_str(tp, 2, "params.1"), "abc");
	cr_assert_str_eq(tp_str(tp, 2, "response"), "a\n42\n", "binary row, columns from the PREPARE");
	cr_assert_str_eq(tp_str(tp, 3, "method"), "STMT_RESET");
	cr_assert_str_eq(tp_str(tp, 3, "query"), "SELECT ?, ? FROM t");
	cr_assert_str_eq(tp_str(tp, 4, "method"), "PING");
	tp_free(tp);
}

static char *exchange(const uint8_t *c, size_t nc, const uint8_t *s, size_t ns, size_t cq, size_t cr)
{
	struct tp *tp = my_tp();
	char *out;

	session(tp, c, nc, s, ns, cq, cr);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "split %zu/%zu", cq, cr);
	cr_assert_eq(tp_count(tp), 5, "split %zu/%zu", cq, cr);
	out = stable(tp);
	tp_free(tp);
	return out;
}

Test(mysql, split_at_every_byte)
{
	uint8_t c[512], s[1024];
	size_t nc = session_c2s(c), ns = session_s2c(s);
	char *ref = exchange(c, nc, s, ns, 0, 0);

	for (size_t i = 1; i < nc; i++) {
		char *x = exchange(c, nc, s, ns, i, 0);

		cr_assert_str_eq(x, ref, "request split at %zu", i);
		free(x);
	}
	for (size_t i = 1; i < ns; i++) {
		char *x = exchange(c, nc, s, ns, 0, i);

		cr_assert_str_eq(x, ref, "response split at %zu", i);
		free(x);
	}
	free(ref);
}

Test(mysql, one_byte_segments)
{
	uint8_t c[512], s[1024];
	size_t nc = session_c2s(c), ns = session_s2c(s);
	struct tp *a = my_tp(), *b = my_tp();
	char *x, *y;

	session(a, c, nc, s, ns, 0, 0);
	tp_handshake(b);
	for (size_t i = 0; i < c_mid; i++)
		tp_tcp(b, 0, 0, c + i, 1);
	for (size_t i = 0; i < s_mid; i++)
		tp_tcp(b, 1, 0, s + i, 1);
	for (size_t i = c_mid; i < nc; i++)
		tp_tcp(b, 0, 0, c + i, 1);
	for (size_t i = s_mid; i < ns; i++)
		tp_tcp(b, 1, 0, s + i, 1);
	tp_flush(b);
	x = stable(a);
	y = stable(b);
	cr_assert_str_eq(x, y);
	free(x);
	free(y);
	tp_free(a);
	tp_free(b);
}

Test(mysql, handshake_user_database_and_deprecate_eof)
{
	struct tp *tp = my_tp();
	uint8_t c[512], s[512];
	size_t nc = 0, ns = 0;

	/* greeting: protocol 10, version, id, scramble, filler, caps (PROTOCOL_41, DEPRECATE_EOF, ...) */
	PK(s, ns, 0,
	   "\x0a"
	   "10.11.6-MariaDB\0"
	   "\x01\x00\x00\x00"
	   "abcdefgh"
	   "\x00"
	   "\xfe\xff"
	   "\x21"
	   "\x02\x00"
	   "\xff\x81"
	   "\x15"
	   "\0\0\0\0\0\0\0\0\0\0"
	   "ijklmnopqrst\0");
	tp_handshake(tp);
	tp_tcp(tp, 1, 0, s, ns);
	/* handshake response: caps with CONNECT_WITH_DB, SECURE_CONNECTION, DEPRECATE_EOF */
	PK(c, nc, 1,
	   "\x08\xa2\x00\x01"
	   "\x00\x00\x00\x01"
	   "\x21"
	   "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	   "ada\0"
	   "\x02"
	   "pw"
	   "shop\0");
	tp_tcp(tp, 0, 0, c, nc);
	ns = 0;
	PK(s, ns, 2, "\x00\x00\x00\x02\x00\x00\x00");
	tp_tcp(tp, 1, 0, s, ns);
	nc = 0;
	PK(c, nc, 0, "\x03select a from t");
	tp_tcp(tp, 0, 0, c, nc);
	ns = 0;
	PK(s, ns, 1, "\x01");
	ns += coldef(s + ns, 2, "a");
	PK(s, ns, 3,
	   "\x01"
	   "5");
	PK(s, ns, 4, "\xfe\x00\x00\x02\x00\x00\x00"); /* OK closing the rows, no EOF before them */
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "user.name"), "ada");
	cr_assert_str_eq(json_string_value(json_array_get(tp_get(tp, 0, "related.user"), 0)), "ada");
	cr_assert_str_eq(tp_str(tp, 0, "mysql.database"), "shop");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SELECT", "upper-cased verb");
	cr_assert_eq(tp_int(tp, 0, "mysql.num_rows"), 1);
	cr_assert_str_eq(tp_str(tp, 0, "response"), "a\n5\n");
	tp_free(tp);
}

Test(mysql, ssl_request_makes_the_session_opaque)
{
	struct tp *tp = my_tp();
	uint8_t c[256], s[256];
	size_t nc = 0, ns = 0;

	PK(s, ns, 0,
	   "\x0a"
	   "8.0\0"
	   "\x01\x00\x00\x00"
	   "abcdefgh"
	   "\x00"
	   "\xff\xff"
	   "\x21"
	   "\x02\x00"
	   "\xff\x81");
	PK(c, nc, 1,
	   "\x00\x0a\x00\x00"
	   "\x00\x00\x00\x01"
	   "\x21"
	   "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	tp_handshake(tp);
	tp_tcp(tp, 1, 0, s, ns);
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp_str(tp, 0, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 random TLS bytes \x03 SELECT");
	tp_tcp_str(tp, 1, "\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03 more TLS \xff\x01");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1, "one event for the session, nothing parsed in it");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SSL");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "TLS session: not decoded");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(mysql, multi_results_and_errors)
{
	struct tp *tp = my_tp();
	uint8_t c[256], s[512];
	size_t nc = 0, ns = 0;

	PK(c, nc, 0, "\x03SELECT 1; UPDATE t SET a = 1");
	PK(c, nc, 0, "\x03  insert into t values (1)\n");
	PK(c, nc, 0, "\x03SELECT * FROM nope");
	PK(s, ns, 1, "\x01");
	ns += coldef(s + ns, 2, "a");
	PK(s, ns, 3, "\xfe\x00\x00\x0a\x00"); /* EOF, more results */
	PK(s, ns, 4,
	   "\x01"
	   "1");
	PK(s, ns, 5, "\xfe\x00\x00\x0a\x00");
	PK(s, ns, 6, "\x00\x03\x00\x02\x00\x00\x00"); /* OK: 3 rows changed, last */
	PK(s, ns, 1, "\x00\x01\x07\x02\x00\x00\x00");
	PK(s, ns, 1, "\xff\x7a\x04#42S02Table 'db.nope' doesn't exist");
	tp_exchange(tp, c, nc, s, ns, 0, 0);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_eq(tp_int(tp, 0, "mysql.num_rows"), 1);
	cr_assert_eq(tp_int(tp, 0, "mysql.affected_rows"), 3, "the UPDATE's OK is part of the same answer");
	cr_assert_str_eq(tp_str(tp, 1, "query"), "insert into t values (1)", "trimmed");
	cr_assert_str_eq(tp_str(tp, 1, "method"), "INSERT");
	cr_assert_eq(tp_int(tp, 1, "mysql.insert_id"), 7);
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Error");
	cr_assert_eq(tp_int(tp, 2, "mysql.error_code"), 1146);
	cr_assert_str_eq(tp_str(tp, 2, "mysql.error_message"), "42S02: Table 'db.nope' doesn't exist");
	tp_free(tp);
}

Test(mysql, execute_of_a_statement_never_prepared_gets_a_note)
{
	struct tp *tp = my_tp();
	uint8_t c[64], s[64];
	size_t nc = 0, ns = 0;

	PK(c, nc, 0, "\x17\x63\x00\x00\x00\x00\x01\x00\x00\x00");
	PK(s, ns, 1, "\x00\x00\x00\x02\x00\x00\x00");
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp(tp, 1, 0, s, ns);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "Request Execute Statement");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "The actual query being used is unknown");
	tp_free(tp);
}

Test(mysql, parameters_of_the_wrong_length_are_counted)
{
	struct tp *tp = my_tp();
	uint8_t c[128], s[256];
	size_t nc = 0, ns = 0;

	PK(c, nc, 0, "\x16SELECT ?");
	PK(s, ns, 1, "\x00\x05\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00");
	ns += coldef(s + ns, 2, "?");
	PK(s, ns, 3, "\xfe\x00\x00\x02\x00");
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp(tp, 1, 0, s, ns);
	nc = ns = 0;
	PK(c, nc, 0, "\x17\x05\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x07\x00"); /* LONGLONG cut short */
	PK(s, ns, 1, "\xff\x10\x04#HY000bad");
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1, "%s", tp_dump(tp));
	cr_assert_str_eq(tp_str(tp, 1, "error.message"), "The parameters could not be decoded");
	cr_assert_null(tp_get(tp, 1, "params"));
	tp_free(tp);
}

Test(mysql, query_over_two_16mib_packets)
{
	struct tp *tp = my_tp();
	size_t big = 0xffffff;
	uint8_t *c = malloc(4 + big + 4 + 10), s[64];
	size_t ns = 0;

	c[0] = c[1] = c[2] = 0xff;
	c[3] = 0;
	c[4] = 0x03;
	memcpy(c + 5, "SELECT '", 8);
	memset(c + 13, 'x', big - 9);
	memcpy(c + 4 + big, "\x0a\x00\x00\x01xxxxxxxx';", 14);
	PK(s, ns, 1, "\x00\x00\x00\x02\x00\x00\x00");
	tp_handshake(tp);
	for (size_t off = 0; off < 4 + big + 14; off += 60000) {
		size_t n = 4 + big + 14 - off < 60000 ? 4 + big + 14 - off : 60000;

		tp_tcp(tp, 0, 0, c + off, n);
	}
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 4 + big + 14, "both packets counted");
	cr_assert_eq(strlen(tp_str(tp, 0, "query")), 64 * 1024 - 1, "the text kept: the first packet's prefix");
	cr_assert_geq(PSTAT(tp, TOO_LARGE), 1);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	free(c);
	tp_free(tp);
}

Test(mysql, gap_resyncs_at_the_next_command)
{
	struct tp *tp = my_tp();
	uint8_t c[128], s[128];
	size_t nc = 0, ns = 0;

	tp_handshake(tp);
	PK(c, nc, 0, "\x03SELECT 1 + 1");
	tp_tcp_cut(tp, 0, c, 6, (uint32_t)nc); /* the end of the first query is lost */
	tp_tcp_str(tp, 0, "garbage that is no packet");
	nc = 0;
	PK(c, nc, 0, "\x03SELECT 2");
	tp_tcp(tp, 0, 0, c, nc);
	PK(s, ns, 1, "\x00\x00\x00\x02\x00\x00\x00");
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "SELECT 2");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	tp_free(tp);
}

Test(mysql, hostile_lengths_and_counts_are_counted)
{
	struct tp *tp = my_tp();
	uint8_t c[64], s[512];
	size_t nc = 0, ns = 0;

	PK(c, nc, 0, "\x03SELECT *");
	PK(c, nc, 0, "\x03SELECT *");
	PK(c, nc, 0, "\x03SELECT *");
	PK(s, ns, 1, "\xfd\xff\xff\xff"); /* 16M columns: not a result set */
	PK(s, ns, 1, "\xfc\xff\xff"); /* 65535 columns, then definitions that are garbage */
	PK(s, ns, 2, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff"); /* length-encoded string past the end */
	for (int i = 0; i < 20; i++)
		PK(s, ns, 3, "\x05\x01\x02");
	/* a packet announcing 16 MiB that never comes */
	memcpy(s + ns, "\xfe\xff\xff\x02\x00", 5);
	ns += 5;
	tp_exchange(tp, c, nc, s, ns, 0, 0);
	cr_assert_eq(tp_count(tp), 3, "every request published once");
	cr_assert_geq(PSTAT(tp, PARSE_ERRORS), 2);
	tp_free(tp);
}

Test(mysql, statements_are_bounded_and_freed_on_close)
{
	struct tp *tp = my_tp();
	uint8_t *c = malloc(2100 * 32), *s = malloc(2100 * 32);
	size_t nc = 0, ns = 0;

	tp_handshake(tp);
	for (uint32_t i = 1; i <= 2000; i++) {
		uint8_t ok[12] = { 0x00, (uint8_t)i, (uint8_t)(i >> 8), 0, 0, 0, 0, 0, 0, 0, 0, 0 };

		nc = ns = 0;
		PK(c, nc, 0, "\x16SELECT 1");
		ns += pk(s + ns, 1, ok, sizeof(ok));
		tp_tcp(tp, 0, 0, c, nc);
		tp_tcp(tp, 1, 0, s, ns);
	}
	nc = ns = 0;
	PK(c, nc, 0, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00"); /* evicted: the oldest */
	PK(c, nc, 0, "\x17\xd0\x07\x00\x00\x00\x01\x00\x00\x00"); /* 2000: kept */
	PK(s, ns, 1, "\x00\x00\x00\x02\x00\x00\x00");
	PK(s, ns, 1, "\x00\x00\x00\x02\x00\x00\x00");
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 2002);
	cr_assert_str_eq(tp_str(tp, 2000, "query"), "Request Execute Statement", "%s",
			 tp_str(tp, 2001, "event.action"));
	cr_assert_str_eq(tp_str(tp, 2001, "query"), "SELECT 1");
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 2000 - 1024, "evictions counted");
	free(c);
	free(s);
	tp_free(tp);
}

Test(mysql, result_set_cut_at_close_is_unparsed)
{
	struct tp *tp = my_tp();
	uint8_t c[64], s[128];
	size_t nc = 0, ns = 0;

	PK(c, nc, 0, "\x03SELECT a FROM t");
	PK(s, ns, 1, "\x01");
	ns += coldef(s + ns, 2, "a"); /* no EOF, no rows: the response never finishes */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, c, nc);
	tp_tcp(tp, 1, 0, s, ns);
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, nc, 0, 0, ns);
	tp_free(tp);
}
