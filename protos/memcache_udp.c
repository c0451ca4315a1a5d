/*
 * Memcache over UDP: every datagram starts with an 8-byte frame header
 * (request id, sequence number, number of datagrams, reserved). A message
 * that spans several datagrams is reassembled by (flow, direction, request
 * id) in sequence-number order, within bounds on datagrams, bytes and
 * pending messages; unfinished ones expire after udptransactiontimeout.
 * Requests and responses are paired by the correlator on the request id,
 * except binary quiet requests: the server answers them only on error, so
 * they wait here and are published alone (status OK) after
 * udptransactiontimeout, as Packetbeat does.
 */
#include <stdlib.h>
#include <string.h>

#include "memcache.h"
#include "pipeline.h"

struct mc_frag {
	struct mc_frag *next;
	struct flow flow;
	enum dir dir;
	uint16_t reqid, total, got;
	uint64_t ts_first, ts_last;
	size_t bytes;
	uint8_t **part;
	uint16_t *plen;
};

/* A binary quiet request waiting for a possible error response. */
struct mc_quiet {
	struct mc_quiet *next;
	struct flow flow;
	uint16_t reqid;
	struct msg *req;
};

struct mc_udp {
	struct mc_frag *head;
	size_t n;
	size_t bytes;
	struct mc_quiet *qhead, *qtail; /* arrival order */
	size_t nquiet;
};

struct mc_udp *mc_udp_new(void)
{
	return calloc(1, sizeof(struct mc_udp));
}

static void frag_free(struct mc_frag *e)
{
	if (!e)
		return;
	if (e->part)
		for (uint16_t i = 0; i < e->total; i++)
			free(e->part[i]);
	free(e->part);
	free(e->plen);
	free(e);
}

/* Unlink *pp and free it. */
static void frag_remove(struct mc_udp *u, struct mc_frag **pp)
{
	struct mc_frag *e = *pp;

	*pp = e->next;
	u->n--;
	u->bytes -= e->bytes;
	frag_free(e);
}

void mc_udp_free(struct mc_udp *u)
{
	if (!u)
		return;
	while (u->head)
		frag_remove(u, &u->head);
	while (u->qhead) {
		struct mc_quiet *q = u->qhead;

		u->qhead = q->next;
		msg_free(q->req);
		free(q);
	}
	free(u);
}

static struct mc_frag **frag_find(struct mc_udp *u, const struct flow *f, enum dir dir, uint16_t reqid)
{
	struct mc_frag **pp;

	for (pp = &u->head; *pp; pp = &(*pp)->next)
		if ((*pp)->reqid == reqid && (*pp)->dir == dir && flow_equal(&(*pp)->flow, f))
			return pp;
	return pp;
}

static struct mc_frag **frag_oldest(struct mc_udp *u)
{
	struct mc_frag **pp, **old = &u->head;

	for (pp = &u->head; *pp; pp = &(*pp)->next)
		if ((*pp)->ts_last < (*old)->ts_last)
			old = pp;
	return old;
}

static struct mc_frag *frag_new(struct mc_udp *u, const struct flow *f, enum dir dir, uint16_t reqid,
				uint16_t total, uint64_t ts)
{
	struct mc_frag *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->part = calloc(total, sizeof(*e->part));
	e->plen = calloc(total, sizeof(*e->plen));
	if (!e->part || !e->plen) {
		free(e->part);
		free(e->plen);
		free(e);
		return NULL;
	}
	e->flow = *f;
	e->dir = dir;
	e->reqid = reqid;
	e->total = total;
	e->ts_first = ts;
	e->ts_last = ts;
	e->next = u->head;
	u->head = e;
	u->n++;
	return e;
}

/* ---- one complete message ---- */

struct mc_udp_ctx {
	struct pipeline *pl;
	const struct proto_cfg *cfg;
	const struct flow *f;
	uint16_t reqid;
	uint64_t ts_end;
};

/* ---- quiet requests ---- */

/* Unlink *pp (prev is the entry before it, NULL at the head) and return its request. */
static struct msg *quiet_take(struct mc_udp *u, struct mc_quiet **pp, struct mc_quiet *prev)
{
	struct mc_quiet *q = *pp;
	struct msg *req = q->req;

