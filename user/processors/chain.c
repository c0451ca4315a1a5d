/*
 * The processor chain: parsed from a `processors:` sequence, each entry
 * `- NAME: {args..., when: COND}` or Beats' `- if: COND / then: [...] /
 * else: [...]`, run in order on a jansson tree. The event text is parsed
 * once before the first processor and written once after the last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_priv.h"
#include "json_buf.h"
#include "log.h"
#include "proc.h"
#include "util/memfind.h"

static const struct proc_ops *const registry[] = {
	&proc_add_fields,   &proc_add_tags,
	&proc_add_labels,   &proc_drop_fields,
	&proc_drop_event,   &proc_include_fields,
	&proc_rename,	    &proc_add_host_metadata,
	&proc_add_locale,   &proc_add_network_direction,
	&proc_community_id, &proc_detect_mime_type,
};
#define NREGISTRY (sizeof(registry) / sizeof(registry[0]))

/* Beats processors that need a cloud, Docker or Kubernetes API: accepted, with a warning, and not run. */
static const char *const inert[] = { "add_cloud_metadata", "add_docker_metadata", "add_kubernetes_metadata" };

struct proc {
	const struct proc_ops *ops; /* NULL: an if/then/else */
	void *state;
	struct cond *when; /* the `when` of a processor, the `if` of if/then/else */
	struct proc_chain *then, *otherwise;
};

struct proc_chain {
	struct proc *v;
	size_t n;
};

static void proc_clear(struct proc *p)
{
	if (p->ops)
		p->ops->free(p->state);
	cond_free(p->when);
	proc_chain_free(p->then);
	proc_chain_free(p->otherwise);
}

void proc_chain_free(struct proc_chain *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		proc_clear(&c->v[i]);
	free(c->v);
	free(c);
}

/* ---- config helpers shared by the processors ---- */

int proc_args(const char *name, const struct cfg_field *fields, void *base, const struct cfg_node *args,
	      struct cfg_err *err)
{
	char names[256];

	if (!args || cfg_is_null(args))
		return 0;
	if (args->kind != CFG_N_MAP)
		return cfg_error(err, args, "expected the settings of %s as a map", name);
	for (const struct cfg_node *c = args->child; c; c = c->next) {
		int rc;

		if (!strcmp(c->key, "when"))
			continue;
		rc = cfg_apply_one(fields, base, c, err);
		if (rc == -ENOENT) {
			cfg_field_names(fields, names, sizeof(names));
			return cfg_error(err, c, "unknown setting of %s, expected one of: %s%swhen", name, names,
					 names[0] ? ", " : "");
		}
		if (rc)
			return rc;
	}
	return 0;
}

json_t *proc_cfg_scalar(const struct cfg_node *n)
{
	const char *s = n->value;
	char *end;

	if (n->quoted)
		return json_string(s);
	if (cfg_is_null(n))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (strspn(s, "+-0123456789") == strlen(s)) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (!*end && !errno)
			return json_integer(v);
	}
	if (strspn(s, "+-0123456789.eE") == strlen(s) && strpbrk(s, "0123456789")) {
		double d = strtod(s, &end);

		if (!*end)
			return json_real(d);
	}
	return json_string(s);
}

