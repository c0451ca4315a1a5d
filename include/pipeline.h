/*
 * The packet pipeline: decoded packets in, transactions out. Wires the TCP
 * tracker, the parsers, the correlator and the event writer together, and
 * keeps the clock (packet time for pcap input, wall clock ticks for live
 * capture).
 */
#ifndef XDPBEAT_PIPELINE_H
#define XDPBEAT_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "packet.h"
#include "stats.h"
#include "tcp.h"

/*
 * Receives every finished transaction: one compact JSON object (not owned:
 * copy it), its @timestamp, and plain: it surely holds no top-level
 * @metadata (struct event's plain).
 */
typedef void (*event_sink_fn)(void *ctx, const char *json, size_t len, uint64_t ts, bool plain);

struct pipeline *pipeline_new(const struct config *cfg, struct stats *st, event_sink_fn sink, void *sink_ctx);
/*
 * One of `shares` pipelines (workers): each gets 1/shares of cfg->tcp's
 * max_total_bytes; max_connections is counted together (pipeline_share_conns).
 */
struct pipeline *pipeline_new_shard(const struct config *cfg, unsigned shares, struct stats *st, event_sink_fn sink,
				    void *sink_ctx);
/* agent.* of every event from now on (event_writer_set_agent). */
void pipeline_set_agent(struct pipeline *pl, const char *json, size_t len);
/* Workers: count TCP connections together with the other pipelines in *count (tcp_share_conns). */
void pipeline_share_conns(struct pipeline *pl, _Atomic size_t *count);
/* Live, heads-only capture: how the TCP layer asks the kernel to skip bodies (tcp_set_skip). */
void pipeline_set_skip(struct pipeline *pl, tcp_skip_fn fn, void *ctx);
/* Process one packet. Advances the clock to pkt->ts. */
void pipeline_packet(struct pipeline *pl, const struct packet *pkt);
/* Advance the clock (live mode): expire transactions and idle connections. */
void pipeline_tick(struct pipeline *pl, uint64_t now);
/* End of input: close all connections (FIN to parsers), expire everything pending. */
void pipeline_flush(struct pipeline *pl);
void pipeline_free(struct pipeline *pl);

/*
 * Use cfg's protocols for packets from now on (SIGHUP). Earlier configs
 * must stay alive: their connections and pending requests still use them,
 * and they are swept and flushed until the pipeline is freed. -ENOSPC after
 * PIPELINE_MAX_CONFIGS configs.
 */
#define PIPELINE_MAX_CONFIGS 64
int pipeline_set_config(struct pipeline *pl, const struct config *cfg);

/* Current pipeline time (ns since epoch). */
uint64_t pipeline_now(const struct pipeline *pl);
/* The newest config (pipeline_set_config). */
const struct config *pipeline_config(const struct pipeline *pl);

#endif
