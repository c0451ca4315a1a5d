/*
 * Transaction correlator: pairs requests with responses.
 * TCP: a per-connection FIFO (pipelining), expired after the protocol's
 * transaction_timeout. UDP: a table keyed by flow + protocol + message id,
 * with a FIFO of entries in arrival order for expiry (after ops->udp_timeout
 * when the protocol has one). Expired or orphaned requests are published
 * without a response: unanswered, or OK when the request is quiet (the
 * server answers it only on failure).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Requests waiting per connection before the oldest is given up. */
#define CORR_MAX_PENDING 1024
/* Waiting UDP requests in all. */
#define CORR_UDP_MAX 65536

void proto_count(struct pipeline *pl, const struct proto_cfg *cfg, enum pstat_id id)
{
	stats_proto_add(pipeline_stats(pl), cfg->ops->id, id, 1);
}

void corr_publish(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *req,
		  struct msg *resp)
{
	struct stats *st = pipeline_stats(pl);

	if (!resp && req->quiet)
		req->noreply = true;
	if (resp)
		proto_count(pl, cfg, PSTAT_RESPONSES);
	if (resp || req->noreply) {
		stats_add(st, STAT_TXN, 1);
		proto_count(pl, cfg, PSTAT_TXN);
	} else {
		stats_add(st, STAT_TXN_UNANSWERED, 1);
		proto_count(pl, cfg, PSTAT_UNANSWERED);
	}
	pipeline_emit(pl, cfg, f, req, resp);
}

/* A response nothing waits for: counted, and published when the protocol asks for it. */
static void orphan(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *resp)
{
	struct msg *req = cfg->ops->publish_unmatched ? msg_new(resp->ts) : NULL;

	if (!req) {
		corr_unmatched(pl, cfg, resp);
		return;
	}
	proto_count(pl, cfg, PSTAT_RESPONSES);
	proto_count(pl, cfg, PSTAT_UNMATCHED);
	stats_add(pipeline_stats(pl), STAT_TXN_UNMATCHED_RESP, 1);
	req->placeholder = true;
	resp->status = "Error";
	pipeline_emit(pl, cfg, f, req, resp);
}

void corr_unmatched(struct pipeline *pl, const struct proto_cfg *cfg, struct msg *resp)
{
	proto_count(pl, cfg, PSTAT_RESPONSES);
	proto_count(pl, cfg, PSTAT_UNMATCHED);
	stats_add(pipeline_stats(pl), STAT_TXN_UNMATCHED_RESP, 1);
	msg_free(resp);
}

/* What a queued message keeps in memory besides its struct. */
static size_t msg_bytes(const struct msg *m)
{
	return m->raw_len + m->mem;
}

struct msg *corr_take(struct conn *c, struct msg *m)
{
	struct msg **pp, *prev = NULL;

	for (pp = &c->req_head; *pp && (m ? *pp != m : false); pp = &(*pp)->next)
		prev = *pp;
	if (!*pp)
		return NULL;
	m = *pp;
	*pp = m->next;
	if (c->req_tail == m)
		c->req_tail = prev;
	m->next = NULL;
	c->nreq--;
	pipeline_pending(c->pl, -(int64_t)m->queued_bytes); /* as counted: the message may have changed since */
	return m;
}

void corr_request(struct conn *c, struct msg *req)
{
	proto_count(c->pl, c->cfg, PSTAT_REQUESTS);
	if (req->noreply) {
		corr_publish(c->pl, c->cfg, &c->flow, req, NULL);
		return;
	}
	if (c->nreq >= CORR_MAX_PENDING)
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
	/*
	 * Waiting requests may keep captured bodies: over xdpbeat.tcp.max_total_bytes
	 * in all, this connection's oldest are given up (published unanswered).
	 */
	while (c->req_head &&
	       pipeline_pending(c->pl, 0) + msg_bytes(req) > pipeline_config(c->pl)->tcp.max_total_bytes) {
		stats_add(pipeline_stats(c->pl), STAT_TXN_GIVEN_UP_MEMORY, 1);
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
	}
	req->next = NULL;
	if (c->req_tail)
		c->req_tail->next = req;
	else
		c->req_head = req;
	c->req_tail = req;
	c->nreq++;
	req->queued_bytes = msg_bytes(req);
	pipeline_pending(c->pl, (int64_t)req->queued_bytes);
}

void corr_response(struct conn *c, struct msg *resp)
{
	struct msg *req = corr_take(c, NULL);

	if (!req) {
		orphan(c->pl, c->cfg, &c->flow, resp);
		return;
	}
	corr_publish(c->pl, c->cfg, &c->flow, req, resp);
}

struct msg *corr_oldest(struct conn *c)
{
	return c->req_head;
}

void corr_conn_expire(struct conn *c, uint64_t now)
{
	uint64_t timeout = c->cfg->transaction_timeout;

	while (c->req_head && c->req_head->ts + timeout <= now)
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
}

