/*
 * Redis tests through the real pipeline: events as Packetbeat writes them,
 * the same events whatever the TCP segmentation (every split point, one-byte
 * segments), pipelining, inline commands, RESP3 types, pub/sub pushes that
 * answer nothing, the queue limits, gaps, and hostile input (bad lengths,
 * huge counts, deep nesting, garbage, endless lines) counted as parse
 * errors without a crash, a leak or a big allocation.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"

#define PORT 6379
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_REDIS][PSTAT_##id])

static struct tp *rd_tp(const char *extra)
{
	return tp_proto("redis", PORT, extra);
}

/* "query => return_value|error" of every event, one per line. */
static char *pairs(struct tp *tp)
{
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap);

	s[0] = '\0';
	for (size_t i = 0; i < tp_count(tp); i++) {
		json_t *q = tp_get(tp, i, "query"), *r = tp_get(tp, i, "redis.return_value"),
		       *e = tp_get(tp, i, "redis.error");

		n += (size_t)snprintf(s + n, cap - n, "%s => %s%s\n", q ? json_string_value(q) : "-", e ? "ERROR " : "",
				      r	  ? json_string_value(r)
				      : e ? json_string_value(e)
					  : "-");
		cr_assert_lt(n, cap);
	}
	return s;
}

/* The fields that must not depend on segmentation or timing. */
static char *stable(struct tp *tp)
{
	static const char *const keys[] = { "redis",  "status",	     "method",	"query",    "resource",
					    "source", "destination", "request", "response", NULL };

	return tp_fields_all(tp, keys);
}

/* ---- events ---- */

Test(redis, set_get_nil_error)
{
	struct tp *tp = rd_tp("    send_request: true\n    send_response: true\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$5\r\nhello\r\n");
	tp_tcp_str(tp, 1, "+OK\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
	tp_tcp_str(tp, 1, "$5\r\nhello\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$4\r\nnone\r\n");
	tp_tcp_str(tp, 1, "$-1\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$4\r\nINCR\r\n$3\r\nkey\r\n");
	tp_tcp_str(tp, 1, "-ERR value is not an integer or out of range\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 1, "+PONG\r\n");
	cr_assert_eq(tp_count(tp), 5);

	cr_assert_str_eq(tp_str(tp, 0, "type"), "redis");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SET", "upper-case");
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "key");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "set key hello", "the command line as sent");
	cr_assert_str_eq(tp_str(tp, 0, "event.action"), "redis.set");
	cr_assert_str_eq(tp_str(tp, 0, "redis.return_value"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "request"), "set key hello");
	cr_assert_str_eq(tp_str(tp, 0, "response"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "network.protocol"), "redis");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 33);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 5);
	cr_assert_eq(tp_int(tp, 0, "event.duration"), 1000000, "request at 3 ms, reply at 4 ms");

	cr_assert_str_eq(tp_str(tp, 1, "redis.return_value"), "hello");
	cr_assert_eq(tp_int(tp, 1, "destination.bytes"), 11);
	cr_assert_str_eq(tp_str(tp, 2, "redis.return_value"), "nil");
	cr_assert_str_eq(tp_str(tp, 3, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 3, "event.outcome"), "failure");
	cr_assert_str_eq(tp_str(tp, 3, "redis.error"), "ERR value is not an integer or out of range");
	cr_assert_null(tp_get(tp, 3, "redis.return_value"));
	cr_assert_str_eq(tp_str(tp, 3, "response"), "ERR value is not an integer or out of range");
	cr_assert_null(tp_get(tp, 4, "resource"), "no argument, no resource");
	cr_assert_eq(PSTAT(tp, TXN), 5);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(redis, raw_text_only_when_asked)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	tp_tcp_str(tp, 1, "$1\r\nv\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_null(tp_get(tp, 0, "request"));
	cr_assert_null(tp_get(tp, 0, "response"));
	cr_assert_str_eq(tp_str(tp, 0, "query"), "GET k");
	tp_free(tp);
}

