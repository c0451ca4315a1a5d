/* Decoder tests: every link type, VLAN/QinQ, IPv6 extension headers, truncation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "flowhash.h"
#include "packet.h"
#include "record.h"

static size_t ipv4_tcp(uint8_t *b, size_t optlen, const char *payload)
{
	size_t plen = strlen(payload), ihl = 20 + optlen, total = ihl + 20 + plen;

	memset(b, 0, total);
	b[0] = 0x40 | (uint8_t)(ihl / 4);
	b[2] = (uint8_t)(total >> 8), b[3] = (uint8_t)total;
	b[8] = 64, b[9] = IPPROTO_TCP;
	b[12] = 127, b[15] = 1; /* 127.0.0.1 */
	b[16] = 127, b[19] = 2;
	if (optlen)
		memset(b + 20, 1, optlen); /* NOPs */
	b[ihl] = 0x9c, b[ihl + 1] = 0x40; /* 40000 */
	b[ihl + 2] = 0x00, b[ihl + 3] = 0x50; /* 80 */
	b[ihl + 4] = 0, b[ihl + 7] = 7; /* seq 7 */
	b[ihl + 12] = 5 << 4;
	b[ihl + 13] = XB_TCP_ACK | XB_TCP_PSH;
	memcpy(b + ihl + 20, payload, plen);
	return total;
}

static size_t ipv6_udp(uint8_t *b, bool ext, const char *payload)
{
	size_t plen = strlen(payload), extlen = ext ? 8 : 0, total = 40 + extlen + 8 + plen;

	memset(b, 0, total);
	b[0] = 0x60;
	b[4] = (uint8_t)((total - 40) >> 8), b[5] = (uint8_t)(total - 40);
	b[6] = ext ? 0 : IPPROTO_UDP; /* hop-by-hop first */
	b[7] = 64;
	b[23] = 1, b[39] = 2;
	if (ext) {
		b[40] = IPPROTO_UDP;
		b[41] = 0; /* 8 bytes */
	}
	b[40 + extlen] = 0x30, b[41 + extlen] = 0x39; /* 12345 */
	b[42 + extlen] = 0, b[43 + extlen] = 53;
	b[44 + extlen] = (uint8_t)((8 + plen) >> 8), b[45 + extlen] = (uint8_t)(8 + plen);
	memcpy(b + 48 + extlen, payload, plen);
	return total;
}

static void check_tcp(const struct packet *p)
{
	cr_assert_eq(p->transport, IPPROTO_TCP);
	cr_assert_eq(p->sport, 40000);
	cr_assert_eq(p->dport, 80);
	cr_assert_eq(p->seq, 7);
	cr_assert_eq(p->tcp_flags, XB_TCP_ACK | XB_TCP_PSH);
	cr_assert_eq(p->src.family, 4);
	cr_assert_eq(p->src.a[3], 1);
	cr_assert_eq(p->payload_len, 5);
	cr_assert_eq(p->wire_len, 5);
	cr_assert_eq(memcmp(p->payload, "hello", 5), 0);
}

static int decode_copy(int link, const uint8_t *buf, size_t len, struct packet *p)
{
	/* exact-size heap copy so ASan catches over-reads */
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = decode_frame(link, copy, (uint32_t)len, (uint32_t)len, p);
	/* payload points into copy: check it before freeing */
	if (rc == 0 && p->payload_len)
		cr_assert(p->payload >= copy && p->payload + p->payload_len <= copy + len);
	if (rc == 0 && p->payload_len == 5 && p->transport == IPPROTO_TCP)
		check_tcp(p);
	free(copy);
	return rc;
}

Test(decode, ethernet_ipv4_tcp)
{
	uint8_t f[200] = { 0 };
	struct packet p;
	size_t n;

	f[12] = 0x08, f[13] = 0x00;
	n = 14 + ipv4_tcp(f + 14, 0, "hello");
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, n, &p), 0);
}

Test(decode, ethernet_padding_trimmed)
{
	uint8_t f[200] = { 0 };
	struct packet p;
	size_t n;

	f[12] = 0x08, f[13] = 0x00;
	n = 14 + ipv4_tcp(f + 14, 0, "hello");
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, n + 6, &p), 0);
}

