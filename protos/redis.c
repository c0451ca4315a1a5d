/*
 * Redis over TCP, after Packetbeat's redis module: one event per command
 * with method (the command, upper-case; container commands such as CONFIG
 * GET or CLIENT LIST as two words), resource (the first argument after
 * it), query (the command line as text), redis.return_value or redis.error
 * (the reply as text, status Error for an error reply) and event.action
 * "redis.<method>". send_request / send_response publish the same texts as
 * request / response, as Packetbeat does. RESP parsing is redis_resp.c.
 * Packetbeat keeps a value whole in those texts; here they are capped at
 * REDIS_TEXT_MAX, so the rest of a big value (a SET's argument, a GET's
 * reply) is left in the kernel under heads-only capture: the byte counts
 * and the text kept are those of a full copy.
 *
 * Requests and replies are told apart by direction (Packetbeat looks at the
 * content: an array whose first element is a command name it knows is a
 * request, whichever side sent it) and paired in order (pipelining).
 * Commands arrive as multibulk arrays or inline lines.
 *
 * Messages that answer no command are counted as unmatched responses and
 * publish nothing: RESP3 pushes (">", e.g. pub/sub messages or the push
 * DEBUG PROTOCOL sends before its reply), and in RESP2 the "message",
 * "pmessage" and "smessage" arrays of a connection in subscribed mode. A
 * SUBSCRIBE a b c is answered by one confirmation per channel: the first
 * answers the command, the others are counted like pushes, so they never
 * pair with a later command. Packetbeat has no notion of pushes: a
 * "message" array is a response paired with the oldest queued request (or
 * counted as redis.unmatched_responses when none is queued), and a
 * ["subscribe", ch, 1] confirmation, its first element being a command
 * name, is queued as a request.
 *
 * queue_max_bytes / queue_max_messages (Packetbeat's defaults here, 1 MB
 * and 20000 per connection, 0 = no limit; the correlator enforces them) bound
 * the requests waiting for their reply, a request counting its query text's
 * length: the oldest ones make room. Packetbeat drops them
 * (redis.unmatched_requests); here they are published unanswered like any
 * request whose reply does not come, and counted (redis.queue_limit).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json_buf.h"
#include "redis.h"

/* Per connection. */
struct redis_conn {
	struct redis_parser dir[2];
	bool subscribed; /* RESP2 subscribed mode: "message" arrays are pushes */
	uint64_t owed; /* confirmations still to come for the (un)subscribe last answered */
	char owed_kind[16];
};

/* What a message keeps for its event (msg->priv). */
struct redis_msg {
	char *text; /* query or reply text, NUL-terminated */
	size_t len;
	uint64_t full_len; /* its length before the REDIS_TEXT_MAX cap */
	bool shared; /* text is also msg->raw, which frees it */
	bool error;
	/* requests */
	char *method; /* upper-case */
	size_t method_len;
	char *action; /* "redis.<method in lower case>" */
	uint64_t nelems; /* the command and its arguments */
	bool has_resource;
	uint32_t res_off, res_len; /* into text */
};

static void rmsg_free(void *priv)
{
	struct redis_msg *rm = priv;

	if (!rm)
		return;
	if (!rm->shared)
		free(rm->text);
	free(rm->method);
	free(rm->action);
	free(rm);
}

static struct redis_msg *rmsg_new(const struct redis_done *d)
{
	struct redis_msg *rm = calloc(1, sizeof(*rm));

	if (!rm)
		return NULL;
	rm->text = malloc(d->len + 1);
	if (!rm->text) {
		free(rm);
		return NULL;
	}
	memcpy(rm->text, d->text, d->len);
	rm->text[d->len] = '\0';
	rm->len = d->len;
	rm->full_len = d->full_len;
	rm->error = d->error;
	rm->nelems = d->nelems;
	return rm;
}

