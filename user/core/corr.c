/*
 * Transaction correlator: pairs requests with responses (include/corr.h).
 * TCP: a queue per connection, FIFO or by id, bounded by the protocol's
 * queue_max_messages/queue_max_bytes and by what all queued requests keep
 * (xdpbeat.tcp.max_total_bytes). UDP: a table keyed by flow + protocol +
 * message id, with a list of entries in arrival order for expiry (after
 * ops->udp_timeout when the protocol has one). Expired or orphaned requests
 * are published without a response: unanswered, or OK when the request is
 * quiet (the server answers it only on failure).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "corr.h"
#include "freelist.h"
#include "proto.h"
#include "util/hash.h"

/* Waiting UDP requests in all. */
#define CORR_UDP_MAX 65536
#define CORR_UDP_BUCKETS 4096

struct udp_entry {
	struct udp_entry *hnext; /* hash chain */
	struct udp_entry *older, *newer; /* arrival order */
	uint32_t hash;
	struct flow flow;
	const struct proto_cfg *cfg;
	struct msg *req;
};

/* One per waiting UDP request (DNS: every query): this worker's freed ones are reused. */
static __thread struct freelist udp_entry_cache = FREELIST_INIT(sizeof(struct udp_entry), 64);

struct corr {
	struct corr_limits lim;
	struct stats *st;
	corr_emit_fn emit;
	void *ctx;
	uint64_t pending; /* bytes kept by queued TCP requests */
	/* UDP */
	struct udp_entry **table;
	size_t n;
	struct udp_entry *oldest, *newest;
};

struct corr *corr_new(const struct corr_limits *lim, struct stats *st, corr_emit_fn emit, void *ctx)
{
	struct corr *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->lim = *lim;
	k->st = st;
	k->emit = emit;
	k->ctx = ctx;
	k->table = calloc(CORR_UDP_BUCKETS, sizeof(*k->table));
	if (!k->table) {
		free(k);
		return NULL;
	}
	return k;
}

void corr_udp_conn(struct conn *c, struct corr *k, const struct proto_cfg *cfg, const struct flow *f)
{
	memset(c, 0, sizeof(*c));
	if (f)
		c->flow = *f;
	c->flow.transport = IPPROTO_UDP;
	c->cfg = cfg;
	c->corr = k;
}

static bool is_udp(const struct conn *c)
{
	return c->flow.transport == IPPROTO_UDP;
}

void corr_count(const struct conn *c, enum pstat_id id)
{
	stats_proto_add(c->corr->st, c->cfg->ops->id, id, 1);
}

/* Count the transaction, hand it to the next stage, free both. */
void corr_publish(struct conn *c, struct msg *req, struct msg *resp)
{
	struct corr *k = c->corr;

	if (!resp && req->quiet)
		req->noreply = true;
	if (resp)
		corr_count(c, PSTAT_RESPONSES);
	if (resp || req->noreply) {
		stats_add(k->st, STAT_TXN, 1);
		corr_count(c, PSTAT_TXN);
	} else {
		stats_add(k->st, STAT_TXN_UNANSWERED, 1);
		corr_count(c, PSTAT_UNANSWERED);
	}
	k->emit(k->ctx, c->cfg, &c->flow, req, resp);
	msg_free(req);
	msg_free(resp);
}

void corr_unmatched(struct conn *c, struct msg *resp)
{
	struct msg *req = c->cfg->ops->publish_unmatched ? msg_new(resp->ts) : NULL;

	corr_count(c, PSTAT_RESPONSES);
	corr_count(c, PSTAT_UNMATCHED);
	stats_add(c->corr->st, STAT_TXN_UNMATCHED_RESP, 1);
	if (!req) {
		msg_free(resp);
		return;
	}
	req->placeholder = true;
	resp->status = c->cfg->ops->unmatched_status ? c->cfg->ops->unmatched_status : MSG_ERROR;
	c->corr->emit(c->corr->ctx, c->cfg, &c->flow, req, resp);
	msg_free(req);
	msg_free(resp);
}

/* ---- TCP: the queue of one connection ---- */

/* What a queued message keeps in memory besides its struct. */
static size_t msg_bytes(const struct msg *m)
{
	return m->raw_len + m->mem;
}

static uint64_t queue_size(const struct msg *m)
{
	return m->queue_size ? m->queue_size : m->bytes;
}

static struct msg *unlink_after(struct conn *c, struct msg *prev, struct msg *m)
{
	if (prev)
		prev->next = m->next;
	else
		c->q.head = m->next;
	if (c->q.tail == m)
		c->q.tail = prev;
	m->next = NULL;
	c->q.n--;
	c->q.bytes -= queue_size(m);
	c->corr->pending -= m->queued_bytes; /* as counted: the message may have changed since */
	return m;
}

