/*
 * Apache Thrift RPC over TCP, after Packetbeat's thrift module: one event
 * per call with method, query ("method(params)"), path and thrift.service
 * (the service, from the IDL files or a multiplexed "Service:method" name),
 * thrift.params, thrift.return_value or thrift.exceptions (status Error, as
 * for a TApplicationException reply); send_request / send_response publish
 * the query and the return value ("Exceptions: ..." after an exception).
 *
 * Each direction finds its transport and protocol in its first bytes, unless
 * transport_type / protocol_type fix them: buffered (socket) or framed
 * (4-byte length before each message), TBinaryProtocol (strict or old
 * headers) or TCompactProtocol. Packetbeat knows binary only and takes the
 * transport from its settings. Calls pair with replies by seqid (clients
 * that always send seqid 0 pair in order); oneway calls are published at
 * once, without a reply.
 *
 * Frames longer than THRIFT_MSG_MAX are skipped and counted (too_large), as
 * is a buffered message still incomplete after THRIFT_MSG_MAX bytes (the
 * direction starts over); malformed messages are parse errors and the
 * direction starts over at the next segment that starts a message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"
#include "proto.h"
#include "thrift.h"

struct thrift_cfg {
	int64_t string_max_size;
	int64_t collection_max_size;
	int64_t drop_after_n_struct_fields;
	bool capture_reply;
	bool obfuscate_strings;
	enum thrift_transport transport;
	enum thrift_proto protocol;
	struct thrift_idl *idl;
};

/* Per direction of a connection. */
struct thrift_dir {
	enum thrift_transport transport; /* AUTO until the first message says */
	enum thrift_proto protocol;
	uint64_t pending_ts; /* first bytes of a message still incomplete */
	uint64_t skip; /* bytes of a too large frame still to pass over */
	uint64_t skipped; /* of that frame, passed over so far with its header (not lost in gaps) */
};

struct thrift_conn {
	struct thrift_dir dir[2];
};

/* A decoded message (msg->priv). */
struct thrift_msg {
	enum thrift_mtype type;
	uint32_t seqid;
	char *text; /* request: "method(params)"; reply: "method(fields)"; NUL-terminated */
	size_t len;
	size_t method_off, method_len; /* the method (without a "Service:" prefix) */
	size_t body_off; /* where "(" starts */
	size_t ret_off, ret_len; /* reply: return value */
	bool has_ret, has_exc, captured;
	char *service; /* or NULL */
	char *response; /* send_response text, or NULL */
};

/* ---- settings ---- */

static int cfg_transport(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct thrift_cfg *tc = base;
	const char *v = n->kind == CFG_N_SCALAR && n->value ? n->value : "";

	if (strcmp(v, "socket") == 0)
		tc->transport = THRIFT_TRANSPORT_SOCKET;
	else if (strcmp(v, "framed") == 0)
		tc->transport = THRIFT_TRANSPORT_FRAMED;
	else if (strcmp(v, "auto") == 0)
		tc->transport = THRIFT_TRANSPORT_AUTO;
	else
		return cfg_error(err, n, "expected socket, framed or auto, got \"%s\"", v);
	return 0;
}

static int cfg_protocol(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct thrift_cfg *tc = base;
	const char *v = n->kind == CFG_N_SCALAR && n->value ? n->value : "";

	if (strcmp(v, "binary") == 0)
		tc->protocol = THRIFT_PROTO_BINARY;
	else if (strcmp(v, "compact") == 0)
		tc->protocol = THRIFT_PROTO_COMPACT;
	else if (strcmp(v, "auto") == 0)
		tc->protocol = THRIFT_PROTO_AUTO;
	else
		return cfg_error(err, n, "expected binary, compact or auto, got \"%s\"", v);
	return 0;
}

/* idl_files: read and parsed now, so a bad file stops the start with its line. */
static int cfg_idl_files(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct thrift_cfg *tc = base;
	char *files[64], msg[400];
	size_t nf = 0;
	int rc = 0;

	if (n->kind == CFG_N_SCALAR && cfg_to_string(n, &files[nf++], err))
		return -EINVAL;
	for (const struct cfg_node *c = n->kind == CFG_N_SEQ ? n->child : NULL; c && !rc; c = c->next) {
		if (nf == sizeof(files) / sizeof(files[0]))
			rc = cfg_error(err, c, "more than %zu files", nf);
		else if (cfg_to_string(c, &files[nf], err))
			rc = -EINVAL;
		else
			nf++;
	}
	if (n->kind == CFG_N_MAP)
		rc = cfg_error(err, n, "expected a list of file names");
	thrift_idl_free(tc->idl);
	tc->idl = NULL;
	if (!rc && nf) {
		tc->idl = thrift_idl_load(files, nf, msg, sizeof(msg));
		if (!tc->idl)
			rc = cfg_error(err, n, "%s", msg);
	}
	for (size_t i = 0; i < nf; i++)
		free(files[i]);
	return rc;
}

