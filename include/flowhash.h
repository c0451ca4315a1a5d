/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Symmetric flow hash shared by the BPF programs and the daemon: both
 * directions of a TCP/UDP flow (a:p -> b:q and b:q -> a:p) give the same
 * value, so the kernel side and the pcap reader can hand every packet of a
 * flow to the same worker. Plain C, fixed-size loops, no helpers: this
 * header is compiled by clang -target bpf too (see record.h).
 *
 * Each endpoint (address, port) is hashed on its own; the two endpoint
 * hashes are combined with + and ^, which do not depend on their order.
 * Addresses are read byte by byte so the value is the same on any host.
 */
#ifndef XDPBEAT_FLOWHASH_H
#define XDPBEAT_FLOWHASH_H

#include "record.h"

#ifndef XB_FLOWHASH_INLINE
#ifdef __bpf__
#define XB_FLOWHASH_INLINE static __always_inline
#else
#define XB_FLOWHASH_INLINE static inline
#endif
#endif

/* Final mixer of MurmurHash3 (public domain): every input bit affects every output bit. */
XB_FLOWHASH_INLINE __u32 xb_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Hash of one endpoint: len (4 or 16) address bytes and the port (host order). */
XB_FLOWHASH_INLINE __u32 xb_endpoint_hash(const __u8 *addr, int len, __u16 port)
{
	__u32 h = 0x9e3779b9u ^ port;
	int i;

	for (i = 0; i < 16; i += 4) {
		__u32 w;

		if (i >= len)
			break;
		w = (__u32)addr[i] << 24 | (__u32)addr[i + 1] << 16 | (__u32)addr[i + 2] << 8 | addr[i + 3];
		h = xb_fmix32(h ^ w) + 0x7f4a7c15u;
	}
	return xb_fmix32(h);
}

/*
 * Flow hash of (family 4/6, l4proto, saddr:sport, daddr:dport); IPv4 uses the
 * first 4 address bytes. Same value with source and destination swapped.
 */
XB_FLOWHASH_INLINE __u32 xb_flow_hash(__u8 family, __u8 l4proto, const __u8 *saddr, const __u8 *daddr, __u16 sport,
				      __u16 dport)
{
	int len = family == 6 ? 16 : 4;
	__u32 a = xb_endpoint_hash(saddr, len, sport);
	__u32 b = xb_endpoint_hash(daddr, len, dport);

	return xb_fmix32((a + b) ^ xb_fmix32(a ^ b) ^ ((__u32)l4proto << 8 | family));
}

/* Worker (0..n-1) that owns a flow with this hash: multiply-shift, no division. */
XB_FLOWHASH_INLINE __u32 xb_flow_worker(__u32 hash, __u32 n)
{
	return (__u32)(((__u64)hash * n) >> 32);
}

#endif
