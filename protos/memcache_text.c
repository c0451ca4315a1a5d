/*
 * Memcache text protocol: command lines from the client ("set k 0 0 5"),
 * reply lines from the server ("STORED", "VALUE k 0 5", "END", ...).
 * Data blocks are consumed by the state machine in memcache.c.
 *
 * Also the meta commands of memcached 1.6 (mg, ms, md, ma, mn, me) and their
 * two-letter replies (VA, HD, EN, NF, NS, EX, MN, ME). Packetbeat has no meta
 * support; they are classified as their classic analogues (mg ~ get: Load,
 * ms ~ set: Store, md ~ delete: Delete, ma ~ incr: Counter, mn ~ noop and
 * me: Info), keep their own command name, and the meta flags that map onto
 * classic fields fill them (F flags, T exptime, C cas_unique, D delta,
 * J initial, a numeric O opaque); the flags as sent are raw_args. Base64 keys
 * (b flag) are recorded as sent.
 */
#include <errno.h>
#include <string.h>

#include "memcache.h"

#define MC_TOK_MAX (MC_LIST_MAX + 8)
/* memcached reads a data block length as a 32-bit int: anything larger is not memcache */
#define MC_TEXT_BYTES_MAX 0x7fffffffull

struct mc_tok {
	const uint8_t *p;
	size_t n;
};

struct mc_line {
	const uint8_t *line;
	size_t len;
	struct mc_tok t[MC_TOK_MAX];
	size_t nt;
};

/* Split on spaces; tokens past MC_TOK_MAX are ignored. */
static void mc_tokenize(struct mc_line *l, const uint8_t *line, size_t len)
{
	size_t i = 0;

	l->line = line;
	l->len = len;
	l->nt = 0;
	while (i < len && l->nt < MC_TOK_MAX) {
		size_t start;

		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		l->t[l->nt].p = line + start;
		l->t[l->nt].n = i - start;
		l->nt++;
	}
}

static bool tok_is(const struct mc_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && memcmp(t->p, s, n) == 0;
}

