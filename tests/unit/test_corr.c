/*
 * The correlator on its own, and the TCP tracker feeding it, without a
 * pipeline: a recording emit callback sees every transaction.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "corr.h"
#include "proto.h"
#include "tcp.h"

#define MAX_TXN 64

/* What the emit callback saw of one transaction. */
struct txn {
	uint64_t req_ts, resp_ts; /* resp_ts 0: no response */
	bool placeholder;
	enum msg_status status;
	const char *note; /* the request's first note, or NULL */
	bool noted;
};

struct rec {
	struct txn t[MAX_TXN];
	size_t n;
};

static void rec_emit(void *ctx, const struct proto_cfg *cfg, const struct flow *f, const struct msg *req,
		     const struct msg *resp)
{
	struct rec *r = ctx;

	if (r->n < MAX_TXN)
		r->t[r->n++] = (struct txn){ .req_ts = req->ts,
					     .resp_ts = resp ? resp->ts : 0,
					     .placeholder = req->placeholder,
					     .status = resp ? resp->status : MSG_OK,
					     .note = req->nnotes ? req->notes[0] : NULL,
					     .noted = req->noted };
}

static const struct proto_ops test_ops = { .name = "test", .id = PROTO_HTTP };
static const struct proto_ops test_ops_unmatched = { .name = "test", .id = PROTO_HTTP, .publish_unmatched = true };

struct fixture {
	struct stats st;
	struct rec rec;
	struct corr *k;
	struct proto_cfg pc;
	struct conn c; /* a TCP connection's handle */
};

static void fx_init(struct fixture *fx, uint64_t max_total_bytes)
{
	struct corr_limits lim = { .max_total_bytes = max_total_bytes };

	memset(fx, 0, sizeof(*fx));
	fx->k = corr_new(&lim, &fx->st, rec_emit, &fx->rec);
	cr_assert_not_null(fx->k);
	fx->pc.ops = &test_ops;
	fx->pc.transaction_timeout = 10;
	fx->pc.queue_max_messages = 1024;
	fx->c.cfg = &fx->pc;
	fx->c.corr = fx->k;
	fx->c.flow.transport = IPPROTO_TCP;
}

static void fx_free(struct fixture *fx)
{
	corr_conn_close(&fx->c);
	corr_free(fx->k);
}

static struct msg *mk(uint64_t ts)
{
	struct msg *m = msg_new(ts);

	cr_assert_not_null(m);
	m->bytes = 10;
	return m;
}

static struct msg *mk_id(uint64_t ts, uint64_t id)
{
	struct msg *m = mk(ts);

	msg_set_id(m, id);
	return m;
}

static uint64_t pstat(struct fixture *fx, enum pstat_id id)
{
	return fx->st.proto[PROTO_HTTP][id];
}

Test(corr, pairs_in_order)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	corr_request(&fx.c, mk(1));
	corr_request(&fx.c, mk(2));
	cr_assert_eq(corr_queued(&fx.c), 2);
	corr_response(&fx.c, mk(3));
	corr_response(&fx.c, mk(4));
	cr_assert_eq(fx.rec.n, 2);
	cr_assert_eq(fx.rec.t[0].req_ts, 1);
	cr_assert_eq(fx.rec.t[0].resp_ts, 3);
	cr_assert_eq(fx.rec.t[1].req_ts, 2);
	cr_assert_eq(fx.rec.t[1].resp_ts, 4);
	cr_assert_eq(pstat(&fx, PSTAT_TXN), 2);
	fx_free(&fx);
}

Test(corr, a_response_with_an_id_pairs_by_id)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	corr_request(&fx.c, mk_id(1, 7));
	corr_request(&fx.c, mk_id(2, 8));
	corr_response(&fx.c, mk_id(3, 8));
	cr_assert_eq(fx.rec.n, 1);
	cr_assert_eq(fx.rec.t[0].req_ts, 2);
	corr_response(&fx.c, mk_id(4, 9)); /* nothing with id 9 */
	cr_assert_eq(fx.rec.n, 1, "unmatched, not published (publish_unmatched off)");
	cr_assert_eq(pstat(&fx, PSTAT_UNMATCHED), 1);
	cr_assert_eq(corr_queued(&fx.c), 1);
	fx_free(&fx);
	cr_assert_eq(fx.rec.n, 2, "the request with id 7 unanswered at close");
	cr_assert_eq(fx.rec.t[1].resp_ts, 0);
	cr_assert_eq(pstat(&fx, PSTAT_UNANSWERED), 1);
}

