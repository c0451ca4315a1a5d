/*
 * Event writing: one JSON object per transaction with the ECS fields
 * Packetbeat 8 uses, written straight into a text buffer. The generic
 * members come from the messages' slots (the response's over the
 * request's), the protocol's own object from ops->write_fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "event/direction.h"
#include "event/event.h"
#include "json_buf.h"
#include "netlist.h"
#include "util/sha1.h"
#include "util/timefmt.h"

#define FLOW_CACHE 256

struct flow_strs {
	bool valid;
	struct flow flow;
	char cip[48], sip[48], cid[40];
	size_t cip_len, sip_len, cid_len;
	const char *direction; /* network.direction */
};

struct event_writer {
	struct flow_strs cache[FLOW_CACHE];
	struct timefmt tf;
	char agent[640];
	size_t agent_len;
	struct netlist *host; /* this host's addresses, for network.direction */
	const struct netlist *internal; /* internal_networks (not owned), or NULL */
};

struct event_writer *event_writer_new(void)
{
	struct event_writer *w = calloc(1, sizeof(struct event_writer));

	if (w && !(w->host = direction_host_networks())) {
		free(w);
		return NULL;
	}
	return w;
}

void event_writer_free(struct event_writer *w)
{
	if (!w)
		return;
	netlist_free(w->host);
	free(w);
}

void event_writer_set_networks(struct event_writer *w, const struct netlist *internal)
{
	w->internal = internal;
	for (size_t i = 0; i < FLOW_CACHE; i++)
		w->cache[i].valid = false; /* their directions were from the old list */
}

void event_writer_set_agent(struct event_writer *w, const char *json, size_t len)
{
	if (len > sizeof(w->agent))
		len = 0;
	memcpy(w->agent, json, len);
	w->agent_len = len;
}

/* Community ID v1 with seed 0 (the published algorithm): base64(SHA1(seed, addrs, proto, 0, ports)). */
void community_id(const struct flow *f, char *buf, size_t len)
{
	const struct ip_addr *a = &f->client_ip, *b = &f->server_ip;
	uint16_t ap = f->client_port, bp = f->server_port;
	size_t alen = a->family == 6 ? 16 : 4;
	uint8_t in[2 + 32 + 2 + 4], digest[20];
	char b64[32];
	size_t n = 0;
	int cmp = memcmp(a->a, b->a, alen);

	if (cmp > 0 || (cmp == 0 && ap > bp)) {
		const struct ip_addr *t = a;
		uint16_t tp = ap;

		a = b, ap = bp;
		b = t, bp = tp;
	}
	in[n++] = 0;
	in[n++] = 0;
	memcpy(in + n, a->a, alen), n += alen;
	memcpy(in + n, b->a, alen), n += alen;
	in[n++] = f->transport;
	in[n++] = 0;
	in[n++] = (uint8_t)(ap >> 8), in[n++] = (uint8_t)ap;
	in[n++] = (uint8_t)(bp >> 8), in[n++] = (uint8_t)bp;
	sha1(in, n, digest);
	base64_encode(digest, sizeof(digest), b64);
	snprintf(buf, len, "1:%s", b64);
}

/* Address strings and Community ID of f, computed once per flow while it stays in the cache. */
static const struct flow_strs *flow_strings(struct event_writer *ew, const struct flow *f)
{
	uint32_t h = (uint32_t)f->client_port * 31u + f->server_port;
	struct flow_strs *s;

	for (int i = 0; i < 4; i++)
		h = h * 131u + f->client_ip.a[i] + f->server_ip.a[15 - i];
	s = &ew->cache[h % FLOW_CACHE];
	if (s->valid && flow_equal(&s->flow, f))
		return s;
	s->valid = true;
	s->flow = *f;
	s->cip_len = strlen(ip_addr_str(&f->client_ip, s->cip, sizeof(s->cip)));
	s->sip_len = strlen(ip_addr_str(&f->server_ip, s->sip, sizeof(s->sip)));
	community_id(f, s->cid, sizeof(s->cid));
	s->cid_len = strlen(s->cid);
	s->direction = direction_of(ew->host, ew->internal, &f->client_ip, &f->server_ip);
	return s;
}

