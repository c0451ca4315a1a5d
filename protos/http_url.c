/*
 * URL pieces of an HTTP request as Packetbeat reports them: the decoded
 * path, the query and form parameters (hide_keywords applied, re-encoded
 * in sorted order like Go's url.Values.Encode), the synthesized url.full,
 * the Host header split into domain and port; and the body MIME sniffer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http_url.h"
#include "reader.h"

/* ---- growable string ---- */

int sb_reserve(struct sbuf *b, size_t n)
{
	if (b->err)
		return -ENOMEM;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = true;
			return -ENOMEM;
		}
		b->p = p;
		b->cap = cap;
	}
	return 0;
}

int sb_add(struct sbuf *b, const void *data, size_t n)
{
	if (sb_reserve(b, n))
		return -ENOMEM;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int sb_addc(struct sbuf *b, char c)
{
	return sb_add(b, &c, 1);
}

/* Detach the string ("" when empty); NULL on allocation failure. */
char *sb_take(struct sbuf *b)
{
	char *p;

	if (b->err) {
		free(b->p);
		return NULL;
	}
	p = b->p ? b->p : strdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- percent encoding ---- */

/* s[0..n) decoded into out (room for n bytes): its length, or SIZE_MAX for a bad escape. */
static size_t unescape(char *out, const char *s, size_t n, bool plus_space)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0)
				return SIZE_MAX;
			out[o++] = (char)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* %XX (and '+' as space when plus_space); NULL for a bad escape. */
char *http_unescape(const char *s, size_t n, bool plus_space, size_t *outlen)
{
	char *out = malloc(n + 1);
	size_t o = out ? unescape(out, s, n, plus_space) : SIZE_MAX;

	if (o == SIZE_MAX) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

int http_unescape_to(struct sbuf *b, const char *s, size_t n, bool plus_space)
{
	size_t o;

	if (sb_reserve(b, n))
		return -ENOMEM;
	o = unescape(b->p + b->len, s, n, plus_space);
	if (o == SIZE_MAX)
		return -EINVAL;
	b->len += o;
	b->p[b->len] = '\0';
	return 0;
}

enum esc_mode { ESC_PATH, ESC_QUERY };

static bool keep_char(unsigned char c, enum esc_mode mode)
{
	if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
		return true;
	return mode == ESC_PATH && strchr("$&+,/:;=@", c) && c;
}

static void escape(struct sbuf *b, const char *s, size_t n, enum esc_mode mode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (keep_char(c, mode)) {
			sb_addc(b, (char)c);
		} else if (c == ' ' && mode == ESC_QUERY) {
			sb_addc(b, '+');
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			sb_add(b, e, 3);
		}
	}
}

/* ---- query / form parameters ---- */

struct kv {
	char *k, *v;
	size_t kl, vl;
	int src; /* 0 query, 1 form */
	size_t ord;
};

struct kvlist {
	struct kv *v;
	size_t n, cap;
};

static int kv_push(struct kvlist *l, struct kv *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct kv *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	e->ord = l->n;
	l->v[l->n++] = *e;
	return 0;
}

/* One "k=v" of a query (Go's parseQuery rules: ';' or bad escapes skip the pair). */
static int parse_pair(struct kvlist *l, const char *p, size_t n, int src)
{
	const char *eq = memchr(p, '=', n);
	size_t kn = eq ? (size_t)(eq - p) : n;
	struct kv e = { .src = src };

	if (n == 0 || memchr(p, ';', n))
		return 0;
	e.k = http_unescape(p, kn, true, &e.kl);
	e.v = eq ? http_unescape(eq + 1, n - kn - 1, true, &e.vl) : strdup("");
	if (!e.k || !e.v || kv_push(l, &e)) {
		free(e.k);
		free(e.v);
	}
	return 0;
}

static void parse_pairs(struct kvlist *l, const char *s, size_t n, int src)
{
	while (n > 0) {
		const char *amp = memchr(s, '&', n);
		size_t len = amp ? (size_t)(amp - s) : n;

		parse_pair(l, s, len, src);
		s += len;
		n -= len;
		if (amp) {
			s++;
			n--;
		}
	}
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, n);

	if (c)
		return c;
	if (x->kl != y->kl)
		return x->kl < y->kl ? -1 : 1;
	if (x->src != y->src)
		return x->src - y->src;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static bool is_secret(const struct kv *e, const struct strlist *hide)
{
	for (size_t i = 0; hide && i < hide->n; i++)
		if (strlen(hide->v[i]) == e->kl && !strncasecmp(hide->v[i], e->k, e->kl))
			return true;
	return false;
}

static bool same_key(const struct kv *a, const struct kv *b)
{
	return a->kl == b->kl && !memcmp(a->k, b->k, a->kl);
}

/* l is sorted by key, query entries before form entries: form values replace query values. */
static void emit_params(struct sbuf *b, const struct kvlist *l, const struct strlist *hide)
{
	size_t start = b->len;

	for (size_t i = 0; i < l->n;) {
		size_t end = i;
		bool form = false;

		while (end < l->n && same_key(&l->v[i], &l->v[end]))
			form |= l->v[end++].src == 1;
		for (size_t j = i; j < end; j++) {
			const struct kv *e = &l->v[j];

			if (form && e->src == 0)
				continue;
			if (b->len > start)
				sb_addc(b, '&');
			escape(b, e->k, e->kl, ESC_QUERY);
			sb_addc(b, '=');
			if (is_secret(e, hide))
				sb_add(b, "xxxxx", 5);
			else
				escape(b, e->v, e->vl, ESC_QUERY);
		}
		i = end;
	}
}

void http_params_to(struct sbuf *b, const char *query, size_t qlen, const char *form, size_t flen,
		    const struct strlist *hide)
{
	struct kvlist l = { 0 };

	parse_pairs(&l, query, qlen, 0);
	if (form)
		parse_pairs(&l, form, flen, 1);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), kv_cmp);
	emit_params(b, &l, hide);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].k);
		free(l.v[i].v);
	}
	free(l.v);
}

