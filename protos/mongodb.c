/*
 * MongoDB over TCP, after Packetbeat's mongodb module and past it: one event
 * per request with its reply, paired by requestID / responseTo (not in
 * order), method the command (find, insert, hello, ...: the first key of an
 * OP_MSG body or of an OP_QUERY on db.$cmd), resource the namespace, query
 * a readable rendering, status Error with mongodb.error / mongodb.code when
 * the server says ok: 0, $err, writeErrors or writeConcernError, and
 * Packetbeat's mongodb.* fields. Decoding is mongodb_wire.c (BSON:
 * mongodb_bson.c).
 *
 * Requests that get no reply are published at once, as Packetbeat does for
 * the legacy writes: OP_INSERT / OP_UPDATE / OP_DELETE, OP_KILL_CURSORS and
 * an OP_MSG with moreToCome (an unacknowledged write). A reply with
 * moreToCome (exhaust: the server streams more replies, each answering the
 * one before it) completes its request, and the request is queued again
 * under the reply's requestID for the next one.
 *
 * Each message is framed by its length: a message whose content is
 * malformed is counted (mongodb.parse_errors) and parsing goes on with the
 * next one; a header that is not MongoDB (length out of range, unknown
 * opcode) is a parse error of the stream, and after it or a gap the
 * direction resumes at a segment that starts with a plausible header. A
 * message longer than MONGODB_BUFFER_MAX is skipped without buffering it
 * (mongodb.too_large).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"
#include "mongodb.h"
#include "proto.h"

struct mongodb_cfg {
	int64_t max_docs;
	int64_t max_doc_length;
};

/* Per connection and direction. */
struct mongodb_dir {
	uint64_t pending_ts; /* when the first bytes of a still incomplete message arrived */
	uint64_t skip; /* bytes of a too large message still to skip */
	uint64_t skipped; /* of that message, passed over so far (not lost in gaps) */
	bool resync; /* after a gap or a bad header: wait for a segment that starts a message */
};

struct mongodb_conn {
	struct mongodb_dir d[2];
};

static const struct cfg_field mongodb_cfg_fields[] = {
	{ .key = "max_docs", .type = CFG_INT, .offset = offsetof(struct mongodb_cfg, max_docs), .max = INT_MAX },
	{ .key = "max_doc_length",
	  .type = CFG_INT,
	  .offset = offsetof(struct mongodb_cfg, max_doc_length),
	  .max = INT_MAX },
	{ .key = NULL },
};

static const struct mongodb_cfg mongodb_defaults = { .max_docs = 10, .max_doc_length = 5000 };

static void *mongodb_cfg_new(void)
{
	struct mongodb_cfg *pc = malloc(sizeof(*pc));

	if (pc)
		*pc = mongodb_defaults;
	return pc;
}

static void mongodb_cfg_free(void *priv)
{
	free(priv);
}

/* ---- messages ---- */

static void mmsg_free(void *priv)
{
	struct mongodb_msg *mm = priv;

	if (!mm)
		return;
	mongodb_msg_clear(mm);
	free(mm);
}

static void text_slot(struct msg_text *t, const char *s)
{
	if (s)
		msg_text_set(t, s, strlen(s));
}

/* A struct msg around mm (taken): the generic slots, the id it pairs by, the documents as raw text. */
static struct msg *msg_wrap(struct mongodb_msg *mm, uint64_t id, uint64_t ts, uint64_t ts_end, size_t bytes)
{
	struct msg *m = msg_new(ts);

	if (!m) {
		mmsg_free(mm);
		return NULL;
	}
	m->ts_end = ts_end;
	m->bytes = bytes;
	msg_set_id(m, id);
	m->noreply = mm->noreply;
	if (mm->error)
		m->status = MSG_ERROR;
	if (mm->docs) {
		mm->mem -= mm->docs_len + 1;
		msg_take_raw(m, mm->docs, mm->docs_len);
		mm->docs = NULL;
	} else if (!mm->reply && mm->query) {
		msg_set_raw(m, mm->query, strlen(mm->query)); /* a request without documents: its query */
	}
	text_slot(&m->method, mm->method);
	text_slot(&m->resource, mm->resource);
	text_slot(&m->query, mm->query);
	msg_set_priv(m, mm, mmsg_free, mm->mem);
	return m;
}

static char *dup_str(struct mongodb_msg *mm, const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (p)
		mm->mem += strlen(p) + 1;
	return p;
}

/* The request an exhaust reply answered, again, for the reply that follows it. */
static struct msg *request_again(const struct msg *req, uint64_t id, uint64_t ts)
{
	const struct mongodb_msg *q = req->priv;
	struct mongodb_msg *mm = calloc(1, sizeof(*mm));
	struct msg *m;