json_t *proc_cfg_json(const struct cfg_node *n)
{
	json_t *v;

	if (n->kind == CFG_N_SCALAR)
		return proc_cfg_scalar(n);
	v = n->kind == CFG_N_MAP ? json_object() : json_array();
	for (const struct cfg_node *c = n->child; v && c; c = c->next) {
		json_t *e = proc_cfg_json(c);
		int rc = n->kind == CFG_N_MAP ? json_object_set_new(v, c->key, e) : json_array_append_new(v, e);

		if (!e || rc) {
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

/* ---- parsing ---- */

static int chain_add(struct proc_chain *c, const struct proc *p)
{
	struct proc *v = realloc(c->v, (c->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	c->v[c->n++] = *p;
	return 0;
}

static const struct proc_ops *find_ops(const char *name)
{
	for (size_t i = 0; i < NREGISTRY; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

static bool is_inert(const char *name)
{
	for (size_t i = 0; i < sizeof(inert) / sizeof(inert[0]); i++)
		if (!strcmp(inert[i], name))
			return true;
	return false;
}

static int unknown_processor(const struct cfg_node *k, struct cfg_err *err)
{
	char names[512] = "";
	size_t len = 0;

	for (size_t i = 0; i < NREGISTRY && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", registry[i]->name);
	return cfg_error(err, k, "unknown processor \"%s\", expected one of: %s (or if/then/else)", k->key, names);
}

static int parse_chain(const struct cfg_node *n, struct proc_chain *out, struct cfg_err *err);

/* `- if: COND` with `then:` and optional `else:` lists. */
static int parse_if(const struct cfg_node *item, struct proc *p, struct cfg_err *err)
{
	const struct cfg_node *then = NULL, *otherwise = NULL;

	for (const struct cfg_node *k = item->child; k; k = k->next) {
		if (!strcmp(k->key, "then"))
			then = k;
		else if (!strcmp(k->key, "else"))
			otherwise = k;
		else if (strcmp(k->key, "if"))
			return cfg_error(err, k, "unknown setting of if, expected one of: if, then, else");
	}
	if (!then)
		return cfg_error(err, item, "if without then");
	if (!(p->when = cond_parse(cfg_get(item, "if"), err)))
		return -EINVAL;
	if (!(p->then = calloc(1, sizeof(*p->then))) ||
	    (otherwise && !(p->otherwise = calloc(1, sizeof(*p->otherwise)))))
		return cfg_error(err, item, "out of memory");
	if (parse_chain(then, p->then, err) || (otherwise && parse_chain(otherwise, p->otherwise, err)))
		return -EINVAL;
	return 0;
}

static int parse_named(const struct cfg_node *k, struct proc *p, struct cfg_err *err)
{
	const struct cfg_node *when = k->kind == CFG_N_MAP ? cfg_get(k, "when") : NULL;

	if (!(p->ops = find_ops(k->key)))
		return unknown_processor(k, err);
	if (k->kind == CFG_N_SEQ || (k->kind == CFG_N_SCALAR && !cfg_is_null(k)))
		return cfg_error(err, k, "expected the settings of %s as a map (or ~ for none)", k->key);
	if (when && !(p->when = cond_parse(when, err)))
		return -EINVAL;
	if (p->ops->parse(k, &p->state, err)) {
		p->ops = NULL; /* nothing to free but the condition */
		return -EINVAL;
	}
	return 0;
}

static int parse_item(const struct cfg_node *item, struct proc_chain *out, struct cfg_err *err)
{
	struct proc p = { 0 };
	int rc;

	if (item->kind != CFG_N_MAP || !item->child)
		return cfg_error(err, item, "expected a processor (a map with its name as the key)");
	if (cfg_get(item, "if")) {
		rc = parse_if(item, &p, err);
	} else if (item->child->next) {
		return cfg_error(err, item->child->next, "one processor per list item, got \"%s\" and \"%s\"",
				 item->child->key, item->child->next->key);
	} else if (is_inert(item->child->key)) {
		log_warn("%s:%d: %s: processor %s accepted but does nothing in xdpbeat (no cloud, Docker or Kubernetes "
			 "metadata source)",
			 item->child->file, item->child->line, item->child->path, item->child->key);
		return 0;
	} else {
		rc = parse_named(item->child, &p, err);
	}
	if (rc || chain_add(out, &p)) {
		proc_clear(&p);
		return rc ? rc : cfg_error(err, item, "out of memory");
	}
	return 0;
}

static int parse_chain(const struct cfg_node *n, struct proc_chain *out, struct cfg_err *err)
{
	if (n->kind != CFG_N_SEQ)
		return cfg_error(err, n, "expected a list of processors");
	for (const struct cfg_node *item = n->child; item; item = item->next)
		if (parse_item(item, out, err))
			return -EINVAL;
	return 0;
}

int proc_chain_parse(const struct cfg_node *n, struct proc_chain **out, struct cfg_err *err)
{
	struct proc_chain *c;

	*out = NULL;
	if (!n || cfg_is_null(n))
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return cfg_error(err, n, "out of memory");
	if (parse_chain(n, c, err)) {
		proc_chain_free(c);
		return -EINVAL;
	}
	if (!c->n) {
		proc_chain_free(c);
		return 0;
	}
	*out = c;
	return 0;
}

int proc_chain_prepend(struct proc_chain **dst, struct proc_chain *front)
{
	struct proc *v;
	size_t n;

	if (!front)
		return 0;
	if (!*dst) {
		*dst = front;
		return 0;
	}
	n = front->n + (*dst)->n;
	if (!(v = calloc(n, sizeof(*v))))
		return -ENOMEM;
	memcpy(v, front->v, front->n * sizeof(*v));
	memcpy(v + front->n, (*dst)->v, (*dst)->n * sizeof(*v));
	free((*dst)->v);
	(*dst)->v = v;
	(*dst)->n = n;
	free(front->v); /* the processors moved to *dst */
	free(front);
	return 0;
}

/* ---- running ---- */

enum proc_verdict proc_chain_run(const struct proc_chain *c, json_t *ev, struct stats *st)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct proc *p = &c->v[i];
		int rc;

		if (!p->ops) {
			const struct proc_chain *branch = cond_eval(p->when, ev) ? p->then : p->otherwise;

			if (proc_chain_run(branch, ev, st) == PROC_DROP)
				return PROC_DROP;
			continue;
		}
		if (p->when && !cond_eval(p->when, ev))
			continue;
		rc = p->ops->run(p->state, ev);
		if (rc == PROC_DROP) {
			if (st)
				stats_add(st, STAT_PROC_DROPPED, 1);
			return PROC_DROP;
		}
		if (rc < 0 && st)
			stats_add(st, STAT_PROC_ERRORS, 1);
	}
	return PROC_KEEP;
}

/*
 * The text fast path. Processors that only add a new top-level member
 * (add_host_metadata, add_fields, add_tags, add_labels) can write it after
 * the event's last member, without a tree. A condition can be decided on
 * the text when none of the fields it reads can be there: their top-level
 * keys appear neither in the event nor among the members planned before
 * it; it is then evaluated on an empty event. So Packetbeat's default
 * (if.contains.tags: forwarded ... else add_host_metadata) needs no tree
 * for events without tags. Anything else takes the tree path.
 *
 * "In the event" is asked of what a protocol's events can hold at all
 * (proc_plan_new, once per protocol and config): when the plan holds for
 * every event, an event costs only the appends. Otherwise each event's
 * text is searched.
 */
#define TEXT_PLAN_MAX 32

struct text_plan {
	const struct json_buf *b; /* the event, or NULL: ask may_have */
	proc_key_fn may_have;
	void *ctx;
	const struct proc *v[TEXT_PLAN_MAX];
	size_t n;
};

struct proc_plan {
	bool fixed; /* v holds for every event: append it, look at nothing */
	struct text_plan p;
};

/* `"key":` (the first n bytes of key) appears in the text: maybe a member; a string holding it only costs the tree path. */
static bool key_in_text(const struct json_buf *b, const char *key, size_t n)
{
	char pat[128];

	if (n + 3 > sizeof(pat))
		return true;
	pat[0] = '"';
	memcpy(pat + 1, key, n);
	pat[n + 1] = '"';
	pat[n + 2] = ':';
	return mem_contains(b->p, b->len, pat, n + 3);
}

static bool key_in_event(const struct text_plan *p, const char *key, size_t n)
{
	return p->b ? key_in_text(p->b, key, n) : p->may_have(p->ctx, key, n);
}

static bool key_planned(const struct text_plan *p, const char *key, size_t n)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *k = p->v[i]->ops->text_key(p->v[i]->state);

		if (strlen(k) == n && !memcmp(k, key, n))
			return true;
	}
	return false;
}

static bool field_may_exist(void *ctx, const char *path)
{
	const struct text_plan *p = ctx;
	size_t seg = strcspn(path, "."), all = strlen(path);

	/* a path without dots is its own first segment: one search */
	return key_in_event(p, path, seg) || (seg != all && key_in_event(p, path, all)) || key_planned(p, path, seg) ||
	       key_planned(p, path, all);
}

/* 1 / 0: the condition holds or not on this text; -1: the tree is needed to tell. */
static int decide(const struct cond *c, struct text_plan *p)
{
	if (!cond_fields_absent(c, field_may_exist, p))
		return -1;
	return cond_eval(c, NULL);
}

static bool plan_chain(const struct proc_chain *c, struct text_plan *p)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct proc *pr = &c->v[i];
		const char *k;
		int d;

		if (!pr->ops) {
			if ((d = decide(pr->when, p)) < 0 || !plan_chain(d ? pr->then : pr->otherwise, p))
				return false;
			continue;
		}
		if (pr->when && (d = decide(pr->when, p)) <= 0) {
			if (d < 0)
				return false;
			continue;
		}
		if (!pr->ops->append || !(k = pr->ops->text_key(pr->state)) || key_in_event(p, k, strlen(k)) ||
		    key_planned(p, k, strlen(k)) || p->n == TEXT_PLAN_MAX)
			return false;
		p->v[p->n++] = pr;
	}
	return true;
}

struct proc_plan *proc_plan_new(const struct proc_chain *proto, const struct proc_chain *global, proc_key_fn may_have,
				void *ctx)
{
	struct proc_plan *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->p.may_have = may_have;
	pl->p.ctx = ctx;
	pl->fixed = plan_chain(proto, &pl->p) && plan_chain(global, &pl->p);
	return pl;
}

void proc_plan_free(struct proc_plan *pl)
{
	free(pl);
}

/* The planned members after the event's last one. 1, or -ENOMEM; *meta: one of them is @metadata. */
static int append_planned(const struct text_plan *p, struct json_buf *b, bool *meta)
{
	int rc = 0;

	b->len--; /* the closing brace */
	for (size_t i = 0; i < p->n; i++) {
		rc |= json_buf_put(b, ",", 1);
		rc |= p->v[i]->ops->append(p->v[i]->state, b);
		*meta |= !strcmp(p->v[i]->ops->text_key(p->v[i]->state), "@metadata");
	}
	rc |= json_buf_put(b, "}", 1);
	return rc || b->err ? -ENOMEM : 1;
}

/* 1 when done on the text, 0 when the tree path must do it, -ENOMEM. */
static int apply_as_text(const struct proc_plan *plan, const struct proc_chain *proto, const struct proc_chain *global,
			 struct json_buf *b, bool *meta)
{
	struct text_plan p = { .b = b };

	if (b->len < 2 || b->p[b->len - 1] != '}' || b->p[b->len - 2] == '{')
		return 0;
	if (plan && plan->fixed)
		return append_planned(&plan->p, b, meta);
	if (!plan_chain(proto, &p) || !plan_chain(global, &p))
		return 0;
	return append_planned(&p, b, meta);
}

int proc_apply_text(const struct proc_plan *plan, const struct proc_chain *proto, const struct proc_chain *global,
		    struct json_buf *b, struct stats *st, bool *meta)
{
	json_t *ev;
	enum proc_verdict v;
	int rc;

	*meta = false;
	rc = apply_as_text(plan, proto, global, b, meta);
	if (rc) {
		if (rc < 0 && st)
			stats_add(st, STAT_PROC_ERRORS, 1);
		return rc < 0 ? rc : PROC_KEEP;
	}
	ev = proc_json_parse(b->p, b->len);
	if (!json_is_object(ev)) {
		json_decref(ev);
		*meta = true; /* published as it is: who knows */
		if (st)
			stats_add(st, STAT_PROC_ERRORS, 1);
		return -EINVAL;
	}
	v = proc_chain_run(proto, ev, st);
	if (v == PROC_KEEP)
		v = proc_chain_run(global, ev, st);
	if (v == PROC_DROP) {
		json_decref(ev);
		return PROC_DROP;
	}
	*meta = json_object_get(ev, "@metadata") != NULL;
	b->len = 0;
	b->err = 0;
	rc = json_write(b, ev);
	json_decref(ev);
	if (rc || b->err) {
		if (st)
			stats_add(st, STAT_PROC_ERRORS, 1);
		return -ENOMEM;
	}
	return PROC_KEEP;
}
