/*
 * Thrift tests through the real pipeline: events rendered as Packetbeat
 * renders them (binary strict and old headers, compact, buffered and framed
 * transports found per connection), the same events whatever the TCP
 * segmentation, pairing by seqid, oneway calls, exceptions and
 * TApplicationException, the rendering limits, IDL names, and hostile input
 * (lists claiming 2^31 elements, 2 GiB frames, nesting bombs, too many
 * fields, garbage) counted without a crash, a leak or a big allocation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testutil.h"
#include "thrift.h"

#define PORT 9090
#define PSTAT(tp, id) ((tp)->st.proto[PROTO_THRIFT][PSTAT_##id])

/* ---- message builder ---- */

struct wb {
	uint8_t p[1 << 16];
	size_t n;
	bool compact;
	int16_t last[16]; /* compact: last field id per struct depth */
	unsigned depth;
};

static void u8(struct wb *b, unsigned v)
{
	cr_assert_lt(b->n, sizeof(b->p));
	b->p[b->n++] = (uint8_t)v;
}

static void be(struct wb *b, uint64_t v, unsigned bytes)
{
	while (bytes--)
		u8(b, (unsigned)(v >> (8 * bytes)) & 0xff);
}

static void uvar(struct wb *b, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		u8(b, (unsigned)(v & 0x7f) | 0x80);
	u8(b, (unsigned)v);
}

