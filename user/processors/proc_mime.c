/*
 * detect_mime_type: the media type of the string in `field` (mime_sniff.c)
 * into `target`. A missing or non-string field leaves the event alone; an
 * existing target is an error, as in Beats.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "proc.h"

struct mime {
	char *field, *target;
};

/* clang-format off */
static const struct cfg_field mime_fields[] = {
	{ .key = "field", .type = CFG_STRING, .offset = offsetof(struct mime, field) },
	{ .key = "target", .type = CFG_STRING, .offset = offsetof(struct mime, target) },
	{ 0 },
};
/* clang-format on */

static void mime_free(void *state)
{
	struct mime *m = state;

	if (!m)
		return;
	free(m->field);
	free(m->target);
	free(m);
}

static int mime_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct mime *m = calloc(1, sizeof(*m));

	if (!m)
		return cfg_error(err, args, "out of memory");
	if (proc_args("detect_mime_type", mime_fields, m, args, err))
		goto fail;
	if (!m->field || !m->target || !m->field[0] || !m->target[0]) {
		cfg_error(err, args, "detect_mime_type needs field and target");
		goto fail;
	}
	*state = m;
	return 0;
fail:
	mime_free(m);
	return -EINVAL;
}

static int mime_run(void *state, json_t *ev)
{
	struct mime *m = state;
	json_t *v = field_get(ev, m->field);

	if (!json_is_string(v))
		return PROC_KEEP;
	if (field_get(ev, m->target))
		return -EEXIST;
	return field_put(ev, m->target, json_string(mime_sniff(json_string_value(v), json_string_length(v))))
		       ? -ENOMEM
		       : PROC_KEEP;
}

const struct proc_ops proc_detect_mime_type = {
	.name = "detect_mime_type",
	.parse = mime_parse,
	.run = mime_run,
	.free = mime_free,
};
