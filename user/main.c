/*
 * xdpbeat: command line, then input (pcap file or live kernel capture) ->
 * pipeline -> publisher -> outputs, and a clean stop on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "cli/cli.h"
#include "event/agent.h"
#include "harden.h"
#include "input.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "workers.h"

#define MAX_RELOADS 64

/*
 * Set by the signal handler, which may run on any thread (the outputs'
 * too), and read by the main loop and the publisher: lock-free atomics, so
 * storing from a handler is allowed.
 */
static atomic_bool exiting;
static atomic_bool reload;
_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "a signal handler may only store to a lock-free atomic");

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		atomic_store(&reload, true);
	else
		atomic_store(&exiting, true);
}

/* A worker's events go through its own producer (staged, queued in batches). */
static void sink(void *ctx, const char *json, size_t len, uint64_t ts, bool plain)
{
	producer_put(ctx, json, len, ts, plain);
}

static void sink_flush(void *ctx)
{
	producer_flush(ctx);
}

/*
 * SIGHUP: load the config again, rewrite the kernel's ports maps and hand
 * the new protocols to the pipeline (new connections use them).
 */
static struct config *reload_config(const struct opts *o, struct capture *cap, struct workers *ws,
				    const struct config *running)
{
	struct config *cfg = cli_load_config(o); /* prints what is wrong */

	if (!cfg) {
		log_error("reload failed, keeping the running config");
		return NULL;
	}
	if (capture_set_ports(cap, cfg) != 0) {
		log_error("reload: could not update the ports maps");
		config_free(cfg);
		return NULL;
	}
	if (workers_set_config(ws, cfg) != 0) {
		log_error("reload ignored: too many reloads, restart to apply more");
		capture_set_ports(cap, running);
		config_free(cfg);
		return NULL;
	}
	log_info(
		"configuration reloaded (xdpbeat.interfaces, which needs privilege, xdpbeat.tcp, workers, queue, outputs, run_as and seccomp need a restart)");
	return cfg;
}

/* Configs loaded by SIGHUP: alive until the pipeline is freed. */
struct reloads {
	struct config *v[MAX_RELOADS];
	size_t n;
};

/* The counters line, at info level (one write, as every message). */
static void print_stats(const struct stats *st, const char *label)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	if (!log_on(LOG_LVL_INFO) || !(m = open_memstream(&text, &len)))
		return;
	stats_log(st, m, label);
	fclose(m);
	log_text(LOG_LVL_INFO, text);
	free(text);
}

static void log_stats(const struct workers *ws, const struct stats *st, const char *label)
{
	struct stats sum;

	workers_stats(ws, st, &sum);
	print_stats(&sum, label);
}

/*
 * The capture is opened (and closed here) before the outputs: no file is
 * made when it cannot start. The workers poll their ring buffers; this
 * thread handles SIGHUP and the periodic counters.
 */
static int run_live(const struct opts *o, struct config *cfg, struct capture *cap, struct workers *ws, struct stats *st,
		    struct reloads *rl)
{
	const struct timespec tick = { .tv_nsec = 100 * 1000000L };
	const struct config *running = cfg;
	char where[1024];
	uint64_t next_stats;
	size_t nif;
	int rc;

	nif = capture_describe(cap, where, sizeof(where));
	log_info("capturing on %zu interface(s) with %u worker(s): %s", nif, workers_count(ws), where);
	rc = workers_start_live(ws, cap);
	if (rc) {
		log_error("starting the workers: %s", strerror(-rc));
		capture_close(cap);
		return 1;
	}
	next_stats = capture_now(cap) + cfg->stats_period;
	while (!atomic_load(&exiting) && !(rc = workers_failed(ws))) {
		nanosleep(&tick, NULL);
		if (atomic_exchange(&reload, false)) {
			struct config *nc;

			/* Connections keep the protocol config they started with, so old configs stay alive. */
			if (rl->n < MAX_RELOADS && (nc = reload_config(o, cap, ws, running)))
				running = rl->v[rl->n++] = nc;
		}
		if (cfg->stats_period && capture_now(cap) >= next_stats) {
			capture_read_stats(cap, st);
			log_stats(ws, st, "periodic");
			next_stats = capture_now(cap) + cfg->stats_period;
		}
	}
	if (rc)
		log_error("ring buffer poll failed: %s", strerror(-rc));
	workers_finish(ws);
	capture_read_stats(cap, st);
	capture_close(cap);
	return rc ? 1 : 0;
}