static void put_str(struct json_buf *b, const char *k, const char *s, size_t n)
{
	json_buf_key(b, k, 0);
	json_buf_str(b, s, n);
}

/* A generic member: the request's, or the response's when the request has none (a placeholder). */
static const struct msg_text *slot(const struct msg_text *q, const struct msg_text *r)
{
	return q->len || !r ? q : r;
}

#define SLOT(req, resp, name) slot(&(req)->name, (resp) ? &(resp)->name : NULL)

static void put_slot(struct json_buf *b, const char *k, const struct msg_text *t)
{
	if (!t->len)
		return;
	json_buf_key(b, k, 0);
	json_buf_strn(b, t->s, t->len);
}

/*
 * "2026-11-25T14:18:09.123Z" (@timestamp) or, fine, with the capture's
 * precision (event.start/end): the seconds part is formatted once per second.
 */
static void put_time(struct event_writer *ew, struct json_buf *b, const char *k, int first, uint64_t ns, bool fine)
{
	char buf[TIMEFMT_FINE_MAX + 2];
	size_t n;

	json_buf_key(b, k, first);
	buf[0] = '"';
	n = 1 + (fine ? timefmt_iso_fine(&ew->tf, ns, buf + 1) : timefmt_iso(&ew->tf, ns, buf + 1));
	buf[n++] = '"';
	json_buf_put(b, buf, n);
}

static void endpoint(struct json_buf *b, const char *k, const char *ip, size_t iplen, uint16_t port, uint64_t bytes,
		     const struct msg_text *domain)
{
	json_kv_open(b, k, 0);
	json_buf_key(b, "ip", 1);
	json_buf_str(b, ip, iplen);
	json_kv_u64(b, "port", port);
	if (bytes) /* Packetbeat leaves zero values out: a request without response has no destination.bytes */
		json_kv_u64(b, "bytes", bytes);
	if (domain)
		put_slot(b, "domain", domain);
	json_buf_put(b, "}", 1);
}

static const char *outcome(const struct msg *req, const struct msg *resp)
{
	if (!resp)
		return req->noreply ? "success" : "unknown";
	return resp->status == MSG_OK ? "success" : "failure";
}

static const char *status(const struct proto_ops *ops, const struct msg *req, const struct msg *resp)
{
	if (!resp)
		return req->noreply ? "OK"
				    : msg_status_str(ops->unanswered_status ? ops->unanswered_status : MSG_ERROR);
	return msg_status_str(resp->status);
}

static void event_object(struct event_writer *ew, struct json_buf *b, const char *name, const struct msg *req,
			 const struct msg *resp)
{
	uint64_t start = req->ts, end = resp ? resp->ts : 0; /* the response's first packet, as Packetbeat */
	const char *oc = outcome(req, resp);

	json_kv_open(b, "event", 0);
	json_buf_lit(b, "\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\",\"protocol\"]");
	put_str(b, "dataset", name, strlen(name));
	put_time(ew, b, "start", 0, start, true);
	if (resp && end >= start && !req->placeholder) {
		put_time(ew, b, "end", 0, end, true);
		json_kv_u64(b, "duration", end - start);
	}
	put_str(b, "outcome", oc, strlen(oc));
	put_slot(b, "action", SLOT(req, resp, action));
	json_buf_put(b, "}", 1);
}

static void network_object(struct json_buf *b, const struct flow_strs *fs, const struct flow *f, const char *name,
			   uint64_t bytes, const struct msg_text *forwarded_ip)
{
	json_kv_open(b, "network", 0);
	json_buf_key(b, "transport", 1);
	json_buf_str(b, f->transport == IPPROTO_UDP ? "udp" : "tcp", 3);
	put_str(b, "protocol", name, strlen(name));
	put_str(b, "type", f->client_ip.family == 6 ? "ipv6" : "ipv4", 4);
	json_kv_u64(b, "bytes", bytes);
	put_str(b, "community_id", fs->cid, fs->cid_len);
	put_str(b, "direction", fs->direction, strlen(fs->direction));
	put_slot(b, "forwarded_ip", forwarded_ip);
	json_buf_put(b, "}", 1);
}

