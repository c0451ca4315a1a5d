/*
 * Event writing: one JSON object per transaction with the ECS fields
 * Packetbeat 8 uses, written straight into a text buffer; the protocol's
 * request and response fields (jansson trees) are merged in as they are
 * written (response over request): where they name a generic field they win,
 * and their members of the generic objects (event, source, destination,
 * client, server, network) join those objects. A protocol may instead write
 * its members as text itself (proto_ops.write_fields), which is cheaper.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "json_buf.h"

#define FLOW_CACHE 256

struct flow_strs {
	bool valid;
	struct flow flow;
	char cip[48], sip[48], cid[40];
	size_t cip_len, sip_len, cid_len;
};

struct event_writer {
	struct flow_strs cache[FLOW_CACHE];
	uint64_t sec; /* second of sec_str */
	char sec_str[24];
	size_t sec_len; /* 0 until the first event */
};

struct event_writer *event_writer_new(void)
{
	return calloc(1, sizeof(struct event_writer));
}

void event_writer_free(struct event_writer *w)
{
	free(w);
}

void format_timestamp(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
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

/*
 * Writer state of one JSON object: its members may be overridden/extended
 * by the request's and the response's fields for it (over[0], over[1]).
 */
struct obj {
	struct json_buf *b;
	const json_t *over[2];
	int first;
};

static bool overridden(const struct obj *o, const char *key)
{
	if (!o->over[0] && !o->over[1])
		return false; /* the common case: the messages add nothing here */
	return json_object_get(o->over[0], key) || json_object_get(o->over[1], key);
}

static bool key(struct obj *o, const char *k)
{
	if (overridden(o, k))
		return false;
	json_buf_key(o->b, k, o->first);
	o->first = 0;
	return true;
}

static void put_str(struct obj *o, const char *k, const char *s, size_t n)
{
	if (key(o, k))
		json_buf_str(o->b, s, n);
}

static void put_u64(struct obj *o, const char *k, uint64_t v)
{
	if (key(o, k))
		json_buf_u64(o->b, v);
}

/* "2026-11-25T14:18:09.123Z": the seconds part is formatted once per second. */
static void put_time(struct event_writer *ew, struct obj *o, const char *k, uint64_t ns)
{
	uint64_t sec = ns / 1000000000u;
	unsigned ms = (unsigned)(ns / 1000000u % 1000u);
	char buf[48];
	size_t n;

	if (!key(o, k))
		return;
	if (sec != ew->sec || !ew->sec_len) {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		ew->sec_len = strftime(ew->sec_str, sizeof(ew->sec_str), "%Y-%m-%dT%H:%M:%S", &tm);
		ew->sec = sec;
	}
	buf[0] = '"';
	memcpy(buf + 1, ew->sec_str, ew->sec_len);
	n = 1 + ew->sec_len;
	buf[n++] = '.';
	buf[n++] = (char)('0' + ms / 100);
	buf[n++] = (char)('0' + ms / 10 % 10);
	buf[n++] = (char)('0' + ms % 10);
	buf[n++] = 'Z';
	buf[n++] = '"';
	json_buf_put(o->b, buf, n);
}

static const json_t *sub_object(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_object(v) ? v : NULL;
}

/* Open member object k of parent; the messages' members under k are appended at close. */
static void open_obj(struct obj *parent, const char *k, struct obj *child)
{
	json_buf_key(parent->b, k, parent->first);
	parent->first = 0;
	json_buf_put(parent->b, "{", 1);
	child->b = parent->b;
	child->over[0] = parent->over[0] ? sub_object(parent->over[0], k) : NULL;
	child->over[1] = parent->over[1] ? sub_object(parent->over[1], k) : NULL;
	child->first = 1;
}

static void close_obj(struct obj *o)
{
	if (o->over[0] || o->over[1])
		json_write_merged(o->b, o->over[0], o->over[1], o->first, NULL);
	json_buf_put(o->b, "}", 1);
}

static void endpoint(struct obj *doc, const char *k, const char *ip, size_t iplen, uint16_t port, uint64_t bytes)
{
	struct obj o;

	open_obj(doc, k, &o);
	put_str(&o, "ip", ip, iplen);
	put_u64(&o, "port", port);
	put_u64(&o, "bytes", bytes);
	close_obj(&o);
}

static const char *outcome(const struct msg *req, const struct msg *resp)
{
	if (!resp)
		return req->noreply ? "success" : "unknown";
	return (!resp->status || strcmp(resp->status, "OK") == 0) ? "success" : "failure";
}

static const char *status(const struct msg *req, const struct msg *resp)
{
	if (!resp)
		return req->noreply ? "OK" : "Error";
	return resp->status ? resp->status : "OK";
}

static void event_object(struct event_writer *ew, struct obj *doc, const char *name, const struct msg *req,
			 const struct msg *resp)
{
	uint64_t start = req->ts, end = resp ? (resp->ts_end ? resp->ts_end : resp->ts) : 0;
	const char *oc = outcome(req, resp);
	struct obj o;

	open_obj(doc, "event", &o);
	put_str(&o, "kind", "event", 5);
	if (key(&o, "category"))
		json_buf_put(o.b, "[\"network\"]", 11);
	if (key(&o, "type"))
		json_buf_put(o.b, "[\"connection\",\"protocol\"]", 25);
	put_str(&o, "dataset", name, strlen(name));
	put_time(ew, &o, "start", start);
	if (resp && end >= start && !req->placeholder) {
		put_time(ew, &o, "end", end);
		put_u64(&o, "duration", end - start);
	}
	put_str(&o, "outcome", oc, strlen(oc));
	close_obj(&o);
}

static void raw_text(struct obj *doc, const char *k, const struct msg *m)
{
	json_t *s;

	if (!m || !m->raw || !key(doc, k))
		return;
	s = json_strn(m->raw, m->raw_len); /* raw bytes: made valid UTF-8 */
	if (!s) {
		doc->b->err = -ENOMEM;
		return;
	}
	json_write(doc->b, s);
	json_decref(s);
}

static const char *const generic_objects[] = { "event", "source", "destination", "client", "server", "network",
					       NULL };

int event_write(struct event_writer *ew, struct json_buf *b, const struct proto_cfg *cfg, const struct flow *f,
		const struct msg *req, const struct msg *resp)
{
	const char *name = cfg->ops->name;
	const struct flow_strs *fs = flow_strings(ew, f);
	uint64_t req_bytes = req->bytes, resp_bytes = resp ? resp->bytes : 0;
	const char *st = status(req, resp);
	struct obj doc = { .b = b, .over = { req->fields, resp ? resp->fields : NULL }, .first = 1 }, o;

	b->len = 0;
	b->err = 0;
	json_buf_put(b, "{", 1);
	put_time(ew, &doc, "@timestamp", req->ts);
	put_str(&doc, "type", name, strlen(name));
	put_str(&doc, "status", st, strlen(st));
	event_object(ew, &doc, name, req, resp);
	endpoint(&doc, "source", fs->cip, fs->cip_len, f->client_port, req_bytes);
	endpoint(&doc, "destination", fs->sip, fs->sip_len, f->server_port, resp_bytes);
	endpoint(&doc, "client", fs->cip, fs->cip_len, f->client_port, req_bytes);
	endpoint(&doc, "server", fs->sip, fs->sip_len, f->server_port, resp_bytes);
	open_obj(&doc, "network", &o);
	put_str(&o, "transport", f->transport == IPPROTO_UDP ? "udp" : "tcp", 3);
	put_str(&o, "protocol", name, strlen(name));
	put_str(&o, "type", f->client_ip.family == 6 ? "ipv6" : "ipv4", 4);
	put_u64(&o, "bytes", req_bytes + resp_bytes);
	put_str(&o, "community_id", fs->cid, fs->cid_len);
	close_obj(&o);
	if (key(&doc, "ecs"))
		json_buf_put(b, "{\"version\":\"8.0.0\"}", 19);
	if (cfg->send_request)
		raw_text(&doc, "request", req);
	if (cfg->send_response)
		raw_text(&doc, "response", resp);
	if (doc.over[0] || doc.over[1])
		json_write_merged(b, doc.over[0], doc.over[1], doc.first, generic_objects);
	if (cfg->ops->write_fields && cfg->ops->write_fields(b, cfg, req, resp))
		b->err = -ENOMEM;
	json_buf_put(b, "}", 1);
	return b->err; /* any failed append makes the event incomplete: not published */
}
