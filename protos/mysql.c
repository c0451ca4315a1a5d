/*
 * MySQL / MariaDB over TCP, after Packetbeat's mysql module: one event per
 * command with method (the statement's first word, upper-case, for
 * COM_QUERY and prepared statements; the command's name otherwise), query
 * (the statement text, trimmed), path (db.table of the result's columns),
 * params (an EXECUTE's bound values), mysql.{affected_rows, insert_id,
 * num_rows, num_fields, error_code, error_message}, status Error for an ERR
 * answer, request (the statement text) and response (the first max_rows
 * rows as CSV, as Packetbeat writes them) with send_request/send_response.
 * Beyond Packetbeat: every command is an event (event.action
 * "mysql.<command>"), the connection's user and database from the
 * handshake go into user.name and mysql.database, requests in flight
 * together (pipelining) pair in order, binary rows and all parameter types
 * are decoded, and a gap resynchronises at the next plausible packet.
 *
 * Framing: a 3-byte length, a sequence id and the payload; a payload of
 * 0xffffff bytes continues in the next packet. Only the first
 * MYSQL_PKT_PREFIX bytes of a packet are looked at (a longer statement is
 * cut, counted as too_large); the rest is passed over without buffering.
 * A client that asks for TLS (SSL request) or the compressed protocol makes
 * the rest of the connection opaque: one event says so (method SSL or
 * COMPRESS, with a note) and its bytes are skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_buf.h"
#include "mysql.h"

#define MYSQL_DEFAULT_MAX_ROWS 10
#define MYSQL_DEFAULT_MAX_ROW_LENGTH 1024
#define MYSQL_DEFAULT_STATEMENT_TIMEOUT (3600ull * 1000000000ull)

/* ---- settings ---- */

/* clang-format off */
#define MF(k, t, m, lo, hi) { .key = k, .type = t, .offset = offsetof(struct mysql_cfg, m), .min = lo, .max = hi }
/* clang-format on */
static const struct cfg_field mysql_cfg_fields[] = {
	MF("max_rows", CFG_INT, max_rows, 0, 100000),
	MF("max_row_length", CFG_INT, max_row_length, 0, 1 << 20),
	MF("statement_timeout", CFG_DURATION, statement_timeout, 0, 0),
	{ .key = NULL },
};

static const struct mysql_cfg mysql_defaults = {
	.max_rows = MYSQL_DEFAULT_MAX_ROWS,
	.max_row_length = MYSQL_DEFAULT_MAX_ROW_LENGTH,
	.statement_timeout = MYSQL_DEFAULT_STATEMENT_TIMEOUT,
};

static void *mysql_cfg_new(void)
{
	struct mysql_cfg *mc = malloc(sizeof(*mc));

	if (mc)
		*mc = mysql_defaults;
	return mc;
}

static void mysql_cfg_free(void *priv)
{
	free(priv);
}

const struct mysql_cfg *mysql_cfg_of(const struct conn *c)
{
	return c->cfg->priv ? c->cfg->priv : &mysql_defaults;
}

/* ---- commands ---- */

struct mysql_com {
	const char *method, *action;
	bool noreply; /* the server does not answer it */
};

