/*
 * Config tree: YAML text (libyaml events) -> struct cfg_node, with dotted
 * keys expanded into nested maps at every level, duplicate keys merged
 * (maps merge, anything else: later wins), and -E key=value overrides.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "config_priv.h"

#define OVERRIDE_FILE "-E"

struct yparse {
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	const char *file;
	struct cfg_err *err;
	size_t nodes;
};

/* ---- messages ---- */

static void set_msg(struct cfg_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_msg(struct cfg_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int cfg_error(struct cfg_err *err, const struct cfg_node *n, const char *fmt, ...)
{
	va_list ap;
	int off = 0;

	if (!err)
		return -EINVAL;
	err->msg[0] = '\0';
	if (n) {
		const char *key = n->path ? n->path : "(top level)";
		const char *file = n->file ? n->file : "(config)";

		if (n->line > 0)
			off = snprintf(err->msg, sizeof(err->msg), "%s:%d: %s: ", file, n->line, key);
		else
			off = snprintf(err->msg, sizeof(err->msg), "%s: %s: ", file, key);
		if (off < 0 || (size_t)off >= sizeof(err->msg))
			return -EINVAL;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg + off, sizeof(err->msg) - off, fmt, ap);
	va_end(ap);
	cfg_scrub_secrets(err->msg, sizeof(err->msg), n);
	return -EINVAL;
}

bool cfg_is_null(const struct cfg_node *n)
{
	if (!n || n->kind != CFG_N_SCALAR || n->quoted)
		return false;
	return !n->value[0] || !strcmp(n->value, "~") || !strcasecmp(n->value, "null");
}

const char *cfg_describe(const struct cfg_node *n, char *buf, size_t len)
{
	if (!n)
		snprintf(buf, len, "nothing");
	else if (n->kind == CFG_N_MAP)
		snprintf(buf, len, "a map");
	else if (n->kind == CFG_N_SEQ)
		snprintf(buf, len, "a sequence");
	else if (cfg_is_null(n))
		snprintf(buf, len, "an empty value");
	else if (n->secret)
		snprintf(buf, len, "a value from the keystore"); /* not even a prefix of it */
	else if (strlen(n->value) > 60)
		snprintf(buf, len, "%s\"%.57s...\"", n->quoted ? "string " : "", n->value);
	else
		snprintf(buf, len, "%s\"%s\"", n->quoted ? "string " : "", n->value);
	return buf;
}

/* ---- nodes ---- */

static char *path_join(const char *prefix, const char *seg)
{
	char *p;

	if (!prefix || !prefix[0])
		return strdup(seg);
	if (asprintf(&p, "%s.%s", prefix, seg) < 0)
		return NULL;
	return p;
}

static char *path_index(const char *prefix, size_t idx)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%zu", idx);
	return path_join(prefix, buf);
}

static struct cfg_node *node_new(enum cfg_kind kind, const char *key, char *path, const char *file, int line)
{
	struct cfg_node *n = calloc(1, sizeof(*n));

	if (!n) {
		free(path);
		return NULL;
	}
	n->kind = kind;
	n->path = path;
	n->file = file;
	n->line = line;
	if (key && !(n->key = strdup(key))) {
		cfg_node_free(n);
		return NULL;
	}
	return n;
}

void cfg_node_free(struct cfg_node *n)
{
	while (n) {
		struct cfg_node *next = n->next;

		cfg_node_free(n->child);
		free(n->key);
		free(n->value);
		free(n->path);
		free(n);
		n = next;
	}
}

static struct cfg_node **child_slot(struct cfg_node *map, const char *key)
{
	struct cfg_node **pp;

	for (pp = &map->child; *pp; pp = &(*pp)->next)
		if ((*pp)->key && !strcmp((*pp)->key, key))
			return pp;
	return pp;
}

static void append_child(struct cfg_node *parent, struct cfg_node *n)
{
	struct cfg_node **pp = &parent->child;

	while (*pp)
		pp = &(*pp)->next;
	n->next = NULL;
	*pp = n;
}

/* Put *slot's place to n (later wins), or merge two maps. Takes n. */
static void slot_merge(struct cfg_node **slot, struct cfg_node *n)
{
	struct cfg_node *old = *slot;

	if (!old) {
		n->next = NULL;
		*slot = n;
		return;
	}
	if (old->kind == CFG_N_MAP && n->kind == CFG_N_MAP) {
		struct cfg_node *c = n->child;

		n->child = NULL;
		while (c) {
			struct cfg_node *next = c->next;

			c->next = NULL;
			slot_merge(child_slot(old, c->key), c);
			c = next;
		}
		cfg_node_free(n);
		return;
	}
	n->next = old->next;
	old->next = NULL;
	*slot = n;
	cfg_node_free(old);
}

/* Split a dotted key into segments in place; -EINVAL on empty segments. */
static int split_key(char *key, char **segs, size_t max, size_t *nseg)
{
	size_t n = 0;
	char *s = key;

	for (;;) {
		char *dot = strchr(s, '.');

		if (n == max)
			return -E2BIG;
		if (dot)
			*dot = '\0';
		if (!*s)
			return -EINVAL;
		segs[n++] = s;
		if (!dot)
			break;
		s = dot + 1;
	}
	*nseg = n;
	return 0;
}

/* Walk/create the maps for segs[0..n-2] under map; returns the map that gets segs[n-1]. */
static struct cfg_node *make_parents(struct cfg_node *map, char **segs, size_t n, const char *file, int line)
{
	for (size_t i = 0; i + 1 < n; i++) {
		struct cfg_node **slot = child_slot(map, segs[i]);

		if (!*slot || (*slot)->kind != CFG_N_MAP) {
			struct cfg_node *m = node_new(CFG_N_MAP, segs[i], path_join(map->path, segs[i]), file, line);

			if (!m || !m->path) {
				cfg_node_free(m);
				return NULL;
			}
			slot_merge(slot, m);
		}
		map = *slot;
	}
	return map;
}

/* ---- YAML events -> tree ---- */

static int yp_syntax_error(struct yparse *yp)
{
	const yaml_parser_t *p = &yp->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->context)
		set_msg(yp->err, "%s:%zu: syntax error: %s (%s at line %zu)", yp->file, p->problem_mark.line + 1,
			problem, p->context, p->context_mark.line + 1);
	else
		set_msg(yp->err, "%s:%zu: syntax error: %s", yp->file, p->problem_mark.line + 1, problem);
	return -EINVAL;
}

