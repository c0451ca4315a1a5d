/*
 * Memcache tests through the real pipeline: text and binary protocol
 * events, the same events whatever the TCP segmentation, binary quiet
 * pipelines, noreply, values (maxvalues/maxbytespervalue) consumed
 * incrementally, UDP frames reassembled in any order, and hostile input
 * (bogus lengths, garbage, endless lines) counted as errors.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"

#define PORT 11211
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_MEMCACHE][PSTAT_##id])

static struct tp *mc_tp(const char *extra)
{
	return tp_proto("memcache", PORT, extra);
}

/* The fields that must not depend on segmentation or timing. */
static char *stable(struct tp *tp)
{
	static const char *const keys[] = { "memcache", "status", "method", "source", "destination", NULL };

	return tp_fields_all(tp, keys);
}

/* ---- text protocol ---- */

Test(memcache, text_set_get_delete)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set test_key 5 0 3\r\nabc\r\n");
	tp_tcp_str(tp, 1, "STORED\r\n");
	tp_tcp_str(tp, 0, "get test_key\r\n");
	tp_tcp_str(tp, 1, "VALUE test_key 5 3\r\nabc\r\nEND\r\n");
	tp_tcp_str(tp, 0, "delete nokey\r\n");
	tp_tcp_str(tp, 1, "NOT_FOUND\r\n");
	tp_tcp_str(tp, 0, "get nokey\r\n");
	tp_tcp_str(tp, 1, "END\r\n");
	cr_assert_eq(tp_count(tp), 4);

	cr_assert_str_eq(tp_str(tp, 0, "type"), "memcache");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SET");
	cr_assert_str_eq(tp_str(tp, 0, "event.action"), "memcache.store");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.protocol_type"), "text");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "set");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.type"), "Store");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.keys.0"), "test_key");
	cr_assert_eq(tp_int(tp, 0, "memcache.request.flags"), 5);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.exptime"), 0);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.bytes"), 3);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.count_values"), 1);
	cr_assert(json_is_false(tp_get(tp, 0, "memcache.request.noreply")));
	cr_assert_null(tp_get(tp, 0, "memcache.request.values"), "maxvalues 0 keeps no values");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.command"), "STORED");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.type"), "Success");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 25);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 8);

	cr_assert_str_eq(tp_str(tp, 1, "method"), "GET");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.type"), "Load");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.command"), "VALUE");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.type"), "Load");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.keys.0"), "test_key");
	cr_assert_eq(tp_int(tp, 1, "memcache.response.count_values"), 1);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.bytes"), 3);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.flags"), 5);
	cr_assert_eq(tp_int(tp, 1, "destination.bytes"), 20 + 5 + 5);

	cr_assert_str_eq(tp_str(tp, 2, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.type"), "Delete");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.response.type"), "Fail");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.command"), "END");
	cr_assert_eq(PSTAT(tp, TXN), 4);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(memcache, text_multi_get_and_values)
{
	struct tp *tp = mc_tp("    maxvalues: 2\n    maxbytespervalue: 4\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "gets x k1 k2 k3 y\r\n");
	tp_tcp_str(tp, 1, "VALUE k1 0 10 7\r\n0123456789\r\nVALUE k2 1 2 8\r\nab\r\nVALUE k3 2 0 9\r\n\r\nEND\r\n");
	tp_tcp_str(tp, 0, "get e\r\n");
	tp_tcp_str(tp, 1, "VALUE e 0 0\r\n\r\nEND\r\n");
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "memcache.request.keys")), 5);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "gets");
	cr_assert_eq(json_array_size(tp_get(tp, 0, "memcache.response.keys")), 3);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.keys.2"), "k3");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.count_values"), 3);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.bytes"), 12);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "memcache.response.values")), 2);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.values.0"), "MDEyMw=="); /* "0123" */
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.values.1"), "YWI="); /* "ab" */
	cr_assert_eq(tp_int(tp, 0, "memcache.response.cas_unique"), 9);
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.values.0"), "", "an empty value is kept as such");
	tp_free(tp);
}

Test(memcache, text_noreply_published_at_once)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set a 0 0 1 noreply\r\nx\r\ndelete b noreply\r\nincr c 5 noreply\r\n");
	cr_assert_eq(tp_count(tp), 3, "noreply requests do not wait");
	tp_tcp_str(tp, 0, "get a\r\n");
	tp_tcp_str(tp, 1, "VALUE a 0 1\r\nx\r\nEND\r\n");
	cr_assert_eq(tp_count(tp), 4);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(tp_str(tp, i, "status"), "OK");
		cr_assert(json_is_true(tp_get(tp, i, "memcache.request.noreply")));
		cr_assert_null(tp_get(tp, i, "memcache.response"));
	}
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.type"), "Counter");
	cr_assert_eq(tp_int(tp, 2, "memcache.request.delta"), 5);
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.keys.0"), "a");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