static void zz(struct wb *b, int64_t v)
{
	uvar(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void raw(struct wb *b, const void *s, size_t n)
{
	cr_assert_leq(b->n + n, sizeof(b->p));
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void str(struct wb *b, const char *s)
{
	if (b->compact)
		uvar(b, strlen(s));
	else
		be(b, strlen(s), 4);
	raw(b, s, strlen(s));
}

static void head(struct wb *b, const char *name, unsigned type, uint32_t seqid)
{
	b->depth = 0;
	b->last[0] = 0;
	if (b->compact) {
		u8(b, 0x82);
		u8(b, type << 5 | 1);
		uvar(b, seqid);
		str(b, name);
	} else {
		be(b, 0x80010000u | type, 4);
		str(b, name);
		be(b, seqid, 4);
	}
}

/* Binary type numbers; the compact ones follow from them. */
enum {
	T_BOOL = 2,
	T_BYTE = 3,
	T_DOUBLE = 4,
	T_I16 = 6,
	T_I32 = 8,
	T_I64 = 10,
	T_STRING = 11,
	T_STRUCT = 12,
	T_MAP = 13,
	T_SET = 14,
	T_LIST = 15
};

static unsigned ctype(unsigned t)
{
	switch (t) {
	case T_BOOL:
		return 1;
	case T_BYTE:
		return 3;
	case T_I16:
		return 4;
	case T_I32:
		return 5;
	case T_I64:
		return 6;
	case T_DOUBLE:
		return 7;
	case T_STRING:
		return 8;
	case T_LIST:
		return 9;
	case T_SET:
		return 10;
	case T_MAP:
		return 11;
	default:
		return 12;
	}
}

static void field(struct wb *b, unsigned type, int16_t id)
{
	if (!b->compact) {
		u8(b, type);
		be(b, (uint16_t)id, 2);
		return;
	}
	if (id > b->last[b->depth] && id - b->last[b->depth] <= 15) {
		u8(b, (unsigned)(id - b->last[b->depth]) << 4 | ctype(type));
	} else {
		u8(b, ctype(type));
		zz(b, id);
	}
	b->last[b->depth] = id;
}

/* A bool field: in compact its value is the type nibble of the field header. */
static void bool_field(struct wb *b, int16_t id, bool v)
{
	size_t at = b->n;

	field(b, T_BOOL, id);
	if (b->compact)
		b->p[at] = (uint8_t)((b->p[at] & 0xf0) | (v ? 1 : 2));
	else
		u8(b, v);
}

static void stop(struct wb *b)
{
	u8(b, 0);
}

static void i32(struct wb *b, int32_t v)
{
	if (b->compact)
		zz(b, v);
	else
		be(b, (uint32_t)v, 4);
}

static void list(struct wb *b, unsigned etype, uint32_t n)
{
	if (!b->compact) {
		u8(b, etype);
		be(b, n, 4);
	} else if (n < 15) {
		u8(b, n << 4 | ctype(etype));
	} else {
		u8(b, 0xf0 | ctype(etype));
		uvar(b, n);
	}
}

static void begin_struct(struct wb *b)
{
	b->last[++b->depth] = 0;
}

static void end_struct(struct wb *b)
{
	stop(b);
	b->depth--;
}

/* add(num1, num2) call and its reply, seqid seq. */
static void add_call(struct wb *b, int32_t x, int32_t y, uint32_t seq)
{
	head(b, "add", 1, seq);
	field(b, T_I32, 1);
	i32(b, x);
	field(b, T_I32, 2);
	i32(b, y);
	stop(b);
}

static void add_reply(struct wb *b, int32_t v, uint32_t seq)
{
	head(b, "add", 2, seq);
	field(b, T_I32, 0);
	i32(b, v);
	stop(b);
}

/* A call with every type in its arguments. */
static void rich_call(struct wb *b, uint32_t seq)
{
	double d = 1.5;
	uint64_t bits;

	memcpy(&bits, &d, sizeof(bits));
	head(b, "put", 1, seq);
	field(b, T_STRUCT, 1);
	begin_struct(b);
	field(b, T_I32, 1);
	i32(b, -7);
	field(b, T_STRING, 2);
	str(b, "say \"hi\"\n");
	field(b, T_LIST, 3);
	list(b, T_STRING, 2);
	str(b, "a");
	str(b, "b");
	field(b, T_MAP, 4);
	if (b->compact) {
		uvar(b, 1);
		u8(b, ctype(T_STRING) << 4 | ctype(T_I32));
	} else {
		u8(b, T_STRING);
		u8(b, T_I32);
		be(b, 1, 4);
	}
	str(b, "k");
	i32(b, 3);
	field(b, T_SET, 5);
	list(b, T_I16, 1);
	b->compact ? zz(b, 300) : be(b, 300, 2);
	field(b, T_DOUBLE, 6);
	if (b->compact)
		for (int i = 0; i < 8; i++)
			u8(b, (unsigned)(bits >> (8 * i)) & 0xff);
	else
		be(b, bits, 8);
	bool_field(b, 7, true);
	field(b, T_I64, 8);
	b->compact ? zz(b, -1700000000123ll) : be(b, (uint64_t)-1700000000123ll, 8);
	field(b, T_BYTE, 9);
	u8(b, 0xfd);
	field(b, T_STRING, 10);
	raw(b, "\x00\x00\x00\x03\xab\x0c\x1d", b->compact ? 0 : 7);
	if (b->compact)
		raw(b, "\x03\xab\x0c\x1d", 4);
	field(b, T_LIST, 11);
	list(b, T_I32, 0);
	end_struct(b);
	stop(b);
}

#define RICH_PARAMS                                                                                           \
	"(1: (1: -7, 2: \"say \\\"hi\\\"\\n\", 3: [\"a\", \"b\"], 4: {\"k\": 3}, 5: {300}, 6: 1.5, 7: true, " \
	"8: -1700000000123, 9: -3, 10: ab0c1d, 11: ))"

static void framed(struct wb *out, const struct wb *msg)
{
	be(out, msg->n, 4);
	raw(out, msg->p, msg->n);
}

static struct tp *th_tp(const char *extra)
{
	return tp_proto("thrift", PORT, extra);
}

/* "query => return_value|exceptions status" of every event, one per line. */
static char *pairs(struct tp *tp)
{
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap);

	s[0] = '\0';
	for (size_t i = 0; i < tp_count(tp); i++) {
		json_t *q = tp_get(tp, i, "query"), *r = tp_get(tp, i, "thrift.return_value"),
		       *e = tp_get(tp, i, "thrift.exceptions");

		n += (size_t)snprintf(s + n, cap - n, "%s => %s %s\n", q ? json_string_value(q) : "-",
				      e	  ? json_string_value(e)
				      : r ? json_string_value(r)
					  : "-",
				      tp_str(tp, i, "status"));
		cr_assert_lt(n, cap);
	}
	return s;
}

/* ---- events ---- */

Test(thrift, binary_call_and_reply_as_packetbeat)
{
	struct tp *tp = th_tp("    send_request: true\n    send_response: true\n");
	struct wb q = { 0 }, r = { 0 };

	add_call(&q, 10, -3, 1);
	add_reply(&r, 7, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "type"), "thrift");
	cr_assert_str_eq(tp_str(tp, 0, "method"), "add");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "add(1: 10, 2: -3)");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.params"), "(1: 10, 2: -3)");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "7");
	cr_assert_str_eq(tp_str(tp, 0, "request"), "add(1: 10, 2: -3)");
	cr_assert_str_eq(tp_str(tp, 0, "response"), "7");
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_null(tp_get(tp, 0, "path"), "no service without IDL");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)q.n);
	cr_assert_eq(tp_int(tp, 0, "destination.bytes"), (json_int_t)r.n);
	tp_free(tp);
}

