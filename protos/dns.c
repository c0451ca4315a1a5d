/*
 * DNS protocol module: UDP datagrams and TCP streams (RFC 1035 4.2.2:
 * each message behind a 2-byte length), events with Packetbeat 8's dns.*
 * fields. Decoding lives in dns_wire.c.
 *
 * Queries and responses are told apart by the QR bit, not by direction.
 * UDP pairs by (flow, DNS id) in the correlator; TCP pairs by id among the
 * connection's queued queries (answers may come out of order, RFC 7766),
 * and a response whose id matches none is still paired with the oldest
 * query but counted as dns.unmatched_responses.
 *
 * A malformed message is counted (dns.parse_errors) and dropped; on TCP the
 * length prefix still frames the stream, so parsing goes on with the next
 * message.
 *
 * Packetbeat's notes, with its wording: a query displaced by another with
 * the same id, UDP messages over 512 bytes without EDNS, EDNS on one side
 * only, and on TCP a server stream that cannot be read (zero length, not
 * DNS, cut by a gap or the close), published as the last query's answer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "freelist.h"
#include "json_buf.h"
#include "proto.h"

struct dns_cfg {
	bool include_authorities;
	bool include_additionals;
};

/* Per TCP connection and direction. */
struct dns_conn {
	uint64_t pending_ts[2]; /* when the first bytes of a still incomplete message arrived */
	bool resync[2]; /* after a gap: wait for a segment that starts with a plausible message */
	/* The last query since the last response: a response that cannot be read is published as its answer. */
	bool has_last_query;
	uint16_t last_query_id;
};

/* Packetbeat's notes (error.message), word for word: dashboards match them. */
#define DNS_MAX_NON_EDNS 512 /* RFC 1035 4.2.1: UDP messages without EDNS */
#define NOTE_DUPLICATE                                                                                       \
	"Another query with the same DNS ID from this client was received so this query was closed without " \
	"receiving a response"
#define NOTE_TOO_LARGE "Non-EDNS packet has size greater than 512"
#define NOTE_RESP_TOO_LARGE "Response: " NOTE_TOO_LARGE
#define NOTE_NO_EDNS "Responder does not support EDNS"
#define NOTE_UNEXPECTED_EDNS "Unexpected EDNS answer"
#define NOTE_RESP_ZERO_LENGTH "Response: Message's length was set to zero"
#define NOTE_RESP_NOT_DNS "Response: Message's data could not be decoded as DNS"
#define NOTE_RESP_INCOMPLETE "Response: Message's data is incomplete"

static const uint16_t dns_ports[] = { 53 };

static const struct cfg_field dns_cfg_fields[] = {
	{ .key = "include_authorities", .type = CFG_BOOL, .offset = offsetof(struct dns_cfg, include_authorities) },
	{ .key = "include_additionals", .type = CFG_BOOL, .offset = offsetof(struct dns_cfg, include_additionals) },
	{ .key = NULL },
};

static void *dns_cfg_new(void)
{
	return calloc(1, sizeof(struct dns_cfg));
}

static void dns_cfg_free(void *priv)
{
	free(priv);
}

/* ---- event fields, written as text from the decoded message (msg.priv) ---- */

static void put_bool(struct json_buf *b, const char *key, bool v, int first)
{
	json_buf_key(b, key, first);
	json_buf_put(b, v ? "true" : "false", v ? 4 : 5);
}

/* ,"key":"s" (key a literal, s ASCII from the decoder) */
static void put_str(struct json_buf *b, const char *key, const char *s)
{
	json_buf_key(b, key, 0);
	json_buf_str(b, s, strlen(s));
}

static void put_u64(struct json_buf *b, const char *key, uint64_t v, int first)
{
	json_buf_key(b, key, first);
	json_buf_u64(b, v);
}

static void flags_write(struct json_buf *b, const struct dns_message *m)
{
	json_buf_key(b, "flags", 0);
	json_buf_put(b, "{", 1);
	put_bool(b, "authoritative", m->aa, 1);
	put_bool(b, "recursion_desired", m->rd, 0);
	put_bool(b, "recursion_available", m->ra, 0);
	put_bool(b, "truncated_response", m->tc, 0);
	put_bool(b, "checking_disabled", m->cd, 0);
	put_bool(b, "authentic_data", m->ad, 0);
	json_buf_put(b, "}", 1);
}

