/*
 * What the server answers, in the order of the client messages that owe a
 * reply (the ring pgsql_front.c fills). A result is the rows
 * (RowDescription, DataRow, or CopyData of a COPY TO) up to its
 * CommandComplete, EmptyQueryResponse, PortalSuspended or ErrorResponse;
 * it answers the Execute it was owed for, or the next statement of a
 * simple Query (a transaction of its own, starting where the previous
 * statement's result ended). An ErrorResponse in the extended protocol
 * answers the first Execute of its batch; the server skips the others up
 * to the Sync, and so does this: they are published without a response.
 * ReadyForQuery closes a Query or a Sync. NoticeResponse,
 * NotificationResponse, ParameterStatus and the startup messages answer
 * nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "pgsql.h"
#include "reader.h"

static const char note_skipped[] = "Not executed: an earlier message of its pipeline failed";

/* ---- owed replies ---- */

static const struct pgsql_owed *owed_head(const struct pgsql_conn *pc)
{
	return pc->owed_n ? &pc->owed[pc->owed_head] : NULL;
}

static struct pgsql_owed owed_pop(struct pgsql_conn *pc)
{
	struct pgsql_owed o = pc->owed[pc->owed_head];

	pc->owed_head = (pc->owed_head + 1) % pc->owed_cap;
	pc->owed_n--;
	return o;
}

static bool by_id(const struct msg *req, const void *arg)
{
	return req->id == *(const uint64_t *)arg;
}

/* An Execute the server skipped (or whose answer was lost): published without a response. */
static void give_up(struct conn *c, uint64_t id, const char *note)
{
	struct msg *req = corr_take_id(c, id);

	if (!req)
		return;
	if (note)
		msg_note(req, note);
	corr_publish(c, req, NULL);
}

/* A simple Query is over: published if no statement answered it, else only forgotten. */
static void query_done(struct conn *c, uint64_t id)
{
	const struct msg *q = corr_find(c, by_id, &id);
	const struct pgsql_req *pr = q ? q->priv : NULL;
	struct msg *req;

	if (!q)
		return;
	req = corr_take(c, q);
	if (pr && pr->answered)
		msg_free(req);
	else
		corr_publish(c, req, NULL);
}

/* Drop the owed replies before the first of kind (not popping it); Executes and Queries among them end. */
static void owed_skip_to(struct conn *c, struct pgsql_conn *pc, enum pgsql_owed_kind kind, const char *note)
{
	const struct pgsql_owed *h;

	while ((h = owed_head(pc)) && h->kind != kind) {
		struct pgsql_owed o = owed_pop(pc);

		if (o.kind == OWED_EXECUTE)
			give_up(c, o.id, note);
		else if (o.kind == OWED_QUERY)
			query_done(c, o.id);
	}
}

/* ---- results ---- */

static void desc_reset(struct pgsql_desc *d)
{
	d->valid = false;
	d->nfields = 0;
	d->header.len = 0;
}

static void res_clear(struct pgsql_result *res)
{
	free(res->code);
	free(res->message);
	free(res->severity);
	json_buf_free(&res->csv);
	memset(res, 0, sizeof(*res));
}

void pgsql_back_free(struct pgsql_conn *pc)
{
	res_clear(&pc->res);
	json_buf_free(&pc->desc.header);
	free(pc->desc.formats);
}

static void res_open(struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct pgsql_result *res = &pc->res;

	if (res->open)
		return;
	res->open = true;
	res->ts = pc->resp_ts ? pc->resp_ts : f->ts;
	if (pc->desc.valid) {
		res->num_fields = pc->desc.nfields;
		json_buf_put(&res->csv, pc->desc.header.p, pc->desc.header.len);
	}
}

