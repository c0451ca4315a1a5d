/*
 * Pipeline workers: one pipeline and one set of counters per thread, each
 * owning the flows whose symmetric hash falls to it.
 *
 * live:  ring buffer i --(worker i polls)--> pipeline i --> sink i
 * pcap:  reader (caller) --decode, hash--> batch --queue i--> worker i --> pipeline i --> sink i
 *
 * A pcap batch carries copies of the packets and their payloads; full
 * batches go to the worker, emptied ones come back, so the reader blocks
 * (backpressure) rather than buffering the whole file. The reader also
 * drops a clock tick into every worker's stream once per second of packet
 * time, so a worker that sees no packets for a while still expires what it
 * holds when the single pipeline would have.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers.h"

#define BATCH_PACKETS 1024
/* Payload room of a batch: more than any pcap packet (snaplen 262144). */
#define BATCH_BYTES (512u * 1024)
/* Batches per worker: one filling, the rest queued or being processed. */
#define BATCHES 4
#define TICK_NS 1000000000ull
#define LIVE_POLL_MS 100

struct batch {
	uint32_t n, used;
	struct packet pkt[BATCH_PACKETS]; /* transport 0: a clock tick at pkt.ts */
	uint8_t data[BATCH_BYTES];
};

/* A bounded queue of batches between the reader and one worker. */
struct bqueue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *v[BATCHES + 1];
	unsigned head, n;
};

struct worker {
	struct stats st; /* first: its own cache lines, written only by this thread */
	struct workers *ws;
	unsigned idx;
	pthread_t th;
	bool started;
	struct pipeline *pl;
	void *sink_ctx;
	size_t ncfgs; /* workers' configs applied to pl */
	struct bqueue todo, done; /* pcap: full batches in (NULL = end), emptied ones back */
	struct batch *fill; /* pcap, reader side: the batch being filled */
	struct batch *all[BATCHES];
	atomic_int err; /* live: the ring buffer error that stopped it */
};

struct workers {
	unsigned n;
	struct worker *w[XB_MAX_RINGS];
	const atomic_bool *stop;
	atomic_bool quit; /* workers_finish(): leave the poll loop */
	_Atomic size_t conns; /* TCP connections of every worker: max_connections is for the process */
	void (*flush)(void *sink_ctx);
	struct capture *cap;
	/* Configs loaded since start (SIGHUP): published by ncfgs, applied by each worker at a safe point. */
	const struct config *cfgs[PIPELINE_MAX_CONFIGS];
	atomic_size_t ncfgs;
	uint64_t next_tick; /* pcap reader: packet time of the next broadcast tick */
	bool feeding;
};

/* ---- batch queues ---- */

static void bq_init(struct bqueue *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
}