/* ECS dns.header_flags (DO from the EDNS OPT record): left out when no flag is set, as Packetbeat does. */
static void header_flags_write(struct json_buf *b, const struct dns_message *m)
{
	const struct {
		bool on;
		const char *json;
	} f[] = { { m->aa, "\"AA\"" },
		  { m->tc, "\"TC\"" },
		  { m->rd, "\"RD\"" },
		  { m->ra, "\"RA\"" },
		  { m->ad, "\"AD\"" },
		  { m->cd, "\"CD\"" },
		  { m->opt.present && m->opt.do_bit, "\"DO\"" } };
	bool any = false;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].on)
			continue;
		if (!any)
			json_buf_key(b, "header_flags", 0), json_buf_put(b, "[", 1);
		else
			json_buf_put(b, ",", 1);
		json_buf_put(b, f[i].json, 4);
		any = true;
	}
	if (any)
		json_buf_put(b, "]", 1);
}

static void question_write(struct json_buf *b, const struct dns_message *m)
{
	char tb[16], cb[16];
	const char *etld1, *suffix;

	json_buf_key(b, "question", 0);
	json_buf_put(b, "{\"name\":", 8);
	json_buf_str(b, m->qname, strlen(m->qname));
	put_str(b, "type", dns_type_str(m->qtype, tb, sizeof(tb)));
	put_str(b, "class", dns_class_str(m->qclass, cb, sizeof(cb)));
	if (dns_etld_plus_one(m->qname, &etld1, &suffix)) {
		put_str(b, "etld_plus_one", etld1);
		put_str(b, "registered_domain", etld1);
		put_str(b, "top_level_domain", suffix);
		if (etld1 > m->qname + 1) {
			json_buf_key(b, "subdomain", 0);
			json_buf_str(b, m->qname, (size_t)(etld1 - m->qname - 1));
		}
	}
	json_buf_put(b, "}", 1);
}

static void opt_write(struct json_buf *b, const struct dns_message *m)
{
	char rb[16];

	json_buf_key(b, "opt", 0);
	json_buf_put(b, "{\"version\":\"", 12);
	json_buf_u64(b, m->opt.version);
	json_buf_put(b, "\"", 1);
	put_bool(b, "do", m->opt.do_bit, 0);
	put_u64(b, "udp_size", m->opt.udp_size, 0);
	put_str(b, "ext_rcode", dns_rcode_str((uint16_t)(m->opt.ext_rcode << 4), rb, sizeof(rb)));
	if (m->opt.options.len) {
		json_buf_put(b, ",", 1);
		json_buf_put(b, m->opt.options.p, m->opt.options.len);
	}
	json_buf_put(b, "}", 1);
}

/* "<count_key>":n and, when include, "<key>":[records] */
static void section_write(struct json_buf *b, const struct dns_message *m, enum dns_section s, const char *key,
			  const char *count_key, bool include)
{
	put_u64(b, count_key, m->nsection[s], 0);
	if (!include || !m->nsection[s])
		return;
	json_buf_key(b, key, 0);
	json_buf_put(b, "[", 1);
	json_buf_put(b, m->sections[s].p, m->sections[s].len);
	json_buf_put(b, "]", 1);
}

/* ,"dns":{...} of one message. */
static void dns_write(struct json_buf *b, const struct dns_message *m, const struct dns_cfg *pc)
{
	char ob[16], rb[16];

	json_buf_key(b, "dns", 0);
	json_buf_put(b, "{", 1);
	put_u64(b, "id", m->id, 1);
	put_str(b, "op_code", dns_opcode_str(m->opcode, ob, sizeof(ob)));
	flags_write(b, m);
	put_str(b, "response_code", dns_rcode_str(m->rcode, rb, sizeof(rb)));
	put_str(b, "type", m->qr ? "answer" : "query");
	header_flags_write(b, m);
	if (m->has_question)
		question_write(b, m);
	if (m->opt.present)
		opt_write(b, m);
	section_write(b, m, DNS_SEC_ANSWER, "answers", "answers_count", true);
	section_write(b, m, DNS_SEC_AUTHORITY, "authorities", "authorities_count", pc->include_authorities);
	section_write(b, m, DNS_SEC_ADDITIONAL, "additionals", "additionals_count", pc->include_additionals);
	if (m->nresolved) {
		json_buf_key(b, "resolved_ip", 0);
		json_buf_put(b, "[", 1);
		json_buf_put(b, m->resolved_ip.p, m->resolved_ip.len);
		json_buf_put(b, "]", 1);
	}
	json_buf_put(b, "}", 1);
}