/* clang-format off */
#define COM(m, a) { m, "mysql." a, false }
#define COM_NOREPLY(m, a) { m, "mysql." a, true }
/* clang-format on */
static const struct mysql_com mysql_coms[MYSQL_COM_MAX] = {
	[0x00] = COM("SLEEP", "sleep"),
	[0x01] = COM_NOREPLY("QUIT", "quit"),
	[0x02] = COM("INIT_DB", "init_db"),
	[0x03] = COM("QUERY", "query"),
	[0x04] = COM("FIELD_LIST", "field_list"),
	[0x05] = COM("CREATE_DB", "create_db"),
	[0x06] = COM("DROP_DB", "drop_db"),
	[0x07] = COM("REFRESH", "refresh"),
	[0x08] = COM("SHUTDOWN", "shutdown"),
	[0x09] = COM("STATISTICS", "statistics"),
	[0x0a] = COM("PROCESS_INFO", "process_info"),
	[0x0b] = COM("CONNECT", "connect"),
	[0x0c] = COM("PROCESS_KILL", "process_kill"),
	[0x0d] = COM("DEBUG", "debug"),
	[0x0e] = COM("PING", "ping"),
	[0x0f] = COM("TIME", "time"),
	[0x10] = COM("DELAYED_INSERT", "delayed_insert"),
	[0x11] = COM("CHANGE_USER", "change_user"),
	[0x12] = COM("BINLOG_DUMP", "binlog_dump"),
	[0x13] = COM("TABLE_DUMP", "table_dump"),
	[0x14] = COM("CONNECT_OUT", "connect_out"),
	[0x15] = COM("REGISTER_SLAVE", "register_slave"),
	[0x16] = COM("STMT_PREPARE", "stmt_prepare"),
	[0x17] = COM("STMT_EXECUTE", "stmt_execute"),
	[0x18] = COM_NOREPLY("STMT_SEND_LONG_DATA", "stmt_send_long_data"),
	[0x19] = COM_NOREPLY("STMT_CLOSE", "stmt_close"),
	[0x1a] = COM("STMT_RESET", "stmt_reset"),
	[0x1b] = COM("SET_OPTION", "set_option"),
	[0x1c] = COM("STMT_FETCH", "stmt_fetch"),
	[0x1d] = COM("DAEMON", "daemon"),
	[0x1e] = COM("BINLOG_DUMP_GTID", "binlog_dump_gtid"),
	[0x1f] = COM("RESET_CONNECTION", "reset_connection"),
};

static void req_free(void *priv)
{
	struct mysql_req *rq = priv;

	if (!rq)
		return;
	free(rq->query);
	free(rq->params);
	free(rq->user);
	free(rq->db);
	free(rq);
}

/* user.name of the event: the connection's user the request carries. */
static void user_slot(struct msg *m, const struct mysql_req *rq)
{
	if (rq->user)
		msg_text_set(&m->user, rq->user, strlen(rq->user));
}

static char *dup_n(const void *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void set_name(char **dst, const void *s, size_t n)
{
	free(*dst);
	*dst = n ? dup_n(s, n < MYSQL_NAME_MAX ? n : MYSQL_NAME_MAX) : NULL;
}

/* The statement text without surrounding blanks, as Packetbeat trims it. */
static void trim(const uint8_t **s, size_t *n)
{
	while (*n && strchr(" \r\n\t", (*s)[0]))
		(*s)++, (*n)--;
	while (*n && strchr(" \r\n\t", (*s)[*n - 1]))
		(*n)--;
}

/* method: the statement's first word, upper-case (at most sizeof(rq->method) - 1 bytes). */
static void set_verb(struct mysql_req *rq, struct msg *m)
{
	size_t i = 0;

	while (i < rq->qlen && i + 1 < sizeof(rq->method) && !strchr(" \r\n\t(", rq->query[i])) {
		rq->method[i] = (char)toupper((unsigned char)rq->query[i]);
		i++;
	}
	rq->method[i] = '\0';
	msg_text_set(&m->method, rq->method, i);
}

/* query (and method, verb) from a statement text. */
static int set_query(struct conn *c, struct msg *m, struct mysql_req *rq, const uint8_t *s, size_t n, bool verb)
{
	trim(&s, &n);
	if (n > MYSQL_QUERY_MAX) {
		corr_count(c, PSTAT_TOO_LARGE);
		n = MYSQL_QUERY_MAX;
	}
	rq->query = dup_n(s, n);
	if (!rq->query)
		return -ENOMEM;
	rq->qlen = n;
	msg_text_set(&m->query, rq->query, n);
	if (verb)
		set_verb(rq, m);
	return 0;
}

/* "NAME argument": the query of a command that carries no SQL. */
static int set_named(struct conn *c, struct msg *m, struct mysql_req *rq, const char *name, const uint8_t *arg,
		     size_t n)
{
	size_t k = strlen(name);
	uint8_t buf[MYSQL_NAME_MAX + 64];

	if (n > MYSQL_NAME_MAX)
		n = MYSQL_NAME_MAX;
	memcpy(buf, name, k);
	if (n) {
		buf[k++] = ' ';
		memcpy(buf + k, arg, n);
		k += n;
	}
	return set_query(c, m, rq, buf, k, false);
}

/* An EXECUTE: the statement's text, method and decoded parameters. */
static int cmd_execute(struct conn *c, struct mysql_conn *mc, struct msg *m, struct mysql_req *rq, struct reader *r)
{
	struct mysql_stmt *st;
	struct mysql_text params;
	int err;

	rq->stmt_id = rd_le32(r);
	rd_skip(r, 5); /* flags, iteration count */
	st = r->err ? NULL : mysql_stmt_find(&mc->stmts, rq->stmt_id);
	if (!st) {
		msg_note(m, "The actual query being used is unknown");
		err = set_query(c, m, rq, (const uint8_t *)"Request Execute Statement", 25, false);
		msg_text_set(&m->method, "EXECUTE", 7);
		return err;
	}
	st->used = m->ts;
	err = set_query(c, m, rq, (const uint8_t *)st->query, st->qlen, true);
	if (err)
		return err;
	mysql_text_init(&params, MYSQL_PARAMS_MAX);
	if (!mysql_exec_params(r, st, &params)) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		msg_note(m, "The parameters could not be decoded");
		mysql_text_free(&params);
		return 0;
	}
	if (params.cut)
		corr_count(c, PSTAT_TOO_LARGE);
	rq->params = mysql_text_take(&params, &rq->plen);
	return 0;
}

