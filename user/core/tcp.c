/*
 * TCP stream tracker. Connections live in a chained hash table keyed by the
 * 5-tuple (both directions hash alike) and on an LRU list ordered by the
 * last packet, so idle expiry only looks at the oldest ones.
 *
 * Each direction keeps the next expected sequence number, the bytes the
 * parser has not consumed yet, and a bounded queue of out-of-order segments.
 * Lost bytes (holes the queue cannot wait for, truncated captures, caps)
 * are reported to the parser as gaps.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "corr.h"
#include "freelist.h"
#include "tcp.h"
#include "util/hash.h"

struct seg {
	struct seg *next;
	uint32_t seq;
	uint32_t len; /* bytes held */
	uint32_t wire_len; /* bytes the segment covered on the wire (>= len) */
	bool skipped; /* heads-only: the kernel left it out on request (packet.skipped) */
	uint64_t ts;
	uint8_t data[];
};

struct stream {
	bool init;
	bool syn_seen;
	uint32_t isn; /* initial sequence number, when syn_seen */
	bool fin;
	bool fin_pending; /* FIN seen, but data before it is missing */
	uint32_t next_seq;
	uint32_t fin_seq;
	uint8_t *buf; /* unconsumed bytes */
	size_t len, cap;
	struct seg *ooo; /* sorted by seq */
	size_t nooo;
	size_t ooo_bytes;
	/*
	 * No silent loss: delivered == consumed + dropped once the stream is
	 * freed. held: bytes the parser took into a message it has not
	 * finished (its pending op), counted as consumed only once it is.
	 */
	uint64_t delivered, consumed, dropped, held;
	enum stat_id last_loss; /* why the parser last lost its place: what bytes it passes over count under */
	uint32_t skip_end; /* heads-only: the kernel was asked to skip segments up to here */
};

struct tcp_conn {
	struct conn app; /* first: parsers see this */
	bool data_seen; /* some payload in either direction */
	struct tcp_conn *hnext;
	struct tcp_conn *lru_prev, *lru_next;
	uint32_t hash;
	struct stream s[2];
};

/* Short connections (one request each) make and free one per transaction: this worker's freed ones are reused. */
static __thread struct freelist conn_cache = FREELIST_INIT(sizeof(struct tcp_conn), 64);

struct tcp_tracker {
	const struct tcp_cfg *cfg;
	struct stats *st;
	struct corr *corr;
	struct tcp_conn **table;
	size_t nbuckets;
	size_t nconns;
	size_t buffered; /* bytes held in all streams */
	struct tcp_conn *lru_head, *lru_tail; /* head = least recently seen */
	_Atomic size_t *shared_conns; /* workers: connections of every tracker (tcp_share_conns), NULL: nconns */
	tcp_skip_fn skip_fn; /* heads-only capture (live), NULL: off */
	void *skip_ctx;
};

static uint32_t endpoint_hash(const struct ip_addr *a, uint16_t port)
{
	uint32_t h = fnv1a(FNV_SEED, a->a, a->family == 6 ? 16 : 4);

	return fnv1a(h, &port, sizeof(port));
}

/* Symmetric: both directions of a connection hash alike. */
static uint32_t tuple_hash(const struct packet *p)
{
	uint32_t a = endpoint_hash(&p->src, p->sport);
	uint32_t b = endpoint_hash(&p->dst, p->dport);

	return (a ^ b) * 2654435761u + (a + b);
}

struct tcp_tracker *tcp_new(const struct tcp_cfg *cfg, struct stats *st, struct corr *corr)
{
	struct tcp_tracker *t = calloc(1, sizeof(*t));
	size_t want = cfg->max_connections > 0 ? (size_t)cfg->max_connections : 1024;

	if (!t)
		return NULL;
	t->nbuckets = 1024;
	while (t->nbuckets < want && t->nbuckets < (1u << 22))
		t->nbuckets <<= 1;
	t->table = calloc(t->nbuckets, sizeof(*t->table));
	if (!t->table) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->cfg = cfg;
	t->st = st;
	t->corr = corr;
	return t;
}

void tcp_share_conns(struct tcp_tracker *t, _Atomic size_t *count)
{
	t->shared_conns = count;
}

void tcp_set_skip(struct tcp_tracker *t, tcp_skip_fn fn, void *ctx)
{
	t->skip_fn = fn;
	t->skip_ctx = ctx;
}

