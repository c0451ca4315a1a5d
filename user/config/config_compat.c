/*
 * Packetbeat drop-in settings: packetbeat.* as xdpbeat.*, the interfaces
 * map/list forms, Packetbeat settings xdpbeat accepts but does not use (one
 * warning each, saying what xdpbeat does instead), and Beats' general
 * settings (name, tags, fields, fields_under_root).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_priv.h"
#include "netlist.h"

/* ---- warnings ---- */

void config_warn(struct config *c, const struct cfg_node *n, const char *fmt, ...)
{
	struct cfg_err msg;
	char text[400];
	va_list ap;
	char **v;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cfg_error(&msg, n, "%s", text);
	if (strlist_has(&c->warnings, msg.msg, false))
		return;
	v = realloc(c->warnings.v, (c->warnings.n + 1) * sizeof(*v));
	if (!v)
		return;
	c->warnings.v = v;
	if ((v[c->warnings.n] = strdup(msg.msg)))
		c->warnings.n++;
}

/* "a, b, c" of the keys of map n that are in names (NULL-terminated). */
static size_t keys_in(const struct cfg_node *n, const char *const *names, char *buf, size_t len)
{
	size_t off = 0, found = 0;

	buf[0] = '\0';
	for (const struct cfg_node *c = n->child; c; c = c->next)
		for (size_t i = 0; names[i]; i++)
			if (!strcmp(c->key, names[i]) && off < len) {
				int w = snprintf(buf + off, len - off, "%s%s", found ? ", " : "", c->key);

				off += w > 0 ? (size_t)w : 0;
				found++;
			}
	return found;
}

/* ---- packetbeat.* = xdpbeat.* ---- */

