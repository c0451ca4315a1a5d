/*
 * Event members of a finished HTTP message, named as Packetbeat 8 names
 * them: method/query, url.*, user_agent.original, error.message and
 * http.{version,request.*,response.*}. At completion the message keeps what
 * they need (struct http_msg, msg->priv); the event is written as text from
 * the request's and the response's (write_fields). The generic members
 * (method, query, destination.domain, network.forwarded_ip, user.name, the
 * related.* extras, the notes in error.message) go to the msg's slots,
 * pointing into the http_msg.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "freelist.h"
#include "http.h"
#include "http_url.h"

/* What the event needs of one message (msg->priv). */
struct http_msg {
	struct http_head h; /* taken from the parser (raw dropped) */
	uint64_t body_bytes; /* body.bytes: decoded size when decoded */
	uint64_t clen; /* headers.content-length */
	uint8_t *content; /* body.content (decoded), or NULL */
	size_t content_len;
	bool lost; /* packet loss inside the body */
	/* request */
	bool port_mismatch;
	char *url; /* query, params and host, each NUL-terminated: one allocation */
	const char *path; /* decoded request path: the end of query */
	size_t plen;
	const char *query; /* "GET /path" */
	const char *host; /* Host without port */
	int port;
	const char *params; /* query and form parameters, hidden and re-encoded */
	char *full; /* url.full, or NULL */
};

/* One per finished message, freed when its transaction is published: this worker's freed ones are reused. */
static __thread struct freelist http_msg_cache = FREELIST_INIT(sizeof(struct http_msg), 64);

static void http_msg_free(void *priv)
{
	struct http_msg *hm = priv;

	if (!hm)
		return;
	http_head_clear(&hm->h);
	free(hm->content);
	free(hm->url);
	free(hm->full);
	freelist_put(&http_msg_cache, hm);
}

