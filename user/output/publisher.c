/*
 * Publisher: a bounded in-memory queue between the pipeline and the
 * outputs, drained by one thread. A full queue blocks the pipeline
 * (backpressure); on shutdown the queue is flushed within
 * shutdown_timeout and whatever could not be delivered is counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "output.h"

struct publisher {
	const struct config *cfg;
	struct stats *st;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	pthread_t thread;
	bool thread_started;
	struct event *ring;
	size_t cap, head, count;
	struct event_arena *arena; /* the queued events' text, put by publisher_put() */
	struct producer *producers[PUBLISHER_MAX_PRODUCERS];
	size_t nproducers;
	bool closing;
	atomic_bool stop; /* outputs give up: the shutdown deadline passed */
	const atomic_bool *exiting; /* set by a signal: a full queue stops holding the pipeline */
	void *outs[4];
	const struct output_ops *ops[4];
	size_t nouts;
};

/* A malloc'ed copy of doc as compact JSON, made with b. */
static char *serialize(struct json_buf *b, const json_t *doc, size_t *len)
{
	char *line;

	b->len = 0;
	if (json_write(b, doc) != 0)
		return NULL;
	line = malloc(b->len + 1);
	if (!line)
		return NULL;
	memcpy(line, b->p, b->len);
	line[b->len] = '\0';
	*len = b->len;
	return line;
}

const char *event_line(struct event *e)
{
	if (!e->line && e->doc) {
		struct json_buf b = { 0 };

		e->line = serialize(&b, e->doc, &e->len);
		json_buf_free(&b);
	}
	return e->line;
}

void event_clear(struct event *e)
{
	json_decref(e->doc);
	if (e->slab)
		event_slab_release(e->slab);
	else
		free(e->line);
	memset(e, 0, sizeof(*e));
}

static void deadline_in(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

/*
 * Deliver batch to every output until each has handled all of it or stop is
 * set. An event some output could not take is counted once as dropped.
 */
static void deliver(struct publisher *p, struct event *batch, size_t n)
{
	size_t least = n;

	for (size_t i = 0; i < n; i++)
		event_line(&batch[i]);
	for (size_t o = 0; o < p->nouts; o++) {
		size_t done = 0;

		while (done < n && !atomic_load(&p->stop))
			done += p->ops[o]->publish(p->outs[o], batch + done, n - done, &p->stop);
		if (done < least)
			least = done;
	}
	log_debug("publisher", "batch of %zu events: %zu taken by every output", n, least);
	stats_add(p->st, STAT_EVENTS_PUBLISHED, least);
	if (least < n)
		stats_add(p->st, STAT_DROP_QUEUE, n - least);
	for (size_t i = 0; i < n; i++)
		event_clear(&batch[i]);
}

static size_t take_batch(struct publisher *p, struct event *batch, size_t max)
{
	size_t n = p->count < max ? p->count : max;

	for (size_t i = 0; i < n; i++) {
		batch[i] = p->ring[p->head];
		p->head = (p->head + 1) % p->cap;
	}
	p->count -= n;
	return n;
}

/* Wait for a full batch, or until the first queued event has waited flush_timeout. */
static void wait_for_batch(struct publisher *p, size_t max)
{
	struct timespec ts;

	while (p->count == 0 && !p->closing)
		pthread_cond_wait(&p->not_empty, &p->mu);
	if (p->count >= max || p->closing || p->cfg->queue.flush_timeout == 0)
		return;
	deadline_in(&ts, p->cfg->queue.flush_timeout);
	while (p->count < max && !p->closing)
		if (pthread_cond_timedwait(&p->not_empty, &p->mu, &ts) == ETIMEDOUT)
			break;
}

static void *publisher_main(void *arg)
{
	struct publisher *p = arg;
	struct event one;
	size_t max = (size_t)p->cfg->queue.flush_min_events;
	struct event *batch;

	if (max < 1)
		max = 1;
	batch = calloc(max, sizeof(*batch));
	if (!batch) {
		batch = &one; /* degrade to one event at a time rather than stall */
		max = 1;
	}
	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t n;

		wait_for_batch(p, max);
		if (p->count == 0) {
			if (p->closing)
				break;
			continue;
		}
		n = take_batch(p, batch, max);
		pthread_cond_broadcast(&p->not_full);
		pthread_mutex_unlock(&p->mu);
		deliver(p, batch, n);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	if (batch != &one)
		free(batch);
	return NULL;
}

static void close_outputs(struct publisher *p)
{
	for (size_t o = 0; o < p->nouts; o++)
		p->ops[o]->close(p->outs[o]);
	p->nouts = 0;
}

struct publisher *publisher_new(const struct config *cfg, struct stats *st, const atomic_bool *exiting)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = cfg;
	p->st = st;
	p->exiting = exiting;
	p->cap = cfg->queue.events > 0 ? (size_t)cfg->queue.events : 4096;
	p->ring = calloc(p->cap, sizeof(*p->ring));
	p->arena = event_arena_new();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	if (!p->ring || !p->arena)
		goto err;
	for (size_t i = 0; i < cfg->noutputs && p->nouts < 4; i++) {
		const struct output_cfg *oc = &cfg->outputs[i];
		void *out;

		if (!oc->enabled)
			continue;
		out = oc->ops->open(oc->priv, cfg, st);
		if (!out) {
			log_error("output %s failed to start: %s", oc->ops->name, strerror(errno));
			goto err;
		}
		log_debug("publisher", "output %s started", oc->ops->name);
		p->ops[p->nouts] = oc->ops;
		p->outs[p->nouts++] = out;
	}
	if (pthread_create(&p->thread, NULL, publisher_main, p) != 0)
		goto err;
	pthread_setname_np(p->thread, "xdpbeat-publish");
	p->thread_started = true;
	return p;
err:
	close_outputs(p);
	event_arena_free(p->arena);
	free(p->ring);
	free(p);
	errno = errno ? errno : ENOMEM;
	return NULL;
}

