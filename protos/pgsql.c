/*
 * PostgreSQL (frontend/backend protocol v3) over TCP, after Packetbeat's
 * pgsql module: one event per statement of a simple Query and one per
 * Execute of the extended protocol, with method (the statement's first
 * keyword), query, pgsql.num_rows / num_fields, and for an ErrorResponse
 * status Error with pgsql.error_code / error_message / error_severity;
 * send_request / send_response publish the statement and the result as CSV
 * (its first max_rows rows, max_row_length bytes of values each), as
 * Packetbeat does.
 *
 * Past Packetbeat: a multi-statement Query makes one transaction per
 * answer the server gives (CommandComplete, EmptyQueryResponse or
 * ErrorResponse; the statements an error cancels make none), named by the
 * statement texts a lexer that knows literals and comments finds
 * (pgsql_sql.c); Packetbeat splits at every ';'. Statements and portals of
 * the extended protocol are kept per connection (bounded), so an Execute
 * carries its statement's query and its bound parameters (params); several
 * Executes before one Sync (pipeline mode) pair one by one with their
 * results, and after an error the Executes the server skips up to the Sync
 * are published without a response and a note. The user, database and
 * application_name of the StartupMessage go in user.name,
 * pgsql.database and pgsql.application_name.
 *
 * Counted, not parsed: a session that turns to TLS or GSSAPI after its
 * SSLRequest / GSSENCRequest is answered S / G (counted once as a gap: its
 * bytes are not read), messages longer than PGSQL_MSG_MAX (their head is
 * parsed, the rest skipped, counted as too_large). Framing is this file;
 * client messages pgsql_front.c, server messages pgsql_back.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pgsql.h"
#include "reader.h"

#define PG_CODE_SSL 80877103u
#define PG_CODE_GSSENC 80877104u
#define PG_CODE_CANCEL 80877102u
#define PG_STARTUP_MAX 10000u /* PostgreSQL's MAX_STARTUP_PACKET_LENGTH */

/* ---- settings ---- */

static const struct cfg_field pgsql_cfg_fields[] = {
	{ .key = "max_rows", .type = CFG_INT, .offset = offsetof(struct pgsql_cfg, max_rows), .max = 1000000 },
	{ .key = "max_row_length",
	  .type = CFG_INT,
	  .offset = offsetof(struct pgsql_cfg, max_row_length),
	  .max = 1 << 20 },
	{ 0 },
};

static void *pgsql_cfg_new(void)
{
	struct pgsql_cfg *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->max_rows = 10;
	pc->max_row_length = 1024;
	return pc;
}

static void pgsql_cfg_free(void *priv)
{
	free(priv);
}

const struct pgsql_cfg *pgsql_cfg(const struct conn *c)
{
	static const struct pgsql_cfg defaults = { .max_rows = 10, .max_row_length = 1024 };

	return c->cfg->priv ? c->cfg->priv : &defaults;
}

/* ---- requests ---- */

void pgsql_req_free(void *priv)
{
	struct pgsql_req *pr = priv;

	if (!pr)
		return;
	free(pr->text);
	free(pr->params);
	free(pr->split);
	free(pr);
}

/* A request message around pr (taken): method and query from its text. */
struct msg *pgsql_req_msg(struct conn *c, struct pgsql_req *pr, uint64_t ts, uint64_t bytes)
{
	struct msg *m = msg_new(ts);
	size_t off = 0, len = 0, mlen;

	if (!m) {
		pgsql_req_free(pr);
		return NULL;
	}
	m->bytes = bytes;
	if (pr->text)
		pgsql_trim(pr->text, pr->len, &off, &len);
	mlen = pgsql_method(pr->text + off, len, pr->method, sizeof(pr->method));
	msg_text_set(&m->method, pr->method, mlen);
	msg_text_set(&m->query, pr->text + off, len);
	msg_text_set(&m->user, pr->who.user, strlen(pr->who.user));
	if (c->cfg->send_request && len)
		msg_set_raw(m, pr->text + off, len);
	msg_set_priv(m, pr, pgsql_req_free, pr->len + pr->params_len + (size_t)pr->nsplit * 2 * sizeof(uint32_t));
	return m;
}

/* ---- framing ---- */

static bool client_type(char t)
{
	return t && strchr("BCcDdEFfHPpQSX", t);
}

static bool server_type(char t)
{
	return t && strchr("123ACcDdEGHIKnNRSsTtVvWZ", t);
}