static void bq_destroy(struct bqueue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* Never full: a queue holds at most the BATCHES batches of its worker and one NULL. */
static void bq_push(struct bqueue *q, struct batch *b)
{
	pthread_mutex_lock(&q->mu);
	q->v[(q->head + q->n++) % (BATCHES + 1)] = b;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static struct batch *bq_pop(struct bqueue *q)
{
	struct batch *b;

	pthread_mutex_lock(&q->mu);
	while (!q->n)
		pthread_cond_wait(&q->cv, &q->mu);
	b = q->v[q->head];
	q->head = (q->head + 1) % (BATCHES + 1);
	q->n--;
	pthread_mutex_unlock(&q->mu);
	return b;
}

/* ---- set up ---- */

struct workers *workers_new(const struct config *cfg, event_sink_fn sink, void (*flush)(void *sink_ctx),
			    void *const *sink_ctx, const atomic_bool *stop)
{
	struct workers *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return NULL;
	ws->n = cfg->workers < 1 ? 1 : cfg->workers > XB_MAX_RINGS ? XB_MAX_RINGS : (unsigned)cfg->workers;
	ws->stop = stop;
	ws->flush = flush;
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = aligned_alloc(64, (sizeof(*w) + 63) / 64 * 64);

		if (!w)
			goto err;
		memset(w, 0, sizeof(*w));
		ws->w[i] = w;
		w->ws = ws;
		w->idx = i;
		bq_init(&w->todo);
		bq_init(&w->done);
		w->sink_ctx = sink_ctx[i];
		w->pl = pipeline_new_shard(cfg, ws->n, &w->st, sink, sink_ctx[i]);
		if (!w->pl)
			goto err;
		pipeline_share_conns(w->pl, &ws->conns);
	}
	return ws;
err:
	workers_free(ws);
	errno = ENOMEM;
	return NULL;
}

unsigned workers_count(const struct workers *ws)
{
	return ws->n;
}

void workers_set_agent(struct workers *ws, const char *json, size_t len)
{
	for (unsigned i = 0; i < ws->n; i++)
		pipeline_set_agent(ws->w[i]->pl, json, len);
}

int workers_set_config(struct workers *ws, const struct config *cfg)
{
	size_t n = atomic_load(&ws->ncfgs);

	/* each pipeline already holds its first config */
	if (n + 1 >= PIPELINE_MAX_CONFIGS)
		return -ENOSPC;
	ws->cfgs[n] = cfg;
	atomic_store_explicit(&ws->ncfgs, n + 1, memory_order_release);
	return 0;
}

/* Between polls: the configs loaded since the last look. */
static void apply_configs(struct worker *w)
{
	size_t n = atomic_load_explicit(&w->ws->ncfgs, memory_order_acquire);

	while (w->ncfgs < n)
		pipeline_set_config(w->pl, w->ws->cfgs[w->ncfgs++]);
}

/* The events the worker staged go to the publisher. */
static void flush_events(struct worker *w)
{
	if (w->ws->flush)
		w->ws->flush(w->sink_ctx);
}

/* ---- live ---- */

/* A config published by SIGHUP applies from the next packet on (one atomic load per packet). */
static void on_packet(void *ctx, const struct packet *pkt)
{
	struct worker *w = ctx;

	apply_configs(w);
	pipeline_packet(w->pl, pkt);
}

static void *live_main(void *arg)
{
	struct worker *w = arg;
	struct workers *ws = w->ws;

	while (!atomic_load(&ws->quit) && !atomic_load(ws->stop)) {
		int n = capture_poll(ws->cap, w->idx, LIVE_POLL_MS, on_packet, w);

		if (n < 0 && n != -EINTR) {
			atomic_store(&w->err, n);
			break;
		}
		pipeline_tick(w->pl, capture_now(ws->cap));
		flush_events(w);
	}
	capture_poll(ws->cap, w->idx, 0, on_packet, w);
	pipeline_flush(w->pl);
	flush_events(w);
	return NULL;
}

static int start_threads(struct workers *ws, void *(*fn)(void *))
{
	for (unsigned i = 0; i < ws->n; i++) {
		char name[16];
		int rc = pthread_create(&ws->w[i]->th, NULL, fn, ws->w[i]);

		if (rc) {
			workers_finish(ws);
			return -rc;
		}
		ws->w[i]->started = true;
		snprintf(name, sizeof(name), "xdpbeat-w%u", i % 100); /* < XB_MAX_RINGS: two digits */
		pthread_setname_np(ws->w[i]->th, name); /* as top -H and perf show it */
	}
	return 0;
}

/* Heads-only: a failed map update only means the body is copied after all. */
static void ask_skip(void *ctx, const struct xb_skip_key *k, uint32_t end_seq)
{
	capture_skip(ctx, k, end_seq);
}

int workers_start_live(struct workers *ws, struct capture *cap)
{
	if (capture_rings(cap) != ws->n)
		return -EINVAL;
	ws->cap = cap;
	for (unsigned i = 0; i < ws->n; i++)
		pipeline_set_skip(ws->w[i]->pl, ask_skip, cap);
	return start_threads(ws, live_main);
}

int workers_failed(const struct workers *ws)
{
	for (unsigned i = 0; i < ws->n; i++) {
		int err = atomic_load(&ws->w[i]->err);

		if (err)
			return err;
	}
	return 0;
}

/* ---- pcap ---- */

static void run_batch(struct pipeline *pl, const struct batch *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		if (b->pkt[i].transport)
			pipeline_packet(pl, &b->pkt[i]);
		else
			pipeline_tick(pl, b->pkt[i].ts);
	}
}

