/* Named networks and CIDRs, include/netlist.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netlist.h"

#define NETLIST_MAX 1024

struct cidr {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint8_t bits;
	bool v6;
};

/* A parsed address: IPv4-mapped IPv6 folded to IPv4. */
struct ip {
	uint8_t b[16];
	bool v6;
};

typedef bool (*net_pred)(const struct ip *ip);

struct netent {
	net_pred pred; /* named network, or NULL for cidr */
	struct cidr cidr;
};

struct netlist {
	struct netent *v;
	size_t n;
};

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, full))
		return false;
	if (!rest)
		return true;
	return ((a[full] ^ net[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Is ip inside v4/bits (for IPv4) or v6/bits (for IPv6); a NULL side never matches. */
static bool in(const struct ip *ip, const char *v4, unsigned b4, const char *v6, unsigned b6)
{
	uint8_t net[16];

	if (!ip->v6)
		return v4 && inet_pton(AF_INET, v4, net) == 1 && prefix_match(ip->b, net, b4);
	return v6 && inet_pton(AF_INET6, v6, net) == 1 && prefix_match(ip->b, net, b6);
}

static bool is_loopback(const struct ip *ip)
{
	return in(ip, "127.0.0.0", 8, "::1", 128);
}

static bool is_unspecified(const struct ip *ip)
{
	return in(ip, "0.0.0.0", 32, "::", 128);
}

static bool is_broadcast(const struct ip *ip)
{
	return in(ip, "255.255.255.255", 32, NULL, 0);
}

static bool is_multicast(const struct ip *ip)
{
	return in(ip, "224.0.0.0", 4, "ff00::", 8);
}

static bool is_ll_multicast(const struct ip *ip)
{
	return in(ip, "224.0.0.0", 24, "ff02::", 16);
}

static bool is_if_multicast(const struct ip *ip)
{
	return in(ip, NULL, 0, "ff01::", 16);
}

static bool is_ll_unicast(const struct ip *ip)
{
	return in(ip, "169.254.0.0", 16, "fe80::", 10);
}

static bool is_private(const struct ip *ip)
{
	return in(ip, "10.0.0.0", 8, "fc00::", 7) || in(ip, "172.16.0.0", 12, NULL, 0) ||
	       in(ip, "192.168.0.0", 16, NULL, 0);
}

static bool is_global_unicast(const struct ip *ip)
{
	return !is_broadcast(ip) && !is_unspecified(ip) && !is_loopback(ip) && !is_multicast(ip) && !is_ll_unicast(ip);
}

static bool is_unicast(const struct ip *ip)
{
	return is_global_unicast(ip) || is_ll_unicast(ip) || is_loopback(ip);
}

static bool is_public(const struct ip *ip)
{
	return is_global_unicast(ip) && !is_private(ip);
}

static const struct {
	const char *name;
	net_pred pred;
} named[] = {
	{ "loopback", is_loopback },
	{ "private", is_private },
	{ "public", is_public },
	{ "unicast", is_unicast },
	{ "global_unicast", is_global_unicast },
	{ "link_local_unicast", is_ll_unicast },
	{ "multicast", is_multicast },
	{ "link_local_multicast", is_ll_multicast },
	{ "interface_local_multicast", is_if_multicast },
	{ "unspecified", is_unspecified },
};

struct netlist *netlist_new(void)
{
	return calloc(1, sizeof(struct netlist));
}

void netlist_free(struct netlist *nl)
{
	if (!nl)
		return;
	free(nl->v);
	free(nl);
}

size_t netlist_len(const struct netlist *nl)
{
	return nl ? nl->n : 0;
}

static int parse_cidr(const char *s, struct cidr *c)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	char *end;
	long bits;

	if (!alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->v6 = true;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (!slash) {
		c->bits = (uint8_t)max;
		return 0;
	}
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || bits < 0 || bits > (long)max)
		return -EINVAL;
	c->bits = (uint8_t)bits;
	return 0;
}

int netlist_add(struct netlist *nl, const char *entry)
{
	struct netent e = { 0 };
	struct netent *v;

	if (!nl || !entry)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]) && !e.pred; i++)
		if (!strcmp(entry, named[i].name))
			e.pred = named[i].pred;
	if (!e.pred && parse_cidr(entry, &e.cidr))
		return -EINVAL;
	if (nl->n == NETLIST_MAX)
		return -E2BIG;
	v = realloc(nl->v, (nl->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	nl->v = v;
	nl->v[nl->n++] = e;
	return 0;
}

static void to_ip(int family, const uint8_t *a, struct ip *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ip, 0, sizeof(*ip));
	if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped))) {
		ip->v6 = true;
		memcpy(ip->b, a, 16);
	} else if (family == AF_INET6) {
		memcpy(ip->b, a + 12, 4);
	} else {
		memcpy(ip->b, a, 4);
	}
}

bool netlist_contains(const struct netlist *nl, int family, const void *addr)
{
	struct ip ip;

	if (!nl || !addr || (family != AF_INET && family != AF_INET6))
		return false;
	to_ip(family, addr, &ip);
	for (size_t i = 0; i < nl->n; i++) {
		const struct netent *e = &nl->v[i];

		if (e->pred ? e->pred(&ip) : (e->cidr.v6 == ip.v6 && prefix_match(ip.b, e->cidr.addr, e->cidr.bits)))
			return true;
	}
	return false;
}
