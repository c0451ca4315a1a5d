/*
 * add_network_direction: from the addresses in the source and destination
 * fields and internal_networks, target (network.direction) becomes
 * internal, external, inbound or outbound, as Beats. An event without both
 * addresses is left alone.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "event/direction.h"
#include "proc.h"

struct netdir {
	char *source, *destination, *target;
	struct net_list internal;
	bool have_internal;
};

static int set_internal(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct netdir *d = base;

	net_list_free(&d->internal);
	if (net_list_parse(n, &d->internal, err))
		return -EINVAL;
	d->have_internal = true;
	return 0;
}

/* clang-format off */
static const struct cfg_field netdir_fields[] = {
	{ .key = "source", .type = CFG_STRING, .offset = offsetof(struct netdir, source) },
	{ .key = "destination", .type = CFG_STRING, .offset = offsetof(struct netdir, destination) },
	{ .key = "target", .type = CFG_STRING, .offset = offsetof(struct netdir, target) },
	{ .key = "internal_networks", .type = CFG_CUSTOM, .custom = set_internal },
	{ 0 },
};
/* clang-format on */

static void netdir_free(void *state)
{
	struct netdir *d = state;

	if (!d)
		return;
	free(d->source);
	free(d->destination);
	free(d->target);
	net_list_free(&d->internal);
	free(d);
}

static int netdir_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct netdir *d = calloc(1, sizeof(*d));

	if (!d)
		return cfg_error(err, args, "out of memory");
	if (proc_args("add_network_direction", netdir_fields, d, args, err))
		goto fail;
	if (!d->source || !d->destination || !d->have_internal) {
		cfg_error(err, args, "add_network_direction needs source, destination and internal_networks");
		goto fail;
	}
	if (!d->target && !(d->target = strdup("network.direction"))) {
		cfg_error(err, args, "out of memory");
		goto fail;
	}
	*state = d;
	return 0;
fail:
	netdir_free(d);
	return -EINVAL;
}

static bool addr_of(json_t *ev, const char *field, struct net_addr *a)
{
	json_t *v = field_get(ev, field);

	return json_is_string(v) && net_addr_parse(json_string_value(v), a);
}

static int netdir_run(void *state, json_t *ev)
{
	struct netdir *d = state;
	struct net_addr s, t;
	const char *dir;

	if (!addr_of(ev, d->source, &s) || !addr_of(ev, d->destination, &t))
		return PROC_KEEP;
	dir = direction_perimeter(net_list_has(&d->internal, &s), net_list_has(&d->internal, &t));
	return field_put(ev, d->target, json_string(dir)) ? -ENOMEM : PROC_KEEP;
}

const struct proc_ops proc_add_network_direction = {
	.name = "add_network_direction",
	.parse = netdir_parse,
	.run = netdir_run,
	.free = netdir_free,
};
