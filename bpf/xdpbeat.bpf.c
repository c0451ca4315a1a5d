// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdpbeat kernel side: XDP (ingress) and TC (egress) programs that keep the
 * TCP/UDP packets whose source or destination port is in the ports maps and
 * push a record (header facts + payload, chunked) into the ring buffer.
 * They never change traffic: XDP_PASS always; the TC program returns
 * TC_ACT_UNSPEC (= TCX_NEXT), which lets the packet go on through any other
 * tc filter or tcx program after ours (TC_ACT_OK would end the chain there
 * and skip them).
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "record.h"
#include "flowhash.h"
#include "parse.bpf.h"
#include "stats.bpf.h"

#define XB_TC_ACT_UNSPEC (-1) /* TCX_NEXT for tcx links */
/* Chunks per packet: XB_PAYLOAD_MAX / XB_CHUNK_MAX. */
#define XB_CHUNKS (XB_PAYLOAD_MAX / XB_CHUNK_MAX)
/* Payload room of the small record class (most requests fit). */
#define XB_SMALL_ROOM 512

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Payload bytes sent per packet at most (the rest is flagged truncated). */
const volatile __u32 snaplen = XB_PAYLOAD_MAX;
/* Force a consumer wake-up once this many bytes wait in the ring buffer. */
const volatile __u32 wakeup_bytes = 256 * 1024;
/* Ring buffers in use (one per worker thread), 1..XB_MAX_RINGS. */
const volatile __u32 nrings = 1;
/*
 * Set by userspace before it writes its first skip: until then no segment
 * pays for a lookup in the skips LRU map (a hash of 40 bytes and a bucket
 * walk on cold lines), which hosts without large bodies never need.
 */
volatile __u32 skips_armed;

/* The prototype of each worker's ring buffer; userspace creates them and fills rings. */
struct xb_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* set from config->ring_size before load */
};

/* Worker i's ring buffer at index i: a flow's records all go to ring flow_hash % nrings. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XB_MAX_RINGS);
	__type(key, __u32);
	__array(values, struct xb_ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XB_PORTS_ENTRIES);
	__type(key, __u32);
	__type(value, __u16); /* enum proto_id, 0 = not watched */
} tcp_ports SEC(".maps");

/* Heads-only capture: directions whose segments before end_seq (the value) are not sent. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XB_SKIP_ENTRIES);
	__type(key, struct xb_skip_key);
	__type(value, __u32);
} skips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XB_PORTS_ENTRIES);
	__type(key, __u32);
	__type(value, __u16);
} udp_ports SEC(".maps");

/*
 * Protocol watched on port in the l4 map, 0 if none. One lookup call site
 * per map: the verifier inlines array lookups only when the map is known.
 */
static __always_inline __u16 port_proto(__u8 l4, __u16 port)
{
	__u32 key = port;
	__u16 *v;

	if (l4 == XB_IPPROTO_TCP) {
		v = bpf_map_lookup_elem(&tcp_ports, &key);
		/* Keeps clang from merging the two calls into one with a map phi. */
		asm volatile("" : "+r"(v));
	} else {
		v = bpf_map_lookup_elem(&udp_ports, &key);
	}
	return v ? *v : 0;
}