Test(redis, replies_rendered_as_packetbeat)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	tp_tcp_str(tp, 0,
		   "*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n*1\r\n$1\r\nd\r\n*1\r\n$1\r\ne\r\n"
		   "*1\r\n$1\r\nf\r\n*1\r\n$1\r\ng\r\n");
	tp_tcp_str(tp, 1,
		   ":-42\r\n*0\r\n*-1\r\n$0\r\n\r\n*3\r\n:1\r\n*2\r\n$1\r\nx\r\n*1\r\n$-1\r\n+s\r\n"
		   "*2\r\n-ERR inside\r\n:1\r\n$6\r\nA\r\nB\x01\x02\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "a => -42\n"
			    "b => []\n"
			    "c => nil\n"
			    "d => \n"
			    "e => [1, [x, [nil]], s]\n"
			    "f => [ERR inside, 1]\n"
			    "g => A\r\nB\x01\x02\n");
	free(s);
	cr_assert_str_eq(tp_str(tp, 5, "status"), "OK", "an error inside an array is not the reply's");
	tp_free(tp);
}

Test(redis, resp3_types)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	for (int i = 0; i < 12; i++)
		tp_tcp_str(tp, 0, "*1\r\n$1\r\nq\r\n");
	tp_tcp_str(tp, 1,
		   "%2\r\n$1\r\nk\r\n:1\r\n+k2\r\n*2\r\n#t\r\n_\r\n" /* map */
		   "~2\r\n,1.5\r\n,-inf\r\n" /* set of doubles */
		   "_\r\n#f\r\n(-12345678901234567890123\r\n" /* null, false, big number */
		   "=15\r\ntxt:Some string\r\n=2\r\nab\r\n" /* verbatim, and one too short for a format */
		   "!21\r\nSYNTAX invalid syntax\r\n" /* blob error */
		   "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n$5\r\nvalue\r\n" /* attribute, value */
		   "*2\r\n|1\r\n+ttl\r\n:3600\r\n:7\r\n:8\r\n" /* attribute before an element */
		   "%0\r\n|0\r\n+after empty attribute\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "q => {k: 1, k2: [true, nil]}\n"
			    "q => [1.5, -inf]\n"
			    "q => nil\n"
			    "q => false\n"
			    "q => -12345678901234567890123\n"
			    "q => Some string\n"
			    "q => \n"
			    "q => ERROR SYNTAX invalid syntax\n"
			    "q => value\n"
			    "q => [7, 8]\n"
			    "q => {}\n"
			    "q => after empty attribute\n");
	free(s);
	cr_assert_str_eq(tp_str(tp, 7, "status"), "Error", "a blob error is an error reply");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(redis, inline_commands_split_as_redis_does)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "PING\r\n");
	tp_tcp_str(tp, 0, "set  k   \"a b\\x41\\n\\\"\"  'it\\'s'\n"); /* LF alone ends an inline line */
	tp_tcp_str(tp, 0, "\r\n\r\n   \r\n"); /* empty lines: ignored, as redis does */
	tp_tcp_str(tp, 0, "config get maxmemory\r\n");
	tp_tcp_str(tp, 1, "+PONG\r\n+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "PING => PONG\nset k a bA\n\" it's => OK\nconfig get maxmemory => [maxmemory, 0]\n");
	free(s);
	cr_assert_str_eq(tp_str(tp, 1, "method"), "SET");
	cr_assert_str_eq(tp_str(tp, 1, "resource"), "k");
	cr_assert_str_eq(tp_str(tp, 2, "method"), "CONFIG GET", "container commands take two words");
	cr_assert_str_eq(tp_str(tp, 2, "resource"), "maxmemory");
	cr_assert_str_eq(tp_str(tp, 2, "event.action"), "redis.config get");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 6);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(PSTAT(tp, REQUESTS), 3);
	/* unbalanced quotes, a closing quote glued to the next word: redis refuses them too */
	tp_tcp_str(tp, 0, "SET k \"open\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_tcp_str(tp, 0, "SET k \"a\"b\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	tp_tcp_str(tp, 0, "SET k 'a\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 3);
	tp_free(tp);
}

Test(redis, empty_multibulk_is_ignored)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 1, "+PONG\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "PING");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), 14);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(redis, pipelined_replies_pair_in_order)
{
	struct tp *tp = rd_tp(NULL);
	char req[8192], resp[8192];
	size_t nq = 0, nr = 0;

	for (int i = 0; i < 100; i++) {
		nq += (size_t)snprintf(req + nq, sizeof(req) - nq, "*2\r\n$4\r\nINCR\r\n$%d\r\nk%d\r\n", i < 10 ? 2 : 3,
				       i);
		nr += (size_t)snprintf(resp + nr, sizeof(resp) - nr, ":%d\r\n", i * 7);
	}
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, req, nq);
	tp_tcp(tp, 1, 0, resp, nr);
	cr_assert_eq(tp_count(tp), 100);
	for (size_t i = 0; i < 100; i++) {
		char k[16], v[16];

		snprintf(k, sizeof(k), "k%zu", i);
		snprintf(v, sizeof(v), "%zu", i * 7);
		cr_assert_str_eq(tp_str(tp, i, "resource"), k);
		cr_assert_str_eq(tp_str(tp, i, "redis.return_value"), v);
	}
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	tp_free(tp);
}

