/*
 * One whole MongoDB wire message into a struct mongodb_msg: the 16-byte
 * header, then by opcode OP_MSG (flag bits, a kind 0 body and kind 1
 * document sequences, the CRC-32C checksum when flagged), OP_QUERY /
 * OP_REPLY, OP_GET_MORE, OP_KILL_CURSORS, OP_INSERT / OP_UPDATE /
 * OP_DELETE, and OP_COMPRESSED (uncompressed by mongodb_compress.c, with the
 * decompressed size capped, then decoded as the opcode it carries).
 *
 * method is the command (the first key of the body), resource the
 * namespace (db.collection, or the database for commands on none), query
 * "<resource>.<method>(<arguments>)" with the arguments as relaxed Extended
 * JSON (the body without the command and the session bookkeeping, the
 * document sequences but an insert's documents). A reply with ok: 0, $err,
 * writeErrors or writeConcernError is an error with the server's errmsg
 * and code. Every document is validated (bson_valid) before it is read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongodb.h"

#define SEQ_MAX 8 /* kind 1 sections of one OP_MSG */
#define KILL_IDS_SHOWN 16 /* cursor ids of an OP_KILL_CURSORS shown in its query */

struct seq {
	const char *ident;
	size_t ilen;
	const uint8_t *docs; /* the documents, back to back */
	size_t len;
};

/* The message being decoded. */
struct dec {
	const struct mongodb_text_opts *o;
	struct mongodb_msg *m;
	struct json_buf docs; /* request/response text */
	int64_t ndocs;
	bool more_docs; /* "[...]" written */
	int32_t request_id, response_to;
	const uint8_t *body;
	size_t blen;
	struct seq seqs[SEQ_MAX];
	size_t nseqs;
};

static const struct {
	int32_t op;
	const char *name;
} opcodes[] = {
	{ MONGODB_OP_REPLY, "OP_REPLY" },
	{ MONGODB_OP_UPDATE, "OP_UPDATE" },
	{ MONGODB_OP_INSERT, "OP_INSERT" },
	{ MONGODB_OP_QUERY, "OP_QUERY" },
	{ MONGODB_OP_GET_MORE, "OP_GET_MORE" },
	{ MONGODB_OP_DELETE, "OP_DELETE" },
	{ MONGODB_OP_KILL_CURSORS, "OP_KILL_CURSORS" },
	{ MONGODB_OP_COMPRESSED, "OP_COMPRESSED" },
	{ MONGODB_OP_MSG, "OP_MSG" },
};

const char *mongodb_opcode_name(int32_t op)
{
	for (size_t i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++)
		if (opcodes[i].op == op)
			return opcodes[i].name;
	return NULL;
}

bool mongodb_opcode_known(int32_t op)
{
	return mongodb_opcode_name(op) != NULL;
}

/* ---- strings the message keeps ---- */

static char *keep(struct mongodb_msg *m, const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	m->mem += n + 1;
	return p;
}

/* Take the text of b (reset after) as a kept string. */
static char *keep_buf(struct mongodb_msg *m, struct json_buf *b)
{
	char *s = b->err ? NULL : keep(m, b->p ? b->p : "", b->len);

	b->len = 0;
	return s;
}

/* Cut the text b holds from start at max bytes (0: no cut), marked " ...". */
static void cut_at(struct json_buf *b, size_t start, int64_t max)
{
	if (max > 0 && b->len - start > (size_t)max) {
		b->len = start + (size_t)max;
		json_buf_lit(b, " ...");
	}
}

static size_t text_cap(const struct mongodb_text_opts *o)
{
	return o->max_doc_length > 0 ? (size_t)o->max_doc_length : MONGODB_TEXT_MAX;
}

/* A document as text for a mongodb.* field, cut at max_doc_length. */
static char *doc_field(struct dec *d, const uint8_t *doc, size_t len)
{
	struct json_buf b = { 0 };
	char *s;

	bson_json_doc(&b, doc, len, false, text_cap(d->o));
	cut_at(&b, 0, (int64_t)text_cap(d->o));
	s = keep_buf(d->m, &b);
	json_buf_free(&b);
	return s;
}