size_t tcp_conn_count(const struct tcp_tracker *t)
{
	return t->nconns;
}

static bool same_endpoint(const struct ip_addr *a, uint16_t ap, const struct ip_addr *b, uint16_t bp)
{
	return ap == bp && ip_addr_eq(a, b);
}

/* Direction of pkt on c, or -1 if pkt is not on c. */
static int conn_dir(const struct tcp_conn *c, const struct packet *p)
{
	const struct flow *f = &c->app.flow;

	if (same_endpoint(&f->client_ip, f->client_port, &p->src, p->sport) &&
	    same_endpoint(&f->server_ip, f->server_port, &p->dst, p->dport))
		return DIR_C2S;
	if (same_endpoint(&f->server_ip, f->server_port, &p->src, p->sport) &&
	    same_endpoint(&f->client_ip, f->client_port, &p->dst, p->dport))
		return DIR_S2C;
	return -1;
}

static struct tcp_conn *conn_lookup(struct tcp_tracker *t, const struct packet *p, uint32_t h, int *dir)
{
	for (struct tcp_conn *c = t->table[h & (t->nbuckets - 1)]; c; c = c->hnext) {
		if (c->hash != h)
			continue;
		*dir = conn_dir(c, p);
		if (*dir >= 0)
			return c;
	}
	return NULL;
}

static void lru_unlink(struct tcp_tracker *t, struct tcp_conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct tcp_tracker *t, struct tcp_conn *c)
{
	c->lru_prev = t->lru_tail;
	c->lru_next = NULL;
	if (t->lru_tail)
		t->lru_tail->lru_next = c;
	else
		t->lru_head = c;
	t->lru_tail = c;
}

static void conn_close(struct tcp_tracker *t, struct tcp_conn *c, enum stat_id reason);

static void conn_slot_free(struct tcp_tracker *t)
{
	if (t->shared_conns)
		atomic_fetch_sub(t->shared_conns, 1);
}

/*
 * One connection more within xdpbeat.tcp.max_connections (over every
 * worker's tracker when they share a count). When full, the least recently
 * seen connection of this tracker makes room if it never carried data (a
 * SYN flood, a scan): it has nothing to lose. Else counted and refused.
 */
static bool conn_slot(struct tcp_tracker *t)
{
	size_t max = t->cfg->max_connections > 0 ? (size_t)t->cfg->max_connections : SIZE_MAX;

	for (int evicted = 0; evicted < 2; evicted++) {
		size_t n = t->shared_conns ? atomic_fetch_add(t->shared_conns, 1) : t->nconns;

		if (n < max)
			return true;
		conn_slot_free(t);
		if (evicted || !t->lru_head || t->lru_head->data_seen)
			break;
		conn_close(t, t->lru_head, STAT_TCP_EVICTED);
	}
	stats_add(t->st, STAT_DROP_CONN_LIMIT, 1);
	return false;
}

static struct tcp_conn *conn_new(struct tcp_tracker *t, const struct proto_cfg *cfg, const struct packet *p, uint32_t h,
				 bool server_is_dst)
{
	struct tcp_conn *c;
	struct flow *f;

	if (!conn_slot(t))
		return NULL;
	c = freelist_get(&conn_cache);
	if (!c) {
		conn_slot_free(t);
		return NULL;
	}
	c->s[DIR_C2S].last_loss = c->s[DIR_S2C].last_loss = STAT_TCP_BYTES_DROP_GAP;
	f = &c->app.flow;
	flow_from_packet(f, p, server_is_dst);
	c->app.cfg = cfg;
	c->app.corr = t->corr;
	c->app.last_ts = p->ts;
	if (cfg->ops->conn_new) {
		c->app.pstate = cfg->ops->conn_new(&c->app);
		if (!c->app.pstate) {
			freelist_put(&conn_cache, c);
			conn_slot_free(t);
			return NULL;
		}
	}
	c->hash = h;
	c->hnext = t->table[h & (t->nbuckets - 1)];
	t->table[h & (t->nbuckets - 1)] = c;
	lru_append(t, c);
	t->nconns++;
	stats_add(t->st, STAT_TCP_CONNS, 1);
	stats_set(t->st, STAT_TCP_CONNS_OPEN, t->nconns);
	return c;
}

static void stream_count_drop(struct tcp_tracker *t, struct stream *s, enum stat_id why, size_t n)
{
	if (!n)
		return;
	s->dropped += n;
	stats_add(t->st, why, n);
}

