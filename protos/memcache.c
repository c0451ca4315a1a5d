/*
 * Memcache (text and binary protocol, TCP and UDP), after Packetbeat's
 * memcache module: one event per request/response pair with
 * memcache.request.* / memcache.response.* fields.
 *
 * This file holds the ops table, the settings, the per-direction state
 * machine shared by both protocols (values are consumed incrementally and
 * only a capped prefix is kept), and the TCP glue, including binary quiet
 * requests (GETKQ, SETQ, ...) that complete when a later response shows
 * the server skipped them; left without a response (close, timeout) they
 * are published as OK (msg->quiet). Quiet meta commands (mg ... q) are
 * paired the same way: a reply their q flag suppresses (EN for mg, HD for
 * the others, MN) or whose opaque/key differs answers a later request.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memcache.h"
#include "pipeline.h"

static const char *const type_names[] = {
	[MC_T_UNKNOWN] = "UNKNOWN",   [MC_T_LOAD] = "Load",	    [MC_T_STORE] = "Store",
	[MC_T_DELETE] = "Delete",     [MC_T_COUNTER] = "Counter",   [MC_T_INFO] = "Info",
	[MC_T_SLABCTRL] = "SlabCtrl", [MC_T_LRUCRAWLER] = "LRUCrawler", [MC_T_STATS] = "Stats",
	[MC_T_SUCCESS] = "Success",   [MC_T_FAIL] = "Fail",	    [MC_T_AUTH] = "Auth",
};

const char *mc_type_name(enum mc_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "UNKNOWN";
}

json_t *mc_base64(const uint8_t *data, size_t len)
{
	char *out = malloc(base64_len(len) + 1);
	json_t *j;

	if (!out)
		return NULL;
	j = json_stringn_nocheck(out, base64_encode(data, len, out));
	free(out);
	return j;
}

/* ---- settings ---- */

/* udptransactiontimeout: a bare number is milliseconds (Packetbeat), else a duration. */
static int cfg_udp_timeout(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct mc_cfg *mc = base;
	int64_t ms;
	const char *p;

	if (n->kind == CFG_N_SCALAR && n->value && *n->value) {
		for (p = n->value; isdigit((unsigned char)*p); p++)
			;
		if (!*p) {
			if (cfg_to_int(n, 0, INT64_MAX / 1000000, &ms, err))
				return -EINVAL;
			mc->udptransactiontimeout = (uint64_t)ms * 1000000ull;
			return 0;
		}
	}
	return cfg_to_duration(n, &mc->udptransactiontimeout, err);
}

static const struct cfg_field mc_cfg_fields[] = {
	{ .key = "parseunknown", .type = CFG_BOOL, .offset = offsetof(struct mc_cfg, parseunknown) },
	{ .key = "maxvalues",
	  .type = CFG_INT,
	  .offset = offsetof(struct mc_cfg, maxvalues),
	  .min = -1,
	  .max = INT32_MAX },
	{ .key = "maxbytespervalue", .type = CFG_SIZE, .offset = offsetof(struct mc_cfg, maxbytespervalue) },
	{ .key = "udptransactiontimeout", .type = CFG_CUSTOM, .custom = cfg_udp_timeout },
	{ 0 },
};

static void *mc_cfg_new(void)
{
	struct mc_cfg *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return NULL;
	mc->udptransactiontimeout = 10ull * 1000000000ull;
	mc->udp = mc_udp_new();
	if (!mc->udp) {
		free(mc);
		return NULL;
	}
	return mc;
}

static uint64_t mc_udp_timeout(const struct proto_cfg *cfg)
{
	const struct mc_cfg *mc = cfg->priv;

	return mc->udptransactiontimeout;
}

static void mc_cfg_free(void *priv)
{
	struct mc_cfg *mc = priv;

	if (!mc)
		return;
	mc_udp_free(mc->udp);
	free(mc);
}

/* ---- messages ---- */

