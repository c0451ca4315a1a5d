/*
 * ${VAR}, ${VAR:default} and ${VAR:?message} in scalar values, as Beats
 * (go-ucfg) resolves them: the keystore first, then the environment.
 * "$${" is a literal "${". Errors name file, line and key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"

#define MAX_EXPANDED (64u << 10)

struct xbuf {
	char *p;
	size_t n, cap;
};

static int xbuf_add(struct xbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > MAX_EXPANDED)
		return -E2BIG;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static const char *lookup(const char *name, const struct cfg_resolver *r, bool *secret)
{
	const char *v = r && r->keystore ? r->keystore(r->ctx, name) : NULL;

	if (v) {
		*secret = true;
		return v;
	}
	return getenv(name);
}

/* One ${...} body (without the braces) appended to b. */
static int expand_ref(const struct cfg_node *n, const char *body, size_t len, const struct cfg_resolver *r,
		      struct xbuf *b, bool *secret, struct cfg_err *err)
{
	const char *colon = memchr(body, ':', len);
	size_t nlen = colon ? (size_t)(colon - body) : len;
	char name[256];
	const char *v;

	if (!nlen || nlen >= sizeof(name))
		return cfg_error(err, n, "expected a variable name in ${...}, got \"${%.*s}\"", (int)len, body);
	memcpy(name, body, nlen);
	name[nlen] = '\0';
	v = lookup(name, r, secret);
	if (v)
		return xbuf_add(b, v, strlen(v)) ? cfg_error(err, n, "value too long after ${%s}", name) : 0;
	if (!colon)
		return cfg_error(err, n, "${%s}: not set in the environment or the keystore", name);
	if (colon[1] == '?' && colon + 1 < body + len)
		return cfg_error(err, n, "${%s}: %.*s", name, (int)(body + len - colon - 2), colon + 2);
	return xbuf_add(b, colon + 1, (size_t)(body + len - colon - 1)) ? cfg_error(err, n, "value too long") : 0;
}

static int expand_scalar(struct cfg_node *n, const struct cfg_resolver *r, struct cfg_err *err)
{
	struct xbuf b = { 0 };
	const char *s = n->value, *p;
	bool secret = false;
	int rc = 0;

	if (!s || !strchr(s, '$'))
		return 0;
	while (!rc && (p = strchr(s, '$'))) {
		const char *end;

		rc = xbuf_add(&b, s, (size_t)(p - s));
		if (rc)
			break;
		if (p[1] == '$' && p[2] == '{') {
			rc = xbuf_add(&b, "${", 2);
			s = p + 3;
			continue;
		}
		if (p[1] != '{') {
			rc = xbuf_add(&b, "$", 1);
			s = p + 1;
			continue;
		}
		end = strchr(p + 2, '}');
		if (!end) {
			free(b.p);
			return cfg_error(err, n, "expected \"}\" closing \"${\" in \"%s\"", n->value);
		}
		if (expand_ref(n, p + 2, (size_t)(end - p - 2), r, &b, &secret, err)) {
			free(b.p);
			return -EINVAL;
		}
		s = end + 1;
	}
	if (!rc)
		rc = xbuf_add(&b, s, strlen(s));
	if (rc) {
		free(b.p);
		return cfg_error(err, n, "%s while expanding variables", rc == -ENOMEM ? "out of memory" : "too long");
	}
	free(n->value);
	n->value = b.p ? b.p : strdup("");
	if (!n->value)
		return cfg_error(err, n, "out of memory");
	n->secret = n->secret || secret;
	return 0;
}

int cfg_expand_vars(struct cfg_node *root, const struct cfg_resolver *r, struct cfg_err *err)
{
	for (struct cfg_node *n = root; n; n = n->next) {
		if (n->kind == CFG_N_SCALAR) {
			if (expand_scalar(n, r, err))
				return -EINVAL;
		} else if (cfg_expand_vars(n->child, r, err)) {
			return -EINVAL;
		}
	}
	return 0;
}