static int yp_next(struct yparse *yp)
{
	if (yp->have_ev)
		yaml_event_delete(&yp->ev);
	yp->have_ev = false;
	if (!yaml_parser_parse(&yp->parser, &yp->ev))
		return yp_syntax_error(yp);
	yp->have_ev = true;
	return 0;
}

static int yp_line(const struct yparse *yp)
{
	return (int)yp->ev.start_mark.line + 1;
}

static int yp_at_error(struct yparse *yp, const char *path, const char *what)
{
	set_msg(yp->err, "%s:%d: %s: %s", yp->file, yp_line(yp), path && path[0] ? path : "(top level)", what);
	return -EINVAL;
}

static const yaml_char_t *ev_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

static struct cfg_node *yp_node(struct yparse *yp, const char *key, char *path, int depth);

static struct cfg_node *yp_scalar(struct yparse *yp, const char *key, char *path)
{
	const char *v = (const char *)yp->ev.data.scalar.value;
	size_t len = yp->ev.data.scalar.length;
	struct cfg_node *n;

	if (memchr(v, '\0', len)) {
		yp_at_error(yp, path, "NUL byte in value");
		free(path);
		return NULL;
	}
	n = node_new(CFG_N_SCALAR, key, path, yp->file, yp_line(yp));
	if (!n || !(n->value = strndup(v, len))) {
		cfg_node_free(n);
		set_msg(yp->err, "%s: out of memory", yp->file);
		return NULL;
	}
	/* quoted, block or tagged !!str: text, never a number, bool or null */
	n->quoted = yp->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (yp->ev.data.scalar.tag && !strcmp((const char *)yp->ev.data.scalar.tag, YAML_STR_TAG));
	return n;
}

static struct cfg_node *yp_sequence(struct yparse *yp, const char *key, char *path, int depth)
{
	struct cfg_node *seq = node_new(CFG_N_SEQ, key, path, yp->file, yp_line(yp));
	size_t idx = 0;

	if (!seq)
		goto nomem;
	for (;;) {
		struct cfg_node *item;
		char *ipath;

		if (yp_next(yp))
			goto fail;
		if (yp->ev.type == YAML_SEQUENCE_END_EVENT)
			return seq;
		if (!(ipath = path_index(seq->path, idx++)))
			goto nomem;
		if (!(item = yp_node(yp, NULL, ipath, depth + 1)))
			goto fail;
		append_child(seq, item);
	}
nomem:
	set_msg(yp->err, "%s: out of memory", yp->file);
fail:
	cfg_node_free(seq);
	return NULL;
}