/* Pcap: this thread reads and decodes, the workers (or, with one, this thread) run the pipelines. */
static int run_pcap(struct pcap_input *in, struct workers *ws, struct stats *st)
{
	int rc = workers_start_feed(ws);

	if (rc) {
		log_error("starting the workers: %s", strerror(-rc));
		return 1;
	}
	rc = pcap_input_run(in, workers_feed, ws, st, &exiting) ? 1 : 0;
	workers_finish(ws);
	return rc;
}

/* One producer per worker. */
static int producers_new(struct publisher *pub, unsigned n, void **ctx)
{
	for (unsigned i = 0; i < n; i++)
		if (!(ctx[i] = publisher_producer(pub)))
			return -ENOMEM;
	return 0;
}

/* agent.* for every event; agent.id kept in --path.data (default home/data, as Beats), name = name setting or hostname. */
static void set_agent(struct workers *ws, const struct config *cfg, const char *data_dir)
{
	struct agent_info a;
	char err[512];

	if (agent_load(&a, data_dir, cfg->name, XDPBEAT_VERSION, err, sizeof(err)))
		log_warn("agent.id not kept across restarts: %s", err);
	workers_set_agent(ws, a.json, a.json_len);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct reloads rl = { .n = 0 };
	struct stats *st = NULL;
	struct config *cfg = NULL;
	struct publisher *pub = NULL;
	struct workers *ws = NULL;
	void *sink_ctx[XB_MAX_RINGS];
	struct capture *cap = NULL;
	struct pcap_input *in = NULL;
	char cerr[512] = "";
	struct sigaction sa = { .sa_handler = on_signal };
	bool done;
	int rc = cli_parse(argc, argv, &o, &done);

	if (rc || done)
		return rc;
	rc = cli_subcommand(&o, &done);
	if (done)
		return rc;
	rc = 1;
	cfg = cli_load_config(&o);
	if (!cfg)
		return 2;
	if (!o.test_config && cli_log_setup(&o, cfg)) {
		config_free(cfg);
		return 1;
	}
	if (!o.test_config)
		cli_log_config(cfg);
	if (o.test_config) {
		printf("Config OK\n");
		config_free(cfg);
		return 0;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	st = calloc(1, sizeof(*st));
	if (!st)
		goto cleanup;
	/* The input is opened (as root, if so) before the outputs: no file is made when it cannot start. */
	if (o.pcap ? !(in = pcap_input_open(o.pcap)) : !(cap = capture_open(cfg, st, &o.capture, cerr, sizeof(cerr)))) {
		if (!o.pcap)
			log_error("%s", cerr);
		free(st);
		config_free(cfg);
		return 1;
	}
	pub = publisher_new(cfg, st, &exiting);
	if (!pub)
		goto cleanup;
	if (producers_new(pub, (unsigned)cfg->workers, sink_ctx))
		goto cleanup;
	ws = workers_new(cfg, sink, sink_flush, sink_ctx, &exiting);
	if (!ws)
		goto cleanup;
	set_agent(ws, cfg, o.path_data); /* path.data/meta.json: before the privileges go */
	if (harden_start(cfg, !o.pcap))
		goto cleanup;
	if (o.pcap)
		rc = run_pcap(in, ws, st);
	else
		rc = run_live(&o, cfg, cap, ws, st, &rl);
	cap = NULL; /* closed by run_live */
cleanup:
	capture_close(cap);
	pcap_input_close(in);
	publisher_free(pub); /* drains what the workers queued, then frees their arenas */
	if (st && ws)
		log_stats(ws, st, "final");
	else if (st)
		print_stats(st, "final");
	workers_free(ws);
	free(st);
	for (size_t i = 0; i < rl.n; i++)
		config_free(rl.v[i]);
	config_free(cfg);
	return rc;
}
