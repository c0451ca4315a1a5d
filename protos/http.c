/*
 * HTTP/1.x parser (Packetbeat's `http` module): one state machine per
 * direction. The header section is parsed once it is complete (capped at
 * HTTP_HEAD_MAX); bodies (Content-Length, chunked, until close) are consumed
 * as they arrive and only copied when an option needs them (include_body_for,
 * form parameters), capped at max_message_size. As in Packetbeat, the raw
 * request/response (send_request/send_response) is the header section, plus
 * the body only when include_body_for publishes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

enum hstate {
	ST_START, /* waiting for a complete header section */
	ST_BODY_LEN, /* Content-Length body: left bytes to go */
	ST_BODY_CLOSE, /* body until the connection closes */
	ST_CHUNK_SIZE, /* chunk-size line */
	ST_CHUNK_DATA, /* chunk data: left bytes to go */
	ST_CHUNK_CRLF, /* CRLF after chunk data */
	ST_TRAILER, /* trailer fields after the last chunk */
	ST_TUNNEL, /* after 101 Switching Protocols / CONNECT: not HTTP any more */
};

struct http_dir {
	enum hstate st;
	bool active; /* first byte of a message seen: start_ts valid */
	bool have_head; /* h is valid */
	uint64_t start_ts;
	size_t scan; /* bytes already searched for the end of the header section */
	struct http_head h;
	uint64_t left; /* body or chunk bytes still expected */
	uint64_t wire; /* bytes of the message so far */
	uint64_t wire_lost; /* of which lost in gaps or passed over uncopied (heads-only) */
	uint64_t body; /* body bytes (de-chunked) so far */
	uint64_t trailer; /* trailer bytes so far */
	uint8_t *cbuf; /* captured body */
	size_t clen, ccap, cmax;
	bool capture, send_body, too_large, lost;
};

struct http_conn {
	struct http_dir d[2];
	/*
	 * A response that ended before its request did (a server answering
	 * before reading the body: early 4xx, 100-continue handlers that do not
	 * wait): held until the request is complete, then paired.
	 */
	struct msg *early;
};

static const uint16_t http_default_ports[] = { 80, 8080, 8000, 5000, 8002 };

/* clang-format off */
#define HF(k, t, m) { .key = k, .type = t, .offset = offsetof(struct http_cfg, m) }
/* clang-format on */
static const struct cfg_field http_cfg_fields[] = {
	HF("send_headers", CFG_STRLIST, send_headers),
	HF("send_all_headers", CFG_BOOL, send_all_headers),
	HF("split_cookie", CFG_BOOL, split_cookie),
	HF("real_ip_header", CFG_STRING, real_ip_header),
	HF("include_body_for", CFG_STRLIST, include_body_for),
	HF("include_request_body_for", CFG_STRLIST, include_request_body_for),
	HF("include_response_body_for", CFG_STRLIST, include_response_body_for),
	HF("max_message_size", CFG_SIZE, max_message_size),
	HF("redact_authorization", CFG_BOOL, redact_authorization),
	HF("hide_keywords", CFG_STRLIST, hide_keywords),
	HF("redact_headers", CFG_STRLIST, redact_headers),
	HF("decode_body", CFG_BOOL, decode_body),
	{ .key = NULL },
};

static void *http_cfg_new(void)
{
	struct http_cfg *hc = calloc(1, sizeof(*hc));

	if (hc) {
		hc->max_message_size = HTTP_DEFAULT_MAX_MESSAGE;
		hc->decode_body = true;
	}
	return hc;
}

static void http_cfg_free(void *priv)
{
	if (!priv)
		return;
	cfg_fields_free(http_cfg_fields, priv);
	free(priv);
}

static const struct http_cfg *hcfg(const struct conn *c)
{
	static const struct http_cfg defaults = { .max_message_size = HTTP_DEFAULT_MAX_MESSAGE, .decode_body = true };

	return c->cfg->priv ? c->cfg->priv : &defaults;
}

static void dir_reset(struct http_dir *d)
{
	bool tunnel = d->st == ST_TUNNEL;

	http_head_clear(&d->h);
	free(d->cbuf);
	memset(d, 0, sizeof(*d));
	d->st = tunnel ? ST_TUNNEL : ST_START;
}

static void *http_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct http_conn));
}

static void http_conn_free(void *pstate)
{
	struct http_conn *hc = pstate;

	if (!hc)
		return;
	dir_reset(&hc->d[0]);
	dir_reset(&hc->d[1]);
	msg_free(hc->early);
	free(hc);
}

/* ---- finishing a message ---- */