/* clang-format off */
#define TF(k, t, f) { .key = k, .type = t, .offset = offsetof(struct thrift_cfg, f) }
/* clang-format on */
static const struct cfg_field thrift_cfg_fields[] = {
	{ .key = "string_max_size",
	  .type = CFG_INT,
	  .offset = offsetof(struct thrift_cfg, string_max_size),
	  .min = 0,
	  .max = THRIFT_TEXT_MAX },
	{ .key = "collection_max_size",
	  .type = CFG_INT,
	  .offset = offsetof(struct thrift_cfg, collection_max_size),
	  .min = 0,
	  .max = THRIFT_COUNT_MAX },
	{ .key = "drop_after_n_struct_fields",
	  .type = CFG_INT,
	  .offset = offsetof(struct thrift_cfg, drop_after_n_struct_fields),
	  .min = 1,
	  .max = 1 << 20 },
	TF("capture_reply", CFG_BOOL, capture_reply),
	TF("obfuscate_strings", CFG_BOOL, obfuscate_strings),
	{ .key = "transport_type", .type = CFG_CUSTOM, .custom = cfg_transport },
	{ .key = "protocol_type", .type = CFG_CUSTOM, .custom = cfg_protocol },
	{ .key = "idl_files", .type = CFG_CUSTOM, .custom = cfg_idl_files },
	{ .key = NULL },
};

static void *thrift_cfg_new(void)
{
	struct thrift_cfg *tc = calloc(1, sizeof(*tc));

	if (!tc)
		return NULL;
	tc->string_max_size = 200;
	tc->collection_max_size = 15;
	tc->drop_after_n_struct_fields = 500;
	tc->capture_reply = true;
	return tc;
}

static void thrift_cfg_free(void *priv)
{
	struct thrift_cfg *tc = priv;

	if (!tc)
		return;
	thrift_idl_free(tc->idl);
	free(tc);
}

static const struct thrift_cfg *cfg_of(const struct conn *c)
{
	static const struct thrift_cfg defaults = {
		.string_max_size = 200,
		.collection_max_size = 15,
		.drop_after_n_struct_fields = 500,
		.capture_reply = true,
	};

	return c->cfg->priv ? c->cfg->priv : &defaults;
}

/* ---- messages ---- */

static void tmsg_free(void *priv)
{
	struct thrift_msg *tm = priv;

	if (!tm)
		return;
	free(tm->text);
	free(tm->service);
	free(tm->response);
	free(tm);
}

/* Field names of a TApplicationException (named only when the IDL names the others). */
static const struct thrift_names *app_exception_names(void)
{
	static int16_t ids[] = { 1, 2 };
	static char message[] = "message", type[] = "type";
	static char *names[] = { message, type };
	static const struct thrift_names nm = { ids, names, 2 };

	return &nm;
}

/* The method name as shown: cut at string_max_size, then "...", as Packetbeat does. */
static void put_name(struct json_buf *b, const struct thrift_head *h, size_t max)
{
	json_buf_put(b, h->name, h->name_len > max ? max : h->name_len);
	if (h->name_len > max)
		json_buf_lit(b, "...");
}

/* method and service from the name ("Service:method" when multiplexed) and the IDL. */
static const struct thrift_method *name_parts(struct thrift_msg *tm, const struct thrift_cfg *cfg)
{
	const char *colon = memchr(tm->text, ':', tm->body_off);
	const struct thrift_method *im;

	tm->method_off = colon ? (size_t)(colon - tm->text) + 1 : 0;
	tm->method_len = tm->body_off - tm->method_off;
	im = thrift_idl_find(cfg->idl, tm->text + tm->method_off, tm->method_len);
	if (im)
		tm->service = strdup(im->service);
	else if (colon)
		tm->service = strndup(tm->text, (size_t)(colon - tm->text));
	return im;
}