/* A thread's staging area: events copied into its own arena, queued PRODUCER_BATCH at a time under one lock. */
#define PRODUCER_BATCH 64

struct producer {
	struct publisher *p;
	struct event_arena *arena;
	size_t n;
	struct event pend[PRODUCER_BATCH];
};

struct producer *publisher_producer(struct publisher *p)
{
	struct producer *pr;

	if (p->nproducers == PUBLISHER_MAX_PRODUCERS || !(pr = calloc(1, sizeof(*pr))))
		return NULL;
	pr->p = p;
	pr->arena = event_arena_new();
	if (!pr->arena) {
		free(pr);
		return NULL;
	}
	p->producers[p->nproducers++] = pr;
	return pr;
}

/* Blocks while the queue is full (backpressure), in slices so a signal is noticed; p->mu held. */
static bool wait_for_room(struct publisher *p, bool nonblock)
{
	while (p->count == p->cap && !nonblock && !p->closing && !(p->exiting && atomic_load(p->exiting))) {
		struct timespec ts;

		deadline_in(&ts, 100000000u);
		pthread_cond_timedwait(&p->not_full, &p->mu, &ts);
	}
	return p->count < p->cap && !p->closing;
}

/* Queue ev (its text already copied); p->mu held. */
static void enqueue(struct publisher *p, const struct event *ev)
{
	p->ring[(p->head + p->count) % p->cap] = *ev;
	p->count++;
	if (p->count == 1 || p->count == (size_t)p->cfg->queue.flush_min_events)
		pthread_cond_signal(&p->not_empty);
}

int producer_flush(struct producer *pr)
{
	struct publisher *p = pr->p;
	size_t queued = 0, n = pr->n;

	if (!n)
		return 0;
	pthread_mutex_lock(&p->mu);
	for (; queued < n && wait_for_room(p, false); queued++)
		enqueue(p, &pr->pend[queued]);
	pthread_mutex_unlock(&p->mu);
	pr->n = 0;
	if (queued == n)
		return 0;
	stats_add(p->st, STAT_DROP_QUEUE, n - queued);
	for (size_t j = queued; j < n; j++)
		event_clear(&pr->pend[j]);
	return -ENOSPC;
}

int producer_put(struct producer *pr, const char *json, size_t len, uint64_t ts, bool plain)
{
	struct event *ev = &pr->pend[pr->n];

	*ev = (struct event){ .ts = ts, .plain = plain };
	/* copied outside the lock: only the calling thread fills its arena */
	if (event_arena_copy(pr->arena, ev, json, len)) {
		stats_add(pr->p->st, STAT_EVENTS_FAILED, 1);
		return -ENOMEM;
	}
	if (++pr->n == PRODUCER_BATCH)
		return producer_flush(pr);
	return 0;
}

int publisher_put(struct publisher *p, const char *json, size_t len, uint64_t ts, bool nonblock)
{
	struct event ev = { .ts = ts };

	/* copied outside the lock: only this thread fills p->arena */
	if (event_arena_copy(p->arena, &ev, json, len)) {
		stats_add(p->st, STAT_EVENTS_FAILED, 1);
		return -ENOMEM;
	}
	pthread_mutex_lock(&p->mu);
	if (!wait_for_room(p, nonblock)) {
		pthread_mutex_unlock(&p->mu);
		stats_add(p->st, STAT_DROP_QUEUE, 1);
		event_clear(&ev);
		return -ENOSPC;
	}
	enqueue(p, &ev);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Wait for the thread to drain the queue; after the deadline tell the outputs to stop. */
static void drain(struct publisher *p)
{
	struct timespec ts;
	int rc = 0;

	deadline_in(&ts, p->cfg->shutdown_timeout);
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	pthread_cond_broadcast(&p->not_empty);
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->mu);
	rc = pthread_timedjoin_np(p->thread, NULL, &ts);
	if (rc == ETIMEDOUT) {
		log_debug("publisher", "shutdown_timeout reached with events queued: stopping the outputs");
		atomic_store(&p->stop, true);
		pthread_join(p->thread, NULL);
	}
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nproducers; i++)
		producer_flush(p->producers[i]); /* what their threads staged last */
	if (p->thread_started)
		drain(p);
	while (p->count) {
		struct event e;

		take_batch(p, &e, 1);
		stats_add(p->st, STAT_DROP_QUEUE, 1);
		event_clear(&e);
	}
	close_outputs(p);
	event_arena_free(p->arena);
	for (size_t i = 0; i < p->nproducers; i++) {
		event_arena_free(p->producers[i]->arena);
		free(p->producers[i]);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->not_empty);
	pthread_cond_destroy(&p->not_full);
	free(p->ring);
	free(p);
}