Test(thrift, every_type_rendered_in_binary_and_compact)
{
	for (int c = 0; c < 2; c++) {
		struct tp *tp = th_tp(NULL);
		struct wb q = { .compact = c }, r = { .compact = c };

		rich_call(&q, 5);
		head(&r, "put", 2, 5);
		stop(&r);
		tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
		cr_assert_eq(tp_count(tp), 1, "compact %d", c);
		cr_assert_str_eq(tp_str(tp, 0, "thrift.params"), RICH_PARAMS, "compact %d", c);
		cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "", "void reply");
		cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0);
		tp_free(tp);
	}
}

Test(thrift, framed_and_old_headers_found_per_connection)
{
	struct wb q = { 0 }, r = { 0 }, fq = { 0 }, fr = { 0 }, cq = { .compact = true }, cr = { .compact = true };
	struct wb fcq = { 0 }, fcr = { 0 };
	static const uint8_t old_call[] = { 0, 0, 0, 4, 'p', 'i', 'n', 'g', 1, 0, 0, 0, 9, 0 };
	static const uint8_t old_reply[] = { 0, 0, 0, 4, 'p', 'i', 'n', 'g', 2, 0, 0, 0, 9, 0 };

	add_call(&q, 1, 2, 1);
	add_reply(&r, 3, 1);
	framed(&fq, &q);
	framed(&fr, &r);
	add_call(&cq, 1, 2, 1);
	add_reply(&cr, 3, 1);
	framed(&fcq, &cq);
	framed(&fcr, &cr);
	const struct wb *c2s[] = { &q, &fq, &cq, &fcq }, *s2c[] = { &r, &fr, &cr, &fcr };

	for (int i = 0; i < 4; i++) {
		struct tp *tp = th_tp(NULL);

		tp_exchange(tp, c2s[i]->p, c2s[i]->n, s2c[i]->p, s2c[i]->n, 0, 0);
		cr_assert_eq(tp_count(tp), 1, "combination %d", i);
		cr_assert_str_eq(tp_str(tp, 0, "query"), "add(1: 1, 2: 2)");
		cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "3");
		cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)c2s[i]->n, "frame header counted");
		tp_free(tp);
	}
	struct tp *tp = th_tp(NULL);

	tp_exchange(tp, old_call, sizeof(old_call), old_reply, sizeof(old_reply), 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "ping()");
	tp_free(tp);
}

