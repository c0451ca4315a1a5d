/*
 * MySQL responses, packet by packet: OK, ERR, EOF, text and binary result
 * sets (column definitions, rows, the EOF or - CLIENT_DEPRECATE_EOF - OK
 * that ends them, further results while SERVER_MORE_RESULTS_EXISTS), the
 * PREPARE_OK of a COM_STMT_PREPARE with its parameter and column
 * definitions, COM_FIELD_LIST's definitions and COM_CHANGE_USER's auth
 * exchange. What the response answers is the command of the oldest request
 * waiting. An EOF (5 bytes) is told from an OK with the 0xfe header (7 bytes
 * or more) by its length, so a capture that missed the handshake still
 * knows whether CLIENT_DEPRECATE_EOF is on, except after a PREPARE_OK's
 * definitions, where the next packet tells.
 */
#include <stdlib.h>
#include <string.h>

#include "mysql.h"

static void res_free(void *priv)
{
	struct mysql_res *res = priv;

	if (!res)
		return;
	free(res->error_message);
	free(res->path);
	free(res);
}

void mysql_resp_reset(struct mysql_resp *rs)
{
	msg_free(rs->m);
	res_free(rs->res);
	free(rs->ctypes);
	mysql_text_free(&rs->path);
	mysql_text_free(&rs->csv);
	memset(rs, 0, sizeof(*rs));
}

static bool deprecate_eof(const struct mysql_conn *mc)
{
	return mc->caps_known && (mc->caps & MYSQL_CLIENT_DEPRECATE_EOF);
}

/* A classic EOF packet: 0xfe and at most 5 bytes (an OK with the 0xfe header has 7 or more). */
bool mysql_is_eof(const uint8_t *p, size_t n, uint32_t plen)
{
	return n && p[0] == 0xfe && plen <= 5;
}

static void start(struct conn *c, struct mysql_resp *rs, uint64_t ts)
{
	const struct msg *q = corr_oldest(c);
	const struct mysql_req *rq = q ? q->priv : NULL;

	memset(rs, 0, sizeof(*rs));
	rs->m = msg_new(ts);
	rs->res = calloc(1, sizeof(*rs->res));
	mysql_text_init(&rs->path, MYSQL_PATH_MAX);
	mysql_text_init(&rs->csv, MYSQL_CSV_MAX);
	rs->cmd = rq ? rq->cmd : 0;
	rs->binary = rs->cmd == MYSQL_COM_STMT_EXECUTE || rs->cmd == MYSQL_COM_STMT_FETCH;
	if (rs->cmd == MYSQL_COM_STMT_FETCH)
		rs->st = MYSQL_RS_ROWS;
	else if (rs->cmd == MYSQL_COM_FIELD_LIST)
		rs->st = MYSQL_RS_FIELDS;
	else if (rs->cmd == MYSQL_COM_CHANGE_USER)
		rs->st = MYSQL_RS_AUTH;
	else
		rs->st = MYSQL_RS_FIRST;
}

/* ---- the end of a response ---- */

/* A PREPARE answered OK: its statement is kept for the EXECUTEs to come. */
static void keep_statement(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, uint64_t ts)
{
	const struct msg *q = corr_oldest(c);
	const struct mysql_req *rq = q ? q->priv : NULL;
	struct mysql_stmt *st;

	if (!rq || rq->cmd != MYSQL_COM_STMT_PREPARE || !rq->query)
		return;
	st = mysql_stmt_add(c, &mc->stmts, rs->stmt_id, rs->nparams, rs->pcols, rq->query, rq->qlen, ts);
	if (!st)
		return;
	if (rs->ctypes && rs->nctypes == rs->pcols) {
		st->ctypes = rs->ctypes;
		rs->ctypes = NULL;
	}
	/* what an EXECUTE whose result comes without metadata shows */
	st->header = mysql_text_take(&rs->csv, &st->header_len);
	if (rs->path.len && (st->path = malloc(rs->path.len + 1))) {
		memcpy(st->path, rs->path.p, rs->path.len + 1);
		st->path_len = rs->path.len;
	}
}