/* Commands naming a statement: CLOSE, RESET, SEND_LONG_DATA, FETCH. */
static int cmd_stmt(struct conn *c, struct mysql_conn *mc, struct msg *m, struct mysql_req *rq, struct reader *r)
{
	struct mysql_stmt *st;
	uint16_t param;
	int err;

	rq->stmt_id = rd_le32(r);
	param = rd_le16(r);
	st = mysql_stmt_find(&mc->stmts, rq->stmt_id);
	if (!st)
		return set_named(c, m, rq, "Unknown Statement", NULL, 0);
	err = set_query(c, m, rq, (const uint8_t *)st->query, st->qlen, false);
	if (rq->cmd == MYSQL_COM_STMT_SEND_LONG_DATA && !r->err && param < 64)
		st->long_data |= 1ull << param;
	else if (rq->cmd == MYSQL_COM_STMT_RESET)
		st->long_data = 0;
	else if (rq->cmd == MYSQL_COM_STMT_CLOSE)
		mysql_stmt_del(&mc->stmts, rq->stmt_id);
	return err;
}

/* COM_CHANGE_USER: the new user and database are the connection's from now. */
static int cmd_change_user(struct conn *c, struct mysql_conn *mc, struct msg *m, struct mysql_req *rq, struct reader *r)
{
	size_t n = 0, dn = 0;
	const char *user = rd_cstr(r, MYSQL_NAME_MAX, &n), *db;
	uint8_t alen;

	if (!user)
		return set_named(c, m, rq, "CHANGE_USER", NULL, 0);
	alen = rd_u8(r); /* CLIENT_SECURE_CONNECTION: a length-prefixed auth response */
	rd_skip(r, alen);
	db = rd_cstr(r, MYSQL_NAME_MAX, &dn);
	set_name(&mc->user, user, n);
	if (db)
		set_name(&mc->db, db, dn);
	return set_named(c, m, rq, "CHANGE_USER", (const uint8_t *)user, n);
}

