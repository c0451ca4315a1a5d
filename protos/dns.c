/*
 * DNS protocol module: UDP datagrams and TCP streams (RFC 1035 4.2.2:
 * each message behind a 2-byte length), events with Packetbeat 8's dns.*
 * fields. Decoding lives in dns_wire.c.
 *
 * Queries and responses are told apart by the QR bit, not by direction.
 * UDP pairs by (flow, DNS id) in the correlator; TCP pairs in order (FIFO),
 * and a response whose id differs from the oldest query's is still paired
 * but counted as dns.unmatched_responses.
 *
 * A malformed message is counted (dns.parse_errors) and dropped; on TCP the
 * length prefix still frames the stream, so parsing goes on with the next
 * message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "proto.h"

struct dns_cfg {
	bool include_authorities;
	bool include_additionals;
};

/* Per TCP connection: when the first bytes of a still incomplete message arrived. */
struct dns_conn {
	uint64_t pending_ts[2];
};

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

/* ---- event fields ---- */

/*
 * Every string the decoder produces is ASCII (names and text are escaped),
 * and keys are literals: the _nocheck variants skip UTF-8 validation.
 */
static int set(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new_nocheck(obj, key, v) ? -ENOMEM : 0;
}

static int set_str(json_t *obj, const char *key, const char *s)
{
	return set(obj, key, json_string_nocheck(s));
}

static json_t *flags_json(const struct dns_message *m)
{
	json_t *f = json_object();

	if (!f || set(f, "authoritative", json_boolean(m->aa)) || set(f, "recursion_desired", json_boolean(m->rd)) ||
	    set(f, "recursion_available", json_boolean(m->ra)) || set(f, "truncated_response", json_boolean(m->tc)) ||
	    set(f, "checking_disabled", json_boolean(m->cd)) || set(f, "authentic_data", json_boolean(m->ad))) {
		json_decref(f);
		return NULL;
	}
	return f;
}

/* ECS dns.header_flags: NULL when no flag is set (Packetbeat leaves it out). */
static json_t *header_flags_json(const struct dns_message *m)
{
	const struct {
		bool on;
		const char *name;
	} f[] = { { m->aa, "AA" }, { m->tc, "TC" }, { m->rd, "RD" }, { m->ra, "RA" }, { m->ad, "AD" }, { m->cd, "CD" } };
	json_t *a = NULL;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (!f[i].on)
			continue;
		if (!a && !(a = json_array()))
			return NULL;
		json_array_append_new(a, json_string_nocheck(f[i].name));
	}
	return a;
}

static int question_json(const struct dns_message *m, json_t *dns)
{
	char tb[16], cb[16];
	const char *etld1, *suffix;
	json_t *q;

	q = json_object();
	if (!q || set(dns, "question", q) || set_str(q, "name", m->qname) ||
	    set_str(q, "type", dns_type_str(m->qtype, tb, sizeof(tb))) ||
	    set_str(q, "class", dns_class_str(m->qclass, cb, sizeof(cb))))
		return -ENOMEM;
	if (!dns_etld_plus_one(m->qname, &etld1, &suffix))
		return 0;
	if (set_str(q, "etld_plus_one", etld1) || set_str(q, "registered_domain", etld1) ||
	    set_str(q, "top_level_domain", suffix))
		return -ENOMEM;
	if (etld1 > m->qname + 1 &&
	    set(q, "subdomain", json_stringn_nocheck(m->qname, (size_t)(etld1 - m->qname - 1))))
		return -ENOMEM;
	return 0;
}

static int opt_json(const struct dns_message *m, json_t *dns)
{
	char rb[16], vb[8];
	json_t *o = json_object();

	snprintf(vb, sizeof(vb), "%u", m->opt.version);
	if (!o || set(dns, "opt", o) || set_str(o, "version", vb) || set(o, "do", json_boolean(m->opt.do_bit)) ||
	    set(o, "udp_size", json_integer(m->opt.udp_size)) ||
	    set_str(o, "ext_rcode", dns_rcode_str((uint16_t)(m->opt.ext_rcode << 4), rb, sizeof(rb))))
		return -ENOMEM;
	if (m->opt.options && json_object_update(o, m->opt.options))
		return -ENOMEM;
	return 0;
}

static int section_json(const struct dns_message *m, json_t *dns, enum dns_section s, const char *key,
			const char *count_key, bool include)
{
	if (set(dns, count_key, json_integer((json_int_t)m->nsection[s])))
		return -ENOMEM;
	if (include && m->nsection[s] && set(dns, key, json_incref(m->sections[s])))
		return -ENOMEM;
	return 0;
}

static json_t *dns_json(const struct dns_message *m, const struct dns_cfg *pc)
{
	char ob[16], rb[16];
	json_t *dns, *hf;
	int err;

	dns = json_object();
	if (!dns)
		return NULL;
	err = set(dns, "id", json_integer(m->id)) ||
	      set_str(dns, "op_code", dns_opcode_str(m->opcode, ob, sizeof(ob))) ||
	      set(dns, "flags", flags_json(m)) ||
	      set_str(dns, "response_code", dns_rcode_str(m->rcode, rb, sizeof(rb))) ||
	      set_str(dns, "type", m->qr ? "answer" : "query");
	hf = err ? NULL : header_flags_json(m);
	if (hf)
		err = set(dns, "header_flags", hf);
	if (!err && m->has_question)
		err = question_json(m, dns);
	if (!err && m->opt.present)
		err = opt_json(m, dns);
	if (!err)
		err = section_json(m, dns, DNS_SEC_ANSWER, "answers", "answers_count", true);
	if (!err)
		err = section_json(m, dns, DNS_SEC_AUTHORITY, "authorities", "authorities_count", pc->include_authorities);
	if (!err)
		err = section_json(m, dns, DNS_SEC_ADDITIONAL, "additionals", "additionals_count",
				   pc->include_additionals);
	if (!err && m->resolved_ip)
		err = set(dns, "resolved_ip", json_incref(m->resolved_ip));
	if (err) {
		json_decref(dns);
		return NULL;
	}
	return dns;
}