/* Distinct values in the order they were added, as Packetbeat's AddIP/AddHost/AddUser. */
struct related_set {
	const char *s[4];
	size_t len[4];
	size_t n;
};

static void related_add(struct related_set *r, const char *s, size_t n)
{
	if (!n || r->n == sizeof(r->s) / sizeof(r->s[0]))
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->len[i] == n && !memcmp(r->s[i], s, n))
			return;
	r->s[r->n] = s;
	r->len[r->n++] = n;
}

/* related.ip: addresses compared as addresses, so "::2" and "0::2" are one. */
struct related_ips {
	struct related_set text;
	struct ip_addr addr[4]; /* of text.s[i] */
};

static void related_add_addr(struct related_ips *r, const struct ip_addr *a, const char *s, size_t n)
{
	if (r->text.n == sizeof(r->addr) / sizeof(r->addr[0]))
		return;
	for (size_t i = 0; i < r->text.n; i++)
		if (ip_addr_eq(&r->addr[i], a))
			return;
	r->addr[r->text.n] = *a;
	related_add(&r->text, s, n);
}

/* An address slot as it came, or nothing when it is not an address (ES types related.ip as ip). */
static void related_add_slot(struct related_ips *r, const struct msg_text *t)
{
	char tmp[INET6_ADDRSTRLEN];
	struct ip_addr a = { 0 };

	if (!t->len || t->len >= sizeof(tmp))
		return;
	memcpy(tmp, t->s, t->len);
	tmp[t->len] = '\0';
	a.family = memchr(t->s, ':', t->len) ? 6 : 4;
	if (inet_pton(a.family == 6 ? AF_INET6 : AF_INET, tmp, a.a) == 1)
		related_add_addr(r, &a, t->s, t->len);
}

static void related_list(struct json_buf *b, const char *k, const struct related_set *r, int first)
{
	if (!r->n)
		return;
	json_buf_key(b, k, first);
	json_buf_lit(b, "[");
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			json_buf_lit(b, ",");
		json_buf_strn(b, r->s[i], r->len[i]);
	}
	json_buf_lit(b, "]");
}

/*
 * related: ip (both ends, then an address the request names, then the
 * forwarded one), hosts (the domain, then one more such as the Referer),
 * user (user.name), each value once.
 */
static void related_object(struct json_buf *b, const struct flow_strs *fs, const struct msg *req,
			   const struct msg *resp)
{
	struct related_ips ip = { 0 };
	struct related_set hosts = { 0 }, user = { 0 };
	const struct msg_text *domain = SLOT(req, resp, domain), *host = SLOT(req, resp, related_host);
	const struct msg_text *name = SLOT(req, resp, user);

	related_add_addr(&ip, &fs->flow.client_ip, fs->cip, fs->cip_len);
	related_add_addr(&ip, &fs->flow.server_ip, fs->sip, fs->sip_len);
	related_add_slot(&ip, SLOT(req, resp, related_ip));
	related_add_slot(&ip, SLOT(req, resp, forwarded_ip));
	related_add(&hosts, domain->s, domain->len);
	related_add(&hosts, host->s, host->len);
	related_add(&user, name->s, name->len);
	json_kv_open(b, "related", 0);
	related_list(b, "ip", &ip.text, 1);
	related_list(b, "hosts", &hosts, 0);
	related_list(b, "user", &user, 0);
	json_buf_put(b, "}", 1);
}

/* user.name */
static void user_object(struct json_buf *b, const struct msg_text *name)
{
	if (!name->len)
		return;
	json_kv_open(b, "user", 0);
	json_buf_key(b, "name", 1);
	json_buf_strn(b, name->s, name->len);
	json_buf_put(b, "}", 1);
}

/*
 * error.message: the response's notes, or else the request's, then the
 * protocol's note for a request without a response or a response without a
 * request. One note is a string, several an array.
 */