static void finish(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, uint64_t ts)
{
	struct msg *m = rs->m;
	struct mysql_res *res = rs->res;
	size_t n;

	if (!m || !res) {
		mysql_resp_reset(rs);
		return;
	}
	if (rs->cmd == MYSQL_COM_STMT_PREPARE && !res->error)
		keep_statement(c, mc, rs, ts); /* takes the column names and path */
	res->path = mysql_text_take(&rs->path, &n);
	m->status = res->error ? MSG_ERROR : MSG_OK;
	if (c->cfg->send_response) {
		char *csv = mysql_text_take(&rs->csv, &n);

		if (csv)
			msg_take_raw(m, csv, n);
		else
			msg_set_raw(m, "", 0);
	}
	msg_set_priv(m, res, res_free,
		     (res->path ? strlen(res->path) : 0) + (res->error_message ? strlen(res->error_message) : 0));
	rs->m = NULL;
	rs->res = NULL;
	mysql_resp_reset(rs);
	corr_response(c, m);
}

/* ---- OK, ERR, EOF ---- */

/* ERR: code, "#" and SQLSTATE (protocol 41), message; error_message "SQLSTATE: message" as Packetbeat. */
static void err_packet(struct mysql_res *res, const uint8_t *p, size_t n)
{
	struct reader r;
	struct mysql_text t;
	size_t k;

	rd_init(&r, p + 1, n - 1);
	res->error = true;
	res->error_code = rd_le16(&r);
	mysql_text_init(&t, MYSQL_VALUE_MAX);
	if (rd_left(&r) >= 6 && rd_ptr(&r)[0] == '#') {
		mysql_text_put(&t, rd_ptr(&r) + 1, 5);
		mysql_text_put(&t, ": ", 2);
		rd_skip(&r, 6);
	}
	mysql_text_put(&t, rd_ptr(&r), rd_left(&r));
	free(res->error_message);
	res->error_message = mysql_text_take(&t, &k);
}

/* OK (0x00 or, ending rows, 0xfe): affected rows, insert id; returns the status flags. */
static uint16_t ok_packet(struct mysql_res *res, const uint8_t *p, size_t n)
{
	struct reader r;
	bool null;
	uint64_t affected, id;
	uint16_t status;

	rd_init(&r, p + 1, n - 1);
	affected = mysql_lenenc(&r, &null);
	id = mysql_lenenc(&r, &null);
	status = rd_le16(&r);
	if (r.err)
		return 0;
	res->affected_rows += affected;
	if (id)
		res->insert_id = id;
	return status;
}

/* The status flags of a classic EOF (warnings, then status). */
static uint16_t eof_status(const uint8_t *p, size_t n)
{
	return n >= 5 ? (uint16_t)(p[3] | p[4] << 8) : 0;
}

/* The end of a result: another one follows when the server says so. */
static void result_end(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, uint16_t status, uint64_t ts)
{
	if (status & MYSQL_STATUS_MORE_RESULTS) {
		rs->st = MYSQL_RS_FIRST;
		rs->header_done = true; /* the CSV holds the first result only */
		return;
	}
	finish(c, mc, rs, ts);
}

/* ---- result sets ---- */

/* CSV as Packetbeat's (Go encoding/csv): newlines escaped, quoted when needed. */
static void csv_field(struct mysql_text *t, const uint8_t *s, size_t n)
{
	bool quote = n && (strchr(" \t\v\f", s[0]) || memchr(s, ',', n) || memchr(s, '"', n) ||
			   (n == 2 && s[0] == '\\' && s[1] == '.'));

	if (quote)
		mysql_text_put(t, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			mysql_text_put(t, "\\n", 2);
		else if (s[i] == '\r')
			mysql_text_put(t, "\\r", 2);
		else if (s[i] == '"')
			mysql_text_put(t, "\"\"", 2);
		else
			mysql_text_put(t, s + i, 1);
	}
	if (quote)
		mysql_text_put(t, "\"", 1);
}

