/*
 * TCP tracker tests through the pipeline with a recording parser: it
 * consumes whole lines only (so partial lines stay buffered) and logs
 * what it saw per direction, plus gaps and FINs.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"

struct rec {
	char log[2][4096];
};

static void *rec_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct rec));
}

static void rec_conn_free(void *p)
{
	free(p);
}

static void rec_append(struct rec *r, int dir, const char *s, size_t n)
{
	size_t len = strlen(r->log[dir]);

	if (len + n < sizeof(r->log[dir])) {
		memcpy(r->log[dir] + len, s, n);
		r->log[dir][len + n] = '\0';
	}
}

/* Log of the last closed connection (conn_free is too late to look at). */
static char last_log[2][4096];
/* Both directions in delivery order, each line prefixed with its direction. */
static char order_log[4096];

static ssize_t rec_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	const uint8_t *nl = memchr(data, '\n', len);

	if (!nl)
		return 0;
	if (data[0] == '!')
		return PARSE_ERROR;
	rec_append(c->pstate, dir, (const char *)data, (size_t)(nl - data) + 1);
	if (strlen(order_log) + (size_t)(nl - data) + 4 < sizeof(order_log)) {
		strcat(order_log, dir == DIR_C2S ? "c:" : "s:");
		strncat(order_log, (const char *)data, (size_t)(nl - data) + 1);
	}
	return nl - data + 1;
}

static bool rec_gap(struct conn *c, enum dir dir, size_t n, uint64_t ts)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "[gap %zu]", n);
	rec_append(c->pstate, dir, buf, strlen(buf));
	return true;
}

static void rec_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct rec *r = c->pstate;

	rec_append(r, dir, "[fin]", 5);
	memcpy(last_log[dir], r->log[dir], sizeof(last_log[dir]));
}

static const struct proto_ops rec_ops = {
	.name = "rec",
	.id = PROTO_HTTP,
	.transports = XB_TRANSPORT_TCP,
	.conn_new = rec_conn_new,
	.conn_free = rec_conn_free,
	.parse = rec_parse,
	.gap = rec_gap,
	.fin = rec_fin,
};

static const struct proto_ops *saved_ops;

static struct tp *rec_new(const char *extra)
{
	char yaml[1024];
	struct tp *tp;

	snprintf(yaml, sizeof(yaml),
		 "xdpbeat.protocols:\n  - type: http\n    ports: [9000]\n"
		 "xdpbeat.tcp:\n  max_ooo_segments: 3\n  max_stream_bytes: 64\n%s"
		 "output.console.enabled: true\n",
		 extra ? extra : "");
	tp = tp_new(yaml, 9000);
	saved_ops = tp->cfg->protos[0].ops;
	tp->cfg->protos[0].ops = &rec_ops;
	memset(last_log, 0, sizeof(last_log));
	memset(order_log, 0, sizeof(order_log));
	return tp;
}

static void rec_free(struct tp *tp)
{
	tp->cfg->protos[0].ops = saved_ops;
	tp_free(tp);
}

#define STAT(tp, id) stats_get(&(tp)->st, STAT_##id)

/* A TCP packet from client 10.0.0.<host>:<sport> to the server 10.0.0.2:9000, after everything sent so far. */
static struct packet client_packet(const struct tp *tp, uint8_t host, uint16_t sport, uint8_t flags)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.src.family = p.dst.family = 4;
	p.src.a[0] = 10, p.src.a[3] = host;
	p.dst.a[0] = 10, p.dst.a[3] = 2;
	p.sport = sport, p.dport = 9000;
	p.transport = IPPROTO_TCP;
	p.tcp_flags = flags;
	p.ts = tp->ts + 1;
	return p;
}

Test(tcp, in_order_and_fin)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "hello\nwor", 9);
	tp_tcp(tp, 0, 0, "ld\n", 3);
	tp_tcp(tp, 1, 0, "ok\n", 3);
	tp_tcp(tp, 0, XB_TCP_FIN, NULL, 0);
	tp_tcp(tp, 1, XB_TCP_FIN, NULL, 0);
	cr_assert_str_eq(last_log[0], "hello\nworld\n[fin]");
	cr_assert_str_eq(last_log[1], "ok\n[fin]");
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 0);
	cr_assert_eq(STAT(tp, TCP_CLOSED_FIN), 1);
	rec_free(tp);
}