static struct cfg_node *top_child(struct cfg_node *root, const char *key)
{
	for (struct cfg_node *c = root ? root->child : NULL; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

int config_alias_packetbeat(struct cfg_node *root, struct cfg_err *err)
{
	struct cfg_node *pb = top_child(root, "packetbeat"), *xb = top_child(root, "xdpbeat");
	char *k;

	if (!pb)
		return 0;
	if (xb)
		return cfg_error(err, pb,
				 "packetbeat.* and xdpbeat.* are the same settings, use one of them (xdpbeat is at "
				 "%s:%d)",
				 xb->file ? xb->file : "(config)", xb->line);
	k = strdup("xdpbeat");
	if (!k)
		return cfg_error(err, pb, "out of memory");
	free(pb->key);
	pb->key = k; /* paths keep "packetbeat.": messages name what the file says */
	return 0;
}

char *config_alias_override(const char *assignment)
{
	static const char pb[] = "packetbeat.";
	char *out;

	if (strncmp(assignment, pb, sizeof(pb) - 1))
		return strdup(assignment);
	if (asprintf(&out, "xdpbeat.%s", assignment + sizeof(pb) - 1) < 0)
		return NULL;
	return out;
}

/* ---- protocols Packetbeat has and xdpbeat lacks ---- */

static const char *const missing_protocols[] = { "icmp", "dhcpv4", "amqp", "cassandra", "nfs", "sip", "tls", NULL };

bool config_skip_protocol(const struct cfg_node *item)
{
	const struct cfg_node *t = cfg_get(item, "type");

	for (size_t i = 0; t && t->kind == CFG_N_SCALAR && missing_protocols[i]; i++)
		if (!strcmp(t->value, missing_protocols[i]))
			return true;
	return false;
}

void config_warn_skipped(struct config *c, const struct cfg_node *protocols, const char *names)
{
	if (*names)
		config_warn(c, protocols,
			    "Packetbeat protocols xdpbeat does not implement, their sections are ignored: %s", names);
}

/* ---- sections xdpbeat accepts and does not use ---- */

int config_unused_section(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	config_warn(base, n, "accepted for Packetbeat compatibility, not used by xdpbeat");
	return 0;
}

/* Beats outputs xdpbeat lacks: accepted when disabled (enabled: false), with a warning. */
bool config_other_beats_output(struct config *c, const struct cfg_node *sec)
{
	static const char *const others[] = { "logstash", "kafka", "redis", NULL };
	const struct cfg_node *en = cfg_get(sec, "enabled");
	bool on = true;

	for (size_t i = 0; others[i]; i++)
		if (!strcmp(sec->key, others[i])) {
			if (!en || cfg_to_bool(en, &on, NULL) || on)
				return false;
			config_warn(c, sec, "output.%s is not implemented by xdpbeat; accepted because it is disabled",
				    sec->key);
			return true;
		}
	return false;
}

/* ---- xdpbeat.interfaces ---- */

/* AF_PACKET / pcap capture settings: xdpbeat captures with XDP and TC programs instead. */
static const char *const afpacket_keys[] = { "type",
					     "bpf_filter",
					     "auto_promisc_mode",
					     "fanout_group",
					     "with_vlans",
					     "ignore_outgoing",
					     "poll_default_route",
					     "enable_vlan_tagging",
					     "file",
					     "loop",
					     "topspeed",
					     "dumpfile",
					     "metrics_interval",
					     NULL };

static int add_interface(struct config *c, const struct cfg_node *n, const char *name, struct cfg_err *err)
{
	char **v;

	if (!*name || strlen(name) >= 16)
		return cfg_error(err, n, "expected interface names of 1 to 15 characters, got \"%s\"", name);
	if (strlist_has(&c->interfaces, name, false))
		return 0;
	v = realloc(c->interfaces.v, (c->interfaces.n + 1) * sizeof(*v));
	if (!v)
		return cfg_error(err, n, "out of memory");
	c->interfaces.v = v;
	if (!(v[c->interfaces.n] = strdup(name)))
		return cfg_error(err, n, "out of memory");
	c->interfaces.n++;
	return 0;
}

/* Interface of the default route in /proc/net/route (IPv4) or ipv6_route, into out. */
static int default_route_dev(bool v6, char *out, size_t len)
{
	FILE *f = fopen(v6 ? "/proc/net/ipv6_route" : "/proc/net/route", "r");
	char line[512];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f)) {
		char dev[64], dst[40], mask[40];

		if (!v6 && sscanf(line, "%63s %39s %*s %*s %*s %*s %*s %39s", dev, dst, mask) == 3 &&
		    !strcmp(dst, "00000000") && !strcmp(mask, "00000000"))
			rc = 0;
		if (v6 && sscanf(line, "%39s %39s %*s %*s %*s %*s %*s %*s %*s %63s", dst, mask, dev) == 3 &&
		    !strcmp(dst, "00000000000000000000000000000000") && !strcmp(mask, "00") && strcmp(dev, "lo"))
			rc = 0;
		if (!rc)
			snprintf(out, len, "%s", dev);
	}
	fclose(f);
	return rc;
}

static int set_device(struct config *c, const struct cfg_node *n, struct cfg_err *err)
{
	char dev[64], got[96];
	int v6 = -1;

	if (n->kind != CFG_N_SCALAR || cfg_is_null(n))
		return cfg_error(err, n, "expected an interface name, any or default_route, got %s",
				 cfg_describe(n, got, sizeof(got)));
	if (!strcmp(n->value, "default_route") || !strcmp(n->value, "default_route_ipv4"))
		v6 = 0;
	else if (!strcmp(n->value, "default_route_ipv6"))
		v6 = 1;
	if (v6 < 0)
		return add_interface(c, n, n->value, err);
	if (default_route_dev(v6, dev, sizeof(dev)) &&
	    (strcmp(n->value, "default_route") || default_route_dev(true, dev, sizeof(dev))))
		return cfg_error(err, n, "no default route found for %s", n->value);
	return add_interface(c, n, dev, err);
}

static int set_internal_networks(struct config *c, const struct cfg_node *n, struct cfg_err *err)
{
	struct strlist l = { 0 };
	static const struct cfg_field f[] = {
		{ .key = "internal_networks", .type = CFG_STRLIST, .offset = 0 },
		{ .key = NULL },
	};

	if (cfg_apply_one(f, &l, n, err))
		return -EINVAL;
	if (!c->internal_networks && !(c->internal_networks = netlist_new())) {
		strlist_free(&l);
		return cfg_error(err, n, "out of memory");
	}
	for (size_t i = 0; i < l.n; i++)
		if (netlist_add(c->internal_networks, l.v[i])) {
			cfg_error(err, n,
				  "expected CIDRs or private, public, loopback, unicast, global_unicast, "
				  "link_local_unicast, multicast, link_local_multicast, interface_local_multicast, "
				  "unspecified, got \"%s\"",
				  l.v[i]);
			strlist_free(&l);
			return -EINVAL;
		}
	strlist_free(&l);
	return 0;
}