/* The held early response goes to the correlator (paired, or counted unmatched). */
static void flush_early(struct conn *c)
{
	struct http_conn *hc = c->pstate;
	struct msg *m = hc->early;

	hc->early = NULL;
	if (m)
		corr_response(c, m);
}

static void deliver(struct conn *c, bool is_request, struct msg *m)
{
	struct http_conn *hc = c->pstate;

	if (is_request) {
		corr_request(c, m);
		flush_early(c);
		return;
	}
	if (!corr_oldest(c) && hc->d[DIR_C2S].have_head) {
		flush_early(c);
		hc->early = m;
		return;
	}
	corr_response(c, m);
}

static void complete(struct conn *c, struct http_dir *d, uint64_t ts)
{
	struct http_body b = { .bytes = d->body,
			       .data = d->cbuf,
			       .len = d->clen,
			       .send = d->send_body,
			       .decode = hcfg(c)->decode_body,
			       .lost = d->lost,
			       .max = hcfg(c)->max_message_size };
	struct msg *m = msg_new(d->start_ts);
	bool is_request = d->h.is_request;
	const char *note = d->h.note;

	if (m) {
		m->ts_end = ts;
		m->bytes = d->wire;
		if (!is_request)
			m->status = d->h.status >= 400 ? MSG_ERROR : MSG_OK;
		http_msg_set(m, &d->h, &b, hcfg(c), &c->flow); /* takes d->h */
		if (note)
			msg_note(m, note);
		deliver(c, is_request, m);
	}
	dir_reset(d);
}

/* Both directions stop being HTTP (101 Switching Protocols, CONNECT tunnel). */
static void start_tunnel(struct http_conn *hc)
{
	for (int i = 0; i < 2; i++) {
		dir_reset(&hc->d[i]);
		hc->d[i].st = ST_TUNNEL;
	}
}

/* ---- body bytes ---- */

static void count_bytes(struct conn *c, struct http_dir *d, uint64_t n)
{
	d->wire += n;
	if (!d->too_large && d->wire > hcfg(c)->max_message_size) {
		d->too_large = true;
		corr_count(c, PSTAT_TOO_LARGE);
	}
}

static void capture(struct http_dir *d, const uint8_t *data, size_t n)
{
	size_t room = d->cmax - d->clen;

	if (!d->capture || !room)
		return;
	if (n > room)
		n = room;
	if (d->clen + n > d->ccap) {
		size_t cap = d->ccap ? d->ccap : 4096;
		uint8_t *p;

		while (cap < d->clen + n)
			cap *= 2;
		if (cap > d->cmax)
			cap = d->cmax;
		p = realloc(d->cbuf, cap);
		if (!p) {
			d->capture = false;
			return;
		}
		d->cbuf = p;
		d->ccap = cap;
	}
	memcpy(d->cbuf + d->clen, data, n);
	d->clen += n;
}

static void body_bytes(struct conn *c, struct http_dir *d, const uint8_t *data, size_t n)
{
	count_bytes(c, d, n);
	d->body += n;
	capture(d, data, n);
}

/* Packet loss inside a body: count what was lost, stop copying it. */
static void body_lost(struct conn *c, struct http_dir *d, uint64_t n)
{
	count_bytes(c, d, n);
	d->wire_lost += n;
	d->body += n;
	d->capture = false;
	d->send_body = false;
	d->lost = true;
}

/* ---- header section ---- */

static const char *oldest_method(const struct conn *c)
{
	return http_msg_method(corr_oldest(c));
}

static void setup_capture(struct conn *c, enum dir dir, struct http_dir *d)
{
	const struct http_cfg *cfg = hcfg(c);
	const char *ct = d->h.content_type;
	bool form = d->h.is_request && ct && strcasestr(ct, "urlencoded");

	d->send_body = http_content_type_match(ct, &cfg->include_body_for) ||
		       http_content_type_match(ct, dir == DIR_C2S ? &cfg->include_request_body_for
								  : &cfg->include_response_body_for);
	d->capture = d->send_body || form; /* the raw request/response holds the body only when it is sent */
	d->cmax = cfg->max_message_size > d->h.head_len ? cfg->max_message_size - d->h.head_len : 0;
}

/* Message framing after the header section; returns 1 when the message has no body. */
static int frame_request(struct http_dir *d)
{
	/* a request with a coding but not chunked last has no length a server agrees on: no body, resync on the next head */
	if (d->h.te_other)
		return 1;
	if (d->h.chunked) {
		d->st = ST_CHUNK_SIZE;
		return 0;
	}
	if (d->h.has_clen && d->h.clen > 0) {
		d->st = ST_BODY_LEN;
		d->left = d->h.clen;
		return 0;
	}
	return 1;
}