void corr_conn_close(struct conn *c)
{
	while (c->req_head)
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
}

/* ---- UDP ---- */

struct udp_entry {
	struct udp_entry *hnext; /* hash chain */
	struct udp_entry *older, *newer; /* arrival order */
	uint32_t hash;
	struct flow flow;
	const struct proto_cfg *cfg;
	struct msg *req;
};

struct corr_udp {
	struct udp_entry **table;
	size_t nbuckets;
	size_t n;
	struct udp_entry *oldest, *newest;
};

struct corr_udp *corr_udp_new(void)
{
	struct corr_udp *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->nbuckets = 4096;
	u->table = calloc(u->nbuckets, sizeof(*u->table));
	if (!u->table) {
		free(u);
		return NULL;
	}
	return u;
}

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

static struct udp_entry **udp_find(struct corr_udp *u, uint32_t h, const struct flow *f,
				   const struct proto_cfg *cfg, uint64_t id)
{
	struct udp_entry **pp;

	for (pp = &u->table[h & (u->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
		struct udp_entry *e = *pp;

		if (e->hash == h && e->cfg == cfg && e->req->id == id && flow_equal(&e->flow, f))
			return pp;
	}
	return pp;
}

/* Unlink *pp from both lists, return its request. */
static struct msg *udp_take(struct corr_udp *u, struct udp_entry **pp)
{
	struct udp_entry *e = *pp;
	struct msg *req = e->req;

	*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		u->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		u->newest = e->older;
	u->n--;
	free(e);
	return req;
}

static void udp_expire_oldest(struct pipeline *pl, struct corr_udp *u)
{
	struct udp_entry *e = u->oldest;
	const struct proto_cfg *cfg = e->cfg;
	struct flow f = e->flow;
	struct udp_entry **pp = udp_find(u, e->hash, &e->flow, e->cfg, e->req->id);

	corr_publish(pl, cfg, &f, udp_take(u, pp), NULL);
}

void corr_udp_request(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *req)
{
	struct corr_udp *u = pipeline_udp(pl);
	uint32_t h = udp_hash(f, cfg, req->id);
	struct udp_entry **pp, *e;

	proto_count(pl, cfg, PSTAT_REQUESTS);
	if (req->noreply) {
		corr_publish(pl, cfg, f, req, NULL);
		return;
	}
	pp = udp_find(u, h, f, cfg, req->id);
	if (*pp) /* same id again from the same client: the first one went unanswered */
		corr_publish(pl, cfg, f, udp_take(u, pp), NULL);
	if (u->n >= CORR_UDP_MAX)
		udp_expire_oldest(pl, u);
	e = calloc(1, sizeof(*e));
	if (!e) {
		msg_free(req);
		return;
	}
	e->hash = h;
	e->flow = *f;
	e->cfg = cfg;
	e->req = req;
	pp = &u->table[h & (u->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	e->older = u->newest;
	if (u->newest)
		u->newest->newer = e;
	else
		u->oldest = e;
	u->newest = e;
	u->n++;
}

void corr_udp_response(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *resp)
{
	struct corr_udp *u = pipeline_udp(pl);
	struct udp_entry **pp = udp_find(u, udp_hash(f, cfg, resp->id), f, cfg, resp->id);

	if (!*pp) {
		orphan(pl, cfg, f, resp);
		return;
	}
	corr_publish(pl, cfg, f, udp_take(u, pp), resp);
}

struct msg *corr_udp_take(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, uint64_t id)
{
	struct corr_udp *u = pipeline_udp(pl);
	struct udp_entry **pp = udp_find(u, udp_hash(f, cfg, id), f, cfg, id);

	return *pp ? udp_take(u, pp) : NULL;
}

static uint64_t udp_timeout(const struct proto_cfg *cfg)
{
	return cfg->ops->udp_timeout ? cfg->ops->udp_timeout(cfg) : cfg->transaction_timeout;
}

void corr_udp_expire(struct pipeline *pl, struct corr_udp *u, uint64_t now)
{
	/* Arrival order ~ time order; timeouts differ per protocol, so scan all but stop early when possible. */
	struct udp_entry *e = u->oldest;

	while (e) {
		struct udp_entry *next = e->newer;

		if (e->req->ts + udp_timeout(e->cfg) <= now) {
			const struct proto_cfg *cfg = e->cfg;
			struct flow f = e->flow;

			corr_publish(pl, cfg, &f, udp_take(u, udp_find(u, e->hash, &e->flow, cfg, e->req->id)), NULL);
		}
		e = next;
	}
}

void corr_udp_free(struct pipeline *pl, struct corr_udp *u)
{
	if (!u)
		return;
	while (u->oldest)
		udp_expire_oldest(pl, u);
	free(u->table);
	free(u);
}