/* One CSV field as Go's encoding/csv writes it, after Packetbeat's escaping of line breaks. */
static void csv_field(struct json_buf *b, const uint8_t *s, size_t n, bool first, bool header)
{
	bool quote = n == 2 && s[0] == '\\' && s[1] == '.';

	if (!first)
		json_buf_lit(b, ",");
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || (header && s[i] == '\r');
	if (n && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		quote = true;
	if (quote)
		json_buf_lit(b, "\"");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			json_buf_lit(b, "\\n");
		else if (s[i] == '\r' && !header)
			json_buf_lit(b, "\\r");
		else if (s[i] == '"')
			json_buf_lit(b, "\"\"");
		else
			json_buf_put(b, s + i, 1);
	}
	if (quote)
		json_buf_lit(b, "\"");
}

static bool csv_room(struct conn *c, const struct json_buf *b)
{
	if (b->len < PGSQL_CSV_MAX)
		return true;
	corr_count(c, PSTAT_TOO_LARGE);
	return false;
}

static void on_row_description(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct pgsql_desc *d = &pc->desc;
	struct reader r;
	uint16_t n;

	desc_reset(d);
	if (!d->formats && !(d->formats = calloc(PGSQL_FIELDS_MAX, 1)))
		return;
	rd_init(&r, f->p, f->len);
	n = rd_be16(&r);
	for (uint16_t i = 0; i < n && !r.err; i++) {
		size_t len;
		const char *name = rd_cstr(&r, rd_left(&r), &len);
		uint16_t fmt;

		rd_skip(&r, 4 + 2 + 4 + 2 + 4); /* table, column, type, size, modifier */
		fmt = rd_be16(&r);
		if (!name || r.err)
			break;
		if (i < PGSQL_FIELDS_MAX)
			d->formats[i] = fmt != 0;
		if (csv_room(c, &d->header))
			csv_field(&d->header, (const uint8_t *)name, len, i == 0, true);
	}
	if (r.err)
		corr_count(c, PSTAT_PARSE_ERRORS);
	if (n > PGSQL_FIELDS_MAX)
		corr_count(c, PSTAT_TOO_LARGE);
	json_buf_lit(&d->header, "\n");
	d->nfields = n;
	d->valid = true;
}

/* A DataRow: counted; the first max_rows rendered, max_row_length bytes of values each (as Packetbeat). */
static void on_data_row(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	const struct pgsql_cfg *cfg = pgsql_cfg(c);
	struct pgsql_result *res = &pc->res;
	struct reader r;
	uint16_t n;
	int64_t row_len = 0;

	res_open(pc, f);
	res->num_rows++;
	rd_init(&r, f->p, f->len);
	n = rd_be16(&r);
	if (!res->num_fields)
		res->num_fields = n;
	if ((int64_t)res->rows_kept >= cfg->max_rows || !csv_room(c, &res->csv))
		return;
	res->rows_kept++;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = rd_be32(&r);
		const uint8_t *v = len == UINT32_MAX ? NULL : rd_bytes(&r, len);
		size_t take = v ? len : 0;

		if (r.err) {
			if (!f->truncated)
				corr_count(c, PSTAT_PARSE_ERRORS);
			break;
		}
		if (pc->desc.valid && i < PGSQL_FIELDS_MAX && pc->desc.formats[i])
			take = 0; /* binary: Packetbeat leaves it empty */
		if (row_len >= cfg->max_row_length)
			continue;
		if (row_len + (int64_t)take > cfg->max_row_length)
			take = (size_t)(cfg->max_row_length - row_len);
		csv_field(&res->csv, v, take, i == 0, false);
		row_len += (int64_t)take;
	}
	json_buf_lit(&res->csv, "\n");
}