Test(thrift, settings_fix_the_transport)
{
	struct tp *tp = th_tp("    transport_type: socket\n    protocol_type: compact\n");
	struct wb q = { 0 };

	add_call(&q, 1, 2, 1);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q.p, q.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0, "binary is no message when compact is set");
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 1);
	tp_free(tp);
}

Test(thrift, pairs_by_seqid_out_of_order)
{
	struct tp *tp = th_tp(NULL);
	struct wb q = { 0 }, r = { 0 };
	char *s;

	add_call(&q, 1, 1, 1);
	add_call(&q, 2, 2, 2);
	add_reply(&r, 4, 2);
	add_reply(&r, 2, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	s = pairs(tp);
	cr_assert_str_eq(s, "add(1: 2, 2: 2) => 4 OK\nadd(1: 1, 2: 1) => 2 OK\n");
	free(s);
	tp_free(tp);
}

Test(thrift, oneway_published_without_reply)
{
	struct tp *tp = th_tp(NULL);
	struct wb q = { 0 }, r = { 0 };

	head(&q, "log", 4, 0);
	field(&q, T_STRING, 1);
	str(&q, "line");
	stop(&q);
	add_call(&q, 1, 1, 1);
	add_reply(&r, 2, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "log(1: \"line\")");
	cr_assert_null(tp_get(tp, 0, "thrift.return_value"));
	cr_assert_str_eq(tp_str(tp, 0, "status"), "OK");
	cr_assert_str_eq(tp_str(tp, 1, "thrift.return_value"), "2");
	cr_assert_eq(PSTAT(tp, UNANSWERED), 0);
	tp_free(tp);
}

Test(thrift, exceptions_give_status_error)
{
	struct tp *tp = th_tp("    send_response: true\n");
	struct wb q = { 0 }, r = { 0 };

	add_call(&q, 1, 0, 1);
	add_call(&q, 1, 0, 2);
	head(&r, "add", 2, 1); /* a declared exception: field 1 */
	field(&r, T_STRUCT, 1);
	begin_struct(&r);
	field(&r, T_I32, 1);
	i32(&r, 4);
	field(&r, T_STRING, 2);
	str(&r, "Cannot divide by 0");
	end_struct(&r);
	stop(&r);
	head(&r, "add", 3, 2); /* TApplicationException */
	field(&r, T_STRING, 1);
	str(&r, "Internal error");
	field(&r, T_I32, 2);
	i32(&r, 6);
	stop(&r);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 2);
	cr_assert_str_eq(tp_str(tp, 0, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.exceptions"), "(1: (1: 4, 2: \"Cannot divide by 0\"))");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "");
	cr_assert_str_eq(tp_str(tp, 0, "response"), "Exceptions: (1: (1: 4, 2: \"Cannot divide by 0\"))");
	cr_assert_str_eq(tp_str(tp, 1, "status"), "Error");
	cr_assert_str_eq(tp_str(tp, 1, "thrift.exceptions"), "(1: \"Internal error\", 2: 6)");
	tp_free(tp);
}

/* ---- segmentation ---- */

static void put_reply(struct wb *r)
{
	head(r, "put", 2, 3);
	bool_field(r, 0, true);
	stop(r);
}

/* Two calls and their replies; each message in its own frame when framed. */
static void mixed(struct wb *q, struct wb *r, bool compact, bool frames)
{
	struct wb m = { .compact = compact };

	q->compact = r->compact = compact;
	rich_call(&m, 3);
	frames ? framed(q, &m) : raw(q, m.p, m.n);
	m.n = 0;
	add_call(&m, 5, 6, 4);
	frames ? framed(q, &m) : raw(q, m.p, m.n);
	m.n = 0;
	put_reply(&m);
	frames ? framed(r, &m) : raw(r, m.p, m.n);
	m.n = 0;
	add_reply(&m, 11, 4);
	frames ? framed(r, &m) : raw(r, m.p, m.n);
}

static char *split_run(const struct wb *q, const struct wb *r, size_t cq, size_t cr)
{
	struct tp *tp = th_tp(NULL);
	char *s;

	tp_exchange(tp, q->p, q->n, r->p, r->n, cq, cr);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS), 0, "split %zu/%zu", cq, cr);
	s = pairs(tp);
	tp_free(tp);
	return s;
}

