/*
 * MongoDB tests through the real pipeline: OP_MSG requests and replies
 * paired by requestID / responseTo (out of order too), the same events at
 * every split point, moreToCome published at once, errors, and hostile
 * input (a BSON length past the end, a header that lies) counted as parse
 * errors without a crash.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mongodb.h"
#include "proto.h"
#include "testutil.h"

#define PORT 27017
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_MONGODB][PSTAT_##id])

struct wbuf {
	uint8_t p[4096];
	size_t n;
};

static void put32(struct wbuf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void set32(struct wbuf *w, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct wbuf *w, const void *s, size_t n)
{
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

/* A BSON string element. */
static void elem_str(struct wbuf *w, const char *k, const char *v)
{
	w->p[w->n++] = 0x02;
	put_bytes(w, k, strlen(k) + 1);
	put32(w, (uint32_t)strlen(v) + 1);
	put_bytes(w, v, strlen(v) + 1);
}

static void elem_i32(struct wbuf *w, const char *k, int32_t v)
{
	w->p[w->n++] = 0x10;
	put_bytes(w, k, strlen(k) + 1);
	put32(w, (uint32_t)v);
}

static size_t doc_open(struct wbuf *w)
{
	size_t at = w->n;

	put32(w, 0);
	return at;
}

static void doc_close(struct wbuf *w, size_t at)
{
	w->p[w->n++] = 0;
	set32(w, at, (uint32_t)(w->n - at));
}

/* OP_MSG header + flags + kind 0; the caller writes the body and calls msg_close. */
static size_t msg_open(struct wbuf *w, uint32_t req_id, uint32_t resp_to, uint32_t flags)
{
	size_t at = w->n;

	put32(w, 0);
	put32(w, req_id);
	put32(w, resp_to);
	put32(w, 2013);
	put32(w, flags);
	w->p[w->n++] = 0;
	return at;
}

static void msg_close(struct wbuf *w, size_t at)
{
	set32(w, at, (uint32_t)(w->n - at));
}

static void find_request(struct wbuf *w, uint32_t id)
{
	size_t m = msg_open(w, id, 0, 0), d = doc_open(w);

	elem_str(w, "find", "people");
	elem_i32(w, "limit", 2);
	elem_str(w, "$db", "test");
	doc_close(w, d);
	msg_close(w, m);
}

static void ok_reply(struct wbuf *w, uint32_t id, uint32_t to, int ok)
{
	size_t m = msg_open(w, id, to, 0), d = doc_open(w);

	elem_i32(w, "ok", ok);
	if (!ok) {
		elem_str(w, "errmsg", "bad thing");
		elem_i32(w, "code", 2);
	}
	doc_close(w, d);
	msg_close(w, m);
}

static struct tp *mg_tp(const char *extra)
{
	return tp_proto("mongodb", PORT, extra);
}

Test(mongodb, op_msg_find_paired_by_id)
{
	struct tp *tp = mg_tp("    send_request: true\n    send_response: true\n");
	struct wbuf q = { 0 }, r = { 0 };

	find_request(&q, 7);
	ok_reply(&r, 100, 7, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "type"), "mongodb");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "find");
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "test.people");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "test.people.find({\"limit\":2})");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 0, "response"), "{\"ok\":1}");
	tp_free(tp);
}

Test(mongodb, every_split_gives_the_same_event)
{
	struct wbuf q = { 0 }, r = { 0 };

	find_request(&q, 7);
	ok_reply(&r, 100, 7, 0);
	for (size_t cut = 1; cut < q.n; cut++) {
		struct tp *tp = mg_tp(NULL);

		tp_exchange(tp, q.p, q.n, r.p, r.n, cut, cut % r.n);
		cr_assert_eq(tp_count(tp), 1, "cut %zu", cut);
		cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
		cr_assert_str_eq(tp_str(tp, 0, "mongodb.error"), "bad thing");
		cr_assert_eq(tp_int(tp, 0, "mongodb.code"), 2);
		cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
		tp_free(tp);
	}
}