static int cmd_fill(struct conn *c, struct mysql_conn *mc, struct msg *m, struct mysql_req *rq, const uint8_t *p,
		    size_t n)
{
	const struct mysql_com *com = &mysql_coms[rq->cmd];
	struct reader r;
	size_t an = 0;

	rd_init(&r, p + 1, n - 1);
	msg_text_set(&m->action, com->action, strlen(com->action));
	msg_text_set(&m->method, com->method, strlen(com->method));
	switch (rq->cmd) {
	case MYSQL_COM_QUERY:
	case MYSQL_COM_STMT_PREPARE:
		return set_query(c, m, rq, p + 1, n - 1, true);
	case MYSQL_COM_STMT_EXECUTE:
		return cmd_execute(c, mc, m, rq, &r);
	case MYSQL_COM_STMT_CLOSE:
	case MYSQL_COM_STMT_RESET:
	case MYSQL_COM_STMT_SEND_LONG_DATA:
	case MYSQL_COM_STMT_FETCH:
		return cmd_stmt(c, mc, m, rq, &r);
	case MYSQL_COM_CHANGE_USER:
		return cmd_change_user(c, mc, m, rq, &r);
	case MYSQL_COM_INIT_DB:
		set_name(&mc->db, p + 1, n - 1);
		return set_named(c, m, rq, com->method, p + 1, n - 1);
	case MYSQL_COM_FIELD_LIST:
		if (!rd_cstr(&r, MYSQL_NAME_MAX, &an))
			an = 0;
		return set_named(c, m, rq, com->method, p + 1, an);
	default:
		return set_named(c, m, rq, com->method, NULL, 0);
	}
}

/* The request goes to the correlator once its last packet has started. */
static void request_done(struct conn *c, struct mysql_conn *mc, struct msg *m)
{
	mc->req = NULL;
	corr_request(c, m);
}

/* A client packet with sequence 0 in the command phase. */
static void command(struct conn *c, struct mysql_conn *mc, const uint8_t *p, size_t n, uint32_t plen, uint64_t ts)
{
	struct mysql_req *rq;
	struct msg *m;

	if (p[0] >= MYSQL_COM_MAX) {
		corr_count(c, PSTAT_PARSE_ERRORS); /* not a command this parser knows */
		return;
	}
	m = msg_new(ts);
	rq = calloc(1, sizeof(*rq));
	if (!m || !rq)
		goto out_free;
	rq->cmd = p[0];
	m->bytes = MYSQL_HDR + (uint64_t)plen;
	m->noreply = mysql_coms[rq->cmd].noreply;
	if (cmd_fill(c, mc, m, rq, p, n)) {
		req_free(rq);
		goto out_free_msg;
	}
	if (n < plen && (rq->cmd == MYSQL_COM_QUERY || rq->cmd == MYSQL_COM_STMT_PREPARE))
		corr_count(c, PSTAT_TOO_LARGE); /* statement cut at MYSQL_PKT_PREFIX */
	rq->user = mc->user ? strdup(mc->user) : NULL;
	rq->db = mc->db ? strdup(mc->db) : NULL;
	msg_set_priv(m, rq, req_free, rq->qlen + rq->plen + 2 * MYSQL_NAME_MAX);
	user_slot(m, rq);
	if (c->cfg->send_request && rq->query)
		msg_set_raw(m, rq->query, rq->qlen);
	if (plen == MYSQL_PKT_FULL)
		mc->req = m; /* the payload goes on in the next packet */
	else
		request_done(c, mc, m);
	return;
out_free:
	free(rq);
out_free_msg:
	msg_free(m);
}

/* ---- connection phase ---- */

/* TLS or the compressed protocol: one event says so, the rest of the connection is skipped. */
static void opaque(struct conn *c, struct mysql_conn *mc, bool tls, uint32_t plen, uint64_t ts)
{
	struct msg *m = msg_new(ts);

	mc->phase = MYSQL_PH_OPAQUE;
	mysql_resp_reset(&mc->r);
	if (!m)
		return;
	m->bytes = MYSQL_HDR + (uint64_t)plen;
	m->noreply = true;
	msg_text_set(&m->method, tls ? "SSL" : "COMPRESS", tls ? 3 : 8);
	msg_text_set(&m->action, tls ? "mysql.ssl_request" : "mysql.compressed", tls ? 17 : 16);
	msg_note(m, tls ? "TLS session: not decoded" : "Compressed protocol: not decoded");
	if (mc->user) {
		struct mysql_req *rq = calloc(1, sizeof(*rq));

		if (rq) {
			rq->user = strdup(mc->user);
			rq->db = mc->db ? strdup(mc->db) : NULL;
			msg_set_priv(m, rq, req_free, 2 * MYSQL_NAME_MAX);
			user_slot(m, rq);
		}
	}
	corr_request(c, m);
}