static void notes(struct json_buf *b, const struct proto_ops *ops, const struct msg *req, const struct msg *resp)
{
	const struct msg *m = resp && resp->nnotes ? resp : req;
	const char *list[MSG_NOTES_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; i < m->nnotes; i++)
		list[n++] = m->notes[i];
	if (req->placeholder && ops->note_unmatched)
		list[n++] = ops->note_unmatched;
	else if (!resp && !req->noreply && !req->noted && ops->note_unanswered)
		list[n++] = ops->note_unanswered;
	if (!n)
		return;
	json_buf_lit(b, ",\"error\":{\"message\":");
	if (n > 1)
		json_buf_lit(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			json_buf_lit(b, ",");
		json_buf_str(b, list[i], strlen(list[i]));
	}
	if (n > 1)
		json_buf_lit(b, "]");
	json_buf_lit(b, "}");
}

static void raw_text(struct json_buf *b, const char *k, const struct msg *m)
{
	if (!m || !m->raw)
		return;
	json_buf_key(b, k, 0);
	json_buf_strn(b, m->raw, m->raw_len); /* raw bytes: made valid UTF-8 */
}

/* The members event_write writes itself, in its order (agent: event_writer_set_agent's; error: notes). */
static const char *const generic_keys[] = { "@timestamp", "type",   "status",  "event",	   "source", "destination",
					    "client",	  "server", "network", "related",  "user",   "ecs",
					    "agent",	  "method", "query",   "resource", "error",  NULL };

static bool in_list(const char *const *list, const char *key, size_t n)
{
	for (; list && *list; list++)
		if (strlen(*list) == n && !memcmp(*list, key, n))
			return true;
	return false;
}

bool event_may_have(void *ctx, const char *key, size_t n)
{
	const struct proto_cfg *pc = ctx;

	return in_list(generic_keys, key, n) || in_list(pc->ops->event_keys, key, n) ||
	       (pc->send_request && n == 7 && !memcmp(key, "request", 7)) ||
	       (pc->send_response && n == 8 && !memcmp(key, "response", 8));
}

int event_write(struct event_writer *ew, struct json_buf *b, const struct proto_cfg *cfg, const struct flow *f,
		const struct msg *req, const struct msg *resp)
{
	const char *name = cfg->ops->name;
	const struct flow_strs *fs = flow_strings(ew, f);
	uint64_t req_bytes = req->bytes, resp_bytes = resp ? resp->bytes : 0;
	const char *st = status(cfg->ops, req, resp);

	b->len = 0;
	b->err = 0;
	json_buf_lit(b, "{");
	put_time(ew, b, "@timestamp", 1, req->ts, false);
	put_str(b, "type", name, strlen(name));
	put_str(b, "status", st, strlen(st));
	event_object(ew, b, name, req, resp);
	endpoint(b, "source", fs->cip, fs->cip_len, f->client_port, req_bytes, NULL);
	endpoint(b, "destination", fs->sip, fs->sip_len, f->server_port, resp_bytes, SLOT(req, resp, domain));
	endpoint(b, "client", fs->cip, fs->cip_len, f->client_port, req_bytes, NULL);
	endpoint(b, "server", fs->sip, fs->sip_len, f->server_port, resp_bytes, SLOT(req, resp, domain));
	network_object(b, fs, f, name, req_bytes + resp_bytes, SLOT(req, resp, forwarded_ip));
	related_object(b, fs, req, resp);
	user_object(b, SLOT(req, resp, user));
	json_buf_lit(b, ",\"ecs\":{\"version\":\"8.0.0\"}");
	json_buf_put(b, ew->agent, ew->agent_len);
	put_slot(b, "method", SLOT(req, resp, method));
	put_slot(b, "query", SLOT(req, resp, query));
	put_slot(b, "resource", SLOT(req, resp, resource));
	notes(b, cfg->ops, req, resp);
	if (cfg->send_request)
		raw_text(b, "request", req);
	if (cfg->send_response)
		raw_text(b, "response", resp);
	if (cfg->ops->write_fields && cfg->ops->write_fields(b, cfg, req, resp))
		b->err = -ENOMEM;
	json_buf_put(b, "}", 1);
	return b->err; /* any failed append makes the event incomplete: not published */
}
