/*
 * add_fields (fields under target, default "fields"; "" = the event root),
 * add_labels (labels flattened to dotted keys under "labels") and add_tags
 * (appended to target, default "tags", without de-duplication, as Beats).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"
#include "proc.h"

struct add_fields {
	char *target;
	json_t *fields;
	char *member; /* `"target":{fields}` for the text fast path, or NULL */
};

static int set_fields(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct add_fields *a = base;

	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of fields");
	json_decref(a->fields);
	a->fields = proc_cfg_json(n);
	return a->fields ? 0 : cfg_error(err, n, "out of memory");
}

/* clang-format off */
static const struct cfg_field add_fields_fields[] = {
	{ .key = "target", .type = CFG_STRING, .offset = offsetof(struct add_fields, target) },
	{ .key = "fields", .type = CFG_CUSTOM, .custom = set_fields },
	{ 0 },
};
/* clang-format on */

static void add_fields_free(void *state)
{
	struct add_fields *a = state;

	if (!a)
		return;
	free(a->target);
	json_decref(a->fields);
	free(a->member);
	free(a);
}

/* `"key":value` as text, when key is one top-level name. NULL otherwise or on ENOMEM. */
static char *member_text(const char *key, const json_t *value)
{
	struct json_buf b = { 0 };

	if (!key[0] || strchr(key, '.'))
		return NULL;
	json_buf_str(&b, key, strlen(key));
	json_buf_put(&b, ":", 1);
	json_write(&b, value);
	if (b.err) {
		json_buf_free(&b);
		return NULL;
	}
	return b.p;
}

static int fields_parse(const char *name, const struct cfg_node *args, void **state, struct cfg_err *err,
			const char *default_target)
{
	struct add_fields *a = calloc(1, sizeof(*a));

	if (!a)
		return cfg_error(err, args, "out of memory");
	if (proc_args(name, add_fields_fields, a, args, err))
		goto fail;
	if (!a->fields) {
		cfg_error(err, args, "%s needs fields", name);
		goto fail;
	}
	if (!a->target && !(a->target = strdup(default_target))) {
		cfg_error(err, args, "out of memory");
		goto fail;
	}
	a->member = member_text(a->target, a->fields); /* NULL: no text fast path */
	*state = a;
	return 0;
fail:
	add_fields_free(a);
	return -EINVAL;
}

static int add_fields_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	return fields_parse("add_fields", args, state, err, "fields");
}

/* Merge src (not stolen) into target of ev ("" = root). */
static int merge_at(json_t *ev, const char *target, json_t *src)
{
	json_t *dst = target[0] ? field_get(ev, target) : ev;

	if (!json_is_object(dst)) {
		if (!(dst = json_object()) || field_put(ev, target, dst))
			return -ENOMEM;
	}
	return field_merge(dst, src);
}

static const char *add_fields_key(void *state)
{
	struct add_fields *a = state;

	return a->member ? a->target : NULL;
}

static int append_member(struct json_buf *b, const char *member)
{
	return json_buf_puts(b, member);
}

static int add_fields_append(void *state, struct json_buf *b)
{
	struct add_fields *a = state;

	return append_member(b, a->member);
}

static int add_fields_run(void *state, json_t *ev)
{
	struct add_fields *a = state;

	return merge_at(ev, a->target, a->fields) ? -ENOMEM : PROC_KEEP;
}

const struct proc_ops proc_add_fields = {
	.name = "add_fields",
	.parse = add_fields_parse,
	.run = add_fields_run,
	.free = add_fields_free,
	.text_key = add_fields_key,
	.append = add_fields_append,
};

/* ---- add_labels: {a: {b: 1}} becomes labels."a.b": 1 ---- */

static int flatten(json_t *out, json_t *in, char *prefix, size_t plen)
{
	const char *k;
	json_t *v;

	json_object_foreach(in, k, v) {
		size_t klen = strlen(k);
		int rc;

		if (plen + klen + 2 > 512)
			return -EINVAL;
		if (plen)
			prefix[plen] = '.';
		memcpy(prefix + plen + (plen ? 1 : 0), k, klen + 1);
		if (json_is_object(v))
			rc = flatten(out, v, prefix, plen + (plen ? 1 : 0) + klen);
		else
			rc = json_object_set(out, prefix, v);
		prefix[plen] = '\0';
		if (rc)
			return -EINVAL;
	}
	return 0;
}

