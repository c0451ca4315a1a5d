/*
 * TCP stream tracker: connection table keyed by the 5-tuple (both directions
 * map to one entry), per-direction reassembly with a bounded out-of-order
 * queue, gap detection, FIN/RST, idle timeout and hard caps.
 */
#ifndef XDPBEAT_TCP_H
#define XDPBEAT_TCP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "packet.h"
#include "proto.h"
#include "stats.h"

struct tcp_tracker;

/* Finished messages go from the parsers to corr. */
struct tcp_tracker *tcp_new(const struct tcp_cfg *cfg, struct stats *st, struct corr *corr);
/* One TCP segment for protocol cfg. server_is_dst: which endpoint is the server when the connection is new. */
void tcp_packet(struct tcp_tracker *t, const struct proto_cfg *cfg, const struct packet *pkt, bool server_is_dst);
/* Close idle connections, expire their pending transactions. */
void tcp_expire(struct tcp_tracker *t, uint64_t now);
/* Close every connection (end of input). */
void tcp_close_all(struct tcp_tracker *t, uint64_t now);
void tcp_free(struct tcp_tracker *t);
/*
 * Workers: trackers that count their connections together in *count, so
 * xdpbeat.tcp.max_connections holds for the whole process. Before the first packet.
 */
void tcp_share_conns(struct tcp_tracker *t, _Atomic size_t *count);
/*
 * Heads-only capture (live): fn asks the kernel not to copy the segments of
 * one direction (k, as the packets go) up to TCP sequence end_seq, which lie
 * in a body the parser passes over; they then arrive as packet.skipped.
 */
typedef void (*tcp_skip_fn)(void *ctx, const struct xb_skip_key *k, uint32_t end_seq);
void tcp_set_skip(struct tcp_tracker *t, tcp_skip_fn fn, void *ctx);
size_t tcp_conn_count(const struct tcp_tracker *t);

#endif
