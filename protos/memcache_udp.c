/*
 * Memcache over UDP: every datagram starts with an 8-byte frame header
 * (request id, sequence number, number of datagrams, reserved). A message
 * that spans several datagrams is reassembled by (flow, direction, request
 * id) in sequence-number order, within bounds on datagrams, bytes and
 * pending messages; unfinished ones expire after udptransactiontimeout.
 * Requests and responses are paired by the correlator on the request id
 * (waiting udptransactiontimeout, ops->udp_timeout); binary quiet requests
 * that get no response are published as OK, as Packetbeat does. memcached
 * sends each value of a multi-key get, and the END, as messages of their
 * own with the same request id: an open VALUE/STAT list waits here for the
 * rest (or udptransactiontimeout) and becomes one response. An empty frame
 * (0 datagrams) says the request gets no response.
 */
#include <stdlib.h>
#include <string.h>

#include "memcache.h"

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

/*
 * A response whose VALUE/STAT list is still open: memcached frames each
 * value of a multi-key get, and the END, as separate messages with the same
 * request id. The request is taken from the correlator when the list opens.
 */
struct mc_open {
	struct mc_open *next;
	struct flow flow;
	uint16_t reqid;
	uint64_t ts_last;
	struct mc_dir d; /* parse state holding the open message */
	struct msg *req; /* its request (NULL: none was waiting) */
};

