/*
 * drop_fields (fields, ignore_missing; "/pattern/" entries drop every
 * field whose dotted name matches), include_fields (fields) and drop_event.
 * As in Beats, @timestamp and type are never dropped and always included.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

struct field_list {
	struct strlist fields;
	bool ignore_missing;
	regex_t *re; /* drop_fields: one per "/pattern/" entry of fields */
	bool *is_re;
	size_t nre;
};

/* clang-format off */
static const struct cfg_field drop_fields_fields[] = {
	{ .key = "fields", .type = CFG_STRLIST, .offset = offsetof(struct field_list, fields) },
	{ .key = "ignore_missing", .type = CFG_BOOL, .offset = offsetof(struct field_list, ignore_missing) },
	{ 0 },
};
static const struct cfg_field include_fields_fields[] = {
	{ .key = "fields", .type = CFG_STRLIST, .offset = offsetof(struct field_list, fields) },
	{ 0 },
};
/* clang-format on */

static bool kept_always(const char *path)
{
	return !strcmp(path, "@timestamp") || !strcmp(path, "type");
}

static void field_list_free(void *state)
{
	struct field_list *l = state;

	if (!l)
		return;
	for (size_t i = 0; i < l->nre; i++)
		regfree(&l->re[i]);
	free(l->re);
	free(l->is_re);
	strlist_free(&l->fields);
	free(l);
}

static int field_list_parse(const char *name, const struct cfg_field *table, const struct cfg_node *args, void **state,
			    struct cfg_err *err)
{
	struct field_list *l = calloc(1, sizeof(*l));

	if (!l)
		return cfg_error(err, args, "out of memory");
	if (proc_args(name, table, l, args, err))
		goto fail;
	if (!l->fields.n) {
		cfg_error(err, args, "%s needs fields", name);
		goto fail;
	}
	*state = l;
	return 0;
fail:
	field_list_free(l);
	return -EINVAL;
}

static bool is_pattern(const char *f)
{
	size_t n = strlen(f);

	return n >= 2 && f[0] == '/' && f[n - 1] == '/';
}

/* "/pattern/" entries: drop every field whose dotted name matches. */
static int compile_patterns(struct field_list *l, const struct cfg_node *args, struct cfg_err *err)
{
	const struct cfg_node *n = cfg_get(args, "fields");

	l->re = calloc(l->fields.n, sizeof(*l->re));
	l->is_re = calloc(l->fields.n, sizeof(*l->is_re));
	if (!l->re || !l->is_re)
		return cfg_error(err, n, "out of memory");
	for (size_t i = 0; i < l->fields.n; i++) {
		char *f = l->fields.v[i], *pat;

		if (!is_pattern(f))
			continue;
		if (!(pat = strndup(f + 1, strlen(f) - 2)))
			return cfg_error(err, n, "out of memory");
		if (proc_regcomp(&l->re[l->nre], pat, n, err)) {
			free(pat);
			return -EINVAL;
		}
		free(pat);
		l->is_re[i] = true;
		l->nre++;
	}
	return 0;
}

static int drop_fields_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct field_list *l;

	if (field_list_parse("drop_fields", drop_fields_fields, args, state, err))
		return -EINVAL;
	l = *state;
	if (compile_patterns(l, args, err)) {
		field_list_free(l);
		*state = NULL;
		return -EINVAL;
	}
	return 0;
}

/* Drop the members of obj (dotted names under prefix) that re matches; descend into the others. */
static void drop_matching(json_t *obj, const regex_t *re, char *prefix, size_t plen, bool top)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(obj, tmp, k, v)
	{
		size_t klen = strlen(k);

		if (plen + klen + 2 > 512)
			continue;
		if (plen)
			prefix[plen] = '.';
		memcpy(prefix + plen + (plen ? 1 : 0), k, klen + 1);
		if (regexec(re, prefix, 0, NULL, 0) == 0 && !(top && kept_always(k)))
			json_object_del(obj, k);
		else if (json_is_object(v))
			drop_matching(v, re, prefix, plen + (plen ? 1 : 0) + klen, false);
		prefix[plen] = '\0';
	}
}

/* Every listed field is dropped; a missing one is an error (after the others) unless ignore_missing. */
static int drop_fields_run(void *state, json_t *ev)
{
	struct field_list *l = state;
	int rc = PROC_KEEP;

	char prefix[512];
	size_t r = 0;

	for (size_t i = 0; i < l->fields.n; i++) {
		if (l->is_re && l->is_re[i]) {
			prefix[0] = '\0';
			drop_matching(ev, &l->re[r++], prefix, 0, true);
			continue;
		}
		if (kept_always(l->fields.v[i]))
			continue;
		if (field_delete(ev, l->fields.v[i]) && !l->ignore_missing)
			rc = -ENOENT;
	}
	return rc;
}

const struct proc_ops proc_drop_fields = {
	.name = "drop_fields",
	.parse = drop_fields_parse,
	.run = drop_fields_run,
	.free = field_list_free,
};

static int include_fields_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	return field_list_parse("include_fields", include_fields_fields, args, state, err);
}

static int keep(json_t *dst, json_t *ev, const char *path)
{
	json_t *v = field_get(ev, path);

	return v ? field_put(dst, path, json_incref(v)) : 0;
}

static int include_fields_run(void *state, json_t *ev)
{
	struct field_list *l = state;
	json_t *kept = json_object();
	int rc = kept ? 0 : -ENOMEM;

	rc = rc ?: keep(kept, ev, "@timestamp");
	rc = rc ?: keep(kept, ev, "type");
	for (size_t i = 0; !rc && i < l->fields.n; i++)
		rc = keep(kept, ev, l->fields.v[i]);
	if (!rc && (json_object_clear(ev) || json_object_update(ev, kept)))
		rc = -ENOMEM;
	json_decref(kept);
	return rc ? rc : PROC_KEEP;
}

const struct proc_ops proc_include_fields = {
	.name = "include_fields",
	.parse = include_fields_parse,
	.run = include_fields_run,
	.free = field_list_free,
};

/* clang-format off */
static const struct cfg_field no_fields[] = { { 0 } };
/* clang-format on */

static int drop_event_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	*state = NULL;
	return proc_args("drop_event", no_fields, NULL, args, err);
}

static int drop_event_run(void *state, json_t *ev)
{
	return PROC_DROP;
}

static void drop_event_free(void *state)
{
}

const struct proc_ops proc_drop_event = {
	.name = "drop_event",
	.parse = drop_event_parse,
	.run = drop_event_run,
	.free = drop_event_free,
};