/* ---- request-target, Host ---- */

/* Split a request-target into path and query (absolute-form: skip scheme://authority). */
void http_split_target(const char *t, const char **path, size_t *plen, const char **query, size_t *qlen)
{
	const char *p = t;
	const char *scheme = strstr(t, "://");
	size_t n;

	if (scheme && t[0] != '/' && scheme < t + strcspn(t, "/?#"))
		p = scheme + 3 + strcspn(scheme + 3, "/?#");
	n = strcspn(p, "?#");
	*path = p;
	*plen = n;
	if (p[n] == '?') {
		*query = p + n + 1;
		*qlen = strcspn(*query, "#");
	} else {
		*query = NULL;
		*qlen = 0;
	}
}

bool http_is_ip(const char *s)
{
	unsigned char buf[16];
	size_t n = strlen(s);

	/* inet_pton only where it could succeed: digits and dots, or two colons at least */
	if (n && strspn(s, "0123456789.") == n)
		return inet_pton(AF_INET, s, buf) == 1;
	return strchr(s, ':') != strrchr(s, ':') && inet_pton(AF_INET6, s, buf) == 1;
}

int http_host_to(struct sbuf *b, const char *hdr, int *port)
{
	size_t n = strlen(hdr), start = b->len;
	const char *colon = strrchr(hdr, ':');

	*port = 0;
	if (n == 0 || http_is_ip(hdr))
		return sb_add(b, hdr, n);
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) && strlen(colon + 1) <= 5) {
		int p = atoi(colon + 1);

		if (p > 0 && p < 65536) {
			*port = p;
			n = (size_t)(colon - hdr);
		}
	}
	if (n >= 2 && hdr[0] == '[' && hdr[n - 1] == ']') {
		if (sb_add(b, hdr + 1, n - 2))
			return -ENOMEM;
		if (http_is_ip(b->p + start))
			return 0;
		b->len = start; /* not an address in brackets: the whole name */
	}
	return sb_add(b, hdr, n);
}

