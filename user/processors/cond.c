/*
 * Beats conditions (`when:` of any processor, `if:`): equals, contains,
 * regexp, range, network, has_fields, and, or, not. Several conditions in
 * one map must all hold. Field names are dotted paths; the config tree has
 * already expanded dotted keys into maps, so a condition's fields are its
 * map's leaves joined back with dots.
 *
 * regexp uses POSIX extended expressions (glibc regex.h), unanchored like
 * Go's MatchString. Beats' patterns are RE2: \d \D \w \W \s \S and a
 * leading (?i) are translated; lazy quantifiers give the same yes/no answer
 * as RE2's; other (?...) groups are a config error from regcomp.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_priv.h"
#include "proc.h"

enum cond_kind {
	COND_EQUALS,
	COND_CONTAINS,
	COND_REGEXP,
	COND_RANGE,
	COND_NETWORK,
	COND_HAS_FIELDS,
	COND_AND,
	COND_OR,
	COND_NOT,
};

enum range_op { RANGE_GT, RANGE_GTE, RANGE_LT, RANGE_LTE };

struct cond_field {
	char *path;
	json_t *value; /* equals: the typed value; contains: its string */
	regex_t re;
	bool has_re;
	enum range_op op;
	double num;
	struct net_list nets;
};

struct cond {
	enum cond_kind kind;
	struct cond_field *f; /* every field must hold */
	size_t nf;
	struct cond **sub; /* and / or / not, and a map of several conditions (as and) */
	size_t nsub;
};

static const char *const kind_names[] = {
	[COND_EQUALS] = "equals",   [COND_CONTAINS] = "contains",     [COND_REGEXP] = "regexp", [COND_RANGE] = "range",
	[COND_NETWORK] = "network", [COND_HAS_FIELDS] = "has_fields", [COND_AND] = "and",	[COND_OR] = "or",
	[COND_NOT] = "not",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

void cond_free(struct cond *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nf; i++) {
		free(c->f[i].path);
		json_decref(c->f[i].value);
		if (c->f[i].has_re)
			regfree(&c->f[i].re);
		net_list_free(&c->f[i].nets);
	}
	free(c->f);
	for (size_t i = 0; i < c->nsub; i++)
		cond_free(c->sub[i]);
	free(c->sub);
	free(c);
}

/* ---- parsing ---- */

static struct cond *cond_alloc(enum cond_kind kind)
{
	struct cond *c = calloc(1, sizeof(*c));

	if (c)
		c->kind = kind;
	return c;
}

static int add_sub(struct cond *c, struct cond *s)
{
	struct cond **v = realloc(c->sub, (c->nsub + 1) * sizeof(*v));

	if (!v) {
		cond_free(s);
		return -ENOMEM;
	}
	c->sub = v;
	c->sub[c->nsub++] = s;
	return 0;
}

static struct cond_field *add_field(struct cond *c, const char *path)
{
	struct cond_field *v = realloc(c->f, (c->nf + 1) * sizeof(*v));

	if (!v)
		return NULL;
	c->f = v;
	memset(&v[c->nf], 0, sizeof(*v));
	if (!(v[c->nf].path = strdup(path)))
		return NULL;
	return &v[c->nf++];
}