/* method/query/resource come from the query, as in Packetbeat: only queries set them. */
static int request_fields(const struct dns_message *m, json_t *fields)
{
	char ob[16], tb[16], cb[16], query[DNS_NAME_TEXT_MAX + 64];

	if (set_str(fields, "method", dns_opcode_str(m->opcode, ob, sizeof(ob))))
		return -ENOMEM;
	if (!m->has_question)
		return 0;
	snprintf(query, sizeof(query), "class %s, type %s, %s", dns_class_str(m->qclass, cb, sizeof(cb)),
		 dns_type_str(m->qtype, tb, sizeof(tb)), m->qname);
	if (set_str(fields, "query", query) || set_str(fields, "resource", m->qname))
		return -ENOMEM;
	return 0;
}

/* A struct msg for the correlator, or NULL (ENOMEM). */
static struct msg *dns_msg_build(const struct proto_cfg *cfg, const struct dns_message *dm, uint64_t ts,
				 uint64_t ts_end)
{
	const struct dns_cfg *pc = cfg->priv;
	static const struct dns_cfg defaults;
	struct msg *m = msg_new(ts);
	json_t *dns;

	if (!m)
		return NULL;
	m->ts_end = ts_end;
	m->bytes = dm->len;
	m->id = dm->id;
	m->fields = json_object();
	dns = dns_json(dm, pc ? pc : &defaults);
	if (!m->fields || !dns || set(m->fields, "dns", dns) || (!dm->qr && request_fields(dm, m->fields))) {
		msg_free(m);
		return NULL;
	}
	if (dm->qr && dm->rcode)
		m->status = "Error";
	if (dm->text)
		msg_set_raw(m, dm->text, dm->text_len);
	return m;
}

static bool want_text(const struct proto_cfg *cfg, const uint8_t *data, size_t len)
{
	bool qr = len > 2 && (data[2] & 0x80);

	return qr ? cfg->send_response : cfg->send_request;
}

/* Decode one message; NULL when malformed (counted) or out of memory. */
static struct msg *dns_message_to_msg(struct pipeline *pl, const struct proto_cfg *cfg, const uint8_t *data,
				      size_t len, uint64_t ts, uint64_t ts_end, bool *qr)
{
	struct dns_message dm;
	struct msg *m;

	if (dns_decode(data, len, want_text(cfg, data, len), &dm)) {
		proto_count(pl, cfg, PSTAT_PARSE_ERRORS);
		return NULL;
	}
	*qr = dm.qr;
	m = dns_msg_build(cfg, &dm, ts, ts_end);
	dns_message_clear(&dm);
	return m;
}

/* ---- UDP ---- */

static void flow_reverse(struct flow *f)
{
	struct ip_addr ip = f->client_ip;
	uint16_t port = f->client_port;

	f->client_ip = f->server_ip;
	f->client_port = f->server_port;
	f->server_ip = ip;
	f->server_port = port;
}

static void dns_parse_udp(struct pipeline *pl, const struct proto_cfg *cfg, const struct flow *f, enum dir dir,
			  const uint8_t *data, size_t len, uint64_t ts)
{
	struct flow fl = *f;
	struct msg *m;
	bool qr = false;

	m = dns_message_to_msg(pl, cfg, data, len, ts, ts, &qr);
	if (!m)
		return;
	/* The QR bit decides; a query sent from the "server" port turns the flow around. */
	if (qr == (dir == DIR_C2S))
		flow_reverse(&fl);
	if (qr)
		corr_udp_response(pl, cfg, &fl, m);
	else
		corr_udp_request(pl, cfg, &fl, m);
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

static void dns_tcp_message(struct conn *c, const uint8_t *data, size_t len, uint64_t ts, uint64_t ts_end)
{
	struct msg *m, *oldest;
	bool qr = false;

	m = dns_message_to_msg(c->pl, c->cfg, data, len, ts, ts_end, &qr);
	if (!m)
		return;
	if (!qr) {
		corr_request(c, m);
		return;
	}
	oldest = corr_oldest(c);
	if (oldest && oldest->id != m->id)
		proto_count(c->pl, c->cfg, PSTAT_UNMATCHED);
	corr_response(c, m);
}

static ssize_t dns_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct dns_conn *st = c->pstate;
	size_t used = 0;

	while (len - used >= 2) {
		size_t n = (size_t)data[used] << 8 | data[used + 1];
		uint64_t start;

		if (len - used - 2 < n)
			break;
		start = st && st->pending_ts[dir] ? st->pending_ts[dir] : ts;
		if (st)
			st->pending_ts[dir] = 0;
		dns_tcp_message(c, data + used + 2, n, start, ts);
		used += 2 + n;
	}
	if (st && used < len && !st->pending_ts[dir])
		st->pending_ts[dir] = ts;
	return (ssize_t)used;
}

static bool dns_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct dns_conn *st = c->pstate;

	if (st)
		st->pending_ts[dir] = 0;
	return true; /* the length prefixes are lost: start over with the next segment */
}

static void dns_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct dns_conn *st = c->pstate;

	if (st)
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
};