static bool csv_wanted(const struct conn *c, const struct mysql_resp *rs)
{
	return c->cfg->send_response && !rs->header_done;
}

/* db.table of a column into path, once each (as Packetbeat; columns of no table add nothing). */
static void add_path(struct mysql_text *path, const uint8_t *db, uint64_t dn, const uint8_t *tb, uint64_t tn)
{
	char buf[2 * MYSQL_NAME_MAX + 2];
	size_t n;

	if (!tn || dn > MYSQL_NAME_MAX || tn > MYSQL_NAME_MAX)
		return;
	memcpy(buf, db, dn);
	buf[dn] = '.';
	memcpy(buf + dn + 1, tb, tn);
	n = dn + 1 + tn;
	buf[n] = '\0';
	if (path->p && strstr(path->p, buf))
		return;
	if (path->len)
		mysql_text_put(path, ", ", 2);
	mysql_text_put(path, buf, n);
}

/* A column definition: path, the CSV header, its type (for binary rows). */
static void column_def(struct conn *c, struct mysql_resp *rs, const uint8_t *p, size_t n, uint64_t idx)
{
	const uint8_t *s[6];
	uint64_t len[6];
	struct reader r;
	uint8_t type, flags;

	rd_init(&r, p, n);
	for (int i = 0; i < 6; i++) /* catalog, schema, table, org_table, name, org_name */
		s[i] = mysql_lenenc_str(&r, &len[i]);
	if (rd_left(&r) && rd_ptr(&r)[0] != 0x0c)
		mysql_lenenc_str(&r, &len[0]); /* MariaDB's extended metadata */
	rd_skip(&r, 1 + 2 + 4); /* length of the fixed fields (0x0c), character set, column length */
	type = rd_u8(&r);
	flags = (uint8_t)(rd_le16(&r) & 0x20 ? 0x80 : 0); /* UNSIGNED_FLAG */
	if (r.err) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		return;
	}
	add_path(&rs->path, s[1], len[1], s[2], len[2]);
	if (csv_wanted(c, rs) && (rs->st == MYSQL_RS_COLS || rs->st == MYSQL_RS_PCOLS_DEF)) {
		if (idx)
			mysql_text_put(&rs->csv, ",", 1);
		csv_field(&rs->csv, s[4], (size_t)len[4]);
	}
	if (rs->ctypes && idx < rs->nctypes) {
		rs->ctypes[2 * idx] = type;
		rs->ctypes[2 * idx + 1] = flags;
	}
}

/* Room for the types of n columns (binary rows, a PREPARE's columns). */
static void types_alloc(struct mysql_resp *rs, uint64_t n)
{
	free(rs->ctypes);
	rs->nctypes = n <= MYSQL_TYPES_MAX ? (size_t)n : 0;
	rs->ctypes = rs->nctypes ? calloc(rs->nctypes, 2) : NULL;
	if (!rs->ctypes)
		rs->nctypes = 0;
}

/* The types of a binary result whose metadata the server did not resend (MariaDB): the statement's. */
static void types_of_statement(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs)
{
	const struct msg *q = corr_oldest(c);
	const struct mysql_req *rq = q ? q->priv : NULL;
	struct mysql_stmt *st = rq ? mysql_stmt_find(&mc->stmts, rq->stmt_id) : NULL;

	if (st && st->path)
		mysql_text_put(&rs->path, st->path, st->path_len);
	if (st && st->header && csv_wanted(c, rs))
		mysql_text_put(&rs->csv, st->header, st->header_len);
	if (st && st->ctypes && st->ncols == rs->ncols && rs->ctypes)
		memcpy(rs->ctypes, st->ctypes, 2 * rs->nctypes);
	else {
		free(rs->ctypes);
		rs->ctypes = NULL;
		rs->nctypes = 0;
	}
}