/* ---- segmentation ---- */

static const char seg_c2s[] = "*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$10\r\n0123456789\r\n"
			      "*2\r\n$4\r\nEVAL\r\n$1\r\nx\r\n"
			      "PING\r\nECHO \"two words\"\r\n"
			      "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
			      "*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n*1\r\n$1\r\nd\r\n"
			      "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n*1\r\n$4\r\nPING\r\n";
static const char seg_s2c[] = "+OK\r\n"
			      "*3\r\n:1\r\n*2\r\n$3\r\ntwo\r\n*1\r\n$0\r\n\r\n$-1\r\n"
			      "+PONG\r\n$9\r\ntwo words\r\n"
			      "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n"
			      "|1\r\n$3\r\nttl\r\n:9\r\n=8\r\ntxt:abcd\r\n"
			      ">2\r\n$4\r\nnote\r\n#t\r\n" /* a push between replies */
			      "~2\r\n,2.5\r\n(99\r\n_\r\n!3\r\nERR\r\n"
			      ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
			      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
			      "+PONG\r\n";

/* c2s bytes in segments cut at cq (0 = whole), then s2c cut at cr. */
static char *exchange(const void *c2s, size_t nc, const void *s2c, size_t ns, size_t cq, size_t cr, size_t *nev)
{
	struct tp *tp = rd_tp("    send_request: true\n    send_response: true\n");
	char *s;

	tp_exchange(tp, c2s, nc, s2c, ns, cq, cr);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "split %zu/%zu", cq, cr);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 2, "the two pushes, split %zu/%zu", cq, cr);
	*nev = tp_count(tp);
	s = stable(tp);
	tp_free(tp);
	return s;
}

Test(redis, split_at_every_byte)
{
	size_t nc = strlen(seg_c2s), ns = strlen(seg_s2c), n;
	char *ref = exchange(seg_c2s, nc, seg_s2c, ns, 0, 0, &n);

	cr_assert_eq(n, 11, "events %zu", n);
	cr_assert(strstr(ref, "\"[1, [two, []], nil]\""), "%s", ref);
	cr_assert(strstr(ref, "\"{server: redis, proto: 3}\""), "%s", ref);
	cr_assert(strstr(ref, "\"[2.5, 99]\""), "%s", ref);
	cr_assert(strstr(ref, "\"return_value\":\"abcd\""), "%s", ref);
	cr_assert(strstr(ref, "\"[subscribe, ch, 1]\""), "%s", ref);
	for (size_t i = 1; i < nc; i++) {
		char *s = exchange(seg_c2s, nc, seg_s2c, ns, i, 0, &n);

		cr_assert_str_eq(s, ref, "request split at %zu", i);
		free(s);
	}
	for (size_t i = 1; i < ns; i++) {
		char *s = exchange(seg_c2s, nc, seg_s2c, ns, 0, i, &n);

		cr_assert_str_eq(s, ref, "response split at %zu", i);
		free(s);
	}
	free(ref);
}

Test(redis, one_byte_segments)
{
	struct tp *whole = rd_tp(NULL), *bytes = rd_tp(NULL);
	char *a, *b;

	tp_handshake(whole);
	tp_handshake(bytes);
	tp_tcp_str(whole, 0, seg_c2s);
	tp_tcp_str(whole, 1, seg_s2c);
	for (size_t i = 0; seg_c2s[i]; i++)
		tp_tcp(bytes, 0, 0, seg_c2s + i, 1);
	for (size_t i = 0; seg_s2c[i]; i++)
		tp_tcp(bytes, 1, 0, seg_s2c + i, 1);
	a = stable(whole);
	b = stable(bytes);
	cr_assert_eq(tp_count(whole), 11);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	tp_free(whole);
	tp_free(bytes);
}

/* ---- big values ---- */

