/*
 * Memcache binary protocol: a 24-byte header (magic, opcode, key length,
 * extras length, data type, vbucket/status, total body length, opaque,
 * cas), then extras, key and value. Header, extras and key are parsed here
 * (they are small); the value goes through the state machine in memcache.c.
 */
#include <errno.h>
#include <string.h>

#include "memcache.h"

enum mc_extras {
	EX_NONE,
	EX_FLAGS, /* flags (get responses) */
	EX_STORE, /* flags, exptime */
	EX_COUNTER, /* delta, initial, exptime */
	EX_EXPTIME, /* exptime (flush, touch, gat) */
	EX_VERBOSITY,
};

struct mc_binop {
	const char *name; /* opcode name, as Packetbeat */
	const char *command; /* text protocol command */
	uint8_t type; /* enum mc_type */
	uint8_t req_ex, resp_ex; /* enum mc_extras */
	uint8_t resp_body; /* enum mc_body of a successful response */
};

#define OP_STAT 0x10
#define OP_QUITQ 0x17

/* clang-format off */
#define LOADOP(n) { n, "get", MC_T_LOAD, EX_NONE, EX_FLAGS, MC_B_VALUE }
#define GATOP(n) { n, "gat", MC_T_LOAD, EX_EXPTIME, EX_FLAGS, MC_B_VALUE }
#define STOREOP(n, c) { n, c, MC_T_STORE, EX_STORE, EX_NONE, MC_B_VALUE }
#define PLAINOP(n, c, t) { n, c, t, EX_NONE, EX_NONE, MC_B_VALUE }
#define CNTOP(n, c) { n, c, MC_T_COUNTER, EX_COUNTER, EX_NONE, MC_B_COUNTER }
#define UNKOP(n) { n, "UNKNOWN", MC_T_UNKNOWN, EX_NONE, EX_NONE, MC_B_VALUE }
/* clang-format on */

static const struct mc_binop binops[256] = {
	[0x00] = LOADOP("Get"),
	[0x01] = STOREOP("Set", "set"),
	[0x02] = STOREOP("Add", "add"),
	[0x03] = STOREOP("Replace", "replace"),
	[0x04] = PLAINOP("Delete", "delete", MC_T_DELETE),
	[0x05] = CNTOP("Increment", "incr"),
	[0x06] = CNTOP("Decrement", "decr"),
	[0x07] = PLAINOP("Quit", "quit", MC_T_INFO),
	[0x08] = { "Flush", "flush_all", MC_T_DELETE, EX_EXPTIME, EX_NONE, MC_B_VALUE },
	[0x09] = LOADOP("GetQ"),
	[0x0a] = PLAINOP("No-op", "noop", MC_T_INFO),
	[0x0b] = { "Version", "version", MC_T_INFO, EX_NONE, EX_NONE, MC_B_VERSION },
	[0x0c] = LOADOP("GetK"),
	[0x0d] = LOADOP("GetKQ"),
	[0x0e] = PLAINOP("Append", "append", MC_T_STORE),
	[0x0f] = PLAINOP("Prepend", "prepend", MC_T_STORE),
	[0x10] = { "Stat", "stats", MC_T_STATS, EX_NONE, EX_NONE, MC_B_STAT },
	[0x11] = STOREOP("SetQ", "set"),
	[0x12] = STOREOP("AddQ", "add"),
	[0x13] = STOREOP("ReplaceQ", "replace"),
	[0x14] = PLAINOP("DeleteQ", "delete", MC_T_DELETE),
	[0x15] = CNTOP("IncrementQ", "incr"),
	[0x16] = CNTOP("DecrementQ", "decr"),
	[0x17] = PLAINOP("QuitQ", "quit", MC_T_INFO),
	[0x18] = { "FlushQ", "flush_all", MC_T_DELETE, EX_EXPTIME, EX_NONE, MC_B_VALUE },
	[0x19] = PLAINOP("AppendQ", "append", MC_T_STORE),
	[0x1a] = PLAINOP("PrependQ", "prepend", MC_T_STORE),
	[0x1b] = { "Verbosity", "verbosity", MC_T_INFO, EX_VERBOSITY, EX_NONE, MC_B_VALUE },
	[0x1c] = { "Touch", "touch", MC_T_STORE, EX_EXPTIME, EX_NONE, MC_B_VALUE },
	[0x1d] = GATOP("GAT"),
	[0x1e] = GATOP("GATQ"),
	[0x20] = PLAINOP("SASL list mechs", "sasl_list", MC_T_AUTH),
	[0x21] = PLAINOP("SASL Auth", "sasl_auth", MC_T_AUTH),
	[0x22] = PLAINOP("SASL Step", "sasl_step", MC_T_AUTH),
	[0x23] = GATOP("GatK"),
	[0x24] = GATOP("GatKQ"),
	[0x30] = UNKOP("RGet"),
	[0x31] = UNKOP("RSet"),
	[0x32] = UNKOP("RSetQ"),
	[0x33] = UNKOP("RAppend"),
	[0x34] = UNKOP("RAppendQ"),
	[0x35] = UNKOP("RPrepend"),
	[0x36] = UNKOP("RPrependQ"),
	[0x37] = UNKOP("RDelete"),
	[0x38] = UNKOP("RDeleteQ"),
	[0x39] = UNKOP("RIncr"),
	[0x3a] = UNKOP("RIncrQ"),
	[0x3b] = UNKOP("RDecr"),
	[0x3c] = UNKOP("RDecrQ"),
	[0x3d] = UNKOP("Set VBucket"),
	[0x3e] = UNKOP("Get VBucket"),
	[0x3f] = UNKOP("Del VBucket"),
	[0x40] = UNKOP("TAP Connect"),
	[0x41] = UNKOP("TAP Mutation"),
	[0x42] = UNKOP("TAP Delete"),
	[0x43] = UNKOP("TAP Flush"),
	[0x44] = UNKOP("TAP Opaque"),
	[0x45] = UNKOP("TAP VBucket Set"),
	[0x46] = UNKOP("TAP Checkpoint Start"),
	[0x47] = UNKOP("TAP Checkpoint End"),
};