	*pp = q->next;
	if (u->qtail == q)
		u->qtail = prev;
	u->nquiet--;
	free(q);
	return req;
}

/* Publish a quiet request that got no response: OK, as a noreply one. */
static void quiet_publish(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *req)
{
	req->noreply = true;
	corr_publish(pl, cfg, f, req, NULL);
}

static void quiet_add(struct mc_udp *u, struct mc_udp_ctx *uc, struct msg *req)
{
	struct mc_quiet *q;

	proto_count(uc->pl, uc->cfg, PSTAT_REQUESTS);
	if (u->nquiet >= MC_UDP_MAX_PENDING) {
		struct flow f = u->qhead->flow;

		quiet_publish(uc->pl, uc->cfg, &f, quiet_take(u, &u->qhead, NULL));
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		msg_free(req);
		return;
	}
	q->flow = *uc->f;
	q->reqid = uc->reqid;
	q->req = req;
	if (u->qtail)
		u->qtail->next = q;
	else
		u->qhead = q;
	u->qtail = q;
	u->nquiet++;
}

/* An (error) response to a waiting quiet request: publish the pair. */
static bool quiet_answer(struct mc_udp *u, struct mc_udp_ctx *uc, struct msg *resp)
{
	struct mc_quiet **pp, *prev = NULL;

	for (pp = &u->qhead; *pp; prev = *pp, pp = &(*pp)->next) {
		if ((*pp)->reqid == uc->reqid && flow_equal(&(*pp)->flow, uc->f)) {
			struct msg *req = quiet_take(u, pp, prev);

			corr_publish(uc->pl, uc->cfg, uc->f, req, resp);
			return true;
		}
	}
	return false;
}

static void quiet_expire(struct pipeline *pl, const struct proto_cfg *cfg, struct mc_udp *u, uint64_t timeout,
			 uint64_t now)
{
	struct mc_quiet **pp = &u->qhead, *prev = NULL;

	while (*pp) {
		if ((*pp)->req->ts + timeout <= now) {
			struct flow f = (*pp)->flow;

			quiet_publish(pl, cfg, &f, quiet_take(u, pp, prev));
		} else {
			prev = *pp;
			pp = &(*pp)->next;
		}
	}
}

static void mc_udp_emit(struct mc_ctx *x, struct msg *m, const struct mc_msg *mm)
{
	struct mc_udp_ctx *uc = x->arg;
	struct mc_udp *u = x->cfg->udp;

	m->id = uc->reqid;
	if (m->ts_end < uc->ts_end)
		m->ts_end = uc->ts_end;
	if (x->dir == DIR_C2S) {
		if (mm->binary && mm->quiet && !m->noreply)
			quiet_add(u, uc, m);
		else
			corr_udp_request(uc->pl, uc->cfg, uc->f, m);
	} else if (!quiet_answer(u, uc, m)) {
		corr_udp_response(uc->pl, uc->cfg, uc->f, m);
	}
}

static void mc_udp_message(struct mc_udp_ctx *uc, enum dir dir, const uint8_t *data, size_t len,
			   uint64_t ts)
{
	struct mc_dir d;
	struct mc_ctx x;
	ssize_t n;

	memset(&d, 0, sizeof(d));
	memset(&x, 0, sizeof(x));
	x.cfg = uc->cfg->priv;
	x.d = &d;
	x.dir = dir;
	x.ts = ts;
	x.emit = mc_udp_emit;
	x.arg = uc;
	n = mc_feed(&x, data, len);
	if (n == PARSE_ERROR || (size_t)n != len || d.st != MC_ST_CMD) {
		/* garbage, or a message cut short: nothing more will come */
		proto_count(uc->pl, uc->cfg, PSTAT_PARSE_ERRORS);
	} else if (d.cur.m) {
		/* a VALUE/STAT list without its END: the datagram is all there is */
		mc_msg_finish(&x);
	}
	mc_dir_reset(&d);
}

/* ---- reassembly ---- */

