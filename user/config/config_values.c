/*
 * Config values: scalar conversions (bool, int, duration, size, string),
 * string and port lists, and the table-driven setter cfg_apply().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_priv.h"

#define NS_PER_SEC 1000000000ull

/* ---- scalar conversions ---- */

static int expect_scalar(const struct cfg_node *n, const char *what, struct cfg_err *err)
{
	char got[96];

	if (n && n->kind == CFG_N_SCALAR && !cfg_is_null(n))
		return 0;
	return cfg_error(err, n, "expected %s, got %s", what, cfg_describe(n, got, sizeof(got)));
}

static int bad_value(const struct cfg_node *n, const char *what, struct cfg_err *err)
{
	char got[96];

	return cfg_error(err, n, "expected %s, got %s", what, cfg_describe(n, got, sizeof(got)));
}

int cfg_to_bool(const struct cfg_node *n, bool *out, struct cfg_err *err)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	const char *what = "a boolean (true or false)";

	if (expect_scalar(n, what, err))
		return -EINVAL;
	if (n->quoted)
		return bad_value(n, what, err);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(n->value, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(n->value, no[i])) {
			*out = false;
			return 0;
		}
	}
	return bad_value(n, what, err);
}

/*
 * YAML 1.1 integers, as Beats read them: a leading 0 means octal (file
 * permissions: 0600), 0x hexadecimal, anything else decimal.
 */
static int int_base(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return 16;
	return s[0] == '0' && isdigit((unsigned char)s[1]) ? 8 : 10;
}

int cfg_to_int(const struct cfg_node *n, int64_t min, int64_t max, int64_t *out, struct cfg_err *err)
{
	char what[96];
	const char *s;
	char *end;
	long long v;

	snprintf(what, sizeof(what), "an integer from %lld to %lld", (long long)min, (long long)max);
	if (expect_scalar(n, what, err))
		return -EINVAL;
	s = n->value;
	if (n->quoted ||
	    !(isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return bad_value(n, what, err);
	errno = 0;
	v = strtoll(s, &end, int_base(s));
	if (errno || *end || v < min || v > max)
		return bad_value(n, what, err);
	*out = v;
	return 0;
}

/* Digits with an optional fraction: integer part and fraction scaled to 1e9. */
static bool parse_decimal(const char **sp, uint64_t *ip, uint64_t *frac_e9)
{
	const char *s = *sp;
	uint64_t v = 0, f = 0, scale = NS_PER_SEC / 10;
	bool digits = false;

	for (; isdigit((unsigned char)*s); s++, digits = true) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return false;
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++, digits = true) {
			f += (uint64_t)(*s - '0') * scale;
			scale /= 10;
		}
	}
	*sp = s;
	*ip = v;
	*frac_e9 = f;
	return digits;
}

/* ip.frac * unit, rounded down; false on overflow. */
static bool scale_decimal(uint64_t ip, uint64_t frac_e9, uint64_t unit, uint64_t *out)
{
	unsigned __int128 v = (unsigned __int128)ip * unit + (unsigned __int128)frac_e9 * unit / NS_PER_SEC;

	if (v > UINT64_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

static uint64_t duration_unit(const char **sp)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		/* longer names first: "ms" before "m" and "s" */
		{ "ns", 1 },	     { "us", 1000 },	       { "\xc2\xb5s", 1000 },	   { "ms", 1000000 },
		{ "s", NS_PER_SEC }, { "m", 60 * NS_PER_SEC }, { "h", 3600 * NS_PER_SEC },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t l = strlen(units[i].name);

		if (!strncmp(*sp, units[i].name, l)) {
			*sp += l;
			return units[i].ns;
		}
	}
	return 0;
}

int cfg_to_duration(const struct cfg_node *n, uint64_t *out_ns, struct cfg_err *err)
{
	const char *what = "a duration like 10s, 500ms, 1m30s or a number of seconds";
	uint64_t total = 0, ip, frac, unit, part;
	const char *s;

	if (expect_scalar(n, what, err))
		return -EINVAL;
	s = n->value;
	if (!parse_decimal(&s, &ip, &frac))
		return bad_value(n, what, err);
	if (!*s) /* plain number: seconds, as in Beats */
		return scale_decimal(ip, frac, NS_PER_SEC, out_ns) ? 0 : bad_value(n, what, err);
	for (;;) {
		unit = duration_unit(&s);
		if (!unit || !scale_decimal(ip, frac, unit, &part) || __builtin_add_overflow(total, part, &total))
			return bad_value(n, what, err);
		if (!*s)
			break;
		if (!parse_decimal(&s, &ip, &frac))
			return bad_value(n, what, err);
	}
	*out_ns = total;
	return 0;
}

