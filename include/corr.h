/*
 * The correlator: pairs requests with responses into transactions and hands
 * each to the next stage through a callback. One per pipeline.
 *
 * TCP: a queue per connection (struct conn.q), FIFO for pipelined
 * protocols, by id when the response has one (msg_set_id), with the
 * protocol's queue_max_messages/queue_max_bytes and the total memory cap.
 * UDP: one table keyed by flow + protocol + id. Requests that get no answer
 * within the protocol's timeout, or whose connection closes, are published
 * without a response (unanswered, or OK when quiet); nothing is dropped
 * without a counter.
 *
 * Parsers reach it only through the functions below, with the struct conn
 * the TCP layer (or, for a datagram, the pipeline) gives them; they never
 * walk its queue.
 */
#ifndef XDPBEAT_CORR_H
#define XDPBEAT_CORR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "msg.h"
#include "stats.h"

struct proto_cfg;
struct corr;

/* Requests of one connection waiting for their responses (the correlator's). */
struct corr_queue {
	struct msg *head, *tail;
	size_t n;
	uint64_t bytes; /* sum of queue_size, for queue_max_bytes */
};

/* The parser's handle on one TCP connection or one UDP datagram exchange. */
struct conn {
	struct flow flow;
	const struct proto_cfg *cfg; /* cfg->ops, cfg->priv: the protocol and its settings */
	struct corr *corr;
	void *pstate; /* ops->conn_new() (TCP only) */
	struct corr_queue q; /* TCP only */
	/*
	 * TCP: a parser that knows the length of the message it is in sets
	 * need[dir] to the bytes it wants buffered before the next parse call
	 * (0: call with whatever arrives). Reset by the TCP layer on every call.
	 */
	size_t need[2];
	/*
	 * TCP: of the bytes the last parse call consumed, those it passed over
	 * without parsing to find its place again after a gap or a parse error
	 * (the rest of a cut message); the TCP layer counts them as dropped for
	 * that loss, not as consumed. Reset by the TCP layer on every call.
	 */
	size_t passed[2];
	uint64_t last_ts;
};

/* Receives every finished transaction (req and resp are freed after it returns; resp may be NULL). */
typedef void (*corr_emit_fn)(void *ctx, const struct proto_cfg *cfg, const struct flow *f, const struct msg *req,
			     const struct msg *resp);

struct corr_limits {
	uint64_t max_total_bytes; /* what queued requests may keep in all (xdpbeat.tcp.max_total_bytes) */
};

struct corr *corr_new(const struct corr_limits *lim, struct stats *st, corr_emit_fn emit, void *ctx);
/* Publishes every UDP request still waiting (unanswered), then frees. */
void corr_free(struct corr *k);
/* Publish waiting UDP requests older than their protocol's timeout. */
void corr_expire(struct corr *k, uint64_t now);

/* A handle for a datagram exchange on flow f (UDP parsers, protocol expiry). */
void corr_udp_conn(struct conn *c, struct corr *k, const struct proto_cfg *cfg, const struct flow *f);

/* ---- for the TCP layer ---- */

/* Publish c's requests older than its transaction_timeout. */
void corr_conn_expire(struct conn *c, uint64_t now);
/* The connection is gone: publish every request still waiting. */
void corr_conn_close(struct conn *c);

/* ---- for parsers ---- */

/* Queue a request (takes ownership). A noreply request is published at once. */
void corr_request(struct conn *c, struct msg *req);
/*
 * Pair resp with its request and publish (takes ownership): by id when resp
 * has one (UDP always), else the oldest queued. Without a request, as
 * corr_unmatched.
 */
void corr_response(struct conn *c, struct msg *resp);
/* A response that answers nothing: counted, and published with status Error when the protocol asks for it. */
void corr_unmatched(struct conn *c, struct msg *resp);
/* Publish a transaction the parser paired itself: with a response, noreply/quiet, or unanswered (takes both). */
void corr_publish(struct conn *c, struct msg *req, struct msg *resp);

/* Oldest queued request (TCP), or NULL: look, don't keep. */
const struct msg *corr_oldest(const struct conn *c);
/* Queued requests (TCP). */
size_t corr_queued(const struct conn *c);
/* First queued request (TCP) that pred accepts, or NULL. */
typedef bool (*corr_pred_fn)(const struct msg *req, const void *arg);
const struct msg *corr_find(const struct conn *c, corr_pred_fn pred, const void *arg);
/* Unlink queued request m (NULL: the oldest) and return it, or NULL; the caller publishes it. */
struct msg *corr_take(struct conn *c, const struct msg *m);
/* Unlink the oldest request waiting with this id (TCP queue or UDP table) and return it, or NULL. */
struct msg *corr_take_id(struct conn *c, uint64_t id);
/*
 * resp answers the first queued request pred accepts: the requests queued
 * before it got no response and are published without one (OK when quiet,
 * else unanswered). When pred accepts none, resp is unmatched.
 */
void corr_answer(struct conn *c, struct msg *resp, corr_pred_fn pred, const void *arg);
/* Publish, without a response, every queued request pred accepts. */
void corr_give_up(struct conn *c, corr_pred_fn pred, const void *arg);

/* Count a per-protocol event (parse error, too large, ...). */
void corr_count(const struct conn *c, enum pstat_id id);

#endif
