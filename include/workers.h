/*
 * Flow-sharded pipeline workers (xdpbeat.workers). Worker i owns one
 * pipeline (TCP table, correlator, parser states, UDP pairing) and its own
 * counters; every packet of a flow goes to the worker its symmetric flow
 * hash picks, so a flow is handled by one thread with no locks on the way.
 *
 * Live: worker i is a thread polling the kernel's ring buffer i (the BPF
 * programs already wrote each record to its flow's ring). Pcap: the calling
 * thread reads and decodes the file and hands packets over in batches
 * (workers_feed); with one worker it runs the pipeline itself, as before.
 */
#ifndef XDPBEAT_WORKERS_H
#define XDPBEAT_WORKERS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "capture.h"
#include "config.h"
#include "packet.h"
#include "pipeline.h"
#include "stats.h"

struct workers;

/*
 * cfg->workers pipelines; worker i's events go to sink(sink_ctx[i], ...),
 * and flush(sink_ctx[i]) follows each poll or batch (events may be staged).
 * Whole-process caps: xdpbeat.tcp.max_connections is one count over every
 * worker; max_total_bytes is shared out evenly (flows spread by hash), so
 * the sum stays within it.
 * stop (a signal) ends the run functions.
 */
struct workers *workers_new(const struct config *cfg, event_sink_fn sink, void (*flush)(void *sink_ctx),
			    void *const *sink_ctx, const atomic_bool *stop);
unsigned workers_count(const struct workers *ws);
/* agent.* of every event (pipeline_set_agent on each). Before a run. */
void workers_set_agent(struct workers *ws, const char *json, size_t len);

/*
 * Live: start one thread per ring buffer of cap (capture_rings(cap) must be
 * workers_count()). Returns 0 or -errno.
 */
int workers_start_live(struct workers *ws, struct capture *cap);
/* A worker stopped on a ring buffer error: its -errno, else 0. */
int workers_failed(const struct workers *ws);
/* Live, from any thread but the workers': connections started from now on use cfg (SIGHUP). -ENOSPC when full. */
int workers_set_config(struct workers *ws, const struct config *cfg);

/* Pcap: start the worker threads (none with one worker: workers_feed runs its pipeline). 0 or -errno. */
int workers_start_feed(struct workers *ws);
/* Pcap: the packet callback of pcap_input_run() (ctx = the workers). Copies what it keeps. */
void workers_feed(void *ctx, const struct packet *pkt);

/*
 * End of input or stop: live threads take what is left in their rings;
 * pcap workers finish the packets handed to them. Every pipeline is then
 * flushed (each on its own thread) and the threads joined.
 */
void workers_finish(struct workers *ws);

/* What the pipelines counted, added to global (the publisher's and inputs' counters) in out. */
void workers_stats(const struct workers *ws, const struct stats *global, struct stats *out);
void workers_free(struct workers *ws);

#endif
