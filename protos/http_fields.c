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

/*
 * A string of the header section copy: NUL-terminated in place, at the line
 * end or the space after it (the bytes after a value are never part of
 * another one), so a message keeps one allocation for all of them.
 */
static char *in_place(uint8_t *p, size_t n)
{
	p[n] = '\0';
	return (char *)p;
}

static int parse_request_line(struct http_head *h, uint8_t *p, size_t n)
{
	uint8_t *sp1 = memchr(p, ' ', n);
	uint8_t *sp2 = p + n;
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
	h->target = in_place(sp1 + 1, (size_t)(sp2 - 1 - (sp1 + 1))); /* over the space before the version */
	return 0;
}

static int parse_status_line(struct http_head *h, uint8_t *p, size_t n)
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
	h->phrase = in_place(p, n); /* over the line end */
	for (char *c = h->phrase; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/* p[0..n) and the line end after it: the strings it keeps are made in place. */
static int parse_start_line(struct http_head *h, uint8_t *p, size_t n)
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
	if (h->has_clen && h->clen != x) {
		/* a smuggling attempt a sensor should show: keep the first length, say so */
		h->note = "Conflicting Content-Length headers";
		return 0;
	}
	h->has_clen = true;
	h->clen = x;
	return 0;
}

static bool known_coding(const uint8_t *v, size_t n)
{
	static const char *const codings[] = { "gzip", "x-gzip", "deflate", "compress", "x-compress", "identity", "br" };

	for (size_t i = 0; i < sizeof(codings) / sizeof(codings[0]); i++)
		if (n == strlen(codings[i]) && strncasecmp((const char *)v, codings[i], n) == 0)
			return true;
	return false;
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
	if (!h->chunked && !known_coding(last, llen))
		h->note = "Obfuscated Transfer-Encoding";
}

static void set_once(char **dst, uint8_t *v, size_t n)
{
	if (!*dst)
		*dst = in_place(v, n); /* over the line end or the white space after the value */
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
		int d = base64_digit(v[i]);

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

/* Header fields the parser acts on. */
enum hdr_id { HDR_OTHER, HDR_CLEN, HDR_TE, HDR_CTYPE, HDR_CENC, HDR_HOST, HDR_UA, HDR_REFERER, HDR_AUTH };

static enum hdr_id header_id(const char *name, size_t n)
{
	/* clang-format off */
#define K(s, id) { s, sizeof(s) - 1, id }
	/* clang-format on */
	static const struct {
		const char *name;
		size_t len;
		enum hdr_id id;
	} known[] = {
		K("content-length", HDR_CLEN), K("transfer-encoding", HDR_TE),
		K("content-type", HDR_CTYPE),  K("content-encoding", HDR_CENC),
		K("host", HDR_HOST),	       K("user-agent", HDR_UA),
		K("referer", HDR_REFERER),     K("authorization", HDR_AUTH),
	};
#undef K

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].len == n && !memcmp(known[i].name, name, n))
			return known[i].id;
	return HDR_OTHER;
}

/* One header field: name in lower case (nlen bytes, NUL-terminated), value trimmed. */
static int header_field(struct http_head *h, const struct http_cfg *cfg, struct http_spans *sp, const char *name,
			size_t nlen, uint8_t *v, size_t n)
{
	enum hdr_id id = header_id(name, nlen);

	switch (id) {
	case HDR_CLEN:
		if (parse_clen(h, v, n))
			return -EINVAL;
		break;
	case HDR_TE:
		parse_te(h, v, n);
		if (h->te_other && h->is_request && !h->note)
			h->note = "Request Transfer-Encoding without chunked";
		break;
	case HDR_CTYPE:
		set_once(&h->content_type, v, n);
		break;
	case HDR_CENC:
		set_once(&h->content_encoding, v, n);
		break;
	case HDR_HOST:
		set_once(&h->host, v, n);
		break;
	case HDR_UA:
		set_once(&h->user_agent, v, n);
		break;
	case HDR_REFERER:
		set_once(&h->referer, v, n);
		break;
	default:
		break;
	}
	if (cfg->real_ip_header && !strcasecmp(name, cfg->real_ip_header) && !h->real_ip) {
		const uint8_t *comma = memchr(v, ',', n);
		const uint8_t *ip = v;
		size_t ipn = comma ? (size_t)(comma - v) : n;

		trim(&ip, &ipn);
		h->real_ip = dup_bytes(ip, ipn); /* a copy: a NUL in place would cut the value's other addresses */
	}
	/* content-length and content-type are always published, from the parsed values */
	if (id == HDR_CLEN || id == HDR_CTYPE ||
	    !(cfg->send_all_headers || strlist_has(&cfg->send_headers, name, true)))
		return 0;
	if (id == HDR_AUTH && !cfg->redact_authorization && !h->user)
		h->user = basic_user(v, n);
	return http_spans_push(sp, name, v, n);
}