Test(thrift, split_at_every_byte)
{
	for (int c = 0; c < 4; c++) {
		static struct wb q0, r0;
		const struct wb *q = &q0, *r = &r0;
		char *ref;

		q0.n = r0.n = 0;
		mixed(&q0, &r0, c & 1, c & 2);
		ref = split_run(q, r, 0, 0);
		cr_assert_str_eq(ref, "put" RICH_PARAMS " => true OK\nadd(1: 5, 2: 6) => 11 OK\n", "variant %d", c);
		for (size_t i = 1; i < q->n; i++) {
			char *s = split_run(q, r, i, 0);

			cr_assert_str_eq(s, ref, "variant %d request split at %zu", c, i);
			free(s);
		}
		for (size_t i = 1; i < r->n; i++) {
			char *s = split_run(q, r, 0, i);

			cr_assert_str_eq(s, ref, "variant %d reply split at %zu", c, i);
			free(s);
		}
		free(ref);
	}
}

Test(thrift, one_byte_segments)
{
	struct tp *tp = th_tp(NULL);
	struct wb q = { 0 }, r = { 0 };
	char *s;

	mixed(&q, &r, true, false);
	tp_handshake(tp);
	for (size_t i = 0; i < q.n; i++)
		tp_tcp(tp, 0, 0, q.p + i, 1);
	for (size_t i = 0; i < r.n; i++)
		tp_tcp(tp, 1, 0, r.p + i, 1);
	tp_flush(tp);
	s = pairs(tp);
	cr_assert_str_eq(s, "put" RICH_PARAMS " => true OK\nadd(1: 5, 2: 6) => 11 OK\n");
	free(s);
	tp_free(tp);
}

/* ---- settings ---- */

Test(thrift, limits_cut_strings_and_collections)
{
	struct tp *tp = th_tp("    string_max_size: 3\n    collection_max_size: 2\n");
	struct wb q = { 0 }, r = { 0 };

	head(&q, "f", 1, 1);
	field(&q, T_STRING, 1);
	str(&q, "abcdef");
	field(&q, T_LIST, 2);
	list(&q, T_I32, 4);
	for (int i = 0; i < 4; i++)
		i32(&q, i);
	field(&q, T_I32, 3);
	i32(&q, 9);
	stop(&q);
	add_reply(&r, 1, 1);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_str_eq(tp_str(tp, 0, "thrift.params"), "(1: \"abc...\", 2: [0, 1, ...], ...)");
	tp_free(tp);
}

Test(thrift, obfuscate_strings_and_no_capture_reply)
{
	struct tp *tp = th_tp("    obfuscate_strings: true\n    capture_reply: false\n");
	struct wb q = { 0 }, r = { 0 };

	head(&q, "echo", 1, 1);
	field(&q, T_STRING, 1);
	str(&q, "secret");
	field(&q, T_STRING, 2);
	str(&q, "");
	stop(&q);
	head(&r, "echo", 2, 1);
	field(&r, T_STRING, 0);
	str(&r, "secret");
	stop(&r);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_str_eq(tp_str(tp, 0, "thrift.params"), "(1: \"*\", 2: \"\")");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "");
	tp_free(tp);
}

