/*
 * Event fields of a finished HTTP message, named as Packetbeat 8 names them:
 * method/query/path, url.*, user_agent.original, network.forwarded_ip and
 * http.{version,request.*,response.*}.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http.h"
#include "http_url.h"

/* o[key] = s when s is not empty (key is one segment: no path walk). */
static void set_str(json_t *o, const char *key, const char *s)
{
	if (s && s[0])
		json_object_set_new(o, key, json_strn(s, strlen(s)));
}

/* Child object o[key], made if missing. */
static json_t *child(json_t *o, const char *key)
{
	json_t *c = json_object_get(o, key);

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(o, key, c);
	}
	return c;
}

/* error.message: Packetbeat's notes on a message (an array). */
static void note(json_t *o, const char *text)
{
	json_t *err = json_object_get(o, "error");
	json_t *arr = json_object_get(err, "message");

	if (!json_is_array(arr)) {
		arr = json_array();
		if (json_set_path(o, "error.message", arr))
			return;
	}
	json_array_append_new(arr, json_string(text));
}

/*
 * Captured headers plus content-length (always) and content-type, as
 * Packetbeat. Takes a reference to the head's object: the head is reset
 * right after its message is complete, so no copy is needed.
 */
static json_t *headers_json(const struct http_head *h, const struct http_body *b)
{
	json_t *hd = json_incref(h->headers);

	if (!hd)
		return NULL;
	json_object_set_new(hd, "content-length", json_integer((json_int_t)(h->has_clen ? h->clen : b->bytes)));
	if (h->content_type && h->content_type[0])
		json_object_set_new(hd, "content-type", json_strn(h->content_type, strlen(h->content_type)));
	return hd;
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

/* body.bytes, body.content and mime_type in the message object m (http.request / http.response). */
static void body_fields(json_t *m, const struct http_head *h, const struct http_body *b)
{
	size_t dlen = 0;
	uint8_t *dec = NULL;
	const uint8_t *data = b->data;
	size_t len = b->len;
	uint64_t bytes = b->bytes;
	json_t *body;

	if (b->send && data && len) {
		dec = decode_body(h, b, &dlen);
		if (dec) {
			data = dec;
			len = dlen;
			bytes = dlen;
		}
	}
	body = child(m, "body");
	json_object_set_new(body, "bytes", json_integer((json_int_t)bytes));
	if (b->send && data && len) {
		json_object_set_new(body, "content", json_strn(data, len));
		json_object_set_new(m, "mime_type", json_string(http_sniff_mime(data, len)));
	}
	free(dec);
}

static void url_fields(json_t *o, const char *host, int port, const char *path, size_t plen, const char *params)
{
	json_t *url = child(o, "url");
	const char *dot = NULL;
	char *full;

	json_object_set_new(url, "scheme", json_string("http"));
	set_str(url, "domain", host);
	if (port != 80)
		json_object_set_new(url, "port", json_integer(port));
	if (plen)
		json_object_set_new(url, "path", json_strn(path, plen));
	set_str(url, "query", params);
	for (size_t i = 0; i < plen; i++)
		if (path[i] == '.')
			dot = path + i;
	if (dot && dot + 1 < path + plen)
		json_object_set_new(url, "extension", json_strn(dot + 1, (size_t)(path + plen - dot - 1)));
	full = http_full_url(host, port, path, plen, params);
	set_str(url, "full", full);
	free(full);
}

static char *form_params(const struct http_head *h, const struct http_body *b, const struct strlist *hide,
			 const char *query, size_t qlen)
{
	bool form = b->data && b->bytes > 0 && h->content_type && strcasestr(h->content_type, "urlencoded");

	return http_params_encode(query ? query : "", qlen, form ? (const char *)b->data : NULL, form ? b->len : 0,
				  hide);
}

static void root_fields(json_t *o, const struct http_head *h, const char *path, size_t plen)
{
	struct sbuf q = { 0 };
	char *s;

	json_object_set_new(o, "method", json_string(h->method));
	json_object_set_new(o, "path", json_strn(path, plen));
	sb_add(&q, h->method, strlen(h->method));
	sb_addc(&q, ' ');
	sb_add(&q, path, plen);
	s = sb_take(&q);
	if (s)
		json_object_set_new(o, "query", json_strn(s, strlen(s)));
	free(s);
}

static void request_http(json_t *o, const struct http_head *h, const struct http_body *b, uint64_t wire_bytes)
{
	json_t *http = child(o, "http"), *req = child(http, "request");
	char ver[8];

	snprintf(ver, sizeof(ver), "%u.%u", h->major, h->minor);
	json_object_set_new(http, "version", json_string(ver));
	json_object_set_new(req, "method", json_string(h->method));
	json_object_set_new(req, "bytes", json_integer((json_int_t)wire_bytes));
	body_fields(req, h, b);
	set_str(req, "referrer", h->referer);
	json_object_set_new(req, "headers", headers_json(h, b));
	if (h->user_agent && h->user_agent[0])
		set_str(child(o, "user_agent"), "original", h->user_agent);
	if (h->real_ip && h->real_ip[0])
		set_str(child(o, "network"), "forwarded_ip", h->real_ip);
	if (h->user && h->user[0])
		set_str(child(o, "user"), "name", h->user);
}

json_t *http_request_fields(const struct http_head *h, const struct http_body *b, const struct http_cfg *cfg,
			    const struct flow *f, uint64_t wire_bytes)
{
	json_t *o = json_object();
	const char *tpath, *query;
	size_t tplen, qlen, plen;
	char *path, *params, *host;
	int port;

	if (!o)
		return NULL;
	http_split_target(h->target, &tpath, &tplen, &query, &qlen);
	path = http_unescape(tpath, tplen, false, &plen);
	if (!path) {
		path = strndup(tpath, tplen);
		plen = tplen;
	}
	params = form_params(h, b, &cfg->hide_keywords, query, qlen);
	host = http_split_host(h->host ? h->host : "", &port);
	if (!path || !params || !host)
		goto out;
	if (!port)
		port = f->server_port;
	else if (port != f->server_port)
		note(o, "Host header port number mismatch");
	if (b->lost)
		note(o, "Packet loss while capturing the request");
	root_fields(o, h, path, plen);
	url_fields(o, host, port, path, plen, params);
	if (!http_is_ip(host) && host[0])
		set_str(child(o, "destination"), "domain", host);
	request_http(o, h, b, wire_bytes);
out:
	free(path);
	free(params);
	free(host);
	return o;
}

json_t *http_response_fields(const struct http_head *h, const struct http_body *b, uint64_t wire_bytes)
{
	json_t *o = json_object(), *resp;

	if (!o)
		return NULL;
	if (b->lost)
		note(o, "Packet loss while capturing the response");
	resp = child(child(o, "http"), "response");
	json_object_set_new(resp, "status_code", json_integer(h->status));
	set_str(resp, "status_phrase", h->phrase);
	json_object_set_new(resp, "bytes", json_integer((json_int_t)wire_bytes));
	body_fields(resp, h, b);
	json_object_set_new(resp, "headers", headers_json(h, b));
	return o;
}