/* RE2's \d \w \s (and negations) and a leading (?i) as POSIX ERE. */
static char *re2_to_posix(const char *re, int *flags)
{
	size_t n = strlen(re);
	char *out = malloc(n * 14 + 1), *o = out;
	bool bracket = false;

	if (!out)
		return NULL;
	if (!strncmp(re, "(?i)", 4)) {
		*flags |= REG_ICASE;
		re += 4;
	}
	for (const char *p = re; *p; p++) {
		const char *cls = NULL;

		if (*p == '\\' && p[1]) {
			switch (p[1]) {
			case 'd':
				cls = bracket ? "0-9" : "[0-9]";
				break;
			case 'D':
				cls = bracket ? NULL : "[^0-9]";
				break;
			case 'w':
				cls = bracket ? "[:alnum:]_" : "[[:alnum:]_]";
				break;
			case 'W':
				cls = bracket ? NULL : "[^[:alnum:]_]";
				break;
			case 's':
				cls = bracket ? "[:space:]" : "[[:space:]]";
				break;
			case 'S':
				cls = bracket ? NULL : "[^[:space:]]";
				break;
			}
			if (cls) {
				o = stpcpy(o, cls);
				p++;
				continue;
			}
			*o++ = *p++;
			*o++ = *p;
			continue;
		}
		if (*p == '[' && !bracket) {
			bracket = true;
			*o++ = *p;
			if (p[1] == '^')
				*o++ = *++p;
			if (p[1] == ']')
				*o++ = *++p;
			continue;
		}
		if (*p == ']' && bracket)
			bracket = false;
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

int proc_regcomp(regex_t *re, const char *pattern, const struct cfg_node *n, struct cfg_err *err)
{
	int flags = REG_EXTENDED | REG_NOSUB, rc;
	char *pat = re2_to_posix(pattern, &flags), msg[128];

	if (!pat)
		return cfg_error(err, n, "out of memory");
	rc = regcomp(re, pat, flags);
	free(pat);
	if (rc) {
		regerror(rc, re, msg, sizeof(msg)); /* glibc freed what the failed regcomp held */
		return cfg_error(err, n, "invalid regular expression \"%s\": %s", pattern, msg);
	}
	return 0;
}

static int set_regexp(struct cond_field *f, const struct cfg_node *leaf, struct cfg_err *err)
{
	if (proc_regcomp(&f->re, leaf->value, leaf, err))
		return -EINVAL;
	f->has_re = true;
	return 0;
}

static int set_range(struct cond_field *f, const struct cfg_node *leaf, struct cfg_err *err)
{
	static const char *const ops[] = { "gt", "gte", "lt", "lte" };
	char *dot = strrchr(f->path, '.'), *end;
	const char *op = dot ? dot + 1 : f->path;
	size_t i;

	for (i = 0; i < 4 && strcmp(op, ops[i]); i++)
		;
	if (!dot || i == 4)
		return cfg_error(err, leaf, "expected FIELD.gt, .gte, .lt or .lte in a range condition");
	*dot = '\0';
	f->op = (enum range_op)i;
	errno = 0;
	f->num = strtod(leaf->value, &end);
	if (leaf->quoted || !leaf->value[0] || *end || errno)
		return cfg_error(err, leaf, "expected a number, got \"%s\"", leaf->value);
	return 0;
}

static int set_leaf(struct cond *c, const char *path, const struct cfg_node *leaf, struct cfg_err *err)
{
	struct cond_field *f;

	if (leaf->kind == CFG_N_SEQ && c->kind != COND_NETWORK)
		return cfg_error(err, leaf, "expected a single value for the %s condition, got a list",
				 kind_names[c->kind]);
	if (!(f = add_field(c, path)))
		return cfg_error(err, leaf, "out of memory");
	switch (c->kind) {
	case COND_EQUALS:
		f->value = proc_cfg_scalar(leaf);
		return f->value ? 0 : cfg_error(err, leaf, "out of memory");
	case COND_CONTAINS:
		f->value = json_string(leaf->value);
		return f->value ? 0 : cfg_error(err, leaf, "out of memory");
	case COND_REGEXP:
		return set_regexp(f, leaf, err);
	case COND_RANGE:
		return set_range(f, leaf, err);
	case COND_NETWORK:
		return net_list_parse(leaf, &f->nets, err);
	default:
		return cfg_error(err, leaf, "unexpected value");
	}
}

/* The leaves of map n, their paths joined with dots onto prefix. */
static int walk_fields(struct cond *c, const struct cfg_node *n, char *prefix, size_t plen, struct cfg_err *err)
{
	for (const struct cfg_node *k = n->child; k; k = k->next) {
		size_t klen = strlen(k->key);
		int rc;

		if (plen + klen + 2 > 512)
			return cfg_error(err, k, "field name too long");
		if (plen)
			prefix[plen] = '.';
		memcpy(prefix + plen + (plen ? 1 : 0), k->key, klen + 1);
		if (k->kind == CFG_N_MAP)
			rc = walk_fields(c, k, prefix, plen + (plen ? 1 : 0) + klen, err);
		else
			rc = set_leaf(c, prefix, k, err);
		prefix[plen] = '\0';
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_has_fields(struct cond *c, const struct cfg_node *n, struct cfg_err *err)
{
	const struct cfg_node *one = n->kind == CFG_N_SCALAR ? n : NULL;

	if (n->kind == CFG_N_MAP)
		return cfg_error(err, n, "expected a list of field names, got a map");
	for (const struct cfg_node *k = one ? one : n->child; k; k = one ? NULL : k->next) {
		if (k->kind != CFG_N_SCALAR)
			return cfg_error(err, k, "expected a field name");
		if (!add_field(c, k->value))
			return cfg_error(err, k, "out of memory");
	}
	if (!c->nf)
		return cfg_error(err, n, "expected at least one field name");
	return 0;
}

static int parse_list(struct cond *c, const struct cfg_node *n, struct cfg_err *err)
{
	if (n->kind != CFG_N_SEQ || !n->child)
		return cfg_error(err, n, "expected a list of conditions");
	for (const struct cfg_node *k = n->child; k; k = k->next) {
		struct cond *s = cond_parse(k, err);

		if (!s)
			return -EINVAL;
		if (add_sub(c, s))
			return cfg_error(err, k, "out of memory");
	}
	return 0;
}

static int parse_not(struct cond *c, const struct cfg_node *n, struct cfg_err *err)
{
	struct cond *s = cond_parse(n, err);

	if (!s)
		return -EINVAL;
	return add_sub(c, s) ? cfg_error(err, n, "out of memory") : 0;
}

/* One condition: kind key k. */
static struct cond *parse_one(const struct cfg_node *k, struct cfg_err *err)
{
	char prefix[512] = "";
	struct cond *c;
	size_t i;
	int rc;

	for (i = 0; i < NKINDS && strcmp(k->key, kind_names[i]); i++)
		;
	if (i == NKINDS) {
		cfg_error(err, k,
			  "unknown condition, expected one of: equals, contains, regexp, range, network, "
			  "has_fields, and, or, not");
		return NULL;
	}
	if (!(c = cond_alloc((enum cond_kind)i))) {
		cfg_error(err, k, "out of memory");
		return NULL;
	}
	if (c->kind == COND_HAS_FIELDS)
		rc = parse_has_fields(c, k, err);
	else if (c->kind == COND_AND || c->kind == COND_OR)
		rc = parse_list(c, k, err);
	else if (c->kind == COND_NOT)
		rc = parse_not(c, k, err);
	else if (k->kind != CFG_N_MAP || !k->child)
		rc = cfg_error(err, k, "expected a map of field: value");
	else
		rc = walk_fields(c, k, prefix, 0, err);
	if (rc) {
		cond_free(c);
		return NULL;
	}
	return c;
}

struct cond *cond_parse(const struct cfg_node *n, struct cfg_err *err)
{
	struct cond *all;

	if (!n || n->kind != CFG_N_MAP || !n->child) {
		cfg_error(err, n,
			  "expected a condition (equals, contains, regexp, range, network, has_fields, and, "
			  "or, not)");
		return NULL;
	}
	if (!n->child->next)
		return parse_one(n->child, err);
	if (!(all = cond_alloc(COND_AND))) {
		cfg_error(err, n, "out of memory");
		return NULL;
	}
	for (const struct cfg_node *k = n->child; k; k = k->next) {
		struct cond *s = parse_one(k, err);

		if (!s || add_sub(all, s)) {
			if (s)
				cfg_error(err, k, "out of memory");
			cond_free(all);
			return NULL;
		}
	}
	return all;
}

/* ---- evaluation ---- */

static bool equals(const json_t *want, const json_t *v)
{
	if (json_is_number(want) && json_is_number(v))
		return json_number_value(want) == json_number_value(v);
	return json_equal(want, v);
}

static bool str_contains(const json_t *v, const char *needle)
{
	return json_is_string(v) && strstr(json_string_value(v), needle);
}

static bool str_matches(const json_t *v, const regex_t *re)
{
	return json_is_string(v) && regexec(re, json_string_value(v), 0, NULL, 0) == 0;
}

static bool ip_in(const json_t *v, const struct net_list *nets)
{
	struct net_addr a;

	return json_is_string(v) && net_addr_parse(json_string_value(v), &a) && net_list_has(nets, &a);
}

static bool in_range(const struct cond_field *f, const json_t *v)
{
	double x;

	if (!json_is_number(v))
		return false;
	x = json_number_value(v);
	switch (f->op) {
	case RANGE_GT:
		return x > f->num;
	case RANGE_GTE:
		return x >= f->num;
	case RANGE_LT:
		return x < f->num;
	default:
		return x <= f->num;
	}
}

/* One value of a field (an array's element for contains, regexp, network). */
static bool value_holds(const struct cond *c, const struct cond_field *f, const json_t *v)
{
	switch (c->kind) {
	case COND_CONTAINS:
		return str_contains(v, json_string_value(f->value));
	case COND_REGEXP:
		return str_matches(v, &f->re);
	case COND_NETWORK:
		return ip_in(v, &f->nets);
	default:
		return false;
	}
}

static bool field_holds(const struct cond *c, const struct cond_field *f, json_t *ev)
{
	json_t *v = field_get(ev, f->path), *e;
	size_t i;

	if (!v)
		return false;
	switch (c->kind) {
	case COND_EQUALS:
		return equals(f->value, v);
	case COND_RANGE:
		return in_range(f, v);
	case COND_HAS_FIELDS:
		return true;
	default:
		break;
	}
	if (!json_is_array(v))
		return value_holds(c, f, v);
	json_array_foreach(v, i, e) {
		if (value_holds(c, f, e))
			return true;
	}
	return false;
}

bool cond_eval(const struct cond *c, json_t *ev)
{
	switch (c->kind) {
	case COND_AND:
		for (size_t i = 0; i < c->nsub; i++)
			if (!cond_eval(c->sub[i], ev))
				return false;
		return true;
	case COND_OR:
		for (size_t i = 0; i < c->nsub; i++)
			if (cond_eval(c->sub[i], ev))
				return true;
		return false;
	case COND_NOT:
		return !cond_eval(c->sub[0], ev);
	default:
		for (size_t i = 0; i < c->nf; i++)
			if (!field_holds(c, &c->f[i], ev))
				return false;
		return true;
	}
}

bool cond_fields_absent(const struct cond *c, bool (*may_exist)(void *ctx, const char *path), void *ctx)
{
	for (size_t i = 0; i < c->nsub; i++)
		if (!cond_fields_absent(c->sub[i], may_exist, ctx))
			return false;
	for (size_t i = 0; i < c->nf; i++)
		if (may_exist(ctx, c->f[i].path))
			return false;
	return true;
}
