/*
 * A list of networks as Beats' internal_networks and network conditions take
 * them: CIDRs ("10.0.0.0/8", "fd00::/8", a bare address) and the names
 * loopback, private, public, unicast, global_unicast, link_local_unicast,
 * multicast, link_local_multicast, interface_local_multicast, unspecified.
 */
#ifndef XDPBEAT_NETLIST_H
#define XDPBEAT_NETLIST_H

#include <stdbool.h>
#include <stddef.h>

struct netlist;

struct netlist *netlist_new(void);
void netlist_free(struct netlist *nl);
/* Add one entry; -EINVAL if it is neither a known name nor a CIDR, -ENOMEM. */
int netlist_add(struct netlist *nl, const char *entry);
/* addr: 4 bytes (AF_INET) or 16 bytes (AF_INET6), network order. An IPv4-mapped IPv6 address counts as IPv4. */
bool netlist_contains(const struct netlist *nl, int family, const void *addr);
size_t netlist_len(const struct netlist *nl);

#endif