/* One "key: value" pair of a mapping; the key event is current. */
static int yp_pair(struct yparse *yp, struct cfg_node *map, int depth)
{
	char *segs[CFG_MAX_DEPTH], *key = NULL, *vpath = NULL;
	struct cfg_node *parent, *val;
	size_t nseg;
	int line = yp_line(yp), rc;

	if (yp->ev.type != YAML_SCALAR_EVENT)
		return yp_at_error(yp, map->path, "expected a plain key, got a map or sequence as key");
	key = strndup((const char *)yp->ev.data.scalar.value, yp->ev.data.scalar.length);
	if (!key || !(vpath = path_join(map->path, key)))
		goto nomem;
	rc = split_key(key, segs, CFG_MAX_DEPTH, &nseg);
	if (rc) {
		yp_at_error(yp, vpath,
			    rc == -E2BIG ? "key has too many parts" : "expected a key like a.b.c, got an empty part");
		goto fail;
	}
	if (depth + (int)nseg > CFG_MAX_DEPTH) {
		yp_at_error(yp, vpath, "nested too deep");
		goto fail;
	}
	if (yp_next(yp))
		goto fail;
	val = yp_node(yp, segs[nseg - 1], vpath, depth + (int)nseg);
	vpath = NULL;
	if (!val)
		goto fail;
	val->line = line;
	if (!(parent = make_parents(map, segs, nseg, yp->file, line))) {
		cfg_node_free(val);
		goto nomem;
	}
	slot_merge(child_slot(parent, val->key), val);
	free(key);
	return 0;
nomem:
	set_msg(yp->err, "%s: out of memory", yp->file);
fail:
	free(key);
	free(vpath);
	return -EINVAL;
}

static struct cfg_node *yp_mapping(struct yparse *yp, const char *key, char *path, int depth)
{
	struct cfg_node *map = node_new(CFG_N_MAP, key, path, yp->file, yp_line(yp));

	if (!map) {
		set_msg(yp->err, "%s: out of memory", yp->file);
		return NULL;
	}
	for (;;) {
		if (yp_next(yp))
			goto fail;
		if (yp->ev.type == YAML_MAPPING_END_EVENT)
			return map;
		if (yp_pair(yp, map, depth))
			goto fail;
	}
fail:
	cfg_node_free(map);
	return NULL;
}

/* The node whose first event is current. Takes path. */
static struct cfg_node *yp_node(struct yparse *yp, const char *key, char *path, int depth)
{
	if (!path) {
		set_msg(yp->err, "%s: out of memory", yp->file);
		return NULL;
	}
	if (depth > CFG_MAX_DEPTH || ++yp->nodes > CFG_MAX_NODES) {
		yp_at_error(yp, path, depth > CFG_MAX_DEPTH ? "nested too deep" : "too many settings");
		goto fail;
	}
	if (yp->ev.type == YAML_ALIAS_EVENT || ev_anchor(&yp->ev)) {
		yp_at_error(yp, path, "YAML anchors and aliases (& and *) are not supported");
		goto fail;
	}
	switch (yp->ev.type) {
	case YAML_SCALAR_EVENT:
		return yp_scalar(yp, key, path);
	case YAML_SEQUENCE_START_EVENT:
		return yp_sequence(yp, key, path, depth);
	case YAML_MAPPING_START_EVENT:
		return yp_mapping(yp, key, path, depth);
	default:
		yp_at_error(yp, path, "unexpected YAML event");
		goto fail;
	}
fail:
	free(path);
	return NULL;
}

/* Expect the next event to be of type t (document/stream framing). */
static int yp_expect(struct yparse *yp, yaml_event_type_t t)
{
	if (yp_next(yp))
		return -EINVAL;
	if (yp->ev.type != t)
		return yp_at_error(yp, NULL, "expected a single YAML document");
	return 0;
}

static struct cfg_node *empty_scalar(const char *file, const char *path)
{
	struct cfg_node *n = node_new(CFG_N_SCALAR, NULL, path ? strdup(path) : NULL, file, 1);

	if (n && (!(n->value = strdup("")) || (path && !n->path))) {
		cfg_node_free(n);
		n = NULL;
	}
	return n;
}

/* Stream start, document start, root node, document end, stream end. */
static struct cfg_node *yp_document(struct yparse *yp, const char *path)
{
	struct cfg_node *root;

