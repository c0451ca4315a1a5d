/* Decoded packet: what every input (pcap file, kernel ring buffer) hands to the pipeline. */
#ifndef XDPBEAT_PACKET_H
#define XDPBEAT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t a[16]; /* network byte order; IPv4 in a[0..3] */
};

struct packet {
	uint64_t ts; /* ns since the epoch */
	uint32_t ifindex;
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint8_t transport; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags; /* XB_TCP_* (record.h) */
	uint32_t seq, ack;
	const uint8_t *payload; /* payload_len bytes, not owned */
	uint32_t payload_len;
	/*
	 * Bytes of L4 payload the packet had on the wire starting at payload;
	 * > payload_len when the capture cut it (snaplen, kernel truncation).
	 * The TCP layer reports the difference as a gap.
	 */
	uint32_t wire_len;
	uint16_t proto_hint; /* enum proto_id from the kernel, 0 = look up by port */
	uint8_t server_is_dst; /* kernel said: 1 dst port matched, 2 src port matched, 0 unknown */
	bool skipped; /* heads-only: a TCP segment of wire_len bytes the kernel left out on request (tcp_set_skip) */
};

/* pcap link types understood by decode_frame(). */
enum {
	LINK_NULL = 0, /* BSD loopback */
	LINK_ETHERNET = 1,
	LINK_RAW = 101,
	LINK_LOOP = 108,
	LINK_LINUX_SLL = 113,
	LINK_IPV4 = 228,
	LINK_IPV6 = 229,
	LINK_LINUX_SLL2 = 276,
};

/*
 * Decode one captured frame (link type from the pcap header) into *pkt.
 * caplen bytes are available; origlen is the frame's length on the wire.
 * Returns 0 for a TCP/UDP packet, -EPROTONOSUPPORT for other traffic
 * (ARP, ICMP, non-first fragments), -EINVAL for a malformed/truncated header.
 */
int decode_frame(int linktype, const uint8_t *data, uint32_t caplen, uint32_t origlen, struct packet *pkt);
/* decode_frame() knows this pcap link type. */
bool decode_link_supported(int linktype);

/* Same, starting at the IP header (version nibble decides v4/v6). */
int decode_ip(const uint8_t *data, uint32_t caplen, uint32_t origlen, struct packet *pkt);

/* "192.0.2.1" / "2001:db8::1" into buf (>= 46 bytes). */
const char *ip_addr_str(const struct ip_addr *a, char *buf, size_t len);
/* Dotted quad of a (at most 15 characters and a NUL); returns its length. */
size_t ipv4_str(const uint8_t a[4], char buf[16]);
bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b);
/* xb_flow_hash() (flowhash.h) of the packet: what the kernel puts in record->flow_hash. */
uint32_t packet_flow_hash(const struct packet *p);

#endif
