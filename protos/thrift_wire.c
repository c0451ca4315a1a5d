/*
 * Thrift wire formats: TBinaryProtocol (strict "0x8001" headers and the old
 * headers without a version) and TCompactProtocol, decoded from a buffer
 * with the bounds-checked reader and rendered as Packetbeat renders them:
 * structs "(1: 10, 2: \"abc\")", lists "[a, b]", sets "{a, b}", maps
 * "{k: v}", strings quoted (Go syntax) or in hex when not UTF-8, the first
 * collection_max_size elements then "...". Integers are shown signed
 * (Packetbeat shows i8, i16 and i32 as unsigned numbers).
 *
 * Running out of bytes is THRIFT_SHORT (the caller waits for more), a value
 * that cannot be (an unknown type, a negative length, a container claiming
 * more than THRIFT_COUNT_MAX elements, nesting past THRIFT_DEPTH_MAX, a
 * struct with more than drop_after_n_struct_fields fields) THRIFT_BAD.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "thrift.h"

/* Value types as TBinaryProtocol numbers them; compact types are mapped onto these. */
enum ttype {
	TT_STOP = 0,
	TT_BOOL = 2,
	TT_BYTE = 3,
	TT_DOUBLE = 4,
	TT_I16 = 6,
	TT_I32 = 8,
	TT_I64 = 10,
	TT_STRING = 11,
	TT_STRUCT = 12,
	TT_MAP = 13,
	TT_SET = 14,
	TT_LIST = 15,
};

struct tdec {
	struct reader r;
	enum thrift_proto proto;
	const struct thrift_render *rd;
	struct json_buf *out;
	bool bad; /* malformed (running out of bytes is r.err alone) */
	bool cut; /* out reached THRIFT_TEXT_MAX */
	unsigned depth;
	size_t want; /* running out: bytes known to be needed at least (0: one more) */
};

/* n bytes are needed from the current position: note how many in all when they are not there. */
static bool need(struct tdec *d, uint64_t n)
{
	if (d->r.err || n <= rd_left(&d->r))
		return !d->r.err;
	d->want = d->r.pos + (n < THRIFT_MSG_MAX ? (size_t)n : THRIFT_MSG_MAX + 1);
	d->r.err = true;
	return false;
}

static bool known_type(unsigned t)
{
	return t == TT_BOOL || t == TT_BYTE || t == TT_DOUBLE || t == TT_I16 || t == TT_I32 || t == TT_I64 ||
	       t == TT_STRING || t == TT_STRUCT || t == TT_MAP || t == TT_SET || t == TT_LIST;
}

/* A compact type nibble as a binary type (0: none). */
static unsigned compact_type(unsigned ct)
{
	static const uint8_t map[16] = {
		[1] = TT_BOOL,	 [2] = TT_BOOL,	  [3] = TT_BYTE, [4] = TT_I16,	[5] = TT_I32,  [6] = TT_I64,
		[7] = TT_DOUBLE, [8] = TT_STRING, [9] = TT_LIST, [10] = TT_SET, [11] = TT_MAP, [12] = TT_STRUCT
	};

	return map[ct & 0x0f];
}

static bool failed(const struct tdec *d)
{
	return d->bad || d->r.err;
}

static void put(struct tdec *d, bool show, const char *s, size_t n)
{
	if (!show || d->cut)
		return;
	if (d->out->len + n > THRIFT_TEXT_MAX) {
		d->cut = true;
		json_buf_lit(d->out, "...");
		return;
	}
	json_buf_put(d->out, s, n);
}

static void put_i64(struct tdec *d, bool show, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);

	put(d, show, buf, (size_t)n);
}

static uint64_t varint(struct tdec *d, unsigned maxbytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < maxbytes; i++) {
		uint8_t b = rd_u8(&d->r);

		if (d->r.err)
			return 0;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	d->bad = true; /* longer than the type allows */
	return 0;
}

static int64_t zigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* A length or count: int32 big-endian (binary) or varint (compact); negative is malformed. */
static uint32_t read_size(struct tdec *d)
{
	uint64_t n = d->proto == THRIFT_PROTO_COMPACT ? varint(d, 5) : rd_be32(&d->r);

	if (n > INT32_MAX)
		d->bad = true;
	return d->bad ? 0 : (uint32_t)n;
}

static int64_t read_int(struct tdec *d, unsigned type)
{
	if (type == TT_BYTE)
		return (int8_t)rd_u8(&d->r);
	if (d->proto == THRIFT_PROTO_COMPACT)
		return zigzag(varint(d, type == TT_I64 ? 10 : type == TT_I32 ? 5 : 3));
	if (type == TT_I16)
		return (int16_t)rd_be16(&d->r);
	if (type == TT_I32)
		return (int32_t)rd_be32(&d->r);
	return (int64_t)rd_be64(&d->r);
}