void mc_msg_drop(struct mc_msg *mm)
{
	msg_free(mm->m);
	memset(mm, 0, sizeof(*mm));
}

int mc_msg_open(struct mc_ctx *x, bool binary)
{
	struct mc_msg *mm = &x->d->cur;
	bool req = x->dir == DIR_C2S;
	json_t *obj;

	mc_msg_drop(mm);
	mm->m = msg_new(x->ts);
	if (!mm->m)
		return -ENOMEM;
	mm->m->fields = json_object();
	obj = json_object();
	/* json_set_path steals obj: on success it is owned (and kept alive) by fields */
	if (!mm->m->fields || !obj ||
	    json_set_path(mm->m->fields, "memcache.protocol_type", json_string(binary ? "binary" : "text"))) {
		json_decref(obj);
		mc_msg_drop(mm);
		return -ENOMEM;
	}
	if (json_set_path(mm->m->fields, req ? "memcache.request" : "memcache.response", obj)) {
		mc_msg_drop(mm);
		return -ENOMEM;
	}
	mm->obj = obj;
	mm->binary = binary;
	return 0;
}

int mc_set_u64(struct mc_msg *mm, const char *key, uint64_t v)
{
	return json_object_set_new(mm->obj, key, json_integer((json_int_t)v)) ? -ENOMEM : 0;
}

int mc_set_str(struct mc_msg *mm, const char *key, const char *s)
{
	return json_object_set_new(mm->obj, key, json_string(s)) ? -ENOMEM : 0;
}

int mc_set_strn(struct mc_msg *mm, const char *key, const void *s, size_t n)
{
	return json_object_set_new(mm->obj, key, json_strn(s, n)) ? -ENOMEM : 0;
}

int mc_set_bool(struct mc_msg *mm, const char *key, bool v)
{
	return json_object_set_new(mm->obj, key, json_boolean(v)) ? -ENOMEM : 0;
}

static json_t *mc_array(struct mc_msg *mm, json_t **slot, const char *key)
{
	if (!*slot) {
		json_t *a = json_array();

		if (!a || json_object_set_new(mm->obj, key, a))
			return NULL;
		*slot = a;
	}
	return *slot;
}

int mc_add_key(struct mc_msg *mm, const void *key, size_t len)
{
	json_t *a = mc_array(mm, &mm->keys, "keys");

	if (!a)
		return -ENOMEM;
	if (json_array_size(a) >= MC_LIST_MAX)
		return 0;
	return json_array_append_new(a, json_strn(key, len)) ? -ENOMEM : 0;
}

int mc_add_stat(struct mc_msg *mm, const void *name, size_t nlen, const void *value, size_t vlen)
{
	json_t *a = mc_array(mm, &mm->stats, "stats");
	json_t *e;

	if (!a)
		return -ENOMEM;
	if (json_array_size(a) >= MC_LIST_MAX)
		return 0;
	e = json_object();
	if (!e || json_object_set_new(e, "name", json_strn(name, nlen)) ||
	    json_object_set_new(e, "value", json_strn(value, vlen)) || json_array_append_new(a, e))
		return -ENOMEM;
	return 0;
}