/* Append s to buf at *n (cap len, always leaves room for the NUL). */
static void cat(char *buf, size_t len, size_t *n, const char *s)
{
	size_t k = strlen(s);

	if (k > len - 1 - *n)
		k = len - 1 - *n;
	memcpy(buf + *n, s, k);
	*n += k;
	buf[*n] = '\0';
}

/* A decoded message and the generic members it gives the event (msg.priv). */
struct dns_event {
	struct dns_message dm;
	char method[16];
	char query[DNS_NAME_TEXT_MAX + 64];
};

/* One per query and per response, freed when its transaction is published: this worker's freed ones are reused. */
static __thread struct freelist dns_event_cache = FREELIST_INIT(sizeof(struct dns_event), 64);

/* method/query/resource of the message that asked ("class IN, type A, name"). */
static void generic_members(struct msg *m, struct dns_event *de)
{
	const struct dns_message *dm = &de->dm;
	char tb[16], cb[16], ob[16];
	size_t n = 0;

	cat(de->method, sizeof(de->method), &n, dns_opcode_str(dm->opcode, ob, sizeof(ob)));
	msg_text_set(&m->method, de->method, n);
	if (!dm->has_question)
		return;
	n = 0;
	cat(de->query, sizeof(de->query), &n, "class ");
	cat(de->query, sizeof(de->query), &n, dns_class_str(dm->qclass, cb, sizeof(cb)));
	cat(de->query, sizeof(de->query), &n, ", type ");
	cat(de->query, sizeof(de->query), &n, dns_type_str(dm->qtype, tb, sizeof(tb)));
	cat(de->query, sizeof(de->query), &n, ", ");
	cat(de->query, sizeof(de->query), &n, dm->qname);
	msg_text_set(&m->query, de->query, n);
	msg_text_set(&m->resource, dm->qname, strlen(dm->qname));
}

/* As Packetbeat: dns.* describes the response when there is one, else the query. */
static int dns_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			    const struct msg *resp)
{
	static const struct dns_cfg defaults;
	const struct dns_cfg *pc = cfg->priv ? cfg->priv : &defaults;
	const struct dns_event *q = req ? req->priv : NULL, *r = resp ? resp->priv : NULL;

	if (r || q)
		dns_write(b, r ? &r->dm : &q->dm, pc);
	return b->err;
}

static void dns_event_free(void *p)
{
	struct dns_event *de = p;

	if (!de)
		return;
	dns_message_clear(&de->dm);
	freelist_put(&dns_event_cache, de);
}

/* What a decoded message keeps besides its struct. */
static size_t dns_event_bytes(const struct dns_message *dm)
{
	size_t n = dm->resolved_ip.cap + dm->opt.options.cap;

	for (int i = 0; i < DNS_SEC_MAX; i++)
		n += dm->sections[i].cap;
	return n;
}

static bool want_text(const struct proto_cfg *cfg, const uint8_t *data, size_t len)
{
	bool qr = len > 2 && (data[2] & 0x80);

	return qr ? cfg->send_response : cfg->send_request;
}

/* Decode one message into a struct msg; NULL when malformed (counted) or out of memory. */
static struct msg *dns_message_to_msg(struct conn *c, const uint8_t *data, size_t len, uint64_t ts, uint64_t ts_end,
				      bool *qr)
{
	struct dns_event *de = freelist_take(&dns_event_cache); /* dns_decode fills it (as malloc did) */
	struct dns_message *dm;
	struct msg *m;

	if (!de)
		return NULL;
	dm = &de->dm;
	if (dns_decode(data, len, want_text(c->cfg, data, len), dm)) {
		freelist_put(&dns_event_cache, de);
		corr_count(c, PSTAT_PARSE_ERRORS);
		return NULL;
	}
	m = msg_new(ts);
	if (!m) {
		dns_event_free(de);
		return NULL;
	}
	*qr = dm->qr;
	m->ts_end = ts_end;
	m->bytes = dm->len;
	msg_set_id(m, dm->id);
	if (dm->qr && dm->rcode)
		m->status = MSG_ERROR;
	if (dm->text) {
		msg_take_raw(m, dm->text, dm->text_len); /* the dig-like dump is the raw text */
		dm->text = NULL;
	}
	generic_members(m, de);
	msg_set_priv(m, de, dns_event_free, dns_event_bytes(dm));
	return m;
}

