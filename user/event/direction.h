/*
 * network.direction as Packetbeat 8 computes it. From this host's side
 * first: ingress when the destination is one of its addresses or a
 * loopback or link-local one, else egress when the source is. Otherwise,
 * when internal_networks are set, from the perimeter: internal (both ends
 * inside), outbound (the source inside), inbound (the destination inside),
 * external (neither). Else unknown.
 */
#ifndef XDPBEAT_DIRECTION_H
#define XDPBEAT_DIRECTION_H

#include <stdbool.h>

#include "packet.h"

struct netlist;

/* This host's addresses (getifaddrs) plus loopback, link-local unicast and multicast; NULL on ENOMEM. */
struct netlist *direction_host_networks(void);
/* internal, outbound, inbound or external (also add_network_direction's). */
const char *direction_perimeter(bool src_internal, bool dst_internal);
/* host: as above (NULL: none); internal: internal_networks (NULL or empty: no perimeter). */
const char *direction_of(const struct netlist *host, const struct netlist *internal, const struct ip_addr *src,
			 const struct ip_addr *dst);

#endif
