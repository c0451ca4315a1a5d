/*
 * Heads-only capture through the TCP layer and HTTP: a Content-Length body
 * the parser does not keep is announced to the kernel (the skip callback),
 * and the segments the kernel then leaves out (packet.skipped) are counted
 * as read: the transaction keeps its body size, no gap, no note.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"

#define C2S 0
#define S2C 1
#define PORT 8080
#define HEAD "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n"

struct asked {
	int n;
	struct xb_skip_key k;
	uint32_t end;
};

static void record_skip(void *ctx, const struct xb_skip_key *k, uint32_t end_seq)
{
	struct asked *a = ctx;

	a->n++;
	a->k = *k;
	a->end = end_seq;
}

static struct tp *heads_tp(const char *extra, struct asked *a)
{
	struct tp *tp = tp_proto("http", PORT, extra);

	pipeline_set_skip(tp->pl, record_skip, a);
	tp_handshake(tp);
	return tp;
}

static void send_str(struct tp *tp, int dir, const char *s)
{
	tp_tcp(tp, dir, XB_TCP_PSH, s, strlen(s));
}

/* GET /big, the response head and the first 1000 body bytes. */
static void start_download(struct tp *tp)
{
	static char body[1000];

	send_str(tp, C2S, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(tp, S2C, HEAD);
	memset(body, 'z', sizeof(body));
	tp_tcp(tp, S2C, 0, body, sizeof(body));
}

Test(heads, body_announced_then_skipped_segments_count_as_read)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp(NULL, &a);
	uint32_t body_end;

	start_download(tp);
	body_end = tp->seq[S2C] + 199000;
	cr_assert_eq(a.n, 1, "one request to skip the rest of the body");
	cr_assert_eq(a.end, body_end);
	cr_assert_eq(a.k.sport, PORT, "the server -> client direction, as its packets go");
	cr_assert_eq(a.k.dport, 40000);
	cr_assert_eq(a.k.saddr[3], 2);
	cr_assert_eq(a.k.daddr[3], 1);
	for (int i = 0; i < 3; i++)
		tp_tcp_skipped(tp, S2C, 50000);
	tp_tcp_skipped(tp, S2C, 49000);
	cr_assert_eq(tp_count(tp), 1, "the response is complete at the end of the skipped body");
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 200000);
	cr_assert_eq(tp_int(tp, 0, "http.response.status_code"), 200);
	cr_assert_null(tp_get(tp, 0, "error.message"), "nothing was lost");
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 199000);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);

	/* the connection goes on: the next exchange is parsed from its bytes */
	send_str(tp, C2S, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 1, "url.path"), "/small");
	cr_assert_eq(tp_int(tp, 1, "http.response.status_code"), 404);
	cr_assert_eq(a.n, 1, "a 2-byte body is not worth a skip");
	tp_free(tp);
}

/* Records of two CPUs can reach the ring out of order: a skipped segment queued ahead is still taken as read. */
Test(heads, skipped_segment_out_of_order_is_taken_as_read)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp(NULL, &a);
	uint32_t at;

	start_download(tp);
	at = tp->seq[S2C];
	tp->seq[S2C] = at + 100000;
	tp_tcp_skipped(tp, S2C, 99000); /* the end, first */
	tp->seq[S2C] = at;
	tp_tcp_skipped(tp, S2C, 100000);
	tp->seq[S2C] = at + 199000;
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "http.response.body.bytes"), 200000);
	cr_assert_null(tp_get(tp, 0, "error.message"));
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 199000);
	tp_free(tp);
}

Test(heads, skipped_segment_outside_a_skippable_body_is_a_gap)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp(NULL, &a);

	send_str(tp, C2S, "GET /a HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	/* a skipped record where the parser expects a header section */
	tp_tcp_skipped(tp, S2C, 5000);
	tp_flush(tp);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 0);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 1);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAP_BYTES), 5000);
	tp_free(tp);
}

Test(heads, kept_body_or_setting_off_asks_nothing)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp("    include_body_for: [text/plain]\n", &a);

	send_str(tp, C2S, "GET /big HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200000\r\n\r\n");
	cr_assert_eq(a.n, 0, "a body that is kept needs its bytes");
	tp_free(tp);

	tp = heads_tp("xdpbeat.tcp.skip_body_bytes: 0\n", &a);
	start_download(tp);
	cr_assert_eq(a.n, 0, "skip_body_bytes 0 turns heads-only capture off");
	tp_free(tp);

	tp = heads_tp("xdpbeat.tcp.skip_body_bytes: 1MiB\n", &a);
	start_download(tp);
	cr_assert_eq(a.n, 0, "a body under skip_body_bytes is copied");
	tp_free(tp);
}