Test(memcache, text_errors_counters_stats_version)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "incr cnt 2\r\ndecr cnt 5\r\nset k 0 0 1\r\nx\r\n");
	tp_tcp_str(tp, 1, "2\r\n0\r\nCLIENT_ERROR bad data chunk\r\n");
	tp_tcp_str(tp, 0, "stats\r\nversion\r\nverbosity 1\r\nflush_all 10\r\ntouch k 100\r\n");
	tp_tcp_str(tp, 1, "STAT pid 42\r\nSTAT version 1.6.18\r\nEND\r\nVERSION 1.6.18\r\nOK\r\nOK\r\nTOUCHED\r\n");
	tp_tcp_str(tp, 0, "cas k 0 0 1 77\r\nz\r\n");
	tp_tcp_str(tp, 1, "SERVER_ERROR out of memory\r\n");
	cr_assert_eq(tp_count(tp), 9);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.delta"), 2);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.value"), 2);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.type"), "Counter");
	cr_assert_eq(tp_int(tp, 1, "memcache.response.value"), 0);
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Client Error");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.response.error_msg"), "bad data chunk");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.request.command"), "stats");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.request.raw_args"), "");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.command"), "STAT");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.stats.1.name"), "version");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.stats.1.value"), "1.6.18");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.response.version"), "1.6.18");
	cr_assert_eq(tp_int(tp, 5, "memcache.request.verbosity"), 1);
	cr_assert_eq(tp_int(tp, 6, "memcache.request.exptime"), 10);
	cr_assert_str_eq(tp_str(tp, 6, "memcache.request.type"), "Delete");
	cr_assert_str_eq(tp_str(tp, 7, "memcache.response.command"), "TOUCHED");
	cr_assert_eq(tp_int(tp, 8, "memcache.request.cas_unique"), 77);
	cr_assert_str_eq(tp_str(tp, 8, "status"), "Server Error");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(memcache, text_unknown_command)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "frobnicate a b\r\n");
	tp_tcp_str(tp, 1, "ERROR\r\n");
	cr_assert_eq(tp_count(tp), 1, "the reply to a request dropped as an error answers nothing");
	cr_assert_null(tp_get(tp, 0, "memcache.request"));
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Client Error");
	cr_assert_geq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);

	tp = mc_tp("    parseunknown: true\n");
	tp_handshake(tp);
	tp_tcp_str(tp, 0, "frobnicate a b\r\n");
	tp_tcp_str(tp, 1, "ERROR\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "UNKNOWN");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.type"), "UNKNOWN");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.line"), "frobnicate a b");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(memcache, text_quit_gat_slabs_lru)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "gat 60 a b\r\nslabs reassign 1 -1\r\nlru_crawler sleep 100\r\n");
	tp_tcp_str(tp, 1, "END\r\nOK\r\nOK\r\n");
	tp_tcp_str(tp, 0, "quit\r\n");
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.exptime"), 60);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.keys.1"), "b");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.command"), "slabs reassign");
	cr_assert_eq(tp_int(tp, 1, "memcache.request.dest_class"), -1);
	cr_assert_eq(tp_int(tp, 2, "memcache.request.sleep_us"), 100);
	cr_assert_str_eq(tp_str(tp, 3, "method"), "QUIT");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "OK");
	tp_free(tp);
}

/* ---- binary protocol ---- */

struct bin {
	uint8_t b[4096];
	size_t n;
};

static void put(struct bin *m, const void *p, size_t n)
{
	cr_assert(m->n + n <= sizeof(m->b));
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put_be(struct bin *m, uint64_t v, int bytes)
{
	uint8_t t[8];

	for (int i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	put(m, t, (size_t)bytes);
}

/* Append one binary message. */
static void binmsg(struct bin *m, uint8_t magic, uint8_t op, uint16_t status, uint32_t opaque, uint64_t cas,
		   const void *extras, size_t elen, const char *key, const void *value, size_t vlen)
{
	size_t klen = key ? strlen(key) : 0;

	put_be(m, magic, 1);
	put_be(m, op, 1);
	put_be(m, klen, 2);
	put_be(m, elen, 1);
	put_be(m, 0, 1);
	put_be(m, status, 2);
	put_be(m, elen + klen + vlen, 4);
	put_be(m, opaque, 4);
	put_be(m, cas, 8);
	put(m, extras, elen);
	put(m, key, klen);
	put(m, value, vlen);
}

static void breq(struct bin *m, uint8_t op, uint32_t opaque, const void *ex, size_t elen, const char *key,
		 const char *value)
{
	binmsg(m, 0x80, op, 0, opaque, 0, ex, elen, key, value, value ? strlen(value) : 0);
}

static void bresp(struct bin *m, uint8_t op, uint16_t status, uint32_t opaque, uint64_t cas, const void *ex,
		  size_t elen, const char *key, const void *value, size_t vlen)
{
	binmsg(m, 0x81, op, status, opaque, cas, ex, elen, key, value, vlen);
}

static const uint8_t set_extras[8] = { 0, 0, 0, 7, 0, 0, 0, 0 }; /* flags 7, exptime 0 */
static const uint8_t get_extras[4] = { 0, 0, 0, 7 };

/* A binary session: set, getk hit, quiet pipeline, incr, stats, version, miss. */
static void bin_session(struct bin *q, struct bin *r)
{
	static const uint8_t incr_ex[20] = { 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t cnt[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };

	q->n = r->n = 0;
	breq(q, 0x01, 1, set_extras, 8, "test_key", "hello");
	bresp(r, 0x01, 0, 1, 1234, NULL, 0, NULL, NULL, 0);
	breq(q, 0x0c, 2, NULL, 0, "test_key", NULL);
	bresp(r, 0x0c, 0, 2, 1234, get_extras, 4, "test_key", "hello", 5);
	/* GETKQ x, k1, y + NOOP: only k1 answers, then the NOOP */
	breq(q, 0x0d, 3, NULL, 0, "x", NULL);
	breq(q, 0x0d, 4, NULL, 0, "test_key", NULL);
	breq(q, 0x0d, 5, NULL, 0, "y", NULL);
	breq(q, 0x0a, 6, NULL, 0, NULL, NULL);
	bresp(r, 0x0d, 0, 4, 1234, get_extras, 4, "test_key", "hello", 5);
	bresp(r, 0x0a, 0, 6, 0, NULL, 0, NULL, NULL, 0);
	breq(q, 0x05, 7, incr_ex, 20, "cnt", NULL);
	bresp(r, 0x05, 0, 7, 99, NULL, 0, NULL, cnt, 8);
	breq(q, 0x10, 8, NULL, 0, NULL, NULL);
	bresp(r, 0x10, 0, 8, 0, NULL, 0, "pid", "42", 2);
	bresp(r, 0x10, 0, 8, 0, NULL, 0, "uptime", "7", 1);
	bresp(r, 0x10, 0, 8, 0, NULL, 0, NULL, NULL, 0);
	breq(q, 0x0b, 9, NULL, 0, NULL, NULL);
	bresp(r, 0x0b, 0, 9, 0, NULL, 0, NULL, "1.6.18", 6);
	breq(q, 0x00, 10, NULL, 0, "gone", NULL);
	bresp(r, 0x00, 1, 10, 0, NULL, 0, NULL, "Not found", 9);
}

Test(memcache, binary_session_and_quiet_pipeline)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q, r;

	bin_session(&q, &r);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	tp_tcp(tp, 1, 0, r.b, r.n);
	cr_assert_eq(tp_count(tp), 10, "got %zu", tp_count(tp));

	cr_assert_str_eq(tp_str(tp, 0, "memcache.protocol_type"), "binary");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.opcode"), "Set");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "set");
	cr_assert_eq(tp_int(tp, 0, "memcache.request.flags"), 7);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.bytes"), 5);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.count_values"), 1);
	cr_assert(json_is_false(tp_get(tp, 0, "memcache.request.quiet")));
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.status"), "Success");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.cas_unique"), 1234);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.opaque"), 1);
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 24 + 8 + 8 + 5);

	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.opcode"), "GetK");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.keys.0"), "test_key");
	cr_assert_eq(tp_int(tp, 1, "memcache.response.flags"), 7);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.bytes"), 5);

	/* quiet x: no response, published when k1's response shows it was skipped */
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.keys.0"), "x");
	cr_assert(json_is_true(tp_get(tp, 2, "memcache.request.quiet")));
	cr_assert_null(tp_get(tp, 2, "memcache.response"));
	cr_assert_str_eq(tp_str(tp, 2, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.request.keys.0"), "test_key");
	cr_assert_eq(tp_int(tp, 3, "memcache.response.opaque"), 4);
	cr_assert_str_eq(tp_str(tp, 4, "memcache.request.keys.0"), "y");
	cr_assert_null(tp_get(tp, 4, "memcache.response"));
	cr_assert_str_eq(tp_str(tp, 5, "memcache.request.command"), "noop");
	cr_assert_str_eq(tp_str(tp, 5, "memcache.response.opcode"), "No-op");

	cr_assert_eq(tp_int(tp, 6, "memcache.request.delta"), 2);
	cr_assert_eq(tp_int(tp, 6, "memcache.request.initial"), 0);
	cr_assert_eq(tp_int(tp, 6, "memcache.response.value"), 2);
	cr_assert_eq(json_array_size(tp_get(tp, 7, "memcache.response.stats")), 2);
	cr_assert_str_eq(tp_str(tp, 7, "memcache.response.stats.1.name"), "uptime");
	cr_assert_str_eq(tp_str(tp, 7, "memcache.response.stats.1.value"), "7");
	cr_assert_str_eq(tp_str(tp, 8, "memcache.response.version"), "1.6.18");
	cr_assert_str_eq(tp_str(tp, 9, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 9, "memcache.response.status"), "Key not found");
	cr_assert_eq(tp_int(tp, 9, "memcache.response.status_code"), 1);
	cr_assert_str_eq(tp_str(tp, 9, "memcache.response.error_msg"), "Not found");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

Test(memcache, binary_response_matching_nothing_is_published_as_packetbeat)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 }, r = { .n = 0 };

	breq(&q, 0x00, 1, NULL, 0, "a", NULL);
	bresp(&r, 0x00, 0, 99, 0, get_extras, 4, NULL, "v", 1);
	bresp(&r, 0x00, 0, 1, 0, get_extras, 4, NULL, "v", 1);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	tp_tcp(tp, 1, 0, r.b, r.n);
	cr_assert_eq(tp_count(tp), 2);
	/* Packetbeat: a response without request has status Client Error and this note */
	cr_assert_eq(tp_int(tp, 0, "memcache.response.opaque"), 99);
	cr_assert_null(tp_get(tp, 0, "memcache.request"));
	cr_assert_str_eq(tp_str(tp, 0, "memcache.protocol_type"), "binary");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Client Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Invalid transaction. Request missing");
	cr_assert_eq(tp_int(tp, 1, "memcache.response.opaque"), 1);
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_null(tp_get(tp, 1, "error"));
	cr_assert_eq(PSTAT(tp, UNMATCHED), 1);
	tp_free(tp);
}