/* ---- notes ---- */

static bool is_edns(const struct msg *m)
{
	const struct dns_event *de = m->priv;

	return de && de->dm.opt.present;
}

/*
 * A query with the id of one still waiting from the same client: the
 * waiting one is published without a response, noted as a duplicate.
 */
static void dns_query(struct conn *c, struct msg *m)
{
	struct msg *old = corr_take_id(c, m->id);

	if (old) {
		msg_note(old, NOTE_DUPLICATE);
		old->noted = true;
		corr_publish(c, old, NULL);
	}
	corr_request(c, m);
}

/* The query's notes, then the response's: the event takes the response's when it has some. */
static void carry_notes(const struct msg *req, struct msg *resp)
{
	const char *notes[MSG_NOTES_MAX];
	size_t n = resp->nnotes;

	if (!n || !req->nnotes)
		return;
	memcpy(notes, resp->notes, n * sizeof(notes[0]));
	resp->nnotes = 0;
	for (size_t i = 0; i < req->nnotes; i++)
		msg_note(resp, req->notes[i]);
	for (size_t i = 0; i < n; i++)
		msg_note(resp, notes[i]);
}

/* EDNS notes of a UDP response: over 512 bytes without EDNS, or EDNS only on one side. */
static void udp_response_notes(const struct msg *req, struct msg *resp)
{
	bool edns = is_edns(resp);

	if (!edns && resp->bytes > DNS_MAX_NON_EDNS)
		msg_note(resp, NOTE_RESP_TOO_LARGE);
	if (req && is_edns(req) && !edns)
		msg_note(resp, NOTE_NO_EDNS);
	else if (req && !is_edns(req) && edns)
		msg_note(resp, NOTE_UNEXPECTED_EDNS);
}

/* ---- UDP ---- */

static void dns_udp_response(struct conn *c, struct msg *resp)
{
	struct msg *req = corr_take_id(c, resp->id);

	udp_response_notes(req, resp);
	if (!req) {
		corr_unmatched(c, resp);
		return;
	}
	carry_notes(req, resp);
	corr_publish(c, req, resp);
}

static void dns_parse_udp(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct msg *m;
	bool qr = false;

	m = dns_message_to_msg(c, data, len, ts, ts, &qr);
	if (!m)
		return;
	/* The QR bit decides; a query sent from the "server" port turns the flow around. */
	if (qr == (dir == DIR_C2S))
		flow_reverse(&c->flow);
	if (qr) {
		dns_udp_response(c, m);
		return;
	}
	if (!is_edns(m) && m->bytes > DNS_MAX_NON_EDNS)
		msg_note(m, NOTE_TOO_LARGE);
	dns_query(c, m);
}

/* ---- TCP ---- */

static void *dns_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct dns_conn));
}

static void dns_conn_free(void *pstate)
{
	free(pstate);
}

/*
 * The server's side of the stream cannot be read (a zero length, a message
 * that is no DNS, one cut by a gap or the close): the last query since the
 * last response is published with the reason, as Packetbeat does.
 */
static void response_error(struct conn *c, const char *note)
{
	struct dns_conn *st = c->pstate;
	struct msg *q;

	if (!st || !st->has_last_query)
		return;
	st->has_last_query = false;
	q = corr_take_id(c, st->last_query_id);
	if (!q)
		return;
	msg_note(q, note);
	q->noted = true;
	corr_publish(c, q, NULL);
}

/* The last query since the last response (NULL: a response came), for response_error. */
static void last_query(struct conn *c, const struct msg *query)
{
	struct dns_conn *st = c->pstate;

	if (!st)
		return;
	st->has_last_query = query != NULL;
	if (query)
		st->last_query_id = (uint16_t)query->id;
}