/* "http://domain[:port]/escaped/path[?query]"; NULL when domain is empty. */
char *http_full_url(const char *domain, int port, const char *path, size_t plen, const char *query)
{
	struct sbuf b = { 0 };
	bool v6 = strchr(domain, ':') != NULL;
	char num[16];

	if (!domain[0] || port <= 0)
		return NULL;
	sb_add(&b, "http://", 7);
	if (v6)
		sb_addc(&b, '[');
	sb_add(&b, domain, strlen(domain));
	if (v6)
		sb_addc(&b, ']');
	if (port != 80) {
		size_t k = sizeof(num);

		for (int v = port; v; v /= 10) /* 0 < port */
			num[--k] = (char)('0' + v % 10);
		num[--k] = ':';
		sb_add(&b, num + k, sizeof(num) - k);
	}
	if (plen && path[0] != '/')
		sb_addc(&b, '/');
	escape(&b, path, plen, ESC_PATH);
	if (query && query[0]) {
		sb_addc(&b, '?');
		sb_add(&b, query, strlen(query));
	}
	return sb_take(&b);
}

/* ---- MIME sniffing (a subset of the WHATWG algorithm, as Go's DetectContentType) ---- */

static bool prefix(const uint8_t *d, size_t n, const char *sig, size_t sn)
{
	return n >= sn && memcmp(d, sig, sn) == 0;
}

static bool html_tag(const uint8_t *d, size_t n)
{
	static const char *const tags[] = {
		"<!DOCTYPE HTML", "<HTML",  "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A",
		"<STYLE",	  "<TITLE", "<B",    "<BODY",	"<BR",	   "<P",  "<!--"
	};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		size_t tn = strlen(tags[i]);

		if (n > tn && !strncasecmp((const char *)d, tags[i], tn) && (d[tn] == ' ' || d[tn] == '>'))
			return true;
	}
	return false;
}

static const char *binary_sig(const uint8_t *d, size_t n)
{
	if (prefix(d, n, "%PDF-", 5))
		return "application/pdf";
	if (prefix(d, n, "%!PS-Adobe-", 11))
		return "application/postscript";
	if (prefix(d, n, "GIF87a", 6) || prefix(d, n, "GIF89a", 6))
		return "image/gif";
	if (prefix(d, n, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (prefix(d, n, "\xff\xd8\xff", 3))
		return "image/jpeg";
	if (prefix(d, n, "BM", 2))
		return "image/bmp";
	if (n >= 14 && prefix(d, n, "RIFF", 4) && !memcmp(d + 8, "WEBPVP", 6))
		return "image/webp";
	if (prefix(d, n, "\x1f\x8b\x08", 3))
		return "application/x-gzip";
	if (prefix(d, n, "PK\x03\x04", 4))
		return "application/zip";
	if (prefix(d, n, "\x00\x61\x73\x6d", 4))
		return "application/wasm";
	return NULL;
}

const char *http_sniff_mime(const uint8_t *d, size_t n)
{
	size_t ws = 0;
	const char *bin;

	if (n > 512)
		n = 512;
	if (prefix(d, n, "\xfe\xff", 2))
		return "text/plain; charset=utf-16be";
	if (prefix(d, n, "\xff\xfe", 2))
		return "text/plain; charset=utf-16le";
	if (prefix(d, n, "\xef\xbb\xbf", 3))
		return "text/plain; charset=utf-8";
	while (ws < n && strchr("\t\n\x0c\r ", d[ws]) && d[ws])
		ws++;
	if (html_tag(d + ws, n - ws))
		return "text/html; charset=utf-8";
	if (prefix(d + ws, n - ws, "<?xml", 5))
		return "text/xml; charset=utf-8";
	bin = binary_sig(d, n);
	if (bin)
		return bin;
	for (size_t i = 0; i < n; i++)
		if (d[i] <= 0x08 || d[i] == 0x0b || (d[i] >= 0x0e && d[i] <= 0x1a) || (d[i] >= 0x1c && d[i] <= 0x1f))
			return "application/octet-stream";
	return "text/plain; charset=utf-8";
}
