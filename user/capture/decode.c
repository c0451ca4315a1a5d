/*
 * Frame decoder: link layer (Ethernet, 802.1Q/802.1ad, Linux cooked v1/v2,
 * BSD/Linux loopback, raw IP) -> IPv4/IPv6 -> TCP/UDP, into struct packet.
 * Every header read goes through the bounds-checked reader.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "flowhash.h"
#include "packet.h"
#include "reader.h"
#include "record.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXT 8

static int decode_l4(struct reader *r, uint8_t proto, uint32_t l4_wire_len, struct packet *pkt)
{
	size_t start = r->pos;
	uint32_t hdr;

	pkt->transport = proto;
	if (proto == IPPROTO_TCP) {
		uint8_t off_flags;

		pkt->sport = rd_be16(r);
		pkt->dport = rd_be16(r);
		pkt->seq = rd_be32(r);
		pkt->ack = rd_be32(r);
		off_flags = rd_u8(r);
		pkt->tcp_flags = rd_u8(r) & 0x3f;
		hdr = (uint32_t)(off_flags >> 4) * 4;
		if (r->err || hdr < 20 || !rd_skip(r, hdr - 14))
			return -EINVAL;
	} else if (proto == IPPROTO_UDP) {
		pkt->sport = rd_be16(r);
		pkt->dport = rd_be16(r);
		l4_wire_len = rd_be16(r); /* UDP length is authoritative */
		if (!rd_skip(r, 2) || l4_wire_len < 8)
			return -EINVAL;
		hdr = 8;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (l4_wire_len < hdr)
		return -EINVAL;
	pkt->payload = rd_ptr(r);
	pkt->wire_len = l4_wire_len - hdr;
	pkt->payload_len = (uint32_t)rd_left(r);
	if (pkt->payload_len > pkt->wire_len)
		pkt->payload_len = pkt->wire_len; /* Ethernet padding */
	(void)start;
	return 0;
}

static int decode_ipv4(struct reader *r, uint32_t origlen_left, struct packet *pkt)
{
	uint8_t vihl = rd_u8(r);
	uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
	uint16_t total, frag;
	uint8_t proto;
	const uint8_t *src, *dst;

	rd_skip(r, 1);
	total = rd_be16(r);
	rd_skip(r, 2);
	frag = rd_be16(r);
	rd_skip(r, 1);
	proto = rd_u8(r);
	rd_skip(r, 2);
	src = rd_bytes(r, 4);
	dst = rd_bytes(r, 4);
	if (r->err || (vihl >> 4) != 4 || ihl < 20 || total < ihl || !rd_skip(r, ihl - 20))
		return -EINVAL;
	if (frag & 0x1fff)
		return -EPROTONOSUPPORT; /* non-first fragment */
	(void)origlen_left;
	pkt->src.family = pkt->dst.family = 4;
	memcpy(pkt->src.a, src, 4);
	memcpy(pkt->dst.a, dst, 4);
	/* Trim the reader to the IP datagram (drops link padding). */
	if (r->len > r->pos - ihl + total)
		r->len = r->pos - ihl + total;
	return decode_l4(r, proto, total - ihl, pkt);
}

static bool ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135;
}

static int decode_ipv6(struct reader *r, struct packet *pkt)
{
	uint32_t vtc = rd_be32(r);
	uint32_t plen = rd_be16(r);
	uint8_t nh = rd_u8(r);
	const uint8_t *src, *dst;
	size_t start;

	rd_skip(r, 1);
	src = rd_bytes(r, 16);
	dst = rd_bytes(r, 16);
	if (r->err || (vtc >> 28) != 6)
		return -EINVAL;
	pkt->src.family = pkt->dst.family = 6;
	memcpy(pkt->src.a, src, 16);
	memcpy(pkt->dst.a, dst, 16);
	if (r->len > r->pos + plen)
		r->len = r->pos + plen;
	start = r->pos;
	for (int i = 0; i < MAX_IPV6_EXT && ipv6_is_ext(nh); i++) {
		uint8_t next = rd_u8(r);
		uint8_t hlen = rd_u8(r);
		size_t len;

		if (nh == 44) { /* fragment header: 8 bytes */
			uint16_t off = rd_be16(r);

			if (r->err)
				return -EINVAL;
			if (off & 0xfff8)
				return -EPROTONOSUPPORT;
			len = 8;
		} else if (nh == 51) { /* AH: (len + 2) * 4 */
			len = ((size_t)hlen + 2) * 4;
		} else {
			len = ((size_t)hlen + 1) * 8;
		}
		r->pos -= (nh == 44) ? 4 : 2;
		if (!rd_skip(r, len))
			return -EINVAL;
		nh = next;
	}
	if (ipv6_is_ext(nh))
		return -EPROTONOSUPPORT;
	if (plen < r->pos - start)
		return -EINVAL;
	return decode_l4(r, nh, plen - (uint32_t)(r->pos - start), pkt);
}