Test(corr, unmatched_is_published_with_a_placeholder_when_asked)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	fx.pc.ops = &test_ops_unmatched;
	corr_response(&fx.c, mk(5));
	cr_assert_eq(fx.rec.n, 1);
	cr_assert(fx.rec.t[0].placeholder);
	cr_assert_eq(fx.rec.t[0].status, MSG_ERROR);
	cr_assert_eq(fx.st.v[STAT_TXN_UNMATCHED_RESP], 1);
	fx_free(&fx);
}

static bool ts_is(const struct msg *m, const void *arg)
{
	return m->ts == *(const uint64_t *)arg;
}

Test(corr, answer_publishes_the_requests_passed_over)
{
	struct fixture fx;
	uint64_t want = 3, none = 99;
	struct msg *quiet = mk(2);

	fx_init(&fx, 1 << 20);
	quiet->quiet = true;
	corr_request(&fx.c, mk(1));
	corr_request(&fx.c, quiet);
	corr_request(&fx.c, mk(3));
	corr_request(&fx.c, mk(4));
	cr_assert_eq(corr_find(&fx.c, ts_is, &want)->ts, 3);
	corr_answer(&fx.c, mk(10), ts_is, &want);
	cr_assert_eq(fx.rec.n, 3);
	cr_assert_eq(fx.rec.t[0].resp_ts, 0, "passed over: unanswered");
	cr_assert_eq(fx.rec.t[1].resp_ts, 0, "passed over: quiet, so OK");
	cr_assert_eq(fx.rec.t[2].req_ts, 3);
	cr_assert_eq(fx.rec.t[2].resp_ts, 10);
	cr_assert_eq(pstat(&fx, PSTAT_UNANSWERED), 1);
	cr_assert_eq(pstat(&fx, PSTAT_TXN), 2);
	corr_answer(&fx.c, mk(11), ts_is, &none);
	cr_assert_eq(fx.rec.n, 3, "no request taken: unmatched");
	cr_assert_eq(corr_queued(&fx.c), 1);
	fx_free(&fx);
}

Test(corr, protocol_note_for_passed_over_and_status_of_unmatched)
{
	static const struct proto_ops ops = { .name = "test",
					      .id = PROTO_HTTP,
					      .publish_unmatched = true,
					      .note_skipped = "skipped",
					      .unmatched_status = MSG_CLIENT_ERROR };
	struct fixture fx;
	uint64_t want = 3;
	struct msg *quiet = mk(2);

	fx_init(&fx, 1 << 20);
	fx.pc.ops = &ops;
	quiet->quiet = true;
	corr_request(&fx.c, mk(1));
	corr_request(&fx.c, quiet);
	corr_request(&fx.c, mk(3));
	corr_answer(&fx.c, mk(10), ts_is, &want);
	cr_assert_eq(fx.rec.n, 3);
	cr_assert_str_eq(fx.rec.t[0].note, "skipped");
	cr_assert(fx.rec.t[0].noted, "its note says why: not the unanswered one");
	cr_assert_null(fx.rec.t[1].note, "a quiet request passed over is not noted");
	cr_assert_null(fx.rec.t[2].note);
	corr_response(&fx.c, mk(11));
	cr_assert_eq(fx.rec.n, 4);
	cr_assert(fx.rec.t[3].placeholder);
	cr_assert_eq(fx.rec.t[3].status, MSG_CLIENT_ERROR);
	fx_free(&fx);
}

static bool odd_ts(const struct msg *m, const void *arg)
{
	return m->ts % 2;
}

Test(corr, give_up_takes_only_what_the_predicate_accepts)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	for (uint64_t ts = 1; ts <= 5; ts++)
		corr_request(&fx.c, mk(ts));
	corr_give_up(&fx.c, odd_ts, NULL);
	cr_assert_eq(fx.rec.n, 3);
	cr_assert_eq(corr_queued(&fx.c), 2);
	cr_assert_eq(corr_oldest(&fx.c)->ts, 2);
	corr_response(&fx.c, mk(9));
	cr_assert_eq(fx.rec.t[3].req_ts, 2);
	fx_free(&fx);
}

Test(corr, queue_max_messages_gives_up_the_oldest_and_counts_it)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	fx.pc.queue_max_messages = 2;
	corr_request(&fx.c, mk(1));
	corr_request(&fx.c, mk(2));
	corr_request(&fx.c, mk(3));
	cr_assert_eq(fx.rec.n, 1);
	cr_assert_eq(fx.rec.t[0].req_ts, 1);
	cr_assert_eq(pstat(&fx, PSTAT_QUEUE_LIMIT), 1);
	cr_assert_eq(fx.st.v[STAT_TXN_GIVEN_UP_QUEUE], 1);
	cr_assert_eq(corr_queued(&fx.c), 2);
	fx_free(&fx);
}