static int set_labels(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct add_fields *a = base;
	char prefix[512] = "";
	json_t *nested;

	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of labels");
	nested = proc_cfg_json(n);
	json_decref(a->fields);
	a->fields = json_object();
	if (!nested || !a->fields || flatten(a->fields, nested, prefix, 0)) {
		json_decref(nested);
		return cfg_error(err, n, "labels too deep or out of memory");
	}
	json_decref(nested);
	return 0;
}

/* clang-format off */
static const struct cfg_field add_labels_fields[] = {
	{ .key = "labels", .type = CFG_CUSTOM, .custom = set_labels },
	{ 0 },
};
/* clang-format on */

static int add_labels_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct add_fields *a = calloc(1, sizeof(*a));

	if (!a)
		return cfg_error(err, args, "out of memory");
	if (proc_args("add_labels", add_labels_fields, a, args, err))
		goto fail;
	if (!a->fields) {
		cfg_error(err, args, "add_labels needs labels");
		goto fail;
	}
	if (!(a->target = strdup("labels"))) {
		cfg_error(err, args, "out of memory");
		goto fail;
	}
	a->member = member_text(a->target, a->fields);
	*state = a;
	return 0;
fail:
	add_fields_free(a);
	return -EINVAL;
}

const struct proc_ops proc_add_labels = {
	.name = "add_labels",
	.parse = add_labels_parse,
	.run = add_fields_run,
	.free = add_fields_free,
	.text_key = add_fields_key,
	.append = add_fields_append,
};

/* ---- add_tags ---- */

struct add_tags {
	struct strlist tags;
	char *target;
	char *member; /* `"target":[tags]` for the text fast path, or NULL */
};

/* clang-format off */
static const struct cfg_field add_tags_fields[] = {
	{ .key = "tags", .type = CFG_STRLIST, .offset = offsetof(struct add_tags, tags) },
	{ .key = "target", .type = CFG_STRING, .offset = offsetof(struct add_tags, target) },
	{ 0 },
};
/* clang-format on */

static void add_tags_free(void *state)
{
	struct add_tags *t = state;

	if (!t)
		return;
	strlist_free(&t->tags);
	free(t->target);
	free(t->member);
	free(t);
}

static char *tags_member(const struct add_tags *t)
{
	json_t *arr = json_array();
	char *m;

	for (size_t i = 0; arr && i < t->tags.n; i++)
		json_array_append_new(arr, json_string(t->tags.v[i]));
	m = arr ? member_text(t->target, arr) : NULL;
	json_decref(arr);
	return m;
}

static int add_tags_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct add_tags *t = calloc(1, sizeof(*t));

	if (!t)
		return cfg_error(err, args, "out of memory");
	if (proc_args("add_tags", add_tags_fields, t, args, err))
		goto fail;
	if (!t->tags.n) {
		cfg_error(err, args, "add_tags needs tags");
		goto fail;
	}
	if (!t->target || !t->target[0]) {
		free(t->target);
		if (!(t->target = strdup("tags"))) {
			cfg_error(err, args, "out of memory");
			goto fail;
		}
	}
	t->member = tags_member(t);
	*state = t;
	return 0;
fail:
	add_tags_free(t);
	return -EINVAL;
}

static int add_tags_run(void *state, json_t *ev)
{
	struct add_tags *t = state;
	json_t *arr = field_get(ev, t->target);

	if (arr && !json_is_array(arr))
		return -EINVAL; /* Beats: expected string array */
	if (!arr && (!(arr = json_array()) || field_put(ev, t->target, arr)))
		return -ENOMEM;
	for (size_t i = 0; i < t->tags.n; i++)
		if (json_array_append_new(arr, json_string(t->tags.v[i])))
			return -ENOMEM;
	return PROC_KEEP;
}

static const char *add_tags_key(void *state)
{
	struct add_tags *t = state;

	return t->member ? t->target : NULL;
}

static int add_tags_append(void *state, struct json_buf *b)
{
	struct add_tags *t = state;

	return append_member(b, t->member);
}

const struct proc_ops proc_add_tags = {
	.name = "add_tags",
	.parse = add_tags_parse,
	.run = add_tags_run,
	.free = add_tags_free,
	.text_key = add_tags_key,
	.append = add_tags_append,
};
