/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet header parsing shared by the XDP and TC programs.
 *
 * A header cursor walks the linear part of the packet (direct packet
 * access); one small function per header bounds-checks it against data_end
 * and returns the next protocol. xb_parse() strings them together:
 * Ethernet -> up to two VLAN tags -> IPv4 / IPv6 (+ extension headers) ->
 * TCP / UDP, and fills a struct xb_meta. Anything malformed, truncated, a
 * non-first fragment or not TCP/UDP makes xb_parse() return false.
 */
#ifndef XDPBEAT_PARSE_BPF_H
#define XDPBEAT_PARSE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "record.h"

#define XB_ETH_P_IP 0x0800
#define XB_ETH_P_IPV6 0x86DD
#define XB_ETH_P_8021Q 0x8100
#define XB_ETH_P_8021AD 0x88A8

#define XB_IPPROTO_TCP 6
#define XB_IPPROTO_UDP 17
#define XB_IPV6_HOP 0
#define XB_IPV6_ROUTING 43
#define XB_IPV6_FRAGMENT 44
#define XB_IPV6_DSTOPTS 60
#define XB_IPV6_AH 51 /* authentication header: length in 4-byte units, not 8 */

#define XB_VLAN_MAX 2
#define XB_IPV6_EXT_MAX 6

#define XB_IP_MF 0x2000
#define XB_IP_OFFMASK 0x1FFF

#define XB_LEN_UNKNOWN 0xFFFFFFFFu

struct hdr_cursor {
	void *pos;
};

/*
 * What the port match needs of one TCP/UDP packet, plus the (bounds-checked)
 * IP and L4 headers so that a matching packet's other fields are read only
 * then. Offsets are from the packet start.
 */
struct xb_meta {
	/*
	 * One pointer per header type, NULL when absent: the verifier knows
	 * each one's checked range, whatever path led here.
	 */
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	__u8 family;
	__u8 l4proto;
	__u16 sport, dport; /* host order */
	__u32 payload_off; /* L4 payload offset */
	__u32 payload_len; /* L4 payload length the headers declare, XB_LEN_UNKNOWN (GSO/BIG TCP) */
};

struct xb_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Ethernet + up to XB_VLAN_MAX 802.1Q/802.1ad tags: returns the ethertype (network order) or 0. */
static __always_inline __be16 parse_eth(struct hdr_cursor *c, void *end)
{
	struct ethhdr *eth = c->pos;
	struct xb_vlan_hdr *vlan;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return 0;
	proto = eth->h_proto;
	c->pos = eth + 1;
#pragma unroll
	for (i = 0; i < XB_VLAN_MAX; i++) {
		if (proto != bpf_htons(XB_ETH_P_8021Q) && proto != bpf_htons(XB_ETH_P_8021AD))
			break;
		vlan = c->pos;
		if ((void *)(vlan + 1) > end)
			return 0;
		proto = vlan->encap_proto;
		c->pos = vlan + 1;
	}
	return proto;
}

/*
 * IPv4 with options. Returns the L4 protocol, or -1 (malformed, truncated,
 * non-first fragment). *ip_end = offset just past the IP datagram.
 */
static __always_inline int parse_ipv4(struct hdr_cursor *c, void *data, void *end, struct xb_meta *m, __u32 *ip_end)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > end)
		return -1;
	if (ip->version != 4)
		return -1;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return -1;
	if (c->pos + hlen > end)
		return -1;
	if (ip->frag_off & bpf_htons(XB_IP_OFFMASK))
		return -1;
	tot = bpf_ntohs(ip->tot_len);
	/* tot_len 0: IPv4 BIG TCP / GSO; the packet length decides. */
	if (tot && tot < hlen)
		return -1;
	*ip_end = tot ? (__u32)(c->pos - data) + tot : 0;
	m->family = 4;
	m->ip4 = ip;
	c->pos += hlen;
	return ip->protocol;
}

/* One IPv6 extension header: returns the next header or -1. */
static __always_inline int parse_ipv6_ext(struct hdr_cursor *c, void *end, __u8 type)
{
	struct ipv6_opt_hdr *opt = c->pos;
	struct frag_hdr *fh = c->pos;
	__u32 len;

	if (type == XB_IPV6_FRAGMENT) {
		if ((void *)(fh + 1) > end)
			return -1;
		if (fh->frag_off & bpf_htons(0xFFF8))
			return -1; /* not the first fragment */
		c->pos = fh + 1;
		return fh->nexthdr;
	}
	if ((void *)(opt + 1) > end)
		return -1;
	len = type == XB_IPV6_AH ? (opt->hdrlen + 2) * 4 : (opt->hdrlen + 1) * 8;
	if (c->pos + len > end)
		return -1;
	c->pos += len;
	return opt->nexthdr;
}