static bool tok_u64(const struct mc_tok *t, uint64_t *v)
{
	uint64_t x = 0;

	if (t->n == 0 || t->n > 20)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		unsigned d = (unsigned)t->p[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool tok_i64(const struct mc_tok *t, int64_t *v)
{
	struct mc_tok u = *t;
	uint64_t x;
	bool neg = u.n > 0 && u.p[0] == '-';

	if (neg) {
		u.p++;
		u.n--;
	}
	if (!tok_u64(&u, &x) || x > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? -(int64_t)x : (int64_t)x;
	return true;
}

/* Rest of the line after token i (with its leading spaces removed). */
static void rest_after(const struct mc_line *l, size_t i, const uint8_t **p, size_t *n)
{
	const uint8_t *s = l->t[i].p + l->t[i].n;
	const uint8_t *end = l->line + l->len;

	while (s < end && *s == ' ')
		s++;
	*p = s;
	*n = (size_t)(end - s);
}

/* ---- requests ---- */

enum mc_args {
	A_NONE,
	A_KEYS, /* <key>* */
	A_GAT, /* <exptime> <key>* */
	A_STORE, /* <key> <flags> <exptime> <bytes> [noreply] + data */
	A_CAS, /* <key> <flags> <exptime> <bytes> <cas unique> [noreply] + data */
	A_COUNTER, /* <key> <delta> [noreply] */
	A_TOUCH, /* <key> <exptime> [noreply] */
	A_DELETE, /* <key> [0] [noreply] */
	A_FLUSH, /* [exptime] [noreply] */
	A_RAW, /* stats <args> */
	A_VERBOSITY, /* <level> [noreply] */
	A_QUIT,
	A_SLABS,
	A_LRU,
	A_META, /* mg, ms, md, ma, mn, me */
};

struct mc_textcmd {
	const char *name;
	enum mc_type type;
	enum mc_args args;
};

static const struct mc_textcmd req_cmds[] = {
	{ "get", MC_T_LOAD, A_KEYS },
	{ "gets", MC_T_LOAD, A_KEYS },
	{ "gat", MC_T_LOAD, A_GAT },
	{ "gats", MC_T_LOAD, A_GAT },
	{ "set", MC_T_STORE, A_STORE },
	{ "add", MC_T_STORE, A_STORE },
	{ "replace", MC_T_STORE, A_STORE },
	{ "append", MC_T_STORE, A_STORE },
	{ "prepend", MC_T_STORE, A_STORE },
	{ "cas", MC_T_STORE, A_CAS },
	{ "incr", MC_T_COUNTER, A_COUNTER },
	{ "decr", MC_T_COUNTER, A_COUNTER },
	{ "touch", MC_T_STORE, A_TOUCH },
	{ "delete", MC_T_DELETE, A_DELETE },
	{ "flush_all", MC_T_DELETE, A_FLUSH },
	{ "stats", MC_T_STATS, A_RAW },
	{ "verbosity", MC_T_INFO, A_VERBOSITY },
	{ "version", MC_T_INFO, A_NONE },
	{ "quit", MC_T_INFO, A_QUIT },
	{ "slabs", MC_T_SLABCTRL, A_SLABS },
	{ "lru_crawler", MC_T_LRUCRAWLER, A_LRU },
	{ "mg", MC_T_LOAD, A_META },
	{ "ms", MC_T_STORE, A_META },
	{ "md", MC_T_DELETE, A_META },
	{ "ma", MC_T_COUNTER, A_META },
	{ "mn", MC_T_INFO, A_META },
	{ "me", MC_T_INFO, A_META },
};

static const struct mc_textcmd *find_cmd(const struct mc_textcmd *tab, size_t n, const struct mc_tok *t)
{
	for (size_t i = 0; i < n; i++)
		if (tok_is(t, tab[i].name))
			return &tab[i];
	return NULL;
}

/* "noreply" as one of the tokens from i on. */
static int opt_noreply(struct mc_ctx *x, const struct mc_line *l, size_t i, bool field)
{
	bool nr = false;

	for (; i < l->nt; i++)
		if (tok_is(&l->t[i], "noreply"))
			nr = true;
	x->d->cur.m->noreply = nr;
	if (field)
		mc_set_bool(&x->d->cur, MC_Q_NOREPLY, nr);
	return 0;
}

/* Token i as an unsigned number (past INT64_MAX it wraps, as before) into member id. */
static int set_num(struct mc_ctx *x, const struct mc_line *l, size_t i, enum mc_num id)
{
	uint64_t v;

	if (i >= l->nt || !tok_u64(&l->t[i], &v))
		return -EINVAL;
	mc_set_num(&x->d->cur, id, (int64_t)v);
	return 0;
}

static int set_inum(struct mc_ctx *x, const struct mc_line *l, size_t i, enum mc_num id)
{
	int64_t v;

	if (i >= l->nt || !tok_i64(&l->t[i], &v))
		return -EINVAL;
	mc_set_num(&x->d->cur, id, v);
	return 0;
}

static int add_keys(struct mc_ctx *x, const struct mc_line *l, size_t from)
{
	if (from >= l->nt)
		return -EINVAL;
	for (size_t i = from; i < l->nt; i++)
		if (mc_add_key(&x->d->cur, l->t[i].p, l->t[i].n))
			return -ENOMEM;
	return 0;
}

static int add_key(struct mc_ctx *x, const struct mc_line *l, size_t i)
{
	if (i >= l->nt)
		return -EINVAL;
	return mc_add_key(&x->d->cur, l->t[i].p, l->t[i].n);
}

static int req_store(struct mc_ctx *x, const struct mc_line *l, bool cas)
{
	uint64_t bytes;
	size_t nr = cas ? 6 : 5;

	if (l->nt < nr || !tok_u64(&l->t[4], &bytes) || bytes > MC_TEXT_BYTES_MAX)
		return -EINVAL;
	if (add_key(x, l, 1) || set_num(x, l, 2, MC_N_FLAGS) || set_inum(x, l, 3, MC_N_EXPTIME))
		return -EINVAL;
	mc_set_num(&x->d->cur, MC_N_BYTES, (int64_t)bytes);
	if ((cas && set_num(x, l, 5, MC_N_CAS_UNIQUE)) || opt_noreply(x, l, nr, true))
		return -EINVAL;
	mc_begin_value(x, MC_ST_DATA, bytes, MC_B_VALUE);
	return 0;
}

static int req_raw(struct mc_ctx *x, const struct mc_line *l, size_t i)
{
	const uint8_t *p = l->line + l->len;
	size_t n = 0;

	if (i < l->nt)
		rest_after(l, i - 1, &p, &n);
	return mc_set_strn(&x->d->cur, MC_S_RAW_ARGS, p, n);
}

static int req_unknown(struct mc_ctx *x, const struct mc_line *l)
{
	if (!x->cfg->parseunknown)
		return -EINVAL;
	mc_set_command(x, "UNKNOWN", MC_T_UNKNOWN);
	return mc_set_strn(&x->d->cur, MC_S_LINE, l->line, l->len);
}

static int req_slabs(struct mc_ctx *x, const struct mc_line *l)
{
	int64_t v;

	if (l->nt >= 4 && tok_is(&l->t[1], "reassign")) {
		mc_set_command(x, "slabs reassign", MC_T_SLABCTRL);
		return set_inum(x, l, 2, MC_N_SOURCE_CLASS) || set_inum(x, l, 3, MC_N_DEST_CLASS) ? -EINVAL : 0;
	}
	if (l->nt >= 3 && tok_is(&l->t[1], "automove")) {
		if (!tok_i64(&l->t[2], &v))
			return -EINVAL;
		mc_set_command(x, "slabs automove", MC_T_SLABCTRL);
		x->d->cur.ev->has_automove = true; /* written as its mode name */
		x->d->cur.ev->automove = v;
		return 0;
	}
	return req_unknown(x, l);
}

static int req_lru(struct mc_ctx *x, const struct mc_line *l)
{
	static const char *const subs[] = { "enable", "disable", "sleep", "tocrawl", "crawl" };
	static const char *const cmds[] = { "lru_crawler enable", "lru_crawler disable", "lru_crawler sleep",
					    "lru_crawler tocrawl", "lru_crawler crawl" };
	size_t i;

	if (l->nt < 2)
		return req_unknown(x, l);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (tok_is(&l->t[1], subs[i]))
			break;
	if (i == sizeof(subs) / sizeof(subs[0]))
		return req_unknown(x, l);
	mc_set_command(x, cmds[i], MC_T_LRUCRAWLER);
	if (i == 2)
		return set_num(x, l, 2, MC_N_SLEEP_US);
	if (i == 3)
		return set_num(x, l, 2, MC_N_VALUE);
	if (i == 4)
		return req_raw(x, l, 2);
	return 0;
}

/* ---- meta commands ---- */

/* Member id from the value of flag t when it is a number up to max (a malformed one is left to the server). */
static void meta_num(struct mc_msg *mm, const struct mc_tok *t, enum mc_num id, uint64_t max)
{
	struct mc_tok v = { t->p + 1, t->n - 1 };
	uint64_t u;

	if (tok_u64(&v, &u) && u <= max)
		mc_set_num(mm, id, (int64_t)u);
}

/* O: the token is kept for pairing; only a uint32 becomes "opaque" (meta opaque tokens are free strings). */
static void meta_opaque(struct mc_msg *mm, const struct mc_tok *t)
{
	size_t n = t->n - 1 < MC_OPAQUE_MAX ? t->n - 1 : MC_OPAQUE_MAX;

	memcpy(mm->ev->meta.opaque, t->p + 1, n);
	mm->ev->meta.opaque_len = (uint8_t)n;
	meta_num(mm, t, MC_N_OPAQUE, UINT32_MAX);
}

/* One request flag: those with a classic field fill it; a malformed token is left to the server. */
static int meta_req_flag(struct mc_ctx *x, const struct mc_tok *t)
{
	struct mc_msg *mm = &x->d->cur;
	struct mc_tok v = { t->p + 1, t->n - 1 };
	int64_t i;

	switch (t->p[0]) {
	case 'q':
		mm->ev->meta.quiet = true;
		break;
	case 'O':
		meta_opaque(mm, t);
		break;
	case 'F':
		meta_num(mm, t, MC_N_FLAGS, UINT32_MAX);
		break;
	case 'T':
		if (tok_i64(&v, &i))
			mc_set_num(mm, MC_N_EXPTIME, i);
		break;
	case 'C':
		meta_num(mm, t, MC_N_CAS_UNIQUE, UINT64_MAX);
		break;
	case 'D':
		meta_num(mm, t, MC_N_DELTA, UINT64_MAX);
		break;
	case 'J':
		meta_num(mm, t, MC_N_INITIAL, UINT64_MAX);
		break;
	}
	return 0;
}

/*
 * mg <key> <flags>*, ms <key> <datalen> <flags>* + data, md/ma <key> <flags>*,
 * me <key> [b], mn. Without a key (the server answers an error) the request has none.
 */
static int req_meta(struct mc_ctx *x, const struct mc_line *l)
{
	struct mc_msg *mm = &x->d->cur;
	bool store = tok_is(&l->t[0], "ms"), flags = !tok_is(&l->t[0], "me");
	size_t first = 2;
	uint64_t bytes = 0;
	bool data = false;

	memcpy(mm->ev->meta.code, l->t[0].p, 2);
	if (tok_is(&l->t[0], "mn"))
		return 0;
	if (l->nt > 1 && add_key(x, l, 1))
		return -ENOMEM;
	if (store && l->nt > 2 && tok_u64(&l->t[2], &bytes)) {
		if (bytes > MC_TEXT_BYTES_MAX)
			return -EINVAL;
		data = true;
		first = 3;
	}
	for (size_t i = first; flags && i < l->nt; i++)
		if (meta_req_flag(x, &l->t[i]))
			return -ENOMEM;
	if (first < l->nt && req_raw(x, l, first))
		return -ENOMEM;
	if (flags) {
		mm->quiet = mm->ev->meta.quiet;
		mm->m->quiet = mm->quiet;
		mc_set_bool(mm, MC_Q_QUIET, mm->quiet);
	}
	if (data) {
		mc_set_num(mm, MC_N_BYTES, (int64_t)bytes);
		mc_begin_value(x, MC_ST_DATA, bytes, MC_B_VALUE);
	}
	return 0;
}

static int req_args(struct mc_ctx *x, const struct mc_textcmd *c, const struct mc_line *l)
{
	switch (c->args) {
	case A_NONE:
		return 0;
	case A_KEYS:
		return add_keys(x, l, 1);
	case A_GAT:
		return set_inum(x, l, 1, MC_N_EXPTIME) || add_keys(x, l, 2) ? -EINVAL : 0;
	case A_STORE:
		return req_store(x, l, false);
	case A_CAS:
		return req_store(x, l, true);
	case A_COUNTER:
		return add_key(x, l, 1) || set_num(x, l, 2, MC_N_DELTA) || opt_noreply(x, l, 3, true) ? -EINVAL : 0;
	case A_TOUCH:
		return add_key(x, l, 1) || set_inum(x, l, 2, MC_N_EXPTIME) || opt_noreply(x, l, 3, true) ? -EINVAL : 0;
	case A_DELETE:
		return add_key(x, l, 1) || opt_noreply(x, l, 2, true) ? -EINVAL : 0;
	case A_FLUSH:
		if (l->nt > 1 && !tok_is(&l->t[1], "noreply") && set_inum(x, l, 1, MC_N_EXPTIME))
			return -EINVAL;
		return opt_noreply(x, l, 1, true);
	case A_RAW:
		return req_raw(x, l, 1);
	case A_VERBOSITY:
		return set_num(x, l, 1, MC_N_VERBOSITY) || opt_noreply(x, l, 2, true) ? -EINVAL : 0;
	case A_QUIT:
		/* the server closes the connection: nothing to wait for */
		x->d->cur.m->noreply = true;
		return 0;
	case A_SLABS:
		return req_slabs(x, l);
	case A_LRU:
		return req_lru(x, l);
	case A_META:
		return req_meta(x, l);
	}
	return -EINVAL;
}

static int text_request(struct mc_ctx *x, const struct mc_line *l)
{
	const struct mc_textcmd *c = l->nt ? find_cmd(req_cmds, sizeof(req_cmds) / sizeof(req_cmds[0]), &l->t[0])
					   : NULL;
	int err;

	if (!c && !x->cfg->parseunknown)
		return -EINVAL;
	if (mc_msg_open(x, false))
		return -ENOMEM;
	if (!c) {
		err = req_unknown(x, l);
	} else if (c->args == A_SLABS || c->args == A_LRU) {
		err = req_args(x, c, l); /* the subcommand names it */
	} else {
		mc_set_command(x, c->name, c->type);
		err = req_args(x, c, l);
	}
	if (err)
		return err;
	if (x->d->st == MC_ST_CMD)
		mc_msg_finish(x);
	return 0;
}

/* ---- responses ---- */

struct mc_textresp {
	const char *name;
	enum mc_type type;
	enum msg_status status;
	bool msg; /* rest of the line is an error message */
};

static const struct mc_textresp resp_simple[] = {
	{ "STORED", MC_T_SUCCESS, MSG_OK, false },
	{ "EXISTS", MC_T_SUCCESS, MSG_OK, false },
	{ "TOUCHED", MC_T_SUCCESS, MSG_OK, false },
	{ "DELETED", MC_T_SUCCESS, MSG_OK, false },
	{ "OK", MC_T_SUCCESS, MSG_OK, false },
	{ "RESET", MC_T_SUCCESS, MSG_OK, false },
	{ "NOT_STORED", MC_T_FAIL, MSG_ERROR, false },
	{ "NOT_FOUND", MC_T_FAIL, MSG_ERROR, false },
	{ "ERROR", MC_T_FAIL, MSG_ERROR, true },
	{ "CLIENT_ERROR", MC_T_FAIL, MSG_CLIENT_ERROR, true },
	{ "SAME", MC_T_FAIL, MSG_CLIENT_ERROR, true },
	{ "SERVER_ERROR", MC_T_FAIL, MSG_SERVER_ERROR, true },
	{ "BUSY", MC_T_FAIL, MSG_SERVER_ERROR, true },
	{ "BADCLASS", MC_T_FAIL, MSG_SERVER_ERROR, true },
	{ "NOSPARE", MC_T_FAIL, MSG_SERVER_ERROR, true },
	{ "NOTFULL", MC_T_FAIL, MSG_SERVER_ERROR, true },
	{ "UNSAFE", MC_T_FAIL, MSG_SERVER_ERROR, true },
};

/* Publish the open VALUE/STAT aggregate that a different reply interrupts. */
static void flush_open(struct mc_ctx *x)
{
	size_t unit = x->unit;

	if (!x->d->cur.m)
		return;
	x->unit = 0;
	mc_msg_finish(x);
	x->unit = unit;
}

/* Continue the open aggregate of kind agg, or start one. */
static int open_agg(struct mc_ctx *x, enum mc_agg agg, const char *command, enum mc_type type)
{
	if (x->d->cur.m && x->d->cur.agg == agg)
		return 0;
	flush_open(x);
	if (mc_msg_open(x, false))
		return -ENOMEM;
	mc_set_command(x, command, type);
	x->d->cur.agg = agg;
	return 0;
}

static int resp_value(struct mc_ctx *x, const struct mc_line *l)
{
	uint64_t bytes;

	if (l->nt < 4 || !tok_u64(&l->t[3], &bytes) || bytes > MC_TEXT_BYTES_MAX)
		return -EINVAL;
	if (open_agg(x, MC_A_VALUES, "VALUE", MC_T_LOAD))
		return -ENOMEM;
	if (add_key(x, l, 1) || set_num(x, l, 2, MC_N_FLAGS) || (l->nt > 4 && set_num(x, l, 4, MC_N_CAS_UNIQUE)))
		return -EINVAL;
	mc_begin_value(x, MC_ST_DATA, bytes, MC_B_VALUE);
	return 0;
}

static int resp_stat(struct mc_ctx *x, const struct mc_line *l)
{
	const uint8_t *v = l->line + l->len;
	size_t vn = 0;

	if (l->nt < 2)
		return -EINVAL;
	if (l->nt > 2)
		rest_after(l, 1, &v, &vn);
	if (open_agg(x, MC_A_STATS, "STAT", MC_T_STATS))
		return -ENOMEM;
	return mc_add_stat(&x->d->cur, l->t[1].p, l->t[1].n, v, vn);
}

static int resp_single(struct mc_ctx *x, const char *command, enum mc_type type, enum msg_status status)
{
	flush_open(x);
	if (mc_msg_open(x, false))
		return -ENOMEM;
	mc_set_command(x, command, type);
	x->d->cur.m->status = status;
	return 0;
}

static int resp_other(struct mc_ctx *x, const struct mc_line *l)
{
	const struct mc_tok *t = &l->t[0];
	const uint8_t *p;
	size_t n;
	uint64_t v;

	for (size_t i = 0; i < sizeof(resp_simple) / sizeof(resp_simple[0]); i++) {
		const struct mc_textresp *r = &resp_simple[i];

		if (!tok_is(t, r->name))
			continue;
		if (resp_single(x, r->name, r->type, r->status))
			return -ENOMEM;
		x->d->cur.ev->meta.error = r->msg;
		if (r->msg && l->nt > 1) {
			rest_after(l, 0, &p, &n);
			return mc_set_strn(&x->d->cur, MC_S_ERROR_MSG, p, n);
		}
		return 0;
	}
	if (tok_is(t, "VERSION")) {
		rest_after(l, 0, &p, &n);
		return resp_single(x, "VERSION", MC_T_INFO, MSG_OK) || mc_set_strn(&x->d->cur, MC_S_VERSION, p, n)
			       ? -ENOMEM
			       : 0;
	}
	if (tok_u64(t, &v)) {
		if (resp_single(x, "<counter_op_res>", MC_T_COUNTER, MSG_OK))
			return -ENOMEM;
		mc_set_num(&x->d->cur, MC_N_VALUE, (int64_t)v);
		return 0;
	}
	if (!x->cfg->parseunknown)
		return -EINVAL;
	if (resp_single(x, "UNKNOWN", MC_T_UNKNOWN, MSG_OK))
		return -ENOMEM;
	return mc_set_strn(&x->d->cur, MC_S_LINE, l->line, l->len);
}

/*
 * Meta replies. EN is a miss (OK, as the classic END); NF, NS and EX
 * (not found, not stored, CAS mismatch) are errors.
 */
static const struct mc_textresp resp_meta[] = {
	{ "VA", MC_T_LOAD, MSG_OK, false },    { "HD", MC_T_SUCCESS, MSG_OK, false },
	{ "EN", MC_T_LOAD, MSG_OK, false },    { "NF", MC_T_FAIL, MSG_ERROR, false },
	{ "NS", MC_T_FAIL, MSG_ERROR, false }, { "EX", MC_T_FAIL, MSG_ERROR, false },
	{ "MN", MC_T_SUCCESS, MSG_OK, false }, { "ME", MC_T_INFO, MSG_OK, false },
};

/* One reply flag: k (key), O (opaque), f (client flags), c (cas); the others are not recorded. */
static int meta_resp_flag(struct mc_ctx *x, const struct mc_tok *t)
{
	struct mc_msg *mm = &x->d->cur;

	switch (t->p[0]) {
	case 'k':
		return mc_add_key(mm, t->p + 1, t->n - 1);
	case 'O':
		meta_opaque(mm, t);
		break;
	case 'f':
		meta_num(mm, t, MC_N_FLAGS, UINT32_MAX);
		break;
	case 'c':
		meta_num(mm, t, MC_N_CAS_UNIQUE, UINT64_MAX);
		break;
	}
	return 0;
}

/* ME <key> <name>=<value>*: the item's internals as stats. */
static int resp_me(struct mc_ctx *x, const struct mc_line *l)
{
	if (l->nt > 1 && add_key(x, l, 1))
		return -ENOMEM;
	for (size_t i = 2; i < l->nt; i++) {
		const uint8_t *eq = memchr(l->t[i].p, '=', l->t[i].n);
		size_t nn = eq ? (size_t)(eq - l->t[i].p) : l->t[i].n;

		if (mc_add_stat(&x->d->cur, l->t[i].p, nn, eq ? eq + 1 : (const uint8_t *)"",
				eq ? l->t[i].n - nn - 1 : 0))
			return -ENOMEM;
	}
	return 0;
}

/* A meta reply (r); VA starts its data block. */
static int resp_meta_line(struct mc_ctx *x, const struct mc_line *l, const struct mc_textresp *r)
{
	struct mc_msg *mm = &x->d->cur;
	bool va = r->name[0] == 'V';
	uint64_t bytes = 0;

	if (va && (l->nt < 2 || !tok_u64(&l->t[1], &bytes) || bytes > MC_TEXT_BYTES_MAX))
		return -EINVAL;
	if (resp_single(x, r->name, r->type, r->status))
		return -ENOMEM;
	memcpy(mm->ev->meta.code, r->name, 2);
	if (r->type == MC_T_INFO)
		return resp_me(x, l);
	for (size_t i = va ? 2 : 1; i < l->nt; i++)
		if (meta_resp_flag(x, &l->t[i]))
			return -ENOMEM;
	if (va)
		mc_begin_value(x, MC_ST_DATA, bytes, MC_B_VALUE);
	return 0;
}

static const struct mc_textresp *find_meta_resp(const struct mc_tok *t)
{
	for (size_t i = 0; i < sizeof(resp_meta) / sizeof(resp_meta[0]); i++)
		if (tok_is(t, resp_meta[i].name))
			return &resp_meta[i];
	return NULL;
}

static int text_response(struct mc_ctx *x, const struct mc_line *l)
{
	const struct mc_textresp *meta;
	int err;

	if (l->nt == 0)
		return -EINVAL;
	if (tok_is(&l->t[0], "VALUE"))
		return resp_value(x, l);
	if (tok_is(&l->t[0], "STAT"))
		return resp_stat(x, l);
	if (tok_is(&l->t[0], "END")) {
		if (!x->d->cur.m) {
			if (mc_msg_open(x, false))
				return -ENOMEM;
			mc_set_command(x, "END", MC_T_LOAD);
		}
		mc_msg_finish(x);
		return 0;
	}
	meta = find_meta_resp(&l->t[0]);
	err = meta ? resp_meta_line(x, l, meta) : resp_other(x, l);
	if (!err && x->d->st == MC_ST_CMD)
		mc_msg_finish(x);
	return err;
}

int mc_text_line(struct mc_ctx *x, const uint8_t *line, size_t len)
{
	static __thread struct mc_line l;

	mc_tokenize(&l, line, len);
	if (x->dir == DIR_C2S)
		return text_request(x, &l);
	return text_response(x, &l);
}