/* The auth response of a handshake response: length-encoded, length-prefixed or NUL-terminated. */
static void skip_auth(struct reader *r, uint32_t caps)
{
	uint64_t n;
	size_t k;

	if (caps & MYSQL_CLIENT_PLUGIN_AUTH_LENENC)
		mysql_lenenc_str(r, &n);
	else if (caps & MYSQL_CLIENT_SECURE_CONNECTION)
		rd_skip(r, rd_u8(r));
	else
		rd_cstr(r, MYSQL_PKT_PREFIX, &k);
}

/* The client's handshake response (or SSL request): user, database, capabilities. */
static void handshake_response(struct conn *c, struct mysql_conn *mc, const uint8_t *p, size_t n, uint32_t plen,
			       uint64_t ts)
{
	struct reader r;
	uint32_t caps;
	const char *s;
	size_t sn = 0;

	rd_init(&r, p, n);
	caps = rd_le32(&r);
	mc->caps = mc->server_caps ? caps & mc->server_caps : caps;
	mc->caps_known = true;
	mc->phase = MYSQL_PH_AUTH;
	if (!(caps & MYSQL_CLIENT_PROTOCOL_41))
		return; /* pre-4.1 client: no user decoded */
	if (plen == 32 && (caps & MYSQL_CLIENT_SSL)) {
		opaque(c, mc, true, plen, ts);
		return;
	}
	rd_skip(&r, 4 + 1 + 23); /* max packet, collation, filler (MariaDB: extended capabilities) */
	s = rd_cstr(&r, MYSQL_NAME_MAX, &sn);
	if (s)
		set_name(&mc->user, s, sn);
	skip_auth(&r, caps);
	if ((caps & MYSQL_CLIENT_CONNECT_WITH_DB) && (s = rd_cstr(&r, MYSQL_NAME_MAX, &sn)))
		set_name(&mc->db, s, sn);
	if (mc->caps & MYSQL_CLIENT_COMPRESS)
		opaque(c, mc, false, plen, ts);
}

/* The server's greeting (protocol 10): its capabilities. */
static void greeting(struct mysql_conn *mc, const uint8_t *p, size_t n)
{
	struct reader r;
	size_t vn;
	uint32_t lo;

	rd_init(&r, p + 1, n - 1);
	rd_cstr(&r, MYSQL_NAME_MAX, &vn); /* server version */
	rd_skip(&r, 4 + 8 + 1); /* connection id, scramble, filler */
	lo = rd_le16(&r);
	rd_skip(&r, 1 + 2); /* collation, status */
	mc->server_caps = lo | (uint32_t)rd_le16(&r) << 16;
	if (r.err)
		mc->server_caps = 0;
	mc->phase = MYSQL_PH_LOGIN;
}

/* ---- packets ---- */

static void client_packet(struct conn *c, struct mysql_conn *mc, uint8_t seq, const uint8_t *p, size_t n, uint32_t plen,
			  bool cont, uint64_t ts)
{
	if (cont) {
		if (mc->req) {
			mc->req->bytes += MYSQL_HDR + (uint64_t)plen;
			mc->req->ts_end = ts;
			if (plen != MYSQL_PKT_FULL)
				request_done(c, mc, mc->req);
		}
		return;
	}
	if (mc->phase == MYSQL_PH_LOGIN && seq == 1) {
		handshake_response(c, mc, p, n, plen, ts);
		return;
	}
	if ((mc->phase == MYSQL_PH_COMMAND || mc->phase == MYSQL_PH_UNKNOWN) && seq == 0 && n) {
		mc->phase = MYSQL_PH_COMMAND;
		command(c, mc, p, n, plen, ts);
	}
	/* else: auth data, LOCAL INFILE contents, a CHANGE_USER's auth answers */
}