Test(mongodb, replies_out_of_order_pair_by_response_to)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, r = { 0 };

	find_request(&q, 1);
	find_request(&q, 2);
	ok_reply(&r, 11, 2, 0);
	ok_reply(&r, 12, 1, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "OK");
	tp_free(tp);
}

Test(mongodb, more_to_come_request_is_published_at_once)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 };
	size_t m = msg_open(&q, 5, 0, 2), d = doc_open(&q);

	elem_str(&q, "insert", "people");
	elem_str(&q, "$db", "test");
	doc_close(&q, d);
	msg_close(&q, m);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.p, q.n);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "insert");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	tp_free(tp);
}

Test(mongodb, bson_length_past_the_end_is_a_counted_parse_error)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, q2 = { 0 };

	find_request(&q, 1);
	set32(&q, 21, 4000); /* the body claims more than the message holds */
	find_request(&q2, 2);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.p, q.n);
	tp_tcp(tp, 0, 0, q2.p, q2.n);
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(tp_count(tp), 1, "the next message still parses");
	tp_free(tp);
}

Test(mongodb, header_that_lies_is_a_parse_error_and_resyncs)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, r = { 0 };
	uint8_t junk[64];

	memset(junk, 0xff, sizeof(junk));
	find_request(&q, 3);
	ok_reply(&r, 9, 3, 1);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, junk, sizeof(junk));
	tp_tcp(tp, 0, 0, q.p, q.n);
	tp_tcp(tp, 1, 0, r.p, r.n);
	cr_assert_geq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(tp_count(tp), 1);
	tp_free(tp);
}

/* OP_COMPRESSED around msg (zlib, compressor 2), claiming size decompressed bytes. */
static void compress_msg(struct wbuf *out, const struct wbuf *msg, uint32_t claim)
{
	uLongf n = sizeof(out->p) - 32;
	size_t at = out->n;

	put32(out, 0);
	put32(out, 1);
	put32(out, 0);
	put32(out, 2012);
	put32(out, 2013);
	put32(out, claim);
	out->p[out->n++] = 2;
	cr_assert_eq(compress(out->p + out->n, &n, msg->p + 16, msg->n - 16), Z_OK);
	out->n += n;
	set32(out, at, (uint32_t)(out->n - at));
}

Test(mongodb, zlib_compressed_request_is_decoded)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, z = { 0 }, r = { 0 };

	find_request(&q, 1);
	compress_msg(&z, &q, (uint32_t)q.n - 16);
	ok_reply(&r, 2, 1, 1);
	tp_exchange(tp, z.p, z.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "find");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

Test(mongodb, decompression_size_claims_are_capped)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, z = { 0 }, z2 = { 0 };

	find_request(&q, 1);
	compress_msg(&z, &q, 1u << 30); /* a bomb's claim: refused before any allocation */
	compress_msg(&z2, &q, 8); /* less than it inflates to */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, z.p, z.n);
	tp_tcp(tp, 0, 0, z2.p, z2.n);
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 2);
	cr_assert_eq(tp_count(tp), 0);
	tp_free(tp);
}

Test(mongodb, depth_bomb_is_a_counted_parse_error)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 };
	size_t m = msg_open(&q, 1, 0, 0), at[200];
	int depth = 150;

	at[0] = doc_open(&q);
	elem_str(&q, "find", "x");
	for (int i = 1; i < depth; i++) {
		q.p[q.n++] = 0x03;
		put_bytes(&q, "a", 2);
		at[i] = doc_open(&q);
	}
	for (int i = depth - 1; i >= 0; i--)
		doc_close(&q, at[i]);
	msg_close(&q, m);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.p, q.n);
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(tp_count(tp), 0);
	tp_free(tp);
}