/* One more document for request/response: a line each, max_docs then "[...]", max_doc_length. */
static void add_doc(struct dec *d, const uint8_t *doc, size_t len)
{
	struct json_buf *b = &d->docs;
	size_t start;

	if (!d->o->want_docs || d->more_docs || d->m->docs_cut)
		return;
	if (b->len)
		json_buf_lit(b, "\n");
	if (d->o->max_docs > 0 && d->ndocs >= d->o->max_docs) {
		json_buf_lit(b, "[...]");
		d->more_docs = true;
		return;
	}
	start = b->len;
	bson_json_doc(b, doc, len, false, start + text_cap(d->o));
	cut_at(b, start, d->o->max_doc_length);
	d->ndocs++;
	if (b->len > MONGODB_TEXT_MAX) {
		b->len = MONGODB_TEXT_MAX;
		d->m->docs_cut = true;
	}
}

/* Every document of an array, or of a run of documents back to back. */
static void add_array(struct dec *d, const uint8_t *arr, size_t len)
{
	struct bson_iter it;
	struct bson_elem e;

	bson_iter_init(&it, arr, len);
	while (bson_iter_next(&it, &e) > 0)
		if (e.type == BSON_DOC)
			add_doc(d, e.val, e.vlen);
}

static void add_run(struct dec *d, const uint8_t *p, size_t len)
{
	for (size_t off = 0, n; off < len; off += n) {
		n = bson_doc_len(p + off, len - off);
		add_doc(d, p + off, n);
	}
}

/* A run of valid documents filling len exactly; their count in *n. */
static bool valid_run(const uint8_t *p, size_t len, size_t *count)
{
	size_t off = 0, n;

	*count = 0;
	while (off < len) {
		n = bson_doc_len(p + off, len - off);
		if (!n || !bson_valid(p + off, n))
			return false;
		off += n;
		(*count)++;
	}
	return true;
}

/* Read a document at r, validated. */
static bool read_doc(struct reader *r, const uint8_t **doc, size_t *len)
{
	*len = bson_doc_len(rd_ptr(r), rd_left(r));
	*doc = rd_ptr(r);
	return *len && bson_valid(*doc, *len) && rd_skip(r, *len);
}

/* ---- the generic members ---- */