/* The column count that starts a result set (MariaDB may add a "metadata follows" byte). */
static void result_set(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	struct reader r;
	bool null, meta = true;
	uint64_t count;

	rd_init(&r, p, n);
	count = mysql_lenenc(&r, &null);
	if (rd_left(&r) == 1)
		meta = rd_u8(&r) != 0;
	if (r.err || null || !count || count > 0xffff || rd_left(&r)) {
		corr_count(c, PSTAT_PARSE_ERRORS); /* not a column count: the response ends here */
		finish(c, mc, rs, 0);
		return;
	}
	rs->ncols = count;
	if (!rs->header_done && !rs->res->num_fields)
		rs->res->num_fields = count;
	types_alloc(rs, rs->binary ? count : 0);
	if (meta) {
		rs->left = count;
		rs->st = MYSQL_RS_COLS;
		return;
	}
	types_of_statement(c, mc, rs);
	rs->st = MYSQL_RS_COLS_END;
}

/* A text row: length-encoded strings or 0xfb (NULL). */
static void text_row(struct mysql_resp *rs, const struct mysql_cfg *cfg, const uint8_t *p, size_t n)
{
	struct reader r;
	size_t rowlen = 0, max = (size_t)cfg->max_row_length;
	bool first = true;

	rd_init(&r, p, n);
	while (rd_left(&r)) {
		const uint8_t *s = (const uint8_t *)"NULL";
		uint64_t len = 4;

		if (rd_ptr(&r)[0] == 0xfb)
			rd_skip(&r, 1);
		else if (!(s = mysql_lenenc_str(&r, &len)))
			break; /* cut at MYSQL_PKT_PREFIX, or damaged */
		if (rowlen >= max)
			continue;
		if (len > max - rowlen)
			len = max - rowlen;
		if (!first)
			mysql_text_put(&rs->csv, ",", 1);
		csv_field(&rs->csv, s, (size_t)len);
		rowlen += (size_t)len;
		first = false;
	}
}

/* A binary row: 0x00, a NULL bitmap (offset 2), the values by column type. */
static void binary_row(struct mysql_resp *rs, const struct mysql_cfg *cfg, const uint8_t *p, size_t n)
{
	struct reader r;
	const uint8_t *nulls;
	struct mysql_text v;
	size_t rowlen = 0, max = (size_t)cfg->max_row_length;

	if (!rs->ctypes || rs->nctypes != rs->ncols)
		return; /* the column types are not known */
	rd_init(&r, p + 1, n - 1);
	nulls = rd_bytes(&r, (rs->ncols + 7 + 2) / 8);
	if (!nulls)
		return;
	mysql_text_init(&v, max + 1);
	for (size_t i = 0; i < rs->ncols; i++) {
		size_t bit = i + 2;

		v.len = 0;
		if (nulls[bit / 8] & (1u << (bit % 8)))
			mysql_text_puts(&v, "NULL");
		else if (!mysql_bin_value(&r, rs->ctypes[2 * i], rs->ctypes[2 * i + 1], &v))
			break;
		if (rowlen >= max)
			continue;
		if (v.len > max - rowlen)
			v.len = max - rowlen;
		if (i)
			mysql_text_put(&rs->csv, ",", 1);
		csv_field(&rs->csv, (const uint8_t *)(v.p ? v.p : ""), v.len);
		rowlen += v.len;
	}
	mysql_text_free(&v);
}

static void row(struct conn *c, struct mysql_resp *rs, const uint8_t *p, size_t n)
{
	const struct mysql_cfg *cfg = mysql_cfg_of(c);

	rs->res->num_rows++;
	if (!csv_wanted(c, rs) || rs->rows_kept >= (uint64_t)cfg->max_rows)
		return;
	if (!rs->rows_kept && rs->csv.len)
		mysql_text_put(&rs->csv, "\n", 1); /* after the header */
	rs->rows_kept++;
	if (rs->binary)
		binary_row(rs, cfg, p, n);
	else
		text_row(rs, cfg, p, n);
	mysql_text_put(&rs->csv, "\n", 1);
}