/* "", "b", "k", "kb", "kib", ... (case-insensitive) -> multiplier, 0 if unknown. */
static uint64_t size_unit(const char *s)
{
	static const char prefixes[] = "kmgt";
	uint64_t mult = 1;
	const char *p;

	while (*s == ' ')
		s++;
	if (!*s || !strcasecmp(s, "b"))
		return 1;
	p = strchr(prefixes, tolower((unsigned char)*s));
	if (!p || !*p)
		return 0;
	s++;
	if (tolower((unsigned char)*s) == 'i') {
		for (long i = 0; i <= p - prefixes; i++)
			mult *= 1024;
		s++;
	} else {
		for (long i = 0; i <= p - prefixes; i++)
			mult *= 1000;
	}
	if (*s && strcasecmp(s, "b"))
		return 0;
	return mult;
}

int cfg_to_size(const struct cfg_node *n, uint64_t *out, struct cfg_err *err)
{
	const char *what = "a size like 65535, 64KiB, 10MB or 1GiB";
	uint64_t ip, frac, mult;
	const char *s;

	if (expect_scalar(n, what, err))
		return -EINVAL;
	s = n->value;
	if (!parse_decimal(&s, &ip, &frac))
		return bad_value(n, what, err);
	mult = size_unit(s);
	if (!mult || !scale_decimal(ip, frac, mult, out))
		return bad_value(n, what, err);
	return 0;
}