/* One "name: value" line of the unfolded header section (ours: the name is lower-cased in place). */
static int header_line(struct http_head *h, const struct http_cfg *cfg, struct http_spans *sp, uint8_t *line, size_t n)
{
	uint8_t *colon = memchr(line, ':', n);
	char *name = (char *)line;
	size_t nlen, vlen;
	uint8_t *v;

	if (!colon)
		return -EINVAL;
	nlen = (size_t)(colon - line);
	while (nlen && is_ows(line[nlen - 1]))
		nlen--;
	if (nlen == 0 || nlen >= HTTP_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < nlen; i++) {
		uint8_t c = line[i];

		if (c >= 'A' && c <= 'Z')
			name[i] = (char)(c + ('a' - 'A'));
		else if (!(c >= 'a' && c <= 'z') && c != '-' && !is_tchar(c))
			return -EINVAL;
	}
	name[nlen] = '\0'; /* the colon or white space before it */
	v = colon + 1;
	vlen = (size_t)(line + n - v);
	trim((const uint8_t **)&v, &vlen);
	return header_field(h, cfg, sp, name, nlen, v, vlen);
}

/* Replace obs-fold (CRLF or a bare LF followed by SP/HT) by spaces, in place. */
static int unfold(uint8_t *buf, size_t len)
{
	uint8_t *lf = buf, *end = buf + len;

	if (len && is_ows(buf[0]))
		return -EINVAL;
	while (lf < end && (lf = memchr(lf, '\n', (size_t)(end - lf)))) {
		if (lf + 1 < end && is_ows(lf[1])) {
			if (lf > buf && lf[-1] == '\r')
				lf[-1] = ' ';
			lf[0] = ' ';
		}
		lf++;
	}
	return 0;
}

/* The header fields in buf[0..len), the copy's part after the start line: unfolded and parsed in place. */
static int header_lines(struct http_head *h, const struct http_cfg *cfg, uint8_t *buf, size_t len)
{
	struct http_spans sp = HTTP_SPANS_INIT(sp);
	struct reader r;
	const uint8_t *line;
	long n;
	int err = 0;

	if (unfold(buf, len))
		return -EINVAL;
	rd_init(&r, buf, len);
	while (!err && (n = rd_line_lf(&r, &line)) > 0)
		err = header_line(h, cfg, &sp, (uint8_t *)line, (size_t)n);
	if (!err && n != 0)
		err = -EINVAL;
	if (!err)
		err = http_hdrs_build(&h->headers, &sp, false);
	http_spans_free(&sp);
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
	while ((n = rd_line_lf(&r, &line)) > 0) {
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

/* Set a captured header's value if it was captured. */
static int redact(struct http_head *h, const char *name, const char *val)
{
	struct http_hdr *hd = http_hdrs_find(&h->headers, name);

	return hd ? http_hdr_set(hd, val) : 0;
}

/* redact_headers, redact_authorization, split_cookie on the captured headers. */
static int post_headers(struct http_head *h, const struct http_cfg *cfg)
{
	struct http_hdr *cookie;
	int err = 0;

	for (size_t i = 0; i < cfg->redact_headers.n; i++) {
		char name[HTTP_NAME_MAX];
		size_t j;

		for (j = 0; j + 1 < sizeof(name) && cfg->redact_headers.v[i][j]; j++)
			name[j] = (char)tolower((unsigned char)cfg->redact_headers.v[i][j]);
		name[j] = '\0';
		err |= redact(h, name, "REDACTED");
	}
	if (h->is_request && cfg->redact_authorization) {
		err |= redact(h, "authorization", "*");
		err |= redact(h, "proxy-authorization", "*");
	}
	cookie = http_hdrs_find(&h->headers, h->is_request ? "cookie" : "set-cookie");
	if (cfg->split_cookie && cookie)
		err |= http_hdr_split_cookies(cookie);
	return err ? -ENOMEM : 0;
}

int http_head_parse(struct http_head *h, const struct http_cfg *cfg, const uint8_t *data, size_t len, bool want_raw)
{
	struct reader r;
	const uint8_t *line;
	long n;
	int err;

	memset(h, 0, sizeof(*h));
	h->head_len = len;
	rd_init(&r, data, len);
	n = rd_line_lf(&r, &line);
	if (n <= 0 || n > HTTP_LINE_MAX)
		return -EINVAL;
	h->text = malloc(len + 1);
	if (!h->text)
		return -ENOMEM;
	memcpy(h->text, data, len);
	h->text[len] = '\0';
	err = parse_start_line(h, h->text, (size_t)n);
	if (!err)
		err = header_lines(h, cfg, h->text + (rd_ptr(&r) - data), rd_left(&r));
	if (!err && want_raw)
		err = keep_raw(h, cfg, data, len);
	if (!err)
		err = post_headers(h, cfg);
	return err;
}

bool http_start_line_ok(const uint8_t *p, size_t n)
{
	uint8_t line[HTTP_LINE_MAX + 1]; /* parsed in place: a copy of the caller's bytes */
	struct http_head h;

	if (n > HTTP_LINE_MAX)
		return false;
	memcpy(line, p, n);
	line[n] = '\n';
	memset(&h, 0, sizeof(h));
	return parse_start_line(&h, line, n) == 0;
}

void http_head_clear(struct http_head *h)
{
	free(h->text);
	free(h->real_ip);
	free(h->user);
	free(h->raw);
	http_hdrs_clear(&h->headers);
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