static void server_packet(struct conn *c, struct mysql_conn *mc, uint8_t seq, const uint8_t *p, size_t n, uint32_t plen,
			  bool cont, uint64_t ts)
{
	if (cont) {
		if (mc->r.m) {
			mc->r.m->bytes += MYSQL_HDR + (uint64_t)plen;
			mc->r.m->ts_end = ts;
		}
		return;
	}
	if (!n)
		return;
	if (seq == 0 && p[0] == 0x0a && mc->phase != MYSQL_PH_COMMAND) {
		greeting(mc, p, n);
		return;
	}
	switch (mc->phase) {
	case MYSQL_PH_LOGIN:
		return; /* a greeting we could not read, or an error instead of one */
	case MYSQL_PH_AUTH:
		if (p[0] == 0x00)
			mc->phase = MYSQL_PH_COMMAND;
		else if (p[0] == 0xff)
			mc->phase = MYSQL_PH_UNKNOWN;
		return; /* auth switch, more data */
	default:
		mysql_resp_packet(c, mc, p, n, plen, ts);
	}
}

/* A packet header that can start a message after a gap. */
static bool plausible(enum dir dir, const uint8_t *h)
{
	uint32_t plen = h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;

	if (!plen || plen == MYSQL_PKT_FULL)
		return false;
	if (dir == DIR_C2S)
		return h[3] == 0 && h[4] < MYSQL_COM_MAX && mysql_coms[h[4]].method;
	return h[3] == 1 && (h[4] == 0x00 || h[4] == 0xff || (plen <= 2 && h[4] < 0xfb));
}

/* The request or response of dir whose packets are still coming, or NULL. */
static struct msg *assembling(const struct mysql_conn *mc, enum dir dir)
{
	return dir == DIR_C2S ? mc->req : mc->r.m;
}

static void mysql_packet(struct conn *c, struct mysql_conn *mc, enum dir dir, const uint8_t *h, size_t n, uint64_t ts)
{
	uint32_t plen = h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;
	struct mysql_dir *d = &mc->d[dir];
	bool cont = d->cont;

	if (!assembling(mc, dir))
		d->lost = 0;
	d->cont = plen == MYSQL_PKT_FULL;
	d->skip = plen - (uint32_t)n;
	if (dir == DIR_C2S)
		client_packet(c, mc, h[3], h + MYSQL_HDR, n, plen, cont, ts);
	else
		server_packet(c, mc, h[3], h + MYSQL_HDR, n, plen, cont, ts);
}

static ssize_t mysql_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct mysql_conn *mc = c->pstate;
	struct mysql_dir *d;
	size_t done = 0;

	if (!mc)
		return PARSE_ERROR;
	d = &mc->d[dir];
	while (done < len && mc->phase != MYSQL_PH_OPAQUE) {
		const uint8_t *h = data + done;
		size_t left = len - done, want;
		uint32_t plen;

		if (d->skip) {
			size_t k = d->skip < left ? d->skip : left;

			d->skip -= (uint32_t)k;
			done += k;
			continue;
		}
		if (left < MYSQL_HDR + (d->resync ? 1u : 0u)) {
			c->need[dir] = MYSQL_HDR + 1;
			break;
		}
		if (d->resync && !plausible(dir, h)) {
			c->passed[dir] = len;
			return (ssize_t)len; /* not at a packet start: dropped until the next segment */
		}
		d->resync = false;
		plen = h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16;
		want = plen < MYSQL_PKT_PREFIX ? plen : MYSQL_PKT_PREFIX;
		if (left < MYSQL_HDR + want) {
			c->need[dir] = MYSQL_HDR + want;
			break;
		}
		mysql_packet(c, mc, dir, h, want, ts);
		done += MYSQL_HDR + want;
	}
	if (mc->phase == MYSQL_PH_OPAQUE)
		return (ssize_t)len;
	return (ssize_t)done;
}

static bool all(const struct msg *req, const void *arg)
{
	return true;
}

/*
 * Bytes lost inside a packet being passed over are skipped; elsewhere the
 * direction waits for the next plausible packet header. Requests waiting
 * when their answers were lost are published unanswered.
 */