Test(thrift, bad_settings_rejected)
{
	static const char *const bad[] = { "transport_type: header", "protocol_type: json",
					   "idl_files: [/nonexistent.thrift]" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[256];
		struct cfg_err err = { { 0 } };
		struct config *cfg;

		snprintf(yaml, sizeof(yaml), "xdpbeat.protocols:\n  - type: thrift\n    %s\n", bad[i]);
		cfg = config_load_string(yaml, strlen(yaml), "t.yml", NULL, 0, &err);
		cr_assert_null(cfg, "%s accepted", bad[i]);
		cr_assert(strstr(err.msg, "t.yml:3"), "%s", err.msg);
	}
}

/* ---- IDL ---- */

static const char idl_text[] = "namespace py t // comment\n"
			       "const map<string, list<i32>> M = {\"a\": [1, 2]}\n"
			       "typedef list<string> Names\n"
			       "enum E { A = 1, B }\n"
			       "struct S { 1: i32 x, 2: optional Names n = [\"q\"] (ann = \"1\") }\n"
			       "exception Oops { 1: string why }\n"
			       "/* a service */\n"
			       "service Calc extends base.Base {\n"
			       "  i32 add(1: i32 num1, 2: i32 num2) throws (1: Oops oops),\n"
			       "  oneway void log(1: string line);\n"
			       "  map<i32, set<S>> get(S s, -5: i64 t)\n"
			       "}\n";

Test(thrift, idl_methods_arguments_and_exceptions)
{
	struct thrift_idl *idl = calloc(1, sizeof(*idl));
	char err[256] = "";
	const struct thrift_method *m;

	cr_assert_eq(thrift_idl_parse(idl, idl_text, strlen(idl_text), "t.thrift", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(idl->n, 3);
	m = thrift_idl_find(idl, "add", 3);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->service, "Calc");
	cr_assert_str_eq(thrift_names_get(&m->params, 2), "num2");
	cr_assert_str_eq(thrift_names_get(&m->exceptions, 1), "oops");
	m = thrift_idl_find(idl, "log", 3);
	cr_assert(m && m->oneway);
	m = thrift_idl_find(idl, "get", 3);
	cr_assert_str_eq(thrift_names_get(&m->params, -1), "s", "implicit ids count down from -1");
	cr_assert_str_eq(thrift_names_get(&m->params, -5), "t");
	thrift_idl_free(idl);
}

Test(thrift, idl_errors_name_file_and_line)
{
	static const char *const bad[] = { "service S {\n i32 f(1: i32 a\n", "struct {", "service S { i32 f(1 i32 a) }",
					   "include \"/nonexistent/x.thrift\"", "bogus" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct thrift_idl *idl = calloc(1, sizeof(*idl));
		char err[256] = "";

		cr_assert_neq(thrift_idl_parse(idl, bad[i], strlen(bad[i]), "bad.thrift", err, sizeof(err)), 0, "%s",
			      bad[i]);
		cr_assert(strstr(err, "bad.thrift") || strstr(err, "nonexistent"), "%s", err);
		thrift_idl_free(idl);
	}
}

/* ---- rendering of scalars ---- */

static void check_double(double v, const char *want)
{
	struct json_buf b = { 0 };

	thrift_put_double(&b, v);
	cr_assert_str_eq(b.p, want, "%.17g", v);
	json_buf_free(&b);
}

Test(thrift, doubles_as_go_formats_them)
{
	check_double(2.5, "2.5");
	check_double(1.2, "1.2");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(1e21, "1000000000000000000000");
	check_double(-0.000125, "-0.000125");
	check_double(0, "0");
	check_double(100, "100");
	check_double(1.0 / 0.0, "+Inf");
	check_double(-1.0 / 0.0, "-Inf");
}

Test(thrift, strings_quoted_or_hex)
{
	struct thrift_render rd = { 200, 15, 500, false };
	struct json_buf b = { 0 };

	thrift_put_string(&b, (const uint8_t *)"h\xc3\xa9\t\x01", 5, &rd);
	cr_assert_str_eq(b.p, "\"h\xc3\xa9\\t\\x01\"");
	b.len = 0;
	thrift_put_string(&b, (const uint8_t *)"\xff\x00", 2, &rd);
	cr_assert_str_eq(b.p, "ff00");
	rd.string_max = 2;
	b.len = 0;
	thrift_put_string(&b, (const uint8_t *)"h\xc3\xa9", 3, &rd);
	cr_assert_str_eq(b.p, "68c32e2e2e", "a cut inside a character: hex, as Packetbeat");
	json_buf_free(&b);
}

/* ---- hostile input ---- */

static void hostile(const struct wb *q, enum pstat_id id, const char *what)
{
	struct tp *tp = th_tp(NULL);
	struct wb ok = { 0 };

	add_call(&ok, 1, 1, 9);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, q->p, q->n);
	tp_tcp(tp, 0, 0, ok.p, ok.n); /* the next segment starts a message again */
	tp_flush(tp);
	cr_assert_geq(tp->st.proto[PROTO_THRIFT][id], 1, "%s", what);
	cr_assert_leq(tp_count(tp), 1, "%s", what);
	tp_free(tp);
}