/* Keys that say nothing about what the command does: left out of query. */
static bool bookkeeping(const struct bson_elem *e)
{
	static const char *const keys[] = { "$db",
					    "lsid",
					    "$clusterTime",
					    "$readPreference",
					    "txnNumber",
					    "autocommit",
					    "startTransaction",
					    "apiVersion",
					    "apiStrict",
					    "apiDeprecationErrors",
					    "$audit",
					    "$client",
					    "$configServerState" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (bson_key_is(e, keys[i]))
			return true;
	return false;
}

static void put_member(struct json_buf *b, bool *first, const char *key, size_t klen)
{
	if (!*first)
		json_buf_lit(b, ",");
	*first = false;
	json_buf_strn(b, key, klen);
	json_buf_lit(b, ":");
}

/* The arguments of a command: the body past its first key, then the document sequences. */
static void command_args(struct dec *d, struct json_buf *b, size_t limit)
{
	struct bson_iter it;
	struct bson_elem e;
	bool first = true, cmd = true;

	json_buf_lit(b, "{");
	bson_iter_init(&it, d->body, d->blen);
	while (b->len <= limit && bson_iter_next(&it, &e) > 0) {
		if (cmd || bookkeeping(&e)) {
			cmd = false;
			continue;
		}
		put_member(b, &first, e.key, e.klen);
		bson_json_value(b, &e, limit);
	}
	for (size_t i = 0; i < d->nseqs && b->len <= limit; i++) {
		const struct seq *s = &d->seqs[i];

		if (strcmp(d->m->method, "insert") == 0 && s->ilen == 9 && memcmp(s->ident, "documents", 9) == 0)
			continue; /* the data, not the command */
		put_member(b, &first, s->ident, s->ilen);
		json_buf_lit(b, "[");
		for (size_t off = 0, n; off < s->len && b->len <= limit; off += n) {
			n = bson_doc_len(s->docs + off, s->len - off);
			if (off)
				json_buf_lit(b, ",");
			bson_json_doc(b, s->docs + off, n, false, limit);
		}
		json_buf_lit(b, "]");
	}
	json_buf_lit(b, "}");
}

/* query: "<resource>.<method>(<args>)" and Packetbeat's .skip(n) / .limit(n). */
static int make_query(struct dec *d, const struct json_buf *args)
{
	struct mongodb_msg *m = d->m;
	struct json_buf b = { 0 };
	size_t cap = text_cap(d->o);

	if (m->resource) {
		json_buf_puts(&b, m->resource);
		json_buf_lit(&b, ".");
	}
	json_buf_puts(&b, m->method);
	json_buf_lit(&b, "(");
	if (args && !(args->len == 2 && memcmp(args->p, "{}", 2) == 0))
		json_buf_put(&b, args->p, args->len);
	json_buf_lit(&b, ")");
	cut_at(&b, 0, (int64_t)cap);
	if ((m->has & MH_SKIP) && m->number_to_skip > 0) {
		char s[32];

		json_buf_put(&b, s, (size_t)snprintf(s, sizeof(s), ".skip(%" PRId64 ")", m->number_to_skip));
	}
	if ((m->has & MH_TO_RETURN) && m->number_to_return > 0 && m->number_to_return < 0x7fffffff) {
		char s[32];

		json_buf_put(&b, s, (size_t)snprintf(s, sizeof(s), ".limit(%" PRId64 ")", m->number_to_return));
	}
	m->query = keep_buf(m, &b);
	json_buf_free(&b);
	return m->query ? 0 : -ENOMEM;
}

/* method, resource and query of a command body (OP_MSG, or OP_QUERY on db.$cmd with cmd_ns). */
static int command_members(struct dec *d, const char *db, size_t dblen, const char *cmd_ns)
{
	struct mongodb_msg *m = d->m;
	struct bson_iter it;
	struct bson_elem first, e;
	const char *coll = NULL;
	size_t clen = 0;
	struct json_buf args = { 0 };
	char *res;
	int rc;

	bson_iter_init(&it, d->body, d->blen);
	if (bson_iter_next(&it, &first) <= 0)
		return -EINVAL; /* a command has a name */
	m->method = keep(m, first.key, first.klen);
	if (!m->method)
		return -ENOMEM;
	if (!bson_str(&first, &coll, &clen) && bson_key_is(&first, "getMore") &&
	    bson_find(d->body, d->blen, "collection", &e))
		bson_str(&e, &coll, &clen);
	if (cmd_ns && !coll) {
		m->resource = keep(m, cmd_ns, strlen(cmd_ns)); /* as Packetbeat: db.$cmd */
	} else if (dblen) {
		res = malloc(dblen + clen + 2);
		if (!res)
			return -ENOMEM;
		memcpy(res, db, dblen);
		if (coll) {
			res[dblen] = '.';
			memcpy(res + dblen + 1, coll, clen);
		}
		m->resource = keep(m, res, dblen + (coll ? clen + 1 : 0));
		free(res);
	}
	command_args(d, &args, text_cap(d->o));
	rc = args.err ? -ENOMEM : make_query(d, &args);
	json_buf_free(&args);
	return rc;
}

/* ---- replies ---- */

static void set_error(struct dec *d, const uint8_t *doc, size_t len, const char *msg_key)
{
	struct mongodb_msg *m = d->m;
	struct bson_elem e;
	const char *s;
	size_t n;

	m->error = true;
	if (!m->errmsg && bson_find(doc, len, msg_key, &e) && bson_str(&e, &s, &n))
		m->errmsg = keep(m, s, n);
	if (!(m->has & MH_CODE) && bson_find(doc, len, "code", &e) && bson_int(&e, &m->code))
		m->has |= MH_CODE;
	if (!m->code_name && bson_find(doc, len, "codeName", &e) && bson_str(&e, &s, &n))
		m->code_name = keep(m, s, n);
}

/* The first document of an array (writeErrors). */
static bool first_doc(const struct bson_elem *arr, const uint8_t **doc, size_t *len)
{
	struct bson_iter it;
	struct bson_elem e;

	bson_iter_init(&it, arr->val, arr->vlen);
	return bson_iter_next(&it, &e) > 0 && bson_sub(&e, doc, len) && e.type == BSON_DOC;
}

/* ok: 0, $err, writeErrors, writeConcernError. */
static void reply_errors(struct dec *d, const uint8_t *doc, size_t len)
{
	struct bson_elem e;
	const uint8_t *sub;
	size_t slen;
	int64_t ok;

	if (bson_find(doc, len, "$err", &e))
		set_error(d, doc, len, "$err");
	if (bson_find(doc, len, "ok", &e) && bson_int(&e, &ok) && ok == 0)
		set_error(d, doc, len, "errmsg");
	if (bson_find(doc, len, "writeErrors", &e) && e.type == BSON_ARRAY && first_doc(&e, &sub, &slen))
		set_error(d, sub, slen, "errmsg");
	if (bson_find(doc, len, "writeConcernError", &e) && bson_sub(&e, &sub, &slen) && e.type == BSON_DOC)
		set_error(d, sub, slen, "errmsg");
}

static size_t array_len(const uint8_t *arr, size_t len)
{
	struct bson_iter it;
	struct bson_elem e;
	size_t n = 0;

	bson_iter_init(&it, arr, len);
	while (bson_iter_next(&it, &e) > 0)
		n++;
	return n;
}

/* A command reply: errors, and for a cursor its id and batch (the documents shown). */
static void command_reply(struct dec *d)
{
	struct mongodb_msg *m = d->m;
	struct bson_elem c, batch;
	const uint8_t *cur;
	size_t clen;

	reply_errors(d, d->body, d->blen);
	if (bson_find(d->body, d->blen, "cursor", &c) && c.type == BSON_DOC && bson_sub(&c, &cur, &clen)) {
		struct bson_elem id;

		if (bson_find(cur, clen, "id", &id) && bson_int(&id, &m->cursor_id))
			m->has |= MH_CURSOR;
		if ((bson_find(cur, clen, "firstBatch", &batch) || bson_find(cur, clen, "nextBatch", &batch)) &&
		    batch.type == BSON_ARRAY) {
			m->number_returned = (int64_t)array_len(batch.val, batch.vlen);
			m->has |= MH_RETURNED;
			add_array(d, batch.val, batch.vlen);
			return;
		}
	}
	add_doc(d, d->body, d->blen);
	for (size_t i = 0; i < d->nseqs; i++)
		add_run(d, d->seqs[i].docs, d->seqs[i].len);
}

/* ---- OP_MSG ---- */

/* CRC-32C (Castagnoli), bit by bit: only messages that carry a checksum pay for it. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
}

static int msg_sequence(struct dec *d, struct reader *r)
{
	struct seq *s;
	uint32_t size = rd_le32(r);
	size_t count;
	struct reader sr;

	if (r->err || size < 4 + 1 || size - 4 > rd_left(r) || d->nseqs == SEQ_MAX)
		return -EINVAL;
	rd_init(&sr, rd_ptr(r), size - 4);
	rd_skip(r, size - 4);
	s = &d->seqs[d->nseqs++];
	s->ident = rd_cstr(&sr, rd_left(&sr), &s->ilen);
	if (!s->ident)
		return -EINVAL;
	s->docs = rd_ptr(&sr);
	s->len = rd_left(&sr);
	return valid_run(s->docs, s->len, &count) ? 0 : -EINVAL;
}

static int msg_sections(struct dec *d, const uint8_t *p, size_t len)
{
	struct reader r;

	rd_init(&r, p, len);
	while (rd_left(&r)) {
		uint8_t kind = rd_u8(&r);

		if (kind == 0 && !d->body) {
			if (!read_doc(&r, &d->body, &d->blen))
				return -EINVAL;
		} else if (kind == 1) {
			if (msg_sequence(d, &r))
				return -EINVAL;
		} else {
			return -EINVAL; /* a second body, or a kind this parser does not know */
		}
	}
	return d->body ? 0 : -EINVAL;
}

