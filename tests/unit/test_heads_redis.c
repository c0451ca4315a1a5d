/*
 * Heads-only capture of Redis values through the TCP layer: the bytes of a
 * bulk string past what the event's text keeps (REDIS_TEXT_MAX, 1 MiB) are
 * announced to the kernel, and the segments it then leaves out are counted
 * as read. Each test feeds the same segments twice, once with every byte
 * copied and once through a small model of the kernel (a segment wholly
 * inside the announced region goes as a length-only record, the first one
 * reaching past it ends the region), and wants the very same events.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"

#define C2S 0
#define S2C 1
#define PORT 6379
#define TEXT_MAX (1u << 20) /* REDIS_TEXT_MAX */
#define BIG (TEXT_MAX + (1u << 20)) /* a value 1 MiB longer than the text keeps */
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_REDIS][PSTAT_##id])
/* where the value starts in set_get_big's request ("*3 SET big $<7 digits>") and reply ("+OK $<7 digits>") */
#define REQ_VAL 32
#define RSP_VAL 15
/*
 * The requests all go before their replies here, and a big SET counts its
 * whole text against Packetbeat's queue_max_bytes (1 MB): no limit.
 */
#define NO_QUEUE_LIMIT "    queue_max_bytes: 0\n"

/* The kernel's skips map, one entry per direction, and what it left out. */
struct kern {
	int asked;
	bool on[2];
	uint32_t end[2];
	uint64_t skipped;
};

static void record_skip(void *ctx, const struct xb_skip_key *k, uint32_t end_seq)
{
	struct kern *kn = ctx;
	int dir = k->sport == PORT ? S2C : C2S;

	kn->asked++;
	kn->on[dir] = true;
	kn->end[dir] = end_seq;
}

/* How one direction's bytes are cut into segments. */
struct cuts {
	size_t seg; /* longest segment */
	size_t at[8]; /* offsets where a segment must end (0: unused) */
	size_t lost; /* the segment starting here (one of at[]) is lost, not skipped; 0: none */
};

/* Length of the segment at off: up to seg bytes, ending at the next cut. */
static size_t seg_len(const struct cuts *ct, size_t off, size_t len)
{
	size_t l = len - off < ct->seg ? len - off : ct->seg;

	for (size_t i = 0; i < sizeof(ct->at) / sizeof(ct->at[0]); i++)
		if (ct->at[i] > off && ct->at[i] < off + l)
			l = ct->at[i] - off;
	return l;
}

/* buf as segments in dir; kn (NULL: every byte copied) leaves out those wholly inside its region. */
static void send_cut(struct tp *tp, struct kern *kn, int dir, const uint8_t *buf, size_t len, const struct cuts *ct)
{
	for (size_t off = 0, l; off < len; off += l) {
		l = seg_len(ct, off, len);
		if (ct->lost && off == ct->lost) {
			tp_tcp_cut(tp, dir, buf + off, 0, (uint32_t)l);
			continue;
		}
		if (kn && kn->on[dir] && (int32_t)(kn->end[dir] - (tp->seq[dir] + (uint32_t)l)) >= 0) {
			tp_tcp_skipped(tp, dir, (uint32_t)l);
			kn->skipped += l;
			continue;
		}
		if (kn)
			kn->on[dir] = false; /* the kernel drops the entry at the first segment past it */
		tp_tcp(tp, dir, 0, buf + off, l);
	}
}

/* A growing byte string. */
struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert(b->p);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A bulk string of n bytes of a pattern (so a kept prefix taken from the wrong place would show). */
static void put_bulk(struct buf *b, size_t n)
{
	char head[32];

	snprintf(head, sizeof(head), "$%zu\r\n", n);
	put_str(b, head);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)('a' + (i * 7 + i / 4096) % 26);

		put(b, &c, 1);
	}
	put_str(b, "\r\n");
}

/* What both directions carry and how they are cut. */
struct exchange {
	const char *extra; /* more YAML for tp_proto */
	struct buf c2s, s2c;
	struct cuts cc, cs;
};

static struct tp *run(struct exchange *x, struct kern *kn)
{
	struct tp *tp = tp_proto("redis", PORT, x->extra ? x->extra : NO_QUEUE_LIMIT);