Test(memcache, text_reply_without_request_is_client_error)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 1, "STORED\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.protocol_type"), "text");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.command"), "STORED");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Client Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Invalid transaction. Request missing");
	tp_free(tp);
}

Test(memcache, unanswered_request_is_server_error_unfinished)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "get k\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "get");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Server Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Unfinished transaction");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	tp_free(tp);
}

Test(memcache, binary_request_passed_over_gets_missing_response_note)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 }, r = { .n = 0 };

	breq(&q, 0x00, 1, NULL, 0, "a", NULL); /* GET, its response never comes */
	breq(&q, 0x0d, 2, NULL, 0, "b", NULL); /* GETKQ miss: quiet, no response, OK */
	breq(&q, 0x00, 3, NULL, 0, "c", NULL);
	bresp(&r, 0x00, 0, 3, 0, get_extras, 4, NULL, "v", 1);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	tp_tcp(tp, 1, 0, r.b, r.n);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.opaque"), 1);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Server Error");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Missing response for non-quiet request");
	cr_assert_eq(tp_int(tp, 1, "memcache.request.opaque"), 2);
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_null(tp_get(tp, 1, "error"), "a quiet request passed over is no error");
	cr_assert_eq(tp_int(tp, 2, "memcache.response.opaque"), 3);
	cr_assert_str_eq(tp_str(tp, 2, "status"), "OK");
	tp_free(tp);
}

/* ---- segmentation ---- */

static const char text_c2s[] = "set k 1 2 10\r\n0123456789\r\nget k j\r\nincr n 1\r\ndelete k noreply\r\n"
			       "stats slabs\r\n";
static const char text_s2c[] = "STORED\r\nVALUE k 1 10\r\n0123456789\r\nVALUE j 0 0\r\n\r\nEND\r\n"
			       "NOT_FOUND\r\nSTAT 1:chunk_size 96\r\nSTAT active_slabs 1\r\nEND\r\n";

/* c2s bytes in segments cut at cq (0 = whole), then s2c cut at cr. */
static char *exchange(const char *yaml, const void *c2s, size_t nc, const void *s2c, size_t ns, size_t cq, size_t cr,
		      size_t *nev)
{
	struct tp *tp = mc_tp(yaml);
	char *s;

	tp_exchange(tp, c2s, nc, s2c, ns, cq, cr);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	*nev = tp_count(tp);
	s = stable(tp);
	tp_free(tp);
	return s;
}

static void split_everywhere(const char *yaml, const void *c2s, size_t nc, const void *s2c, size_t ns, size_t want)
{
	size_t n;
	char *ref = exchange(yaml, c2s, nc, s2c, ns, 0, 0, &n);

	cr_assert_eq(n, want, "events %zu", n);
	for (size_t i = 1; i < nc; i++) {
		char *s = exchange(yaml, c2s, nc, s2c, ns, i, 0, &n);

		cr_assert_str_eq(s, ref, "request split at %zu", i);
		free(s);
	}
	for (size_t i = 1; i < ns; i++) {
		char *s = exchange(yaml, c2s, nc, s2c, ns, 0, i, &n);

		cr_assert_str_eq(s, ref, "response split at %zu", i);
		free(s);
	}
	free(ref);
}