/* An untyped startup packet at p: its length, or 0 when p does not start one. */
static uint32_t untyped_len(const uint8_t *p)
{
	struct reader r;
	uint32_t len, code;

	rd_init(&r, p, 8);
	len = rd_be32(&r);
	code = rd_be32(&r);
	if (len < 8 || len > PG_STARTUP_MAX)
		return 0;
	if (code >> 16 == 3 || code == PG_CODE_SSL || code == PG_CODE_GSSENC || code == PG_CODE_CANCEL)
		return len;
	return 0;
}

static void on_untyped(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct reader r;
	uint32_t code;

	rd_init(&r, f->p, f->len);
	code = rd_be32(&r);
	if (code == PG_CODE_SSL || code == PG_CODE_GSSENC) {
		pc->ssl_asked = true; /* a one-byte answer comes; the startup packet follows it */
		return;
	}
	pc->startup = false;
	if (code == PG_CODE_CANCEL)
		return; /* on a connection of its own: the server closes it without a word */
	pgsql_startup(c, pc, f);
}

/* The server's one-byte answer to an SSLRequest / GSSENCRequest. */
static void on_ssl_answer(struct conn *c, struct pgsql_conn *pc, uint8_t b)
{
	pc->ssl_asked = false;
	if (b == 'S' || b == 'G') {
		pc->encrypted = true;
		corr_count(c, PSTAT_GAPS); /* TLS or GSSAPI from here on: not read */
	}
}

/* A plausible typed header at p (after a gap, data starts at some segment). */
static bool plausible(enum dir dir, const uint8_t *p, size_t len)
{
	uint32_t n;

	if (len < 5)
		return false;
	n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	return (dir == DIR_C2S ? client_type((char)p[0]) : server_type((char)p[0])) && n >= 4 && n <= (1u << 30);
}

static uint64_t *assembled_bytes(struct pgsql_conn *pc, enum dir dir)
{
	return dir == DIR_C2S ? &pc->req_bytes : &pc->resp_bytes;
}

static void deliver(struct conn *c, struct pgsql_conn *pc, enum dir dir, struct pgsql_frame *f)
{
	if (!*assembled_bytes(pc, dir))
		pc->dir[dir].lost = 0; /* a new request/response begins */
	if (f->type == 0)
		on_untyped(c, pc, f);
	else if (dir == DIR_C2S)
		pgsql_front(c, pc, f);
	else
		pgsql_back(c, pc, f);
}

/*
 * One message at data: bytes consumed (0: more needed, with c->need set),
 * or PARSE_ERROR.
 */
static ssize_t frame_one(struct conn *c, struct pgsql_conn *pc, enum dir dir, const uint8_t *data, size_t len,
			 uint64_t ts)
{
	struct pgsql_dir *d = &pc->dir[dir];
	struct pgsql_frame f = { .ts = d->start ? d->start : ts, .ts_end = ts };
	uint64_t total;
	size_t hdr = 5;

	if (dir == DIR_C2S && pc->startup && len >= 8 && untyped_len(data)) {
		total = untyped_len(data);
		hdr = 4;
	} else if (dir == DIR_C2S && pc->startup && len < 8 && data[0] == 0) {
		c->need[dir] = 8;
		return 0;
	} else {
		if (len < 5) {
			c->need[dir] = 5;
			return 0;
		}
		if (!(dir == DIR_C2S ? client_type((char)data[0]) : server_type((char)data[0])))
			return PARSE_ERROR;
		f.type = (char)data[0];
		total = 1 + ((uint64_t)data[1] << 24 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 8 | data[4]);
		if (total < 5)
			return PARSE_ERROR;
		if (dir == DIR_C2S)
			pc->startup = false;
	}
	f.wire = total;
	if (total > len) {
		size_t want = total <= PGSQL_MSG_MAX ? total : PGSQL_HEAD_MAX;

		if (len < want) {
			c->need[dir] = want;
			if (!d->start)
				d->start = ts;
			return 0;
		}
		f.truncated = true; /* a long message: its head now, the rest skipped */
		corr_count(c, PSTAT_TOO_LARGE);
		d->skip = total - len;
		total = len;
	}
	f.p = data + hdr;
	f.len = (f.truncated && total > PGSQL_HEAD_MAX ? PGSQL_HEAD_MAX : total) - hdr;
	d->start = 0;
	deliver(c, pc, dir, &f);
	return (ssize_t)total;
}

