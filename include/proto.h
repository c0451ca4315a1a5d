/*
 * Protocol parser interface. One `const struct proto_ops` per protos/<name>.c,
 * listed once in protos/registry.c. The core never tests for a protocol: it
 * calls through the table.
 *
 * Data flows one way: capture|pcap -> decode -> pipeline (classify) -> TCP
 * tracker (reassembly) or one datagram -> parser -> correlator (corr.h) ->
 * event writer -> queue -> outputs. A parser sees only its struct conn and
 * the correlator's functions; it never sees the pipeline or the queue.
 *
 * TCP contract (as picohttpparser / Suricata): the TCP layer calls
 * parse(c, dir, data, len, ts) with all contiguous bytes not yet consumed in
 * that direction. parse returns how many bytes it consumed (0..len: the
 * tail stays buffered and is offered again, with more data appended; while
 * it consumes something and bytes remain, parse is called again, so a parser
 * may return after each message), or
 * PARSE_ERROR: the TCP layer counts it, discards the buffered bytes of that
 * direction, and the parser must have reset that direction's state.
 * A length-prefixed protocol that has consumed what it can may set
 * c->need[dir] to the bytes it needs buffered before it is called again.
 * The parser never keeps pointers into data after returning.
 *
 * Finished messages go to the correlator: corr_request() queues a request,
 * corr_response() pairs a response with its request and publishes the
 * transaction; the generic members go in the msg's slots, the protocol's
 * own object is written by write_fields from msg->priv (msg_set_priv).
 */
#ifndef XDPBEAT_PROTO_H
#define XDPBEAT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "corr.h"
#include "flow.h"
#include "msg.h"
#include "packet.h"
#include "record.h"
#include "stats.h"

#define PARSE_ERROR ((ssize_t)(-1))

enum dir {
	DIR_C2S = 0, /* client -> server: requests */
	DIR_S2C = 1, /* server -> client: responses */
};

#define XB_TRANSPORT_TCP 0x1
#define XB_TRANSPORT_UDP 0x2

struct json_buf;

struct proto_ops {
	const char *name; /* "http": config type and event type */
	enum proto_id id;
	unsigned transports; /* XB_TRANSPORT_* */
	const uint16_t *default_ports;
	size_t ndefault_ports;

	/* Protocol settings besides the common ones (ports, enabled, send_*, transaction_timeout). */
	const struct cfg_field *cfg_fields;
	void *(*cfg_new)(void); /* defaults filled in */
	void (*cfg_free)(void *priv);

	/* TCP */
	void *(*conn_new)(struct conn *c);
	void (*conn_free)(void *pstate);
	ssize_t (*parse)(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts);
	/*
	 * nbytes of the stream were lost (the bytes still buffered for dir were
	 * discarded first). Return false when the parser can go on (e.g. inside
	 * a body, skipping nbytes), true when it reset its state of dir.
	 */
	bool (*gap)(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts);
	/*
	 * Optional, heads-only capture: bytes of dir's current message the
	 * parser will pass over unread (a body it does not keep), 0 if none.
	 * skip(): n of those bytes went by without being copied; take them as
	 * read (false: cannot, and they are a gap).
	 */
	uint64_t (*skippable)(struct conn *c, enum dir dir);
	bool (*skip)(struct conn *c, enum dir dir, size_t n, uint64_t ts);
	/*
	 * FIN/RST or close: no more data in dir (e.g. HTTP body until close
	 * ends). A message it cannot finish is left as it is (pending still
	 * counts it; conn_free frees it).
	 */
	void (*fin)(struct conn *c, enum dir dir, uint64_t ts);
	/*
	 * Bytes of dir the parser has consumed into a message it has not
	 * finished yet (not those it skipped over at a gap). The TCP layer
	 * counts them as consumed once the message is finished, or as dropped
	 * when it never is: at a gap that resets dir, a parse error, or what is
	 * still pending after fin (unparsed at close). NULL: the parser
	 * consumes only whole messages.
	 */
	uint64_t (*pending)(const struct conn *c, enum dir dir);

	/* UDP: one datagram on c (flow oriented by the port; dir says which way it went). */
	void (*parse_udp)(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts);
	/* Periodic: expire protocol-private state older than now - timeout (UDP fragments etc). */
	void (*expire)(struct corr *k, const struct proto_cfg *cfg, uint64_t now);
	/* Optional: ns a UDP request waits for its response (NULL: cfg->transaction_timeout). */
	uint64_t (*udp_timeout)(const struct proto_cfg *cfg);

	/*
	 * Optional: append the protocol's own members of a transaction's event
	 * as JSON text, each preceded by a comma, from req->priv / resp->priv
	 * (resp may be NULL). Written after the generic members, so it must not
	 * repeat their keys (json_buf.h has the key/value helpers); returns 0 or
	 * -ENOMEM.
	 */
	int (*write_fields)(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			    const struct msg *resp);
	/*
	 * The top-level members write_fields may write (NULL-terminated; NULL:
	 * none). Processors plan from them once which of them can run on the
	 * event text (event_may_have); tests/unit/test_event_keys.c holds every
	 * golden event to them.
	 */
	const char *const *event_keys;
	/*
	 * A response the correlator cannot pair is published with status Error
	 * and a placeholder request (as Packetbeat does for DNS) instead of only
	 * being counted.
	 */
	bool publish_unmatched;
	/* Optional notes (error.message) of a request published without a response / a response without a request. */
	const char *note_unanswered;
	const char *note_unmatched;
	/*
	 * Optional note of a request that a response to a later one passed
	 * over (corr_answer), given instead of note_unanswered.
	 */
	const char *note_skipped;
	/*
	 * Status of a request published without a response / of a response
	 * without a request; 0 (MSG_OK) stands for the default, Error: half a
	 * transaction is never OK, except a noreply or quiet request.
	 */
	enum msg_status unanswered_status;
	enum msg_status unmatched_status;
	/* Defaults of the common settings queue_max_messages / queue_max_bytes (0: 1024 / no limit). */
	int64_t queue_max_messages;
	uint64_t queue_max_bytes;
};

/* Registry (protos/registry.c). */
extern const struct proto_ops *const proto_registry[];
const struct proto_ops *proto_find(const char *name);

#endif
