/*
 * Internals of the live capture (user/capture.c, user/capture_attach.c),
 * exposed for tests/unit/test_bpf.c and bench/bpf_cost.c.
 */
#ifndef XDPBEAT_CAPTURE_INT_H
#define XDPBEAT_CAPTURE_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "packet.h"

/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns: add to bpf_ktime_get_ns() stamps. */
int64_t capture_clock_offset(void);

/*
 * One ring-buffer record (size bytes) into *pkt (payload points into the
 * record). Chunks get seq + offset; SYN stays on the first chunk and FIN/RST
 * on the last; wire_len says what the capture cut after the last chunk.
 * 0 or -EINVAL (short or inconsistent record).
 */
int capture_record_to_packet(const void *rec, size_t size, int64_t clock_off, struct packet *pkt);

/* ---- one worker's ring buffer (user/capture/capture_ring.c) ---- */

struct capture_ring;
struct stats;
/* Reads the ring buffer map map_fd; records' times + clock_off; decode errors counted in st. NULL + errno. */
struct capture_ring *capture_ring_new(int map_fd, int64_t clock_off, struct stats *st);
/* capture_poll() of one ring. */
int capture_ring_poll(struct capture_ring *c, int timeout_ms, void (*fn)(void *ctx, const struct packet *pkt),
		      void *ctx);
void capture_ring_free(struct capture_ring *c);

/*
 * The rings map: before load, capture_rings_create() makes n ring buffers of
 * `bytes` (fds[0..n-1], which the caller closes) and sets nrings; after
 * load, capture_rings_fill() puts them at 0..n-1. 0 or -errno.
 */
struct xdpbeat_bpf;
int capture_rings_create(struct xdpbeat_bpf *skel, unsigned n, uint32_t bytes, int *fds);
int capture_rings_fill(struct xdpbeat_bpf *skel, unsigned n, const int *fds);
/* Heads-only: segments of k's direction before end_seq go as length-only records (arms the lookup). */
int capture_skel_skip(struct xdpbeat_bpf *skel, const struct xb_skip_key *k, uint32_t end_seq);

/* Port -> proto id tables for both transports from cfg (tcp/udp: XB_PORTS_ENTRIES entries). */
void capture_ports_from_config(const struct config *cfg, uint16_t *tcp, uint16_t *udp);

/* ---- attach (user/capture_attach.c) ---- */

enum {
	CAPTURE_TC_IN = 0,
	CAPTURE_TC_OUT = 1,
};

struct capture_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool loopback; /* one hook only: ingress sees every packet */
	bool physical; /* has a sysfs device: native XDP on ingress */
	int xdp_link; /* XDP bpf_link fd or -1 */
	struct {
		int link; /* tcx bpf_link fd or -1 */
		bool netlink; /* fallback: clsact filter at our handle/priority */
	} tc[2]; /* CAPTURE_TC_IN, CAPTURE_TC_OUT */
	bool clsact_created; /* we created the clsact qdisc: destroy it on detach */
};

struct capture_ifaces {
	struct capture_iface *v;
	size_t n;
};

/* Names ("any" = every interface that is up) -> ifindexes. 0 or -errno + err. */
int capture_ifaces_resolve(struct capture_ifaces *l, const struct strlist *names, char *err, size_t errlen);
/*
 * Attach to every interface: ingress XDP (physical NICs) or TC (virtual
 * devices; XDPBEAT_INGRESS=xdp|tc forces one), egress TC (not on loopback).
 * 0 or -errno + err.
 */
int capture_ifaces_attach(struct capture_ifaces *l, int xdp_fd, int tc_fd, char *err, size_t errlen);
/* Detach everything attached and free the list. */
void capture_ifaces_free(struct capture_ifaces *l);

/* Program names as the kernel shows them (stale-program detection). */
#define CAPTURE_XDP_PROG_NAME "xdpbeat_xdp"
#define CAPTURE_TC_PROG_NAME "xdpbeat_tc"
/* Fixed clsact filter handle/priority of the netlink fallback (replaced on restart). */
#define CAPTURE_TC_HANDLE 0xb0e7
#define CAPTURE_TC_PRIO 0xb0e7

#endif