Test(decode, vlan_and_qinq)
{
	uint8_t f[200] = { 0 };
	struct packet p;
	size_t n;

	f[12] = 0x88, f[13] = 0xa8; /* 802.1ad */
	f[16] = 0x81, f[17] = 0x00; /* 802.1Q */
	f[20] = 0x08, f[21] = 0x00;
	n = 22 + ipv4_tcp(f + 22, 0, "hello");
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, n, &p), 0);
	memset(f, 0, sizeof(f));
	f[12] = 0x81, f[13] = 0x00;
	f[16] = 0x08, f[17] = 0x00;
	n = 18 + ipv4_tcp(f + 18, 0, "hello");
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, n, &p), 0);
}

Test(decode, ipv4_options)
{
	uint8_t f[200];
	struct packet p;
	size_t n = ipv4_tcp(f, 12, "hello");

	cr_assert_eq(decode_copy(LINK_RAW, f, n, &p), 0);
}

Test(decode, ipv6_udp_with_extension_header)
{
	uint8_t f[200];
	struct packet p;
	size_t n = ipv6_udp(f, true, "dnsq");
	uint8_t *copy = malloc(n);

	memcpy(copy, f, n);
	cr_assert_eq(decode_frame(LINK_IPV6, copy, (uint32_t)n, (uint32_t)n, &p), 0);
	cr_assert_eq(p.transport, IPPROTO_UDP);
	cr_assert_eq(p.src.family, 6);
	cr_assert_eq(p.sport, 12345);
	cr_assert_eq(p.dport, 53);
	cr_assert_eq(p.payload_len, 4);
	cr_assert_eq(memcmp(p.payload, "dnsq", 4), 0);
	free(copy);
	n = ipv6_udp(f, false, "dnsq");
	cr_assert_eq(decode_copy(LINK_RAW, f, n, &p), 0);
	cr_assert_eq(p.payload_len, 4);
}

Test(decode, linux_cooked_v1_v2_and_loopback)
{
	uint8_t f[200] = { 0 };
	struct packet p;
	size_t n;

	f[14] = 0x08, f[15] = 0x00;
	n = 16 + ipv4_tcp(f + 16, 0, "hello");
	cr_assert_eq(decode_copy(LINK_LINUX_SLL, f, n, &p), 0);
	memset(f, 0, sizeof(f));
	f[0] = 0x08, f[1] = 0x00;
	n = 20 + ipv4_tcp(f + 20, 0, "hello");
	cr_assert_eq(decode_copy(LINK_LINUX_SLL2, f, n, &p), 0);
	memset(f, 0, sizeof(f));
	f[0] = 2; /* AF_INET, little endian */
	n = 4 + ipv4_tcp(f + 4, 0, "hello");
	cr_assert_eq(decode_copy(LINK_NULL, f, n, &p), 0);
	f[0] = 0, f[3] = 2; /* big endian (DLT_LOOP) */
	cr_assert_eq(decode_copy(LINK_LOOP, f, n, &p), 0);
}

Test(decode, non_first_fragment_and_other_protocols)
{
	uint8_t f[200];
	struct packet p;
	size_t n = ipv4_tcp(f, 0, "hello");

	f[6] = 0x00, f[7] = 0x10; /* fragment offset 16 */
	cr_assert_eq(decode_copy(LINK_RAW, f, n, &p), -EPROTONOSUPPORT);
	n = ipv4_tcp(f, 0, "hello");
	f[9] = IPPROTO_ICMP;
	cr_assert_eq(decode_copy(LINK_RAW, f, n, &p), -EPROTONOSUPPORT);
	memset(f, 0, 20);
	f[12] = 0x08, f[13] = 0x06; /* ARP */
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, 60, &p), -EPROTONOSUPPORT);
}

Test(decode, truncated_headers_never_crash)
{
	uint8_t f[200] = { 0 };
	struct packet p;
	size_t n, hdrs;

	f[12] = 0x08, f[13] = 0x00;
	n = 14 + ipv4_tcp(f + 14, 4, "hello");
	hdrs = 14 + 24 + 20;
	for (size_t len = 0; len < hdrs; len++)
		cr_assert_eq(decode_copy(LINK_ETHERNET, f, len, &p), -EINVAL, "len %zu", len);
	/* headers complete, payload cut by the snaplen: wire length kept */
	cr_assert_eq(decode_copy(LINK_ETHERNET, f, hdrs + 2, &p), 0);
	cr_assert_eq(p.payload_len, 2);
	cr_assert_eq(p.wire_len, 5);
	for (size_t len = 0; len < 48 + 4; len++) {
		size_t m = ipv6_udp(f, true, "dnsq");

		(void)m;
		cr_assert_neq(decode_copy(LINK_IPV6, f, len, &p), 0, "len %zu", len);
	}
	(void)n;
}