static void read_double(struct tdec *d, bool show)
{
	uint64_t bits = d->proto == THRIFT_PROTO_COMPACT ? rd_le64(&d->r) : rd_be64(&d->r);
	double v;

	if (failed(d) || !show || d->cut)
		return;
	memcpy(&v, &bits, sizeof(v));
	thrift_put_double(d->out, v);
	if (d->out->len > THRIFT_TEXT_MAX)
		d->cut = true;
}

static void read_string(struct tdec *d, bool show)
{
	uint32_t n = read_size(d);
	const uint8_t *p = failed(d) || !need(d, n) ? NULL : rd_bytes(&d->r, n);

	if (!p || !show || d->cut)
		return;
	thrift_put_string(d->out, p, n, d->rd);
	if (d->out->len > THRIFT_TEXT_MAX)
		d->cut = true;
}

static void value(struct tdec *d, unsigned type, bool show, int bval);

/* ", " before element i, "..." in place of element collection_max; true when element i is shown. */
static bool element_sep(struct tdec *d, bool show, uint32_t i)
{
	if (i > 0 && i <= d->rd->collection_max)
		put(d, show, ", ", 2);
	if (i == d->rd->collection_max)
		put(d, show, "...", 3);
	return show && i < d->rd->collection_max;
}

/* A container announcing n elements of at least min_bytes each: more than could follow is malformed or short. */
static bool count_ok(struct tdec *d, uint32_t n, size_t min_bytes)
{
	if (n > THRIFT_COUNT_MAX) {
		d->bad = true;
		return false;
	}
	return need(d, (uint64_t)n * min_bytes); /* all there yet? */
}

static void list_header(struct tdec *d, unsigned *etype, uint32_t *n)
{
	if (d->proto == THRIFT_PROTO_COMPACT) {
		uint8_t b = rd_u8(&d->r);

		*etype = compact_type(b);
		*n = b >> 4;
		if (*n == 15)
			*n = read_size(d);
	} else {
		*etype = rd_u8(&d->r);
		*n = read_size(d);
	}
	if (!failed(d) && !known_type(*etype))
		d->bad = true;
}

/* A list "[a, b]" or set "{a, b}"; empty, nothing at all (as Packetbeat). */
static void read_list(struct tdec *d, bool show, bool set)
{
	unsigned etype;
	uint32_t n;

	list_header(d, &etype, &n);
	if (failed(d) || !count_ok(d, n, 1) || n == 0)
		return;
	put(d, show, set ? "{" : "[", 1);
	for (uint32_t i = 0; i < n && !failed(d); i++)
		value(d, etype, element_sep(d, show, i), -1);
	put(d, show, set ? "}" : "]", 1);
}

static void map_header(struct tdec *d, unsigned *kt, unsigned *vt, uint32_t *n)
{
	if (d->proto == THRIFT_PROTO_COMPACT) {
		*n = read_size(d);
		if (*n == 0 || failed(d)) {
			*kt = *vt = TT_BOOL; /* no types sent for an empty map */
			return;
		}
		uint8_t b = rd_u8(&d->r);

		*kt = compact_type(b >> 4);
		*vt = compact_type(b);
	} else {
		*kt = rd_u8(&d->r);
		*vt = rd_u8(&d->r);
		*n = read_size(d);
	}
	if (!failed(d) && (!known_type(*kt) || !known_type(*vt)))
		d->bad = true;
}

static void read_map(struct tdec *d, bool show)
{
	unsigned kt, vt;
	uint32_t n;

	map_header(d, &kt, &vt, &n);
	if (failed(d) || !count_ok(d, n, 2))
		return;
	put(d, show, "{", 1);
	for (uint32_t i = 0; i < n && !failed(d); i++) {
		bool shown = element_sep(d, show, i);

		value(d, kt, shown, -1);
		put(d, shown, ": ", 2);
		value(d, vt, shown, -1);
	}
	put(d, show, "}", 1);
}

struct field {
	unsigned type;
	int16_t id;
	int bval; /* compact: a bool field's value is in its header (-1: none) */
};

/* The next field header; false at STOP (or on failure). */
static bool field_header(struct tdec *d, int16_t *last, struct field *f)
{
	uint8_t b = rd_u8(&d->r);

	f->bval = -1;
	if (failed(d) || b == TT_STOP)
		return false;
	if (d->proto != THRIFT_PROTO_COMPACT) {
		f->type = b;
		f->id = (int16_t)rd_be16(&d->r);
	} else {
		f->type = compact_type(b);
		if ((b & 0x0f) == 1 || (b & 0x0f) == 2)
			f->bval = (b & 0x0f) == 1;
		f->id = b >> 4 ? (int16_t)(*last + (b >> 4)) : (int16_t)zigzag(varint(d, 3));
		*last = f->id;
	}
	if (!failed(d) && !known_type(f->type))
		d->bad = true;
	return !failed(d);
}