/* The header line ends when the rows begin (or the result does, without rows). */
static void header_end(struct conn *c, struct mysql_resp *rs)
{
	if (csv_wanted(c, rs) && rs->csv.len && !rs->rows_kept)
		mysql_text_put(&rs->csv, "\n", 1);
}

/* ---- the states ---- */

static void step(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
		 uint32_t plen, uint64_t ts);

/* PREPARE_OK: statement id, columns, parameters; then their definitions. */
static void prepare_ok(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
		       uint64_t ts)
{
	struct reader r;

	rd_init(&r, p + 1, n - 1);
	rs->stmt_id = rd_le32(&r);
	rs->pcols = rd_le16(&r);
	rs->nparams = rd_le16(&r);
	if (r.err) {
		corr_count(c, PSTAT_PARSE_ERRORS);
		finish(c, mc, rs, ts);
		return;
	}
	rs->res->num_fields = rs->pcols;
	types_alloc(rs, rs->pcols);
	rs->left = rs->nparams;
	rs->st = MYSQL_RS_PARAMS_DEF;
	if (!rs->nparams) {
		rs->left = rs->pcols;
		rs->st = MYSQL_RS_PCOLS_DEF;
		if (!rs->pcols)
			finish(c, mc, rs, ts);
	}
}

static void first_packet(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
			 uint32_t plen, uint64_t ts)
{
	if (rs->cmd == MYSQL_COM_STATISTICS && p[0] != 0xff) {
		finish(c, mc, rs, ts); /* a text line */
		return;
	}
	switch (p[0]) {
	case 0xff:
		err_packet(rs->res, p, n);
		finish(c, mc, rs, ts);
		return;
	case 0x00:
		if (rs->cmd == MYSQL_COM_STMT_PREPARE && plen == 12)
			prepare_ok(c, mc, rs, p, n, ts);
		else
			result_end(c, mc, rs, ok_packet(rs->res, p, n), ts);
		return;
	case 0xfe:
		if (plen < 9) {
			result_end(c, mc, rs, plen <= 5 ? eof_status(p, n) : ok_packet(rs->res, p, n), ts);
			return;
		}
		break;
	case 0xfb:
		return; /* LOCAL INFILE: the client sends the file, then the server's OK ends the response */
	}
	result_set(c, mc, rs, p, n);
}

/* A PREPARE_OK's column definitions are done (their EOF, if any, consumed): the response ends. */
static void prepare_cols(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, uint64_t ts)
{
	rs->left = rs->pcols;
	rs->st = MYSQL_RS_PCOLS_DEF;
	if (!rs->pcols)
		finish(c, mc, rs, ts);
}

/* A definition ends its block: what comes next (EOF, the next block, or the end). */
static void prepare_def_done(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, uint64_t ts)
{
	bool params = rs->st == MYSQL_RS_PARAMS_DEF;

	if (!deprecate_eof(mc)) {
		rs->st = params ? MYSQL_RS_PARAMS_END : MYSQL_RS_PCOLS_END;
		return;
	}
	if (params)
		prepare_cols(c, mc, rs, ts);
	else
		finish(c, mc, rs, ts);
}

/* The packet after a PREPARE block: its EOF, or (handshake unseen, CLIENT_DEPRECATE_EOF) already the next. */
static void prepare_end(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
			uint32_t plen, uint64_t ts)
{
	bool eof = mysql_is_eof(p, n, plen);

	if (rs->st == MYSQL_RS_PARAMS_END) {
		prepare_cols(c, mc, rs, ts);
		if (!eof && rs->m)
			step(c, mc, rs, p, n, plen, ts); /* the first column definition */
		return;
	}
	if (!eof)
		rs->m->bytes -= MYSQL_HDR + (uint64_t)plen; /* not this response's */
	finish(c, mc, rs, ts);
	if (!eof)
		mysql_resp_packet(c, mc, p, n, plen, ts); /* the next response's first packet */
}