static const struct thrift_names *names_for(const struct thrift_cfg *cfg, const struct thrift_method *im,
					    enum thrift_mtype type)
{
	if (!cfg->idl)
		return NULL;
	if (type == THRIFT_EXCEPTION)
		return app_exception_names();
	if (!im)
		return NULL;
	return type == THRIFT_REPLY ? &im->exceptions : &im->params;
}

/* The result of a reply: its field 0 is the return value, any other field an exception (always for a TApplicationException). */
static void reply_result(struct thrift_msg *tm, const struct thrift_body *body)
{
	if (!tm->captured)
		return;
	if (body->nfields > 0 && body->first_id == 0 && tm->type == THRIFT_REPLY) {
		tm->has_ret = true;
		tm->ret_off = body->first_off;
		tm->ret_len = body->first_len;
	} else if (body->nfields > 0 || tm->type == THRIFT_EXCEPTION) {
		tm->has_exc = true;
	}
}

/* Decode header and body of one message (whole in data[0..len)); NULL and *rc when not. */
static struct thrift_msg *decode(const struct conn *c, enum thrift_proto proto, const uint8_t *data, size_t len,
				 size_t *used, enum thrift_rc *rc)
{
	const struct thrift_cfg *cfg = cfg_of(c);
	struct thrift_render rd = { (size_t)cfg->string_max_size, (size_t)cfg->collection_max_size,
				    (size_t)cfg->drop_after_n_struct_fields, cfg->obfuscate_strings };
	struct thrift_body body = { 0 };
	const struct thrift_method *im;
	struct thrift_head h;
	struct thrift_msg *tm;
	size_t hn, bn;

	hn = thrift_read_head(proto, data, len, &h, rc);
	if (!hn)
		return NULL;
	tm = calloc(1, sizeof(*tm));
	if (!tm) {
		*rc = THRIFT_BAD;
		return NULL;
	}
	tm->type = h.type;
	tm->seqid = h.seqid;
	tm->captured = h.type == THRIFT_CALL || h.type == THRIFT_ONEWAY || cfg->capture_reply;
	json_buf_reserve(&body.text, 64);
	put_name(&body.text, &h, rd.string_max);
	tm->body_off = body.text.len;
	tm->text = body.text.p;
	im = tm->text ? name_parts(tm, cfg) : NULL;
	bn = thrift_read_body(proto, data + hn, len - hn, &rd, names_for(cfg, im, h.type), tm->captured, &body, rc);
	tm->text = body.text.p;
	tm->len = body.text.len;
	if (bn && body.cut)
		corr_count(c, PSTAT_TOO_LARGE); /* the text shows "..." where it stopped */
	if (!bn && *rc == THRIFT_SHORT && body.want)
		*used = hn + body.want; /* what the message needs at least */
	if (!bn || !tm->text) {
		*rc = bn ? THRIFT_BAD : *rc;
		tmsg_free(tm);
		return NULL;
	}
	reply_result(tm, &body);
	*used = hn + bn;
	return tm;
}

/* ---- requests and replies ---- */

static void request_members(struct msg *m, struct thrift_msg *tm, const struct conn *c)
{
	msg_text_set(&m->method, tm->text + tm->method_off, tm->method_len);
	msg_text_set(&m->query, tm->text + tm->method_off, tm->len - tm->method_off);
	if (c->cfg->send_request)
		msg_set_raw(m, m->query.s, m->query.len);
}

/* send_response: the return value, or "Exceptions: (...)". */
static void response_text(struct msg *m, struct thrift_msg *tm, const struct conn *c)
{
	const char *body = tm->text + tm->body_off;
	size_t n = tm->len - tm->body_off;

	if (!c->cfg->send_response)
		return;
	if (tm->has_exc) {
		char *s = malloc(n + 13);

		if (!s)
			return;
		memcpy(s, "Exceptions: ", 12);
		memcpy(s + 12, body, n);
		s[12 + n] = '\0';
		msg_take_raw(m, s, n + 12);
	} else {
		msg_set_raw(m, tm->has_ret ? tm->text + tm->ret_off : "", tm->has_ret ? tm->ret_len : 0);
	}
}