static bool mysql_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct mysql_conn *mc = c->pstate;
	struct mysql_dir *d;

	if (!mc)
		return true;
	d = &mc->d[dir];
	if (mc->phase == MYSQL_PH_OPAQUE)
		return false;
	if (d->skip >= nbytes && !d->cont) {
		d->skip -= (uint32_t)nbytes;
		d->lost += nbytes;
		return false;
	}
	d->skip = 0;
	d->cont = false;
	d->resync = true;
	if (dir == DIR_C2S) {
		msg_free(mc->req);
		mc->req = NULL;
	} else {
		mysql_resp_reset(&mc->r);
		corr_give_up(c, all, NULL);
	}
	return true;
}

static void mysql_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct mysql_conn *mc = c->pstate;

	if (!mc)
		return;
	if (dir == DIR_C2S && mc->req)
		request_done(c, mc, mc->req); /* cut short: published as it is */
}

/* Bytes taken into the message being assembled: its packets so far, less what is still to pass over. */
static uint64_t mysql_pending(const struct conn *c, enum dir dir)
{
	const struct mysql_conn *mc = c->pstate;
	const struct msg *m = mc ? assembling(mc, dir) : NULL;
	uint64_t gone;

	if (!m)
		return 0;
	gone = mc->d[dir].skip + mc->d[dir].lost;
	return m->bytes > gone ? m->bytes - gone : 0;
}

static void *mysql_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct mysql_conn));
}

static void mysql_conn_free(void *pstate)
{
	struct mysql_conn *mc = pstate;

	if (!mc)
		return;
	msg_free(mc->req);
	mysql_resp_reset(&mc->r);
	mysql_stmts_free(&mc->stmts);
	free(mc->user);
	free(mc->db);
	free(mc);
}

/* ---- event ---- */

static void write_res(struct json_buf *b, const struct mysql_res *res)
{
	json_kv_u64(b, "affected_rows", res->affected_rows);
	json_kv_u64(b, "insert_id", res->insert_id);
	json_kv_u64(b, "num_rows", res->num_rows);
	json_kv_u64(b, "num_fields", res->num_fields);
	if (res->error) {
		json_kv_u64(b, "error_code", res->error_code);
		json_kv_cstr(b, "error_message", res->error_message);
	}
}

/* path, params, then mysql.{...} (user.name is the event writer's, from the user slot). */
static int mysql_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			      const struct msg *resp)
{
	const struct mysql_req *rq = req->priv;
	const struct mysql_res *res = resp ? resp->priv : NULL;
	size_t start;

	if (res && res->path)
		json_kv_cstr(b, "path", res->path);
	if (rq && rq->params) {
		json_buf_key(b, "params", 0);
		json_buf_put(b, rq->params, rq->plen);
	}
	json_kv_open(b, "mysql", 0);
	start = b->len;
	if (res)
		write_res(b, res);
	if (rq && rq->db)
		json_kv_cstr(b, "database", rq->db);
	if (!b->err && b->len > start) { /* the members were written with a comma before each */
		memmove(b->p + start, b->p + start + 1, b->len - start - 1);
		b->len--;
	}
	json_buf_put(b, "}", 1);
	return b->err;
}

static const uint16_t mysql_ports[] = { 3306, 3307 };

const struct proto_ops mysql_ops = {
	.name = "mysql",
	.id = PROTO_MYSQL,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = mysql_ports,
	.ndefault_ports = sizeof(mysql_ports) / sizeof(mysql_ports[0]),
	.cfg_fields = mysql_cfg_fields,
	.cfg_new = mysql_cfg_new,
	.cfg_free = mysql_cfg_free,
	.conn_new = mysql_conn_new,
	.conn_free = mysql_conn_free,
	.parse = mysql_parse,
	.gap = mysql_gap,
	.fin = mysql_fin,
	.pending = mysql_pending,
	.write_fields = mysql_write_fields,
	.event_keys = (const char *const[]){ "path", "params", "mysql", NULL },
};
