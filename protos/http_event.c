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

static void set_str(json_t *o, const char *path, const char *s)
{
	if (s && s[0])
		json_set_path(o, path, json_strn(s, strlen(s)));
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

/* Captured headers plus content-length (always) and content-type, as Packetbeat. */
static json_t *headers_json(const struct http_head *h, const struct http_body *b)
{
	json_t *hd = json_deep_copy(h->headers);

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

/* body.bytes, body.content and mime_type under prefix ("http.request"). */
static void body_fields(json_t *o, const char *prefix, const struct http_head *h, const struct http_body *b)
{
	char path[64];
	size_t dlen = 0;
	uint8_t *dec = NULL;
	const uint8_t *data = b->data;
	size_t len = b->len;
	uint64_t bytes = b->bytes;

	if (b->send && data && len) {
		dec = decode_body(h, b, &dlen);
		if (dec) {
			data = dec;
			len = dlen;
			bytes = dlen;
		}
	}
	snprintf(path, sizeof(path), "%s.body.bytes", prefix);
	json_set_path(o, path, json_integer((json_int_t)bytes));
	if (b->send && data && len) {
		snprintf(path, sizeof(path), "%s.body.content", prefix);
		json_set_path(o, path, json_strn(data, len));
		snprintf(path, sizeof(path), "%s.mime_type", prefix);
		json_set_path(o, path, json_string(http_sniff_mime(data, len)));
	}
	free(dec);
}

static void url_fields(json_t *o, const char *host, int port, const char *path, size_t plen, const char *params)
{
	const char *dot = NULL;
	char *full;

	json_set_path(o, "url.scheme", json_string("http"));
	set_str(o, "url.domain", host);
	if (port != 80)
		json_set_path(o, "url.port", json_integer(port));
	if (plen)
		json_set_path(o, "url.path", json_strn(path, plen));
	set_str(o, "url.query", params);
	for (size_t i = 0; i < plen; i++)
		if (path[i] == '.')
			dot = path + i;
	if (dot && dot + 1 < path + plen)
		json_set_path(o, "url.extension", json_strn(dot + 1, (size_t)(path + plen - dot - 1)));
	full = http_full_url(host, port, path, plen, params);
	set_str(o, "url.full", full);
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

	json_set_path(o, "method", json_string(h->method));
	json_set_path(o, "path", json_strn(path, plen));
	sb_add(&q, h->method, strlen(h->method));
	sb_addc(&q, ' ');
	sb_add(&q, path, plen);
	s = sb_take(&q);
	if (s)
		json_set_path(o, "query", json_strn(s, strlen(s)));
	free(s);
}

static void request_http(json_t *o, const struct http_head *h, const struct http_body *b, uint64_t wire_bytes)
{
	char ver[8];

	snprintf(ver, sizeof(ver), "%u.%u", h->major, h->minor);
	json_set_path(o, "http.version", json_string(ver));
	json_set_path(o, "http.request.method", json_string(h->method));
	json_set_path(o, "http.request.bytes", json_integer((json_int_t)wire_bytes));
	body_fields(o, "http.request", h, b);
	set_str(o, "http.request.referrer", h->referer);
	json_set_path(o, "http.request.headers", headers_json(h, b));
	set_str(o, "user_agent.original", h->user_agent);
	set_str(o, "network.forwarded_ip", h->real_ip);
	set_str(o, "user.name", h->user);
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
	if (!http_is_ip(host))
		set_str(o, "destination.domain", host);
	request_http(o, h, b, wire_bytes);
out:
	free(path);
	free(params);
	free(host);
	return o;
}

json_t *http_response_fields(const struct http_head *h, const struct http_body *b, uint64_t wire_bytes)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (b->lost)
		note(o, "Packet loss while capturing the response");
	json_set_path(o, "http.response.status_code", json_integer(h->status));
	set_str(o, "http.response.status_phrase", h->phrase);
	json_set_path(o, "http.response.bytes", json_integer((json_int_t)wire_bytes));
	body_fields(o, "http.response", h, b);
	json_set_path(o, "http.response.headers", headers_json(h, b));
	return o;
}