	if (kn)
		pipeline_set_skip(tp->pl, record_skip, kn);
	tp_handshake(tp);
	send_cut(tp, kn, C2S, x->c2s.p, x->c2s.n, &x->cc);
	send_cut(tp, kn, S2C, x->s2c.p, x->s2c.n, &x->cs);
	tp_flush(tp);
	tp_assert_bytes_balance(tp);
	return tp;
}

/*
 * x fed with every byte copied and with the kernel leaving out what was
 * announced: the same events. Returns the heads-only run (kn filled in).
 */
static struct tp *same_events(struct exchange *x, struct kern *kn)
{
	struct tp *full = run(x, NULL), *heads = run(x, kn);
	char *a = tp_dump(full), *b = tp_dump(heads);

	cr_assert_str_eq(b, a, "heads-only capture changed the events");
	cr_assert_eq(stats_get(&heads->st, STAT_TCP_BYTES_SKIPPED), kn->skipped, "every skipped byte taken as read");
	cr_assert_eq(stats_get(&full->st, STAT_TCP_BYTES_SKIPPED), 0);
	cr_assert_eq(stats_get(&heads->st, STAT_TCP_GAPS), stats_get(&full->st, STAT_TCP_GAPS));
	cr_assert_eq(PSTAT(heads, TOO_LARGE), PSTAT(full, TOO_LARGE));
	free(a);
	free(b);
	tp_free(full);
	return heads;
}

static void exchange_free(struct exchange *x)
{
	free(x->c2s.p);
	free(x->s2c.p);
}

/* SET big <BIG bytes>, GET big; +OK, the same value back. */
static void set_get_big(struct exchange *x, size_t n)
{
	put_str(&x->c2s, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n");
	put_bulk(&x->c2s, n);
	put_str(&x->c2s, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
	put_str(&x->s2c, "+OK\r\n");
	put_bulk(&x->s2c, n);
}

Test(heads_redis, set_and_get_of_a_big_value_skip_past_the_text_with_the_events_of_a_full_copy)
{
	struct exchange x = { .cc = { .seg = 65536 }, .cs = { .seg = 65536 } };
	struct kern kn = { 0 };
	struct tp *tp;
	const char *q, *r;

	set_get_big(&x, BIG);
	tp = same_events(&x, &kn);
	cr_assert_eq(kn.asked, 2, "one skip per value, each direction");
	/* each value from the end of the 64 KiB segment that fills the text to the segment reaching past it */
	cr_assert_eq(kn.skipped, 2 * (uint64_t)(BIG - TEXT_MAX - 65536));
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_eq(tp_count(tp), 2);
	q = tp_str(tp, 0, "query");
	cr_assert_eq(strlen(q), TEXT_MAX, "the query text is the first 1 MiB");
	cr_assert_eq(memcmp(q, "SET big ", 8), 0);
	cr_assert_eq(memcmp(q + 8, x.c2s.p + REQ_VAL, TEXT_MAX - 8), 0, "the kept prefix is the value's start");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)(x.c2s.n - strlen("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")));
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 5);
	cr_assert_str_eq(tp_str(tp, 1, "method"), "GET");
	r = tp_str(tp, 1, "redis.return_value");
	cr_assert_eq(strlen(r), TEXT_MAX);
	cr_assert_eq(tp_int(tp, 1, "destination.bytes"), (json_int_t)(x.s2c.n - 5));
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	cr_assert_null(tp_get(tp, 1, "error.message"));
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 2, "both texts cut at the cap, as with a full copy");
	tp_free(tp);
	exchange_free(&x);
}

Test(heads_redis, value_the_text_keeps_whole_is_copied)
{
	struct exchange x = { .cc = { .seg = 65536 }, .cs = { .seg = 65536 } };
	struct kern kn = { 0 };
	struct tp *tp;

	/* 1 MiB: the reply fits the text exactly, the request has 8 bytes past it (under skip_body_bytes) */
	set_get_big(&x, TEXT_MAX);
	tp = same_events(&x, &kn);
	cr_assert_eq(kn.asked, 0, "nothing worth a skip");
	cr_assert_eq(kn.skipped, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(strlen(tp_str(tp, 1, "redis.return_value")), TEXT_MAX);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1, "only the request's text is cut");
	tp_free(tp);
	exchange_free(&x);
}