int mc_set_command(struct mc_ctx *x, const char *command, enum mc_type type)
{
	struct mc_msg *mm = &x->d->cur;
	char buf[64], act[64];
	size_t i;

	if (mc_set_str(mm, "command", command) || mc_set_str(mm, "type", mc_type_name(type)))
		return -ENOMEM;
	if (x->dir != DIR_C2S)
		return 0;
	for (i = 0; command[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (char)toupper((unsigned char)command[i]);
	buf[i] = '\0';
	snprintf(act, sizeof(act), "memcache.%s", mc_type_name(type));
	for (i = 0; act[i]; i++)
		act[i] = (char)tolower((unsigned char)act[i]);
	if (json_object_set_new(mm->m->fields, "method", json_string(buf)) ||
	    json_set_path(mm->m->fields, "event.action", json_string(act)))
		return -ENOMEM;
	return 0;
}

void mc_msg_finish(struct mc_ctx *x)
{
	struct mc_msg *mm = &x->d->cur;
	struct msg *m = mm->m;

	if (!m)
		return;
	if (mm->count_values || mm->agg == MC_A_VALUES) {
		mc_set_u64(mm, "count_values", mm->count_values);
		mc_set_u64(mm, "bytes", mm->value_bytes);
	}
	m->ts_end = x->ts;
	m->bytes += x->unit;
	x->unit = 0;
	mm->m = NULL;
	x->emit(x, m, mm);
	memset(mm, 0, sizeof(*mm));
}

/* ---- values ---- */

static bool mc_keep_value(const struct mc_ctx *x)
{
	const struct mc_msg *mm = &x->d->cur;
	int64_t maxv = x->cfg->maxvalues;

	if (maxv == 0 || mm->kept_bytes >= MC_VALUES_TOTAL_MAX)
		return false;
	return maxv < 0 || (int64_t)json_array_size(mm->values) < maxv;
}

static size_t mc_value_cap(const struct mc_ctx *x, uint64_t n)
{
	uint64_t cap = x->cfg->maxbytespervalue;

	if (cap == 0 || cap > MC_VALUE_HARD_MAX)
		cap = MC_VALUE_HARD_MAX;
	if (cap > MC_VALUES_TOTAL_MAX - x->d->cur.kept_bytes)
		cap = MC_VALUES_TOTAL_MAX - x->d->cur.kept_bytes;
	return (size_t)(n < cap ? n : cap);
}

void mc_begin_value(struct mc_ctx *x, enum mc_state st, uint64_t n, enum mc_body body)
{
	struct mc_dir *d = x->d;
	size_t want = 0;
	bool keep = false;

	switch (body) {
	case MC_B_VALUE:
		keep = mc_keep_value(x);
		want = keep ? mc_value_cap(x, n) : 0;
		d->cur.count_values++;
		d->cur.value_bytes += n;
		break;
	case MC_B_COUNTER:
		want = n < 8 ? (size_t)n : 8;
		break;
	case MC_B_VERSION:
	case MC_B_STAT:
	case MC_B_ERROR:
		want = n < MC_SMALL_MAX ? (size_t)n : MC_SMALL_MAX;
		break;
	case MC_B_SKIP:
		break;
	}
	d->st = st;
	d->left = n;
	d->body = body;
	d->lost = false;
	d->cap_len = 0;
	d->cap_want = want;
	d->keep = keep;
}

/* Consume up to len bytes of the current value. */
static int mc_take_value(struct mc_dir *d, const uint8_t *p, size_t len, size_t *used)
{
	size_t n = d->left < len ? (size_t)d->left : len;

	if (d->cap_len < d->cap_want) {
		size_t c = d->cap_want - d->cap_len;
		uint8_t *nb;

		if (c > n)
			c = n;
		nb = realloc(d->cap, d->cap_len + c);
		if (!nb)
			return -ENOMEM;
		d->cap = nb;
		memcpy(d->cap + d->cap_len, p, c);
		d->cap_len += c;
	}
	d->left -= n;
	if (d->cur.m)
		d->cur.m->bytes += n;
	*used = n;
	return 0;
}

/* A data value is complete: keep it (base64) when allowed. */
static int mc_value_done(struct mc_ctx *x)
{
	struct mc_dir *d = x->d;
	struct mc_msg *mm = &d->cur;
	json_t *a;

	if (d->body != MC_B_VALUE || d->lost || !d->keep || !mm->m)
		return 0;
	a = mc_array(mm, &mm->values, "values");
	if (!a || json_array_append_new(a, mc_base64(d->cap, d->cap_len)))
		return -ENOMEM;
	mm->kept_bytes += d->cap_len;
	return 0;
}

/* Forget the capture of the finished value (a big buffer is given back). */
static void mc_capture_clear(struct mc_dir *d)
{
	if (d->cap_len > 4096) {
		free(d->cap);
		d->cap = NULL;
	}
	d->cap_len = 0;
	d->cap_want = 0;
}

void mc_dir_reset(struct mc_dir *d)
{
	mc_msg_drop(&d->cur);
	free(d->cap);
	memset(d, 0, sizeof(*d));
}

/* ---- the per-direction state machine ---- */

/* Account the bytes of the line/header just handled (x->unit) to the open message. */
static void mc_account(struct mc_ctx *x)
{
	if (x->d->cur.m)
		x->d->cur.m->bytes += x->unit;
	x->unit = 0;
}

static ssize_t mc_step_cmd(struct mc_ctx *x, const uint8_t *p, size_t len)
{
	struct reader r;
	const uint8_t *line;
	long n;
	ssize_t used;

	if (p[0] == MC_MAGIC_REQ || p[0] == MC_MAGIC_RESP) {
		used = mc_bin_header(x, p, len);
		if (used > 0)
			x->unit = (size_t)used;
		return used;
	}
	/* the unconsumed tail comes back with more data: scan only the new bytes */
	rd_init(&r, p, len);
	if (x->d->scanned > 1 && x->d->scanned <= len)
		r.pos = x->d->scanned - 1;
	n = rd_line(&r, &line);
	if (n < 0) {
		x->d->scanned = len;
		return len > MC_LINE_MAX ? -EINVAL : 0;
	}
	line = p;
	n = (long)(r.pos - 2);
	x->d->scanned = 0;
	used = (ssize_t)r.pos;
	x->unit = (size_t)used;
	if (mc_text_line(x, line, (size_t)n))
		return -EINVAL;
	return used;
}

static int mc_step_crlf(struct mc_ctx *x, uint8_t c)
{
	struct mc_dir *d = x->d;

	if (d->st == MC_ST_DATA_CR) {
		if (c != '\r')
			return -EINVAL;
		d->st = MC_ST_DATA_LF;
		return 0;
	}
	if (c != '\n')
		return -EINVAL;
	d->st = MC_ST_CMD;
	if (mc_value_done(x))
		return -ENOMEM;
	mc_capture_clear(d);
	if (d->cur.agg == MC_A_NONE)
		mc_msg_finish(x);
	return 0;
}

static int mc_body_complete(struct mc_ctx *x)
{
	x->d->st = MC_ST_CMD;
	if (mc_value_done(x))
		return -ENOMEM;
	mc_bin_body_done(x);
	mc_capture_clear(x->d);
	return 0;
}

ssize_t mc_feed(struct mc_ctx *x, const uint8_t *data, size_t len)
{
	struct mc_dir *d = x->d;
	size_t off = 0;

	while (off < len) {
		ssize_t r;
		size_t used = 0;

		switch (d->st) {
		case MC_ST_CMD:
			x->unit = 0;
			r = mc_step_cmd(x, data + off, len - off);
			if (r < 0)
				goto fail;
			if (r == 0)
				return (ssize_t)off;
			mc_account(x);
			off += (size_t)r;
			if (d->st == MC_ST_BODY && d->left == 0 && mc_body_complete(x))
				goto fail;
			break;
		case MC_ST_DATA:
		case MC_ST_BODY:
			if (mc_take_value(d, data + off, len - off, &used))
				goto fail;
			off += used;
			if (d->left)
				break;
			if (d->st == MC_ST_DATA)
				d->st = MC_ST_DATA_CR;
			else if (mc_body_complete(x))
				goto fail;
			break;
		case MC_ST_DATA_CR:
		case MC_ST_DATA_LF:
			x->unit = 1;
			mc_account(x);
			if (mc_step_crlf(x, data[off]))
				goto fail;
			off++;
			break;
		}
	}
	return (ssize_t)off;
fail:
	mc_dir_reset(d);
	return PARSE_ERROR;
}

/* ---- TCP ---- */

struct mc_conn {
	struct mc_dir dir[2];
};

static void *mc_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct mc_conn));
}