	if (yp_expect(yp, YAML_STREAM_START_EVENT) || yp_next(yp))
		return NULL;
	if (yp->ev.type == YAML_STREAM_END_EVENT) {
		root = empty_scalar(yp->file, path);
		if (!root)
			set_msg(yp->err, "%s: out of memory", yp->file);
		return root;
	}
	if (yp->ev.type != YAML_DOCUMENT_START_EVENT || yp_next(yp))
		return NULL;
	root = yp_node(yp, NULL, strdup(path ? path : ""), 0);
	if (!root)
		return NULL;
	if (yp_expect(yp, YAML_DOCUMENT_END_EVENT) || yp_expect(yp, YAML_STREAM_END_EVENT)) {
		cfg_node_free(root);
		return NULL;
	}
	return root;
}

/*
 * Parse one YAML document whose root gets path `path` (NULL: the top level).
 * An empty stream gives an empty plain scalar.
 */
static struct cfg_node *parse_doc(const char *text, size_t len, const char *file, const char *path, struct cfg_err *err)
{
	struct yparse yp = { .file = file, .err = err };
	struct cfg_node *root;

	if (!yaml_parser_initialize(&yp.parser)) {
		set_msg(err, "%s: out of memory", file);
		return NULL;
	}
	yaml_parser_set_input_string(&yp.parser, (const unsigned char *)text, len);
	root = yp_document(&yp, path);
	if (root && !path) {
		free(root->path);
		root->path = NULL;
	}
	if (yp.have_ev)
		yaml_event_delete(&yp.ev);
	yaml_parser_delete(&yp.parser);
	return root;
}

static void set_file_line_keep(struct cfg_node *n, const char *file)
{
	for (; n; n = n->next) {
		n->file = file;
		set_file_line_keep(n->child, file);
	}
}

struct cfg_node *cfg_parse_yaml(const char *text, size_t len, const char *file, struct cfg_err *err)
{
	struct cfg_node *root;
	char what[96];

	if (!file)
		file = "(config)";
	root = parse_doc(text, len, file, NULL, err);
	if (!root)
		return NULL;
	if (root->kind != CFG_N_MAP && !cfg_is_null(root)) {
		cfg_error(err, root, "expected a map of settings, got %s", cfg_describe(root, what, sizeof(what)));
		cfg_node_free(root);
		return NULL;
	}
	/*
	 * The root map's unused value holds the tree's own copy of the file
	 * name, which every node points to: the caller's string may go away.
	 */
	root->kind = CFG_N_MAP;
	free(root->value);
	root->value = strdup(file);
	if (!root->value) {
		set_msg(err, "%s: out of memory", file);
		cfg_node_free(root);
		return NULL;
	}
	set_file_line_keep(root, root->value);
	return root;
}

/* Read a whole file of at most CFG_MAX_FILE_BYTES. */
static char *read_capped(FILE *f, size_t *out_len, const char *path, struct cfg_err *err)
{
	size_t len = 0, cap = 64 * 1024;
	char *buf = malloc(cap);

	while (buf) {
		size_t got;

		if (len == cap) {
			char *nb;

			if (cap >= CFG_MAX_FILE_BYTES) {
				set_msg(err, "%s: config file larger than %u bytes", path, CFG_MAX_FILE_BYTES);
				free(buf);
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (!ferror(f)) {
				*out_len = len;
				return buf;
			}
			set_msg(err, "%s: cannot read config file: %s", path, strerror(errno));
			free(buf);
			return NULL;
		}
	}
	free(buf);
	set_msg(err, "%s: out of memory", path);
	return NULL;
}

struct cfg_node *cfg_load_file(const char *path, struct cfg_err *err)
{
	struct cfg_node *root = NULL;
	size_t len = 0;
	char *buf;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		set_msg(err, "%s: cannot open config file: %s", path, strerror(errno));
		return NULL;
	}
	buf = read_capped(f, &len, path, err);
	fclose(f);
	if (buf)
		root = cfg_parse_yaml(buf, len, path, err);
	free(buf);
	return root;
}

/* ---- lookups ---- */

static bool parse_index(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > CFG_MAX_NODES)
		return false;
	*out = v;
	return true;
}

static struct cfg_node *seq_item(const struct cfg_node *seq, size_t idx)
{
	struct cfg_node *c = seq->child;

	while (c && idx--)
		c = c->next;
	return c;
}

static size_t count_children(const struct cfg_node *n)
{
	size_t k = 0;

	for (const struct cfg_node *c = n->child; c; c = c->next)
		k++;
	return k;
}