Test(memcache, text_split_at_every_byte)
{
	split_everywhere("    maxvalues: -1\n", text_c2s, strlen(text_c2s), text_s2c, strlen(text_s2c), 5);
}

Test(memcache, binary_split_at_every_byte)
{
	struct bin q, r;

	bin_session(&q, &r);
	split_everywhere("    maxvalues: -1\n", q.b, q.n, r.b, r.n, 10);
}

Test(memcache, one_byte_segments)
{
	struct tp *whole = mc_tp(NULL), *bytes = mc_tp(NULL);
	struct bin q, r;
	char *a, *b;

	bin_session(&q, &r);
	tp_handshake(whole);
	tp_handshake(bytes);
	tp_tcp(whole, 0, 0, q.b, q.n);
	tp_tcp(whole, 1, 0, r.b, r.n);
	tp_tcp_str(whole, 0, text_c2s);
	tp_tcp_str(whole, 1, text_s2c);
	for (size_t i = 0; i < q.n; i++)
		tp_tcp(bytes, 0, 0, q.b + i, 1);
	for (size_t i = 0; i < r.n; i++)
		tp_tcp(bytes, 1, 0, r.b + i, 1);
	for (size_t i = 0; text_c2s[i]; i++)
		tp_tcp(bytes, 0, 0, text_c2s + i, 1);
	for (size_t i = 0; text_s2c[i]; i++)
		tp_tcp(bytes, 1, 0, text_s2c + i, 1);
	a = stable(whole);
	b = stable(bytes);
	cr_assert_eq(tp_count(whole), 15);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	tp_free(whole);
	tp_free(bytes);
}

/* ---- big values ---- */

Test(memcache, huge_value_consumed_incrementally)
{
	struct tp *tp = mc_tp("    maxvalues: 1\n    maxbytespervalue: 6\n");
	static uint8_t chunk[16384];
	uint64_t total = 3u << 20;

	memset(chunk, 'v', sizeof(chunk));
	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set big 0 0 3145728\r\n");
	for (uint64_t sent = 0; sent < total; sent += sizeof(chunk))
		tp_tcp(tp, 0, 0, chunk, sizeof(chunk));
	tp_tcp_str(tp, 0, "\r\n");
	tp_tcp_str(tp, 1, "STORED\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.bytes"), (json_int_t)total);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.values.0"), "dnZ2dnZ2"); /* 6 x 'v' */
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)(total + 21 + 2));
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 0);
	tp_free(tp);
}

Test(memcache, binary_huge_declared_body)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 };
	static uint8_t chunk[8192];

	/* a 4 GiB body is announced; what arrives is skipped without buffering */
	put_be(&q, 0x80, 1);
	put_be(&q, 0x01, 1);
	put_be(&q, 1, 2);
	put_be(&q, 8, 1);
	put_be(&q, 0, 1);
	put_be(&q, 0, 2);
	put_be(&q, 0xffffffffu, 4);
	put_be(&q, 0, 4);
	put_be(&q, 0, 8);
	put(&q, set_extras, 8);
	put(&q, "k", 1);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	for (int i = 0; i < 64; i++)
		tp_tcp(tp, 0, 0, chunk, sizeof(chunk));
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 0);
	tp_free(tp);
}

/* ---- hostile input ---- */

Test(memcache, bogus_binary_lengths)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 };

	/* key + extras longer than the body */
	put_be(&q, 0x80, 1);
	put_be(&q, 0x00, 1);
	put_be(&q, 300, 2);
	put_be(&q, 4, 1);
	put_be(&q, 0, 1);
	put_be(&q, 0, 2);
	put_be(&q, 10, 4);
	put_be(&q, 0, 4);
	put_be(&q, 0, 8);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	/* a response magic from the client */
	q.n = 0;
	bresp(&q, 0x00, 0, 1, 0, NULL, 0, NULL, NULL, 0);
	tp_tcp(tp, 0, 0, q.b, q.n);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	/* the stream recovers on the next good request */
	q.n = 0;
	breq(&q, 0x0a, 1, NULL, 0, NULL, NULL);
	tp_tcp(tp, 0, 0, q.b, q.n);
	q.n = 0;
	bresp(&q, 0x0a, 0, 1, 0, NULL, 0, NULL, NULL, 0);
	tp_tcp(tp, 1, 0, q.b, q.n);
	cr_assert_eq(tp_count(tp), 1);
	tp_free(tp);
}

Test(memcache, garbage_and_endless_lines)
{
	struct tp *tp = mc_tp(NULL);
	static char line[70000];

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set k 0 0 notanumber\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_tcp_str(tp, 0, "set k 0 0 99999999999999999999999\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	tp_tcp_str(tp, 0, "get\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 3);
	tp_tcp_str(tp, 0, "set k 0 0 4294967296\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 4, "memcached's lengths are 32-bit");
	tp_tcp_str(tp, 0, "set k 0 -1 1\r\nx\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 4, "a negative exptime is valid");
	memset(line, 'a', sizeof(line));
	tp_tcp(tp, 0, 0, line, sizeof(line));
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 5, "a line past 64 KiB is an error, not a buffer");
	tp_tcp_str(tp, 1, "VALUE k 0 3\r\nabcdef\r\nEND\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 6, "a data block longer than announced");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1, "the set with exptime -1, unanswered");
	cr_assert_eq(tp_int(tp, 0, "memcache.request.exptime"), -1);
	tp_free(tp);
}

/* Deterministic junk in both directions, text- and binary-looking: no crash, no leak (ASan). */
Test(memcache, random_bytes_do_not_crash)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n    parseunknown: true\n");
	uint32_t x = 12345;
	uint8_t buf[512];

	tp_handshake(tp);
	for (int round = 0; round < 400; round++) {
		size_t n = 1 + (x % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
			if ((x >> 8) % 5 == 0)
				buf[i] = " \r\n0"[(x >> 4) % 4];
		}
		if (round % 3 == 0)
			buf[0] = (uint8_t)(round & 1 ? 0x80 : 0x81);
		tp_tcp(tp, round & 1, 0, buf, n);
		tp_udp(tp, round & 1, buf, n);
	}
	tp_flush(tp);
	tp_free(tp);
}

/* ---- UDP ---- */

static size_t udp_frame(uint8_t *out, uint16_t id, uint16_t seq, uint16_t total, const void *data, size_t len)
{
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)(seq >> 8);
	out[3] = (uint8_t)seq;
	out[4] = (uint8_t)(total >> 8);
	out[5] = (uint8_t)total;
	out[6] = out[7] = 0;
	if (len)
		memcpy(out + 8, data, len);
	return len + 8;
}