static int decode_by_ethertype(struct reader *r, uint16_t type, uint32_t origlen, struct packet *pkt)
{
	for (int i = 0; i < MAX_VLAN_TAGS && (type == ETH_P_VLAN || type == ETH_P_QINQ || type == ETH_P_QINQ_OLD);
	     i++) {
		rd_skip(r, 2);
		type = rd_be16(r);
	}
	if (r->err)
		return -EINVAL;
	if (type == ETH_P_IPV4)
		return decode_ipv4(r, origlen, pkt);
	if (type == ETH_P_IPV6)
		return decode_ipv6(r, pkt);
	return -EPROTONOSUPPORT;
}

int decode_ip(const uint8_t *data, uint32_t caplen, uint32_t origlen, struct packet *pkt)
{
	struct reader r;

	memset(&pkt->src, 0, sizeof(pkt->src));
	memset(&pkt->dst, 0, sizeof(pkt->dst));
	pkt->skipped = false;
	rd_init(&r, data, caplen);
	if (caplen < 1)
		return -EINVAL;
	if ((data[0] >> 4) == 4)
		return decode_ipv4(&r, origlen, pkt);
	if ((data[0] >> 4) == 6)
		return decode_ipv6(&r, pkt);
	return -EINVAL;
}

static int decode_null(struct reader *r, bool host_order, uint32_t origlen, struct packet *pkt)
{
	const uint8_t *p = rd_bytes(r, 4);
	uint32_t af;

	if (!p)
		return -EINVAL;
	/* BSD AF_ values are written in the capturing host's byte order: accept both. */
	af = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	(void)host_order;
	if (af == 2)
		return decode_ipv4(r, origlen, pkt);
	if (af == 24 || af == 28 || af == 30 || af == 10)
		return decode_ipv6(r, pkt);
	return -EPROTONOSUPPORT;
}

int decode_frame(int linktype, const uint8_t *data, uint32_t caplen, uint32_t origlen, struct packet *pkt)
{
	struct reader r;
	uint16_t type;

	rd_init(&r, data, caplen);
	memset(&pkt->src, 0, sizeof(pkt->src));
	memset(&pkt->dst, 0, sizeof(pkt->dst));
	pkt->payload = NULL;
	pkt->payload_len = pkt->wire_len = 0;
	pkt->tcp_flags = 0;
	pkt->seq = pkt->ack = 0;
	pkt->skipped = false; /* only the kernel leaves segments out (heads-only) */
	switch (linktype) {
	case LINK_ETHERNET:
		rd_skip(&r, 12);
		type = rd_be16(&r);
		return decode_by_ethertype(&r, type, origlen, pkt);
	case LINK_LINUX_SLL:
		rd_skip(&r, 14);
		type = rd_be16(&r);
		return decode_by_ethertype(&r, type, origlen, pkt);
	case LINK_LINUX_SLL2:
		type = rd_be16(&r);
		rd_skip(&r, 18);
		return decode_by_ethertype(&r, type, origlen, pkt);
	case LINK_NULL:
	case LINK_LOOP:
		return decode_null(&r, linktype == LINK_NULL, origlen, pkt);
	case LINK_RAW:
	case LINK_IPV4:
	case LINK_IPV6:
	case 12: /* DLT_RAW on some platforms */
		return decode_ip(data, caplen, origlen, pkt);
	default:
		return -EPROTONOSUPPORT;
	}
}

size_t ipv4_str(const uint8_t a[4], char buf[16])
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i)
			buf[n++] = '.';
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	buf[n] = '\0';
	return n;
}

bool decode_link_supported(int linktype)
{
	switch (linktype) {
	case LINK_ETHERNET:
	case LINK_LINUX_SLL:
	case LINK_LINUX_SLL2:
	case LINK_NULL:
	case LINK_LOOP:
	case LINK_RAW:
	case LINK_IPV4:
	case LINK_IPV6:
	case 12:
		return true;
	default:
		return false;
	}
}

const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len)
{
	if (a->family != 6 && len >= 16)
		ipv4_str(a->a, buf); /* inet_ntop formats IPv4 with sprintf: slow on the event path */
	else if (!inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->a, b->a, a->family == 6 ? 16 : 4) == 0;
}

uint32_t packet_flow_hash(const struct packet *p)
{
	return xb_flow_hash(p->src.family, p->transport, p->src.a, p->dst.a, p->sport, p->dport);
}
