/*
 * Event building: one JSON object per transaction with the ECS fields
 * Packetbeat 8 uses; the protocol's request/response fields are merged in.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void format_timestamp(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
}

static json_t *json_time(uint64_t ns)
{
	char buf[40];

	format_timestamp(ns, buf, sizeof(buf));
	return json_string(buf);
}

static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < len ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Community ID v1, seed 0: https://github.com/corelight/community-id-spec (algorithm only). */
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
	base64(digest, sizeof(digest), b64);
	snprintf(buf, len, "1:%s", b64);
}

static json_t *endpoint(const struct ip_addr *ip, uint16_t port, uint64_t bytes)
{
	char buf[64];

	return json_pack("{s:s, s:i, s:I}", "ip", ip_addr_str(ip, buf, sizeof(buf)), "port", port, "bytes",
			 (json_int_t)bytes);
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

json_t *event_build(const struct proto_cfg *cfg, const struct flow *f, const struct msg *req,
		    const struct msg *resp)
{
	const char *name = cfg->ops->name;
	uint64_t req_bytes = req->bytes, resp_bytes = resp ? resp->bytes : 0;
	uint64_t start = req->ts;
	uint64_t end = resp ? (resp->ts_end ? resp->ts_end : resp->ts) : 0;
	char cid[64];
	json_t *doc, *ev;

	community_id(f, cid, sizeof(cid));
	doc = json_object();
	if (!doc)
		return NULL;
	json_object_set_new(doc, "@timestamp", json_time(start));
	json_object_set_new(doc, "type", json_string(name));
	json_object_set_new(doc, "status", json_string(status(req, resp)));
	ev = json_pack("{s:s, s:[s], s:[s,s], s:s, s:o, s:s}", "kind", "event", "category", "network", "type",
		       "connection", "protocol", "dataset", name, "start", json_time(start), "outcome",
		       outcome(req, resp));
	if (ev && resp && end >= start) {
		json_object_set_new(ev, "end", json_time(end));
		json_object_set_new(ev, "duration", json_integer((json_int_t)(end - start)));
	}
	json_object_set_new(doc, "event", ev);
	json_object_set_new(doc, "source", endpoint(&f->client_ip, f->client_port, req_bytes));
	json_object_set_new(doc, "destination", endpoint(&f->server_ip, f->server_port, resp_bytes));
	json_object_set_new(doc, "client", endpoint(&f->client_ip, f->client_port, req_bytes));
	json_object_set_new(doc, "server", endpoint(&f->server_ip, f->server_port, resp_bytes));
	json_object_set_new(doc, "network",
			    json_pack("{s:s, s:s, s:s, s:I, s:s}", "transport",
				      f->transport == IPPROTO_UDP ? "udp" : "tcp", "protocol", name, "type",
				      f->client_ip.family == 6 ? "ipv6" : "ipv4", "bytes",
				      (json_int_t)(req_bytes + resp_bytes), "community_id", cid));
	json_object_set_new(doc, "ecs", json_pack("{s:s}", "version", "8.0.0"));
	if (cfg->send_request && req->raw)
		json_object_set_new(doc, "request", json_strn(req->raw, req->raw_len));
	if (cfg->send_response && resp && resp->raw)
		json_object_set_new(doc, "response", json_strn(resp->raw, resp->raw_len));
	if (req->fields)
		json_object_update_recursive(doc, req->fields);
	if (resp && resp->fields)
		json_object_update_recursive(doc, resp->fields);
	return doc;
}