static void udp_str(struct tp *tp, int dir, uint16_t id, uint16_t seq, uint16_t total, const char *s)
{
	uint8_t buf[2048];

	tp_udp(tp, dir, buf, udp_frame(buf, id, seq, total, s, strlen(s)));
}

Test(memcache, udp_single_datagrams)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 }, r = { .n = 0 };
	uint8_t buf[256];

	udp_str(tp, 0, 7, 0, 1, "set k 0 0 2\r\nhi\r\n");
	udp_str(tp, 0, 8, 0, 1, "get k\r\n");
	udp_str(tp, 1, 8, 0, 1, "VALUE k 0 2\r\nhi\r\nEND\r\n");
	udp_str(tp, 1, 7, 0, 1, "STORED\r\n");
	breq(&q, 0x00, 0, NULL, 0, "k", NULL);
	bresp(&r, 0x00, 0, 0, 5, get_extras, 4, NULL, "hi", 2);
	tp_udp(tp, 0, buf, udp_frame(buf, 9, 0, 1, q.b, q.n));
	tp_udp(tp, 1, buf, udp_frame(buf, 9, 0, 1, r.b, r.n));
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 0, "network.transport"), "udp");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "get");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.count_values"), 1);
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.command"), "set");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.command"), "STORED");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.protocol_type"), "binary");
	cr_assert_eq(tp_int(tp, 2, "memcache.response.bytes"), 2);
	tp_free(tp);
}

/* A response in n datagrams delivered in the order given by perm. */
static void udp_multi(const size_t *perm, size_t n, bool dup)
{
	struct tp *tp = mc_tp("    maxvalues: 1\n");
	static char resp[6000];
	uint8_t buf[2048];
	size_t len, per;

	strcpy(resp, "VALUE big 0 5000\r\n");
	len = strlen(resp);
	memset(resp + len, 'q', 5000);
	len += 5000;
	memcpy(resp + len, "\r\nEND\r\n", 7);
	len += 7;
	per = (len + n - 1) / n;
	udp_str(tp, 0, 300, 0, 1, "get big\r\n");
	for (size_t i = 0; i < n; i++) {
		size_t seq = perm[i], off = seq * per, l = off + per > len ? len - off : per;

		tp_udp(tp, 1, buf, udp_frame(buf, 300, (uint16_t)seq, (uint16_t)n, resp + off, l));
		if (dup && i == 0)
			tp_udp(tp, 1, buf, udp_frame(buf, 300, (uint16_t)seq, (uint16_t)n, resp + off, l));
	}
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.bytes"), 5000);
	cr_assert_eq(json_string_length(tp_get(tp, 0, "memcache.response.values.0")), 5000 / 3 * 4 + 4);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), (json_int_t)len);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(memcache, udp_multi_datagram_in_order_and_shuffled)
{
	static const size_t inorder[4] = { 0, 1, 2, 3 }, shuffled[4] = { 2, 0, 3, 1 }, reversed[4] = { 3, 2, 1, 0 };

	udp_multi(inorder, 4, false);
	udp_multi(shuffled, 4, true);
	udp_multi(reversed, 4, false);
}

Test(memcache, udp_bogus_frames_and_expiry)
{
	struct tp *tp = mc_tp("    udptransactiontimeout: 200\n");
	uint8_t buf[64];

	tp_udp(tp, 0, "\x00\x01\x00", 3);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1, "short frame header");
	udp_str(tp, 0, 1, 0, 0, "get a\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2, "zero datagrams");
	udp_str(tp, 0, 1, 5, 2, "get a\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 3, "sequence past the total");
	udp_str(tp, 1, 1, 0, 60000, "VALUE");
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1, "more datagrams than allowed");
	udp_str(tp, 0, 2, 0, 1, "get a\r\nget");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 4, "a message cut short");
	/* half a response waits, then expires after udptransactiontimeout (200 ms) */
	udp_str(tp, 1, 3, 0, 2, "VALUE a 0 1\r\n");
	pipeline_tick(tp->pl, tp->ts + 100000000ull);
	cr_assert_eq(PSTAT(tp, GAPS), 0);
	pipeline_tick(tp->pl, tp->ts + 1500000000ull); /* 200 is milliseconds, not seconds */
	cr_assert_eq(PSTAT(tp, GAPS), 1);
	/* the second half alone starts a new reassembly, which expires too */
	udp_str(tp, 1, 3, 1, 2, "a\r\nEND\r\n");
	tp_flush(tp);
	(void)buf;
	tp_free(tp);
}

Test(memcache, udp_many_pending_are_bounded)
{
	struct tp *tp = mc_tp(NULL);

	for (int i = 0; i < 600; i++)
		udp_str(tp, 1, (uint16_t)i, 0, 3, "VALUE a 0 1\r\n");
	cr_assert_geq(PSTAT(tp, TOO_LARGE), 600 - 256);
	tp_flush(tp);
	tp_free(tp);
}

Test(memcache, config_options)
{
	struct tp *tp = mc_tp("    udptransactiontimeout: 2s\n    maxbytespervalue: 1KiB\n");

	tp_free(tp);
	tp = mc_tp("    maxvalues: -1\n    parseunknown: false\n");
	tp_free(tp);
}

Test(memcache, gap_inside_value_keeps_the_stream)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n");
	static uint8_t chunk[4000];

	memset(chunk, 'z', sizeof(chunk));
	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set k 0 0 10000\r\n");
	tp_tcp(tp, 0, 0, chunk, 1000);
	tp_tcp_cut(tp, 0, chunk, 100, 4000); /* 3900 bytes lost */
	tp_tcp(tp, 0, 0, chunk, 4000);
	tp_tcp(tp, 0, 0, chunk, 1000);
	tp_tcp_str(tp, 0, "\r\nget k\r\n");
	tp_tcp_str(tp, 1, "STORED\r\nEND\r\n");
	cr_assert_eq(PSTAT(tp, GAPS), 1);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.bytes"), 10000);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.count_values"), 1);
	cr_assert_null(tp_get(tp, 0, "memcache.request.values"), "a value with a hole is not kept");
	cr_assert_str_eq(tp_str(tp, 0, "error.message"), "Packet loss while capturing the request");
	cr_assert_null(tp_get(tp, 1, "error"));
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.command"), "get");
	tp_free(tp);
}

