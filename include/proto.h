/*
 * Protocol parser interface. One `const struct proto_ops` per protos/<name>.c,
 * listed once in protos/registry.c. The core never tests for a protocol: it
 * calls through the table.
 *
 * TCP contract (as picohttpparser / Suricata): the TCP layer calls
 * parse(c, dir, data, len, ts) with all contiguous bytes not yet consumed in
 * that direction. parse returns how many bytes it consumed (0..len: the
 * tail stays buffered and is offered again, with more data appended; while
 * it consumes something and bytes remain, parse is called again, so a parser
 * may return after each message), or
 * PARSE_ERROR: the TCP layer counts it, discards the buffered bytes of that
 * direction, and the parser must have reset that direction's state.
 * The parser never keeps pointers into data after returning.
 *
 * Finished messages go to the correlator: corr_request() queues a request,
 * corr_response() pairs a response with the oldest queued request and
 * publishes the transaction.
 */
#ifndef XDPBEAT_PROTO_H
#define XDPBEAT_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "packet.h"
#include "record.h"
#include "stats.h"

#define PARSE_ERROR ((ssize_t)-1)

enum dir {
	DIR_C2S = 0, /* client -> server: requests */
	DIR_S2C = 1, /* server -> client: responses */
};

#define XB_TRANSPORT_TCP 0x1
#define XB_TRANSPORT_UDP 0x2

/* Endpoints of a connection or datagram exchange, oriented client/server. */
struct flow {
	struct ip_addr client_ip, server_ip;
	uint16_t client_port, server_port;
	uint8_t transport; /* IPPROTO_TCP / IPPROTO_UDP */
};

/*
 * A parsed message. The parser fills it; the correlator owns it after
 * corr_request()/corr_response(). `fields` is deep-merged into the event
 * (request fields first, then response fields), e.g. for HTTP a request
 * gives {"method":"GET","query":"GET /","path":"/","http":{"request":{...}}}.
 */
struct msg {
	struct msg *next;
	uint64_t ts; /* ns: first byte seen */
	uint64_t ts_end; /* ns: last byte seen (0 = ts) */
	uint64_t bytes; /* application bytes of the message on the wire */
	json_t *fields; /* owned; may be NULL */
	char *raw; /* owned copy for send_request/send_response, or NULL */
	size_t raw_len;
	const char *status; /* response: "OK" (NULL), "Error", "Server Error", ... */
	uint64_t id; /* UDP matching key (DNS id, memcache request id) */
	bool noreply; /* request that gets no response: published at once */
	bool placeholder; /* stands for a request never seen: the event of a response that answers nothing */
	bool quiet; /* request answered only on failure: without a response it is published as OK */
	void *priv; /* the protocol's own decoded message, read by ops->write_fields (owned) */
	size_t mem; /* bytes priv keeps (captured bodies, values...), for the correlator's memory cap */
	size_t queued_bytes; /* correlator: what it counted for this message while queued */
	void (*priv_free)(void *priv); /* frees priv (NULL: free()) */
};

struct msg *msg_new(uint64_t ts);
void msg_free(struct msg *m);
/* Keep a copy of data as m->raw when the protocol's send_request/send_response asks for it. */
void msg_set_raw(struct msg *m, const void *data, size_t len);

struct pipeline;
struct json_buf;

/* Application view of one TCP connection (owned by the TCP layer). */
struct conn {
	struct flow flow;
	const struct proto_cfg *cfg; /* cfg->ops, cfg->priv: the protocol and its settings */
	struct pipeline *pl;
	struct stats *stats;
	void *pstate; /* ops->conn_new() */
	struct msg *req_head, *req_tail; /* correlator FIFO of unanswered requests */
	size_t nreq;
	uint64_t last_ts;
};

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
	/* FIN/RST or close: no more data in dir (e.g. HTTP body until close ends). */
	void (*fin)(struct conn *c, enum dir dir, uint64_t ts);

	/* UDP: one datagram, flow already oriented; dir says which way it went. */
	void (*parse_udp)(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, enum dir dir,
			  const uint8_t *data, size_t len, uint64_t ts);
	/* Periodic: expire protocol-private state older than now - timeout (UDP fragments etc). */
	void (*expire)(struct pipeline *pl, const struct proto_cfg *cfg, uint64_t now);
	/* Optional: ns a UDP request waits for its response (NULL: cfg->transaction_timeout). */
	uint64_t (*udp_timeout)(const struct proto_cfg *cfg);

	/*
	 * Optional: append the protocol's own members of a transaction's event
	 * as JSON text, each preceded by a comma, from req->priv / resp->priv
	 * (resp may be NULL). Written after the generic members and msg->fields,
	 * so it must not repeat their keys. Without a tree this is the cheap
	 * way; returns 0 or -ENOMEM.
	 */
	int (*write_fields)(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			    const struct msg *resp);
	/*
	 * A response the correlator cannot pair is published with status Error
	 * and a placeholder request (as Packetbeat does for DNS) instead of only
	 * being counted.
	 */
	bool publish_unmatched;
};

/* Registry (protos/registry.c). */
extern const struct proto_ops *const proto_registry[];
const struct proto_ops *proto_find(const char *name);

/* ---- correlator (user/correlator.c) ---- */

/* Queue a request on c (takes ownership). A noreply request is published at once. */
void corr_request(struct conn *c, struct msg *req);
/* Pair resp with the oldest queued request and publish (takes ownership).
 * Without a queued request the response is counted as unmatched and freed. */
void corr_response(struct conn *c, struct msg *resp);
/* Oldest unanswered request of c, or NULL (e.g. HTTP checks for HEAD). */
struct msg *corr_oldest(struct conn *c);
/* Unlink queued request m from c (NULL: the oldest) and return it (NULL if not queued). */
struct msg *corr_take(struct conn *c, struct msg *m);
/* Publish a transaction and count it: with a response, as noreply (or quiet), or unanswered (takes both). */
void corr_publish(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *req,
		  struct msg *resp);
/* A response that answers nothing: counted and freed. */
void corr_unmatched(struct pipeline *pl, const struct proto_cfg *cfg, struct msg *resp);
/* UDP: match by (flow, id) (takes ownership). */
void corr_udp_request(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *req);
void corr_udp_response(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, struct msg *resp);
/* UDP: unlink the request waiting for (flow, id) and return it (NULL if none); the caller publishes it. */
struct msg *corr_udp_take(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, uint64_t id);
/* Count a per-protocol event (parse error, too large, ...). */
void proto_count(struct pipeline *pl, const struct proto_cfg *cfg, enum pstat_id id);

/* Same endpoints, same orientation. */
bool flow_equal(const struct flow *a, const struct flow *b);
/* The flow of pkt, oriented by which end is the server. */
void flow_from_packet(struct flow *f, const struct packet *pkt, bool server_is_dst);
/* Base64 (RFC 4648, padded) of len bytes into out, which holds base64_len(len) + 1 bytes; returns the length. */
#define base64_len(len) (((len) + 2) / 3 * 4)
size_t base64_encode(const uint8_t *in, size_t len, char *out);

/* Small JSON helpers for parsers: set dotted path "http.request.method" in obj. */
int json_set_path(json_t *obj, const char *dotted, json_t *value);
json_t *json_strn(const void *s, size_t len); /* string from bytes; invalid UTF-8 escaped */

#endif