static void dns_tcp_message(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts, uint64_t ts_end)
{
	struct msg *m, *q;
	bool qr = false;

	if (len == 0)
		corr_count(c, PSTAT_PARSE_ERRORS);
	m = len ? dns_message_to_msg(c, data, len, ts, ts_end, &qr) : NULL;
	if (!m) {
		if (dir == DIR_S2C)
			response_error(c, len ? NOTE_RESP_NOT_DNS : NOTE_RESP_ZERO_LENGTH);
		return;
	}
	last_query(c, qr ? NULL : m);
	if (!qr) {
		dns_query(c, m);
		return;
	}
	/* RFC 7766: a server may answer pipelined queries out of order, so pair by id. */
	q = corr_take_id(c, m->id);
	if (!q && (q = corr_take(c, NULL)))
		corr_count(c, PSTAT_UNMATCHED); /* no query with its id: paired with the oldest */
	if (q)
		corr_publish(c, q, m);
	else
		corr_unmatched(c, m);
}

/*
 * After a gap the stream may resume mid-message, where any two bytes would
 * pass for a length. Resume only at a 2-byte length followed by a header
 * that fits: at least a header long, the QR bit this direction sends, a
 * defined opcode, one question (every query and answer in practice), and
 * record counts that fit the length.
 */
static bool plausible_message(enum dir dir, const uint8_t *p)
{
	size_t n = (size_t)p[0] << 8 | p[1];
	const uint8_t *h = p + 2;
	unsigned opcode = (h[2] >> 3) & 0x0f;
	size_t records;

	if (n < DNS_HEADER_LEN || ((h[2] & 0x80) != 0) != (dir == DIR_S2C))
		return false;
	if (opcode > 6 || opcode == 3 || (h[4] << 8 | h[5]) != 1)
		return false;
	records = (size_t)(h[6] << 8 | h[7]) + (size_t)(h[8] << 8 | h[9]) + (size_t)(h[10] << 8 | h[11]);
	return records * 11 <= n - DNS_HEADER_LEN; /* 11: the smallest record (root name, no rdata) */
}

static ssize_t dns_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct dns_conn *st = c->pstate;
	size_t used = 0;

	if (st && st->resync[dir]) {
		if (len < 2 + DNS_HEADER_LEN)
			return 0; /* not enough to judge yet */
		if (!plausible_message(dir, data)) {
			c->passed[dir] = len;
			return (ssize_t)len; /* the rest of a message cut by the gap (counted with it) */
		}
		st->resync[dir] = false;
	}

	while (len - used >= 2) {
		size_t n = (size_t)data[used] << 8 | data[used + 1];
		uint64_t start;

		if (len - used - 2 < n) {
			c->need[dir] = 2 + n; /* not called again before the whole message is there */
			break;
		}
		start = st && st->pending_ts[dir] ? st->pending_ts[dir] : ts;
		if (st)
			st->pending_ts[dir] = 0;
		dns_tcp_message(c, dir, data + used + 2, n, start, ts);
		used += 2 + n;
	}
	if (st && used < len && !st->pending_ts[dir])
		st->pending_ts[dir] = ts;
	return (ssize_t)used;
}

static bool dns_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct dns_conn *st = c->pstate;

	if (st) {
		if (st->pending_ts[dir] && dir == DIR_S2C)
			response_error(c, NOTE_RESP_INCOMPLETE);
		st->pending_ts[dir] = 0;
		st->resync[dir] = true;
	}
	return true; /* the length prefixes are lost: start over at a segment that starts a message */
}

static void dns_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct dns_conn *st = c->pstate;

	if (!st)
		return;
	if (st->pending_ts[dir] && dir == DIR_S2C)
		response_error(c, NOTE_RESP_INCOMPLETE);
	st->pending_ts[dir] = 0;
}

const struct proto_ops dns_ops = {
	.name = "dns",
	.id = PROTO_DNS,
	.transports = XB_TRANSPORT_TCP | XB_TRANSPORT_UDP,
	.default_ports = dns_ports,
	.ndefault_ports = sizeof(dns_ports) / sizeof(dns_ports[0]),
	.cfg_fields = dns_cfg_fields,
	.cfg_new = dns_cfg_new,
	.cfg_free = dns_cfg_free,
	.conn_new = dns_conn_new,
	.conn_free = dns_conn_free,
	.parse = dns_parse,
	.gap = dns_gap,
	.fin = dns_fin,
	.parse_udp = dns_parse_udp,
	.write_fields = dns_write_fields,
	.event_keys = (const char *const[]){ "dns", NULL },
	.publish_unmatched = true,
	.note_unanswered = "No response to this query was received",
	.note_unmatched = "Response: received without an associated Query",
};