/* A struct msg around rm (taken); its text doubles as the raw request/response when asked. */
static struct msg *msg_wrap(struct redis_msg *rm, const struct redis_done *d, bool raw)
{
	struct msg *m = msg_new(d->ts);

	if (!m) {
		rmsg_free(rm);
		return NULL;
	}
	m->ts_end = d->ts_end;
	m->bytes = d->bytes;
	m->queue_size = rm->full_len; /* Packetbeat counts the query text against queue_max_bytes */
	if (raw) {
		msg_take_raw(m, rm->text, rm->len);
		rm->shared = true;
	}
	/* the text (unless raw has it), the method and, for a request, its action */
	msg_set_priv(m, rm, rmsg_free, (raw ? 0 : rm->len) + (rm->method ? 2 * rm->method_len + 7 : 0));
	return m;
}

/* ---- requests ---- */

/* Commands whose first argument is a subcommand: the method is both words (CONFIG GET). */
static bool is_container(const char *s, size_t n)
{
	static const char *const names[] = { "ACL",	"CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "FUNCTION",
					     "LATENCY", "MEMORY", "MODULE",  "SCRIPT",	"XGROUP", "XINFO" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
			return true;
	return false;
}

static void put_upper(char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
}

/* method and resource of a request from the places of its first arguments in the text. */
static int request_method(struct redis_msg *rm, const struct redis_done *d)
{
	size_t n0 = d->nargs > 0 ? d->arg_len[0] : 0;
	bool two = d->nargs >= 2 && is_container(rm->text + d->arg_off[0], n0);
	size_t ri = two ? 2 : 1;

	rm->method_len = n0 + (two ? 1 + d->arg_len[1] : 0);
	rm->method = malloc(rm->method_len + 1);
	if (!rm->method)
		return -ENOMEM;
	put_upper(rm->method, rm->text + d->arg_off[0], n0);
	if (two) {
		rm->method[n0] = ' ';
		put_upper(rm->method + n0 + 1, rm->text + d->arg_off[1], d->arg_len[1]);
	}
	rm->method[rm->method_len] = '\0';
	if (d->nargs > ri) {
		rm->has_resource = true;
		rm->res_off = d->arg_off[ri];
		rm->res_len = d->arg_len[ri];
	}
	return 0;
}

/* The generic members of a request: method, resource, query, event.action "redis.<method in lower case>". */
static int request_members(struct msg *m, struct redis_msg *rm)
{
	rm->action = malloc(rm->method_len + 7);
	if (!rm->action)
		return -ENOMEM;
	memcpy(rm->action, "redis.", 6);
	for (size_t i = 0; i < rm->method_len; i++)
		rm->action[6 + i] = (char)tolower((unsigned char)rm->method[i]);
	rm->action[6 + rm->method_len] = '\0';
	msg_text_set(&m->action, rm->action, rm->method_len + 6);
	if (!rm->method)
		return 0;
	msg_text_set(&m->method, rm->method, rm->method_len);
	if (rm->has_resource)
		msg_text_set(&m->resource, rm->text + rm->res_off, rm->res_len);
	msg_text_set(&m->query, rm->text, rm->len);
	return 0;
}

static void on_request(struct conn *c, const struct redis_done *d)
{
	struct redis_msg *rm = rmsg_new(d);
	struct msg *m;

	if (!rm)
		return;
	if (request_method(rm, d)) {
		rmsg_free(rm);
		return;
	}
	m = msg_wrap(rm, d, c->cfg->send_request);
	if (!m)
		return;
	if (request_members(m, rm)) {
		msg_free(m);
		return;
	}
	corr_request(c, m);
}

/* ---- replies ---- */

enum ps_kind {
	PS_NONE,
	PS_MESSAGE, /* a published message */
	PS_CONFIRM, /* a (un)subscribe confirmation: [kind, channel, count] */
};

static bool arg_is(const struct redis_done *d, unsigned i, const char *s)
{
	return d->nargs > i && d->arg_len[i] == strlen(s) && memcmp(d->text + d->arg_off[i], s, d->arg_len[i]) == 0;
}

/* Pub/sub shape of a reply; *kind is the confirmation's kind ("subscribe", ...). */
static enum ps_kind ps_classify(const struct redis_done *d, const char **kind)
{
	static const char *const messages[] = { "message", "pmessage", "smessage" };
	static const char *const confirms[] = { "subscribe",   "psubscribe",   "ssubscribe",
						"unsubscribe", "punsubscribe", "sunsubscribe" };

	if ((d->type != '*' && d->type != '>') || d->nelems < 3 || d->nargs < 2 ||
	    (d->arg_type[0] != '$' && d->arg_type[0] != '+'))
		return PS_NONE;
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (arg_is(d, 0, messages[i]))
			return PS_MESSAGE;
	if (d->nelems != 3 || d->nargs != 3 || d->arg_type[2] != ':')
		return PS_NONE;
	for (size_t i = 0; i < sizeof(confirms) / sizeof(confirms[0]); i++)
		if (arg_is(d, 0, confirms[i])) {
			*kind = confirms[i];
			return PS_CONFIRM;
		}
	return PS_NONE;
}

/* The oldest queued request is the command kind ("subscribe") confirms. */
static bool oldest_is(const struct conn *c, const char *kind)
{
	const struct msg *q = corr_oldest(c);
	const struct redis_msg *rm = q ? q->priv : NULL;

	return rm && rm->method && strcasecmp(rm->method, kind) == 0;
}

/* A message that answers no command: counted, not published. */
static void push(struct conn *c, const struct redis_done *d)
{
	struct msg *m = msg_new(d->ts);

	if (!m)
		return;
	m->bytes = d->bytes;
	corr_unmatched(c, m);
}

/* Pair a reply with the oldest queued request. */
static void respond(struct conn *c, struct redis_conn *rc, const struct redis_done *d)
{
	struct redis_msg *rm = rmsg_new(d);
	const struct msg *q;
	struct msg *m;

	if (!rm)
		return;
	m = msg_wrap(rm, d, c->cfg->send_response);
	if (!m)
		return;
	if (d->error)
		m->status = MSG_ERROR;
	q = corr_oldest(c);
	if (q) {
		const struct redis_msg *qm = q->priv;

		if (qm && qm->method && strcmp(qm->method, "RESET") == 0) {
			rc->subscribed = false; /* RESET leaves pub/sub */
			rc->owed = 0;
		}
	}
	corr_response(c, m);
}

/* A (un)subscribe confirmation: answers the command of that kind once, then the extra ones are pushes. */
static void on_confirm(struct conn *c, struct redis_conn *rc, const struct redis_done *d, const char *kind)
{
	const struct redis_msg *q;

	if (d->type == '*') /* RESP2: the count of subscriptions left says whether it is subscribed */
		rc->subscribed = !(d->arg_len[2] == 1 && d->text[d->arg_off[2]] == '0');
	if (rc->owed && strcmp(rc->owed_kind, kind) == 0) {
		rc->owed--;
		push(c, d);
		return;
	}
	rc->owed = 0;
	if (!oldest_is(c, kind)) {
		push(c, d);
		return;
	}
	/* SUBSCRIBE a b c: one confirmation per channel named */
	q = corr_oldest(c)->priv; /* oldest_is: there is one */
	rc->owed = q->nelems > 2 ? q->nelems - 2 : 0;
	snprintf(rc->owed_kind, sizeof(rc->owed_kind), "%s", kind);
	respond(c, rc, d);
}

static void on_reply(struct conn *c, const struct redis_done *d)
{
	struct redis_conn *rc = c->pstate;
	const char *kind = NULL;
	enum ps_kind ps = ps_classify(d, &kind);

	if (ps == PS_CONFIRM && (d->type == '>' || rc->subscribed || rc->owed || oldest_is(c, kind))) {
		on_confirm(c, rc, d, kind);
		return;
	}
	if (d->type == '>' || (ps == PS_MESSAGE && rc->subscribed)) {
		push(c, d);
		return;
	}
	respond(c, rc, d);
}

/* ---- TCP ---- */

static void redis_emit(void *arg, enum dir dir, const struct redis_done *d)
{
	struct conn *c = arg;

	if (d->full_len > d->len)
		corr_count(c, PSTAT_TOO_LARGE); /* text cut at REDIS_TEXT_MAX */
	if (dir == DIR_C2S)
		on_request(c, d);
	else
		on_reply(c, d);
}

static void *redis_conn_new(struct conn *c)
{
	return calloc(1, sizeof(struct redis_conn));
}

static void redis_conn_free(void *pstate)
{
	struct redis_conn *rc = pstate;

	if (!rc)
		return;
	redis_parser_free(&rc->dir[0]);
	redis_parser_free(&rc->dir[1]);
	free(rc);
}

static ssize_t redis_parse(struct conn *c, enum dir dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct redis_conn *rc = c->pstate;

	if (!rc)
		return PARSE_ERROR;
	return redis_feed(&rc->dir[dir], dir, data, len, ts, redis_emit, c);
}

/* Bytes lost inside a bulk payload are skipped (the text misses them); elsewhere the direction starts over. */
static bool redis_gap(struct conn *c, enum dir dir, size_t nbytes, uint64_t ts)
{
	struct redis_conn *rc = c->pstate;

	if (!rc)
		return true;
	if (redis_lose(&rc->dir[dir], nbytes))
		return false;
	redis_parser_reset(&rc->dir[dir]);
	return true;
}

/*
 * Heads-only: the rest of a bulk string past what the text keeps (a SET's
 * value, a GET's reply longer than REDIS_TEXT_MAX) needs only its length;
 * the message counts it in its bytes and the text's full length as if read.
 */
static uint64_t redis_skippable(struct conn *c, enum dir dir)
{
	const struct redis_conn *rc = c->pstate;

	return rc ? redis_unkept(&rc->dir[dir]) : 0;
}

/* n bytes of what redis_skippable announced went by uncopied: counted as read. */
static bool redis_skip(struct conn *c, enum dir dir, size_t n, uint64_t ts)
{
	struct redis_conn *rc = c->pstate;

	return rc && redis_skip_unkept(&rc->dir[dir], n);
}

static uint64_t redis_pending(const struct conn *c, enum dir dir)
{
	const struct redis_conn *rc = c->pstate;

	return rc ? redis_held(&rc->dir[dir]) : 0;
}

/* ---- event ---- */

/* redis.return_value or redis.error from the reply. */
static int redis_write_fields(struct json_buf *b, const struct proto_cfg *cfg, const struct msg *req,
			      const struct msg *resp)
{
	const struct redis_msg *r = resp ? resp->priv : NULL;

	if (r) {
		json_buf_key(b, "redis", 0);
		json_buf_put(b, "{", 1);
		json_buf_key(b, r->error ? "error" : "return_value", 1);
		json_buf_strn(b, r->text, r->len);
		json_buf_put(b, "}", 1);
	}
	return b->err;
}

static const uint16_t redis_ports[] = { REDIS_DEFAULT_PORT };

const struct proto_ops redis_ops = {
	.name = "redis",
	.id = PROTO_REDIS,
	.transports = XB_TRANSPORT_TCP,
	.default_ports = redis_ports,
	.ndefault_ports = sizeof(redis_ports) / sizeof(redis_ports[0]),
	.queue_max_messages = 20000,
	.queue_max_bytes = 1024 * 1024,
	.conn_new = redis_conn_new,
	.conn_free = redis_conn_free,
	.parse = redis_parse,
	.gap = redis_gap,
	.skippable = redis_skippable,
	.skip = redis_skip,
	.pending = redis_pending, /* no fin: a message cut at the end stays pending */
	.write_fields = redis_write_fields,
	.event_keys = (const char *const[]){ "redis", NULL },
};