Test(thrift, hostile_input_counted)
{
	struct wb b = { 0 };

	head(&b, "f", 1, 1); /* a list claiming 2^31 - 1 elements, in a frame that holds none */
	field(&b, T_LIST, 1);
	list(&b, T_I32, 0x7fffffff);
	stop(&b);
	struct wb f = { 0 };

	framed(&f, &b);
	hostile(&f, PSTAT_PARSE_ERRORS, "huge list in a frame");

	b.n = 0; /* the same on a buffered transport: beyond THRIFT_COUNT_MAX */
	head(&b, "f", 1, 1);
	field(&b, T_LIST, 1);
	list(&b, T_I32, 0x7fffffff);
	hostile(&b, PSTAT_PARSE_ERRORS, "huge list");

	b.n = 0; /* negative string length */
	head(&b, "f", 1, 1);
	field(&b, T_STRING, 1);
	be(&b, 0xfffffff0u, 4);
	hostile(&b, PSTAT_PARSE_ERRORS, "negative length");

	b.n = 0; /* nesting bomb */
	head(&b, "f", 1, 1);
	for (int i = 0; i < 200; i++) {
		field(&b, T_STRUCT, 1);
		begin_struct(&b);
		b.depth = 0;
	}
	hostile(&b, PSTAT_PARSE_ERRORS, "depth");

	b.n = 0; /* too many fields */
	head(&b, "f", 1, 1);
	for (int i = 0; i < 600; i++) {
		field(&b, T_BOOL, (int16_t)i);
		u8(&b, 1);
	}
	stop(&b);
	hostile(&b, PSTAT_PARSE_ERRORS, "fields");

	b.n = 0; /* unknown field type */
	head(&b, "f", 1, 1);
	field(&b, 17, 1);
	hostile(&b, PSTAT_PARSE_ERRORS, "utf16 type");

	b.n = 0;
	raw(&b, "GET / HTTP/1.1\r\n\r\n", 18);
	hostile(&b, PSTAT_PARSE_ERRORS, "not thrift");
}

Test(thrift, frame_of_2gib_skipped_and_counted)
{
	struct tp *tp = th_tp(NULL);
	struct wb q = { 0 }, f = { 0 }, ok = { 0 };

	add_call(&q, 1, 1, 1);
	framed(&ok, &q);
	be(&f, 0x80000000u, 4);
	raw(&f, ok.p + 4, ok.n - 4);
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, f.p, f.n);
	tp_flush(tp);
	cr_assert_eq(PSTAT(tp, TOO_LARGE), 1);
	cr_assert_eq(tp_count(tp), 0);
	tp_assert_tcp_bytes(tp, 0, 0, 0, f.n); /* still being passed over at the end: unparsed at close */
	tp_free(tp);
}