static char *field_copy(const char *s, size_t n)
{
	char *d;

	if (n > PGSQL_ERR_TEXT_MAX)
		n = PGSQL_ERR_TEXT_MAX;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void on_error_fields(struct conn *c, struct pgsql_result *res, const struct pgsql_frame *f)
{
	struct reader r;
	uint8_t t;

	rd_init(&r, f->p, f->len);
	while ((t = rd_u8(&r)) != 0) {
		size_t n;
		const char *v = rd_cstr(&r, rd_left(&r), &n);
		char **slot = t == 'C' ? &res->code : t == 'M' ? &res->message : t == 'S' ? &res->severity : NULL;

		if (!v)
			break;
		if (slot && !*slot)
			*slot = field_copy(v, n);
	}
	if (r.err && !f->truncated)
		corr_count(c, PSTAT_PARSE_ERRORS);
	res->error = true;
}

static void resp_free(void *priv)
{
	struct pgsql_resp *pr = priv;

	if (!pr)
		return;
	free(pr->code);
	free(pr->message);
	free(pr->severity);
	free(pr);
}

static size_t text_bytes(const struct pgsql_resp *pr)
{
	return (pr->code ? strlen(pr->code) : 0) + (pr->message ? strlen(pr->message) : 0) +
	       (pr->severity ? strlen(pr->severity) : 0);
}

/* The result as a response message; the result is reset for the next one. */
static struct msg *res_finish(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct pgsql_result *res = &pc->res;
	struct pgsql_resp *pr = calloc(1, sizeof(*pr));
	struct msg *m;

	res_open(pc, f);
	m = pr ? msg_new(res->ts) : NULL;
	if (m) {
		m->ts_end = f->ts_end;
		m->bytes = pc->resp_bytes;
		m->status = res->error ? MSG_ERROR : MSG_OK;
		pr->num_rows = res->num_rows;
		pr->num_fields = res->num_fields;
		pr->error = res->error;
		pr->code = res->code, res->code = NULL;
		pr->message = res->message, res->message = NULL;
		pr->severity = res->severity, res->severity = NULL;
		if (c->cfg->send_response && res->csv.len && !res->csv.err) {
			msg_take_raw(m, res->csv.p, res->csv.len);
			res->csv = (struct json_buf){ 0 };
		}
		msg_set_priv(m, pr, resp_free, text_bytes(pr));
	} else {
		free(pr);
	}
	res_clear(res);
	desc_reset(&pc->desc);
	pc->resp_bytes = 0;
	pc->resp_ts = 0;
	return m;
}

/* The next statement of simple Query id answers resp. */
static void answer_statement(struct conn *c, uint64_t id, struct msg *resp)
{
	const struct msg *q = corr_find(c, by_id, &id);
	struct pgsql_req *unit = q ? q->priv : NULL, *pr;
	size_t off = 0, len = 0;
	struct msg *m;

	if (!unit) {
		corr_unmatched(c, resp);
		return;
	}
	if (unit->answered < unit->nsplit) {
		off = unit->split[2 * unit->answered];
		len = unit->split[2 * unit->answered + 1];
	} else {
		len = unit->len; /* more answers than statements found (or none: a comment) */
	}
	pr = calloc(1, sizeof(*pr));
	if (pr) {
		pr->who = unit->who;
		pr->text = malloc(len + 1);
	}
	if (!pr || !pr->text) {
		pgsql_req_free(pr);
		msg_free(resp);
		return;
	}
	memcpy(pr->text, unit->text + off, len);
	pr->text[len] = '\0';
	pr->len = len;
	m = pgsql_req_msg(c, pr, unit->answered ? unit->last_end : q->ts, unit->answered ? 0 : q->bytes);
	unit->answered++;
	unit->last_end = resp->ts_end;
	if (!m) {
		msg_free(resp);
		return;
	}
	corr_publish(c, m, resp);
}

/* A result is complete: it answers the owed Execute or the current Query's next statement. */
static void on_complete(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	struct msg *resp = res_finish(c, pc, f);
	const struct pgsql_owed *h;

	if (!resp)
		return;
	while ((h = owed_head(pc)) && h->kind != OWED_EXECUTE && h->kind != OWED_QUERY && h->kind != OWED_SYNC)
		owed_pop(pc); /* Parse, Bind, Describe, Close: answered on the way */
	if (h && h->kind == OWED_QUERY) {
		answer_statement(c, h->id, resp);
		return;
	}
	if (!h || h->kind == OWED_SYNC) {
		corr_unmatched(c, resp);
		return;
	}
	{
		struct msg *req = corr_take_id(c, owed_pop(pc).id);

		if (req)
			corr_publish(c, req, resp);
		else
			corr_unmatched(c, resp);
	}
}

/* The first owed reply that is not of the extended protocol's bookkeeping. */
static enum pgsql_owed_kind head_kind(struct pgsql_conn *pc)
{
	const struct pgsql_owed *h = owed_head(pc);

	return h ? (enum pgsql_owed_kind)h->kind : OWED_SYNC;
}

static void on_error(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	enum pgsql_owed_kind k = head_kind(pc);
	struct msg *resp;

	on_error_fields(c, &pc->res, f);
	if (k == OWED_QUERY || k == OWED_EXECUTE) {
		on_complete(c, pc, f);
		if (k == OWED_EXECUTE)
			owed_skip_to(c, pc, OWED_SYNC, note_skipped);
		return;
	}
	resp = res_finish(c, pc, f);
	if (k == OWED_STARTUP && pc->owed_n) { /* authentication failed */
		owed_pop(pc);
		if (resp)
			corr_unmatched(c, resp);
		return;
	}
	/* Parse, Bind, Describe, Close failed: the first Execute of the batch gets the error */
	while (owed_head(pc) && head_kind(pc) != OWED_EXECUTE && head_kind(pc) != OWED_SYNC &&
	       head_kind(pc) != OWED_QUERY)
		owed_pop(pc);
	if (head_kind(pc) == OWED_EXECUTE && owed_head(pc)) {
		struct msg *req = corr_take_id(c, owed_pop(pc).id);

		if (req && resp)
			corr_publish(c, req, resp);
		else if (resp)
			corr_unmatched(c, resp);
		owed_skip_to(c, pc, OWED_SYNC, note_skipped);
		return;
	}
	if (resp)
		corr_unmatched(c, resp);
}

/* ReadyForQuery: the Sync, Query or startup it closes, and whatever was owed before it. */
static void on_ready(struct conn *c, struct pgsql_conn *pc)
{
	const struct pgsql_owed *h;

	while ((h = owed_head(pc))) {
		struct pgsql_owed o = owed_pop(pc);

		if (o.kind == OWED_EXECUTE)
			give_up(c, o.id, NULL);
		if (o.kind == OWED_QUERY)
			query_done(c, o.id);
		if (o.kind == OWED_SYNC || o.kind == OWED_QUERY || o.kind == OWED_STARTUP || o.kind == OWED_CALL)
			break;
	}
	if (pc->res.open)
		res_clear(&pc->res);
	desc_reset(&pc->desc);
	pc->resp_bytes = 0;
	pc->resp_ts = 0;
}

static void pop_if(struct pgsql_conn *pc, enum pgsql_owed_kind kind)
{
	if (owed_head(pc) && head_kind(pc) == kind)
		owed_pop(pc);
}

void pgsql_back(struct conn *c, struct pgsql_conn *pc, const struct pgsql_frame *f)
{
	if (!pc->resp_ts)
		pc->resp_ts = f->ts;
	pc->resp_bytes += f->wire;
	switch (f->type) {
	case 'T':
		on_row_description(c, pc, f);
		pop_if(pc, OWED_DESCRIBE);
		if (head_kind(pc) == OWED_QUERY)
			res_open(pc, f);
		break;
	case 'n':
		desc_reset(&pc->desc);
		pop_if(pc, OWED_DESCRIBE);
		break;
	case 'D':
		on_data_row(c, pc, f);
		break;
	case 'd': /* COPY TO: a row */
		res_open(pc, f);
		pc->res.num_rows++;
		break;
	case 'G':
	case 'H':
	case 'W':
		res_open(pc, f);
		break;
	case 'C':
	case 'I':
	case 's':
		on_complete(c, pc, f);
		break;
	case 'E':
		on_error(c, pc, f);
		break;
	case 'Z':
		on_ready(c, pc);
		break;
	case '1':
		pop_if(pc, OWED_PARSE);
		break;
	case '2':
		pop_if(pc, OWED_BIND);
		break;
	case '3':
		pop_if(pc, OWED_CLOSE);
		break;
	default: /* ParameterDescription, notices, notifications, parameter status, authentication, key data */
		break;
	}
}
