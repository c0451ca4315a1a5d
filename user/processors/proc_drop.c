/*
 * drop_fields (fields, ignore_missing), include_fields (fields) and
 * drop_event. As in Beats, @timestamp and type are never dropped and always
 * included.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

struct field_list {
	struct strlist fields;
	bool ignore_missing;
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

static int drop_fields_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	return field_list_parse("drop_fields", drop_fields_fields, args, state, err);
}

/* Every listed field is dropped; a missing one is an error (after the others) unless ignore_missing. */
static int drop_fields_run(void *state, json_t *ev)
{
	struct field_list *l = state;
	int rc = PROC_KEEP;

	for (size_t i = 0; i < l->fields.n; i++) {
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