/* Cuts inside the length line, at and inside the CRLF after the value, one byte before its end, odd sizes. */
Test(heads_redis, split_points_in_the_length_line_and_the_crlf)
{
	static const size_t segs[] = { 65536, 100003, 1460 };

	for (size_t si = 0; si < sizeof(segs) / sizeof(segs[0]); si++)
		for (int v = 0; v < 4; v++) {
			struct exchange x = { .cc = { .seg = segs[si] }, .cs = { .seg = segs[si] } };
			struct kern kn = { 0 };
			size_t len_line = REQ_VAL - 8, vend = REQ_VAL + BIG; /* "$2|097152" */
			size_t r_line = RSP_VAL - 7, r_end = RSP_VAL + BIG; /* "$20|97152" */
			struct tp *tp;

			set_get_big(&x, BIG);
			x.cc.at[0] = len_line;
			x.cs.at[0] = r_line;
			switch (v) {
			case 0: /* the CR, then the LF with the next command */
				x.cc.at[1] = vend + 1;
				x.cs.at[1] = r_end + 1;
				break;
			case 1: /* the region ends a segment, the CRLF starts the next */
				x.cc.at[1] = vend;
				x.cs.at[1] = r_end;
				break;
			case 2: /* the last value byte travels with the CRLF */
				x.cc.at[1] = vend - 1;
				x.cs.at[1] = r_end - 1;
				break;
			case 3: /* the length line's CR and LF apart */
				x.cc.at[1] = REQ_VAL - 1;
				x.cs.at[1] = RSP_VAL - 1;
				break;
			}
			tp = same_events(&x, &kn);
			cr_assert_eq(tp_count(tp), 2, "seg %zu, cut %d", segs[si], v);
			/* at most a segment before it and one reaching past it copied, per value */
			cr_assert_gt(kn.skipped, 2 * (uint64_t)(BIG - TEXT_MAX - 2 * segs[si]), "seg %zu, cut %d",
				     segs[si], v);
			cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 0);
			cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
			tp_free(tp);
			exchange_free(&x);
		}
}

Test(heads_redis, pipelined_commands_after_a_skipped_value_parse_normally)
{
	struct exchange x = { .cc = { .seg = 1 << 22 }, .cs = { .seg = 1 << 22 } };
	struct kern kn = { 0 };
	struct tp *tp;

	/* the value's CRLF and three commands in one segment; their replies after the big one, in one too */
	set_get_big(&x, BIG);
	put_str(&x.c2s, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\nECHO hi\r\n");
	put_str(&x.s2c, "$1\r\nv\r\n+PONG\r\n$2\r\nhi\r\n");
	/* up to the text's end, the rest of the value as one record, then the CRLF and what follows */
	x.cc.at[0] = REQ_VAL + TEXT_MAX - 8; /* "SET big " and the value's first bytes */
	x.cc.at[1] = REQ_VAL + BIG;
	x.cs.at[0] = RSP_VAL + TEXT_MAX;
	x.cs.at[1] = RSP_VAL + BIG;
	tp = same_events(&x, &kn);
	cr_assert_eq(kn.skipped, 2 * (uint64_t)(BIG - TEXT_MAX) + 8, "exactly the value past the text, both ways");
	cr_assert_eq(tp_count(tp), 5);
	cr_assert_str_eq(tp_str(tp, 2, "query"), "GET k");
	cr_assert_str_eq(tp_str(tp, 2, "redis.return_value"), "v");
	cr_assert_str_eq(tp_str(tp, 3, "redis.return_value"), "PONG");
	cr_assert_str_eq(tp_str(tp, 4, "query"), "ECHO hi");
	cr_assert_str_eq(tp_str(tp, 4, "redis.return_value"), "hi");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
	exchange_free(&x);
}

/* A record lost inside the skipped region is a gap as today: the value goes on, the text already kept stays. */
Test(heads_redis, gap_inside_a_skipped_value_is_handled_as_a_gap)
{
	struct exchange x = { .cc = { .seg = 65536 }, .cs = { .seg = 65536 } };
	struct kern kn = { 0 };
	struct tp *tp;

	set_get_big(&x, BIG);
	x.cs.at[0] = RSP_VAL + TEXT_MAX + 65536;
	x.cs.at[1] = RSP_VAL + TEXT_MAX + 2 * 65536;
	x.cs.lost = x.cs.at[0];
	tp = same_events(&x, &kn);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 1);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	cr_assert_gt(kn.skipped, 0, "skipping went on after the gap");
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_eq(strlen(tp_str(tp, 1, "redis.return_value")), TEXT_MAX);
	cr_assert_eq(tp_int(tp, 1, "destination.bytes"), (json_int_t)(x.s2c.n - 5), "the lost bytes still counted");
	tp_free(tp);
	exchange_free(&x);
}