Test(memcache, gap_in_command_line_drops_the_direction)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_cut(tp, 0, "set k 0 0 1\r\n", 4, 13);
	tp_tcp_str(tp, 0, "get k\r\n");
	tp_tcp_str(tp, 1, "END\r\n");
	cr_assert_eq(PSTAT(tp, GAPS), 1);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "get");
	tp_free(tp);
}

Test(memcache, long_get_line_in_tiny_segments)
{
	struct tp *tp = mc_tp(NULL);
	static char line[40000];
	size_t n = 0;

	n += (size_t)snprintf(line, sizeof(line), "get");
	for (int i = 0; n < sizeof(line) - 16; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " key%d", i);
	memcpy(line + n, "\r\n", 2);
	n += 2;
	tp_handshake(tp);
	for (size_t i = 0; i < n; i += 7)
		tp_tcp(tp, 0, 0, line + i, n - i < 7 ? n - i : 7);
	tp_tcp_str(tp, 1, "END\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "memcache.request.keys")), 1024, "keys recorded are capped");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)n);
	tp_free(tp);
}

Test(memcache, quiet_requests_left_at_close_are_ok)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 }, r = { .n = 0 };

	breq(&q, 0x0d, 1, NULL, 0, "a", NULL); /* GETKQ, never answered */
	breq(&q, 0x00, 2, NULL, 0, "b", NULL); /* GET, never answered */
	breq(&q, 0x11, 3, set_extras, 8, "c", "v"); /* SETQ, never answered */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	tp_tcp(tp, 1, XB_TCP_FIN, r.b, 0);
	cr_assert_eq(tp_count(tp), 2, "quiet ones are published when the server closes");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.opcode"), "GetKQ");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.opcode"), "SetQ");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.opcode"), "Get");
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Server Error", "a non-quiet request without response");
	cr_assert_str_eq(tp_str(tp, 2, "error.message"), "Unfinished transaction");
	tp_free(tp);
}

Test(memcache, udp_quiet_requests)
{
	struct tp *tp = mc_tp("    udptransactiontimeout: 500ms\n");
	struct bin a = { .n = 0 }, b = { .n = 0 }, r = { .n = 0 };
	uint8_t buf[512];

	breq(&a, 0x11, 0, set_extras, 8, "k", "v"); /* SETQ: no response when it works */
	breq(&b, 0x14, 0, NULL, 0, "gone", NULL); /* DELETEQ: answered only on error */
	bresp(&r, 0x14, 1, 0, 0, NULL, 0, NULL, "Not found", 9);
	tp_udp(tp, 0, buf, udp_frame(buf, 1, 0, 1, a.b, a.n));
	tp_udp(tp, 0, buf, udp_frame(buf, 2, 0, 1, b.b, b.n));
	tp_udp(tp, 1, buf, udp_frame(buf, 2, 0, 1, r.b, r.n));
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.opcode"), "DeleteQ");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.error_msg"), "Not found");
	pipeline_tick(tp->pl, tp->ts + 100000000ull);
	cr_assert_eq(tp_count(tp), 1, "the SETQ waits udptransactiontimeout");
	pipeline_tick(tp->pl, tp->ts + 5000000000ull);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.opcode"), "SetQ");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

/* Regression: a UDP request waited transaction_timeout (15 s) instead of udptransactiontimeout (2 s). */
Test(memcache, udp_request_expires_after_udptransactiontimeout)
{
	struct tp *tp = mc_tp("    udptransactiontimeout: 2s\n    transaction_timeout: 15s\n");

	udp_str(tp, 0, 1, 0, 1, "get lost\r\n");
	pipeline_tick(tp->pl, tp->ts + 1000000000ull);
	cr_assert_eq(tp_count(tp), 0);
	pipeline_tick(tp->pl, tp->ts + 3000000000ull);
	cr_assert_eq(tp_count(tp), 1, "unanswered after udptransactiontimeout, not transaction_timeout");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Server Error");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	tp_free(tp);
}

/*
 * Regression: memcached 1.6 answers a multi-key get over UDP with one frame
 * set per value and one for END, all with the request id: one transaction.
 */
Test(memcache, udp_multi_key_get_in_separate_frames)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n");
	const char *big = "VALUE ubig 0 20\r\n01234567890123456789\r\n";
	uint8_t buf[256];
	size_t half = strlen(big) / 2;

	udp_str(tp, 0, 101, 0, 1, "get ubig usmall nokey\r\n");
	tp_udp(tp, 1, buf, udp_frame(buf, 101, 1, 2, big + half, strlen(big) - half));
	tp_udp(tp, 1, buf, udp_frame(buf, 101, 0, 2, big, half));
	udp_str(tp, 1, 101, 0, 1, "VALUE usmall 0 3\r\nabc\r\n");
	cr_assert_eq(tp_count(tp), 0, "the response is open until END");
	udp_str(tp, 1, 101, 0, 1, "END\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(json_array_size(tp_get(tp, 0, "memcache.request.keys")), 3);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.keys.0"), "ubig");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.keys.1"), "usmall");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.count_values"), 2);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.bytes"), 23);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.values.1"), "YWJj");
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), (json_int_t)(strlen(big) + 23 + 5));
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, TXN), 1);

	/* END lost: what came is published with its request after udptransactiontimeout */
	udp_str(tp, 0, 102, 0, 1, "get a b\r\n");
	udp_str(tp, 1, 102, 0, 1, "VALUE a 0 1\r\nA\r\n");
	udp_str(tp, 1, 102, 0, 1, "VALUE b 0 1\r\nB\r\n");
	pipeline_tick(tp->pl, tp->ts + 100000000ull);
	cr_assert_eq(tp_count(tp), 1);
	pipeline_tick(tp->pl, tp->ts + 20000000000ull);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.count_values"), 2);
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.keys.1"), "b");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	tp_free(tp);
}

Test(memcache, udp_open_responses_are_bounded)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n");

	udp_str(tp, 0, 0, 0, 1, "get a\r\n");
	for (int i = 0; i < 600; i++)
		udp_str(tp, 1, (uint16_t)i, 0, 1, "VALUE a 0 1\r\nA\r\n");
	cr_assert_geq(PSTAT(tp, TOO_LARGE), 600 - 256);
	cr_assert_eq(tp_count(tp), 600 - 256, "past 256 open responses the oldest are published");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.count_values"), 1);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "get");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "Client Error", "responses to no request, as Packetbeat");
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 599);
	cr_assert_eq(tp_count(tp), 600);
	tp_free(tp);
}