int cfg_to_string(const struct cfg_node *n, char **out, struct cfg_err *err)
{
	char got[96];
	char *s;

	if (!n || n->kind != CFG_N_SCALAR)
		return cfg_error(err, n, "expected a string, got %s", cfg_describe(n, got, sizeof(got)));
	s = strdup(cfg_is_null(n) ? "" : n->value);
	if (!s) {
		cfg_error(err, n, "out of memory");
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* ---- lists ---- */

void strlist_free(struct strlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool strlist_has(const struct strlist *l, const char *s, bool nocase)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (nocase ? !strcasecmp(l->v[i], s) : !strcmp(l->v[i], s))
			return true;
	return false;
}

/* Items of a list setting: the children of a sequence, or the scalar itself. */
static size_t list_items(const struct cfg_node *n, const struct cfg_node **first)
{
	size_t k = 0;

	if (n->kind == CFG_N_SCALAR) {
		*first = cfg_is_null(n) ? NULL : n;
		return *first ? 1 : 0;
	}
	*first = n->child;
	for (const struct cfg_node *c = n->child; c; c = c->next)
		k++;
	return k;
}

static const struct cfg_node *list_next(const struct cfg_node *n, const struct cfg_node *item)
{
	return n->kind == CFG_N_SCALAR ? NULL : item->next;
}

static int to_strlist(const struct cfg_node *n, struct strlist *out, struct cfg_err *err)
{
	const char *what = "a list of strings";
	struct strlist l = { 0 };
	const struct cfg_node *it;
	size_t cnt;
	char got[96];

	if (n->kind == CFG_N_MAP)
		return cfg_error(err, n, "expected %s, got %s", what, cfg_describe(n, got, sizeof(got)));
	cnt = list_items(n, &it);
	if (cnt && !(l.v = calloc(cnt, sizeof(*l.v))))
		return cfg_error(err, n, "out of memory");
	for (; it; it = list_next(n, it)) {
		if (it->kind != CFG_N_SCALAR || cfg_is_null(it)) {
			strlist_free(&l);
			return cfg_error(err, it, "expected a string, got %s", cfg_describe(it, got, sizeof(got)));
		}
		if (cfg_to_string(it, &l.v[l.n], err)) {
			strlist_free(&l);
			return -EINVAL;
		}
		l.n++;
	}
	strlist_free(out);
	*out = l;
	return 0;
}

static int to_portlist(const struct cfg_node *n, struct portlist *out, struct cfg_err *err)
{
	struct portlist l = { 0 };
	const struct cfg_node *it;
	size_t cnt;
	char got[96];

	if (n->kind == CFG_N_MAP)
		return cfg_error(err, n, "expected a list of ports, got %s", cfg_describe(n, got, sizeof(got)));
	cnt = list_items(n, &it);
	if (cnt && !(l.v = calloc(cnt, sizeof(*l.v))))
		return cfg_error(err, n, "out of memory");
	for (; it; it = list_next(n, it)) {
		int64_t port;

		if (cfg_to_int(it, 1, 65535, &port, NULL)) {
			bad_value(it, "a port number from 1 to 65535", err);
			goto fail;
		}
		for (size_t i = 0; i < l.n; i++) {
			if (l.v[i] == port) {
				cfg_error(err, it, "port %lld is listed twice", (long long)port);
				goto fail;
			}
		}
		l.v[l.n++] = (uint16_t)port;
	}
	free(out->v);
	*out = l;
	return 0;
fail:
	free(l.v);
	return -EINVAL;
}

/* ---- table-driven settings ---- */

void cfg_field_names(const struct cfg_field *fields, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct cfg_field *f = fields; f && f->key && off < len; f++) {
		int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", f->key);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static const struct cfg_field *find_field(const struct cfg_field *fields, const char *key)
{
	for (const struct cfg_field *f = fields; f && f->key; f++)
		if (key && !strcmp(f->key, key))
			return f;
	return NULL;
}

static int set_string(char **slot, const struct cfg_node *n, struct cfg_err *err)
{
	char *s;

	if (cfg_to_string(n, &s, err))
		return -EINVAL;
	free(*slot);
	*slot = s;
	return 0;
}

int cfg_apply_one(const struct cfg_field *fields, void *base, const struct cfg_node *c, struct cfg_err *err)
{
	const struct cfg_field *f = find_field(fields, c->key);
	char *p = (char *)base;

	if (!f)
		return -ENOENT;
	p += f->offset;
	switch (f->type) {
	case CFG_BOOL:
		return cfg_to_bool(c, (bool *)p, err);
	case CFG_INT:
		/* a table that leaves both bounds at 0 means "any integer" */
		if (f->min == 0 && f->max == 0)
			return cfg_to_int(c, INT64_MIN, INT64_MAX, (int64_t *)p, err);
		return cfg_to_int(c, f->min, f->max, (int64_t *)p, err);
	case CFG_DURATION:
		/* min: the shortest duration allowed, in ns (0: any) */
		if (cfg_to_duration(c, (uint64_t *)p, err))
			return -EINVAL;
		if (f->min > 0 && *(uint64_t *)p < (uint64_t)f->min)
			return cfg_error(err, c, "expected a duration of at least %lld ms, got \"%s\"",
					 (long long)(f->min / 1000000), c->value);
		return 0;
	case CFG_SIZE:
		return cfg_to_size(c, (uint64_t *)p, err);
	case CFG_STRING:
		return set_string((char **)p, c, err);
	case CFG_STRLIST:
		return to_strlist(c, (struct strlist *)p, err);
	case CFG_PORTS:
		return to_portlist(c, (struct portlist *)p, err);
	case CFG_SECTION:
		return cfg_apply(f->sub, base, c, err);
	case CFG_CUSTOM:
		return f->custom ? f->custom(base, c, err) : cfg_error(err, c, "setting not supported");
	}
	return cfg_error(err, c, "setting of unknown type");
}

int cfg_apply(const struct cfg_field *fields, void *base, const struct cfg_node *n, struct cfg_err *err)
{
	char got[96], names[400];

	if (!n || cfg_is_null(n))
		return 0;
	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of settings, got %s", cfg_describe(n, got, sizeof(got)));
	for (const struct cfg_node *c = n->child; c; c = c->next) {
		int rc = cfg_apply_one(fields, base, c, err);

		if (rc == -ENOENT) {
			cfg_field_names(fields, names, sizeof(names));
			return cfg_error(err, c, "unknown setting, expected one of: %s", names[0] ? names : "(none)");
		}
		if (rc)
			return rc;
	}
	return 0;
}

void cfg_fields_free(const struct cfg_field *fields, void *base)
{
	if (!base)
		return;
	for (const struct cfg_field *f = fields; f && f->key; f++) {
		char *p = (char *)base + f->offset;

		switch (f->type) {
		case CFG_STRING:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case CFG_STRLIST:
			strlist_free((struct strlist *)p);
			break;
		case CFG_PORTS:
			free(((struct portlist *)p)->v);
			((struct portlist *)p)->v = NULL;
			((struct portlist *)p)->n = 0;
			break;
		case CFG_SECTION:
			cfg_fields_free(f->sub, base);
			break;
		default:
			break;
		}
	}
}