static int op_msg(struct dec *d, const uint8_t *data, size_t len, bool reply)
{
	struct mongodb_msg *m = d->m;
	size_t end = len;
	struct bson_elem db;
	const char *dbs = NULL;
	size_t dblen = 0;

	if (len < MONGODB_HEADER_LEN + 4 + 1)
		return -EINVAL;
	m->flags = mongodb_le32(data + MONGODB_HEADER_LEN);
	if (m->flags & MONGODB_MSG_CHECKSUM) {
		if (len < MONGODB_HEADER_LEN + 4 + 1 + 4 || crc32c(data, len - 4) != mongodb_le32(data + len - 4))
			return -EINVAL;
		end -= 4;
	}
	if (msg_sections(d, data + MONGODB_HEADER_LEN + 4, end - MONGODB_HEADER_LEN - 4))
		return -EINVAL;
	if (reply) {
		m->more_to_come = m->flags & MONGODB_MSG_MORE_TO_COME;
		command_reply(d);
		return 0;
	}
	m->noreply = m->flags & MONGODB_MSG_MORE_TO_COME;
	if (bson_find(d->body, d->blen, "$db", &db))
		bson_str(&db, &dbs, &dblen);
	return command_members(d, dbs, dblen, NULL);
}

/* ---- legacy opcodes ---- */