Test(redis, huge_bulk_consumed_incrementally_text_capped)
{
	struct tp *tp = rd_tp(NULL);
	static uint8_t chunk[16384];
	uint64_t total = 3u << 20;
	char head[64];
	const char *v;

	memset(chunk, 'v', sizeof(chunk));
	tp_handshake(tp);
	snprintf(head, sizeof(head), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%llu\r\n", (unsigned long long)total);
	tp_tcp_str(tp, 0, head);
	for (uint64_t sent = 0; sent < total; sent += sizeof(chunk))
		tp_tcp(tp, 0, 0, chunk, sizeof(chunk));
	tp_tcp_str(tp, 0, "\r\n");
	tp_tcp_str(tp, 1, "+OK\r\n");
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)(strlen(head) + total + 2));
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "big");
	v = tp_str(tp, 0, "query");
	cr_assert_eq(strlen(v), 1u << 20, "the text kept is capped at 1 MiB");
	cr_assert_eq(strncmp(v, "SET big vvvv", 12), 0);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(redis, bulk_of_512_mb_announced_is_not_allocated)
{
	struct tp *tp = rd_tp(NULL);
	static uint8_t chunk[8192];

	tp_handshake(tp);
	tp_tcp_str(tp, 1, "$536870913\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1, "a bulk string is at most 512 MB, as in redis");
	tp_tcp_str(tp, 1, "$536870912\r\n");
	for (int i = 0; i < 64; i++)
		tp_tcp(tp, 1, 0, chunk, sizeof(chunk));
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);
}

/* ---- pub/sub ---- */

Test(redis, resp2_pubsub_pushes_never_pair)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 1, "*4\r\n$8\r\npmessage\r\n$2\r\nb*\r\n$1\r\nb\r\n$2\r\nyo\r\n"); /* before PING's reply */
	tp_tcp_str(tp, 1, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$11\r\nUNSUBSCRIBE\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$4\r\nlate\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n");
	/* out of subscribed mode, a reply shaped like a message is a reply */
	tp_tcp_str(tp, 0, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "SUBSCRIBE a b => [subscribe, a, 1]\n"
			    "PING => [pong, ]\n"
			    "UNSUBSCRIBE => [unsubscribe, a, 1]\n"
			    "LRANGE l 0 -1 => [message, x, y]\n");
	free(s);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 5, "one extra confirmation, three messages, one more confirmation");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	tp_free(tp);
}

Test(redis, resp3_pushes_never_pair)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n");
	tp_tcp_str(tp, 1, ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	tp_tcp_str(tp, 1, ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\nnew\r\n"); /* while GET waits */
	tp_tcp_str(tp, 1, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
	tp_tcp_str(tp, 1, "$1\r\nv\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$11\r\nUNSUBSCRIBE\r\n");
	tp_tcp_str(tp, 1, ">3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "SUBSCRIBE c => [subscribe, c, 1]\nGET k => v\nUNSUBSCRIBE => [unsubscribe, c, 0]\n");
	free(s);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 2);
	tp_free(tp);
}

Test(redis, reset_leaves_subscribed_mode)
{
	struct tp *tp = rd_tp(NULL);
	char *s;

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$5\r\nRESET\r\n");
	tp_tcp_str(tp, 1, "+RESET\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n");
	tp_tcp_str(tp, 1, "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n");
	s = pairs(tp);
	cr_assert_str_eq(s, "SUBSCRIBE a => [subscribe, a, 1]\nRESET => RESET\nLRANGE l => [message, x, y]\n");
	free(s);
	tp_free(tp);
}

/* ---- queue limits ---- */

Test(redis, queue_max_messages_evicts_the_oldest)
{
	struct tp *tp = rd_tp("    queue_max_messages: 2\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n");
	cr_assert_eq(tp_count(tp), 1, "a made room for c");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "a");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_null(tp_get(tp, 0, "redis"));
	tp_tcp_str(tp, 1, ":2\r\n:3\r\n");
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 1, "query"), "b");
	cr_assert_str_eq(tp_str(tp, 1, "redis.return_value"), "2");
	cr_assert_str_eq(tp_str(tp, 2, "redis.return_value"), "3");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	tp_free(tp);
}

Test(redis, queue_max_bytes_counts_query_text)
{
	struct tp *tp = rd_tp("    queue_max_bytes: 10\n");

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "GET aa\r\nGET bb\r\n"); /* 6 + 6 > 10: the first goes */
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "GET aa");
	tp_tcp_str(tp, 0, "SET a-key-longer-than-the-limit v\r\n"); /* alone over the limit: queued all the same */
	cr_assert_eq(tp_count(tp), 2);
	tp_tcp_str(tp, 1, "+OK\r\n");
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 2, "resource"), "a-key-longer-than-the-limit");
	tp_tcp_str(tp, 0, "GET x\r\n");
	tp_tcp_str(tp, 1, "$1\r\ny\r\n");
	cr_assert_eq(tp_count(tp), 4);
	cr_assert_str_eq(tp_str(tp, 3, "query"), "GET x");
	tp_free(tp);
}