static int frame_response(struct conn *c, struct http_dir *d)
{
	const char *method = oldest_method(c);
	int st = d->h.status;

	if (st == 204 || st == 304 || !strcmp(method, "HEAD"))
		return 1;
	if (d->h.chunked) {
		d->st = ST_CHUNK_SIZE;
		return 0;
	}
	if (d->h.has_clen && !d->h.te_other) {
		d->st = ST_BODY_LEN;
		d->left = d->h.clen;
		return d->h.clen == 0;
	}
	d->st = ST_BODY_CLOSE;
	return 0;
}

/* A parsed header section: decide the body, finish bodiless messages. */
static void head_done(struct conn *c, struct http_conn *hc, enum dir dir, struct http_dir *d, uint64_t ts)
{
	int st = d->h.status;

	count_bytes(c, d, d->h.head_len);
	if (d->h.is_request) {
		setup_capture(c, dir, d);
		if (frame_request(d))
			complete(c, d, ts);
		return;
	}
	if (st >= 100 && st < 200 && st != 101) {
		dir_reset(d); /* interim response (100 Continue, 103 Early Hints) */
		return;
	}
	if (st == 101 || (st >= 200 && st < 300 && !strcmp(oldest_method(c), "CONNECT"))) {
		complete(c, d, ts);
		start_tunnel(hc);
		return;
	}
	setup_capture(c, dir, d);
	if (frame_response(c, d))
		complete(c, d, ts);
}

static bool plausible_start(enum dir dir, const uint8_t *data, size_t len)
{
	if (dir == DIR_S2C)
		return !memcmp(data, "HTTP/", len < 5 ? len : 5);
	return (data[0] >= 'A' && data[0] <= 'Z') || (data[0] >= 'a' && data[0] <= 'z');
}

/*
 * Offset of the byte after the empty line that ends the head, or 0. Lines
 * end in CRLF or a bare LF (RFC 9112 2.2), so the head ends at LF CRLF or
 * LF LF.
 */
static size_t head_end(struct http_dir *d, const uint8_t *data, size_t len)
{
	size_t i = d->scan > 2 ? d->scan - 2 : 0;

	d->scan = len;
	/* memchr for each LF: glibc's memmem sets up a two-way search per call, slower on short heads */
	while (i + 2 <= len) {
		const uint8_t *lf = memchr(data + i, '\n', len - 1 - i);

		if (!lf)
			break;
		i = (size_t)(lf - data);
		if (lf[1] == '\n')
			return i + 2;
		if (lf[1] == '\r' && i + 3 <= len && lf[2] == '\n')
			return i + 3;
		i++;
	}
	return 0;
}

static ssize_t step_start(struct conn *c, struct http_conn *hc, enum dir dir, const uint8_t *data, size_t len,
			  uint64_t ts)
{
	struct http_dir *d = &hc->d[dir];
	bool want_raw = dir == DIR_C2S ? c->cfg->send_request : c->cfg->send_response;
	size_t n;

	if (!d->active && data[0] == '\n')
		return 1; /* stray line ends between messages */
	if (!d->active && data[0] == '\r')
		return len < 2 ? 0 : data[1] == '\n' ? 2 : PARSE_ERROR;
	if (!plausible_start(dir, data, len))
		return PARSE_ERROR;
	if (!d->active) {
		d->active = true;
		d->start_ts = ts;
	}
	n = head_end(d, data, len);
	if (!n) {
		const uint8_t *eol = memchr(data, '\n', len < HTTP_LINE_MAX ? len : HTTP_LINE_MAX);
		size_t ll = eol ? (size_t)(eol - data) - (eol > data && eol[-1] == '\r') : 0;

		/* a bad start line (junk, HTTP/0.9) is dropped now, before the messages after it arrive */
		if (eol && !http_start_line_ok(data, ll))
			return PARSE_ERROR;
		return len > HTTP_HEAD_MAX || (!eol && len >= HTTP_LINE_MAX) ? PARSE_ERROR : 0;
	}
	if (n > HTTP_HEAD_MAX || http_head_parse(&d->h, hcfg(c), data, n, want_raw) ||
	    d->h.is_request != (dir == DIR_C2S))
		return PARSE_ERROR;
	d->have_head = true;
	head_done(c, hc, dir, d, ts);
	return (ssize_t)n;
}

/* ---- bodies ---- */

