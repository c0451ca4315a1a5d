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
#include "output.h"
#include "pipeline.h"

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

static void sink(void *ctx, const char *json, size_t len, uint64_t ts)
{
	publisher_put(ctx, json, len, ts, false);
}

static void on_packet(void *ctx, const struct packet *pkt)
{
	pipeline_packet(ctx, pkt);
}

/*
 * SIGHUP: load the config again, rewrite the kernel's ports maps and hand
 * the new protocols to the pipeline (new connections use them).
 */
static struct config *reload_config(const struct opts *o, struct capture *cap, struct pipeline *pl)
{
	struct config *cfg = cli_load_config(o); /* prints what is wrong */

	if (!cfg) {
		fprintf(stderr, "xdpbeat: reload failed, keeping the running config\n");
		return NULL;
	}
	if (capture_set_ports(cap, cfg) != 0) {
		fprintf(stderr, "xdpbeat: reload: could not update the ports maps\n");
		config_free(cfg);
		return NULL;
	}
	if (pipeline_set_config(pl, cfg) != 0) {
		fprintf(stderr, "xdpbeat: reload ignored: too many reloads, restart to apply more\n");
		capture_set_ports(cap, pipeline_config(pl));
		config_free(cfg);
		return NULL;
	}
	fprintf(stderr,
		"xdpbeat: configuration reloaded (xdpbeat.interfaces, which needs privilege, xdpbeat.tcp, queue, outputs, run_as and seccomp need a restart)\n");
	return cfg;
}

/* Configs loaded by SIGHUP: alive until the pipeline is freed. */
struct reloads {
	struct config *v[MAX_RELOADS];
	size_t n;
};

/* The capture is opened (and closed here) before the outputs: no file is made when it cannot start. */
static int run_live(const struct opts *o, struct config *cfg, struct capture *cap, struct pipeline *pl,
		    struct stats *st, struct reloads *rl)
{
	char where[1024];
	uint64_t next_stats;
	size_t nif;
	int rc = 0;

	nif = capture_describe(cap, where, sizeof(where));
	fprintf(stderr, "xdpbeat: capturing on %zu interface(s): %s\n", nif, where);
	next_stats = capture_now(cap) + cfg->stats_period;
	while (!atomic_load(&exiting)) {
		int n = capture_poll(cap, 100, on_packet, pl);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "xdpbeat: ring buffer poll failed: %s\n", strerror(-n));
			rc = 1;
			break;
		}
		pipeline_tick(pl, capture_now(cap));
		if (atomic_exchange(&reload, false)) {
			struct config *nc;

			/* Connections keep the protocol config they started with, so old configs stay alive. */
			if (rl->n < MAX_RELOADS && (nc = reload_config(o, cap, pl)))
				rl->v[rl->n++] = nc;
		}
		if (cfg->stats_period && capture_now(cap) >= next_stats) {
			capture_read_stats(cap, st);
			stats_log(st, stderr, "periodic");
			next_stats = capture_now(cap) + cfg->stats_period;
		}
	}
	capture_poll(cap, 0, on_packet, pl);
	capture_read_stats(cap, st);
	capture_close(cap);
	return rc;
}

/* agent.* for every event; agent.id kept in --path.data (default home/data, as Beats), name = name setting or hostname. */
static void set_agent(struct pipeline *pl, const struct config *cfg, const char *data_dir)
{
	struct agent_info a;
	char err[512];

	if (agent_load(&a, data_dir, cfg->name, XDPBEAT_VERSION, err, sizeof(err)))
		fprintf(stderr, "xdpbeat: warning: agent.id not kept across restarts: %s\n", err);
	pipeline_set_agent(pl, a.json, a.json_len);
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct reloads rl = { .n = 0 };
	struct stats *st = NULL;
	struct config *cfg = NULL;
	struct publisher *pub = NULL;
	struct pipeline *pl = NULL;
	struct capture *cap = NULL;
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
	if (!o.pcap && !(cap = capture_open(cfg, st, &o.capture, cerr, sizeof(cerr)))) {
		fprintf(stderr, "xdpbeat: %s\n", cerr);
		free(st);
		config_free(cfg);
		return 1;
	}
	pub = publisher_new(cfg, st, &exiting);
	if (!pub)
		goto cleanup;
	pl = pipeline_new(cfg, st, sink, pub);
	if (!pl)
		goto cleanup;
	set_agent(pl, cfg, o.path_data); /* path.data/meta.json: before the privileges go */
	if (harden_start(cfg, !o.pcap))
		goto cleanup;
	if (o.pcap)
		rc = pcap_input_run(o.pcap, pl, st, &exiting) ? 1 : 0;
	else
		rc = run_live(&o, cfg, cap, pl, st, &rl);
	cap = NULL; /* closed by run_live */
	pipeline_flush(pl);
cleanup:
	capture_close(cap);
	pipeline_free(pl);
	publisher_free(pub);
	if (st)
		stats_log(st, stderr, "final");
	free(st);
	for (size_t i = 0; i < rl.n; i++)
		config_free(rl.v[i]);
	config_free(cfg);
	return rc;
}