/* Regression: memcached answers a UDP GetQ miss with an empty frame (0 datagrams): not a parse error. */
Test(memcache, udp_getq_miss_empty_frame)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 };
	uint8_t buf[256];

	breq(&q, 0x09, 6, NULL, 0, "nokey", NULL);
	tp_udp(tp, 0, buf, udp_frame(buf, 106, 0, 1, q.b, q.n));
	tp_udp(tp, 1, buf, udp_frame(buf, 106, 0, 0, NULL, 0));
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(tp_count(tp), 1, "the empty frame says the quiet get has no response");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.opcode"), "GetQ");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_null(tp_get(tp, 0, "memcache.response"));
	tp_udp(tp, 1, buf, udp_frame(buf, 107, 0, 0, NULL, 0));
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "an empty frame answering nothing is ignored");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	tp_free(tp);
}

/* Regression: quiet requests that time out on an open connection were published as errors. */
Test(memcache, quiet_requests_expired_on_open_connection_are_ok)
{
	struct tp *tp = mc_tp(NULL);
	struct bin q = { .n = 0 };

	breq(&q, 0x09, 5, NULL, 0, "nokey", NULL); /* GETQ miss: no response */
	breq(&q, 0x11, 6, set_extras, 8, "k", "v"); /* SETQ that worked: no response */
	breq(&q, 0x00, 7, NULL, 0, "b", NULL); /* GET whose response was lost */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.b, q.n);
	pipeline_tick(tp->pl, tp->ts + 11000000000ull);
	cr_assert_eq(tp_count(tp), 3, "expired after transaction_timeout");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.opcode"), "GetQ");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.opcode"), "SetQ");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.opcode"), "Get");
	cr_assert_str_eq(tp_str(tp, 2, "status"), "Server Error");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	cr_assert_eq(PSTAT(tp, TXN), 2);
	tp_free(tp);
}

/* ---- meta commands (mg, ms, md, ma, mn, me) ---- */

static const char meta_c2s[] = "set k 0 0 2\r\nab\r\nmg k v f k O7\r\nms m 5 F3 T60\r\nhello\r\nget k\r\n"
			       "md nokey\r\nma n D2 v\r\nme k\r\nmn\r\nmg\r\n";
static const char meta_s2c[] = "STORED\r\nVA 2 f0 kk O7\r\nab\r\nHD\r\nVALUE k 0 2\r\nab\r\nEND\r\nNF\r\n"
			       "VA 1\r\n7\r\nME k exp=-1 la=0 cas=1 fetch=yes cls=1 size=62\r\nMN\r\nERROR\r\n";

Test(memcache, meta_mixed_with_classic)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, meta_c2s);
	tp_tcp_str(tp, 1, meta_s2c);
	cr_assert_eq(tp_count(tp), 9);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_str_eq(tp_str(tp, 1, "method"), "MG");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.type"), "Load");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.keys.0"), "k");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.raw_args"), "v f k O7");
	cr_assert_eq(tp_int(tp, 1, "memcache.request.opaque"), 7);
	cr_assert(json_is_false(tp_get(tp, 1, "memcache.request.quiet")));
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.command"), "VA");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.keys.0"), "k");
	cr_assert_eq(tp_int(tp, 1, "memcache.response.opaque"), 7);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.count_values"), 1);
	cr_assert_eq(tp_int(tp, 1, "memcache.response.bytes"), 2);
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.values.0"), "YWI=");
	cr_assert_eq(tp_int(tp, 1, "destination.bytes"), 19);

	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.command"), "ms");
	cr_assert_str_eq(tp_str(tp, 2, "event.action"), "memcache.store");
	cr_assert_eq(tp_int(tp, 2, "memcache.request.flags"), 3);
	cr_assert_eq(tp_int(tp, 2, "memcache.request.exptime"), 60);
	cr_assert_eq(tp_int(tp, 2, "memcache.request.bytes"), 5);
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.values.0"), "aGVsbG8=");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.response.command"), "HD");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.response.type"), "Success");
	cr_assert_str_eq(tp_str(tp, 2, "status"), "OK");
	cr_assert_eq(tp_int(tp, 2, "source.bytes"), 22);

	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.command"), "VALUE", "the classic get after ms pairs");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.request.type"), "Delete");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.response.command"), "NF");
	cr_assert_str_eq(tp_str(tp, 4, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 5, "memcache.request.type"), "Counter");
	cr_assert_eq(tp_int(tp, 5, "memcache.request.delta"), 2);
	cr_assert_str_eq(tp_str(tp, 5, "memcache.response.values.0"), "Nw==");
	cr_assert_str_eq(tp_str(tp, 6, "memcache.response.command"), "ME");
	cr_assert_str_eq(tp_str(tp, 6, "memcache.response.stats.5.name"), "size");
	cr_assert_str_eq(tp_str(tp, 6, "memcache.response.stats.5.value"), "62");
	cr_assert_str_eq(tp_str(tp, 7, "memcache.request.command"), "mn");
	cr_assert_str_eq(tp_str(tp, 7, "memcache.response.command"), "MN");
	cr_assert_str_eq(tp_str(tp, 8, "memcache.response.command"), "ERROR");
	cr_assert_null(tp_get(tp, 8, "memcache.request.keys"));
	tp_free(tp);
}

Test(memcache, meta_split_at_every_byte)
{
	split_everywhere("    maxvalues: -1\n", meta_c2s, strlen(meta_c2s), meta_s2c, strlen(meta_s2c), 9);
}

Test(memcache, meta_one_byte_segments)
{
	struct tp *whole = mc_tp(NULL), *bytes = mc_tp(NULL);
	char *a, *b;

	tp_handshake(whole);
	tp_handshake(bytes);
	tp_tcp_str(whole, 0, meta_c2s);
	tp_tcp_str(whole, 1, meta_s2c);
	for (size_t i = 0; meta_c2s[i]; i++)
		tp_tcp(bytes, 0, 0, meta_c2s + i, 1);
	for (size_t i = 0; meta_s2c[i]; i++)
		tp_tcp(bytes, 1, 0, meta_s2c + i, 1);
	a = stable(whole);
	b = stable(bytes);
	cr_assert_eq(tp_count(whole), 9);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	tp_free(whole);
	tp_free(bytes);
}