static void rows_packet(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
			uint32_t plen, uint64_t ts)
{
	if (p[0] == 0xfe && plen < MYSQL_PKT_FULL) { /* EOF, or OK with the 0xfe header */
		header_end(c, rs);
		result_end(c, mc, rs, plen <= 5 ? eof_status(p, n) : ok_packet(rs->res, p, n), ts);
	} else if (p[0] == 0xff) {
		err_packet(rs->res, p, n);
		finish(c, mc, rs, ts);
	} else {
		row(c, rs, p, n);
	}
}

static void cols_end(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
		     uint32_t plen, uint64_t ts)
{
	rs->st = MYSQL_RS_ROWS;
	if (!mysql_is_eof(p, n, plen)) {
		rows_packet(c, mc, rs, p, n, plen, ts); /* CLIENT_DEPRECATE_EOF: a row or the closing OK */
		return;
	}
	if ((eof_status(p, n) & MYSQL_STATUS_CURSOR_EXISTS) && rs->cmd == MYSQL_COM_STMT_EXECUTE) {
		header_end(c, rs);
		finish(c, mc, rs, ts); /* a cursor: the rows come with COM_STMT_FETCH */
	}
}

static void step(struct conn *c, struct mysql_conn *mc, struct mysql_resp *rs, const uint8_t *p, size_t n,
		 uint32_t plen, uint64_t ts)
{
	switch (rs->st) {
	case MYSQL_RS_FIRST:
		first_packet(c, mc, rs, p, n, plen, ts);
		return;
	case MYSQL_RS_COLS:
		column_def(c, rs, p, n, rs->ncols - rs->left);
		if (--rs->left == 0)
			rs->st = MYSQL_RS_COLS_END;
		return;
	case MYSQL_RS_COLS_END:
		cols_end(c, mc, rs, p, n, plen, ts);
		return;
	case MYSQL_RS_ROWS:
		rows_packet(c, mc, rs, p, n, plen, ts);
		return;
	case MYSQL_RS_PARAMS_DEF:
	case MYSQL_RS_PCOLS_DEF:
		column_def(c, rs, p, n, rs->st == MYSQL_RS_PCOLS_DEF ? rs->pcols - rs->left : MYSQL_TYPES_MAX);
		if (--rs->left == 0)
			prepare_def_done(c, mc, rs, ts);
		return;
	case MYSQL_RS_PARAMS_END:
	case MYSQL_RS_PCOLS_END:
		prepare_end(c, mc, rs, p, n, plen, ts);
		return;
	case MYSQL_RS_FIELDS:
		if (p[0] == 0xff)
			err_packet(rs->res, p, n);
		else if (!(p[0] == 0xfe && plen < 9)) {
			rs->res->num_fields++;
			column_def(c, rs, p, n, 0);
			return;
		}
		finish(c, mc, rs, ts);
		return;
	case MYSQL_RS_AUTH:
		if (p[0] == 0xff)
			err_packet(rs->res, p, n);
		else if (p[0] == 0x00)
			ok_packet(rs->res, p, n);
		else
			return; /* auth switch, more data */
		finish(c, mc, rs, ts);
		return;
	}
}

void mysql_resp_packet(struct conn *c, struct mysql_conn *mc, const uint8_t *p, size_t n, uint32_t plen, uint64_t ts)
{
	struct mysql_resp *rs = &mc->r;

	if (!n)
		return;
	if (!rs->m) {
		start(c, rs, ts);
		if (!rs->m || !rs->res) {
			mysql_resp_reset(rs);
			return;
		}
	}
	rs->m->bytes += MYSQL_HDR + (uint64_t)plen;
	rs->m->ts_end = ts;
	step(c, mc, rs, p, n, plen, ts);
}