static const struct mc_binop unknown_op = UNKOP(NULL);

static const struct {
	uint16_t code;
	const char *name;
} status_names[] = {
	{ 0x00, "Success" },
	{ 0x01, "Key not found" },
	{ 0x02, "Key exists" },
	{ 0x03, "Value too large" },
	{ 0x04, "Invalid arguments" },
	{ 0x05, "Item not stored" },
	{ 0x06, "Incr/Decr on non-numeric value." },
	{ 0x07, "The vbucket belongs to another server" },
	{ 0x20, "Authentication error" },
	{ 0x21, "Authentication continue" },
	{ 0x81, "Unknown command" },
	{ 0x82, "Out of memory" },
	{ 0x83, "Not supported" },
	{ 0x84, "Internal error" },
	{ 0x85, "Busy" },
	{ 0x86, "Temporary failure" },
};

static const char *status_name(uint16_t code)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].code == code)
			return status_names[i].name;
	return "UNKNOWN";
}

bool mc_bin_opcode_quiet(uint8_t op)
{
	switch (op) {
	case 0x09: /* GetQ */
	case 0x0d: /* GetKQ */
	case 0x11: /* SetQ */
	case 0x12: /* AddQ */
	case 0x13: /* ReplaceQ */
	case 0x14: /* DeleteQ */
	case 0x15: /* IncrementQ */
	case 0x16: /* DecrementQ */
	case 0x17: /* QuitQ */
	case 0x18: /* FlushQ */
	case 0x19: /* AppendQ */
	case 0x1a: /* PrependQ */
	case 0x1e: /* GATQ */
	case 0x24: /* GatKQ */
	case 0x32: /* RSetQ */
	case 0x34: /* RAppendQ */
	case 0x36: /* RPrependQ */
	case 0x38: /* RDeleteQ */
	case 0x3a: /* RIncrQ */
	case 0x3c: /* RDecrQ */
		return true;
	}
	return false;
}

struct mc_binhdr {
	uint8_t magic, opcode, extlen, datatype;
	uint16_t keylen, vbucket_status;
	uint32_t bodylen, opaque;
	uint64_t cas;
};

static void read_header(struct reader *r, struct mc_binhdr *h)
{
	h->magic = rd_u8(r);
	h->opcode = rd_u8(r);
	h->keylen = rd_be16(r);
	h->extlen = rd_u8(r);
	h->datatype = rd_u8(r);
	h->vbucket_status = rd_be16(r);
	h->bodylen = rd_be32(r);
	h->opaque = rd_be32(r);
	h->cas = rd_be64(r);
}

/* Extras are read when long enough for the fields they should hold. */
static void parse_extras(struct mc_msg *mm, enum mc_extras ex, const uint8_t *p, size_t n)
{
	struct reader r;

	rd_init(&r, p, n);
	switch (ex) {
	case EX_NONE:
		break;
	case EX_FLAGS:
		if (n >= 4)
			mc_set_num(mm, MC_N_FLAGS, rd_be32(&r));
		break;
	case EX_STORE:
		if (n >= 8) {
			mc_set_num(mm, MC_N_FLAGS, rd_be32(&r));
			mc_set_num(mm, MC_N_EXPTIME, rd_be32(&r));
		}
		break;
	case EX_COUNTER:
		if (n >= 20) {
			mc_set_num(mm, MC_N_DELTA, (int64_t)rd_be64(&r));
			mc_set_num(mm, MC_N_INITIAL, (int64_t)rd_be64(&r));
			mc_set_num(mm, MC_N_EXPTIME, rd_be32(&r));
		}
		break;
	case EX_EXPTIME:
		if (n >= 4)
			mc_set_num(mm, MC_N_EXPTIME, rd_be32(&r));
		break;
	case EX_VERBOSITY:
		if (n >= 4)
			mc_set_num(mm, MC_N_VERBOSITY, rd_be32(&r));
		break;
	}
}