/* Give back a large buffer once it is empty: max_total_bytes counts held bytes, so an idle one must not stay. */
static void stream_shrink(struct stream *s)
{
	if (s->len == 0 && s->cap > 65536) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
}

/* Discard the buffered bytes of s, counted under why (a TCP_BYTES_DROP_* counter). */
static void stream_drop_buf(struct tcp_tracker *t, struct stream *s, enum stat_id why)
{
	stream_count_drop(t, s, why, s->len);
	t->buffered -= s->len;
	s->len = 0;
	stream_shrink(s);
}

/* Bytes the parser holds in an unfinished message of dir (proto_ops.pending). */
static uint64_t parser_held(const struct tcp_conn *c, enum dir dir)
{
	const struct proto_ops *ops = c->app.cfg->ops;

	return ops->pending ? ops->pending(&c->app, dir) : 0;
}

/*
 * The parser took done more bytes of s and now holds now_held of them in an
 * unfinished message: the rest of what it held and took belongs to finished
 * messages (consumed). A parser claiming more than it took is counted.
 */
static void stream_settle(struct tcp_tracker *t, struct stream *s, uint64_t done, uint64_t now_held)
{
	uint64_t taken = s->held + done;

	if (now_held > taken) {
		stats_add(t->st, STAT_TCP_BYTES_UNBALANCED, 1);
		now_held = taken;
	}
	s->consumed += taken - now_held;
	stats_add(t->st, STAT_TCP_BYTES_CONSUMED, taken - now_held);
	s->held = now_held;
}

/* The parser gave up (or was told to give up) the message it held: lost, counted under why. */
static void stream_drop_held(struct tcp_tracker *t, struct stream *s, enum stat_id why)
{
	stream_count_drop(t, s, why, s->held);
	s->held = 0;
}

/* After a parse error or a reset at a gap: what the parser no longer holds is lost, counted under why. */
static void stream_release(struct tcp_tracker *t, struct stream *s, enum stat_id why, uint64_t now_held)
{
	if (now_held > s->held) {
		stream_settle(t, s, 0, now_held); /* counted there */
		return;
	}
	stream_count_drop(t, s, why, s->held - now_held);
	s->held = now_held;
}

/* Report n lost bytes in dir to the parser. */
static void stream_gap(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, size_t n, uint64_t ts)
{
	struct stream *s = &c->s[dir];

	stats_add(t->st, STAT_TCP_GAPS, 1);
	stats_add(t->st, STAT_TCP_GAP_BYTES, n);
	corr_count(&c->app, PSTAT_GAPS);
	stream_drop_buf(t, s, STAT_TCP_BYTES_DROP_GAP);
	c->app.need[dir] = 0;
	if (c->app.cfg->ops->gap && !c->app.cfg->ops->gap(&c->app, dir, n, ts)) {
		/* skipped inside a message (not counted in what it holds), or the message ended there */
		stream_settle(t, s, 0, parser_held(c, dir));
		return;
	}
	/* the parser restarted dir: the message it held is lost with the gap */
	stats_add(t->st, STAT_DROP_GAP, 1);
	s->last_loss = STAT_TCP_BYTES_DROP_GAP;
	stream_release(t, s, STAT_TCP_BYTES_DROP_GAP, parser_held(c, dir));
}

/*
 * Run the parser over data; *done says how many bytes it consumed (counted,
 * as consumed once their message is finished); returns 0, or -1 after a
 * parse error (the bytes after *done are to be dropped, and so is what the
 * parser held before the failing call and let go of). A parser that said how
 * many bytes it needs is not called before they are there.
 */
