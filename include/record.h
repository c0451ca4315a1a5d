/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Types shared by the BPF programs (bpf/) and the daemon (user/):
 * protocol ids, ring-buffer record layout, stats indices, map sizes.
 * Plain C only: this header is compiled by clang -target bpf too.
 */
#ifndef XDPBEAT_RECORD_H
#define XDPBEAT_RECORD_H

#ifdef __bpf__
/* vmlinux.h provides __u8..__u64 */
#else
#include <stdint.h>
#include <linux/types.h>
#endif

/* Protocol ids: index into the userspace registry; 0 = not watched. */
enum proto_id {
	PROTO_NONE = 0,
	PROTO_HTTP,
	PROTO_DNS,
	PROTO_REDIS,
	PROTO_MEMCACHE,
	PROTO_MYSQL,
	PROTO_PGSQL,
	PROTO_MONGODB,
	PROTO_THRIFT,
	PROTO_MAX,
};

/* Which hook produced a record. */
enum xb_hook {
	XB_HOOK_XDP = 0,
	XB_HOOK_TC = 1,
};

/* Which port matched the ports map: tells userspace the server side. */
enum xb_match {
	XB_MATCH_DST = 1,
	XB_MATCH_SRC = 2,
};

/* Ring buffers (worker threads) at most: the size of the rings map. */
#define XB_MAX_RINGS 64

/* Record flags. */
#define XB_F_TRUNCATED 0x01 /* payload bytes past this record were not sent */
#define XB_F_SKIPPED 0x02 /* a TCP segment inside a body userspace asked to skip: wire_len bytes, none sent */

/*
 * Heads-only capture: one direction of a TCP connection (as the packet
 * goes: saddr:sport -> daddr:dport) whose segments up to end_seq the
 * parser does not need (a body it does not keep). The kernel sends such
 * segments as XB_F_SKIPPED records without payload.
 */
struct xb_skip_key {
	__u8 family;
	__u8 pad[3];
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};
#define XB_SKIP_ENTRIES 16384

/* TCP flag bits as in the TCP header byte 13. */
#define XB_TCP_FIN 0x01
#define XB_TCP_SYN 0x02
#define XB_TCP_RST 0x04
#define XB_TCP_PSH 0x08
#define XB_TCP_ACK 0x10

#define XB_PORTS_ENTRIES 65536
/* Payload bytes carried by one record; longer payloads are chunked. */
#define XB_CHUNK_MAX 4096
/* Largest payload the kernel side chunks (GSO/TSO on lo/egress). */
#define XB_PAYLOAD_MAX 65536

/*
 * One ring-buffer record: a fixed header followed by cap_len payload bytes,
 * which are payload[offset, offset + cap_len) of the packet.
 * Addresses are in network byte order; IPv4 uses the first 4 bytes.
 * Ports, seq and ack are host byte order.
 */
struct xb_record {
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;
	__u8 hook; /* enum xb_hook */
	__u8 family; /* 4 or 6 */
	__u8 l4proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 tcp_flags; /* XB_TCP_* */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u16 proto_id; /* enum proto_id */
	__u8 match; /* enum xb_match */
	__u8 flags; /* XB_F_* */
	__u32 wire_len; /* L4 payload length of the packet */
	__u32 offset; /* offset of this chunk inside the payload */
	__u32 cap_len; /* payload bytes that follow this header */
	__u32 flow_hash; /* xb_flow_hash() (flowhash.h): same both directions */
	__u8 data[];
};

/* Per-CPU counters of the BPF programs. */
enum xb_stat {
	XB_STAT_SEEN = 0,
	XB_STAT_MATCHED,
	XB_STAT_SENT, /* records submitted */
	XB_STAT_RB_FULL, /* records lost: ring buffer full */
	XB_STAT_TRUNC_BYTES, /* payload bytes not carried */
	XB_STAT_SKIPPED_BYTES, /* payload bytes of XB_F_SKIPPED records */
	XB_STAT_MAX,
};

#endif
