/*
 * Dotted field paths in an event, as Beats' mapstr reads them: "http.request.method"
 * walks nested objects. A key that itself holds dots ("labels" flattened by
 * add_labels) is found too: at each level the whole rest of the path is tried
 * as one key before it is split.
 */
#include <errno.h>
#include <string.h>

#include "proc.h"

/* The object holding path's last segment and where that segment starts; NULL if a parent is missing. */
static json_t *parent_of(json_t *ev, const char *path, const char **last)
{
	const char *seg = path, *dot;

	while ((dot = strchr(seg, '.'))) {
		json_t *child;

		if (json_object_get(ev, seg))
			break; /* the rest is one key */
		child = json_object_getn(ev, seg, (size_t)(dot - seg));
		if (!json_is_object(child))
			return NULL;
		ev = child;
		seg = dot + 1;
	}
	*last = seg;
	return ev;
}

json_t *field_get(json_t *ev, const char *path)
{
	const char *last;
	json_t *p = json_is_object(ev) ? parent_of(ev, path, &last) : NULL;

	return p ? json_object_get(p, last) : NULL;
}

int field_put(json_t *ev, const char *path, json_t *value)
{
	const char *seg = path, *dot;

	if (!value)
		return -ENOMEM;
	while ((dot = strchr(seg, '.'))) {
		size_t n = (size_t)(dot - seg);
		json_t *child;

		if (json_object_get(ev, seg))
			break;
		child = json_object_getn(ev, seg, n);
		if (!json_is_object(child)) {
			child = json_object();
			if (!child || json_object_setn_new(ev, seg, n, child)) {
				json_decref(value);
				return -ENOMEM;
			}
		}
		ev = child;
		seg = dot + 1;
	}
	return json_object_set_new(ev, seg, value) ? -ENOMEM : 0;
}

int field_delete(json_t *ev, const char *path)
{
	const char *last;
	json_t *p = json_is_object(ev) ? parent_of(ev, path, &last) : NULL;

	if (!p || json_object_del(p, last))
		return -ENOENT;
	return 0;
}

int field_merge(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v) {
		json_t *d = json_object_get(dst, k);

		if (json_is_object(d) && json_is_object(v)) {
			if (field_merge(d, v))
				return -ENOMEM;
		} else if (json_object_set_new(dst, k, json_deep_copy(v))) {
			return -ENOMEM;
		}
	}
	return 0;
}