static ssize_t step_body(struct conn *c, struct http_dir *d, const uint8_t *data, size_t len, uint64_t ts)
{
	size_t n = len;

	if (d->st == ST_BODY_CLOSE) {
		body_bytes(c, d, data, n);
		return (ssize_t)n;
	}
	if (n > d->left)
		n = (size_t)d->left;
	body_bytes(c, d, data, n);
	d->left -= n;
	if (d->left == 0) {
		if (d->st == ST_CHUNK_DATA)
			d->st = ST_CHUNK_CRLF;
		else
			complete(c, d, ts);
	}
	return (ssize_t)n;
}

/*
 * A line ending in CRLF or a bare LF within max bytes: its length with the
 * line end, 0 = need more, -1 = too long. *eol is the length of the line end.
 */
static long line_len(const uint8_t *data, size_t len, size_t max, int *eol)
{
	const uint8_t *lf = memchr(data, '\n', len < max ? len : max);

	if (!lf)
		return len >= max ? -1 : 0;
	*eol = lf > data && lf[-1] == '\r' ? 2 : 1;
	return (long)(lf - data) + 1;
}

static ssize_t step_chunk_size(struct conn *c, struct http_dir *d, const uint8_t *data, size_t len)
{
	int eol = 2;
	long n = line_len(data, len, HTTP_CHUNK_LINE_MAX, &eol);
	uint64_t size = 0;
	long i;

	if (n <= 0)
		return n < 0 ? PARSE_ERROR : 0;
	for (i = 0; i < n - eol && i < 16; i++) {
		int v = data[i] >= '0' && data[i] <= '9'		     ? data[i] - '0'
			: (data[i] | 0x20) >= 'a' && (data[i] | 0x20) <= 'f' ? (data[i] | 0x20) - 'a' + 10
									     : -1;

		if (v < 0)
			break;
		size = size << 4 | (uint64_t)v;
	}
	if (i == 0 || i == 16 || (i < n - eol && data[i] != ';' && data[i] != ' ' && data[i] != '\t'))
		return PARSE_ERROR;
	count_bytes(c, d, (uint64_t)n);
	d->left = size;
	d->st = size ? ST_CHUNK_DATA : ST_TRAILER;
	return n;
}

static ssize_t step_chunk_crlf(struct conn *c, struct http_dir *d, const uint8_t *data, size_t len)
{
	size_t n = data[0] == '\n' ? 1 : 2; /* CRLF or a bare LF after the chunk */

	if (data[0] == '\r' && len < 2)
		return 0;
	if (n == 2 && (data[0] != '\r' || data[1] != '\n'))
		return PARSE_ERROR;
	count_bytes(c, d, n);
	d->st = ST_CHUNK_SIZE;
	return (ssize_t)n;
}

static ssize_t step_trailer(struct conn *c, struct http_dir *d, const uint8_t *data, size_t len, uint64_t ts)
{
	int eol = 2;
	long n = line_len(data, len, HTTP_LINE_MAX, &eol);

	if (n <= 0)
		return n < 0 ? PARSE_ERROR : 0;
	count_bytes(c, d, (uint64_t)n);
	d->trailer += (uint64_t)n;
	if (d->trailer > HTTP_TRAILER_MAX)
		return PARSE_ERROR;
	if (n == eol)
		complete(c, d, ts);
	return n;
}

/* Heads-only: a Content-Length body that is not captured needs no bytes, only its length. */
static uint64_t http_skippable(struct conn *c, enum dir dir)
{
	const struct http_conn *hc = c->pstate;
	const struct http_dir *d = hc ? &hc->d[dir] : NULL;

	return d && d->st == ST_BODY_LEN && !d->capture ? d->left : 0;
}

/* n body bytes went by uncopied (inside what http_skippable announced): counted as read. */
static bool http_skip(struct conn *c, enum dir dir, size_t n, uint64_t ts)
{
	struct http_conn *hc = c->pstate;
	struct http_dir *d = hc ? &hc->d[dir] : NULL;

	if (!d || d->st != ST_BODY_LEN || d->capture || n > d->left)
		return false;
	d->wire_lost += n; /* not delivered: not part of what pending says it holds */
	step_body(c, d, NULL, n, ts);
	return true;
}

static ssize_t step(struct conn *c, struct http_conn *hc, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct http_dir *d = &hc->d[dir];

	switch (d->st) {
	case ST_START:
		return step_start(c, hc, dir, data, len, ts);
	case ST_BODY_LEN:
	case ST_BODY_CLOSE:
	case ST_CHUNK_DATA:
		return step_body(c, d, data, len, ts);
	case ST_CHUNK_SIZE:
		return step_chunk_size(c, d, data, len);
	case ST_CHUNK_CRLF:
		return step_chunk_crlf(c, d, data, len);
	case ST_TRAILER:
		return step_trailer(c, d, data, len, ts);
	case ST_TUNNEL:
		return (ssize_t)len;
	}
	return PARSE_ERROR;
}