Test(corr, queue_max_bytes_counts_queue_size)
{
	struct fixture fx;
	struct msg *big = mk(3);

	fx_init(&fx, 1 << 20);
	fx.pc.queue_max_bytes = 25;
	corr_request(&fx.c, mk(1)); /* 10 */
	corr_request(&fx.c, mk(2)); /* 20 */
	big->queue_size = 20;
	corr_request(&fx.c, big); /* 40 > 25: 1 goes, then 2 */
	cr_assert_eq(fx.rec.n, 2);
	cr_assert_eq(corr_queued(&fx.c), 1);
	big = mk(4);
	big->queue_size = 100; /* alone over the limit: queued all the same */
	corr_request(&fx.c, big);
	cr_assert_eq(corr_queued(&fx.c), 1);
	cr_assert_eq(corr_oldest(&fx.c)->ts, 4);
	fx_free(&fx);
}

Test(corr, memory_cap_counts_what_messages_keep)
{
	struct fixture fx;
	struct msg *m;

	fx_init(&fx, 100);
	for (uint64_t ts = 1; ts <= 3; ts++) {
		m = mk(ts);
		msg_set_priv(m, malloc(1), NULL, 40);
		corr_request(&fx.c, m);
	}
	cr_assert_eq(fx.rec.n, 1, "the third would make 120 > 100: the oldest goes");
	cr_assert_eq(fx.st.v[STAT_TXN_GIVEN_UP_MEMORY], 1);
	corr_response(&fx.c, mk(5));
	corr_response(&fx.c, mk(6));
	cr_assert_eq(fx.rec.n, 3);
	m = mk(7);
	msg_set_priv(m, malloc(1), NULL, 100);
	corr_request(&fx.c, m); /* alone: kept */
	cr_assert_eq(corr_queued(&fx.c), 1);
	fx_free(&fx);
}

Test(corr, expiry_after_the_transaction_timeout)
{
	struct fixture fx;

	fx_init(&fx, 1 << 20);
	corr_request(&fx.c, mk(1));
	corr_request(&fx.c, mk(8));
	corr_conn_expire(&fx.c, 10);
	cr_assert_eq(fx.rec.n, 0, "1 + 10 > 10");
	corr_conn_expire(&fx.c, 11);
	cr_assert_eq(fx.rec.n, 1);
	cr_assert_eq(corr_queued(&fx.c), 1);
	fx_free(&fx);
}

Test(corr, take_id_and_take)
{
	struct fixture fx;
	struct msg *m;

	fx_init(&fx, 1 << 20);
	corr_request(&fx.c, mk_id(1, 5));
	corr_request(&fx.c, mk_id(2, 6));
	corr_request(&fx.c, mk_id(3, 7));
	m = corr_take_id(&fx.c, 6);
	cr_assert_eq(m->ts, 2);
	msg_free(m);
	cr_assert_null(corr_take_id(&fx.c, 6));
	m = corr_take(&fx.c, corr_oldest(&fx.c));
	cr_assert_eq(m->ts, 1);
	msg_free(m);
	cr_assert_eq(corr_queued(&fx.c), 1);
	fx_free(&fx);
}

/* ---- UDP: the same calls on a datagram handle ---- */

static struct flow udp_flow(uint16_t client_port)
{
	struct flow f = { .client_port = client_port, .server_port = 53, .transport = IPPROTO_UDP };

	f.client_ip.family = f.server_ip.family = 4;
	f.client_ip.a[3] = 1;
	f.server_ip.a[3] = 2;
	return f;
}

Test(corr, udp_pairs_by_flow_and_id)
{
	struct fixture fx;
	struct flow a = udp_flow(1000), b = udp_flow(1001);
	struct conn ca, cb;

	fx_init(&fx, 1 << 20);
	corr_udp_conn(&ca, fx.k, &fx.pc, &a);
	corr_udp_conn(&cb, fx.k, &fx.pc, &b);
	corr_request(&ca, mk_id(1, 42));
	corr_request(&cb, mk_id(2, 42));
	corr_response(&cb, mk_id(3, 42));
	cr_assert_eq(fx.rec.n, 1);
	cr_assert_eq(fx.rec.t[0].req_ts, 2, "the other flow's id 42 waits");
	corr_response(&ca, mk_id(4, 43));
	cr_assert_eq(pstat(&fx, PSTAT_UNMATCHED), 1);
	corr_expire(fx.k, 10);
	cr_assert_eq(fx.rec.n, 1);
	corr_expire(fx.k, 11);
	cr_assert_eq(fx.rec.n, 2, "expired: unanswered");
	cr_assert_eq(fx.rec.t[1].resp_ts, 0);
	fx_free(&fx);
}

