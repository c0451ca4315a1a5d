/*
 * The pipeline wires the stages together: it picks the protocol for each
 * packet (kernel hint or port), hands TCP segments to the tracker and
 * datagrams to the protocol, and gives the correlator a callback into the
 * event writer, whose text goes to the sink. It keeps the clock and sweeps
 * timeouts once per second of that clock.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "corr.h"
#include "event/event.h"
#include "json_buf.h"
#include "log.h"
#include "pipeline.h"
#include "processors.h"
#include "tcp.h"

#define SWEEP_NS 1000000000ull

struct pipeline {
	const struct config *cfg; /* the newest */
	const struct config *cfgs[PIPELINE_MAX_CONFIGS]; /* every config still in use, oldest first */
	struct proc_plan **plans[PIPELINE_MAX_CONFIGS]; /* per cfgs[i]->protos[j]: its processors' text plan, or NULL */
	size_t ncfgs;
	struct stats *st;
	event_sink_fn sink;
	void *sink_ctx;
	struct tcp_cfg tcp_cfg; /* cfg->tcp with this pipeline's share of the caps */
	struct tcp_tracker *tcp;
	struct corr *corr;
	struct event_writer *ew;
	struct json_buf jb;
	uint64_t now;
	uint64_t next_sweep;
	uint64_t leap; /* a clock jump of over CLOCK_LEAP_NS waiting for a second packet to confirm it */
};

/*
 * The processors' plan for protocol pc of one of the configs in use with
 * the global chain global (NULL: none, decide per event): a connection of
 * an older config runs the newest global processors, not the plan's.
 */
static const struct proc_plan *plan_of(const struct pipeline *pl, const struct proto_cfg *pc,
				       const struct proc_chain *global)
{
	for (size_t c = pl->ncfgs; c-- > 0;) {
		const struct config *cfg = pl->cfgs[c];

		if (pc >= cfg->protos && pc < cfg->protos + cfg->nprotos)
			return pl->plans[c] && cfg->processors == global ? pl->plans[c][pc - cfg->protos] : NULL;
	}
	return NULL;
}

/* Plans for cfg's protocols, in slot c (none without processors; a failed one is left NULL). */
static void plan_config(struct pipeline *pl, size_t c)
{
	const struct config *cfg = pl->cfgs[c];
	bool any = cfg->processors != NULL;

	for (size_t i = 0; i < cfg->nprotos; i++)
		any |= cfg->protos[i].processors != NULL;
	if (!any || !(pl->plans[c] = calloc(cfg->nprotos, sizeof(*pl->plans[c]))))
		return;
	for (size_t i = 0; i < cfg->nprotos; i++)
		pl->plans[c][i] = proc_plan_new(cfg->protos[i].processors, cfg->processors, event_may_have,
						(void *)&cfg->protos[i]);
}

/* The correlator's output: the event text to the sink. */
static void emit(void *ctx, const struct proto_cfg *cfg, const struct flow *f, const struct msg *req,
		 const struct msg *resp)
{
	struct pipeline *pl = ctx;

	const struct proc_chain *global = pl->cfg->processors;
	bool meta = false;
	int rc;

	if (event_write(pl->ew, &pl->jb, cfg, f, req, resp)) {
		stats_add(pl->st, STAT_EVENTS_FAILED, 1);
		return;
	}
	if (cfg->processors || global) {
		rc = proc_apply_text(plan_of(pl, cfg, global), cfg->processors, global, &pl->jb, pl->st, &meta);
		if (rc == PROC_DROP) {
			log_debug("processors", "%s event dropped by a processor", cfg->ops->name);
			return;
		}
		if (rc == -ENOMEM) {
			stats_add(pl->st, STAT_EVENTS_FAILED, 1);
			return;
		}
	}
	pl->sink(pl->sink_ctx, pl->jb.p, pl->jb.len, req->ts, !meta);
}

/* A byte cap shared by `shares` pipelines: each gets its part, rounded up (0 stays 0). */
static uint64_t share_of(uint64_t cap, unsigned shares)
{
	return cap / shares + (cap % shares != 0);
}

struct pipeline *pipeline_new_shard(const struct config *cfg, unsigned shares, struct stats *st, event_sink_fn sink,
				    void *sink_ctx)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	struct corr_limits lim;

	if (!pl)
		return NULL;
	if (shares == 0)
		shares = 1;
	pl->tcp_cfg = cfg->tcp;
	pl->tcp_cfg.max_total_bytes = share_of(cfg->tcp.max_total_bytes, shares);
	if (pl->tcp_cfg.max_stream_bytes > pl->tcp_cfg.max_total_bytes)
		pl->tcp_cfg.max_stream_bytes = pl->tcp_cfg.max_total_bytes;
	lim = (struct corr_limits){ .max_total_bytes = pl->tcp_cfg.max_total_bytes };
	pl->cfg = cfg;
	pl->cfgs[pl->ncfgs++] = cfg;
	plan_config(pl, 0);
	pl->st = st;
	pl->sink = sink;
	pl->sink_ctx = sink_ctx;
	pl->ew = event_writer_new();
	pl->corr = corr_new(&lim, st, emit, pl);
	pl->tcp = pl->corr ? tcp_new(&pl->tcp_cfg, st, pl->corr) : NULL;
	if (!pl->tcp || !pl->corr || !pl->ew) {
		pipeline_free(pl);
		errno = ENOMEM;
		return NULL;
	}
	event_writer_set_networks(pl->ew, cfg->internal_networks);
	return pl;
}

struct pipeline *pipeline_new(const struct config *cfg, struct stats *st, event_sink_fn sink, void *sink_ctx)
{
	return pipeline_new_shard(cfg, 1, st, sink, sink_ctx);
}