static void on_message(struct conn *c, struct thrift_msg *tm, uint64_t start, uint64_t ts, size_t wire)
{
	bool request = tm->type == THRIFT_CALL || tm->type == THRIFT_ONEWAY;
	struct msg *m = msg_new(start);

	if (!m) {
		tmsg_free(tm);
		return;
	}
	m->ts_end = ts;
	m->bytes = wire;
	msg_set_id(m, tm->seqid);
	if (request) {
		request_members(m, tm, c);
		m->noreply = tm->type == THRIFT_ONEWAY;
	} else {
		response_text(m, tm, c);
		if (tm->has_exc)
			m->status = MSG_ERROR;
	}
	msg_set_priv(m, tm, tmsg_free, tm->len + 1 + (tm->service ? strlen(tm->service) + 1 : 0));
	if (request)
		corr_request(c, m);
	else
		corr_response(c, m);
}

/* ---- framing ---- */

static bool strict_binary(const uint8_t *p)
{
	return p[0] == 0x80 && p[1] == 0x01;
}

static bool compact(const uint8_t *p)
{
	return p[0] == 0x82 && (p[1] & 0x1f) == 1;
}

/* The old binary header: a short method name length, then a name that starts with a printable byte. */
static bool old_binary(const uint8_t *p, size_t len)
{
	uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

	return n > 0 && n < 4096 && len > 4 && p[4] > 0x20 && p[4] < 0x7f;
}

static void found(struct thrift_dir *st, enum thrift_transport t, enum thrift_proto p)
{
	st->transport = t;
	st->protocol = p;
}

/* Transport and protocol from the first bytes of a direction (or the settings). */
static enum thrift_rc detect(struct thrift_dir *st, const struct thrift_cfg *cfg, const uint8_t *p, size_t len)
{
	bool framed_ok = cfg->transport != THRIFT_TRANSPORT_SOCKET,
	     socket_ok = cfg->transport != THRIFT_TRANSPORT_FRAMED;
	bool binary_ok = cfg->protocol != THRIFT_PROTO_COMPACT, compact_ok = cfg->protocol != THRIFT_PROTO_BINARY;

	if (cfg->transport && cfg->protocol) {
		found(st, cfg->transport, cfg->protocol);
		return THRIFT_OK;
	}
	if (len < 2)
		return THRIFT_SHORT;
	if (socket_ok && binary_ok && strict_binary(p))
		return found(st, THRIFT_TRANSPORT_SOCKET, THRIFT_PROTO_BINARY), THRIFT_OK;
	if (socket_ok && compact_ok && compact(p))
		return found(st, THRIFT_TRANSPORT_SOCKET, THRIFT_PROTO_COMPACT), THRIFT_OK;
	if (len < 9)
		return THRIFT_SHORT;
	if (framed_ok && binary_ok && (strict_binary(p + 4) || (p[4] == 0 && old_binary(p + 4, len - 4))))
		return found(st, THRIFT_TRANSPORT_FRAMED, THRIFT_PROTO_BINARY), THRIFT_OK;
	if (framed_ok && compact_ok && compact(p + 4))
		return found(st, THRIFT_TRANSPORT_FRAMED, THRIFT_PROTO_COMPACT), THRIFT_OK;
	if (socket_ok && binary_ok && old_binary(p, len))
		return found(st, THRIFT_TRANSPORT_SOCKET, THRIFT_PROTO_BINARY), THRIFT_OK;
	return THRIFT_BAD; /* THeader, another protocol, or the middle of a message */
}

/* One message at data; *used the bytes it took (a skipped frame's header too). */
static enum thrift_rc one_message(struct conn *c, enum dir dir, struct thrift_dir *st, const uint8_t *data, size_t len,
				  uint64_t start, uint64_t ts, size_t *used)
{
	size_t hdr = 0, n = 0, avail = len;
	struct thrift_msg *tm;
	enum thrift_rc rc;

	if (st->transport == THRIFT_TRANSPORT_FRAMED) {
		uint32_t flen;

		if (len < 4)
			return THRIFT_SHORT;
		flen = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
		if (flen > THRIFT_MSG_MAX) {
			corr_count(c, PSTAT_TOO_LARGE);
			st->skip = flen;
			st->skipped = 4;
			*used = 4;
			return THRIFT_OK;
		}
		if (len - 4 < flen) {
			c->need[dir] = 4 + (size_t)flen;
			return THRIFT_SHORT;
		}
		hdr = 4;
		avail = flen;
	}
	tm = decode(c, st->protocol, data + hdr, avail, &n, &rc);
	if (!tm && rc == THRIFT_SHORT && (hdr || len > THRIFT_MSG_MAX)) {
		if (!hdr)
			corr_count(c, PSTAT_TOO_LARGE); /* and a parse error, the direction starts over */
		return THRIFT_BAD; /* a frame must hold its whole message */
	}
	if (!tm && rc == THRIFT_SHORT && n)
		c->need[dir] = n; /* not called again before a string or container can be whole */
	if (!tm)
		return rc;
	if (hdr && n < avail)
		corr_count(c, PSTAT_PARSE_ERRORS); /* bytes after the message in its frame: passed over */
	*used = hdr + (hdr ? avail : n);
	on_message(c, tm, start, ts, *used);
	return THRIFT_OK;
}