/* Regression: "mg k v" answered "VA ..." shifted every later pair on the connection. */
Test(memcache, meta_get_does_not_shift_pairs)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "mg k1 v\r\n");
	tp_tcp_str(tp, 1, "VA 5\r\nhello\r\n");
	tp_tcp_str(tp, 0, "get k1\r\n");
	tp_tcp_str(tp, 1, "VALUE k1 0 5\r\nhello\r\nEND\r\n");
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.response.command"), "VA");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.command"), "get");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.command"), "VALUE");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

/*
 * As memcached 1.6 answers: q hides EN for mg, HD for ms/md/ma; failures and
 * hits still come; mn closes. The hit carries its key (k) and the ma failure
 * its opaque (O), which tell them from the quiet requests before them (without
 * k or O a reply goes to the oldest quiet request it can answer).
 */
Test(memcache, meta_quiet_pipeline_with_mn)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0,
		   "ms a 5 q\r\nhello\r\nmg nokey v q\r\nmg a v k q\r\nms a 1 ME q\r\nx\r\nmd gone q\r\nmd a q\r\n"
		   "ma n q O9\r\nmn\r\n");
	cr_assert_eq(tp_count(tp), 0);
	tp_tcp_str(tp, 1, "VA 5 ka\r\nhello\r\nNS\r\nNF\r\nNF O9\r\nMN\r\n");
	cr_assert_eq(tp_count(tp), 8);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	/* published in request order */
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "ms");
	cr_assert(json_is_true(tp_get(tp, 0, "memcache.request.quiet")));
	cr_assert_null(tp_get(tp, 0, "memcache.response"), "the stored ms got no reply");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.keys.0"), "nokey");
	cr_assert_null(tp_get(tp, 1, "memcache.response"), "the mg miss got no reply");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.keys.0"), "a");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.response.command"), "VA");
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.command"), "NS");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.request.keys.0"), "gone");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.response.command"), "NF");
	cr_assert_str_eq(tp_str(tp, 5, "memcache.request.keys.0"), "a");
	cr_assert_null(tp_get(tp, 5, "memcache.response"));
	cr_assert_str_eq(tp_str(tp, 6, "memcache.request.keys.0"), "n");
	cr_assert_str_eq(tp_str(tp, 6, "memcache.response.command"), "NF");
	cr_assert_str_eq(tp_str(tp, 7, "memcache.response.command"), "MN");
	tp_free(tp);
}

Test(memcache, meta_quiet_matched_by_opaque_and_key)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "mg a v q O1\r\nmg b v q O2\r\nmg c k q\r\nmg d k q\r\nmn\r\n");
	tp_tcp_str(tp, 1, "VA 1 O2\r\nB\r\nHD kd\r\nMN\r\n");
	cr_assert_eq(tp_count(tp), 5);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_null(tp_get(tp, 0, "memcache.response"));
	cr_assert_eq(tp_int(tp, 1, "memcache.response.opaque"), 2);
	cr_assert_null(tp_get(tp, 2, "memcache.response"));
	cr_assert_str_eq(tp_str(tp, 3, "memcache.response.keys.0"), "d");
	cr_assert_str_eq(tp_str(tp, 4, "memcache.response.command"), "MN");
	tp_free(tp);
}

Test(memcache, meta_quiet_left_at_close_and_errors)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "mg a q\r\nmg b v q S1\r\nms c 2 q\r\nhi\r\n");
	tp_tcp_str(tp, 1, "CLIENT_ERROR invalid flag\r\n");
	cr_assert_eq(tp_count(tp), 1, "an error answers the oldest quiet request");
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.keys.0"), "a");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Client Error");
	tp_tcp_str(tp, 1, "EN\r\n");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 1, "a reply q suppresses answers no quiet request");
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 1, "status"), "Client Error");
	cr_assert_str_eq(tp_str(tp, 1, "error.message"), "Invalid transaction. Request missing");
	tp_tcp(tp, 1, XB_TCP_FIN, "", 0);
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_str_eq(tp_str(tp, 3, "memcache.request.command"), "ms");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "OK");
	tp_free(tp);
}

Test(memcache, meta_set_data_split_and_bogus)
{
	struct tp *tp = mc_tp("    maxvalues: -1\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "ms big 10 T0");
	tp_tcp_str(tp, 0, " F1\r\n01234");
	tp_tcp_str(tp, 0, "567");
	tp_tcp_str(tp, 0, "89\r");
	tp_tcp_str(tp, 0, "\n");
	tp_tcp_str(tp, 1, "HD\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "memcache.request.bytes"), 10);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.values.0"), "MDEyMzQ1Njc4OQ==");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 29);
	/* no data length: memcached answers CLIENT_ERROR without reading a block */
	tp_tcp_str(tp, 0, "ms k\r\nms k x\r\n");
	tp_tcp_str(tp, 1, "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad data chunk\r\n");
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_tcp_str(tp, 1, "VA x\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1, "VA without a size");
	tp_tcp_str(tp, 0, "ms k 99999999999\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2, "a data block over memcached's limit");
	tp_free(tp);
}

/* memcached ends command lines at a bare LF too: the same transactions as with CRLF, pairings kept. */
Test(memcache, text_bare_lf_command_lines)
{
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "set k 0 0 3\nabc\r\n");
	tp_tcp_str(tp, 1, "STORED\r\n");
	tp_tcp_str(tp, 0, "get k\n");
	tp_tcp_str(tp, 1, "VALUE k 0 3\r\nabc\r\nEND\r\n");
	tp_tcp_str(tp, 0, "incr n");
	tp_tcp_str(tp, 0, " 5\n");
	tp_tcp_str(tp, 1, "NOT_FOUND\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 0, "memcache.request.command"), "set");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.request.command"), "get");
	cr_assert_str_eq(tp_str(tp, 1, "memcache.response.keys.0"), "k");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.command"), "incr");
	cr_assert_str_eq(tp_str(tp, 2, "memcache.request.keys.0"), "n");
	cr_assert_eq(tp->st.proto[PROTO_MEMCACHE][PSTAT_PARSE_ERRORS], 0);
	tp_free(tp);
}

Test(memcache, reply_without_end_is_unparsed_at_close)
{
	static const char val[] = "VALUE k 0 5\r\nhello\r\n";
	struct tp *tp = mc_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "get k\r\n");
	tp_tcp_str(tp, 1, val); /* no END: the reply never finishes */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 7, 0, 0, strlen(val));
	tp_free(tp);
}
