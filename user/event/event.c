/*
 * Event writing: one JSON object per transaction with the ECS fields
 * Packetbeat 8 uses, written straight into a text buffer. The generic
 * members come from the messages' slots (the response's over the
 * request's), the protocol's own object from ops->write_fields.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base64.h"
#include "event/event.h"
#include "json_buf.h"
#include "util/sha1.h"
#include "util/timefmt.h"

#define FLOW_CACHE 256

struct flow_strs {
	bool valid;
	struct flow flow;
	char cip[48], sip[48], cid[40];
	size_t cip_len, sip_len, cid_len;
};

struct event_writer {
	struct flow_strs cache[FLOW_CACHE];
	struct timefmt tf;
	char agent[640];
	size_t agent_len;
};

struct event_writer *event_writer_new(void)
{
	return calloc(1, sizeof(struct event_writer));
}

void event_writer_free(struct event_writer *w)
{
	free(w);
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

/* "2026-11-25T14:18:09.123Z": the seconds part is formatted once per second. */
static void put_time(struct event_writer *ew, struct json_buf *b, const char *k, int first, uint64_t ns)
{
	char buf[TIMEFMT_LEN + 2];
	size_t n;

	json_buf_key(b, k, first);
	buf[0] = '"';
	n = 1 + timefmt_iso(&ew->tf, ns, buf + 1);
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
	uint64_t start = req->ts, end = resp ? (resp->ts_end ? resp->ts_end : resp->ts) : 0;
	const char *oc = outcome(req, resp);

	json_kv_open(b, "event", 0);
	json_buf_lit(b, "\"kind\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\",\"protocol\"]");
	put_str(b, "dataset", name, strlen(name));
	put_time(ew, b, "start", 0, start);
	if (resp && end >= start && !req->placeholder) {
		put_time(ew, b, "end", 0, end);
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
	put_slot(b, "forwarded_ip", forwarded_ip);
	json_buf_put(b, "}", 1);
}

/* related.ip: both ends, once each (Packetbeat's AddIP of source and destination). */
static void related_ip(struct json_buf *b, const struct flow_strs *fs)
{
	json_buf_lit(b, ",\"related\":{\"ip\":[");
	json_buf_str(b, fs->cip, fs->cip_len);
	if (fs->cip_len != fs->sip_len || memcmp(fs->cip, fs->sip, fs->cip_len)) {
		json_buf_lit(b, ",");
		json_buf_str(b, fs->sip, fs->sip_len);
	}
	json_buf_lit(b, "]}");
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
	put_time(ew, b, "@timestamp", 1, req->ts);
	put_str(b, "type", name, strlen(name));
	put_str(b, "status", st, strlen(st));
	event_object(ew, b, name, req, resp);
	endpoint(b, "source", fs->cip, fs->cip_len, f->client_port, req_bytes, NULL);
	endpoint(b, "destination", fs->sip, fs->sip_len, f->server_port, resp_bytes, SLOT(req, resp, domain));
	endpoint(b, "client", fs->cip, fs->cip_len, f->client_port, req_bytes, NULL);
	endpoint(b, "server", fs->sip, fs->sip_len, f->server_port, resp_bytes, NULL);
	network_object(b, fs, f, name, req_bytes + resp_bytes, SLOT(req, resp, forwarded_ip));
	related_ip(b, fs);
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
