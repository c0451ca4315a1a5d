/* network.direction from the host's addresses and internal_networks, direction.h. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "event/direction.h"
#include "netlist.h"

/* Packetbeat counts these as the host's own whatever its interfaces say. */
static const char *const always_host[] = { "loopback", "link_local_unicast", "link_local_multicast" };

/* The interfaces' addresses; a host where getifaddrs fails keeps the named networks only. */
static void add_interface_addrs(struct netlist *nl)
{
	struct ifaddrs *ifs, *i;
	char s[INET6_ADDRSTRLEN];

	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i; i = i->ifa_next) {
		const void *a;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		a = i->ifa_addr->sa_family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						      : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (inet_ntop(i->ifa_addr->sa_family, a, s, sizeof(s)))
			netlist_add(nl, s); /* past the list's cap an address is left out: egress/ingress less often */
	}
	freeifaddrs(ifs);
}

struct netlist *direction_host_networks(void)
{
	struct netlist *nl = netlist_new();

	if (!nl)
		return NULL;
	for (size_t i = 0; i < sizeof(always_host) / sizeof(always_host[0]); i++)
		if (netlist_add(nl, always_host[i])) {
			netlist_free(nl);
			return NULL;
		}
	add_interface_addrs(nl);
	return nl;
}

static bool in_list(const struct netlist *nl, const struct ip_addr *a)
{
	return netlist_contains(nl, a->family == 6 ? AF_INET6 : AF_INET, a->a);
}

const char *direction_perimeter(bool src_internal, bool dst_internal)
{
	if (src_internal && dst_internal)
		return "internal";
	if (src_internal)
		return "outbound";
	return dst_internal ? "inbound" : "external";
}

const char *direction_of(const struct netlist *host, const struct netlist *internal, const struct ip_addr *src,
			 const struct ip_addr *dst)
{
	if (in_list(host, dst))
		return "ingress";
	if (in_list(host, src))
		return "egress";
	if (!netlist_len(internal))
		return "unknown";
	return direction_perimeter(in_list(internal, src), in_list(internal, dst));
}
