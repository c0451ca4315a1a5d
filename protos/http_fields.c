/*
 * HTTP/1.x header section parsing: start line, header fields (with obs-fold
 * unfolding), the facts the framing needs (Content-Length,
 * Transfer-Encoding) and the captured headers with the redaction options.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "reader.h"

#define HTTP_NAME_MAX 256

static bool is_tchar(uint8_t c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && is_ows((*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ows((*p)[*n - 1]))
		(*n)--;
}

/* "HTTP/1.1" -> 1, 1 */
static int parse_version(const uint8_t *p, size_t n, uint8_t *major, uint8_t *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !isdigit(p[5]) || p[6] != '.' || !isdigit(p[7]))
		return -EINVAL;
	*major = (uint8_t)(p[5] - '0');
	*minor = (uint8_t)(p[7] - '0');
	return *major == 1 ? 0 : -EINVAL;
}

static int parse_request_line(struct http_head *h, const uint8_t *p, size_t n)
{
	const uint8_t *sp1 = memchr(p, ' ', n);
	const uint8_t *sp2 = p + n;
	size_t mlen;

	if (!sp1)
		return -EINVAL;
	while (sp2 > sp1 && sp2[-1] != ' ')
		sp2--;
	mlen = (size_t)(sp1 - p);
	if (mlen == 0 || mlen >= sizeof(h->method) || sp2 - 1 <= sp1 + 1)
		return -EINVAL;
	for (size_t i = 0; i < mlen; i++) {
		if (!is_tchar(p[i]))
			return -EINVAL;
		h->method[i] = (char)toupper(p[i]);
	}
	h->method[mlen] = '\0';
	if (parse_version(sp2, (size_t)(p + n - sp2), &h->major, &h->minor))
		return -EINVAL;
	for (const uint8_t *q = sp1 + 1; q < sp2 - 1; q++)
		if (*q < 0x21 && *q != ' ')
			return -EINVAL;
	h->is_request = true;
	h->target = dup_bytes(sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1)));
	return h->target ? 0 : -ENOMEM;
}

static int parse_status_line(struct http_head *h, const uint8_t *p, size_t n)
{
	int code = 0;

	if (n < 12 || parse_version(p, 8, &h->major, &h->minor) || p[8] != ' ')
		return -EINVAL;
	for (size_t i = 9; i < 12; i++) {
		if (!isdigit(p[i]))
			return -EINVAL;
		code = code * 10 + (p[i] - '0');
	}
	if (code < 100 || (n > 12 && p[12] != ' '))
		return -EINVAL;
	h->status = code;
	h->is_request = false;
	p += n > 12 ? 13 : 12;
	n -= n > 12 ? 13 : 12;
	h->phrase = dup_bytes(p, n);
	if (!h->phrase)
		return -ENOMEM;
	for (char *c = h->phrase; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static int parse_start_line(struct http_head *h, const uint8_t *p, size_t n)
{
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		return parse_status_line(h, p, n);
	return parse_request_line(h, p, n);
}

static int parse_clen(struct http_head *h, const uint8_t *v, size_t n)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit(v[i]))
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (h->has_clen && h->clen != x)
		return -EINVAL;
	h->has_clen = true;
	h->clen = x;
	return 0;
}

/* Transfer-Encoding: the message is chunked when "chunked" is the last coding. */
static void parse_te(struct http_head *h, const uint8_t *v, size_t n)
{
	const uint8_t *last = v;
	size_t llen = n;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == ',') {
			last = v + i + 1;
			llen = n - i - 1;
		}
	}
	trim(&last, &llen);
	h->chunked = llen == 7 && strncasecmp((const char *)last, "chunked", 7) == 0;
	h->te_other = !h->chunked;
}