void pipeline_share_conns(struct pipeline *pl, _Atomic size_t *count)
{
	tcp_share_conns(pl->tcp, count);
}

void pipeline_set_skip(struct pipeline *pl, tcp_skip_fn fn, void *ctx)
{
	tcp_set_skip(pl->tcp, fn, ctx);
}

void pipeline_set_agent(struct pipeline *pl, const char *json, size_t len)
{
	event_writer_set_agent(pl->ew, json, len);
}

int pipeline_set_config(struct pipeline *pl, const struct config *cfg)
{
	if (pl->ncfgs == PIPELINE_MAX_CONFIGS)
		return -ENOSPC;
	pl->cfgs[pl->ncfgs] = cfg;
	plan_config(pl, pl->ncfgs++);
	pl->cfg = cfg;
	event_writer_set_networks(pl->ew, cfg->internal_networks);
	return 0;
}

uint64_t pipeline_now(const struct pipeline *pl)
{
	return pl->now;
}

const struct config *pipeline_config(const struct pipeline *pl)
{
	return pl->cfg;
}

/* Protocol-private expiry for every config still in use. */
static void expire_protocols(struct pipeline *pl, uint64_t now)
{
	for (size_t c = 0; c < pl->ncfgs; c++) {
		for (size_t i = 0; i < pl->cfgs[c]->nprotos; i++) {
			const struct proto_cfg *pc = &pl->cfgs[c]->protos[i];

			if (pc->ops->expire)
				pc->ops->expire(pl->corr, pc, now);
		}
	}
}

static void sweep(struct pipeline *pl, uint64_t now)
{
	tcp_expire(pl->tcp, now);
	corr_expire(pl->corr, now);
	expire_protocols(pl, now);
}

/*
 * The clock is the newest packet time. One packet far ahead of the others
 * (a bad timestamp in a capture) would expire every connection and then
 * freeze the clock: a jump of over an hour is taken only when the next
 * packet is that far ahead too.
 */
#define CLOCK_LEAP_NS (3600ULL * 1000000000ULL)

void pipeline_tick(struct pipeline *pl, uint64_t now)
{
	if (now > pl->now && pl->now && now - pl->now > CLOCK_LEAP_NS) {
		if (!pl->leap) {
			pl->leap = now;
			return;
		}
		now = now < pl->leap ? now : pl->leap;
	}
	pl->leap = 0;
	if (now > pl->now)
		pl->now = now;
	if (pl->now < pl->next_sweep)
		return;
	pl->next_sweep = pl->now + SWEEP_NS;
	sweep(pl, pl->now);
}

static const struct proto_cfg *proto_by_id(const struct config *cfg, unsigned id)
{
	for (size_t i = 0; i < cfg->nprotos; i++)
		if ((unsigned)cfg->protos[i].ops->id == id)
			return &cfg->protos[i];
	return NULL;
}

/* The protocol of pkt and whether its destination is the server. */
static const struct proto_cfg *classify(const struct config *cfg, const struct packet *pkt, bool *server_is_dst)
{
	const struct proto_cfg *pc;

	if (pkt->proto_hint && (pc = proto_by_id(cfg, pkt->proto_hint))) {
		*server_is_dst = pkt->server_is_dst != 2;
		return pc;
	}
	pc = config_proto_for_port(cfg, pkt->transport, pkt->dport);
	*server_is_dst = pc != NULL;
	if (!pc)
		pc = config_proto_for_port(cfg, pkt->transport, pkt->sport);
	return pc;
}

static void udp_packet(struct pipeline *pl, const struct proto_cfg *pc, const struct packet *pkt, bool server_is_dst)
{
	struct flow f;
	struct conn c;

	stats_add(pl->st, STAT_UDP_PACKETS, 1);
	if (!pc->ops->parse_udp || pkt->payload_len == 0)
		return;
	flow_from_packet(&f, pkt, server_is_dst);
	corr_udp_conn(&c, pl->corr, pc, &f);
	pc->ops->parse_udp(&c, server_is_dst ? DIR_C2S : DIR_S2C, pkt->payload, pkt->payload_len, pkt->ts);
}

void pipeline_packet(struct pipeline *pl, const struct packet *pkt)
{
	const struct proto_cfg *pc;
	bool server_is_dst = true;

	stats_add(pl->st, STAT_PACKETS, 1);
	stats_add(pl->st, STAT_BYTES, pkt->wire_len);
	pipeline_tick(pl, pkt->ts);
	pc = classify(pl->cfg, pkt, &server_is_dst);
	if (!pc) {
		stats_add(pl->st, STAT_NOT_WATCHED, 1);
		return;
	}
	if (pkt->transport == IPPROTO_TCP && pc->ops->parse)
		tcp_packet(pl->tcp, pc, pkt, server_is_dst);
	else if (pkt->transport == IPPROTO_UDP)
		udp_packet(pl, pc, pkt, server_is_dst);
}

void pipeline_flush(struct pipeline *pl)
{
	tcp_close_all(pl->tcp, pl->now);
	corr_expire(pl->corr, UINT64_MAX / 2);
	expire_protocols(pl, UINT64_MAX / 2);
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	tcp_free(pl->tcp);
	corr_free(pl->corr);
	event_writer_free(pl->ew);
	json_buf_free(&pl->jb);
	for (size_t c = 0; c < pl->ncfgs; c++) {
		for (size_t i = 0; pl->plans[c] && i < pl->cfgs[c]->nprotos; i++)
			proc_plan_free(pl->plans[c][i]);
		free(pl->plans[c]);
	}
	free(pl);
}