/* "(1: a, name: b)": labels from nm; the first field's value is noted in body (the message's own struct). */
static void read_struct(struct tdec *d, bool show, const struct thrift_names *nm, struct thrift_body *body)
{
	struct field f;
	int16_t last = 0;
	size_t i = 0;

	put(d, show, "(", 1);
	while (field_header(d, &last, &f)) {
		bool shown;

		if (++i > d->rd->struct_fields_max) {
			d->bad = true;
			return;
		}
		shown = element_sep(d, show, (uint32_t)(i - 1));
		if (shown) {
			const char *label = nm ? thrift_names_get(nm, f.id) : NULL;

			if (label)
				put(d, true, label, strlen(label));
			else
				put_i64(d, true, f.id);
			put(d, true, ": ", 2);
		}
		if (body && i == 1) {
			body->first_id = f.id;
			body->first_off = d->out ? d->out->len : 0;
		}
		value(d, f.type, shown, f.bval);
		if (body && i == 1)
			body->first_len = (d->out ? d->out->len : 0) - body->first_off;
	}
	if (body)
		body->nfields = i;
	put(d, show, ")", 1);
}

static void value(struct tdec *d, unsigned type, bool show, int bval)
{
	if (++d->depth > THRIFT_DEPTH_MAX) {
		d->bad = true;
		return;
	}
	switch (type) {
	case TT_BOOL:
		if (bval < 0)
			bval = d->proto == THRIFT_PROTO_COMPACT ? rd_u8(&d->r) == 1 : rd_u8(&d->r) != 0;
		if (!failed(d))
			put(d, show, bval ? "true" : "false", bval ? 4 : 5);
		break;
	case TT_DOUBLE:
		read_double(d, show);
		break;
	case TT_STRING:
		read_string(d, show);
		break;
	case TT_LIST:
	case TT_SET:
		read_list(d, show, type == TT_SET);
		break;
	case TT_MAP:
		read_map(d, show);
		break;
	case TT_STRUCT:
		read_struct(d, show, NULL, NULL);
		break;
	default: { /* integers */
		int64_t v = read_int(d, type);

		if (!failed(d))
			put_i64(d, show, v);
	}
	}
	d->depth--;
}

static size_t finish(struct tdec *d, enum thrift_rc *rc)
{
	if (d->bad) {
		*rc = THRIFT_BAD;
		return 0;
	}
	if (d->r.err) {
		*rc = THRIFT_SHORT;
		return 0;
	}
	*rc = THRIFT_OK;
	return d->r.pos;
}

static void dec_init(struct tdec *d, enum thrift_proto proto, const uint8_t *data, size_t len)
{
	memset(d, 0, sizeof(*d));
	rd_init(&d->r, data, len);
	d->proto = proto;
}

static void head_binary(struct tdec *d, struct thrift_head *h)
{
	uint32_t v = rd_be32(&d->r);

	if (v & 0x80000000u) { /* strict: version, type, name, seqid */
		if ((v & 0xffff0000u) != 0x80010000u)
			d->bad = true;
		h->type = (enum thrift_mtype)(v & 0xff);
		h->name_len = failed(d) ? 0 : read_size(d);
		h->name = failed(d) ? NULL : rd_bytes(&d->r, h->name_len);
	} else { /* old: name, type, seqid */
		h->name_len = v;
		h->name = rd_bytes(&d->r, v);
		h->type = (enum thrift_mtype)rd_u8(&d->r);
	}
	h->seqid = rd_be32(&d->r);
}

static void head_compact(struct tdec *d, struct thrift_head *h)
{
	uint8_t id = rd_u8(&d->r), tv = rd_u8(&d->r);

	if (!failed(d) && (id != 0x82 || (tv & 0x1f) != 1))
		d->bad = true;
	h->type = (enum thrift_mtype)(tv >> 5);
	h->seqid = failed(d) ? 0 : (uint32_t)varint(d, 5);
	h->name_len = failed(d) ? 0 : read_size(d);
	h->name = failed(d) ? NULL : rd_bytes(&d->r, h->name_len);
}

size_t thrift_read_head(enum thrift_proto proto, const uint8_t *data, size_t len, struct thrift_head *h,
			enum thrift_rc *rc)
{
	struct tdec d;

	dec_init(&d, proto, data, len);
	memset(h, 0, sizeof(*h));
	if (proto == THRIFT_PROTO_COMPACT)
		head_compact(&d, h);
	else
		head_binary(&d, h);
	if (!failed(&d) && (h->type < THRIFT_CALL || h->type > THRIFT_ONEWAY))
		d.bad = true;
	return finish(&d, rc);
}

size_t thrift_read_body(enum thrift_proto proto, const uint8_t *data, size_t len, const struct thrift_render *rd,
			const struct thrift_names *nm, bool show, struct thrift_body *body, enum thrift_rc *rc)
{
	struct tdec d;

	dec_init(&d, proto, data, len);
	d.rd = rd;
	d.out = &body->text;
	body->nfields = 0;
	body->first_id = 0;
	body->first_off = body->first_len = 0;
	read_struct(&d, show, nm, body);
	body->cut = d.cut;
	body->want = d.want;
	if (body->text.err)
		d.bad = true; /* out of memory: the message cannot be shown */
	return finish(&d, rc);
}