static void set_once(char **dst, const uint8_t *v, size_t n)
{
	if (!*dst)
		*dst = dup_bytes(v, n);
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* User name of "Basic base64(user:password)", or NULL. */
static char *basic_user(const uint8_t *v, size_t n)
{
	uint8_t out[512];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	const uint8_t *colon;

	if (n < 6 || strncasecmp((const char *)v, "basic ", 6) != 0)
		return NULL;
	for (size_t i = 6; i < n && v[i] != '='; i++) {
		int d = b64_val(v[i]);

		if (d < 0 || o >= sizeof(out))
			return NULL;
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	colon = memchr(out, ':', o);
	return colon ? dup_bytes(out, (size_t)(colon - out)) : NULL;
}

static bool want_header(const struct http_cfg *cfg, const char *name)
{
	if (!strcmp(name, "content-length") || !strcmp(name, "content-type"))
		return false;
	return cfg->send_all_headers || strlist_has(&cfg->send_headers, name, true);
}

/* A repeated header stops growing at this size: joining it again and again would be quadratic. */
#define HTTP_JOINED_MAX 8192

/* headers[name] = value, joining repeated fields with ", ". */
static int capture(json_t *headers, const char *name, const uint8_t *v, size_t n)
{
	json_t *old = json_object_get(headers, name);
	json_t *val;

	if (old) {
		const char *s = json_string_value(old);
		size_t olen = json_string_length(old);
		char *buf;

		if (olen + 2 + n > HTTP_JOINED_MAX)
			return 0; /* the first values are kept */
		buf = malloc(olen + 2 + n);

		if (!buf)
			return -ENOMEM;
		memcpy(buf, s, olen);
		memcpy(buf + olen, ", ", 2);
		memcpy(buf + olen + 2, v, n);
		val = json_strn(buf, olen + 2 + n); /* old is valid UTF-8 already; v may not be */
		free(buf);
	} else {
		val = json_strn(v, n);
	}
	return val && !json_object_set_new(headers, name, val) ? 0 : -ENOMEM;
}

static int header_field(struct http_head *h, const struct http_cfg *cfg, const char *name, const uint8_t *v,
			size_t n)
{
	if (!strcmp(name, "content-length")) {
		if (parse_clen(h, v, n))
			return -EINVAL;
	} else if (!strcmp(name, "transfer-encoding")) {
		parse_te(h, v, n);
		if (h->te_other && h->is_request)
			return -EINVAL;
	} else if (!strcmp(name, "content-type")) {
		set_once(&h->content_type, v, n);
	} else if (!strcmp(name, "content-encoding")) {
		set_once(&h->content_encoding, v, n);
	} else if (!strcmp(name, "host")) {
		set_once(&h->host, v, n);
	} else if (!strcmp(name, "user-agent")) {
		set_once(&h->user_agent, v, n);
	} else if (!strcmp(name, "referer")) {
		set_once(&h->referer, v, n);
	}
	if (cfg->real_ip_header && !strcasecmp(name, cfg->real_ip_header) && !h->real_ip) {
		const uint8_t *comma = memchr(v, ',', n);
		size_t ipn = comma ? (size_t)(comma - v) : n;

		trim(&v, &ipn);
		h->real_ip = dup_bytes(v, ipn);
	}
	if (!want_header(cfg, name))
		return 0;
	if (!strcmp(name, "authorization") && !cfg->redact_authorization && !h->user)
		h->user = basic_user(v, n);
	return capture(h->headers, name, v, n);
}

/* One "name: value" line of the unfolded header section. */
static int header_line(struct http_head *h, const struct http_cfg *cfg, const uint8_t *line, size_t n)
{
	const uint8_t *colon = memchr(line, ':', n);
	char name[HTTP_NAME_MAX];
	size_t nlen, vlen;
	const uint8_t *v;

	if (!colon)
		return -EINVAL;
	nlen = (size_t)(colon - line);
	while (nlen && is_ows(line[nlen - 1]))
		nlen--;
	if (nlen == 0 || nlen >= sizeof(name))
		return -EINVAL;
	for (size_t i = 0; i < nlen; i++) {
		if (!is_tchar(line[i]))
			return -EINVAL;
		name[i] = (char)tolower(line[i]);
	}
	name[nlen] = '\0';
	v = colon + 1;
	vlen = (size_t)(line + n - v);
	trim(&v, &vlen);
	return header_field(h, cfg, name, v, vlen);
}

/* Replace obs-fold (CRLF followed by SP/HT) by spaces, in place. */
static int unfold(uint8_t *buf, size_t len)
{
	if (len && is_ows(buf[0]))
		return -EINVAL;
	for (size_t i = 0; i + 2 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && is_ows(buf[i + 2])) {
			buf[i] = ' ';
			buf[i + 1] = ' ';
		}
	}
	return 0;
}

static int header_lines(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct reader r;
	const uint8_t *line;
	long n;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, data, len);
	if (unfold(buf, len)) {
		free(buf);
		return -EINVAL;
	}
	rd_init(&r, buf, len);
	while (!err && (n = rd_line(&r, &line)) > 0)
		err = header_line(h, cfg, line, (size_t)n);
	if (!err && n != 0)
		err = -EINVAL;
	free(buf);
	return err;
}