static void mc_conn_free(void *pstate)
{
	struct mc_conn *mc = pstate;

	if (!mc)
		return;
	mc_dir_reset(&mc->dir[0]);
	mc_dir_reset(&mc->dir[1]);
	free(mc);
}

/* What a queued binary request says about itself (from its fields). */
struct mc_reqinfo {
	bool binary;
	uint8_t opcode;
	uint32_t opaque;
	const char *key;
};

static void mc_reqinfo(const struct msg *m, struct mc_reqinfo *ri)
{
	json_t *mc = json_object_get(m->fields, "memcache");
	json_t *req = json_object_get(mc, "request");
	json_t *keys = json_object_get(req, "keys");

	memset(ri, 0, sizeof(*ri));
	ri->binary = json_is_string(json_object_get(mc, "protocol_type")) &&
		     strcmp(json_string_value(json_object_get(mc, "protocol_type")), "binary") == 0;
	ri->opcode = (uint8_t)json_integer_value(json_object_get(req, "opcode_value"));
	ri->opaque = (uint32_t)json_integer_value(json_object_get(req, "opaque"));
	ri->key = json_string_value(json_array_get(keys, 0));
}

static bool mc_req_matches(const struct mc_reqinfo *ri, const struct mc_msg *resp, const char *rkey)
{
	if (ri->opcode != resp->opcode || ri->opaque != resp->opaque)
		return false;
	return !ri->key || !rkey || strcmp(ri->key, rkey) == 0;
}

