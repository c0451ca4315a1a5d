/*
 * Outputs: one `const struct output_ops` per user/output_<name>.c, listed in
 * user/outputs.c. The publisher hands them batches of events; an output
 * reports, per event, whether it was acknowledged (stored for good) or
 * failed for good. Nothing is dropped without a counter.
 */
#ifndef XDPBEAT_OUTPUT_H
#define XDPBEAT_OUTPUT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "json_buf.h"
#include "stats.h"

struct event {
	json_t *doc; /* parsed form, only if an output asked for it (owned) */
	uint64_t ts; /* ns: @timestamp, for date-patterned index names */
	char *line; /* the event as compact JSON, no newline (owned, or in slab) */
	size_t len;
	void *slab; /* the event_arena slab line lives in, or NULL: line is malloc'ed */
	bool plain; /* surely no top-level @metadata of its own (the pipeline knows): outputs need not look */
};

/*
 * Event text storage of the publisher (user/event_arena.c): copy sets
 * e->line/len/slab (0, or -1 on ENOMEM); one producer thread. event_clear()
 * releases the slab. event_arena_free() once every event is cleared.
 */
struct event_arena;
struct event_arena *event_arena_new(void);
int event_arena_copy(struct event_arena *a, struct event *e, const char *text, size_t len);
void event_slab_release(void *slab);
void event_arena_free(struct event_arena *a);

/* e->line; made from e->doc if only the tree is there (NULL on ENOMEM). */
const char *event_line(struct event *e);
void event_clear(struct event *e);
/*
 * Console and file outputs (user/output/metadata.c): write line (a JSON
 * object) to f as one NDJSON line with Beats' @metadata {beat, type,
 * version} in front (followed by the members of the event's own top-level
 * @metadata object, if it has one: a plain line, struct event's, is not
 * searched); *written (may be NULL) = bytes. 0, -EINVAL (not an object),
 * -ENOMEM or -EIO.
 */
int event_write_line(FILE *f, const char *line, size_t len, bool plain, size_t *written);
/* Bytes event_write_line writes for this line. */
size_t event_line_size(const char *line, size_t len, bool plain);
/* The same @metadata added to a parsed event (pretty console); 0 or -ENOMEM. */
int event_add_metadata(json_t *doc);
/*
 * Elasticsearch documents leave @metadata out: for a line with a top-level
 * @metadata object, b = the line without it and raw_index (outlen bytes) =
 * its raw_index string ("" without one); 1. 0: the line has none (b and
 * raw_index untouched; always for a plain line). -ENOMEM.
 */
int event_strip_metadata(const char *line, size_t len, bool plain, struct json_buf *b, char *raw_index, size_t outlen);

struct output_ops {
	const char *name; /* "console", "file", "elasticsearch": key under output. */
	const struct cfg_field *cfg_fields;
	void *(*cfg_new)(void);
	void (*cfg_free)(void *priv);
	/*
	 * Optional, at config load once every setting is read: check settings
	 * that depend on each other or on other sections (cfg->setup) and
	 * complete priv. 0 or -EINVAL with err naming the key (cfg_error).
	 */
	int (*check)(void *priv, const struct config *cfg, struct cfg_err *err);
	/* Start the output (connect, install template...). NULL + errno, message on stderr. */
	void *(*open)(const void *priv, const struct config *cfg, struct stats *st);
	/*
	 * Deliver n events. Returns the number of events handled for good
	 * (acknowledged or failed and counted), in order from the first; the
	 * publisher re-offers the rest. May block (retries, backoff) but must
	 * return promptly once *stop is set (the shutdown deadline passed).
	 */
	size_t (*publish)(void *out, struct event *ev, size_t n, const atomic_bool *stop);
	void (*close)(void *out);
	/* Optional, `xdpbeat test output`: connect and report to out like Beats; 0 when all is well. */
	int (*test)(const void *priv, FILE *out);
	/* Optional, `xdpbeat export template`: the index template body (after check), or NULL. */
	const char *(*template_body)(const void *priv);
};

extern const struct output_ops *const output_registry[];
const struct output_ops *output_find(const char *name);

/* ---- publisher (user/publisher.c): bounded queue + output thread ---- */

struct publisher;

/* exiting (may be NULL): once set, a full queue drops (and counts) instead of blocking. */
struct publisher *publisher_new(const struct config *cfg, struct stats *st, const atomic_bool *exiting);
/*
 * Queue one event (a copy of the json text is queued). Blocks while the queue is full
 * (backpressure) unless nonblock, in which case a full queue drops the event
 * and counts it. Returns 0 or -ENOSPC (dropped, counted).
 */
int publisher_put(struct publisher *p, const char *json, size_t len, uint64_t ts, bool nonblock);
/*
 * Every other thread that puts events (the pipeline workers) takes a
 * producer of its own once, before it starts: event text is copied into
 * the producer's arena outside the queue's lock, and queued PRODUCER_BATCH
 * events at a time under one lock (blocking while the queue is full, as
 * publisher_put). producer_flush() queues what is staged: the owner calls
 * it when it has nothing more for now (end of a poll, of a batch). Both
 * return 0 or -ENOSPC (events dropped, counted). Freed with the publisher,
 * which flushes what is left; NULL when out of memory or past
 * PUBLISHER_MAX_PRODUCERS.
 */
#define PUBLISHER_MAX_PRODUCERS 64
struct producer;
struct producer *publisher_producer(struct publisher *p);
int producer_put(struct producer *pr, const char *json, size_t len, uint64_t ts, bool plain);
int producer_flush(struct producer *pr);
/* Flush the queue to the outputs within cfg->shutdown_timeout, stop the thread, free. */
void publisher_free(struct publisher *p);

#endif