/* An OP_MSG getMore with exhaustAllowed: the server streams replies with moreToCome, each answering the previous. */
Test(mongodb, exhaust_replies_are_streamed_to_one_request)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf q = { 0 }, r = { 0 };
	size_t m = msg_open(&q, 5, 0, 0x10000), d = doc_open(&q);

	elem_i32(&q, "getMore", 42);
	elem_str(&q, "collection", "people");
	elem_str(&q, "$db", "test");
	doc_close(&q, d);
	msg_close(&q, m);
	for (uint32_t i = 0; i < 3; i++) {
		m = msg_open(&r, 100 + i, i ? 99 + i : 5, i < 2 ? 0x2 : 0);
		d = doc_open(&r);
		elem_i32(&r, "ok", 1);
		doc_close(&r, d);
		msg_close(&r, m);
	}
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.p, q.n);
	tp_tcp(tp, 1, 0, r.p, r.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3, "one transaction per streamed reply");
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(tp_str(tp, i, "method"), "getMore");
		cr_assert_str_eq(tp_str(tp, i, "resource"), "test.people");
		cr_assert_str_eq(tp_str(tp, i, "status"), "OK");
	}
	cr_assert_eq(PSTAT(tp, UNMATCHED), 0);
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	tp_free(tp);
}

/* A legacy message: header (opcode op, no responseTo), ZERO, then the caller's body; mg_close sets the length. */
static void legacy_open(struct wbuf *w, uint32_t id, uint32_t op)
{
	w->n = 0;
	put32(w, 0), put32(w, id), put32(w, 0), put32(w, op), put32(w, 0);
}

static void mg_close(struct wbuf *w)
{
	set32(w, 0, (uint32_t)w->n);
}

/* Legacy OP_INSERT (no reply), then OP_QUERY answered by an OP_REPLY with a cursor and OP_GET_MORE. */
Test(mongodb, legacy_insert_query_reply_get_more)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf ins = { 0 }, qry = { 0 }, rep = { 0 }, gm = { 0 }, rep2 = { 0 };
	size_t d;

	legacy_open(&ins, 1, 2002);
	put_bytes(&ins, "test.people", 12);
	d = doc_open(&ins);
	elem_str(&ins, "name", "ann");
	doc_close(&ins, d);
	mg_close(&ins);

	legacy_open(&qry, 2, 2004);
	put_bytes(&qry, "test.people", 12);
	put32(&qry, 3), put32(&qry, 2); /* numberToSkip, numberToReturn */
	d = doc_open(&qry);
	elem_str(&qry, "name", "ann");
	doc_close(&qry, d);
	mg_close(&qry);

	put32(&rep, 0), put32(&rep, 50), put32(&rep, 2), put32(&rep, 1), put32(&rep, 0);
	put32(&rep, 77), put32(&rep, 0); /* cursorId 77 (int64) */
	put32(&rep, 3), put32(&rep, 1); /* startingFrom, numberReturned */
	d = doc_open(&rep);
	elem_str(&rep, "name", "ann");
	doc_close(&rep, d);
	mg_close(&rep);

	legacy_open(&gm, 3, 2005);
	put_bytes(&gm, "test.people", 12);
	put32(&gm, 2), put32(&gm, 77), put32(&gm, 0);
	mg_close(&gm);

	put32(&rep2, 0), put32(&rep2, 51), put32(&rep2, 3), put32(&rep2, 1), put32(&rep2, 0);
	put32(&rep2, 0), put32(&rep2, 0), put32(&rep2, 4), put32(&rep2, 0);
	mg_close(&rep2);

	tp_handshake(tp);
	tp_tcp(tp, 0, 0, ins.p, ins.n);
	cr_assert_eq(tp_count(tp), 1, "OP_INSERT published at once");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "insert");
	cr_assert_str_eq(tp_str(tp, 0, "mongodb.fullCollectionName"), "test.people");
	tp_tcp(tp, 0, 0, qry.p, qry.n);
	tp_tcp(tp, 1, 0, rep.p, rep.n);
	tp_tcp(tp, 0, 0, gm.p, gm.n);
	tp_tcp(tp, 1, 0, rep2.p, rep2.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3);
	cr_assert_str_eq(tp_str(tp, 1, "method"), "find");
	cr_assert_eq(tp_int(tp, 1, "mongodb.numberToSkip"), 3);
	cr_assert_eq(tp_int(tp, 1, "mongodb.numberToReturn"), 2);
	cr_assert_eq(tp_int(tp, 1, "mongodb.numberReturned"), 1);
	cr_assert_eq(tp_int(tp, 1, "mongodb.startingFrom"), 3);
	cr_assert_eq(tp_int(tp, 1, "mongodb.cursorId"), 77);
	cr_assert_str_eq(tp_str(tp, 2, "method"), "getMore");
	cr_assert_eq(tp_int(tp, 2, "mongodb.cursorId"), 0, "the reply's: the cursor is exhausted");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
	tp_free(tp);
}