/*
 * A binary response answers the first queued request with the same opcode,
 * opaque (and key, when both carry one). Quiet requests before it got no
 * response and are published alone (status OK); a non-quiet one lost its
 * response. A response matching nothing queued is counted and dropped.
 */
static void mc_tcp_bin_response(struct conn *c, struct msg *resp, const struct mc_msg *mm)
{
	const char *rkey = json_string_value(json_array_get(mm->keys, 0));
	struct mc_reqinfo ri;
	struct msg *q;
	size_t skip = 0;

	for (q = c->req_head; q; q = q->next, skip++) {
		mc_reqinfo(q, &ri);
		if (!ri.binary || mc_req_matches(&ri, mm, rkey))
			break;
	}
	if (!q && c->req_head) {
		corr_unmatched(c->pl, c->cfg, resp);
		return;
	}
	while (skip--) /* OK when quiet (msg->quiet), else unanswered */
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
	corr_response(c, resp);
}

/* Can meta reply r (opaque, key rkey) answer the quiet meta request req? */
static bool mc_meta_answers(const struct msg *req, const struct mc_meta *r, const char *rkey)
{
	const struct mc_meta *q = req->priv;
	struct mc_reqinfo ri;
	bool get = strcmp(q->code, "mg") == 0;

	if (r->error)
		return true;
	if (!r->code[0] || strcmp(r->code, "MN") == 0 || strcmp(r->code, "ME") == 0 || strcmp(r->code, "EN") == 0)
		return false;
	/* q hides EN for mg, HD for ms/md and HD/VA for ma */
	if ((strcmp(r->code, "VA") == 0 || strcmp(r->code, "HD") == 0) != get)
		return false;
	/* the server echoes O (and k) only when asked: a reply carrying them names its request */
	if (r->opaque_len && (q->opaque_len != r->opaque_len || memcmp(q->opaque, r->opaque, q->opaque_len) != 0))
		return false;
	mc_reqinfo(req, &ri);
	return !ri.key || !rkey || strcmp(ri.key, rkey) == 0;
}

/*
 * A text reply answers the oldest request, except that quiet meta requests
 * it cannot answer are passed over (the server said nothing for them: OK).
 * A reply that none of the queued quiet requests can take is counted and dropped.
 */