/* The namespace (db.collection) at r: mongodb.fullCollectionName and resource. */
static int read_ns(struct dec *d, struct reader *r)
{
	size_t n;
	const char *ns = rd_cstr(r, rd_left(r), &n);

	if (!ns)
		return -EINVAL;
	d->m->full_collection_name = keep(d->m, ns, n);
	d->m->resource = keep(d->m, ns, n);
	return d->m->resource && d->m->full_collection_name ? 0 : -ENOMEM;
}

/* A legacy operation on a namespace: method, and the query from its documents (or none). */
static int legacy_query(struct dec *d, const char *method, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct json_buf args = { 0 };
	int rc;

	d->m->method = keep(d->m, method, strlen(method));
	if (!d->m->method)
		return -ENOMEM;
	if (a)
		bson_json_doc(&args, a, alen, false, text_cap(d->o));
	if (b) {
		json_buf_lit(&args, ", ");
		bson_json_doc(&args, b, blen, false, text_cap(d->o));
	}
	rc = args.err ? -ENOMEM : make_query(d, a ? &args : NULL);
	json_buf_free(&args);
	return rc;
}

/* Unwrap {$query: {...}, $orderby: ...} as old drivers send a query with modifiers. */
static void unwrap_query(const uint8_t **q, size_t *qlen)
{
	struct bson_elem e;

	if (bson_find(*q, *qlen, "$query", &e) && e.type == BSON_DOC)
		bson_sub(&e, q, qlen);
}

static int op_query(struct dec *d, struct reader *r)
{
	struct mongodb_msg *m = d->m;
	const uint8_t *q, *sel;
	size_t qlen, slen, n;
	int rc;

	rd_skip(r, 4); /* flags */
	if ((rc = read_ns(d, r)))
		return rc;
	m->number_to_skip = (int32_t)rd_le32(r);
	m->number_to_return = (int32_t)rd_le32(r);
	m->has |= MH_SKIP | MH_TO_RETURN;
	if (r->err || !read_doc(r, &q, &qlen))
		return -EINVAL;
	if (rd_left(r)) {
		if (!read_doc(r, &sel, &slen) || rd_left(r))
			return -EINVAL;
		m->return_fields = doc_field(d, sel, slen);
	}
	m->mquery = doc_field(d, q, qlen);
	add_doc(d, q, qlen);
	n = strlen(m->full_collection_name);
	if (n >= 5 && strcmp(m->full_collection_name + n - 5, ".$cmd") == 0) {
		d->body = q;
		d->blen = qlen;
		unwrap_query(&d->body, &d->blen);
		free(m->resource);
		m->mem -= n + 1;
		m->resource = NULL;
		return command_members(d, m->full_collection_name, n - 5, m->full_collection_name);
	}
	unwrap_query(&q, &qlen);
	return legacy_query(d, "find", q, qlen, NULL, 0);
}