Test(redis, queue_limits_zero_mean_none)
{
	struct tp *tp = rd_tp("    queue_max_bytes: 0\n    queue_max_messages: 0\n");

	tp_handshake(tp);
	for (int i = 0; i < 500; i++)
		tp_tcp_str(tp, 0, "PING\r\n");
	cr_assert_eq(tp_count(tp), 0);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 500, "unanswered at the end");
	tp_free(tp);
}

Test(redis, config_rejects_bad_values)
{
	struct cfg_err err;
	const char *bad[] = {
		"xdpbeat.protocols:\n  - type: redis\n    queue_max_messages: -1\n",
		"xdpbeat.protocols:\n  - type: redis\n    queue_max_bytes: lots\n",
		"xdpbeat.protocols:\n  - type: redis\n    max_queue: 1\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *c = config_load_string(bad[i], strlen(bad[i]), "t.yml", NULL, 0, &err);

		cr_assert_null(c, "accepted: %s", bad[i]);
	}
}

/* ---- loss ---- */

Test(redis, gap_inside_bulk_keeps_the_stream)
{
	struct tp *tp = rd_tp(NULL);
	static char body[4000];

	memset(body, 'z', sizeof(body));
	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nj\r\n");
	tp_tcp_str(tp, 1, "$10000\r\n");
	tp_tcp(tp, 1, 0, body, 1000);
	tp_tcp_cut(tp, 1, body, 100, 4000); /* 3900 bytes lost */
	tp_tcp(tp, 1, 0, body, 4000);
	tp_tcp(tp, 1, 0, body, 1000);
	tp_tcp_str(tp, 1, "\r\n$1\r\nv\r\n");
	cr_assert_eq(PSTAT(tp, GAPS), 1);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 10000 + 10);
	cr_assert_eq(strlen(tp_str(tp, 0, "redis.return_value")), 6100, "the lost bytes are missing from the text");
	cr_assert_str_eq(tp_str(tp, 1, "redis.return_value"), "v");
	tp_free(tp);
}

Test(redis, gap_in_a_header_drops_the_message)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_cut(tp, 0, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 6, 20);
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$1\r\nj\r\n");
	tp_tcp_str(tp, 1, "$1\r\nv\r\n");
	cr_assert_eq(PSTAT(tp, GAPS), 1);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "GET j");
	tp_free(tp);
}

Test(redis, unanswered_at_close)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n");
	tp_tcp_str(tp, 1, "*2\r\n$3\r\nabc"); /* a reply cut by the end of the stream */
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "BLPOP");
	cr_assert_null(tp_get(tp, 0, "redis"));
	cr_assert_null(tp_get(tp, 0, "error"), "Packetbeat has no note for it (it publishes none)");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 1);
	tp_free(tp);
}

/* Packetbeat drops a reply without a command and counts it (redis.unmatched_responses). */
Test(redis, reply_without_request_is_counted_not_published)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 1, "+OK\r\n:1\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 1, "+PONG\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "PING");
	cr_assert_str_eq(tp_str(tp, 0, "redis.return_value"), "PONG");
	cr_assert_eq(PSTAT(tp, UNMATCHED), 2);
	tp_free(tp);
}

/* ---- hostile input ---- */

/* Each reply is a parse error (counted, the direction starts over); a good exchange follows. */
Test(redis, malformed_replies_are_counted)
{
	static const char *const bad[] = {
		"$abc\r\n",
		"$-2\r\n",
		"$ 1\r\n",
		"$99999999999999999999\r\n",
		"$536870913\r\n",
		":12a\r\n",
		":\r\n",
		"*16777217\r\n",
		"*x\r\n",
		"%-1\r\n",
		"~-1\r\n",
		"|-1\r\n",
		"$?\r\n",
		"*?\r\n",
		"#x\r\n",
		"#\r\n",
		"_x\r\n",
		"(1a\r\n",
		"=-1\r\n",
		"!-1\r\n",
		"$3\r\nabcd\r\n",
		"$3\r\nabc\n",
		"+no carriage\n",
		"@unknown\r\n",
		"HTTP/1.1 200 OK\r\n",
		"\r\n",
		"\x00\x01\x02\n",
	};
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_tcp_str(tp, 0, "*1\r\n$1\r\nx\r\n");
		tp_tcp(tp, 1, 0, bad[i], strlen(bad[i]) + (bad[i][0] ? 0 : 4));
		cr_assert_eq(PSTAT(tp, PARSE_ERRORS), i + 1, "not an error: %zu %s", i, bad[i]);
	}
	tp_tcp_str(tp, 1, ":1\r\n");
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), sizeof(bad) / sizeof(bad[0]), "every request published once");
	tp_free(tp);
}