static void mc_tcp_text_response(struct conn *c, struct msg *resp, const struct mc_msg *mm)
{
	const char *rkey = json_string_value(json_array_get(mm->keys, 0));
	struct msg *q;
	size_t skip = 0;

	for (q = c->req_head; q && q->quiet && q->priv; q = q->next, skip++)
		if (mc_meta_answers(q, &mm->meta, rkey))
			break;
	if (!q && c->req_head) {
		corr_unmatched(c->pl, c->cfg, resp);
		return;
	}
	while (skip--)
		corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, NULL), NULL);
	corr_response(c, resp);
}

/* A meta request keeps what the pairing needs (without it, it is paired as a classic one). */
static void mc_keep_meta(struct msg *m, const struct mc_msg *mm)
{
	struct mc_meta *copy;

	if (!mm->meta.code[0] || m->priv)
		return;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return;
	*copy = mm->meta;
	m->priv = copy;
}

static void mc_tcp_emit(struct mc_ctx *x, struct msg *m, const struct mc_msg *mm)
{
	struct conn *c = x->arg;

	if (x->dir == DIR_C2S) {
		mc_keep_meta(m, mm);
		corr_request(c, m);
	} else if (mm->binary) {
		mc_tcp_bin_response(c, m, mm);
	} else {
		mc_tcp_text_response(c, m, mm);
	}
}

static void mc_tcp_ctx(struct mc_ctx *x, struct conn *c, enum dir dir, uint64_t ts)
{
	struct mc_conn *mc = c->pstate;

	memset(x, 0, sizeof(*x));
	x->cfg = c->cfg->priv;
	x->d = &mc->dir[dir];
	x->dir = dir;
	x->ts = ts;
	x->emit = mc_tcp_emit;
	x->arg = c;
}

static ssize_t mc_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct mc_ctx x;

	if (!c->pstate)
		return PARSE_ERROR;
	mc_tcp_ctx(&x, c, dir, ts);
	return mc_feed(&x, data, len);
}

/* A gap inside a value is skipped (the value is counted, not kept); elsewhere the state is dropped. */
static bool mc_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct mc_ctx x;
	struct mc_dir *d;

	if (!c->pstate)
		return true;
	mc_tcp_ctx(&x, c, dir, ts);
	d = x.d;
	if ((d->st == MC_ST_DATA || d->st == MC_ST_BODY) && d->cur.m && nbytes <= d->left) {
		d->left -= nbytes;
		d->lost = true;
		d->cur.m->bytes += nbytes;
		if (d->left == 0) {
			if (d->st == MC_ST_DATA)
				d->st = MC_ST_DATA_CR;
			else if (mc_body_complete(&x))
				goto drop;
		}
		return false;
	}
drop:
	mc_dir_reset(d);
	return true;
}

/* No more responses will come: queued binary quiet requests got none (status OK). */
static void mc_publish_quiet(struct conn *c)
{
	struct msg *m, *next;

	for (m = c->req_head; m; m = next) {
		next = m->next;
		if (m->quiet)
			corr_publish(c->pl, c->cfg, &c->flow, corr_take(c, m), NULL);
	}
}

static void mc_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct mc_conn *mc = c->pstate;

	if (mc)
		mc_dir_reset(&mc->dir[dir]);
	if (dir == DIR_S2C)
		mc_publish_quiet(c);
}

static const uint16_t mc_ports[] = { MC_DEFAULT_PORT };

const struct proto_ops memcache_ops = {
	.name = "memcache",
	.id = PROTO_MEMCACHE,
	.transports = XB_TRANSPORT_TCP | XB_TRANSPORT_UDP,
	.default_ports = mc_ports,
	.ndefault_ports = 1,
	.cfg_fields = mc_cfg_fields,
	.cfg_new = mc_cfg_new,
	.cfg_free = mc_cfg_free,
	.conn_new = mc_conn_new,
	.conn_free = mc_conn_free,
	.parse = mc_parse,
	.gap = mc_gap,
	.fin = mc_fin,
	.parse_udp = mc_parse_udp,
	.expire = mc_expire,
	.udp_timeout = mc_udp_timeout,
};