static int op_reply(struct dec *d, struct reader *r)
{
	struct mongodb_msg *m = d->m;
	uint32_t flags = rd_le32(r);
	size_t count;
	const uint8_t *first = rd_ptr(r) + 16;

	m->cursor_id = (int64_t)rd_le64(r);
	m->starting_from = (int32_t)rd_le32(r);
	m->number_returned = (int32_t)rd_le32(r);
	m->has |= MH_CURSOR | MH_STARTING | MH_RETURNED;
	if (r->err || !valid_run(rd_ptr(r), rd_left(r), &count) || (int64_t)count != m->number_returned)
		return -EINVAL;
	if (count)
		reply_errors(d, first, bson_doc_len(first, rd_left(r)));
	if (flags & 0x2) /* QueryFailure */
		m->error = true;
	add_run(d, rd_ptr(r), rd_left(r));
	return 0;
}

static int op_get_more(struct dec *d, struct reader *r)
{
	struct mongodb_msg *m = d->m;
	int rc;

	rd_skip(r, 4);
	if ((rc = read_ns(d, r)))
		return rc;
	m->number_to_return = (int32_t)rd_le32(r);
	m->cursor_id = (int64_t)rd_le64(r);
	m->has |= MH_TO_RETURN | MH_CURSOR;
	if (r->err || rd_left(r))
		return -EINVAL;
	return legacy_query(d, "getMore", NULL, 0, NULL, 0);
}

static int op_insert(struct dec *d, struct reader *r)
{
	size_t count;
	int rc;

	rd_skip(r, 4);
	if ((rc = read_ns(d, r)))
		return rc;
	if (r->err || !valid_run(rd_ptr(r), rd_left(r), &count) || !count)
		return -EINVAL;
	add_run(d, rd_ptr(r), rd_left(r));
	d->m->noreply = true;
	return legacy_query(d, "insert", NULL, 0, NULL, 0); /* the documents are data, not the query */
}

/* OP_UPDATE (selector, update) and OP_DELETE (selector). */
static int op_update_delete(struct dec *d, struct reader *r, bool update)
{
	struct mongodb_msg *m = d->m;
	const uint8_t *sel, *upd = NULL;
	size_t slen, ulen = 0;
	int rc;

	rd_skip(r, 4);
	if ((rc = read_ns(d, r)))
		return rc;
	rd_skip(r, 4); /* flags */
	if (r->err || !read_doc(r, &sel, &slen) || (update && !read_doc(r, &upd, &ulen)) || rd_left(r))
		return -EINVAL;
	m->selector = doc_field(d, sel, slen);
	add_doc(d, sel, slen);
	if (upd) {
		m->update = doc_field(d, upd, ulen);
		add_doc(d, upd, ulen);
	}
	m->noreply = true;
	return legacy_query(d, update ? "update" : "delete", sel, slen, upd, ulen);
}

static int op_kill_cursors(struct dec *d, struct reader *r)
{
	struct mongodb_msg *m = d->m;
	struct json_buf b = { 0 };
	uint32_t n;
	int rc;

	rd_skip(r, 4);
	n = rd_le32(r);
	if (r->err || n == 0 || rd_left(r) != (size_t)n * 8)
		return -EINVAL;
	m->noreply = true;
	m->method = keep(m, "killCursors", 11);
	if (!m->method)
		return -ENOMEM;
	json_buf_lit(&b, "{\"cursors\":[");
	for (uint32_t i = 0; i < n && i < KILL_IDS_SHOWN; i++) {
		char s[32];

		json_buf_put(&b, s, (size_t)snprintf(s, sizeof(s), "%s%" PRId64, i ? "," : "", (int64_t)rd_le64(r)));
	}
	json_buf_puts(&b, n > KILL_IDS_SHOWN ? ",...]}" : "]}");
	rc = b.err ? -ENOMEM : make_query(d, &b);
	json_buf_free(&b);
	return rc;
}