/* Header fields of a new message. */
static int open_binary(struct mc_ctx *x, const struct mc_binhdr *h, const struct mc_binop *op)
{
	struct mc_msg *mm = &x->d->cur;
	bool req = x->dir == DIR_C2S;

	if (mc_msg_open(x, true))
		return -ENOMEM;
	mm->opcode = h->opcode;
	mm->opaque = h->opaque;
	mm->quiet = req && mc_bin_opcode_quiet(h->opcode);
	mc_set_command(x, op->command, (enum mc_type)op->type);
	mm->ev->opcode = op->name ? op->name : "UNKNOWN";
	mc_set_num(mm, MC_N_OPCODE_VALUE, h->opcode);
	mc_set_num(mm, MC_N_OPAQUE, h->opaque);
	if (req) {
		mc_set_bool(mm, MC_Q_QUIET, mm->quiet);
		mc_set_num(mm, MC_N_VBUCKET, h->vbucket_status);
		mm->m->noreply = h->opcode == OP_QUITQ;
		mm->m->quiet = mm->quiet;
	} else {
		mm->ev->status = status_name(h->vbucket_status);
		mc_set_num(mm, MC_N_STATUS_CODE, h->vbucket_status);
		if (h->vbucket_status)
			mm->m->status = h->vbucket_status > 0x80 ? MSG_SERVER_ERROR : MSG_ERROR;
	}
	if (h->cas)
		mc_set_num(mm, MC_N_CAS_UNIQUE, (int64_t)h->cas); /* past INT64_MAX it wraps, as before */
	return 0;
}

static enum mc_body body_kind(const struct mc_ctx *x, const struct mc_binhdr *h, const struct mc_binop *op,
			      uint64_t vlen)
{
	if (vlen == 0)
		return MC_B_SKIP;
	if (x->dir == DIR_C2S)
		return MC_B_VALUE;
	if (h->vbucket_status)
		return MC_B_ERROR;
	return (enum mc_body)op->resp_body;
}

ssize_t mc_bin_header(struct mc_ctx *x, const uint8_t *data, size_t len)
{
	struct mc_msg *mm = &x->d->cur;
	struct reader r;
	struct mc_binhdr h;
	const struct mc_binop *op;
	const uint8_t *extras, *key;
	bool req = x->dir == DIR_C2S, stats;
	uint64_t vlen;

	if (len < MC_BIN_HEADER)
		return 0;
	rd_init(&r, data, len);
	read_header(&r, &h);
	if (h.magic != (req ? MC_MAGIC_REQ : MC_MAGIC_RESP) || (uint32_t)h.extlen + h.keylen > h.bodylen)
		return -EINVAL;
	if (rd_left(&r) < (size_t)h.extlen + h.keylen)
		return 0;
	extras = rd_bytes(&r, h.extlen);
	key = rd_bytes(&r, h.keylen);
	op = binops[h.opcode].command ? &binops[h.opcode] : &unknown_op;
	vlen = h.bodylen - h.extlen - h.keylen;
	stats = !req && h.opcode == OP_STAT && !h.vbucket_status;

	/* stat responses (one per statistic, ended by an empty key) become one message */
	if (!(stats && mm->m && mm->agg == MC_A_BINSTATS && mm->opaque == h.opaque)) {
		if (mm->m)
			mc_msg_finish(x);
		if (open_binary(x, &h, op))
			return -ENOMEM;
		if (stats)
			mm->agg = MC_A_BINSTATS;
	}
	parse_extras(mm, (enum mc_extras)(req ? op->req_ex : op->resp_ex), extras, h.extlen);
	x->d->stat_open = false;
	if (stats && h.keylen && mm->ev->nstats < MC_LIST_MAX) {
		if (mc_add_stat(mm, key, h.keylen, "", 0))
			return -ENOMEM;
		x->d->stat_open = true;
	}
	if (!stats && h.keylen && mc_add_key(mm, key, h.keylen))
		return -ENOMEM;
	x->d->body_done_ends_msg = !(stats && h.keylen);
	mc_begin_value(x, MC_ST_BODY, vlen, body_kind(x, &h, op, vlen));
	return (ssize_t)r.pos;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void mc_bin_body_done(struct mc_ctx *x)
{
	struct mc_dir *d = x->d;
	struct mc_msg *mm = &d->cur;

	if (!mm->m)
		return;
	if (!d->lost) {
		switch (d->body) {
		case MC_B_COUNTER:
			if (d->cap_len == 8)
				mc_set_num(mm, MC_N_VALUE, (int64_t)be64(d->cap));
			break;
		case MC_B_VERSION:
			mc_set_strn(mm, MC_S_VERSION, d->cap, d->cap_len);
			break;
		case MC_B_STAT:
			if (d->stat_open)
				mc_set_stat_value(mm, d->cap, d->cap_len);
			break;
		case MC_B_ERROR:
			mc_set_strn(mm, MC_S_ERROR_MSG, d->cap, d->cap_len);
			break;
		default:
			break;
		}
	}
	if (d->body_done_ends_msg)
		mc_msg_finish(x);
}