static ssize_t http_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct http_conn *hc = c->pstate;
	size_t off = 0;

	if (!hc)
		return PARSE_ERROR;
	while (off < len) {
		ssize_t n = step(c, hc, dir, data + off, len - off, ts);

		if (n < 0) {
			dir_reset(&hc->d[dir]);
			if (dir == DIR_C2S)
				flush_early(c);
			return PARSE_ERROR;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/*
 * Server bytes were lost where a response's header section starts or goes on:
 * that response is gone, and it answered the oldest waiting request (the
 * responses before it were all paired). That request is published now,
 * unanswered, with a note, so the next response pairs with its own request.
 */
static void response_head_lost(struct conn *c)
{
	struct msg *req = corr_take(c, NULL);

	if (!req)
		return;
	http_msg_response_lost(req);
	corr_publish(c, req, NULL);
}

static bool body_gap(struct conn *c, enum dir dir, struct http_dir *d, uint64_t n, uint64_t ts)
{
	uint64_t left = d->left;
	bool framed = d->st == ST_BODY_LEN;

	body_lost(c, d, n < left ? n : left);
	if (n < left) {
		d->left -= n;
		return false;
	}
	d->left = 0;
	if (d->st == ST_CHUNK_DATA && n == left) {
		d->st = ST_CHUNK_CRLF;
		return false;
	}
	/* Body done; bytes lost past it (or chunk framing lost) leave no way to resync. */
	complete(c, d, ts);
	if (n == left)
		return false;
	/* Past a Content-Length body the lost bytes began the next message. */
	if (framed && dir == DIR_S2C)
		response_head_lost(c);
	return true;
}

/*
 * Lost bytes. Inside a body they are counted and parsing goes on. Lost chunk
 * framing or trailer: the message is published with its note, and the
 * direction restarts. Lost at or in a header section, where the parser cannot
 * know where messages begin: the direction restarts, and on the server side
 * the response that began there is given up (response_head_lost).
 */
static bool http_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct http_conn *hc = c->pstate;
	struct http_dir *d;
	uint64_t n = nbytes;

	if (!hc)
		return true;
	d = &hc->d[dir];
	switch (d->st) {
	case ST_TUNNEL:
		return false;
	case ST_BODY_CLOSE:
		body_lost(c, d, n);
		return false;
	case ST_BODY_LEN:
	case ST_CHUNK_DATA:
		return body_gap(c, dir, d, n, ts);
	case ST_CHUNK_SIZE:
	case ST_CHUNK_CRLF:
	case ST_TRAILER:
		body_lost(c, d, 0);
		complete(c, d, ts);
		return true;
	case ST_START:
		break;
	}
	dir_reset(d);
	if (dir == DIR_C2S)
		flush_early(c);
	else
		response_head_lost(c);
	return true;
}

static void http_fin(struct conn *c, enum dir dir, uint64_t ts)
{
	struct http_conn *hc = c->pstate;
	struct http_dir *d;

	if (!hc)
		return;
	d = &hc->d[dir];
	if (d->have_head && d->st != ST_TUNNEL)
		complete(c, d, ts);
	else
		dir_reset(d);
	if (dir == DIR_C2S)
		flush_early(c);
}

/* Bytes taken into the message of dir not yet finished: its header section and body so far. */
static uint64_t http_pending(const struct conn *c, enum dir dir)
{
	const struct http_conn *hc = c->pstate;

	return hc ? hc->d[dir].wire - hc->d[dir].wire_lost : 0;
}

const struct proto_ops http_ops = {
	.name = "http",
	.id = PROTO_HTTP,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = http_default_ports,
	.ndefault_ports = sizeof(http_default_ports) / sizeof(http_default_ports[0]),
	.cfg_fields = http_cfg_fields,
	.cfg_new = http_cfg_new,
	.cfg_free = http_cfg_free,
	.conn_new = http_conn_new,
	.conn_free = http_conn_free,
	.parse = http_parse,
	.gap = http_gap,
	.skippable = http_skippable,
	.skip = http_skip,
	.fin = http_fin,
	.pending = http_pending,
	.write_fields = http_write_fields,
	.event_keys = (const char *const[]){ "url", "user_agent", "http", NULL },
	/* Packetbeat's HTTP publishes both with status Error and these notes. */
	.publish_unmatched = true,
	.note_unanswered = "Unmatched request",
	.note_unmatched = "Unmatched response",
};
