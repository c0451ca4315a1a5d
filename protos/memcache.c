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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json_buf.h"
#include "memcache.h"

static const char *const type_names[] = {
	[MC_T_UNKNOWN] = "UNKNOWN",   [MC_T_LOAD] = "Load",
	[MC_T_STORE] = "Store",	      [MC_T_DELETE] = "Delete",
	[MC_T_COUNTER] = "Counter",   [MC_T_INFO] = "Info",
	[MC_T_SLABCTRL] = "SlabCtrl", [MC_T_LRUCRAWLER] = "LRUCrawler",
	[MC_T_STATS] = "Stats",	      [MC_T_SUCCESS] = "Success",
	[MC_T_FAIL] = "Fail",	      [MC_T_AUTH] = "Auth",
};

const char *mc_type_name(enum mc_type t)
{
	return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "UNKNOWN";
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

/* ---- decoded messages (msg.priv) ---- */

_Static_assert(MC_N_MAX <= 32 && MC_Q_MAX <= 8 && MC_S_MAX <= 8, "mc_event's has_* bitmasks are too narrow");

static void mc_event_free(void *p)
{
	struct mc_event *ev = p;

	if (!ev)
		return;
	free(ev->keys);
	free(ev->values);
	free(ev->stats);
	free(ev->text);
	free(ev);
}

/* What ev keeps besides its struct (msg.mem). */
static size_t mc_event_bytes(const struct mc_event *ev)
{
	return ev->text_cap + ev->keys_cap * sizeof(*ev->keys) + ev->values_cap * sizeof(*ev->values) +
	       ev->stats_cap * sizeof(*ev->stats);
}

/* Array p of *cap elements of size elem, grown (doubling from min) to hold need; NULL when out of memory. */
static void *mc_grow(void *p, size_t *cap, size_t need, size_t elem, size_t min)
{
	size_t n = *cap ? *cap : min;
	void *np;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	np = realloc(p, n * elem);
	if (np)
		*cap = n;
	return np;
}

/* Room for n more bytes of text and a NUL: where they go, or NULL. */
static char *mc_text_reserve(struct mc_event *ev, size_t n)
{
	char *t = mc_grow(ev->text, &ev->text_cap, ev->text_len + n + 1, 1, 64);

	if (!t)
		return NULL;
	ev->text = t;
	return t + ev->text_len;
}

/* A copy of n bytes in ev's text. */
static int mc_text_add(struct mc_event *ev, const void *s, size_t n, struct mc_span *sp)
{
	char *t = mc_text_reserve(ev, n);

	if (!t)
		return -ENOMEM;
	if (n)
		memcpy(t, s, n);
	sp->off = ev->text_len;
	sp->len = n;
	ev->text_len += n;
	return 0;
}

void mc_msg_drop(struct mc_msg *mm)
{
	msg_free(mm->m); /* and its mc_event */
	memset(mm, 0, sizeof(*mm));
}

int mc_msg_open(struct mc_ctx *x, bool binary)
{
	struct mc_msg *mm = &x->d->cur;
	struct mc_event *ev;

	mc_msg_drop(mm);
	ev = calloc(1, sizeof(*ev));
	mm->m = ev ? msg_new(x->ts) : NULL;
	if (!mm->m) {
		free(ev);
		return -ENOMEM;
	}
	/* every message gets its command and type before it is published */
	ev->command = ev->type = mc_type_name(MC_T_UNKNOWN);
	ev->binary = binary;
	msg_set_priv(mm->m, ev, mc_event_free, 0); /* msg.mem is set when it is finished */
	mm->ev = ev;
	return 0;
}

void mc_set_num(struct mc_msg *mm, enum mc_num id, int64_t v)
{
	mm->ev->num[id] = v;
	mm->ev->has_num |= 1u << id;
}

void mc_set_bool(struct mc_msg *mm, enum mc_bool id, bool v)
{
	mm->ev->has_bool |= (uint8_t)(1u << id);
	if (v)
		mm->ev->bools |= (uint8_t)(1u << id);
	else
		mm->ev->bools &= (uint8_t)(~(1u << id));
}

int mc_set_strn(struct mc_msg *mm, enum mc_str id, const void *s, size_t n)
{
	if (mc_text_add(mm->ev, s, n, &mm->ev->str[id]))
		return -ENOMEM;
	mm->ev->has_str |= (uint8_t)(1u << id);
	return 0;
}

int mc_add_key(struct mc_msg *mm, const void *key, size_t len)
{
	struct mc_event *ev = mm->ev;
	struct mc_span *k;

	if (ev->nkeys >= MC_LIST_MAX)
		return 0;
	k = mc_grow(ev->keys, &ev->keys_cap, ev->nkeys + 1, sizeof(*k), 4);
	if (!k)
		return -ENOMEM;
	ev->keys = k;
	if (mc_text_add(ev, key, len, &k[ev->nkeys]))
		return -ENOMEM;
	ev->nkeys++;
	return 0;
}

int mc_add_stat(struct mc_msg *mm, const void *name, size_t nlen, const void *value, size_t vlen)
{
	struct mc_event *ev = mm->ev;
	struct mc_stat *st;

	if (ev->nstats >= MC_LIST_MAX)
		return 0;
	st = mc_grow(ev->stats, &ev->stats_cap, ev->nstats + 1, sizeof(*st), 16);
	if (!st)
		return -ENOMEM;
	ev->stats = st;
	st += ev->nstats;
	if (mc_text_add(ev, name, nlen, &st->name) || mc_text_add(ev, value, vlen, &st->value))
		return -ENOMEM;
	ev->nstats++;
	return 0;
}

int mc_set_stat_value(struct mc_msg *mm, const void *value, size_t vlen)
{
	struct mc_event *ev = mm->ev;

	if (!ev->nstats)
		return 0;
	return mc_text_add(ev, value, vlen, &ev->stats[ev->nstats - 1].value);
}

/* A kept value, as base64. */
static int mc_add_value(struct mc_msg *mm, const uint8_t *data, size_t len)
{
	struct mc_event *ev = mm->ev;
	struct mc_span *v = mc_grow(ev->values, &ev->values_cap, ev->nvalues + 1, sizeof(*v), 4);
	char *t;

	if (!v)
		return -ENOMEM;
	ev->values = v;
	t = mc_text_reserve(ev, base64_len(len));
	if (!t)
		return -ENOMEM;
	v[ev->nvalues].off = ev->text_len;
	v[ev->nvalues].len = base64_encode(data, len, t);
	ev->text_len += v[ev->nvalues].len;
	ev->nvalues++;
	return 0;
}

/* event.action of each type: "memcache." and the type in lower case. */
static const char *const action_names[] = {
	[MC_T_UNKNOWN] = "memcache.unknown",   [MC_T_LOAD] = "memcache.load",
	[MC_T_STORE] = "memcache.store",       [MC_T_DELETE] = "memcache.delete",
	[MC_T_COUNTER] = "memcache.counter",   [MC_T_INFO] = "memcache.info",
	[MC_T_SLABCTRL] = "memcache.slabctrl", [MC_T_LRUCRAWLER] = "memcache.lrucrawler",
	[MC_T_STATS] = "memcache.stats",       [MC_T_SUCCESS] = "memcache.success",
	[MC_T_FAIL] = "memcache.fail",	       [MC_T_AUTH] = "memcache.auth",
};

void mc_set_command(struct mc_ctx *x, const char *command, enum mc_type type)
{
	struct mc_msg *mm = &x->d->cur;
	struct mc_event *ev = mm->ev;
	const char *act =
		action_names[(unsigned)type < sizeof(action_names) / sizeof(action_names[0]) ? type : MC_T_UNKNOWN];
	size_t i;

	ev->command = command;
	ev->type = mc_type_name(type);
	if (x->dir != DIR_C2S)
		return;
	for (i = 0; command[i] && i < sizeof(ev->method) - 1; i++)
		ev->method[i] = (char)toupper((unsigned char)command[i]);
	msg_text_set(&mm->m->method, ev->method, i);
	msg_text_set(&mm->m->action, act, strlen(act));
}

void mc_msg_finish(struct mc_ctx *x)
{
	struct mc_msg *mm = &x->d->cur;
	struct msg *m = mm->m;

	if (!m)
		return;
	if (mm->count_values || mm->agg == MC_A_VALUES) {
		mc_set_num(mm, MC_N_COUNT_VALUES, mm->count_values);
		mc_set_num(mm, MC_N_BYTES, (int64_t)mm->value_bytes);
	}
	m->ts_end = x->ts;
	m->bytes += x->unit;
	m->mem = mc_event_bytes(mm->ev); /* what it holds now that it is complete */
	x->unit = 0;
	mm->m = NULL;
	x->emit(x, m, mm);
	memset(mm, 0, sizeof(*mm));
}

/* ---- the event's memcache object (ops->write_fields) ---- */

static const char *const num_names[] = {
#define X(id, name) [MC_N_##id] = name,
	MC_NUM_LIST(X)
#undef X
};

static const char *const bool_names[] = {
#define X(id, name) [MC_Q_##id] = name,
	MC_BOOL_LIST(X)
#undef X
};

static const char *const str_names[] = {
#define X(id, name) [MC_S_##id] = name,
	MC_STR_LIST(X)
#undef X
};

static void write_span(struct json_buf *b, const struct mc_event *ev, const struct mc_span *sp)
{
	json_buf_strn(b, ev->text + sp->off, sp->len);
}

/* `,"key":["...",...]` of n spans. */
static void write_list(struct json_buf *b, const char *key, const struct mc_event *ev, const struct mc_span *sp,
		       size_t n)
{
	if (!n)
		return;
	json_buf_key(b, key, 0);
	for (size_t i = 0; i < n; i++) {
		json_buf_put(b, i ? "," : "[", 1);
		write_span(b, ev, &sp[i]);
	}
	json_buf_put(b, "]", 1);
}

static void write_stats(struct json_buf *b, const struct mc_event *ev)
{
	if (!ev->nstats)
		return;
	json_buf_key(b, "stats", 0);
	for (size_t i = 0; i < ev->nstats; i++) {
		json_buf_put(b, i ? ",{" : "[{", 2);
		json_buf_key(b, "name", 1);
		write_span(b, ev, &ev->stats[i].name);
		json_buf_key(b, "value", 0);
		write_span(b, ev, &ev->stats[i].value);
		json_buf_put(b, "}", 1);
	}
	json_buf_put(b, "]", 1);
}

static void write_automove(struct json_buf *b, int64_t v)
{
	static const char *const modes[] = { "standby", "slow", "aggressive" };
	char buf[24];

	if (v >= 0 && v < 3) {
		json_kv_cstr(b, "automove", modes[v]);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_kv_cstr(b, "automove", buf);
}

/* `,"request":{...}` or `,"response":{...}`: the members ev has. */
static void write_side(struct json_buf *b, const char *key, const struct mc_event *ev)
{
	json_kv_open(b, key, 0);
	json_buf_key(b, "command", 1); /* every message has one (mc_msg_open) */
	json_buf_strn(b, ev->command, strlen(ev->command));
	json_kv_cstr(b, "type", ev->type);
	json_kv_cstr(b, "opcode", ev->opcode);
	json_kv_cstr(b, "status", ev->status);
	for (int i = 0; i < MC_N_MAX; i++)
		if (ev->has_num & (1u << i))
			json_kv_i64(b, num_names[i], ev->num[i]);
	for (int i = 0; i < MC_Q_MAX; i++)
		if (ev->has_bool & (1u << i))
			json_kv_bool(b, bool_names[i], ev->bools & (1u << i));
	for (int i = 0; i < MC_S_MAX; i++)
		if (ev->has_str & (1u << i))
			json_kv_str(b, str_names[i], ev->text + ev->str[i].off, ev->str[i].len);
	if (ev->has_automove)
		write_automove(b, ev->automove);
	write_list(b, "keys", ev, ev->keys, ev->nkeys);
	write_list(b, "values", ev, ev->values, ev->nvalues);
	write_stats(b, ev);
	json_buf_put(b, "}", 1);
}

/*
 * memcache.protocol_type, memcache.request from the request, memcache.response
 * from the response (the response's protocol_type when both have one).
 */
static int mc_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			   const struct msg *resp)
{
	const struct mc_event *q = req ? req->priv : NULL, *r = resp ? resp->priv : NULL;

	if (!q && !r)
		return b->err;
	json_kv_open(b, "memcache", 0);
	json_buf_key(b, "protocol_type", 1);
	json_buf_puts(b, (r ? r : q)->binary ? "\"binary\"" : "\"text\"");
	if (q)
		write_side(b, "request", q);
	if (r)
		write_side(b, "response", r);
	json_buf_put(b, "}", 1);
	return b->err;
}

/* ---- values ---- */

static bool mc_keep_value(const struct mc_ctx *x)
{
	const struct mc_msg *mm = &x->d->cur;
	int64_t maxv = x->cfg->maxvalues;

	if (maxv == 0 || mm->kept_bytes >= MC_VALUES_TOTAL_MAX)
		return false;
	return maxv < 0 || (int64_t)(mm->ev ? mm->ev->nvalues : 0) < maxv;
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

	if (d->body != MC_B_VALUE || d->lost || !d->keep || !mm->m)
		return 0;
	if (mc_add_value(mm, d->cap, d->cap_len))
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
	if (x->d->scanned > 0 && x->d->scanned <= len)
		r.pos = x->d->scanned;
	/* CRLF or a bare LF, as memcached accepts on command lines */
	n = rd_line_lf(&r, &line);
	if (n < 0) {
		x->d->scanned = len;
		return len > MC_LINE_MAX ? -EINVAL : 0;
	}
	line = p;
	n = (long)(r.pos - 1);
	if (n > 0 && p[n - 1] == '\r')
		n--;
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

/* The first key of a message, or NULL. */
static const struct mc_span *mc_first_key(const struct mc_event *ev)
{
	return ev && ev->nkeys ? &ev->keys[0] : NULL;
}

/* Same key, when both carry one. */
static bool mc_key_compatible(const struct mc_event *a, const struct mc_event *b)
{
	const struct mc_span *ka = mc_first_key(a), *kb = mc_first_key(b);

	if (!ka || !kb)
		return true;
	return ka->len == kb->len && memcmp(a->text + ka->off, b->text + kb->off, ka->len) == 0;
}

/* The response being paired, as the predicates see it. */
struct mc_answer {
	const struct mc_msg *mm;
	const struct mc_event *ev;
};

/*
 * A binary response answers the first queued request with the same opcode,
 * opaque (and key, when both carry one), or a text one.
 */
static bool mc_bin_answers(const struct msg *req, const void *arg)
{
	const struct mc_answer *a = arg;
	const struct mc_event *q = req->priv;

	if (!q || !q->binary)
		return true;
	if ((uint8_t)q->num[MC_N_OPCODE_VALUE] != a->mm->opcode || (uint32_t)q->num[MC_N_OPAQUE] != a->mm->opaque)
		return false;
	return mc_key_compatible(q, a->ev);
}

/* Can meta reply r answer the quiet meta request q? */
static bool mc_meta_answers(const struct mc_event *q, const struct mc_event *r)
{
	const struct mc_meta *qm = &q->meta, *rm = &r->meta;
	bool get = strcmp(qm->code, "mg") == 0;

	if (rm->error)
		return true;
	if (!rm->code[0] || strcmp(rm->code, "MN") == 0 || strcmp(rm->code, "ME") == 0 || strcmp(rm->code, "EN") == 0)
		return false;
	/* q hides EN for mg, HD for ms/md and HD/VA for ma */
	if ((strcmp(rm->code, "VA") == 0 || strcmp(rm->code, "HD") == 0) != get)
		return false;
	/* the server echoes O (and k) only when asked: a reply carrying them names its request */
	if (rm->opaque_len && (qm->opaque_len != rm->opaque_len || memcmp(qm->opaque, rm->opaque, qm->opaque_len) != 0))
		return false;
	return mc_key_compatible(q, r);
}

/*
 * A text reply answers the oldest request, except that quiet meta requests
 * it cannot answer are passed over (the server said nothing for them: OK).
 */
static bool mc_text_answers(const struct msg *req, const void *arg)
{
	const struct mc_answer *a = arg;
	const struct mc_event *q = req->priv;

	if (!req->quiet || !q || !q->meta.code[0])
		return true;
	return mc_meta_answers(q, a->ev);
}

/*
 * Requests before the one a response answers got no response: quiet ones
 * are published alone (status OK), others lost theirs (Server Error). A
 * response that answers nothing queued is counted and published alone
 * (Client Error), as Packetbeat does.
 */
static void mc_tcp_emit(struct mc_ctx *x, struct msg *m, const struct mc_msg *mm)
{
	struct conn *c = x->arg;
	struct mc_answer a = { .mm = mm, .ev = m->priv };

	if (x->dir == DIR_C2S)
		corr_request(c, m);
	else
		corr_answer(c, m, a.ev && a.ev->binary ? mc_bin_answers : mc_text_answers, &a);
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

/*
 * n bytes of the open value or body went by unread (lost or skipped): the
 * message counts them, the value is not kept past them. 0, or -EINVAL when
 * the body they end cannot be completed.
 */
static int mc_pass(struct mc_ctx *x, size_t n)
{
	struct mc_dir *d = x->d;

	d->left -= n;
	d->cur.m->bytes += n;
	d->cur.lost_bytes += n; /* not delivered: not part of what pending says it holds */
	if (d->left)
		return 0;
	if (d->st == MC_ST_DATA)
		d->st = MC_ST_DATA_CR;
	else if (mc_body_complete(x))
		return -EINVAL;
	return 0;
}

static bool in_value(const struct mc_dir *d, size_t n)
{
	return (d->st == MC_ST_DATA || d->st == MC_ST_BODY) && d->cur.m && n <= d->left;
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
	if (in_value(d, nbytes)) {
		if (!d->lost)
			msg_note(d->cur.m, dir == DIR_C2S ? "Packet loss while capturing the request"
							  : "Packet loss while capturing the response");
		d->lost = true;
		if (!mc_pass(&x, nbytes))
			return false;
	}
	mc_dir_reset(d);
	return true;
}

/* Heads-only: the rest of a value or body once the part kept is in (all of it when none is kept). */
static uint64_t mc_skippable(struct conn *c, enum dir dir)
{
	const struct mc_conn *mc = c->pstate;
	const struct mc_dir *d = mc ? &mc->dir[dir] : NULL;

	return d && in_value(d, 0) && d->cap_len >= d->cap_want ? d->left : 0;
}

/* n bytes of what mc_skippable announced went by uncopied: counted as read, no note. */
static bool mc_skip(struct conn *c, enum dir dir, size_t n, uint64_t ts)
{
	struct mc_ctx x;

	if (!mc_skippable(c, dir) || n > mc_skippable(c, dir))
		return false;
	mc_tcp_ctx(&x, c, dir, ts);
	if (!mc_pass(&x, n))
		return true;
	mc_dir_reset(x.d);
	return false;
}

/* No more responses will come: queued quiet requests got none (status OK). */
static bool mc_is_quiet(const struct msg *req, const void *arg)
{
	return req->quiet;
}

static void mc_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	if (dir == DIR_S2C)
		corr_give_up(c, mc_is_quiet, NULL);
}

/* Bytes taken into the open message of dir (its lines and values so far). */
static uint64_t mc_pending(const struct conn *c, enum dir dir)
{
	const struct mc_conn *mc = c->pstate;
	const struct mc_msg *mm = mc ? &mc->dir[dir].cur : NULL;

	return mm && mm->m ? mm->m->bytes - mm->lost_bytes : 0;
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
	.pending = mc_pending,
	.skippable = mc_skippable,
	.skip = mc_skip,
	.parse_udp = mc_parse_udp,
	.expire = mc_expire,
	.udp_timeout = mc_udp_timeout,
	.write_fields = mc_write_fields,
	.event_keys = (const char *const[]){ "memcache", NULL },
	/* Packetbeat's statuses and notes for half transactions */
	.publish_unmatched = true,
	.note_unanswered = "Unfinished transaction",
	.note_unmatched = "Invalid transaction. Request missing",
	.note_skipped = "Missing response for non-quiet request",
	.unanswered_status = MSG_SERVER_ERROR,
	.unmatched_status = MSG_CLIENT_ERROR,
};