Test(thrift, endless_buffered_message_bounded)
{
	struct tp *tp = th_tp(NULL);
	struct wb b = { 0 };
	static uint8_t chunk[60000];

	head(&b, "f", 1, 1);
	field(&b, T_STRING, 1);
	be(&b, 0x7ffffff0u, 4); /* a 2 GiB string that never ends */
	tp_handshake(tp);
	tp_tcp(tp, 0, 0, b.p, b.n);
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 400; i++)
		tp_tcp(tp, 0, 0, chunk, sizeof(chunk));
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	cr_assert_geq(PSTAT(tp, TOO_LARGE) + tp->st.v[STAT_DROP_STREAM_LIMIT], 1, "cut somewhere, counted");
	tp_free(tp);
}

Test(thrift, unmatched_reply_counted)
{
	struct tp *tp = th_tp(NULL);
	struct wb r = { 0 };

	add_reply(&r, 1, 1);
	tp_handshake(tp);
	tp_tcp(tp, 1, 0, r.p, r.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 0);
	cr_assert_eq(PSTAT(tp, UNMATCHED), 1);
	tp_free(tp);
}

Test(thrift, big_string_over_many_segments)
{
	static struct wb q, r;
	static char big[50001];
	struct tp *tp = th_tp(NULL);

	memset(big, 'y', sizeof(big) - 1);
	q.n = r.n = 0;
	head(&q, "echo", 1, 1);
	field(&q, T_STRING, 1);
	str(&q, big);
	stop(&q);
	head(&r, "echo", 2, 1);
	field(&r, T_STRING, 0);
	str(&r, "ok");
	stop(&r);
	tp_handshake(tp);
	for (size_t off = 0; off < q.n; off += 1400)
		tp_tcp(tp, 0, 0, q.p + off, q.n - off < 1400 ? q.n - off : 1400);
	tp_tcp(tp, 1, 0, r.p, r.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_eq(strlen(tp_str(tp, 0, "thrift.params")), 200 + 3 + 2 + 5, "(1: \"y...y...\")");
	cr_assert_eq(tp_int(tp, 0, "source.bytes"), (json_int_t)q.n);
	cr_assert_eq(PSTAT(tp, PARSE_ERRORS) + PSTAT(tp, TOO_LARGE), 0);
	tp_free(tp);
}

Test(thrift, gap_drops_the_message_and_resumes_at_the_next)
{
	struct tp *tp = th_tp(NULL);
	struct wb q1 = { 0 }, q2 = { 0 }, r = { 0 };

	add_call(&q1, 1, 1, 1);
	add_call(&q2, 2, 2, 2);
	add_reply(&r, 4, 2);
	tp_handshake(tp);
	tp_tcp_cut(tp, 0, q1.p, 10, (uint32_t)q1.n); /* the rest of the first call is lost */
	tp_tcp(tp, 0, 0, q2.p, q2.n);
	tp_tcp(tp, 1, 0, r.p, r.n);
	tp_flush(tp);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "query"), "add(1: 2, 2: 2)");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.return_value"), "4");
	tp_free(tp);
}

Test(thrift, multiplexed_name_gives_the_service)
{
	struct tp *tp = th_tp(NULL);
	struct wb q = { 0 }, r = { 0 };

	head(&q, "Calc:add", 1, 1);
	stop(&q);
	head(&r, "Calc:add", 2, 1);
	field(&r, T_I32, 0);
	i32(&r, 5);
	stop(&r);
	tp_exchange(tp, q.p, q.n, r.p, r.n, 0, 0);
	cr_assert_eq(tp_count(tp), 1);
	cr_assert_str_eq(tp_str(tp, 0, "method"), "add");
	cr_assert_str_eq(tp_str(tp, 0, "query"), "add()");
	cr_assert_str_eq(tp_str(tp, 0, "path"), "Calc");
	cr_assert_str_eq(tp_str(tp, 0, "thrift.service"), "Calc");
	tp_free(tp);
}