Test(redis, malformed_requests_are_counted)
{
	struct tp *tp = rd_tp(NULL);
	static char line[70000];

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*abc\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$-5\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	tp_tcp_str(tp, 0, "*16777217\r\n");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 3, "an element count past 2^24");
	memset(line, 'a', sizeof(line));
	tp_tcp(tp, 0, 0, line, sizeof(line));
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 4, "a line past 64 KiB is an error, not a buffer");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 1, "+PONG\r\n");
	cr_assert_eq(tp_count(tp), 1);
	tp_free(tp);
}

Test(redis, nesting_depth_is_capped)
{
	struct tp *tp = rd_tp(NULL);
	char deep[1024];
	size_t n = 0;

	tp_handshake(tp);
	/* 64 nested arrays: the limit, fine */
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "*1\r\n");
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, ":1\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nDEEP\r\n");
	tp_tcp(tp, 1, 0, deep, n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(strlen(tp_str(tp, 0, "redis.return_value")), 64 * 2 + 1);
	/* 65: an error */
	n = 0;
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "*1\r\n");
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nDEEP\r\n");
	tp_tcp(tp, 1, 0, deep, n);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	/* a huge count announced and never sent: nothing allocated, dropped at the end */
	tp_tcp_str(tp, 1, "*16777216\r\n:1\r\n:2\r\n");
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);
}

/* Deterministic junk in both directions, RESP-looking now and then: no crash, no leak (ASan). */
Test(redis, random_bytes_do_not_crash)
{
	struct tp *tp = rd_tp("    send_request: true\n    send_response: true\n");
	static const char tokens[] = "*$:+-%~>|#_,(=!\r\n0123456789-?";
	uint32_t x = 4242;
	uint8_t buf[512];

	tp_handshake(tp);
	for (int round = 0; round < 600; round++) {
		size_t n = 1 + (x % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (uint8_t)(x >> 16);
			if ((x >> 8) % 3 == 0)
				buf[i] = (uint8_t)tokens[(x >> 4) % (sizeof(tokens) - 1)];
		}
		tp_tcp(tp, round & 1, 0, buf, n);
	}
	tp_flush(tp);
	tp_free(tp);
}

Test(redis, array_cut_at_close_is_unparsed)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n"); /* one argument of two: taken, never finished */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 14, 0, 0, 13);
	tp_free(tp);
}

Test(redis, bytes_lost_in_a_bulk_are_not_held)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_str(tp, 0, "*2\r\n$3\r\nGET\r\n$10\r\nab");
	tp_tcp_cut(tp, 0, "cdefghi", 2, 7); /* "cd", then 5 bytes lost inside the bulk */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 0, 0, 0, 22);
	tp_free(tp);
}

Test(redis, segment_queued_past_the_fin_is_never_delivered)
{
	struct tp *tp = rd_tp(NULL);

	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 10, "*2\r\n", 4); /* queued out of order, past the FIN below */
	tp_tcp(tp, 0, XB_TCP_FIN, "*1\r\n", 4); /* taken into a command that never ends, then FIN */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 0, 0, 0, 4);
	tp_free(tp);
}

Test(redis, segment_queued_after_skipping_to_a_pending_fin_is_never_delivered)
{
	struct tp *tp = rd_tp("xdpbeat.tcp.max_ooo_segments: 1\n");

	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 10, "*1\r\n", 4); /* after a hole of 10 */
	tp_tcp_at(tp, 0, XB_TCP_FIN, 14, "", 0); /* FIN right after it: pending */
	tp_tcp_at(tp, 0, 0, 30, "*2\r\n", 4); /* over the limit: the hole is skipped, the FIN reached */
	tp_flush(tp);
	tp_assert_tcp_bytes(tp, 0, 0, 0, 4);
	tp_free(tp);
}