struct msg *corr_take(struct conn *c, const struct msg *m)
{
	struct msg *prev = NULL;

	for (struct msg *q = c->q.head; q; prev = q, q = q->next)
		if (!m || q == m)
			return unlink_after(c, prev, q);
	return NULL;
}

const struct msg *corr_oldest(const struct conn *c)
{
	return c->q.head;
}

size_t corr_queued(const struct conn *c)
{
	return c->q.n;
}

const struct msg *corr_find(const struct conn *c, corr_pred_fn pred, const void *arg)
{
	for (const struct msg *q = c->q.head; q; q = q->next)
		if (pred(q, arg))
			return q;
	return NULL;
}

/* Publish the oldest without a response, counted as given up for why. */
static void give_up_oldest(struct conn *c, enum stat_id why, enum pstat_id pwhy)
{
	stats_add(c->corr->st, why, 1);
	if (pwhy != PSTAT_MAX)
		corr_count(c, pwhy);
	corr_publish(c, corr_take(c, NULL), NULL);
}

/* Room for req in c's queue: the protocol's limits, then the memory cap over all connections. */
static void make_room(struct conn *c, const struct msg *req)
{
	const struct proto_cfg *pc = c->cfg;
	struct corr *k = c->corr;

	if (pc->queue_max_messages > 0 && c->q.n >= (uint64_t)pc->queue_max_messages)
		give_up_oldest(c, STAT_TXN_GIVEN_UP_QUEUE, PSTAT_QUEUE_LIMIT);
	while (pc->queue_max_bytes && c->q.n && c->q.bytes + queue_size(req) > pc->queue_max_bytes)
		give_up_oldest(c, STAT_TXN_GIVEN_UP_QUEUE, PSTAT_QUEUE_LIMIT);
	while (c->q.n && k->pending + msg_bytes(req) > k->lim.max_total_bytes)
		give_up_oldest(c, STAT_TXN_GIVEN_UP_MEMORY, PSTAT_MAX);
}

static void tcp_request(struct conn *c, struct msg *req)
{
	make_room(c, req);
	req->next = NULL;
	if (c->q.tail)
		c->q.tail->next = req;
	else
		c->q.head = req;
	c->q.tail = req;
	c->q.n++;
	c->q.bytes += queue_size(req);
	req->queued_bytes = msg_bytes(req);
	c->corr->pending += req->queued_bytes;
}

static struct msg *tcp_take_id(struct conn *c, uint64_t id)
{
	struct msg *prev = NULL;

	for (struct msg *q = c->q.head; q; prev = q, q = q->next)
		if (q->id == id)
			return unlink_after(c, prev, q);
	return NULL;
}

/* req was passed over by the response to a later request: the protocol's note for that, if it has one. */
static struct msg *skipped(const struct conn *c, struct msg *req)
{
	const char *note = c->cfg->ops->note_skipped;

	if (note && !req->quiet && !req->noreply) {
		msg_note(req, note);
		req->noted = true;
	}
	return req;
}

void corr_answer(struct conn *c, struct msg *resp, corr_pred_fn pred, const void *arg)
{
	const struct msg *q = corr_find(c, pred, arg);

	if (!q) {
		corr_unmatched(c, resp);
		return;
	}
	while (c->q.head != q) /* OK when quiet, else unanswered */
		corr_publish(c, skipped(c, corr_take(c, NULL)), NULL);
	corr_publish(c, corr_take(c, NULL), resp);
}

void corr_give_up(struct conn *c, corr_pred_fn pred, const void *arg)
{
	struct msg *prev = NULL, *q = c->q.head;

	while (q) {
		struct msg *next = q->next;

		if (pred(q, arg))
			corr_publish(c, unlink_after(c, prev, q), NULL);
		else
			prev = q;
		q = next;
	}
}

void corr_conn_expire(struct conn *c, uint64_t now)
{
	uint64_t timeout = c->cfg->transaction_timeout;

	while (c->q.head && c->q.head->ts + timeout <= now)
		corr_publish(c, corr_take(c, NULL), NULL);
}

void corr_conn_close(struct conn *c)
{
	while (c->q.head)
		corr_publish(c, corr_take(c, NULL), NULL);
}

/* ---- UDP: one table over all flows ---- */

