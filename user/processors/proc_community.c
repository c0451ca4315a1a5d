/*
 * community_id: Community ID flow hash v1 ("1:" base64 SHA-1) from the
 * event's fields, with a seed, into target (network.community_id), as
 * Beats' processor. The fields default to source.ip/port, destination.ip/
 * port and network.iana_number or network.transport. TCP, UDP and SCTP
 * hash their ports; other IP protocols hash addresses only. ICMP's
 * type/code pairing is not done: such events are left alone, as are events
 * missing a field.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "proc.h"
#include "util/sha1.h"

struct cid_fields {
	char *source_ip, *source_port, *destination_ip, *destination_port, *iana_number, *transport;
};

struct cid {
	struct cid_fields f;
	char *target;
	int64_t seed;
};

/* clang-format off */
#define CF(k) { .key = #k, .type = CFG_STRING, .offset = offsetof(struct cid, f.k) }
static const struct cfg_field cid_field_names[] = {
	CF(source_ip), CF(source_port), CF(destination_ip), CF(destination_port), CF(iana_number), CF(transport),
	{ 0 },
};
static const struct cfg_field cid_fields[] = {
	{ .key = "fields", .type = CFG_SECTION, .sub = cid_field_names },
	{ .key = "target", .type = CFG_STRING, .offset = offsetof(struct cid, target) },
	{ .key = "seed", .type = CFG_INT, .offset = offsetof(struct cid, seed), .min = 0, .max = 65535 },
	{ 0 },
};
#undef CF
/* clang-format on */

static void cid_free(void *state)
{
	struct cid *c = state;

	if (!c)
		return;
	cfg_fields_free(cid_field_names, c);
	free(c->target);
	free(c);
}

/* *s = def unless the config set it. */
static int default_str(char **s, const char *def)
{
	return *s || (*s = strdup(def)) ? 0 : -ENOMEM;
}

static int cid_parse(const struct cfg_node *args, void **state, struct cfg_err *err)
{
	struct cid *c = calloc(1, sizeof(*c));

	if (!c)
		return cfg_error(err, args, "out of memory");
	if (proc_args("community_id", cid_fields, c, args, err))
		goto fail;
	if (default_str(&c->f.source_ip, "source.ip") || default_str(&c->f.source_port, "source.port") ||
	    default_str(&c->f.destination_ip, "destination.ip") ||
	    default_str(&c->f.destination_port, "destination.port") ||
	    default_str(&c->f.iana_number, "network.iana_number") ||
	    default_str(&c->f.transport, "network.transport") || default_str(&c->target, "network.community_id")) {
		cfg_error(err, args, "out of memory");
		goto fail;
	}
	*state = c;
	return 0;
fail:
	cid_free(c);
	return -EINVAL;
}

/* IANA protocol number from network.iana_number (number or text) or the transport name; -1 if unknown. */
static int proto_number(json_t *ev, const struct cid *c)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "icmp", 1 }, { "igmp", 2 },	  { "tcp", 6 },	    { "udp", 17 },
		      { "gre", 47 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 }, { "sctp", 132 } };
	json_t *v = field_get(ev, c->f.iana_number);
	const char *s;

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255)
		return (int)json_integer_value(v);
	if (json_is_string(v) && (s = json_string_value(v))[0] && strspn(s, "0123456789") == strlen(s) &&
	    atoi(s) <= 255)
		return atoi(s);
	v = field_get(ev, c->f.transport);
	if (!json_is_string(v))
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(json_string_value(v), names[i].name))
			return names[i].num;
	return -1;
}

static int port_of(json_t *ev, const char *field)
{
	json_t *v = field_get(ev, field);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return -1;
	return (int)json_integer_value(v);
}

/* One endpoint of the flow, the way the hash orders them. */
struct cid_end {
	struct net_addr a;
	uint16_t port;
};

static bool end_after(const struct cid_end *x, const struct cid_end *y)
{
	int cmp = memcmp(x->a.a, y->a.a, x->a.family == 6 ? 16 : 4);

	return cmp > 0 || (cmp == 0 && x->port > y->port);
}

void proc_community_id_v1(uint16_t seed, const struct net_addr *sa, uint16_t sp, const struct net_addr *da, uint16_t dp,
			  uint8_t proto, bool ports, char *out, size_t len)
{
	struct cid_end e[2] = { { *sa, sp }, { *da, dp } };
	const struct cid_end *lo = &e[0], *hi = &e[1];
	size_t alen = sa->family == 6 ? 16 : 4, n = 0;
	uint8_t in[2 + 32 + 2 + 4], digest[20];
	char b64[32];

	if (end_after(lo, hi)) {
		lo = &e[1];
		hi = &e[0];
	}
	in[n++] = (uint8_t)(seed >> 8);
	in[n++] = (uint8_t)seed;
	memcpy(in + n, lo->a.a, alen);
	n += alen;
	memcpy(in + n, hi->a.a, alen);
	n += alen;
	in[n++] = proto;
	in[n++] = 0;
	if (ports) {
		in[n++] = (uint8_t)(lo->port >> 8);
		in[n++] = (uint8_t)lo->port;
		in[n++] = (uint8_t)(hi->port >> 8);
		in[n++] = (uint8_t)hi->port;
	}
	sha1(in, n, digest);
	base64_encode(digest, sizeof(digest), b64);
	snprintf(out, len, "1:%s", b64);
}

static int cid_run(void *state, json_t *ev)
{
	struct cid *c = state;
	json_t *sip = field_get(ev, c->f.source_ip), *dip = field_get(ev, c->f.destination_ip);
	int proto = proto_number(ev, c), sp = port_of(ev, c->f.source_port), dp = port_of(ev, c->f.destination_port);
	bool ports = proto == 6 || proto == 17 || proto == 132;
	struct net_addr sa, da;
	char id[64];

	if (!json_is_string(sip) || !json_is_string(dip) || !net_addr_parse(json_string_value(sip), &sa) ||
	    !net_addr_parse(json_string_value(dip), &da) || sa.family != da.family)
		return PROC_KEEP;
	if (proto < 0 || proto == 1 || proto == 58 || (ports && (sp < 0 || dp < 0)))
		return PROC_KEEP;
	proc_community_id_v1((uint16_t)c->seed, &sa, (uint16_t)(ports ? sp : 0), &da, (uint16_t)(ports ? dp : 0),
			     (uint8_t)proto, ports, id, sizeof(id));
	return field_put(ev, c->target, json_string(id)) ? -ENOMEM : PROC_KEEP;
}

const struct proc_ops proc_community_id = {
	.name = "community_id",
	.parse = cid_parse,
	.run = cid_run,
	.free = cid_free,
};