static int run_parser(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, const uint8_t *data, size_t len,
		      uint64_t ts, size_t *done)
{
	struct stream *s = &c->s[dir];
	uint64_t held = s->held;
	size_t passed = 0;
	int rc = 0;

	*done = 0;
	while (*done < len && c->app.need[dir] <= len - *done) {
		ssize_t n;

		c->app.need[dir] = 0;
		c->app.passed[dir] = 0;
		n = c->app.cfg->ops->parse(&c->app, dir, data + *done, len - *done, ts);

		if (n < 0 || (size_t)n > len - *done) {
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		*done += (size_t)n;
		passed += c->app.passed[dir] < (size_t)n ? c->app.passed[dir] : (size_t)n;
		held = parser_held(c, dir);
	}
	stream_count_drop(t, s, s->last_loss, passed);
	stream_settle(t, s, *done - passed, held);
	if (rc < 0) {
		s->last_loss = STAT_TCP_BYTES_DROP_PARSE;
		stream_release(t, s, STAT_TCP_BYTES_DROP_PARSE, parser_held(c, dir));
	}
	return rc;
}

/* The buffered bytes and add new ones do not fit: drop them (cap) and tell the parser of the gap. */
static void stream_cap_drop(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, size_t add, uint64_t ts)
{
	struct stream *s = &c->s[dir];
	size_t n = s->len + add;

	stream_count_drop(t, s, STAT_TCP_BYTES_DROP_CAP, add);
	stream_drop_buf(t, s, STAT_TCP_BYTES_DROP_CAP);
	stream_gap(t, c, dir, n, ts);
}

static int stream_reserve(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, size_t add, uint64_t ts)
{
	struct stream *s = &c->s[dir];
	size_t need = s->len + add;

	if (need > t->cfg->max_stream_bytes) {
		stats_add(t->st, STAT_DROP_STREAM_LIMIT, 1);
		corr_count(&c->app, PSTAT_TOO_LARGE);
		stream_cap_drop(t, c, dir, add, ts);
		return -ENOSPC;
	}
	if (t->buffered + add > t->cfg->max_total_bytes) {
		stats_add(t->st, STAT_DROP_TOTAL_LIMIT, 1);
		stream_cap_drop(t, c, dir, add, ts);
		return -ENOSPC;
	}
	if (need > s->cap) {
		size_t cap = s->cap ? s->cap : 2048;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb) {
			stream_cap_drop(t, c, dir, add, ts); /* the bytes are lost: say so */
			return -ENOMEM;
		}
		s->buf = nb;
		s->cap = cap;
	}
	return 0;
}

/* In-order bytes for the parser. */
static void stream_deliver(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, const uint8_t *data, size_t len,
			   uint64_t ts)
{
	struct stream *s = &c->s[dir];
	size_t n;

	if (len == 0)
		return;
	s->delivered += len;
	stats_add(t->st, STAT_TCP_BYTES_DELIVERED, len);
	if (s->len == 0) {
		/* Common case: nothing buffered, parse straight from the packet. */
		if (run_parser(t, c, dir, data, len, ts, &n) < 0) {
			stream_count_drop(t, s, STAT_TCP_BYTES_DROP_PARSE, len - n);
			goto parse_error;
		}
		data += n;
		len -= n;
		if (len == 0)
			return;
		if (stream_reserve(t, c, dir, len, ts) == 0) {
			memcpy(s->buf, data, len);
			s->len = len;
			t->buffered += len;
		}
		return;
	}
	if (stream_reserve(t, c, dir, len, ts) != 0)
		return;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	t->buffered += len;
	if (run_parser(t, c, dir, s->buf, s->len, ts, &n) < 0) {
		s->len -= n; /* consumed; the rest is dropped below */
		t->buffered -= n;
		goto parse_error;
	}
	if (n > 0) {
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
		t->buffered -= n;
	}
	stream_shrink(s);
	return;
parse_error:
	stats_add(t->st, STAT_DROP_PARSE, 1);
	corr_count(&c->app, PSTAT_PARSE_ERRORS);
	c->app.need[dir] = 0;
	stream_drop_buf(t, s, STAT_TCP_BYTES_DROP_PARSE);
}

/* Take the first queued segment off the queue (the caller frees it). */
static struct seg *seg_unlink(struct tcp_tracker *t, struct stream *s)
{
	struct seg *g = s->ooo;

	s->ooo = g->next;
	s->nooo--;
	s->ooo_bytes -= g->len;
	t->buffered -= g->len;
	return g;
}

static void stream_fin(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, uint64_t ts)
{
	struct stream *s = &c->s[dir];

	if (s->fin)
		return;
	s->fin = true;
	s->fin_pending = false;
	c->app.need[dir] = 0;
	while (s->ooo) /* beyond the FIN: never part of the stream, never delivered */
		free(seg_unlink(t, s));
	/*
	 * The parser sees the end and finishes what it can; an unfinished
	 * message, held by the parser or still in the buffer, is gone with it.
	 */
	if (c->app.cfg->ops->fin)
		c->app.cfg->ops->fin(&c->app, dir, ts);
	stream_settle(t, s, 0, parser_held(c, dir));
	stream_drop_held(t, s, STAT_TCP_BYTES_DROP_CLOSE);
	stream_drop_buf(t, s, STAT_TCP_BYTES_DROP_CLOSE);
}