static void *feed_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b;

	while ((b = bq_pop(&w->todo))) {
		run_batch(w->pl, b);
		flush_events(w);
		b->n = b->used = 0;
		bq_push(&w->done, b);
	}
	pipeline_flush(w->pl);
	flush_events(w);
	return NULL;
}

int workers_start_feed(struct workers *ws)
{
	if (ws->n == 1)
		return 0;
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = ws->w[i];

		for (unsigned j = 0; j < BATCHES; j++) {
			w->all[j] = malloc(sizeof(struct batch));
			if (!w->all[j])
				return -ENOMEM;
			w->all[j]->n = w->all[j]->used = 0;
			if (j)
				bq_push(&w->done, w->all[j]);
		}
		w->fill = w->all[0];
	}
	ws->feeding = true;
	return start_threads(ws, feed_main);
}

/* Hand the reader's batch to the worker and take an emptied one (waiting for it: backpressure). */
static void send_batch(struct worker *w)
{
	bq_push(&w->todo, w->fill);
	w->fill = bq_pop(&w->done);
}

static void put_tick(struct worker *w, uint64_t ts)
{
	if (w->fill->n == BATCH_PACKETS)
		send_batch(w);
	w->fill->pkt[w->fill->n++] = (struct packet){ .ts = ts };
}

static void put_packet(struct worker *w, const struct packet *pkt)
{
	struct batch *b = w->fill;
	uint32_t len = pkt->payload_len < BATCH_BYTES ? pkt->payload_len : BATCH_BYTES;
	struct packet *p;

	if (b->n == BATCH_PACKETS || BATCH_BYTES - b->used < len) {
		send_batch(w);
		b = w->fill;
	}
	p = &b->pkt[b->n++];
	*p = *pkt;
	/* A payload cut here reaches the TCP layer as a gap (wire_len stays). */
	memcpy(b->data + b->used, pkt->payload, len);
	p->payload = b->data + b->used;
	p->payload_len = len;
	b->used += len;
}

void workers_feed(void *ctx, const struct packet *pkt)
{
	struct workers *ws = ctx;

	if (!ws->feeding) {
		pipeline_packet(ws->w[0]->pl, pkt);
		return;
	}
	if (pkt->ts >= ws->next_tick) {
		for (unsigned i = 0; i < ws->n; i++)
			put_tick(ws->w[i], pkt->ts);
		ws->next_tick = pkt->ts + TICK_NS;
	}
	put_packet(ws->w[packet_flow_hash(pkt) % ws->n], pkt);
}

/* ---- end ---- */

void workers_finish(struct workers *ws)
{
	atomic_store(&ws->quit, true);
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = ws->w[i];

		if (ws->feeding && w->started) {
			if (w->fill->n)
				send_batch(w);
			bq_push(&w->todo, NULL);
		}
	}
	for (unsigned i = 0; i < ws->n; i++) {
		if (ws->w[i]->started)
			pthread_join(ws->w[i]->th, NULL);
		ws->w[i]->started = false;
	}
	if (!ws->feeding && !ws->cap) {
		pipeline_flush(ws->w[0]->pl); /* pcap, one worker: run here */
		flush_events(ws->w[0]);
	}
	ws->feeding = false;
	ws->cap = NULL;
}

void workers_stats(const struct workers *ws, const struct stats *global, struct stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i <= ws->n; i++) {
		const struct stats *s = i < ws->n ? &ws->w[i]->st : global;

		/* other threads are counting: every value is read atomically */
		for (int k = 0; k < STAT_MAX; k++)
			out->v[k] += stats_get(s, k);
		for (int p = 0; p < PROTO_MAX; p++)
			for (int k = 0; k < PSTAT_MAX; k++)
				out->proto[p][k] += __atomic_load_n(&s->proto[p][k], __ATOMIC_RELAXED);
	}
}

void workers_free(struct workers *ws)
{
	if (!ws)
		return;
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = ws->w[i];

		if (!w)
			continue;
		pipeline_free(w->pl);
		for (unsigned j = 0; j < BATCHES; j++)
			free(w->all[j]);
		bq_destroy(&w->todo);
		bq_destroy(&w->done);
		free(w);
	}
	free(ws);
}