struct mc_udp {
	struct mc_frag *head;
	size_t n;
	size_t bytes;
	struct mc_open *open;
	size_t nopen;
	size_t open_bytes; /* values kept by the open messages */
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
	while (u->open) {
		struct mc_open *o = u->open;

		u->open = o->next;
		mc_dir_reset(&o->d);
		msg_free(o->req);
		free(o);
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

static struct mc_frag *frag_new(struct mc_udp *u, const struct flow *f, enum dir dir, uint16_t reqid, uint16_t total,
				uint64_t ts)
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

/* ---- parse context ---- */

struct mc_udp_ctx {
	struct conn *c; /* the datagram exchange: flow, cfg, correlator */
	uint16_t reqid;
	uint64_t ts_end;
	bool held; /* the request was taken from the correlator: req answers the response */
	struct msg *req;
};

static void mc_udp_emit(struct mc_ctx *x, struct msg *m, const struct mc_msg *mm)
{
	struct mc_udp_ctx *uc = x->arg;

	msg_set_id(m, uc->reqid);
	if (m->ts_end < uc->ts_end)
		m->ts_end = uc->ts_end;
	if (x->dir == DIR_C2S) {
		corr_request(uc->c, m);
	} else if (uc->held) {
		uc->held = false;
		if (uc->req)
			corr_publish(uc->c, uc->req, m);
		else
			corr_unmatched(uc->c, m);
		uc->req = NULL;
	} else {
		corr_response(uc->c, m);
	}
}

static void mc_udp_ctx_init(struct mc_ctx *x, struct mc_udp_ctx *uc, struct mc_dir *d, enum dir dir, uint64_t ts)
{
	memset(x, 0, sizeof(*x));
	x->cfg = uc->c->cfg->priv;
	x->d = d;
	x->dir = dir;
	x->ts = ts;
	x->emit = mc_udp_emit;
	x->arg = uc;
}

/* ---- open responses ---- */

static struct mc_open *open_unlink(struct mc_udp *u, struct mc_open **pp)
{
	struct mc_open *o = *pp;

	*pp = o->next;
	u->nopen--;
	u->open_bytes -= o->d.cur.kept_bytes;
	return o;
}

/* Unlink the open response of (flow, reqid), or NULL. */
static struct mc_open *open_take(struct mc_udp *u, const struct flow *f, uint16_t reqid)
{
	struct mc_open **pp;

	for (pp = &u->open; *pp; pp = &(*pp)->next)
		if ((*pp)->reqid == reqid && flow_equal(&(*pp)->flow, f))
			return open_unlink(u, pp);
	return NULL;
}

/* Publish what came of an unlinked open response, with its request, and free it. */
static void open_finish(struct corr *k, const struct proto_cfg *cfg, struct mc_open *o)
{
	struct conn h;
	struct mc_udp_ctx uc = { .c = &h, .reqid = o->reqid, .ts_end = o->ts_last };
	struct mc_ctx x;

	corr_udp_conn(&h, k, cfg, &o->flow);
	uc.held = true;
	uc.req = o->req;
	mc_udp_ctx_init(&x, &uc, &o->d, DIR_S2C, o->ts_last);
	mc_msg_finish(&x);
	if (uc.held && uc.req) /* nothing was open after all */
		corr_publish(&h, uc.req, NULL);
	mc_dir_reset(&o->d);
	free(o);
}

static struct mc_open **open_oldest(struct mc_udp *u)
{
	struct mc_open **pp, **old = &u->open;

	for (pp = &u->open; *pp; pp = &(*pp)->next)
		if ((*pp)->ts_last < (*old)->ts_last)
			old = pp;
	return old;
}

/* Keep d (an open message) and its request until the rest comes, within bounds. */
static void open_keep(struct mc_udp *u, struct mc_udp_ctx *uc, struct mc_dir *d, uint64_t ts)
{
	struct mc_open *o;

	while (u->open &&
	       (u->nopen >= MC_UDP_MAX_PENDING || u->open_bytes + d->cur.kept_bytes > MC_UDP_MAX_TOTAL_BYTES)) {
		corr_count(uc->c, PSTAT_TOO_LARGE);
		open_finish(uc->c->corr, uc->c->cfg, open_unlink(u, open_oldest(u)));
	}
	o = calloc(1, sizeof(*o));
	if (!o) { /* publish what there is */
		struct mc_ctx x;

		mc_udp_ctx_init(&x, uc, d, DIR_S2C, ts);
		mc_msg_finish(&x);
		mc_dir_reset(d);
		return;
	}
	o->flow = uc->c->flow;
	o->reqid = uc->reqid;
	o->ts_last = ts;
	o->d = *d;
	o->req = uc->req;
	uc->held = false;
	uc->req = NULL;
	o->next = u->open;
	u->open = o;
	u->nopen++;
	u->open_bytes += d->cur.kept_bytes;
}

static void open_expire(struct corr *k, const struct proto_cfg *cfg, struct mc_udp *u, uint64_t timeout, uint64_t now)
{
	struct mc_open **pp = &u->open;

	while (*pp) {
		if ((*pp)->ts_last + timeout <= now)
			open_finish(k, cfg, open_unlink(u, pp));
		else
			pp = &(*pp)->next;
	}
}

/* ---- one complete message ---- */

static void mc_udp_message(struct mc_udp_ctx *uc, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct mc_udp *u = ((struct mc_cfg *)uc->c->cfg->priv)->udp;
	struct mc_open *o = dir == DIR_S2C ? open_take(u, &uc->c->flow, uc->reqid) : NULL;
	struct mc_dir fresh, *d = o ? &o->d : &fresh;
	struct mc_ctx x;
	ssize_t n;

	memset(&fresh, 0, sizeof(fresh));
	if (o) {
		uc->held = true;
		uc->req = o->req;
		o->req = NULL;
	}
	mc_udp_ctx_init(&x, uc, d, dir, ts);
	n = mc_feed(&x, data, len);
	if (n == PARSE_ERROR || (size_t)n != len || d->st != MC_ST_CMD) {
		/* garbage, or a message cut short: nothing more will come */
		corr_count(uc->c, PSTAT_PARSE_ERRORS);
	} else if (d->cur.m && dir == DIR_S2C) {
		/* a VALUE/STAT list without its END: the rest may come in messages of its own */
		if (!uc->held) {
			uc->req = corr_take_id(uc->c, uc->reqid);
			uc->held = true;
		}
		open_keep(u, uc, d, uc->ts_end); /* d is kept or reset */
		free(o);
		return;
	} else if (d->cur.m) {
		mc_msg_finish(&x);
	}
	if (uc->held && uc->req)
		corr_publish(uc->c, uc->req, NULL);
	uc->held = false;
	uc->req = NULL;
	mc_dir_reset(d);
	free(o);
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
	struct mc_frag **pp = frag_find(u, &uc->c->flow, dir, uc->reqid);
	struct mc_frag *e = *pp;

	if (e && e->total != total) {
		/* the same id with another shape: start over */
		corr_count(uc->c, PSTAT_PARSE_ERRORS);
		frag_remove(u, pp);
		e = NULL;
	}
	if (!e) {
		if (u->n >= MC_UDP_MAX_PENDING) {
			corr_count(uc->c, PSTAT_TOO_LARGE);
			frag_remove(u, frag_oldest(u));
		}
		e = frag_new(u, &uc->c->flow, dir, uc->reqid, total, ts);
		if (!e)
			return;
		pp = &u->head;
	}
	if (e->part[seq])
		return; /* duplicate */
	if (e->bytes + len > MC_UDP_MAX_MSG_BYTES || u->bytes + len > MC_UDP_MAX_TOTAL_BYTES) {
		corr_count(uc->c, PSTAT_TOO_LARGE);
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

/*
 * An empty frame (no datagrams): memcached's answer to a request that gets
 * no response, e.g. a quiet get that missed. The request waiting for it is
 * published without a response (OK when quiet).
 */
static void empty_frame(struct mc_udp_ctx *uc, enum dir dir)
{
	struct msg *req;

	if (dir != DIR_S2C)
		return;
	req = corr_take_id(uc->c, uc->reqid);
	if (req)
		corr_publish(uc->c, req, NULL);
}

void mc_parse_udp(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct mc_cfg *mc = c->cfg->priv;
	struct mc_udp_ctx uc = { .c = c, .ts_end = ts };
	struct reader r;
	uint16_t seq, total;

	rd_init(&r, data, len);
	uc.reqid = rd_be16(&r);
	seq = rd_be16(&r);
	total = rd_be16(&r);
	rd_skip(&r, 2);
	if (!r.err && total == 0 && seq == 0 && len == MC_UDP_HEADER) {
		empty_frame(&uc, dir);
		return;
	}
	if (r.err || total == 0 || seq >= total || len - MC_UDP_HEADER > UINT16_MAX) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	if (total == 1) {
		mc_udp_message(&uc, dir, data + MC_UDP_HEADER, len - MC_UDP_HEADER, ts);
		return;
	}
	if (total > MC_UDP_MAX_DATAGRAMS) {
		corr_count(c, PSTAT_TOO_LARGE);
		return;
	}
	frag_add(mc->udp, &uc, dir, seq, total, data + MC_UDP_HEADER, len - MC_UDP_HEADER, ts);
}

void mc_expire(struct corr *k, const struct proto_cfg *cfg, uint64_t now)
{
	struct mc_cfg *mc = cfg->priv;
	struct mc_frag **pp = &mc->udp->head;
	struct conn h;

	open_expire(k, cfg, mc->udp, mc->udptransactiontimeout, now);
	while (*pp) {
		if ((*pp)->ts_last + mc->udptransactiontimeout <= now) {
			corr_udp_conn(&h, k, cfg, &(*pp)->flow);
			corr_count(&h, PSTAT_GAPS);
			frag_remove(mc->udp, pp);
		} else {
			pp = &(*pp)->next;
		}
	}
}
