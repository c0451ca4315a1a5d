/*
 * A parsed message: what a parser hands to the correlator. The generic
 * members of the event (method, query, resource, event.action,
 * destination.domain, network.forwarded_ip, user.name, related.*, status,
 * error.message) have typed slots here and are written by the event writer;
 * the protocol's own object is written from priv by ops->write_fields.
 */
#ifndef XDPBEAT_MSG_H
#define XDPBEAT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The event's status. */
enum msg_status {
	MSG_OK = 0,
	MSG_ERROR, /* "Error" */
	MSG_CLIENT_ERROR, /* "Client Error" */
	MSG_SERVER_ERROR, /* "Server Error" */
};

/*
 * Bytes of a generic member, not NUL-terminated and not owned: they point
 * into memory the message owns (priv, raw) or into static strings, so they
 * live as long as the message. Written made valid UTF-8.
 */
struct msg_text {
	const char *s;
	size_t len; /* 0: not set */
};

#define MSG_NOTES_MAX 4

struct msg {
	struct msg *next; /* the correlator's queue link: parsers use corr_* */
	uint64_t ts; /* ns: first byte seen (a response's is event.end, as Packetbeat) */
	uint64_t ts_end; /* ns: last byte seen (0 = ts), for the parsers' own timing */
	uint64_t bytes; /* application bytes of the message on the wire */
	uint64_t queue_size; /* counted against the protocol's queue_max_bytes (0: bytes) */
	uint64_t id; /* matching key (DNS id, memcache request id, MongoDB requestID/responseTo) */
	bool has_id; /* msg_set_id: a TCP response pairs with the oldest request of the same id */
	bool noreply; /* request that gets no response: published at once */
	bool placeholder; /* stands for a request never seen: the event of a response that answers nothing */
	bool quiet; /* request answered only on failure: without a response it is published as OK */
	bool noted; /* request without a response whose own notes say why: ops->note_unanswered is left out */
	enum msg_status status; /* response */

	/* Generic event members: the response's win over the request's. */
	struct msg_text method, query, resource;
	struct msg_text action; /* event.action */
	struct msg_text domain; /* destination.domain and server.domain, also in related.hosts */
	struct msg_text forwarded_ip; /* network.forwarded_ip, also in related.ip when it is an address */
	struct msg_text user; /* user.name, also in related.user */
	struct msg_text related_ip; /* one more related.ip (HTTP: a Host header that is an address) */
	struct msg_text related_host; /* one more related.hosts (HTTP: the Referer, as Packetbeat) */
	const char *notes[MSG_NOTES_MAX]; /* error.message: static strings; a response's replace a request's */
	size_t nnotes;

	char *raw; /* owned copy for send_request/send_response, or NULL */
	size_t raw_len;

	/* Set through msg_set_priv only. */
	void *priv; /* the protocol's own decoded message, read by ops->write_fields */
	void (*priv_free)(void *priv);
	size_t mem; /* bytes priv keeps, for the memory cap */
	size_t queued_bytes; /* correlator: what it counted for this message while queued */
};

struct msg *msg_new(uint64_t ts);
void msg_free(struct msg *m);
/*
 * Attach the protocol's decoded message: free_fn frees it (NULL: free()),
 * bytes is what it keeps besides its struct (captured bodies, values,
 * strings), counted against xdpbeat.tcp.max_total_bytes while queued. A
 * priv already set is freed first.
 */
void msg_set_priv(struct msg *m, void *priv, void (*free_fn)(void *), size_t bytes);
/* Keep a copy of data as m->raw (send_request/send_response). */
void msg_set_raw(struct msg *m, const void *data, size_t len);
/* Take data (malloc'ed, NUL at len) as m->raw. */
void msg_take_raw(struct msg *m, char *data, size_t len);
/* The matching key: responses pair by it (TCP and UDP). */
static inline void msg_set_id(struct msg *m, uint64_t id)
{
	m->id = id;
	m->has_id = true;
}
/* A generic member from bytes the message keeps (or a static string); n == 0 leaves it unset. */
static inline void msg_text_set(struct msg_text *t, const char *s, size_t n)
{
	t->s = s;
	t->len = n;
}
/* Add a note for error.message (a static string); beyond MSG_NOTES_MAX they are dropped. */
void msg_note(struct msg *m, const char *note);
/* "OK", "Error", ... */
const char *msg_status_str(enum msg_status s);

#endif