static uint32_t udp_hash(const struct flow *f, const struct proto_cfg *cfg, uint64_t id)
{
	uint32_t h = fnv1a(FNV_SEED, f->client_ip.a, sizeof(f->client_ip.a));
	uint32_t proto = (uint32_t)cfg->ops->id;

	h = fnv1a(h, f->server_ip.a, sizeof(f->server_ip.a));
	h = fnv1a(h, &f->client_port, sizeof(f->client_port));
	h = fnv1a(h, &f->server_port, sizeof(f->server_port));
	h = fnv1a(h, &proto, sizeof(proto));
	return fnv1a(h, &id, sizeof(id));
}

static struct udp_entry **udp_find(struct corr *k, uint32_t h, const struct flow *f, const struct proto_cfg *cfg,
				   uint64_t id)
{
	struct udp_entry **pp;

	for (pp = &k->table[h & (CORR_UDP_BUCKETS - 1)]; *pp; pp = &(*pp)->hnext) {
		struct udp_entry *e = *pp;

		if (e->hash == h && e->cfg == cfg && e->req->id == id && flow_equal(&e->flow, f))
			return pp;
	}
	return pp;
}

/* Unlink *pp from both lists, return its request. */
static struct msg *udp_unlink(struct corr *k, struct udp_entry **pp)
{
	struct udp_entry *e = *pp;
	struct msg *req = e->req;

	*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		k->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		k->newest = e->older;
	k->n--;
	freelist_put(&udp_entry_cache, e);
	return req;
}

static struct msg *udp_take(struct corr *k, const struct proto_cfg *cfg, const struct flow *f, uint64_t id)
{
	struct udp_entry **pp = udp_find(k, udp_hash(f, cfg, id), f, cfg, id);

	return *pp ? udp_unlink(k, pp) : NULL;
}

/* Publish entry e without a response. */
static void udp_give_up(struct corr *k, struct udp_entry *e)
{
	struct conn h;

	corr_udp_conn(&h, k, e->cfg, &e->flow);
	corr_publish(&h, udp_unlink(k, udp_find(k, e->hash, &e->flow, e->cfg, e->req->id)), NULL);
}

static void udp_request(struct conn *c, struct msg *req)
{
	struct corr *k = c->corr;
	uint32_t h = udp_hash(&c->flow, c->cfg, req->id);
	struct udp_entry **pp, *e;

	pp = udp_find(k, h, &c->flow, c->cfg, req->id);
	if (*pp) /* same id again from the same client: the first one went unanswered */
		corr_publish(c, udp_unlink(k, pp), NULL);
	if (k->n >= CORR_UDP_MAX)
		udp_give_up(k, k->oldest);
	e = freelist_get(&udp_entry_cache);
	if (!e) {
		msg_free(req);
		return;
	}
	e->hash = h;
	e->flow = c->flow;
	e->cfg = c->cfg;
	e->req = req;
	pp = &k->table[h & (CORR_UDP_BUCKETS - 1)];
	e->hnext = *pp;
	*pp = e;
	e->older = k->newest;
	if (k->newest)
		k->newest->newer = e;
	else
		k->oldest = e;
	k->newest = e;
	k->n++;
}

static uint64_t udp_timeout(const struct proto_cfg *cfg)
{
	return cfg->ops->udp_timeout ? cfg->ops->udp_timeout(cfg) : cfg->transaction_timeout;
}

void corr_expire(struct corr *k, uint64_t now)
{
	/* Arrival order ~ time order; timeouts differ per protocol, so scan all. */
	struct udp_entry *e = k->oldest;

	while (e) {
		struct udp_entry *next = e->newer;

		if (e->req->ts + udp_timeout(e->cfg) <= now)
			udp_give_up(k, e);
		e = next;
	}
}

void corr_free(struct corr *k)
{
	if (!k)
		return;
	while (k->oldest)
		udp_give_up(k, k->oldest);
	free(k->table);
	free(k);
}

/* ---- both ---- */

void corr_request(struct conn *c, struct msg *req)
{
	corr_count(c, PSTAT_REQUESTS);
	if (req->noreply)
		corr_publish(c, req, NULL);
	else if (is_udp(c))
		udp_request(c, req);
	else
		tcp_request(c, req);
}

struct msg *corr_take_id(struct conn *c, uint64_t id)
{
	return is_udp(c) ? udp_take(c->corr, c->cfg, &c->flow, id) : tcp_take_id(c, id);
}

void corr_response(struct conn *c, struct msg *resp)
{
	struct msg *req = is_udp(c) || resp->has_id ? corr_take_id(c, resp->id) : corr_take(c, NULL);

	if (!req) {
		corr_unmatched(c, resp);
		return;
	}
	corr_publish(c, req, resp);
}