/* OP_UPDATE, OP_DELETE and OP_KILL_CURSORS get no reply: each is published when it arrives. */
Test(mongodb, legacy_update_delete_kill_cursors_published_at_once)
{
	struct tp *tp = mg_tp(NULL);
	struct wbuf w = { 0 };
	size_t d;

	tp_handshake(tp);
	legacy_open(&w, 1, 2001); /* OP_UPDATE: ns, flags, selector, update */
	put_bytes(&w, "test.people", 12);
	put32(&w, 0);
	d = doc_open(&w);
	elem_str(&w, "name", "ann");
	doc_close(&w, d);
	d = doc_open(&w);
	elem_i32(&w, "age", 7);
	doc_close(&w, d);
	mg_close(&w);
	tp_tcp(tp, 0, 0, w.p, w.n);
	cr_assert_eq(tp_count(tp), 1, "OP_UPDATE published at once");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "update");
	cr_assert_str_eq(tp_str(tp, 0, "resource"), "test.people");
	cr_assert(strstr(tp_str(tp, 0, "mongodb.update"), "age"), "the update document");

	legacy_open(&w, 2, 2006); /* OP_DELETE: ns, flags, selector */
	put_bytes(&w, "test.people", 12);
	put32(&w, 1);
	d = doc_open(&w);
	elem_str(&w, "name", "bob");
	doc_close(&w, d);
	mg_close(&w);
	tp_tcp(tp, 0, 0, w.p, w.n);
	cr_assert_eq(tp_count(tp), 2, "OP_DELETE published at once");
	cr_assert_str_eq(tp_str(tp, 1, "method"), "delete");
	cr_assert(strstr(tp_str(tp, 1, "mongodb.selector"), "bob"), "the selector document");

	legacy_open(&w, 3, 2007); /* OP_KILL_CURSORS: count, int64 ids */
	put32(&w, 2), put32(&w, 77), put32(&w, 0), put32(&w, 78), put32(&w, 0);
	mg_close(&w);
	tp_tcp(tp, 0, 0, w.p, w.n);
	cr_assert_eq(tp_count(tp), 3, "OP_KILL_CURSORS published at once");
	cr_assert_str_eq(tp_str(tp, 2, "method"), "killCursors");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);

	legacy_open(&w, 4, 2007); /* a count that claims more ids than the message holds */
	put32(&w, 3), put32(&w, 77), put32(&w, 0);
	mg_close(&w);
	tp_tcp(tp, 0, 0, w.p, w.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 3, "a lying OP_KILL_CURSORS is not an event");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0, "no-reply opcodes are not unanswered");
	tp_free(tp);
}

Test(mongodb, too_large_message_cut_at_close_is_unparsed)
{
	struct tp *tp = mg_tp(NULL);
	uint8_t b[116] = { 0 };
	uint32_t len = MONGODB_BUFFER_MAX + 1, op = 2013; /* OP_MSG */

	memcpy(b, &len, 4); /* little-endian host */
	b[4] = 1;
	memcpy(b + 12, &op, 4);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, b, sizeof(b)); /* passed over as it comes, never finished */
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1);
	tp_assert_tcp_bytes(tp, 0, 0, 0, sizeof(b));
	tp_free(tp);
}
