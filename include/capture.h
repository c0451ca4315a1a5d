/*
 * Live capture through the kernel: XDP (ingress) and TC (egress) programs
 * filter by port (ports maps written from the config) and push records
 * through a BPF ring buffer; this module loads, attaches, polls, converts
 * records into struct packet, and detaches.
 */
#ifndef XDPBEAT_CAPTURE_H
#define XDPBEAT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "packet.h"
#include "stats.h"

struct capture;

typedef void (*packet_fn)(void *ctx, const struct packet *pkt);

/* What the command line adds to the config; a NULL struct capture_opts means all off. */
struct capture_opts {
	bool debug; /* -d: libbpf's debug messages on stderr */
};

/* Load the programs, fill the ports maps, open cfg->workers ring buffers, attach to cfg->interfaces. NULL + message in err. */
struct capture *capture_open(const struct config *cfg, struct stats *st, const struct capture_opts *opts, char *err,
			     size_t errlen);
/*
 * Wait up to timeout_ms for records in ring buffer `ring` (0..capture_rings()-1,
 * one per worker: every record of a flow is in the same one) and hand each
 * to fn. Returns records handled or -errno (-EINTR normal). One thread per ring.
 */
int capture_poll(struct capture *c, unsigned ring, int timeout_ms, packet_fn fn, void *ctx);
/* Ring buffers: cfg->workers (1..XB_MAX_RINGS) at capture_open(). */
unsigned capture_rings(const struct capture *c);
/*
 * Heads-only: the kernel sends the segments of direction k up to end_seq as
 * skipped records without payload (tcp_set_skip). Any thread. 0 or -errno.
 */
int capture_skip(struct capture *c, const struct xb_skip_key *k, uint32_t end_seq);
/* Rewrite the ports maps from cfg (SIGHUP) without detaching. */
int capture_set_ports(struct capture *c, const struct config *cfg);
/* Copy the kernel's per-CPU counters (summed) into st (KERN_* stats). */
void capture_read_stats(struct capture *c, struct stats *st);
/* "lo (tc ingress), eth0 (xdp, tc egress)": where the programs are attached. Returns the interface count. */
size_t capture_describe(const struct capture *c, char *buf, size_t len);
/* Now on the clock of the packets' timestamps (monotonic, shown as wall-clock ns). */
uint64_t capture_now(const struct capture *c);
/* Detach everything and free. Accepts NULL. */
void capture_close(struct capture *c);

#endif