	if (!mm || !q) {
		free(mm);
		return NULL;
	}
	mm->opcode = q->opcode;
	mm->flags = q->flags;
	mm->method = dup_str(mm, q->method);
	mm->resource = dup_str(mm, q->resource);
	mm->query = dup_str(mm, q->query);
	mm->full_collection_name = dup_str(mm, q->full_collection_name);
	m = msg_wrap(mm, id, ts, ts, 0);
	if (m && req->raw)
		msg_set_raw(m, req->raw, req->raw_len);
	return m;
}

static void on_reply(struct conn *c, struct msg *resp, const struct mongodb_msg *mm, uint32_t request_id)
{
	struct msg *req = corr_take_id(c, resp->id), *again = NULL;

	if (!req) {
		corr_unmatched(c, resp);
		return;
	}
	if (mm->more_to_come)
		again = request_again(req, request_id, resp->ts_end);
	corr_publish(c, req, resp);
	if (again)
		corr_request(c, again);
}

static struct mongodb_text_opts text_opts(const struct conn *c, enum dir dir)
{
	const struct mongodb_cfg *pc = c->cfg->priv ? c->cfg->priv : &mongodb_defaults;

	return (struct mongodb_text_opts){
		.max_docs = pc->max_docs,
		.max_doc_length = pc->max_doc_length,
		.want_docs = dir == DIR_C2S ? c->cfg->send_request : c->cfg->send_response,
	};
}

static void on_message(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts, uint64_t ts_end)
{
	struct mongodb_text_opts o = text_opts(c, dir);
	struct mongodb_msg *mm = malloc(sizeof(*mm));
	uint32_t request_id = mongodb_le32(data + 4), response_to = mongodb_le32(data + 8);
	struct msg *m;
	int rc;

	if (!mm)
		return;
	rc = mongodb_decode(data, len, dir == DIR_S2C, &o, mm);
	if (rc) {
		free(mm);
		if (rc == -EINVAL)
			corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	if (mm->docs_cut)
		corr_count(c, PSTAT_TOO_LARGE);
	m = msg_wrap(mm, dir == DIR_C2S ? request_id : response_to, ts, ts_end, len);
	if (!m)
		return;
	if (dir == DIR_C2S)
		corr_request(c, m);
	else
		on_reply(c, m, mm, request_id);
}

/* ---- TCP ---- */

static void *mongodb_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct mongodb_conn));
}

static void mongodb_conn_free(void *pstate)
{
	free(pstate);
}

/* A header that can start a message in dir: its length, an opcode this side sends. */
static bool plausible_header(enum dir dir, const uint8_t *p)
{
	uint32_t n = mongodb_le32(p);
	int32_t op = (int32_t)mongodb_le32(p + 12);

	if (n < MONGODB_HEADER_LEN + 4 || n > MONGODB_MSG_MAX || !mongodb_opcode_known(op))
		return false;
	if (dir == DIR_S2C)
		return op == MONGODB_OP_REPLY || op == MONGODB_OP_MSG || op == MONGODB_OP_COMPRESSED;
	return op != MONGODB_OP_REPLY;
}

/* Skip what is left of a too large message. */
static size_t skip_bytes(struct mongodb_dir *st, size_t len)
{
	size_t n = st->skip < len ? (size_t)st->skip : len;

	st->skip -= n;
	return n;
}

/* Bytes of a too large message passed over as they arrive. */
static size_t skip_taken(struct mongodb_dir *st, size_t len)
{
	size_t n = skip_bytes(st, len);

	st->skipped += n;
	return n;
}

static ssize_t mongodb_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct mongodb_conn *mc = c->pstate;
	struct mongodb_dir *st;
	uint64_t start;
	uint32_t n;

	if (!mc)
		return PARSE_ERROR;
	st = &mc->d[dir];
	if (st->skip)
		return (ssize_t)skip_taken(st, len);
	if (len < MONGODB_HEADER_LEN) {
		if (!st->pending_ts)
			st->pending_ts = ts;
		return 0;
	}
	if (!plausible_header(dir, data)) {
		if (st->resync) {
			c->passed[dir] = len;
			return (ssize_t)len; /* the rest of a message cut by a gap (counted with it) */
		}
		st->resync = true;
		st->pending_ts = 0;
		return PARSE_ERROR;
	}
	st->resync = false;
	n = mongodb_le32(data);
	if (n > MONGODB_BUFFER_MAX) {
		corr_count(c, PSTAT_TOO_LARGE);
		st->pending_ts = 0;
		st->skip = n;
		st->skipped = 0;
		return (ssize_t)skip_taken(st, len);
	}
	if (len < n) {
		if (!st->pending_ts)
			st->pending_ts = ts;
		c->need[dir] = n; /* not called again before the whole message is there */
		return 0;
	}
	start = st->pending_ts ? st->pending_ts : ts;
	st->pending_ts = 0;
	on_message(c, dir, data, n, start, ts);
	return (ssize_t)n;
}