Test(tcp, out_of_order_reassembled)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 4, "cd\n", 3);
	tp_tcp_at(tp, 0, 0, 2, "b", 2 - 1);
	tp_tcp_at(tp, 0, 0, 3, "c", 1);
	tp_tcp_at(tp, 0, 0, 0, "aa", 2);
	tp_flush(tp);
	/* bytes: 0-1 "aa", 2 "b", 3 "c", 4-6 "cd\n" */
	cr_assert_str_eq(last_log[0], "aabccd\n[fin]");
	cr_assert_eq(STAT(tp, TCP_OOO), 3);
	cr_assert_eq(STAT(tp, TCP_GAPS), 0);
	rec_free(tp);
}

Test(tcp, retransmit_and_overlap)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 0, "abc\n", 4);
	tp_tcp_at(tp, 0, 0, 0, "abc\n", 4); /* retransmit */
	tp_tcp_at(tp, 0, 0, 2, "c\nxy\n", 5); /* overlaps 2 bytes */
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "abc\nxy\n[fin]");
	cr_assert_eq(STAT(tp, TCP_RETRANS), 1);
	rec_free(tp);
}

Test(tcp, gap_reported_at_close)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 0, "a\n", 2);
	tp_tcp_at(tp, 0, 0, 12, "z\n", 2); /* bytes 2..11 never arrive */
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "a\n[gap 10]z\n[fin]");
	cr_assert_eq(STAT(tp, TCP_GAPS), 1);
	cr_assert_eq(STAT(tp, TCP_GAP_BYTES), 10);
	rec_free(tp);
}

Test(tcp, ooo_limit_forces_gap)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	/* hole at 0..1; queue holds 3 segments, the 4th forces the skip */
	tp_tcp_at(tp, 0, 0, 2, "1\n", 2);
	tp_tcp_at(tp, 0, 0, 4, "2\n", 2);
	tp_tcp_at(tp, 0, 0, 6, "3\n", 2);
	tp_tcp_at(tp, 0, 0, 8, "4\n", 2);
	cr_assert_eq(STAT(tp, DROP_OOO_LIMIT), 1);
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "[gap 2]1\n2\n3\n4\n[fin]");
	rec_free(tp);
}

Test(tcp, truncated_capture_is_a_gap)
{
	struct tp *tp = rec_new(NULL);
	struct packet p;

	tp_handshake(tp);
	p = client_packet(tp, 1, 40000, XB_TCP_ACK);
	p.seq = tp->seq[0];
	p.payload = (const uint8_t *)"ab\ncd";
	p.payload_len = 5;
	p.wire_len = 20;
	pipeline_packet(tp->pl, &p);
	tp->seq[0] += 20;
	tp_tcp(tp, 0, 0, "next\n", 5);
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "ab\n[gap 15]next\n[fin]");
	rec_free(tp);
}

Test(tcp, rst_closes)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "x\n", 2);
	tp_tcp(tp, 1, XB_TCP_RST, NULL, 0);
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 0);
	cr_assert_eq(STAT(tp, TCP_CLOSED_RST), 1);
	cr_assert_str_eq(last_log[0], "x\n[fin]");
	rec_free(tp);
}

Test(tcp, stream_cap_drops_and_counts)
{
	struct tp *tp = rec_new(NULL);
	char big[100];

	memset(big, 'a', sizeof(big));
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, big, 50);
	tp_tcp(tp, 0, 0, big, 50); /* 100 bytes without newline > max_stream_bytes 64 */
	tp_tcp(tp, 0, 0, "ok\n", 3);
	tp_flush(tp);
	cr_assert_eq(STAT(tp, DROP_STREAM_LIMIT), 1);
	cr_assert_str_eq(last_log[0], "[gap 100]ok\n[fin]");
	rec_free(tp);
}

Test(tcp, parse_error_counted_and_recovers)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "!bad\n", 5);
	tp_tcp(tp, 0, 0, "good\n", 5);
	tp_flush(tp);
	cr_assert_eq(STAT(tp, DROP_PARSE), 1);
	cr_assert_str_eq(last_log[0], "good\n[fin]");
	rec_free(tp);
}