/* What the parser still renders is never skippable: a record left out there is a gap. */
Test(heads_redis, skipped_record_where_the_text_needs_bytes_is_a_gap)
{
	struct kern kn = { 0 };
	struct tp *tp = tp_proto("redis", PORT, NULL);

	pipeline_set_skip(tp->pl, record_skip, &kn);
	tp_handshake(tp);
	tp_tcp_str(tp, C2S, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n*1\r\n$4\r\nPING\r\n");
	tp_tcp_str(tp, S2C, "$200000\r\n");
	cr_assert_eq(kn.asked, 0, "a value the text keeps is not announced");
	tp_tcp_skipped(tp, S2C, 100000); /* inside the value: lost from the text, as a gap is */
	tp_tcp_skipped(tp, S2C, 100000);
	tp_tcp_str(tp, S2C, "\r\n+PONG\r\n");
	tp_tcp_skipped(tp, S2C, 5000); /* between messages */
	tp_flush(tp);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_BYTES_SKIPPED), 0);
	cr_assert_eq(stats_get(&tp->st, STAT_TCP_GAPS), 3);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "redis.return_value"), "", "the value's bytes are missing");
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), 200000 + 11);
	cr_assert_str_eq(tp_str(tp, 1, "redis.return_value"), "PONG");
	tp_free(tp);
}

/* A RESP3 attribute is not rendered: a big value inside one is skipped whole, the reply after it kept. */
Test(heads_redis, value_inside_an_attribute_is_skipped_whole)
{
	struct exchange x = { .cc = { .seg = 65536 }, .cs = { .seg = 65536 } };
	struct kern kn = { 0 };
	struct tp *tp;

	put_str(&x.c2s, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	put_str(&x.s2c, "|1\r\n$3\r\nkey\r\n");
	put_bulk(&x.s2c, 300000);
	put_str(&x.s2c, "$5\r\nhello\r\n");
	x.cs.at[0] = strlen("|1\r\n$3\r\nkey\r\n$300000\r\n");
	tp = same_events(&x, &kn);
	cr_assert_eq(kn.asked, 1);
	cr_assert_geq(kn.skipped, 300000 - 65536);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "redis.return_value"), "hello");
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), (json_int_t)x.s2c.n);
	tp_free(tp);
	exchange_free(&x);
}

/* The skipped bytes count in the text's full length, which queue_max_bytes weighs, as a full copy's do. */
Test(heads_redis, queue_limit_weighs_the_skipped_text_too)
{
	struct exchange x = { .extra = "    queue_max_bytes: 1048600\n",
			      .cc = { .seg = 1 << 22 },
			      .cs = { .seg = 1 << 22 } };
	struct kern kn = { 0 };
	struct tp *tp;

	/* the SET's text is 1 MiB + 8 only when its skipped bytes count: GET big then pushes it out */
	set_get_big(&x, TEXT_MAX + 65536);
	x.cc.at[0] = REQ_VAL + TEXT_MAX - 8;
	x.cc.at[1] = REQ_VAL + TEXT_MAX + 65536;
	tp = same_events(&x, &kn);
	cr_assert_eq(kn.skipped, 65536 + 8);
	cr_assert_eq(PSTAT(tp, QUEUE_LIMIT), 1);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "SET");
	cr_assert_null(tp_get(tp, 0, "redis.return_value"), "published unanswered");
	tp_free(tp);
	exchange_free(&x);
}