/*
 * Heads-only capture: when the parser is in a body it will pass over unread
 * (ops->skippable) of at least xdpbeat.tcp.skip_body_bytes, ask the kernel
 * not to copy the segments that lie wholly inside it.
 */
static void stream_ask_skip(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir)
{
	struct stream *s = &c->s[dir];
	const struct proto_ops *ops = c->app.cfg->ops;
	const struct flow *f = &c->app.flow;
	struct xb_skip_key k = { .family = f->client_ip.family };
	uint64_t n;

	if (!t->skip_fn || !t->cfg->skip_body_bytes || !ops->skippable || s->len || s->fin)
		return;
	n = ops->skippable(&c->app, dir);
	if (n < t->cfg->skip_body_bytes || n > INT32_MAX || s->skip_end == s->next_seq + (uint32_t)n)
		return;
	s->skip_end = s->next_seq + (uint32_t)n;
	memcpy(k.saddr, dir == DIR_C2S ? f->client_ip.a : f->server_ip.a, 16);
	memcpy(k.daddr, dir == DIR_C2S ? f->server_ip.a : f->client_ip.a, 16);
	k.sport = dir == DIR_C2S ? f->client_port : f->server_port;
	k.dport = dir == DIR_C2S ? f->server_port : f->client_port;
	t->skip_fn(t->skip_ctx, &k, s->skip_end);
}

/*
 * Segment starting exactly at next_seq. cap bytes held of wire bytes;
 * skipped: the kernel left out a segment inside a body the parser said it
 * passes over, which it takes as read (anything else missing is a gap).
 */
static void stream_in_order(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, const uint8_t *data, uint32_t cap,
			    uint32_t wire, bool skipped, uint64_t ts)
{
	struct stream *s = &c->s[dir];
	const struct proto_ops *ops = c->app.cfg->ops;

	s->next_seq += wire;
	if (skipped && !cap && !s->len && ops->skip && ops->skip(&c->app, dir, wire, ts)) {
		stats_add(t->st, STAT_TCP_BYTES_SKIPPED, wire);
		stream_settle(t, s, 0, parser_held(c, dir)); /* the message may have ended there */
		return;
	}
	stream_deliver(t, c, dir, data, cap, ts);
	if (wire > cap)
		stream_gap(t, c, dir, wire - cap, ts);
	else
		stream_ask_skip(t, c, dir);
}

/* Deliver queued segments that have become in order. */
static void stream_drain(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir)
{
	struct stream *s = &c->s[dir];

	while (s->ooo) {
		struct seg *g = s->ooo;
		int32_t d = (int32_t)(g->seq - s->next_seq);
		uint32_t skip;

		if (d > 0)
			break;
		skip = s->next_seq - g->seq;
		seg_unlink(t, s); /* off the queue before the parser runs */
		if (skip < g->wire_len)
			stream_in_order(t, c, dir, g->data + (skip < g->len ? skip : g->len),
					skip < g->len ? g->len - skip : 0, g->wire_len - skip, g->skipped && !skip,
					g->ts);
		else
			stats_add(t->st, STAT_TCP_RETRANS, 1);
		free(g);
	}
	if (s->fin_pending && s->next_seq == s->fin_seq)
		stream_fin(t, c, dir, c->app.last_ts);
}

/* Give up waiting for the hole before the first queued segment. */
static void stream_skip_hole(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir)
{
	struct stream *s = &c->s[dir];
	uint32_t hole;

	if (!s->ooo)
		return;
	hole = s->ooo->seq - s->next_seq;
	s->next_seq = s->ooo->seq;
	stream_gap(t, c, dir, hole, s->ooo->ts);
	stream_drain(t, c, dir);
}