Test(heads, chunked_body_is_not_skipped)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp(NULL, &a);

	send_str(tp, C2S, "GET /c HTTP/1.1\r\n\r\n");
	send_str(tp, S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n30000\r\n");
	cr_assert_eq(a.n, 0, "chunk framing must be read: no skip");
	tp_free(tp);
}

Test(heads, skipped_body_bytes_are_not_held_by_the_parser)
{
	struct asked a = { 0 };
	struct tp *tp = heads_tp(NULL, &a);
	static char more[1000];

	start_download(tp);
	tp_tcp_skipped(tp, S2C, 50000);
	memset(more, 'b', sizeof(more));
	tp_tcp(tp, S2C, 0, more, sizeof(more)); /* copied again: the parser takes it into the unfinished body */
	tp_flush(tp);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 50000);
	tp_assert_tcp_bytes(tp, stats_get(&tp->st, STAT_TCP_BYTES_DELIVERED), 0, 0, 0); /* published at the close */
	tp_free(tp);
}

/* ---- memcache: a value it does not keep (or the rest past its cap) ---- */

#define MC_PORT 11211

static struct tp *mc_heads_tp(const char *extra, struct asked *a)
{
	struct tp *tp = tp_proto("memcache", MC_PORT, extra);

	pipeline_set_skip(tp->pl, record_skip, a);
	tp_handshake(tp);
	return tp;
}

/* get big, the VALUE line and the first 1000 bytes of a 200,000-byte value; the kernel leaves out the rest. */
static void mc_big_get(struct tp *tp, struct asked *a, uint32_t asked_for)
{
	static char head[1000];
	uint32_t end;

	send_str(tp, C2S, "get big\r\n");
	send_str(tp, S2C, "VALUE big 0 200000\r\n");
	memset(head, 'v', sizeof(head));
	tp_tcp(tp, S2C, 0, head, sizeof(head));
	end = tp->seq[S2C] + 199000;
	cr_assert_eq(a->n, 1, "one request to skip the rest of the value");
	cr_assert_eq(a->end, end);
	cr_assert_eq(a->k.sport, MC_PORT);
	cr_assert_eq(199000, asked_for);
	for (int i = 0; i < 3; i++)
		tp_tcp_skipped(tp, S2C, 50000);
	tp_tcp_skipped(tp, S2C, 49000);
	send_str(tp, S2C, "\r\nEND\r\n");
}

Test(heads, memcache_value_not_kept_is_skipped_and_counted)
{
	struct asked a = { 0 };
	struct tp *tp = mc_heads_tp(NULL, &a);

	mc_big_get(tp, &a, 199000);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_eq(tp_int(tp, 0, "memcache.response.bytes"), 200000);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 200000 + strlen("VALUE big 0 200000\r\n\r\nEND\r\n"));
	cr_assert_null(tp_get(tp, 0, "memcache.response.values"), "maxvalues 0 keeps none");
	cr_assert_null(tp_get(tp, 0, "error.message"), "nothing was lost");
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 199000);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);
	tp_free(tp);
}

Test(heads, memcache_kept_part_of_a_value_is_copied_then_the_rest_skipped)
{
	struct asked a = { 0 };
	struct tp *tp = mc_heads_tp("    maxvalues: 1\n    maxbytespervalue: 100\n", &a);

	mc_big_get(tp, &a, 199000);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(tp_int(tp, 0, "memcache.response.bytes"), 200000);
	cr_assert_not_null(tp_get(tp, 0, "memcache.response.values"), "the first 100 bytes are kept");
	cr_assert_null(tp_get(tp, 0, "error.message"));
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);
	tp_free(tp);
}

Test(heads, memcache_value_being_kept_is_not_skippable)
{
	struct asked a = { 0 };
	struct tp *tp = mc_heads_tp("    maxvalues: 1\n    maxbytespervalue: 300000\n", &a);

	send_str(tp, C2S, "get big\r\n");
	send_str(tp, S2C, "VALUE big 0 200000\r\n");
	cr_assert_eq(a.n, 0, "the parser wants every byte of this value");
	tp_free(tp);
}