static void frag_complete(struct mc_udp *u, struct mc_frag **pp, struct mc_udp_ctx *uc)
{
	struct mc_frag *e = *pp;
	uint8_t *buf = malloc(e->bytes ? e->bytes : 1);
	size_t off = 0;

	if (buf) {
		for (uint16_t i = 0; i < e->total; i++) {
			memcpy(buf + off, e->part[i], e->plen[i]);
			off += e->plen[i];
		}
	}
	*pp = e->next; /* unlink before parsing: the parse may reach the correlator */
	u->n--;
	u->bytes -= e->bytes;
	if (buf)
		mc_udp_message(uc, e->dir, buf, off, e->ts_first);
	free(buf);
	frag_free(e);
}

static void frag_add(struct mc_udp *u, struct mc_udp_ctx *uc, enum dir dir, uint16_t seq, uint16_t total,
		     const uint8_t *data, size_t len, uint64_t ts)
{
	struct mc_frag **pp = frag_find(u, uc->f, dir, uc->reqid);
	struct mc_frag *e = *pp;

	if (e && e->total != total) {
		/* the same id with another shape: start over */
		proto_count(uc->pl, uc->cfg, PSTAT_PARSE_ERRORS);
		frag_remove(u, pp);
		e = NULL;
	}
	if (!e) {
		if (u->n >= MC_UDP_MAX_PENDING) {
			proto_count(uc->pl, uc->cfg, PSTAT_TOO_LARGE);
			frag_remove(u, frag_oldest(u));
		}
		e = frag_new(u, uc->f, dir, uc->reqid, total, ts);
		if (!e)
			return;
		pp = &u->head;
	}
	if (e->part[seq])
		return; /* duplicate */
	if (e->bytes + len > MC_UDP_MAX_MSG_BYTES || u->bytes + len > MC_UDP_MAX_TOTAL_BYTES) {
		proto_count(uc->pl, uc->cfg, PSTAT_TOO_LARGE);
		frag_remove(u, pp);
		return;
	}
	e->part[seq] = malloc(len ? len : 1);
	if (!e->part[seq])
		return;
	memcpy(e->part[seq], data, len);
	e->plen[seq] = (uint16_t)len;
	e->bytes += len;
	u->bytes += len;
	e->got++;
	e->ts_last = ts;
	if (e->got == e->total) {
		uc->ts_end = ts;
		frag_complete(u, pp, uc);
	}
}

void mc_parse_udp(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, enum dir dir,
		  const uint8_t *data, size_t len, uint64_t ts)
{
	struct mc_cfg *mc = cfg->priv;
	struct mc_udp_ctx uc = { .pl = pl, .cfg = cfg, .f = f, .ts_end = ts };
	struct reader r;
	uint16_t seq, total;

	rd_init(&r, data, len);
	uc.reqid = rd_be16(&r);
	seq = rd_be16(&r);
	total = rd_be16(&r);
	rd_skip(&r, 2);
	if (r.err || total == 0 || seq >= total || len - MC_UDP_HEADER > UINT16_MAX) {
		proto_count(pl, cfg, PSTAT_PARSE_ERRORS);
		return;
	}
	if (total == 1) {
		mc_udp_message(&uc, dir, data + MC_UDP_HEADER, len - MC_UDP_HEADER, ts);
		return;
	}
	if (total > MC_UDP_MAX_DATAGRAMS) {
		proto_count(pl, cfg, PSTAT_TOO_LARGE);
		return;
	}
	frag_add(mc->udp, &uc, dir, seq, total, data + MC_UDP_HEADER, len - MC_UDP_HEADER, ts);
}

void mc_expire(struct pipeline *pl, const struct proto_cfg *cfg, uint64_t now)
{
	struct mc_cfg *mc = cfg->priv;
	struct mc_frag **pp = &mc->udp->head;

	quiet_expire(pl, cfg, mc->udp, mc->udptransactiontimeout, now);
	while (*pp) {
		if ((*pp)->ts_last + mc->udptransactiontimeout <= now) {
			proto_count(pl, cfg, PSTAT_GAPS);
			frag_remove(mc->udp, pp);
		} else {
			pp = &(*pp)->next;
		}
	}
}