static ssize_t pgsql_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct pgsql_conn *pc = c->pstate;
	struct pgsql_dir *d;
	size_t used = 0;

	if (!pc)
		return PARSE_ERROR;
	d = &pc->dir[dir];
	if (pc->encrypted)
		return (ssize_t)len;
	if (d->skip) {
		size_t n = d->skip < len ? d->skip : len;

		d->skip -= n;
		return (ssize_t)n;
	}
	if (d->resync) {
		if (!plausible(dir, data, len)) {
			c->passed[dir] = len;
			return len < 5 ? 0 : (ssize_t)len; /* the rest of a message cut by the gap */
		}
		d->resync = false;
	}
	while (used < len && !d->skip && !pc->encrypted) {
		ssize_t n;

		if (dir == DIR_S2C && pc->ssl_asked) {
			on_ssl_answer(c, pc, data[used++]);
			continue;
		}
		n = frame_one(c, pc, dir, data + used, len - used, ts);
		if (n == PARSE_ERROR) {
			d->start = 0;
			d->resync = true;
			d->lost = *assembled_bytes(pc, dir); /* dropped with the error: no longer pending */
			return PARSE_ERROR;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	return (ssize_t)used;
}

/* Bytes lost: inside a long message they are skipped; elsewhere the direction waits for a header. */
static bool pgsql_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct pgsql_conn *pc = c->pstate;
	struct pgsql_dir *d;

	if (!pc)
		return true;
	d = &pc->dir[dir];
	if (d->skip >= nbytes) {
		d->skip -= nbytes;
		d->lost += nbytes;
		return false;
	}
	d->skip = 0;
	d->start = 0;
	d->resync = true;
	d->lost = *assembled_bytes(pc, dir); /* dropped with the gap: no longer pending */
	return true;
}

/*
 * Bytes taken into the request/response being assembled: the messages since
 * the last one finished, less what of a long one is still to pass over.
 */
static uint64_t pgsql_pending(const struct conn *c, enum dir dir)
{
	struct pgsql_conn *pc = c->pstate;
	uint64_t base, gone;

	if (!pc)
		return 0;
	base = *assembled_bytes(pc, dir);
	gone = pc->dir[dir].skip + pc->dir[dir].lost;
	return base > gone ? base - gone : 0;
}

static void pgsql_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct pgsql_conn *pc = c->pstate;

	if (pc)
		pc->dir[dir].start = 0;
}

static void *pgsql_conn_new(struct conn *c)
{
	struct pgsql_conn *pc = calloc(1, sizeof(*pc));

	if (pc)
		pc->startup = true;
	return pc;
}

static void pgsql_conn_free(void *pstate)
{
	struct pgsql_conn *pc = pstate;

	if (!pc)
		return;
	pgsql_tables_free(pc);
	pgsql_back_free(pc);
	free(pc->owed);
	free(pc);
}

/* ---- event ---- */

/* A string member of the pgsql object, skipped when empty; *first: no comma yet. */
static void kv_text(struct json_buf *b, const char *key, const char *s, int *first)
{
	if (!s || !s[0])
		return;
	json_buf_key(b, key, *first);
	json_buf_strn(b, s, strlen(s));
	*first = 0;
}

/* params and the pgsql object (user.name is the event writer's, from the user slot). */
static int pgsql_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			      const struct msg *resp)
{
	const struct pgsql_req *q = req->priv;
	const struct pgsql_resp *r = resp ? resp->priv : NULL;
	int first = 1;

	if (q && q->params) {
		json_buf_key(b, "params", 0);
		json_buf_put(b, q->params, q->params_len);
	}
	if (!r && !(q && (q->who.database[0] || q->who.app[0])))
		return b->err;
	json_kv_open(b, "pgsql", 0);
	if (r) {
		json_buf_key(b, "num_rows", 1);
		json_buf_u64(b, r->num_rows);
		json_kv_u64(b, "num_fields", r->num_fields);
		first = 0;
		kv_text(b, "error_code", r->code, &first);
		kv_text(b, "error_message", r->message, &first);
		kv_text(b, "error_severity", r->severity, &first);
	}
	if (q) {
		kv_text(b, "database", q->who.database, &first);
		kv_text(b, "application_name", q->who.app, &first);
	}
	json_buf_put(b, "}", 1);
	return b->err;
}

static const uint16_t pgsql_ports[] = { PGSQL_DEFAULT_PORT };

const struct proto_ops pgsql_ops = {
	.name = "pgsql",
	.id = PROTO_PGSQL,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = pgsql_ports,
	.ndefault_ports = sizeof(pgsql_ports) / sizeof(pgsql_ports[0]),
	.cfg_fields = pgsql_cfg_fields,
	.cfg_new = pgsql_cfg_new,
	.cfg_free = pgsql_cfg_free,
	.conn_new = pgsql_conn_new,
	.conn_free = pgsql_conn_free,
	.parse = pgsql_parse,
	.gap = pgsql_gap,
	.fin = pgsql_fin,
	.pending = pgsql_pending,
	.write_fields = pgsql_write_fields,
	.event_keys = (const char *const[]){ "params", "pgsql", NULL },
};