Test(corr, udp_same_id_again_gives_up_the_first)
{
	struct fixture fx;
	struct flow a = udp_flow(1000);
	struct conn c;
	struct msg *m;

	fx_init(&fx, 1 << 20);
	corr_udp_conn(&c, fx.k, &fx.pc, &a);
	corr_request(&c, mk_id(1, 9));
	corr_request(&c, mk_id(2, 9));
	cr_assert_eq(fx.rec.n, 1);
	m = corr_take_id(&c, 9);
	cr_assert_eq(m->ts, 2);
	msg_free(m);
	corr_request(&c, mk_id(3, 10));
	corr_free(fx.k); /* publishes what still waits */
	cr_assert_eq(fx.rec.n, 2);
}

/* ---- the tracker feeding the correlator, no pipeline ---- */

/*
 * A length-prefixed test protocol: one byte of length, then the message. It
 * asks for the whole message (c->need) and counts its calls.
 */
static int parse_calls;

static ssize_t lp_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct msg *m;

	parse_calls++;
	if (len < 1u + data[0]) {
		c->need[dir] = 1u + data[0];
		return 0;
	}
	m = mk(ts);
	m->bytes = data[0];
	if (dir == DIR_C2S)
		corr_request(c, m);
	else
		corr_response(c, m);
	return 1 + data[0];
}

static const struct proto_ops lp_ops = { .name = "lp", .id = PROTO_HTTP, .parse = lp_parse };

static void seg(struct tcp_tracker *t, const struct proto_cfg *pc, bool c2s, uint8_t flags, uint32_t seq,
		const void *data, size_t len, uint64_t ts)
{
	struct packet p = { .transport = IPPROTO_TCP, .tcp_flags = flags, .seq = seq, .ts = ts };

	(void)pc;

	p.src.family = p.dst.family = 4;
	p.src.a[3] = c2s ? 1 : 2;
	p.dst.a[3] = c2s ? 2 : 1;
	p.sport = c2s ? 40000 : 9;
	p.dport = c2s ? 9 : 40000;
	p.payload = data;
	p.payload_len = (uint32_t)len;
	p.wire_len = (uint32_t)len;
	tcp_packet(t, pc, &p, c2s);
}

Test(corr, tracker_without_a_pipeline_waits_for_what_the_parser_needs)
{
	struct tcp_cfg tc = { .idle_timeout = 1000000000ull,
			      .max_connections = 16,
			      .max_stream_bytes = 1 << 20,
			      .max_total_bytes = 1 << 24,
			      .max_ooo_segments = 8 };
	struct fixture fx;
	struct tcp_tracker *t;
	uint8_t msg[101] = { 100 };

	fx_init(&fx, 1 << 20);
	fx.pc.ops = &lp_ops;
	t = tcp_new(&tc, &fx.st, fx.k);
	cr_assert_not_null(t);
	parse_calls = 0;
	seg(t, &fx.pc, true, XB_TCP_SYN, 999, NULL, 0, 1);
	seg(t, &fx.pc, false, XB_TCP_SYN | XB_TCP_ACK, 4999, NULL, 0, 2);
	for (uint32_t off = 0; off < sizeof(msg); off += 10) /* 11 segments */
		seg(t, &fx.pc, true, XB_TCP_ACK, 1000 + off, msg + off, sizeof(msg) - off < 10 ? sizeof(msg) - off : 10,
		    3 + off);
	cr_assert_eq(parse_calls, 2, "called once to learn the length, once when the message is whole");
	cr_assert_eq(corr_queued(&fx.c), 0, "the tracker's connection has it, not the fixture's");
	seg(t, &fx.pc, false, XB_TCP_ACK, 5000, "\0", 1, 200);
	cr_assert_eq(fx.rec.n, 1);
	cr_assert_eq(fx.rec.t[0].req_ts, 103, "parsed when its last segment came");
	cr_assert_eq(fx.rec.t[0].resp_ts, 200);
	tcp_free(t);
	fx_free(&fx);
}
