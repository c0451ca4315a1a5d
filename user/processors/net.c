/*
 * Networks for the `network` condition and add_network_direction: CIDRs and
 * the named networks of Beats (libbeat/conditions), with Go's net.IP
 * definitions of loopback, multicast, link-local... IPv4-mapped IPv6
 * addresses count as IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

enum {
	NET_CIDR,
	NET_LOOPBACK = 1,
	NET_GLOBAL_UNICAST,
	NET_UNICAST,
	NET_LINK_LOCAL_UNICAST,
	NET_INTERFACE_LOCAL_MULTICAST,
	NET_LINK_LOCAL_MULTICAST,
	NET_MULTICAST,
	NET_UNSPECIFIED,
	NET_PRIVATE,
	NET_PUBLIC,
	NET_NAMES,
};

static const char *const names[NET_NAMES] = {
	[NET_LOOPBACK] = "loopback",
	[NET_GLOBAL_UNICAST] = "global_unicast",
	[NET_UNICAST] = "unicast",
	[NET_LINK_LOCAL_UNICAST] = "link_local_unicast",
	[NET_INTERFACE_LOCAL_MULTICAST] = "interface_local_multicast",
	[NET_LINK_LOCAL_MULTICAST] = "link_local_multicast",
	[NET_MULTICAST] = "multicast",
	[NET_UNSPECIFIED] = "unspecified",
	[NET_PRIVATE] = "private",
	[NET_PUBLIC] = "public",
};

const char net_names[] = "loopback, global_unicast, unicast, link_local_unicast, interface_local_multicast, "
			 "link_local_multicast, multicast, unspecified, private, public";

bool net_addr_parse(const char *s, struct net_addr *a)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->a) != 1)
		return false;
	a->family = 6;
	if (!memcmp(a->a, v4mapped, sizeof(v4mapped))) {
		memmove(a->a, a->a + 12, 4);
		memset(a->a + 4, 0, 12);
		a->family = 4;
	}
	return true;
}

/* The first bits of a and b agree. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !rest || ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool in4(const struct net_addr *a, uint8_t b0, uint8_t b1, unsigned bits)
{
	const uint8_t n[4] = { b0, b1, 0, 0 };

	return a->family == 4 && prefix_eq(a->a, n, bits);
}

static bool in6(const struct net_addr *a, uint8_t b0, uint8_t b1, unsigned bits)
{
	const uint8_t n[2] = { b0, b1 };

	return a->family == 6 && prefix_eq(a->a, n, bits);
}

static bool all_zero(const struct net_addr *a, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (a->a[i])
			return false;
	return true;
}

static bool is_loopback(const struct net_addr *a)
{
	return in4(a, 127, 0, 8) || (a->family == 6 && all_zero(a, 0, 15) && a->a[15] == 1);
}

static bool is_unspecified(const struct net_addr *a)
{
	return all_zero(a, 0, a->family == 4 ? 4 : 16);
}

static bool is_bcast(const struct net_addr *a)
{
	return a->family == 4 && a->a[0] == 255 && a->a[1] == 255 && a->a[2] == 255 && a->a[3] == 255;
}

static bool is_multicast(const struct net_addr *a)
{
	return in4(a, 224, 0, 4) || in6(a, 0xff, 0, 8);
}

static bool is_ll_unicast(const struct net_addr *a)
{
	return in4(a, 169, 254, 16) || in6(a, 0xfe, 0x80, 10);
}

static bool is_ll_multicast(const struct net_addr *a)
{
	static const uint8_t n[3] = { 224, 0, 0 };

	return (a->family == 4 && prefix_eq(a->a, n, 24)) || in6(a, 0xff, 0x02, 16);
}

static bool is_private(const struct net_addr *a)
{
	return in4(a, 10, 0, 8) || in4(a, 172, 16, 12) || in4(a, 192, 168, 16) || in6(a, 0xfd, 0, 8);
}

static bool is_named(int which, const struct net_addr *a)
{
	switch (which) {
	case NET_LOOPBACK:
		return is_loopback(a);
	case NET_GLOBAL_UNICAST:
	case NET_UNICAST:
		return !is_bcast(a) && !is_unspecified(a) && !is_loopback(a) && !is_multicast(a) && !is_ll_unicast(a);
	case NET_LINK_LOCAL_UNICAST:
		return is_ll_unicast(a);
	case NET_INTERFACE_LOCAL_MULTICAST:
		return in6(a, 0xff, 0x01, 16);
	case NET_LINK_LOCAL_MULTICAST:
		return is_ll_multicast(a);
	case NET_MULTICAST:
		return is_multicast(a);
	case NET_UNSPECIFIED:
		return is_unspecified(a);
	case NET_PRIVATE:
		return is_private(a);
	case NET_PUBLIC:
		return !(is_private(a) || is_loopback(a) || is_unspecified(a) || is_bcast(a) || is_ll_unicast(a) ||
			 is_ll_multicast(a) || in6(a, 0xff, 0x01, 16));
	}
	return false;
}

int net_match_parse(const char *s, struct net_match *m)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	unsigned long bits;

	memset(m, 0, sizeof(*m));
	for (int i = 1; i < NET_NAMES; i++) {
		if (!strcmp(s, names[i])) {
			m->named = i;
			return 0;
		}
	}
	if (n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!net_addr_parse(addr, &m->addr))
		return -EINVAL;
	m->prefix = m->addr.family == 4 ? 32 : 128;
	if (!slash)
		return 0;
	errno = 0;
	bits = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || bits > m->prefix)
		return -EINVAL;
	m->prefix = (unsigned)bits;
	return 0;
}

bool net_match_has(const struct net_match *m, const struct net_addr *a)
{
	if (m->named)
		return is_named(m->named, a);
	return a->family == m->addr.family && prefix_eq(a->a, m->addr.a, m->prefix);
}

int net_list_parse(const struct cfg_node *n, struct net_list *l, struct cfg_err *err)
{
	size_t cnt = 0;

	memset(l, 0, sizeof(*l));
	if (n->kind == CFG_N_MAP)
		return cfg_error(err, n, "expected a network or a list of networks, got a map");
	for (const struct cfg_node *c = n->kind == CFG_N_SEQ ? n->child : n; c;
	     c = n->kind == CFG_N_SEQ ? c->next : NULL)
		cnt++;
	if (!cnt)
		return cfg_error(err, n, "expected at least one network");
	l->v = calloc(cnt, sizeof(*l->v));
	if (!l->v)
		return cfg_error(err, n, "out of memory");
	for (const struct cfg_node *c = n->kind == CFG_N_SEQ ? n->child : n; c;
	     c = n->kind == CFG_N_SEQ ? c->next : NULL) {
		if (c->kind != CFG_N_SCALAR || net_match_parse(c->value, &l->v[l->n])) {
			net_list_free(l);
			return cfg_error(
				err, c,
				"expected a CIDR (192.0.2.0/24, 2001:db8::/32), an address or one of: %s, got %s",
				net_names, c->kind == CFG_N_SCALAR ? c->value : "a list or map");
		}
		l->n++;
	}
	return 0;
}

bool net_list_has(const struct net_list *l, const struct net_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (net_match_has(&l->v[i], a))
			return true;
	return false;
}

void net_list_free(struct net_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