Test(tcp, connection_cap_and_idle_timeout)
{
	struct tp *tp = rec_new("  max_connections: 1\n  idle_timeout: 5s\n");
	struct packet p;

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "a\n", 2);
	p = client_packet(tp, 3, 40001, XB_TCP_SYN);
	pipeline_packet(tp->pl, &p);
	cr_assert_eq(STAT(tp, DROP_CONN_LIMIT), 1);
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 1);
	pipeline_tick(tp->pl, tp->ts + 6000000000ull);
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 0);
	cr_assert_eq(STAT(tp, TCP_CLOSED_IDLE), 1);
	rec_free(tp);
}

Test(tcp, sequence_wraparound)
{
	struct tp *tp = rec_new(NULL);

	/* mid-stream join right below 2^32 */
	tp_tcp_at(tp, 0, 0, 0xfffffffeu - 1001, "ab", 2);
	tp_tcp_at(tp, 0, 0, 0xfffffffeu - 1001 + 2, "c\n", 2);
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "abc\n[fin]");
	rec_free(tp);
}

Test(tcp, last_ack_after_close_opens_no_connection)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "a\n", 2);
	tp_tcp(tp, 0, XB_TCP_FIN, NULL, 0);
	tp_tcp(tp, 1, XB_TCP_FIN, NULL, 0);
	tp_tcp(tp, 0, 0, NULL, 0); /* final ACK */
	tp_tcp(tp, 1, XB_TCP_RST, NULL, 0);
	cr_assert_eq(STAT(tp, TCP_CONNS), 1);
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 0);
	rec_free(tp);
}

Test(tcp, segment_half_the_sequence_space_behind)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "a\n", 2);
	/* exactly 2^31 behind next_seq: must count as old, not overflow */
	tp_tcp_at(tp, 0, 0, 2u - 0x80000000u, "zz\n", 3);
	tp_tcp(tp, 0, 0, "b\n", 2);
	tp_flush(tp);
	cr_assert_str_eq(last_log[0], "a\nb\n[fin]");
	rec_free(tp);
}

Test(tcp, hole_acked_by_the_peer_is_skipped_before_its_answer)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	/* the request's first segment is lost from the capture, its second is queued */
	tp_tcp_at(tp, 0, 0, 4, "req\n", 4);
	tp->seq[0] = 1001 + 8;
	/* the server acknowledges all 8 request bytes and answers */
	tp_tcp(tp, 1, 0, "resp\n", 5);
	cr_assert_str_eq(order_log, "c:req\ns:resp\n");
	cr_assert_eq(STAT(tp, TCP_GAPS), 1);
	tp_flush(tp);
	rec_free(tp);
}

Test(tcp, new_syn_on_a_stale_tuple_starts_a_new_connection)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "old\n", 4);
	/* the old connection's end was never captured; a new SYN with an ISN "behind" it */
	tp->seq[0] = 100;
	tp_tcp(tp, 0, XB_TCP_SYN, NULL, 0);
	tp->seq[0] = 101;
	tp_tcp(tp, 0, 0, "new\n", 4);
	tp_flush(tp);
	cr_assert_eq(STAT(tp, TCP_CONNS), 2);
	cr_assert_str_eq(last_log[0], "new\n[fin]");
	cr_assert_eq(STAT(tp, TCP_RETRANS), 0);
	rec_free(tp);
}

Test(tcp, retransmitted_syn_keeps_the_connection)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "x\n", 2);
	tp_flush(tp);
	cr_assert_eq(STAT(tp, TCP_CONNS), 1);
	cr_assert_str_eq(last_log[0], "x\n[fin]");
	rec_free(tp);
}

Test(tcp, fin_acked_after_a_lost_tail_closes_the_direction)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "q\n", 2);
	tp_tcp(tp, 1, 0, "a\n", 2);
	tp->seq[1] += 10; /* 10 response bytes never captured */
	tp_tcp(tp, 1, XB_TCP_FIN, NULL, 0);
	cr_assert_str_eq(last_log[1], "");
	tp_tcp(tp, 0, 0, NULL, 0); /* the client acknowledges the FIN */
	cr_assert_str_eq(last_log[1], "a\n[gap 10][fin]");
	cr_assert_eq(STAT(tp, TCP_GAPS), 1);
	rec_free(tp);
}

