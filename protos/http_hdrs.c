/*
 * Captured HTTP header fields without a JSON tree: the fields a message
 * sends are collected as spans while its header section is parsed, then
 * sorted once by name (O(n log n) whatever the peer sends), repeated fields
 * joined and the values made valid UTF-8. Split cookies are the same list.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json_buf.h"

/* A repeated header stops growing at this size: joining it again and again would be quadratic. */
#define HTTP_JOINED_MAX 8192

int http_spans_push(struct http_spans *s, const char *name, const uint8_t *v, size_t n)
{
	if (s->n == s->cap) {
		size_t cap = s->cap * 2;
		struct http_span *p = s->v == s->first ? malloc(cap * sizeof(*p)) : realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		if (s->v == s->first)
			memcpy(p, s->first, sizeof(s->first));
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n] = (struct http_span){ .name = name, .v = v, .vlen = n, .ord = s->n };
	s->n++;
	return 0;
}

void http_spans_free(struct http_spans *s)
{
	if (s->v != s->first)
		free(s->v);
	s->v = s->first;
	s->n = 0;
	s->cap = HTTP_SPANS_FIRST;
}

static int span_cmp(const void *a, const void *b)
{
	const struct http_span *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* The values of one name (in order) joined with ", ", each made valid UTF-8; later ones dropped past the cap. */
static int join(struct http_hdr *h, const struct http_span *v, size_t n)
{
	size_t cap = 4 * v[0].vlen + 1;
	char *out;

	for (size_t i = 1; i < n; i++)
		cap += 2 + 4 * v[i].vlen;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	h->vlen = utf8_sanitize(out, v[0].v, v[0].vlen);
	for (size_t i = 1; i < n; i++) {
		if (h->vlen + 2 + v[i].vlen > HTTP_JOINED_MAX)
			continue; /* the first values are kept */
		memcpy(out + h->vlen, ", ", 2);
		h->vlen += 2;
		h->vlen += utf8_sanitize(out + h->vlen, v[i].v, v[i].vlen);
	}
	out[h->vlen] = '\0';
	h->val = out;
	return 0;
}

/* The last value of one name (a cookie set twice). */
static int last(struct http_hdr *h, const struct http_span *v, size_t n)
{
	return join(h, v + n - 1, 1);
}

int http_hdrs_build(struct http_hdrs *l, struct http_spans *s, bool last_wins)
{
	size_t i = 0;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	l->v = calloc(s->n, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	while (i < s->n) {
		struct http_hdr *h = &l->v[l->n++];
		size_t j = i + 1;

		while (j < s->n && !strcmp(s->v[j].name, s->v[i].name))
			j++;
		h->name = strdup(s->v[i].name);
		if (!h->name || (last_wins ? last : join)(h, s->v + i, j - i))
			return -ENOMEM;
		i = j;
	}
	return 0;
}

static int hdr_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct http_hdr *)elem)->name);
}

struct http_hdr *http_hdrs_find(const struct http_hdrs *l, const char *name)
{
	return l->n ? bsearch(name, l->v, l->n, sizeof(*l->v), hdr_cmp) : NULL;
}

static void hdr_clear(struct http_hdr *h)
{
	free(h->name);
	free(h->val);
	if (h->cookies) {
		http_hdrs_clear(h->cookies);
		free(h->cookies);
	}
}

void http_hdrs_clear(struct http_hdrs *l)
{
	for (size_t i = 0; i < l->n; i++)
		hdr_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int http_hdr_set(struct http_hdr *h, const char *val)
{
	char *s = strdup(val);

	if (!s)
		return -ENOMEM;
	free(h->val);
	h->val = s;
	h->vlen = strlen(s);
	return 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/*
 * One "name=value" of a cookie header: name lower case and NUL-terminated
 * in lc (a lower-case copy of the whole value), the value a span of s.
 */
static int cookie_pair(struct http_spans *sp, const char *s, char *lc, size_t off, size_t n)
{
	const char *p = s + off, *eq = memchr(p, '=', n);
	const char *k = p, *v;
	size_t kn, vn;

	if (!eq)
		return 0;
	kn = (size_t)(eq - k);
	v = eq + 1;
	vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
		v++;
		vn -= 2;
	}
	if (kn >= HTTP_NAME_MAX)
		return 0;
	lc[(size_t)(k - s) + kn] = '\0'; /* at or before the '=' */
	return http_spans_push(sp, lc + (k - s), (const uint8_t *)v, vn);
}

/* split_cookie: "a=1; B=2" becomes {"a":"1","b":"2"} (a name set twice keeps its last value). */
int http_hdr_split_cookies(struct http_hdr *h)
{
	struct http_spans sp = HTTP_SPANS_INIT(sp);
	struct http_hdrs *c = calloc(1, sizeof(*c));
	char *lc = malloc(h->vlen + 1);
	size_t off = 0;
	int err = c && lc ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i <= h->vlen; i++)
		lc[i] = (char)tolower((unsigned char)h->val[i]);
	while (!err && off < h->vlen) {
		const char *end = memchr(h->val + off, ';', h->vlen - off);
		size_t n = end ? (size_t)(end - (h->val + off)) : h->vlen - off;

		err = cookie_pair(&sp, h->val, lc, off, n);
		off += n + (end ? 1 : 0);
	}
	if (!err)
		err = http_hdrs_build(c, &sp, true);
	http_spans_free(&sp);
	free(lc);
	if (err) {
		if (c)
			http_hdrs_clear(c);
		free(c);
		return err;
	}
	free(h->val);
	h->val = NULL;
	h->vlen = 0;
	h->cookies = c;
	return 0;
}

int http_hdrs_write(struct json_buf *b, const struct http_hdrs *l, bool first)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct http_hdr *h = &l->v[i];

		if (!first)
			json_buf_put(b, ",", 1);
		first = false;
		json_buf_str(b, h->name, strlen(h->name));
		json_buf_put(b, ":", 1);
		if (h->cookies) {
			json_buf_put(b, "{", 1);
			http_hdrs_write(b, h->cookies, true);
			json_buf_put(b, "}", 1);
		} else {
			json_buf_str(b, h->val, h->vlen);
		}
	}
	return b->err;
}