static ssize_t thrift_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct thrift_conn *tc = c->pstate;
	struct thrift_dir *st = tc ? &tc->dir[dir] : NULL;
	size_t used = 0;

	if (!st)
		return PARSE_ERROR;
	if (st->skip) {
		size_t n = st->skip < len ? (size_t)st->skip : len;

		st->skip -= n;
		st->skipped += n;
		return (ssize_t)n;
	}
	while (used < len && !st->skip) {
		uint64_t start = st->pending_ts ? st->pending_ts : ts;
		size_t n = 0;
		enum thrift_rc rc = st->transport ? THRIFT_OK : detect(st, cfg_of(c), data + used, len - used);

		if (rc == THRIFT_OK)
			rc = one_message(c, dir, st, data + used, len - used, start, ts, &n);
		if (rc == THRIFT_SHORT)
			break;
		if (rc == THRIFT_BAD) { /* counted by the TCP layer */
			memset(st, 0, sizeof(*st));
			return PARSE_ERROR;
		}
		st->pending_ts = 0;
		used += n;
	}
	if (used < len && !st->pending_ts && !st->skip)
		st->pending_ts = ts;
	return (ssize_t)used;
}

static void *thrift_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct thrift_conn));
}

static void thrift_conn_free(void *pstate)
{
	free(pstate);
}

/* Lengths are lost with the bytes: the direction starts over (inside a skipped frame, it skips them). */
static bool thrift_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct thrift_conn *tc = c->pstate;
	struct thrift_dir *st = tc ? &tc->dir[dir] : NULL;

	if (st && st->skip >= nbytes) {
		st->skip -= nbytes;
		return false;
	}
	if (st)
		memset(st, 0, sizeof(*st));
	return true;
}

/* Messages are parsed whole; only a too large frame being passed over is taken piece by piece. */
static uint64_t thrift_pending(const struct conn *c, enum dir dir)
{
	const struct thrift_conn *tc = c->pstate;

	return tc && tc->dir[dir].skip ? tc->dir[dir].skipped : 0;
}

static void thrift_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct thrift_conn *tc = c->pstate;

	if (tc)
		tc->dir[dir].pending_ts = 0;
}

/* ---- event ---- */

static int thrift_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			       const struct msg *resp)
{
	const struct thrift_msg *q = req ? req->priv : NULL, *r = resp ? resp->priv : NULL;

	if (q && q->service)
		json_kv_cstr(b, "path", q->service);
	json_kv_open(b, "thrift", 0);
	json_buf_key(b, "params", 1); /* a placeholder request has none */
	if (q)
		json_buf_strn(b, q->text + q->body_off, q->len - q->body_off);
	else
		json_buf_lit(b, "\"\"");
	if (q && q->service)
		json_kv_cstr(b, "service", q->service);
	if (r)
		json_kv_str(b, "return_value", r->has_ret ? r->text + r->ret_off : "", r->has_ret ? r->ret_len : 0);
	if (r && r->has_exc)
		json_kv_str(b, "exceptions", r->text + r->body_off, r->len - r->body_off);
	json_buf_lit(b, "}");
	return b->err;
}

static const uint16_t thrift_ports[] = { THRIFT_DEFAULT_PORT };

const struct proto_ops thrift_ops = {
	.name = "thrift",
	.id = PROTO_THRIFT,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = thrift_ports,
	.ndefault_ports = sizeof(thrift_ports) / sizeof(thrift_ports[0]),
	.cfg_fields = thrift_cfg_fields,
	.cfg_new = thrift_cfg_new,
	.cfg_free = thrift_cfg_free,
	.conn_new = thrift_conn_new,
	.conn_free = thrift_conn_free,
	.parse = thrift_parse,
	.gap = thrift_gap,
	.fin = thrift_fin,
	.pending = thrift_pending,
	.write_fields = thrift_write_fields,
	.event_keys = (const char *const[]){ "path", "thrift", NULL },
};
