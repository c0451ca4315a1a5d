/* Flows: the endpoints of a connection or datagram exchange. */
#include "flow.h"

bool flow_equal(const struct flow *a, const struct flow *b)
{
	return a->client_port == b->client_port && a->server_port == b->server_port && a->transport == b->transport &&
	       ip_addr_eq(&a->client_ip, &b->client_ip) && ip_addr_eq(&a->server_ip, &b->server_ip);
}

void flow_from_packet(struct flow *f, const struct packet *pkt, bool server_is_dst)
{
	f->transport = pkt->transport;
	if (server_is_dst) {
		f->client_ip = pkt->src, f->client_port = pkt->sport;
		f->server_ip = pkt->dst, f->server_port = pkt->dport;
	} else {
		f->client_ip = pkt->dst, f->client_port = pkt->dport;
		f->server_ip = pkt->src, f->server_port = pkt->sport;
	}
}

void flow_reverse(struct flow *f)
{
	struct ip_addr ip = f->client_ip;
	uint16_t port = f->client_port;

	f->client_ip = f->server_ip;
	f->client_port = f->server_port;
	f->server_ip = ip;
	f->server_port = port;
}