/* Inflate gzip/zlib (raw: bare deflate) into at most max bytes; a truncated stream gives what it holds. */
static uint8_t *inflate_body(const uint8_t *in, size_t n, bool raw, uint64_t max, size_t *outlen)
{
	z_stream z;
	size_t cap = n * 4 + 256, len = 0;
	uint8_t *out;
	int rc = Z_OK;

	if (cap > max)
		cap = max ? (size_t)max : 1;
	memset(&z, 0, sizeof(z));
	out = malloc(cap);
	if (!out || inflateInit2(&z, raw ? -MAX_WBITS : MAX_WBITS + 32) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	for (;;) {
		if (len == cap) {
			size_t ncap = cap * 2 > max ? (size_t)max : cap * 2;
			uint8_t *p = ncap > cap ? realloc(out, ncap) : NULL;

			if (!p)
				break;
			out = p;
			cap = ncap;
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		rc = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
		if (rc != Z_OK)
			break;
	}
	inflateEnd(&z);
	if (len == 0 && rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*outlen = len;
	return out;
}

/* Decoded copy of the body for Content-Encoding gzip / deflate, or NULL. */
static uint8_t *decode_body(const struct http_head *h, const struct http_body *b, size_t *outlen)
{
	const char *enc = h->content_encoding;
	uint8_t *out;

	if (!b->decode || !enc)
		return NULL;
	if (!strcasecmp(enc, "gzip") || !strcasecmp(enc, "x-gzip"))
		return inflate_body(b->data, b->len, false, b->max, outlen);
	if (strcasecmp(enc, "deflate"))
		return NULL;
	out = inflate_body(b->data, b->len, false, b->max, outlen);
	return out ? out : inflate_body(b->data, b->len, true, b->max, outlen);
}

/* body.bytes and body.content (decoded when Content-Encoding says so and decode_body is on). */
static void body_content(struct http_msg *hm, const struct http_head *h, const struct http_body *b)
{
	size_t dlen = 0;
	uint8_t *dec;

	hm->body_bytes = b->bytes;
	if (!b->send || !b->data || !b->len)
		return;
	dec = decode_body(h, b, &dlen);
	if (dec) {
		hm->body_bytes = dlen;
		if (dlen) {
			hm->content = dec;
			hm->content_len = dlen;
		} else {
			free(dec);
		}
		return;
	}
	hm->content = malloc(b->len);
	if (!hm->content)
		return;
	memcpy(hm->content, b->data, b->len);
	hm->content_len = b->len;
}

/*
 * send_request/send_response: the header section, then the body only when it
 * is published (Packetbeat's raw message: rawHeaders + body when sendBody).
 * Bodies of other content types (binary, compressed, forms) stay out; a form
 * sent by include_body_for is there as sent, as in body.content.
 */
static void raw_message(struct msg *m, const struct http_head *h, const struct http_msg *hm)
{
	char *raw;

	if (!hm->content_len) {
		msg_set_raw(m, h->raw, h->raw_len);
		return;
	}
	raw = malloc(h->raw_len + hm->content_len);
	if (!raw)
		return;
	memcpy(raw, h->raw, h->raw_len);
	memcpy(raw + h->raw_len, hm->content, hm->content_len);
	msg_set_raw(m, raw, h->raw_len + hm->content_len);
	free(raw);
}

static void form_params(struct sbuf *u, const struct http_head *h, const struct http_body *b,
			const struct strlist *hide, const char *query, size_t qlen)
{
	bool form = b->data && b->bytes > 0 && h->content_type && strcasestr(h->content_type, "urlencoded");

	http_params_to(u, query ? query : "", qlen, form ? (const char *)b->data : NULL, form ? b->len : 0, hide);
}

/*
 * The request's query ("GET " and the decoded path), parameters and host,
 * written one after the other into hm->url; then url.full from them.
 */
static int request_url(struct http_msg *hm, const struct http_head *h, const struct http_body *b,
		       const struct http_cfg *cfg, const struct flow *f)
{
	const char *tpath, *query, *host = h->host ? h->host : "";
	size_t tplen, qlen, mlen = strlen(h->method), params_at, host_at;
	struct sbuf u = { 0 };

	http_split_target(h->target, &tpath, &tplen, &query, &qlen);
	sb_reserve(&u, mlen + 1 + tplen + 1 + qlen + 1 + strlen(host) + 1); /* most often all it needs */
	sb_add(&u, h->method, mlen);
	sb_addc(&u, ' ');
	if (http_unescape_to(&u, tpath, tplen, false) == -EINVAL)
		sb_add(&u, tpath, tplen); /* a bad escape: the path as sent */
	hm->plen = u.len - mlen - 1;
	sb_add(&u, "", 1);
	params_at = u.len;
	form_params(&u, h, b, &cfg->hide_keywords, query, qlen);
	sb_add(&u, "", 1);
	host_at = u.len;
	http_host_to(&u, host, &hm->port);
	hm->url = sb_take(&u);
	if (!hm->url)
		return -ENOMEM;
	hm->query = hm->url;
	hm->path = hm->url + mlen + 1;
	hm->params = hm->url + params_at;
	hm->host = hm->url + host_at;
	if (!hm->port)
		hm->port = f->server_port;
	else if (hm->port != f->server_port)
		hm->port_mismatch = true;
	hm->full = http_full_url(hm->host, hm->port, hm->path, hm->plen, hm->params);
	return 0;
}

static void text_slot(struct msg_text *t, const char *s)
{
	if (s)
		msg_text_set(t, s, strlen(s));
}

/* The request's generic members and notes. */
static void request_slots(struct msg *m, const struct http_msg *hm)
{
	text_slot(&m->method, hm->h.method);
	text_slot(&m->query, hm->query); /* up to a NUL the path may hold */
	if (!http_is_ip(hm->host))
		text_slot(&m->domain, hm->host);
	else
		text_slot(&m->related_ip, hm->host);
	text_slot(&m->forwarded_ip, hm->h.real_ip);
	text_slot(&m->user, hm->h.user);
	text_slot(&m->related_host, hm->h.referer); /* Packetbeat lists the Referer as it came among related.hosts */
	if (hm->port_mismatch)
		msg_note(m, "Host header port number mismatch");
	if (hm->lost)
		msg_note(m, "Packet loss while capturing the request");
}

void http_msg_set(struct msg *m, struct http_head *h, const struct http_body *b, const struct http_cfg *cfg,
		  const struct flow *f)
{
	struct http_msg *hm = freelist_get(&http_msg_cache);

	if (!hm)
		return;
	hm->lost = b->lost;
	hm->clen = h->has_clen ? h->clen : b->bytes;
	body_content(hm, h, b);
	if (h->raw)
		raw_message(m, h, hm);
	if (h->is_request && request_url(hm, h, b, cfg, f)) {
		http_msg_free(hm);
		return;
	}
	hm->h = *h;
	memset(h, 0, sizeof(*h));
	free(hm->h.raw); /* the message has its copy */
	hm->h.raw = NULL;
	/* the body, header strings and URL parts it keeps */
	msg_set_priv(m, hm, http_msg_free,
		     hm->content_len + hm->h.head_len + hm->plen + (hm->params ? strlen(hm->params) : 0) +
			     (hm->query ? strlen(hm->query) : 0) + (hm->full ? strlen(hm->full) : 0));
	if (hm->h.is_request)
		request_slots(m, hm);
	else if (hm->lost)
		msg_note(m, "Packet loss while capturing the response");
}

void http_msg_response_lost(struct msg *m)
{
	msg_note(m, "Packet loss while capturing the response");
}

const char *http_msg_method(const struct msg *m)
{
	const struct http_msg *hm = m ? m->priv : NULL;

	return hm ? hm->h.method : "";
}

/* ---- writing ---- */

/* ,"key":"s" for a non-empty C string s (arbitrary bytes). */
static void put_cstr(struct json_buf *b, const char *key, const char *s)
{
	if (!s || !s[0])
		return;
	json_buf_key(b, key, 0);
	json_buf_strn(b, s, strlen(s));
}

/*
 * "body":{...}, "mime_type" and "headers":{...} of http.request /
 * http.response (after other members). No body: no "body" object, as
 * Packetbeat leaves zero sizes out.
 */
static void message_body(struct json_buf *b, const struct http_msg *hm)
{
	if (hm->body_bytes || hm->content) {
		json_buf_key(b, "body", 0);
		json_buf_lit(b, "{\"bytes\":");
		json_buf_u64(b, hm->body_bytes);
		if (hm->content) {
			json_buf_key(b, "content", 0);
			json_buf_strn(b, hm->content, hm->content_len);
		}
		json_buf_lit(b, "}");
	}
	if (hm->content) {
		const char *mime = http_sniff_mime(hm->content, hm->content_len);

		json_buf_key(b, "mime_type", 0);
		json_buf_str(b, mime, strlen(mime));
	}
	/* Captured headers plus content-length (always) and content-type, as Packetbeat. */
	json_buf_key(b, "headers", 0);
	json_buf_lit(b, "{\"content-length\":");
	json_buf_u64(b, hm->clen);
	put_cstr(b, "content-type", hm->h.content_type);
	http_hdrs_write(b, &hm->h.headers, false);
	json_buf_lit(b, "}");
}

static void url_object(struct json_buf *b, const struct http_msg *hm)
{
	const char *dot = NULL;

	json_buf_key(b, "url", 0);
	json_buf_lit(b, "{\"scheme\":\"http\"");
	put_cstr(b, "domain", hm->host);
	if (hm->port != 80)
		json_kv_u64(b, "port", (uint64_t)hm->port);
	if (hm->plen) {
		json_buf_key(b, "path", 0);
		json_buf_strn(b, hm->path, hm->plen);
	}
	put_cstr(b, "query", hm->params);
	for (size_t i = 0; i < hm->plen; i++)
		if (hm->path[i] == '.')
			dot = hm->path + i;
	if (dot && dot + 1 < hm->path + hm->plen) {
		json_buf_key(b, "extension", 0);
		json_buf_strn(b, dot + 1, (size_t)(hm->path + hm->plen - dot - 1));
	}
	put_cstr(b, "full", hm->full);
	json_buf_lit(b, "}");
}

/* ,"key":{"member":"s"} when s is not empty. */
static void one_member_object(struct json_buf *b, const char *key, const char *member, const char *s)
{
	if (!s || !s[0])
		return;
	json_buf_key(b, key, 0);
	json_buf_lit(b, "{");
	json_buf_key(b, member, 1);
	json_buf_strn(b, s, strlen(s));
	json_buf_lit(b, "}");
}

/*
 * Members of the request outside "http": url, user_agent (Packetbeat 8 has
 * no top-level path: url.path; user.name is the event writer's, from the
 * user slot).
 */
static void request_members(struct json_buf *b, const struct http_msg *q)
{
	url_object(b, q);
	one_member_object(b, "user_agent", "original", q->h.user_agent);
}

static void request_object(struct json_buf *b, const struct http_msg *q, uint64_t wire_bytes)
{
	const char ver[] = { '"', (char)('0' + q->h.major), '.', (char)('0' + q->h.minor), '"' };

	json_buf_lit(b, "\"version\":");
	json_buf_put(b, ver, sizeof(ver));
	json_buf_lit(b, ",\"request\":{\"method\":");
	json_buf_str(b, q->h.method, strlen(q->h.method));
	json_kv_u64(b, "bytes", wire_bytes);
	put_cstr(b, "referrer", q->h.referer);
	message_body(b, q);
	json_buf_lit(b, "}");
}

static void response_object(struct json_buf *b, const struct http_msg *r, uint64_t wire_bytes, bool first)
{
	json_buf_key(b, "response", first);
	json_buf_lit(b, "{\"status_code\":");
	json_buf_u64(b, (uint64_t)r->h.status);
	put_cstr(b, "status_phrase", r->h.phrase);
	json_kv_u64(b, "bytes", wire_bytes);
	message_body(b, r);
	json_buf_lit(b, "}");
}

int http_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req, const struct msg *resp)
{
	const struct http_msg *q = req->priv, *r = resp ? resp->priv : NULL;

	if (q)
		request_members(b, q);
	if (q || r) {
		json_buf_key(b, "http", 0);
		json_buf_lit(b, "{");
		if (q)
			request_object(b, q, req->bytes);
		if (r)
			response_object(b, r, resp->bytes, !q);
		json_buf_lit(b, "}");
	}
	return b->err;
}