Test(tcp, out_of_order_data_respects_the_stream_cap)
{
	struct tp *tp = rec_new(NULL);
	char big[40];

	memset(big, 'b', sizeof(big));
	tp_handshake(tp);
	tp_tcp_at(tp, 0, 0, 10, big, 40); /* queued: 40 of max_stream_bytes 64 */
	tp_tcp_at(tp, 0, 0, 50, big, 40); /* 80 > 64: not held */
	cr_assert_eq(STAT(tp, DROP_TOTAL_LIMIT), 1);
	tp_flush(tp);
	rec_free(tp);
}

Test(tcp, full_table_evicts_a_connection_that_never_carried_data)
{
	struct tp *tp = rec_new("  max_connections: 1\n");
	struct packet p;

	tp_handshake(tp); /* connection 1: handshake only */
	p = client_packet(tp, 3, 40001, XB_TCP_SYN);
	pipeline_packet(tp->pl, &p); /* connection 2 takes its place */
	cr_assert_eq(STAT(tp, TCP_EVICTED), 1);
	cr_assert_eq(STAT(tp, DROP_CONN_LIMIT), 0);
	cr_assert_eq(STAT(tp, TCP_CONNS_OPEN), 1);
	/* connection 2 carries data: a third one is refused, not evicting it */
	p.tcp_flags = XB_TCP_ACK;
	p.seq = 1;
	p.payload = (const uint8_t *)"d\n";
	p.payload_len = p.wire_len = 2;
	pipeline_packet(tp->pl, &p);
	p.sport = 40002;
	p.tcp_flags = XB_TCP_SYN;
	p.payload_len = p.wire_len = 0;
	pipeline_packet(tp->pl, &p);
	cr_assert_eq(STAT(tp, DROP_CONN_LIMIT), 1);
	cr_assert_eq(STAT(tp, TCP_EVICTED), 1);
	rec_free(tp);
}

Test(tcp, bytes_balance_parse_error_mid_buffer)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "ok\n!ba", 6); /* one line consumed, "!ba" buffered */
	tp_tcp(tp, 0, 0, "d\nmore", 6); /* parse error on the buffer: 6 + 3 bytes dropped */
	tp_tcp(tp, 0, 0, "fine\n", 5);
	tp_flush(tp);
	cr_assert_eq(STAT(tp, TCP_BYTES_DELIVERED), 17);
	cr_assert_eq(STAT(tp, TCP_BYTES_CONSUMED), 8);
	cr_assert_eq(STAT(tp, TCP_BYTES_DROP_PARSE), 9);
	tp_assert_bytes_balance(tp);
	rec_free(tp);
}

Test(tcp, bytes_balance_parse_error_in_packet)
{
	struct tp *tp = rec_new(NULL);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, "a\nb\n!x\nc", 8); /* 4 consumed, then an error drops 4 */
	tp_flush(tp);
	cr_assert_eq(STAT(tp, TCP_BYTES_CONSUMED), 4);
	cr_assert_eq(STAT(tp, TCP_BYTES_DROP_PARSE), 4);
	tp_assert_bytes_balance(tp);
	rec_free(tp);
}

Test(tcp, bytes_balance_cap_gap_and_close)
{
	struct tp *tp = rec_new(NULL);
	char big[100];

	memset(big, 'a', sizeof(big));
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, big, 50);
	tp_tcp(tp, 0, 0, big, 50); /* over max_stream_bytes 64: 100 dropped by the cap */
	tp_tcp(tp, 0, 0, "x\npartial", 9);
	tp_tcp_at(tp, 0, 0, 120, "y\nz", 3); /* hole: "partial" dropped by the gap */
	tp_tcp(tp, 1, 0, "unfinished", 10); /* left at close */
	tp_flush(tp);
	cr_assert_eq(STAT(tp, TCP_BYTES_DROP_CAP), 100);
	cr_assert_eq(STAT(tp, TCP_BYTES_DROP_GAP), 7);
	cr_assert_eq(STAT(tp, TCP_BYTES_DROP_CLOSE), 11); /* "z" and "unfinished" */
	cr_assert_eq(STAT(tp, TCP_BYTES_CONSUMED), 4);
	tp_assert_bytes_balance(tp);
	rec_free(tp);
}