Test(decode, snaplen_cut_keeps_wire_length)
{
	uint8_t f[200];
	struct packet p;
	size_t n = ipv4_tcp(f, 0, "hello world");
	uint8_t *copy = malloc(n - 6);

	memcpy(copy, f, n - 6);
	cr_assert_eq(decode_frame(LINK_RAW, copy, (uint32_t)(n - 6), (uint32_t)n, &p), 0);
	cr_assert_eq(p.payload_len, 5);
	cr_assert_eq(p.wire_len, 11);
	free(copy);
}

Test(decode, ipv4_text_same_as_inet_ntop)
{
	static const uint8_t samples[][4] = { { 0, 0, 0, 0 },	    { 127, 0, 0, 1 },	    { 192, 0, 2, 10 },
					      { 10, 99, 100, 255 }, { 255, 255, 255, 255 }, { 1, 20, 203, 9 } };
	char want[INET_ADDRSTRLEN], got[16];

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		cr_assert_not_null(inet_ntop(AF_INET, samples[i], want, sizeof(want)));
		cr_assert_eq(ipv4_str(samples[i], got), strlen(want));
		cr_assert_str_eq(got, want);
	}
	for (unsigned v = 0; v < 256; v++) {
		uint8_t a[4] = { (uint8_t)v, (uint8_t)(255 - v), (uint8_t)(v * 7), (uint8_t)(v / 3) };

		inet_ntop(AF_INET, a, want, sizeof(want));
		ipv4_str(a, got);
		cr_assert_str_eq(got, want);
	}
}

Test(decode, link_types_supported)
{
	static const int yes[] = { LINK_ETHERNET, LINK_LINUX_SLL, LINK_LINUX_SLL2, LINK_NULL, LINK_LOOP, LINK_RAW };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(decode_link_supported(yes[i]), "link type %d", yes[i]);
	cr_assert_not(decode_link_supported(14));
	cr_assert_not(decode_link_supported(105)); /* 802.11 */
}

/* Reverse the direction of a decoded packet: addresses and ports swapped. */
static struct packet reversed(const struct packet *p)
{
	struct packet r = *p;

	r.src = p->dst, r.dst = p->src;
	r.sport = p->dport, r.dport = p->sport;
	return r;
}

Test(decode, flow_hash_symmetric_and_spread)
{
	uint8_t b[128];
	size_t n = ipv4_tcp(b, 0, "GET / HTTP/1.1\r\n\r\n");
	struct packet p, r;
	unsigned per_worker[4] = { 0 };

	cr_assert_eq(decode_ip(b, (uint32_t)n, (uint32_t)n, &p), 0);
	r = reversed(&p);
	cr_assert_eq(packet_flow_hash(&p), packet_flow_hash(&r));
	r.transport = IPPROTO_UDP;
	cr_assert_neq(packet_flow_hash(&p), packet_flow_hash(&r), "the transport is part of the flow");
	/* 4096 client ports: both directions agree, and the flows spread over 4 workers. */
	for (unsigned port = 1024; port < 1024 + 4096; port++) {
		uint32_t h;

		p.sport = (uint16_t)port;
		r = reversed(&p);
		h = packet_flow_hash(&p);
		cr_assert_eq(h, packet_flow_hash(&r), "port %u", port);
		cr_assert_lt(xb_flow_worker(h, 4), 4);
		per_worker[xb_flow_worker(h, 4)]++;
		cr_assert_eq(xb_flow_worker(h, 1), 0);
	}
	for (int w = 0; w < 4; w++)
		cr_assert(per_worker[w] > 900 && per_worker[w] < 1150, "worker %d got %u of 4096", w, per_worker[w]);
}

Test(decode, flow_hash_ipv6_uses_all_address_bytes)
{
	struct packet p = { .src = { .family = 6 }, .dst = { .family = 6 }, .sport = 5353, .dport = 53 };
	uint32_t h0;

	p.transport = IPPROTO_UDP;
	h0 = packet_flow_hash(&p);
	for (int i = 0; i < 16; i++) {
		p.dst.a[i] ^= 1;
		cr_assert_neq(packet_flow_hash(&p), h0, "address byte %d", i);
		p.dst.a[i] ^= 1;
	}
	cr_assert_eq(packet_flow_hash(&p), h0);
}