static void stream_queue(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, uint32_t seq, const uint8_t *data,
			 uint32_t cap, uint32_t wire, bool skipped, uint64_t ts)
{
	struct stream *s = &c->s[dir];
	struct seg **pp, *g;

	stats_add(t->st, STAT_TCP_OOO, 1);
	while (s->nooo >= (size_t)t->cfg->max_ooo_segments || (s->ooo && t->buffered + cap > t->cfg->max_total_bytes)) {
		stats_add(t->st, STAT_DROP_OOO_LIMIT, 1);
		stream_skip_hole(t, c, dir);
		if (!s->ooo)
			break;
	}
	if (s->fin)
		return; /* skipping the holes reached a pending FIN: this segment lies past it */
	if ((int32_t)(seq - s->next_seq) > 0 &&
	    (t->buffered + cap > t->cfg->max_total_bytes || s->ooo_bytes + cap > t->cfg->max_stream_bytes)) {
		/* No room to hold it: it will be a gap when the stream gets there. */
		stats_add(t->st, STAT_DROP_TOTAL_LIMIT, 1);
		return;
	}
	if ((int32_t)(seq - s->next_seq) <= 0) {
		/* Skipping the hole reached this segment. */
		uint32_t skip = s->next_seq - seq;

		if (skip < wire)
			stream_in_order(t, c, dir, data + (skip < cap ? skip : cap), skip < cap ? cap - skip : 0,
					wire - skip, skipped && !skip, ts);
		stream_drain(t, c, dir);
		return;
	}
	for (pp = &s->ooo; *pp; pp = &(*pp)->next) {
		int32_t d = (int32_t)((*pp)->seq - seq);

		if (d == 0 && (*pp)->wire_len >= wire) {
			stats_add(t->st, STAT_TCP_RETRANS, 1);
			return;
		}
		if (d > 0)
			break;
	}
	g = malloc(sizeof(*g) + cap);
	if (!g)
		return;
	g->seq = seq;
	g->len = cap;
	g->wire_len = wire;
	g->skipped = skipped;
	g->ts = ts;
	if (cap)
		memcpy(g->data, data, cap);
	g->next = *pp;
	*pp = g;
	s->nooo++;
	s->ooo_bytes += cap;
	t->buffered += cap;
}

static void stream_segment(struct tcp_tracker *t, struct tcp_conn *c, enum dir dir, uint32_t seq, const uint8_t *data,
			   uint32_t cap, uint32_t wire, bool skipped, uint64_t ts)
{
	struct stream *s = &c->s[dir];
	int32_t d;

	if (!s->init) {
		/* Joined mid-stream: take this segment as the start. */
		s->init = true;
		s->next_seq = seq;
	}
	if (s->fin)
		return;
	d = (int32_t)(seq - s->next_seq);
	if (d < 0) {
		uint32_t skip = s->next_seq - seq;

		if (skip >= wire) {
			stats_add(t->st, STAT_TCP_RETRANS, 1);
			return;
		}
		/* Overlap: keep only the new part. */
		data += skip < cap ? skip : cap;
		cap = skip < cap ? cap - skip : 0;
		wire -= skip;
		skipped = false;
		d = 0;
	}
	if (d > 0) {
		stream_queue(t, c, dir, seq, data, cap, wire, skipped, ts);
		return;
	}
	stream_in_order(t, c, dir, data, cap, wire, skipped, ts);
	stream_drain(t, c, dir);
}