static __always_inline __u64 wake_flag(void *rb)
{
	if (bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Copy n payload bytes at off into dst: the helper of the hook (hook is a constant). */
static __always_inline long load_payload(void *ctx, const int hook, __u32 off, void *dst, __u32 n)
{
	if (hook == XB_HOOK_XDP)
		return bpf_xdp_load_bytes(ctx, off, dst, n);
	return bpf_skb_load_bytes(ctx, off, dst, n);
}

/*
 * Reserve one record with room payload bytes (a constant), fill it from
 * hdr and payload[off, off + n), submit. Returns 0 or -1 (ring full, load error).
 */
static __always_inline int emit_chunk(void *ctx, const int hook, void *rb, const struct xb_record *hdr,
				      __u32 payload_off, __u32 off, __u32 n, __u8 flags, const __u32 room)
{
	struct xb_record *r;

	r = bpf_ringbuf_reserve(rb, sizeof(*r) + room, 0);
	if (!r) {
		stat_inc(XB_STAT_RB_FULL);
		return -1;
	}
	__builtin_memcpy(r, hdr, sizeof(*r));
	r->offset = off;
	r->flags = flags;
	r->cap_len = n;
	if (room && n) {
		/* n is 1..room (a power of two): say so in a way the verifier tracks. */
		n = ((n - 1) & (room - 1)) + 1;
		if (load_payload(ctx, hook, payload_off + off, r->data, n)) {
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
			return -1;
		}
	}
	bpf_ringbuf_submit(r, wake_flag(rb));
	stat_inc(XB_STAT_SENT);
	return 0;
}

/*
 * Send the first `send` (<= XB_PAYLOAD_MAX) of `wire` payload bytes: full
 * XB_CHUNK_MAX records, then one last record sized to what is left (flagged
 * truncated when send < wire). Only the last record has size classes, which
 * keeps the loop body small for the verifier.
 */
static __always_inline void emit_payload(void *ctx, const int hook, const struct xb_record *hdr, __u32 payload_off,
					 __u32 wire, __u32 send)
{
	__u8 flags = (send < wire ? XB_F_TRUNCATED : 0) | hdr->flags;
	__u32 ring = nrings > 1 ? hdr->flow_hash % nrings : 0;
	__u32 off = 0, n;
	void *rb;
	int i;

	rb = bpf_map_lookup_elem(&rings, &ring);
	if (!rb) {
		stat_inc(XB_STAT_RB_FULL); /* not reached: userspace fills every ring in use */
		return;
	}
	for (i = 0; i < XB_CHUNKS - 1; i++) {
		if (send - off <= XB_CHUNK_MAX)
			break;
		if (emit_chunk(ctx, hook, rb, hdr, payload_off, off, XB_CHUNK_MAX, 0, XB_CHUNK_MAX))
			return;
		off += XB_CHUNK_MAX;
	}
	n = send - off;
	if (n > XB_CHUNK_MAX)
		n = XB_CHUNK_MAX; /* not reached: send <= XB_CHUNKS * XB_CHUNK_MAX */
	if (n == 0)
		emit_chunk(ctx, hook, rb, hdr, payload_off, off, 0, flags, 0);
	else if (n <= XB_SMALL_ROOM)
		emit_chunk(ctx, hook, rb, hdr, payload_off, off, n, flags, XB_SMALL_ROOM);
	else if (n <= 2 * XB_SMALL_ROOM)
		emit_chunk(ctx, hook, rb, hdr, payload_off, off, n, flags, 2 * XB_SMALL_ROOM);
	else if (n <= 4 * XB_SMALL_ROOM)
		emit_chunk(ctx, hook, rb, hdr, payload_off, off, n, flags, 4 * XB_SMALL_ROOM);
	else
		emit_chunk(ctx, hook, rb, hdr, payload_off, off, n, flags, XB_CHUNK_MAX);
}

/*
 * Global (non-static) functions are verified once, on their own, instead of
 * once for every parse path that reaches them: this keeps loading fast.
 */
__noinline int emit_xdp(struct xdp_md *ctx, const struct xb_record *hdr, __u32 payload_off, __u32 wire, __u32 send)
{
	if (!ctx || !hdr)
		return 0;
	emit_payload(ctx, XB_HOOK_XDP, hdr, payload_off, wire, send);
	return 0;
}

__noinline int emit_tc(struct __sk_buff *skb, const struct xb_record *hdr, __u32 payload_off, __u32 wire, __u32 send)
{
	if (!skb || !hdr)
		return 0;
	emit_payload(skb, XB_HOOK_TC, hdr, payload_off, wire, send);
	return 0;
}

/* TCP flags byte of a matched TCP packet (0 for UDP). */
static __always_inline __u8 tcp_flags_of(const struct xb_meta *m)
{
	struct tcphdr *th = m->th;

	return th ? ((__u8 *)th)[13] : 0;
}

/* The record header of a matched packet: read from the headers xb_parse() checked. */
static __always_inline void fill_header(struct xb_record *h, const struct xb_meta *m, const int hook, __u32 ifindex,
					__u16 proto, __u8 match, __u32 wire)
{
	struct iphdr *ip = m->ip4;
	struct ipv6hdr *ip6 = m->ip6;
	struct tcphdr *th = m->th;

	h->ts_ns = bpf_ktime_get_ns();
	h->ifindex = ifindex;
	h->hook = hook;
	h->family = m->family;
	h->l4proto = m->l4proto;
	if (ip) {
		__builtin_memcpy(h->saddr, &ip->saddr, 4);
		__builtin_memcpy(h->daddr, &ip->daddr, 4);
	} else if (ip6) {
		__builtin_memcpy(h->saddr, &ip6->saddr, 16);
		__builtin_memcpy(h->daddr, &ip6->daddr, 16);
	}
	if (th) {
		h->seq = bpf_ntohl(th->seq);
		h->ack = bpf_ntohl(th->ack_seq);
		h->tcp_flags = ((__u8 *)th)[13];
	}
	h->sport = m->sport;
	h->dport = m->dport;
	h->proto_id = proto;
	h->match = match;
	h->wire_len = wire;
	h->flow_hash = xb_flow_hash(h->family, h->l4proto, h->saddr, h->daddr, h->sport, h->dport);
}

/*
 * A segment of wire bytes wholly inside a skip userspace asked for (a body
 * its parser does not keep). The entry goes once a segment reaches its end.
 */
static __always_inline bool skipped(const struct xb_record *h, __u32 wire)
{
	struct xb_skip_key k = {};
	__u32 *end;

	k.family = h->family;
	k.sport = h->sport;
	k.dport = h->dport;
	__builtin_memcpy(k.saddr, h->saddr, 16);
	__builtin_memcpy(k.daddr, h->daddr, 16);
	end = bpf_map_lookup_elem(&skips, &k);
	if (!end)
		return false;
	if ((__s32)(*end - (h->seq + wire)) >= 0)
		return true;
	bpf_map_delete_elem(&skips, &k);
	return false;
}

/* Payload bytes the packet really carries: declared length clamped to what is there. */
static __always_inline __u32 payload_len(const struct xb_meta *m, __u32 pkt_len)
{
	__u32 avail = pkt_len > m->payload_off ? pkt_len - m->payload_off : 0;

	return m->payload_len < avail ? m->payload_len : avail;
}

/* A matched packet: decide what to send and send it. */
static __always_inline void xb_send(void *ctx, const int hook, const struct xb_meta *m, __u16 proto, __u8 match)
{
	struct xb_record hdr = {};
	__u32 wire, send, pkt_len, ifindex;

	if (hook == XB_HOOK_XDP) {
		pkt_len = bpf_xdp_get_buff_len(ctx);
		ifindex = ((struct xdp_md *)ctx)->ingress_ifindex;
	} else {
		pkt_len = ((struct __sk_buff *)ctx)->len;
		ifindex = ((struct __sk_buff *)ctx)->ifindex;
	}
	wire = payload_len(m, pkt_len);
	if (wire == 0) {
		/* Pure ACKs (and empty datagrams) carry nothing the tracker needs. */
		if (!(tcp_flags_of(m) & (XB_TCP_SYN | XB_TCP_FIN | XB_TCP_RST)))
			return;
	}
	send = wire;
	if (send > snaplen)
		send = snaplen;
	if (send > XB_PAYLOAD_MAX)
		send = XB_PAYLOAD_MAX;
	fill_header(&hdr, m, hook, ifindex, proto, match, wire);
	if (wire && m->th && skips_armed && skipped(&hdr, wire)) {
		send = 0;
		hdr.flags = XB_F_SKIPPED;
		stat_add(XB_STAT_SKIPPED_BYTES, wire);
	} else if (wire > send) {
		stat_add(XB_STAT_TRUNC_BYTES, wire - send);
	}
	if (hook == XB_HOOK_XDP)
		emit_xdp(ctx, &hdr, m->payload_off, wire, send);
	else
		emit_tc(ctx, &hdr, m->payload_off, wire, send);
}

/* The shared path of both hooks. data..end is the linear part of the packet. */
static __always_inline void xb_handle(void *ctx, const int hook, void *data, void *end)
{
	struct xb_meta m;
	__u16 proto;
	__u8 match;

	stat_inc(XB_STAT_SEEN);
	if (!xb_parse(data, end, &m))
		return;
	match = XB_MATCH_DST;
	proto = port_proto(m.l4proto, m.dport);
	if (!proto) {
		match = XB_MATCH_SRC;
		proto = port_proto(m.l4proto, m.sport);
		if (!proto)
			return;
	}
	stat_inc(XB_STAT_MATCHED);
	xb_send(ctx, hook, &m, proto, match);
}

SEC("xdp.frags")
int xdpbeat_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	xb_handle(ctx, XB_HOOK_XDP, data, end);
	return XDP_PASS;
}

SEC("tc")
int xdpbeat_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	xb_handle(skb, XB_HOOK_TC, data, end);
	return XB_TC_ACT_UNSPEC;
}