static int set_buffer_size(struct config *c, const struct cfg_node *n, struct cfg_err *err)
{
	int64_t mb;
	uint64_t bytes = 4096;

	if (cfg_to_int(n, 1, 1024, &mb, err))
		return -EINVAL;
	while (bytes < (uint64_t)mb << 20)
		bytes <<= 1;
	c->ring_size = bytes; /* the ring buffer rounded up to a power of two */
	return 0;
}

/* One Packetbeat interfaces map: device, snaplen, buffer_size_mb, internal_networks, AF_PACKET keys. */
static int interface_map(struct config *c, const struct cfg_node *n, struct cfg_err *err)
{
	char keys[300];

	if (keys_in(n, afpacket_keys, keys, sizeof(keys)))
		config_warn(c, n,
			    "AF_PACKET/pcap settings (%s) are accepted and ignored: xdpbeat captures with XDP "
			    "(native, else generic) and TC programs on the device, receive and send sides, "
			    "VLAN tags included",
			    keys);
	for (const struct cfg_node *k = n->child; k; k = k->next) {
		int rc = 0;

		if (!strcmp(k->key, "device"))
			rc = set_device(c, k, err);
		else if (!strcmp(k->key, "internal_networks"))
			rc = set_internal_networks(c, k, err);
		else if (!strcmp(k->key, "buffer_size_mb"))
			rc = set_buffer_size(c, k, err);
		else if (!strcmp(k->key, "snaplen") || !strcmp(k->key, "ring_size"))
			rc = config_set_capture_size(c, k, err);
		else {
			bool known = false;

			for (size_t i = 0; afpacket_keys[i]; i++)
				known = known || !strcmp(k->key, afpacket_keys[i]);
			if (!known)
				return cfg_error(err, k,
						 "unknown setting, expected one of: device, snaplen, buffer_size_mb, "
						 "internal_networks, ring_size, or Packetbeat's AF_PACKET settings");
		}
		if (rc)
			return -EINVAL;
	}
	return 0;
}

/* xdpbeat.interfaces: [lo, eth0] (xdpbeat), {device: eth0, ...} or [{device: ...}, ...] (Packetbeat). */
int config_set_interfaces(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct config *c = base;
	char got[96];

	strlist_free(&c->interfaces);
	if (n->kind == CFG_N_MAP) {
		if (interface_map(c, n, err))
			return -EINVAL;
	} else if (n->kind == CFG_N_SEQ) {
		for (const struct cfg_node *i = n->child; i; i = i->next) {
			int rc = i->kind == CFG_N_MAP ? interface_map(c, i, err)
				 : i->kind == CFG_N_SCALAR && !cfg_is_null(i)
					 ? add_interface(c, i, i->value, err)
					 : cfg_error(err, i, "expected an interface, got %s",
						     cfg_describe(i, got, sizeof(got)));

			if (rc)
				return -EINVAL;
		}
	} else if (n->kind == CFG_N_SCALAR && !cfg_is_null(n)) {
		if (add_interface(c, n, n->value, err))
			return -EINVAL;
	}
	if (!c->interfaces.n)
		return cfg_error(
			err, n,
			"expected at least one interface (like [lo], [any] or device: default_route), got none");
	return 0;
}

/* ---- name, tags, fields ---- */

int config_set_fields_map(const struct cfg_node *n, const struct cfg_node **out, struct cfg_err *err)
{
	char got[96];

	if (cfg_is_null(n)) {
		*out = NULL;
		return 0;
	}
	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of fields, got %s", cfg_describe(n, got, sizeof(got)));
	*out = n;
	return 0;
}

int config_set_top_fields(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	return config_set_fields_map(n, &((struct config *)base)->fields, err);
}

int config_set_proto_fields(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	return config_set_fields_map(n, &((struct proto_cfg *)base)->fields, err);
}