static void stream_free(struct tcp_tracker *t, struct stream *s)
{
	while (s->ooo)
		free(seg_unlink(t, s));
	stream_drop_buf(t, s, STAT_TCP_BYTES_DROP_CLOSE);
	if (s->delivered != s->consumed + s->dropped)
		stats_add(t->st, STAT_TCP_BYTES_UNBALANCED, 1);
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

static void conn_close(struct tcp_tracker *t, struct tcp_conn *c, enum stat_id reason)
{
	struct tcp_conn **pp;

	for (int dir = 0; dir < 2; dir++) {
		struct stream *s = &c->s[dir];

		/* Whatever is still queued is delivered after the hole(s). */
		while (s->ooo)
			stream_skip_hole(t, c, dir);
		stream_fin(t, c, dir, c->app.last_ts);
		stream_free(t, s);
	}
	corr_conn_close(&c->app);
	if (c->app.cfg->ops->conn_free)
		c->app.cfg->ops->conn_free(c->app.pstate);
	for (pp = &t->table[c->hash & (t->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	lru_unlink(t, c);
	t->nconns--;
	conn_slot_free(t);
	stats_add(t->st, reason, 1);
	stats_set(t->st, STAT_TCP_CONNS_OPEN, t->nconns);
	freelist_put(&conn_cache, c);
}

/*
 * The sender of p acknowledges bytes of the other direction beyond a hole we
 * are waiting to fill: the peer got them, so the hole is lost from our
 * capture for good. Give up on it now, before p's own data is parsed, so the
 * other side's messages (requests) are not overtaken by their answers.
 */
static void skip_acked_holes(struct tcp_tracker *t, struct tcp_conn *c, int dir, const struct packet *p)
{
	struct stream *o = &c->s[!dir];

	if (!(p->tcp_flags & XB_TCP_ACK))
		return;
	while (o->ooo && (int32_t)(p->ack - o->ooo->seq) > 0)
		stream_skip_hole(t, c, !dir);
	if (o->fin_pending && !o->ooo && (int32_t)(p->ack - o->fin_seq) > 0) {
		/* The peer acknowledged the FIN: the data before it is lost for good. */
		uint32_t hole = o->fin_seq - o->next_seq;

		o->next_seq = o->fin_seq;
		stream_gap(t, c, !dir, hole, p->ts);
		stream_fin(t, c, !dir, p->ts);
	}
}

void tcp_packet(struct tcp_tracker *t, const struct proto_cfg *cfg, const struct packet *p, bool server_is_dst)
{
	uint32_t h = tuple_hash(p);
	bool syn = p->tcp_flags & XB_TCP_SYN;
	uint32_t seq = p->seq;
	struct tcp_conn *c;
	struct stream *s;
	int dir = 0;

	c = conn_lookup(t, p, h, &dir);
	if (!c) {
		/* Only a SYN or data opens a connection: not the last ACK/FIN/RST of one already closed. */
		if ((p->tcp_flags & (XB_TCP_RST | XB_TCP_FIN)) || (!syn && p->wire_len == 0))
			return;
		if (syn)
			server_is_dst = !(p->tcp_flags & XB_TCP_ACK);
		c = conn_new(t, cfg, p, h, server_is_dst);
		if (!c)
			return;
		dir = server_is_dst ? DIR_C2S : DIR_S2C;
	} else if (syn && (c->s[dir].fin || (c->s[dir].syn_seen ? c->s[dir].isn != seq : c->s[dir].init))) {
		/*
		 * A new connection on the same 5-tuple (port reuse, or the old
		 * one's end was never seen): a SYN with another initial sequence.
		 */
		conn_close(t, c, STAT_TCP_CLOSED_FIN);
		tcp_packet(t, cfg, p, !(p->tcp_flags & XB_TCP_ACK));
		return;
	}
	c->app.last_ts = p->ts;
	lru_unlink(t, c);
	lru_append(t, c);
	s = &c->s[dir];
	if (syn) {
		if (!s->init) {
			s->init = true;
			s->next_seq = seq + 1;
		}
		s->syn_seen = true;
		s->isn = seq;
		seq++;
	}
	skip_acked_holes(t, c, dir, p);
	if (p->wire_len) {
		c->data_seen = true;
		stream_segment(t, c, dir, seq, p->payload, p->payload_len, p->wire_len, p->skipped, p->ts);
	}
	if (p->tcp_flags & XB_TCP_RST) {
		conn_close(t, c, STAT_TCP_CLOSED_RST);
		return;
	}
	if (p->tcp_flags & XB_TCP_FIN) {
		uint32_t fin_seq = seq + p->wire_len;

		if (!s->init || s->next_seq == fin_seq) {
			stream_fin(t, c, dir, p->ts);
		} else if (!s->fin) {
			s->fin_pending = true;
			s->fin_seq = fin_seq;
		}
	}
	if (c->s[0].fin && c->s[1].fin)
		conn_close(t, c, STAT_TCP_CLOSED_FIN);
}

void tcp_expire(struct tcp_tracker *t, uint64_t now)
{
	struct tcp_conn *c, *next;

	while ((c = t->lru_head) && c->app.last_ts + t->cfg->idle_timeout <= now)
		conn_close(t, c, STAT_TCP_CLOSED_IDLE);
	for (c = t->lru_head; c; c = next) {
		next = c->lru_next;
		corr_conn_expire(&c->app, now);
	}
}

void tcp_close_all(struct tcp_tracker *t, uint64_t now)
{
	(void)now;
	while (t->lru_head)
		conn_close(t, t->lru_head, STAT_TCP_CLOSED_IDLE);
}

void tcp_free(struct tcp_tracker *t)
{
	if (!t)
		return;
	tcp_close_all(t, 0);
	free(t->table);
	free(t);
}