/* ---- OP_COMPRESSED ---- */

static int decode_at(struct dec *d, const uint8_t *data, size_t len, bool reply, unsigned nest);

static int op_compressed(struct dec *d, const uint8_t *data, size_t len, bool reply, unsigned nest)
{
	struct reader r;
	int32_t op;
	uint32_t size;
	uint8_t id;
	uint8_t *buf;
	int rc = -EINVAL;

	rd_init(&r, data + MONGODB_HEADER_LEN, len - MONGODB_HEADER_LEN);
	op = (int32_t)rd_le32(&r);
	size = rd_le32(&r);
	id = rd_u8(&r);
	if (r.err || nest || op == MONGODB_OP_COMPRESSED || !mongodb_opcode_known(op) || size > MONGODB_INFLATE_MAX)
		return -EINVAL;
	buf = malloc(MONGODB_HEADER_LEN + (size_t)size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, data, 12);
	for (int i = 0; i < 4; i++) {
		buf[i] = (uint8_t)((MONGODB_HEADER_LEN + size) >> (8 * i));
		buf[12 + i] = (uint8_t)((uint32_t)op >> (8 * i));
	}
	rc = mongodb_uncompress(id, rd_ptr(&r), rd_left(&r), buf + MONGODB_HEADER_LEN, size);
	d->m->compressed = true;
	if (rc == 0)
		rc = decode_at(d, buf, MONGODB_HEADER_LEN + (size_t)size, reply, nest + 1);
	free(buf);
	return rc;
}

static int decode_at(struct dec *d, const uint8_t *data, size_t len, bool reply, unsigned nest)
{
	int32_t op = (int32_t)mongodb_le32(data + 12);
	struct reader r;

	d->m->opcode = op;
	rd_init(&r, data + MONGODB_HEADER_LEN, len - MONGODB_HEADER_LEN);
	if (op == MONGODB_OP_COMPRESSED)
		return op_compressed(d, data, len, reply, nest);
	if (op == MONGODB_OP_MSG)
		return op_msg(d, data, len, reply);
	if (reply != (op == MONGODB_OP_REPLY))
		return -EINVAL; /* a legacy request from the server, or a reply from the client */
	switch (op) {
	case MONGODB_OP_REPLY:
		return op_reply(d, &r);
	case MONGODB_OP_QUERY:
		return op_query(d, &r);
	case MONGODB_OP_GET_MORE:
		return op_get_more(d, &r);
	case MONGODB_OP_INSERT:
		return op_insert(d, &r);
	case MONGODB_OP_UPDATE:
		return op_update_delete(d, &r, true);
	case MONGODB_OP_DELETE:
		return op_update_delete(d, &r, false);
	case MONGODB_OP_KILL_CURSORS:
		return op_kill_cursors(d, &r);
	default:
		return -EINVAL;
	}
}

int mongodb_decode(const uint8_t *data, size_t len, bool reply, const struct mongodb_text_opts *o,
		   struct mongodb_msg *m)
{
	struct dec d = { .o = o, .m = m };
	int rc;

	memset(m, 0, sizeof(*m));
	m->reply = reply;
	if (len < MONGODB_HEADER_LEN || mongodb_le32(data) != len)
		return -EINVAL;
	rc = decode_at(&d, data, len, reply, 0);
	if (rc == 0 && d.docs.err)
		rc = -ENOMEM;
	if (rc == 0 && d.docs.len) {
		m->docs_len = d.docs.len;
		m->docs = keep_buf(m, &d.docs);
		if (!m->docs)
			rc = -ENOMEM;
	}
	json_buf_free(&d.docs);
	if (rc)
		mongodb_msg_clear(m);
	return rc;
}

void mongodb_msg_clear(struct mongodb_msg *m)
{
	char **s[] = { &m->method,   &m->resource,	&m->query,    &m->docs,	  &m->full_collection_name,
		       &m->mquery,   &m->return_fields, &m->selector, &m->update, &m->errmsg,
		       &m->code_name };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	m->mem = 0;
}