const struct cfg_node *cfg_get(const struct cfg_node *map, const char *dotted)
{
	char *copy, *segs[CFG_MAX_DEPTH];
	const struct cfg_node *cur = map;
	size_t nseg, idx;

	if (!map || !dotted || !(copy = strdup(dotted)))
		return NULL;
	if (split_key(copy, segs, CFG_MAX_DEPTH, &nseg))
		cur = NULL;
	for (size_t i = 0; cur && i < nseg; i++) {
		if (cur->kind == CFG_N_MAP)
			cur = *child_slot((struct cfg_node *)cur, segs[i]);
		else if (cur->kind == CFG_N_SEQ && parse_index(segs[i], &idx))
			cur = seq_item(cur, idx);
		else
			cur = NULL;
	}
	free(copy);
	return cur;
}

/* ---- -E overrides ---- */

static void set_file_line(struct cfg_node *n, const char *file, int line)
{
	for (; n; n = n->next) {
		n->file = file;
		n->line = line;
		set_file_line(n->child, file, line);
	}
}

/* Parse the right-hand side of key=value as a YAML value. */
static struct cfg_node *override_value(const char *value, const char *path, struct cfg_err *err)
{
	struct cfg_node *n = parse_doc(value, strlen(value), OVERRIDE_FILE, path, err);

	if (!n && !strchr("[{\"'", value[0])) {
		/* Not YAML (e.g. "%{+yyyy.MM.dd}"): take the text as a string. */
		n = node_new(CFG_N_SCALAR, NULL, strdup(path), OVERRIDE_FILE, 0);
		if (!n || !n->path || !(n->value = strdup(value))) {
			cfg_node_free(n);
			set_msg(err, "-E: out of memory");
			return NULL;
		}
		n->quoted = true;
	}
	if (n)
		set_file_line(n, OVERRIDE_FILE, 0);
	return n;
}

/* Descend one segment from cur for an override, creating maps as needed. */
static struct cfg_node **override_step(struct cfg_node *cur, const char *seg, const char *key, struct cfg_err *err)
{
	struct cfg_node **slot;
	size_t idx, n;

	if (cur->kind == CFG_N_MAP)
		return child_slot(cur, seg);
	if (cur->kind != CFG_N_SEQ || !parse_index(seg, &idx)) {
		set_msg(err, "-E: %s: expected a sequence index, got \"%s\"", key, seg);
		return NULL;
	}
	n = count_children(cur);
	if (idx > n) {
		set_msg(err, "-E: %s: index %zu out of range (the sequence has %zu items)", key, idx, n);
		return NULL;
	}
	for (slot = &cur->child; *slot && idx--; slot = &(*slot)->next)
		;
	return slot;
}

/* Strip surrounding blanks in place. */
static char *trim(char *s)
{
	size_t l;

	while (*s == ' ' || *s == '\t')
		s++;
	l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		s[--l] = '\0';
	return s;
}

int cfg_override(struct cfg_node *root, const char *assignment, struct cfg_err *err)
{
	char *segs[CFG_MAX_DEPTH], *key = NULL, *path = NULL, *eq;
	struct cfg_node *cur = root, *val = NULL;
	size_t nseg;
	int rc = -EINVAL;

	if (!root || root->kind != CFG_N_MAP || !assignment)
		return -EINVAL;
	eq = strchr(assignment, '=');
	if (!eq) {
		set_msg(err, "-E: expected key=value, got \"%s\"", assignment);
		return -EINVAL;
	}
	key = strndup(assignment, eq - assignment);
	path = key ? strdup(trim(key)) : NULL;
	if (!path) {
		set_msg(err, "-E: out of memory");
		goto out;
	}
	if (split_key(trim(key), segs, CFG_MAX_DEPTH, &nseg)) {
		set_msg(err, "-E: expected a key like a.b.c, got \"%s\"", path);
		goto out;
	}
	if (!(val = override_value(eq + 1, path, err)))
		goto out;
	for (size_t i = 0; i < nseg; i++) {
		struct cfg_node **slot = override_step(cur, segs[i], path, err);
		bool in_map = cur->kind == CFG_N_MAP;

		if (!slot)
			goto out;
		if (i + 1 == nseg) {
			if (in_map && !(val->key = strdup(segs[i])))
				goto out;
			slot_merge(slot, val);
			val = NULL;
			break;
		}
		if (!*slot || (*slot)->kind == CFG_N_SCALAR) {
			char *p = cur->path ? path_join(cur->path, segs[i]) : strdup(segs[i]);
			struct cfg_node *m = node_new(CFG_N_MAP, in_map ? segs[i] : NULL, p, OVERRIDE_FILE, 0);

			if (!m || !m->path) {
				cfg_node_free(m);
				set_msg(err, "-E: out of memory");
				goto out;
			}
			slot_merge(slot, m);
		}
		cur = *slot;
	}
	rc = 0;
out:
	cfg_node_free(val);
	free(key);
	free(path);
	return rc;
}