/* Copy of the header section with Authorization values starred out. */
static int keep_raw(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len)
{
	struct reader r;
	const uint8_t *line;
	long n;
	bool starring = false;

	h->raw = malloc(len ? len : 1);
	if (!h->raw)
		return -ENOMEM;
	memcpy(h->raw, data, len);
	h->raw_len = len;
	if (!h->is_request || !cfg->redact_authorization)
		return 0;
	rd_init(&r, h->raw, len);
	while ((n = rd_line(&r, &line)) > 0) {
		uint8_t *l = (uint8_t *)line;
		const uint8_t *colon = memchr(l, ':', (size_t)n);
		size_t from;

		if (starring && is_ows(l[0])) {
			from = 0;
		} else {
			starring = colon && ((colon - l == 13 && !strncasecmp((char *)l, "authorization", 13)) ||
					     (colon - l == 19 && !strncasecmp((char *)l, "proxy-authorization", 19)));
			if (!starring)
				continue;
			from = (size_t)(colon - l) + 1;
		}
		memset(l + from, '*', (size_t)n - from);
	}
	return 0;
}

static json_t *split_cookies(const char *s)
{
	json_t *o = json_object();
	const char *p = s;

	while (o && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const uint8_t *eq = memchr(p, '=', n);

		if (eq) {
			const uint8_t *k = (const uint8_t *)p, *v = eq + 1;
			size_t kn = (size_t)(eq - k), vn = n - kn - 1;
			char key[HTTP_NAME_MAX];

			trim(&k, &kn);
			trim(&v, &vn);
			if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
				v++;
				vn -= 2;
			}
			if (kn < sizeof(key)) {
				for (size_t i = 0; i < kn; i++)
					key[i] = (char)tolower(k[i]);
				key[kn] = '\0';
				json_object_set_new(o, key, json_strn(v, vn));
			}
		}
		p += n;
		if (*p == ';')
			p++;
	}
	return o;
}

/* redact_headers, redact_authorization, split_cookie on the captured headers. */
static void post_headers(struct http_head *h, const struct http_cfg *cfg)
{
	const char *cookie = h->is_request ? "cookie" : "set-cookie";
	json_t *v;

	for (size_t i = 0; i < cfg->redact_headers.n; i++) {
		char name[HTTP_NAME_MAX];
		size_t j;

		for (j = 0; j + 1 < sizeof(name) && cfg->redact_headers.v[i][j]; j++)
			name[j] = (char)tolower((unsigned char)cfg->redact_headers.v[i][j]);
		name[j] = '\0';
		if (json_object_get(h->headers, name))
			json_object_set_new(h->headers, name, json_string("REDACTED"));
	}
	if (h->is_request && cfg->redact_authorization) {
		if (json_object_get(h->headers, "authorization"))
			json_object_set_new(h->headers, "authorization", json_string("*"));
		if (json_object_get(h->headers, "proxy-authorization"))
			json_object_set_new(h->headers, "proxy-authorization", json_string("*"));
	}
	v = json_object_get(h->headers, cookie);
	if (cfg->split_cookie && json_is_string(v))
		json_object_set_new(h->headers, cookie, split_cookies(json_string_value(v)));
}

int http_head_parse(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len,
		    bool want_raw)
{
	struct reader r;
	const uint8_t *line;
	long n;
	int err;

	memset(h, 0, sizeof(*h));
	h->head_len = len;
	h->headers = json_object();
	if (!h->headers)
		return -ENOMEM;
	rd_init(&r, data, len);
	n = rd_line(&r, &line);
	if (n <= 0 || n > HTTP_LINE_MAX)
		return -EINVAL;
	err = parse_start_line(h, line, (size_t)n);
	if (!err)
		err = header_lines(h, cfg, rd_ptr(&r), rd_left(&r));
	if (!err && want_raw)
		err = keep_raw(h, cfg, data, len);
	if (!err)
		post_headers(h, cfg);
	return err;
}

void http_head_clear(struct http_head *h)
{
	free(h->target);
	free(h->phrase);
	free(h->content_type);
	free(h->content_encoding);
	free(h->host);
	free(h->user_agent);
	free(h->referer);
	free(h->real_ip);
	free(h->user);
	free(h->raw);
	json_decref(h->headers);
	memset(h, 0, sizeof(*h));
}

/* Case-insensitive substring test of each include_body_for entry. */
bool http_content_type_match(const char *content_type, const struct strlist *list)
{
	if (!content_type)
		return false;
	for (size_t i = 0; i < list->n; i++)
		if (list->v[i][0] && strcasestr(content_type, list->v[i]))
			return true;
	return false;
}
