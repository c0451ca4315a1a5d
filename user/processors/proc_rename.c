/*
 * rename: fields [{from, to}], ignore_missing (false), fail_on_error (true).
 * A missing `from` or an existing `to` is an error; with fail_on_error the
 * event goes back to how it was before the processor and error.message
 * tells why, as in Beats; without it the other renames still happen.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

struct rename_pair {
	char *from, *to;
};

struct rename {
	struct rename_pair *v;
	size_t n;
	bool ignore_missing, fail_on_error;
	bool independent; /* no path of a pair is, holds or is held by another path: checks need no undo */
};

static int set_pairs(void *base, const struct cfg_node *n, struct cfg_err *err);

/* clang-format off */
static const struct cfg_field rename_fields[] = {
	{ .key = "fields", .type = CFG_CUSTOM, .custom = set_pairs },
	{ .key = "ignore_missing", .type = CFG_BOOL, .offset = offsetof(struct rename, ignore_missing) },
	{ .key = "fail_on_error", .type = CFG_BOOL, .offset = offsetof(struct rename, fail_on_error) },
	{ 0 },
};
static const struct cfg_field pair_fields[] = {
	{ .key = "from", .type = CFG_STRING, .offset = offsetof(struct rename_pair, from) },
	{ .key = "to", .type = CFG_STRING, .offset = offsetof(struct rename_pair, to) },
	{ 0 },
};
/* clang-format on */

static int set_pairs(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct rename *r = base;
	size_t cnt = 0;

	if (n->kind != CFG_N_SEQ || !n->child)
		return cfg_error(err, n, "expected a list of {from, to}");
	for (const struct cfg_node *c = n->child; c; c = c->next)
		cnt++;
	if (!(r->v = calloc(cnt, sizeof(*r->v))))
		return cfg_error(err, n, "out of memory");
	for (const struct cfg_node *c = n->child; c; c = c->next) {
		struct rename_pair *p = &r->v[r->n++];

		if (c->kind != CFG_N_MAP)
			return cfg_error(err, c, "expected {from: FIELD, to: FIELD}");
		if (cfg_apply(pair_fields, p, c, err))
			return -EINVAL;
		if (!p->from || !p->to || !p->from[0] || !p->to[0])
			return cfg_error(err, c, "expected both from and to");
	}
	return 0;
}

static void rename_free(void *state)
{
	struct rename *r = state;

	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].from);
		free(r->v[i].to);
	}
	free(r->v);
	free(r);
}

/* a is b, or one holds the other ("a" and "a.b"). */
static bool paths_overlap(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), k = n < m ? n : m;

	return !strncmp(a, b, k) && (n == m || (n < m ? b[n] == '.' : a[m] == '.'));
}

static bool pairs_independent(const struct rename *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (paths_overlap(r->v[i].from, r->v[i].to))
			return false;
		for (size_t j = i + 1; j < r->n; j++)
			if (paths_overlap(r->v[i].from, r->v[j].from) || paths_overlap(r->v[i].from, r->v[j].to) ||
			    paths_overlap(r->v[i].to, r->v[j].from) || paths_overlap(r->v[i].to, r->v[j].to))
				return false;
	}
	return true;
}

static int rename_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct rename *r = calloc(1, sizeof(*r));

	if (!r)
		return cfg_error(err, args, "out of memory");
	r->fail_on_error = true;
	if (proc_args("rename", rename_fields, r, args, err))
		goto fail;
	if (!r->n) {
		cfg_error(err, args, "rename needs fields");
		goto fail;
	}
	r->independent = pairs_independent(r);
	*state = r;
	return 0;
fail:
	rename_free(r);
	return -EINVAL;
}

/* error.message gets msg: set, or added to what is there (a string becomes a list). */
int proc_error_message(json_t *ev, const char *msg)
{
	json_t *old = field_get(ev, "error.message"), *list;

	if (json_is_array(old))
		return json_array_append_new(old, json_string(msg)) ? -ENOMEM : 0;
	if (!json_is_string(old))
		return field_put(ev, "error.message", json_string(msg));
	list = json_array();
	if (!list || json_array_append(list, old) || json_array_append_new(list, json_string(msg))) {
		json_decref(list);
		return -ENOMEM;
	}
	return field_put(ev, "error.message", list);
}

/* Would the rename fail? 0, or -errno with why in msg; *v: the value to move (NULL: nothing to do). */
static int rename_check(json_t *ev, const struct rename_pair *p, bool ignore_missing, json_t **out, char *msg,
			size_t len)
{
	json_t *v = field_get(ev, p->from);

	*out = v;
	if (!v) {
		if (ignore_missing)
			return 0;
		snprintf(msg, len, "could not fetch value for key: %s, Error: key not found", p->from);
		return -ENOENT;
	}
	if (field_get(ev, p->to)) {
		snprintf(msg, len, "could not put value: %s: target field %s already exists", p->from, p->to);
		return -EEXIST;
	}
	return 0;
}

static int move(json_t *ev, const struct rename_pair *p, json_t *v)
{
	if (!v)
		return 0;
	json_incref(v);
	field_delete(ev, p->from);
	return field_put(ev, p->to, v);
}

/* One rename; 0, or -errno with why in msg. */
static int rename_one(json_t *ev, const struct rename_pair *p, bool ignore_missing, char *msg, size_t len)
{
	json_t *v;
	int rc = rename_check(ev, p, ignore_missing, &v, msg, len);

	return rc ? rc : move(ev, p, v);
}

/*
 * Independent pairs with fail_on_error: every check before any move, so a
 * failure leaves the event untouched without a copy of it.
 */
static int rename_checked(struct rename *r, json_t *ev)
{
	json_t *v;
	char msg[512];
	int rc;

	for (size_t i = 0; i < r->n; i++) {
		if ((rc = rename_check(ev, &r->v[i], r->ignore_missing, &v, msg, sizeof(msg)))) {
			proc_error_message(ev, msg);
			return rc;
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		rename_check(ev, &r->v[i], r->ignore_missing, &v, msg, sizeof(msg));
		if (move(ev, &r->v[i], v))
			return -ENOMEM;
	}
	return PROC_KEEP;
}

static int rename_run(void *state, json_t *ev)
{
	struct rename *r = state;
	json_t *backup;
	char msg[512];
	int rc = 0;

	if (r->fail_on_error && r->independent)
		return rename_checked(r, ev);
	backup = r->fail_on_error ? json_deep_copy(ev) : NULL;
	if (r->fail_on_error && !backup)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		int one = rename_one(ev, &r->v[i], r->ignore_missing, msg, sizeof(msg));

		if (!one)
			continue;
		rc = one;
		if (r->fail_on_error) {
			json_object_clear(ev);
			json_object_update(ev, backup);
			proc_error_message(ev, msg);
			break;
		}
	}
	json_decref(backup);
	return rc ? rc : PROC_KEEP;
}

const struct proc_ops proc_rename = {
	.name = "rename",
	.parse = rename_parse,
	.run = rename_run,
	.free = rename_free,
};