static bool mongodb_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct mongodb_conn *mc = c->pstate;

	if (!mc)
		return true;
	if (mc->d[dir].skip) {
		skip_bytes(&mc->d[dir], nbytes); /* inside a message skipped anyway */
		return false;
	}
	mc->d[dir].pending_ts = 0;
	mc->d[dir].resync = true;
	return true;
}

/* Messages are parsed whole; only a too large one being passed over is taken piece by piece. */
static uint64_t mongodb_pending(const struct conn *c, enum dir dir)
{
	const struct mongodb_conn *mc = c->pstate;

	return mc && mc->d[dir].skip ? mc->d[dir].skipped : 0;
}

static void mongodb_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct mongodb_conn *mc = c->pstate;

	if (mc)
		mc->d[dir].pending_ts = 0; /* a message being skipped stays pending */
}

/* ---- event ---- */

/* A number of the response when it has one, else of the request. */
static void put_num(struct json_buf *b, const char *key, unsigned bit, const struct mongodb_msg *q,
		    const struct mongodb_msg *r, size_t off)
{
	const struct mongodb_msg *m = r && (r->has & bit) ? r : q && (q->has & bit) ? q : NULL;

	if (m)
		json_kv_i64(b, key, *(const int64_t *)((const char *)m + off));
}

#define NUM(b, key, bit, q, r, field) put_num(b, key, bit, q, r, offsetof(struct mongodb_msg, field))

static int mongodb_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
				const struct msg *resp)
{
	const struct mongodb_msg *q = req ? req->priv : NULL, *r = resp ? resp->priv : NULL;
	size_t start = b->len, open;

	if (!q && !r)
		return b->err;
	json_kv_open(b, "mongodb", 0);
	open = b->len; /* the members below all start with a comma: the first one's is dropped after */
	if (q) {
		json_kv_cstr(b, "fullCollectionName", q->full_collection_name);
		json_kv_cstr(b, "query", q->mquery);
		json_kv_cstr(b, "returnFieldsSelector", q->return_fields);
		json_kv_cstr(b, "selector", q->selector);
		json_kv_cstr(b, "update", q->update);
	}
	NUM(b, "numberToSkip", MH_SKIP, q, r, number_to_skip);
	NUM(b, "numberToReturn", MH_TO_RETURN, q, r, number_to_return);
	NUM(b, "numberReturned", MH_RETURNED, q, r, number_returned);
	NUM(b, "startingFrom", MH_STARTING, q, r, starting_from);
	NUM(b, "cursorId", MH_CURSOR, q, r, cursor_id);
	if (r && r->error) {
		json_kv_cstr(b, "error", r->errmsg ? r->errmsg : "error");
		NUM(b, "code", MH_CODE, NULL, r, code);
		json_kv_cstr(b, "codeName", r->code_name);
	}
	if (b->err)
		return b->err;
	if (b->len == open) { /* nothing to say: no object */
		b->len = start;
		b->p[start] = '\0';
		return 0;
	}
	memmove(b->p + open, b->p + open + 1, b->len - open); /* the first member's comma, with the NUL */
	b->len--;
	json_buf_lit(b, "}");
	return b->err;
}

static const uint16_t mongodb_ports[] = { MONGODB_DEFAULT_PORT };

const struct proto_ops mongodb_ops = {
	.name = "mongodb",
	.id = PROTO_MONGODB,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = mongodb_ports,
	.ndefault_ports = sizeof(mongodb_ports) / sizeof(mongodb_ports[0]),
	.cfg_fields = mongodb_cfg_fields,
	.cfg_new = mongodb_cfg_new,
	.cfg_free = mongodb_cfg_free,
	.conn_new = mongodb_conn_new,
	.conn_free = mongodb_conn_free,
	.parse = mongodb_parse,
	.gap = mongodb_gap,
	.fin = mongodb_fin,
	.pending = mongodb_pending,
	.write_fields = mongodb_write_fields,
	.event_keys = (const char *const[]){ "mongodb", NULL },
	.note_unanswered = "No response to this request was received",
};