static __always_inline bool ipv6_is_ext(int nh)
{
	return nh == XB_IPV6_HOP || nh == XB_IPV6_ROUTING || nh == XB_IPV6_DSTOPTS || nh == XB_IPV6_FRAGMENT ||
	       nh == XB_IPV6_AH;
}

/* IPv6 + up to XB_IPV6_EXT_MAX extension headers: returns the L4 protocol or -1. */
static __always_inline int parse_ipv6(struct hdr_cursor *c, void *data, void *end, struct xb_meta *m, __u32 *ip_end)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;
	int nh, i;

	if ((void *)(ip6 + 1) > end)
		return -1;
	if (ip6->version != 6)
		return -1;
	plen = bpf_ntohs(ip6->payload_len);
	/* payload_len 0: jumbogram / IPv6 BIG TCP; the packet length decides. */
	*ip_end = plen ? (__u32)(c->pos - data) + sizeof(*ip6) + plen : 0;
	m->family = 6;
	m->ip6 = ip6;
	nh = ip6->nexthdr;
	c->pos = ip6 + 1;
	for (i = 0; i < XB_IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nh))
			return nh;
		nh = parse_ipv6_ext(c, end, nh);
		if (nh < 0)
			return -1;
	}
	return ipv6_is_ext(nh) ? -1 : nh;
}

static __always_inline bool parse_tcp(struct hdr_cursor *c, void *end, struct xb_meta *m)
{
	struct tcphdr *th = c->pos;
	__u32 hlen;

	if ((void *)(th + 1) > end)
		return false;
	hlen = th->doff * 4;
	if (hlen < sizeof(*th))
		return false;
	if (c->pos + hlen > end)
		return false;
	m->sport = bpf_ntohs(th->source);
	m->dport = bpf_ntohs(th->dest);
	m->th = th;
	c->pos += hlen;
	return true;
}

static __always_inline bool parse_udp(struct hdr_cursor *c, void *end, struct xb_meta *m, __u32 *l4_end, __u32 l4_off)
{
	struct udphdr *uh = c->pos;
	__u32 ulen;

	if ((void *)(uh + 1) > end)
		return false;
	ulen = bpf_ntohs(uh->len);
	/* len 0 is legal for UDP over IPv6 jumbograms / GSO: IP decides. */
	if (ulen && ulen < sizeof(*uh))
		return false;
	/* The datagram ends where the shorter of the IP and UDP lengths says. */
	if (ulen && (!*l4_end || l4_off + ulen < *l4_end))
		*l4_end = l4_off + ulen;
	m->sport = bpf_ntohs(uh->source);
	m->dport = bpf_ntohs(uh->dest);
	c->pos = uh + 1;
	return true;
}

/*
 * Parse one frame. On success m holds the header pointers, ports,
 * payload offset and declared payload length (XB_LEN_UNKNOWN when the
 * headers declare none, e.g. GSO with tot_len 0) and true is returned.
 */
static __always_inline bool xb_parse(void *data, void *end, struct xb_meta *m)
{
	struct hdr_cursor c = { .pos = data };
	__u32 ip_end = 0, l4_off;
	__be16 eth_proto;
	int l4;

	m->ip4 = NULL;
	m->ip6 = NULL;
	m->th = NULL;
	eth_proto = parse_eth(&c, end);
	if (eth_proto == bpf_htons(XB_ETH_P_IP))
		l4 = parse_ipv4(&c, data, end, m, &ip_end);
	else if (eth_proto == bpf_htons(XB_ETH_P_IPV6))
		l4 = parse_ipv6(&c, data, end, m, &ip_end);
	else
		return false;

	l4_off = c.pos - data;
	if (l4 == XB_IPPROTO_TCP) {
		if (!parse_tcp(&c, end, m))
			return false;
	} else if (l4 == XB_IPPROTO_UDP) {
		if (!parse_udp(&c, end, m, &ip_end, l4_off))
			return false;
	} else {
		return false;
	}
	m->l4proto = l4;
	m->payload_off = c.pos - data;
	if (ip_end && ip_end < m->payload_off)
		return false;
	m->payload_len = ip_end ? ip_end - m->payload_off : XB_LEN_UNKNOWN;
	return true;
}

#endif
