/* The endpoints of a connection or datagram exchange, oriented client/server. */
#ifndef XDPBEAT_FLOW_H
#define XDPBEAT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"

struct flow {
	struct ip_addr client_ip, server_ip;
	uint16_t client_port, server_port;
	uint8_t transport; /* IPPROTO_TCP / IPPROTO_UDP */
};

/* Same endpoints, same orientation. */
bool flow_equal(const struct flow *a, const struct flow *b);
/* The flow of pkt, oriented by which end is the server. */
void flow_from_packet(struct flow *f, const struct packet *pkt, bool server_is_dst);
/* Client and server swapped. */
void flow_reverse(struct flow *f);

#endif
