/*
 * Elasticsearch output: events go to _bulk (index/create actions, a date
 * patterned index name, a content-derived _id so a resend cannot store an
 * event twice), the index template is installed before the first bulk, and
 * every event is either acknowledged by Elasticsearch (item 2xx, or 409 on
 * create = already there), rejected for good with its reason (or stored in
 * the dead-letter index), or kept and sent again: connection errors, 429 and
 * 5xx (whole request or single items), timeouts and malformed answers are
 * retried with exponential backoff and jitter until acknowledged or shutdown.
 *
 * With queue.disk.path set, publish() appends the events to a disk spool
 * (user/es_spool.c) and a sender thread ships them from there, so an outage
 * or a restart loses nothing that was handed to the output.
 *
 * Settings (output.elasticsearch.*, defaults in es_cfg_new()):
 *   hosts ["http://localhost:9200"]  round-robin; "host:port" means http://
 *   worker 1, bulk_max_size 1600, compression_level 1 (gzip, 0 = off),
 *   timeout 90s, max_retries -1 (retry until acknowledged; N = fail after N+1),
 *   username/password, api_key "id:key", headers {Name: value},
 *   ssl.certificate_authorities [files] (all trusted, and only they),
 *   ssl.verification_mode full|certificate|none,
 *   index "xdpbeat-%{+yyyy.MM.dd}" (event time, UTC), op_type create|index,
 *   pipeline, dead_letter_index, document_id content|auto,
 *   backoff.init 1s, backoff.max 60s, proxy_url, proxy_disable, loadbalance.
 * setup.template.{enabled true, name "xdpbeat", pattern "<name>-*",
 *   overwrite false, path (default: config/xdpbeat.template.json, built in),
 *   data_stream false}.
 * With setup.template.data_stream the template is a data stream template and
 * index is the data stream's fixed name (default "<template name>-default",
 * no date pattern, must match the template pattern); every write is a create
 * (op_type index is refused). These cross-checks, the template file and the
 * CA files are checked at config load (es_check), so `xdpbeat -t` sees them.
 * Counters: events.acked (includes duplicates), events.duplicates,
 *   events.failed, events.dead_letter, events.retried, output.batches,
 *   output.errors, output.auth_errors, output.bytes, output.bulk_latency_us_total.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es.h"
#include "log.h"
#include "output.h"

/* Item rejections printed per bulk request; the rest are only counted. */
#define ITEM_LOG_MAX 5

enum es_id_mode {
	ES_ID_CONTENT, /* _id = hash of the event line */
	ES_ID_AUTO, /* Elasticsearch picks ids (a resend after a lost answer duplicates) */
};

struct es_cfg {
	struct strlist hosts;
	int64_t worker;
	int64_t bulk_max_size;
	int64_t compression_level;
	int64_t max_retries; /* -1 = until acknowledged */
	uint64_t timeout;
	char *username, *password, *api_key;
	struct strlist headers; /* "Name: value" */
	struct strlist ssl_cas;
	enum es_verify verify;
	char *index;
	bool index_set; /* index given in the config (else a default) */
	enum es_op op;
	char *pipeline;
	char *dead_letter_index;
	enum es_id_mode id_mode;
	uint64_t backoff_init, backoff_max;
	bool loadbalance; /* accepted for Beats compatibility: hosts are always round-robin */
	char *proxy_url;
	bool proxy_disable;
	/* setup.template, read and checked at config load (es_check) */
	struct es_template_cfg tpl;
	char *tpl_body; /* NULL when the template is disabled */
	bool checked;
};

/* One event during a ship() call. */
struct ship_doc {
	const char *line;
	size_t len;
	uint64_t ts;
	char *dlq; /* dead-letter document replacing line (owned) */
	size_t dlq_len;
	char *own; /* line without the event's @metadata (owned), when it had one */
	unsigned tries;
	bool done;
	bool bad; /* could not be serialized */
	bool plain; /* struct event's */
	char id[ES_ID_LEN + 1];
	char index[ES_INDEX_MAX];
};

/* One bulk request of a round. */
struct chunk {
	struct es_req req;
	struct json_buf body;
	size_t *idx; /* ship_doc indices in this request */
	size_t n, cap;
	struct es_item *items;
	size_t items_cap;
};

struct es_out {
	const struct es_cfg *cfg;
	struct stats *st;
	struct es_client *client;
	const struct es_template_cfg *tpl; /* cfg->tpl */
	bool tpl_done;
	struct chunk *chunks;
	struct es_req **reqs;
	int nchunks;
	bool all_hosts_tried; /* one immediate retry on other hosts per failure */
	uint64_t rng;
	/* logging (publisher and sender threads) */
	pthread_mutex_t log_mu;
	char last_err[512];
	uint64_t last_err_ns;
	uint64_t suppressed;
	/* disk spool mode */
	struct es_spool *spool;
	pthread_t sender;
	bool sender_started;
	atomic_bool sender_stop;
	uint64_t shutdown_timeout;
};

/* ---- config ---- */

static int set_headers(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct es_cfg *c = base;

	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of header names to values");
	strlist_free(&c->headers);
	for (const struct cfg_node *h = n->child; h; h = h->next) {
		char *v, *line, **nv;

		if (cfg_to_string(h, &v, err))
			return -EINVAL;
		if (strpbrk(h->key, ": \r\n") || strpbrk(v, "\r\n")) {
			free(v);
			return cfg_error(err, h, "header name or value contains a forbidden character");
		}
		nv = realloc(c->headers.v, (c->headers.n + 1) * sizeof(*nv));
		if (!nv || asprintf(&line, "%s: %s", h->key, v) < 0) {
			if (nv)
				c->headers.v = nv;
			free(v);
			return cfg_error(err, h, "out of memory");
		}
		free(v);
		c->headers.v = nv;
		c->headers.v[c->headers.n++] = line;
	}
	return 0;
}

static int set_op_type(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct es_cfg *c = base;

	if (n->kind == CFG_N_SCALAR && !strcmp(n->value, "index"))
		c->op = ES_OP_INDEX;
	else if (n->kind == CFG_N_SCALAR && !strcmp(n->value, "create"))
		c->op = ES_OP_CREATE;
	else
		return cfg_error(err, n, "expected index or create");
	return 0;
}

static int set_verify(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct es_cfg *c = base;
	static const char *const names[] = { "full", "certificate", "none" };

	for (int i = 0; n->kind == CFG_N_SCALAR && i < 3; i++) {
		if (!strcmp(n->value, names[i])) {
			c->verify = (enum es_verify)i;
			return 0;
		}
	}
	return cfg_error(err, n, "expected full, certificate or none");
}

static int set_index_name(char **slot, const struct cfg_node *n, struct cfg_err *err)
{
	char why[200], *v;

	if (cfg_to_string(n, &v, err))
		return -EINVAL;
	if (es_index_check(v, why, sizeof(why))) {
		free(v);
		return cfg_error(err, n, "%s", why);
	}
	free(*slot);
	*slot = v;
	return 0;
}

static int set_index(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct es_cfg *c = base;

	if (set_index_name(&c->index, n, err))
		return -EINVAL;
	c->index_set = true;
	return 0;
}

static int set_dlq(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	return set_index_name(&((struct es_cfg *)base)->dead_letter_index, n, err);
}

static int set_id_mode(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct es_cfg *c = base;

	if (n->kind == CFG_N_SCALAR && !strcmp(n->value, "content"))
		c->id_mode = ES_ID_CONTENT;
	else if (n->kind == CFG_N_SCALAR && !strcmp(n->value, "auto"))
		c->id_mode = ES_ID_AUTO;
	else
		return cfg_error(err, n, "expected content (id from a hash of the event) or auto");
	return 0;
}

/* clang-format off */
#define F(k, t, m, ...) { .key = k, .type = t, .offset = offsetof(struct es_cfg, m), __VA_ARGS__ }
#define FC(k, fn) { .key = k, .type = CFG_CUSTOM, .custom = fn }
/* clang-format on */

static const struct cfg_field ssl_fields[] = {
	F("certificate_authorities", CFG_STRLIST, ssl_cas),
	FC("verification_mode", set_verify),
	{ 0 },
};

static const struct cfg_field backoff_fields[] = {
	F("init", CFG_DURATION, backoff_init),
	F("max", CFG_DURATION, backoff_max),
	{ 0 },
};

static const struct cfg_field es_fields[] = {
	F("hosts", CFG_STRLIST, hosts),
	F("worker", CFG_INT, worker, .min = 1, .max = 64),
	F("workers", CFG_INT, worker, .min = 1, .max = 64),
	F("bulk_max_size", CFG_INT, bulk_max_size, .min = 1, .max = 100000),
	F("compression_level", CFG_INT, compression_level, .min = 0, .max = 9),
	F("max_retries", CFG_INT, max_retries, .min = -1, .max = 1000000),
	F("timeout", CFG_DURATION, timeout),
	F("username", CFG_STRING, username),
	F("password", CFG_STRING, password),
	F("api_key", CFG_STRING, api_key),
	FC("headers", set_headers),
	{ .key = "ssl", .type = CFG_SECTION, .sub = ssl_fields },
	FC("index", set_index),
	FC("op_type", set_op_type),
	F("pipeline", CFG_STRING, pipeline),
	FC("dead_letter_index", set_dlq),
	FC("document_id", set_id_mode),
	{ .key = "backoff", .type = CFG_SECTION, .sub = backoff_fields },
	F("loadbalance", CFG_BOOL, loadbalance),
	F("proxy_url", CFG_STRING, proxy_url),
	F("proxy_disable", CFG_BOOL, proxy_disable),
	{ 0 },
};

static void *es_cfg_new(void)
{
	struct es_cfg *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->hosts.v = calloc(1, sizeof(char *));
	c->index = strdup("xdpbeat-%{+yyyy.MM.dd}");
	if (!c->hosts.v || !c->index || !(c->hosts.v[0] = strdup("http://localhost:9200"))) {
		free(c->hosts.v);
		free(c->index);
		free(c);
		return NULL;
	}
	c->hosts.n = 1;
	c->worker = 1;
	c->bulk_max_size = 1600;
	c->compression_level = 1;
	c->max_retries = -1;
	c->timeout = 90ULL * 1000000000ULL;
	c->verify = ES_VERIFY_FULL;
	c->op = ES_OP_CREATE;
	c->id_mode = ES_ID_CONTENT;
	c->backoff_init = 1000000000ULL;
	c->backoff_max = 60ULL * 1000000000ULL;
	c->loadbalance = true;
	return c;
}

static void es_cfg_free(void *priv)
{
	struct es_cfg *c = priv;

	if (!c)
		return;
	cfg_fields_free(es_fields, c);
	strlist_free(&c->headers);
	free(c->index);
	free(c->dead_letter_index);
	cfg_fields_free(es_template_fields, &c->tpl);
	free(c->tpl_body);
	free(c);
}

static void client_cfg(const struct es_cfg *c, struct es_client_cfg *cc)
{
	cc->hosts = &c->hosts;
	cc->username = c->username;
	cc->password = c->password;
	cc->api_key = c->api_key;
	cc->headers = &c->headers;
	cc->ca_files = &c->ssl_cas;
	cc->verify = c->verify;
	cc->proxy_url = c->proxy_url;
	cc->proxy_disable = c->proxy_disable;
	cc->timeout_ns = c->timeout;
	cc->compression_level = (int)c->compression_level;
	cc->conns = (int)c->worker;
}

/* ---- checks at config load ---- */

/* An error at the node of key (dotted, from the top), or naming key if it is not in the tree. */
static int key_error(struct cfg_err *err, const struct config *cfg, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int key_error(struct cfg_err *err, const struct config *cfg, const char *key, const char *fmt, ...)
{
	const struct cfg_node *n = cfg->tree ? cfg_get(cfg->tree, key) : NULL;
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		return cfg_error(err, n, "%s", msg);
	return cfg_error(err, NULL, "%s: %s", key, msg);
}

/* setup.template: its settings and its body (a bad template file is a config error). */
static int template_check(struct es_cfg *c, const struct config *cfg, struct cfg_err *err)
{
	const struct cfg_node *n = cfg->setup ? cfg_get(cfg->setup, "template") : NULL;
	struct es_template_cfg *t = &c->tpl;
	char why[600];

	cfg_fields_free(es_template_fields, t);
	memset(t, 0, sizeof(*t));
	free(c->tpl_body);
	c->tpl_body = NULL;
	t->enabled = true;
	if (n && cfg_apply(es_template_fields, t, n, err))
		return -EINVAL;
	if (!t->name && !(t->name = strdup("xdpbeat")))
		return cfg_error(err, n, "out of memory");
	if (!t->pattern && asprintf(&t->pattern, "%s-*", t->name) < 0) {
		t->pattern = NULL;
		return cfg_error(err, n, "out of memory");
	}
	if (!*t->name || strpbrk(t->name, "/?#%\" "))
		return key_error(err, cfg, "setup.template.name", "'%s' is not a valid template name", t->name);
	if (!t->enabled)
		return 0;
	c->tpl_body = es_template_body(t, why, sizeof(why));
	if (!c->tpl_body)
		return key_error(err, cfg, t->path ? "setup.template.path" : "setup.template", "%s", why);
	return 0;
}

/* setup.template.data_stream: one fixed index name, create only. */
static int data_stream_check(struct es_cfg *c, const struct config *cfg, struct cfg_err *err)
{
	const struct es_template_cfg *t = &c->tpl;
	char name[ES_INDEX_MAX], why[200];

	if (!t->data_stream)
		return 0;
	if (c->op == ES_OP_INDEX)
		return key_error(err, cfg, "output.elasticsearch.op_type",
				 "op_type index cannot write to a data stream (setup.template.data_stream is on): "
				 "Elasticsearch accepts only create there; set op_type: create or remove it");
	if (!c->index_set) {
		free(c->index);
		if (asprintf(&c->index, "%s-default", t->name) < 0) {
			c->index = NULL;
			return cfg_error(err, NULL, "out of memory");
		}
		if (es_index_check(c->index, why, sizeof(why)))
			return key_error(err, cfg, "setup.template.name", "data stream name '%s': %s", c->index, why);
	} else if (strstr(c->index, "%{")) {
		return key_error(err, cfg, "output.elasticsearch.index",
				 "'%s' has a date pattern, but a data stream has one fixed name "
				 "(setup.template.data_stream is on; Elasticsearch rolls its backing indices over): "
				 "use a name without %%{+...}, e.g. %s-default",
				 c->index, t->name);
	}
	if (es_index_format(c->index, 0, name, sizeof(name)))
		return key_error(err, cfg, "output.elasticsearch.index", "'%s' is not a valid data stream name",
				 c->index);
	if (t->enabled && fnmatch(t->pattern, name, 0))
		return key_error(err, cfg, c->index_set ? "output.elasticsearch.index" : "setup.template.pattern",
				 "data stream '%s' does not match setup.template.pattern '%s': Elasticsearch would "
				 "create a regular index, not a data stream",
				 name, t->pattern);
	return 0;
}

static int es_check(void *priv, const struct config *cfg, struct cfg_err *err)
{
	struct es_cfg *c = priv;

	c->checked = false;
	if (template_check(c, cfg, err) || data_stream_check(c, cfg, err))
		return -EINVAL;
	if (c->ssl_cas.n) {
		struct json_buf b = { 0 };
		char why[400];
		int rc = es_ca_bundle(&c->ssl_cas, &b, why, sizeof(why));

		json_buf_free(&b);
		if (rc)
			return key_error(err, cfg, "output.elasticsearch.ssl.certificate_authorities", "%s", why);
	}
	c->checked = true;
	return 0;
}

/* ---- helpers ---- */

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(struct es_out *o)
{
	o->rng ^= o->rng << 13;
	o->rng ^= o->rng >> 7;
	o->rng ^= o->rng << 17;
	return o->rng;
}

/* Print an error, but the same message at most every 10 s. */
static void log_err(struct es_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_err(struct es_out *o, const char *fmt, ...)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&o->log_mu);
	if (!strcmp(msg, o->last_err) && now - o->last_err_ns < 10000000000ULL) {
		o->suppressed++;
		pthread_mutex_unlock(&o->log_mu);
		return;
	}
	if (o->suppressed)
		log_error("elasticsearch: (previous message repeated %" PRIu64 " times)", o->suppressed);
	log_error("elasticsearch: %s", msg);
	snprintf(o->last_err, sizeof(o->last_err), "%s", msg);
	o->last_err_ns = now;
	o->suppressed = 0;
	pthread_mutex_unlock(&o->log_mu);
}

/* Sleep d ns, waking early when *stop is set. */
static void nap(uint64_t d, const atomic_bool *stop)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + d;

	while (!(stop && atomic_load(stop))) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		struct timespec ts = { 0, 20000000 };

		if (now >= end)
			break;
		if (end - now < 20000000ULL)
			ts.tv_nsec = (long)(end - now);
		nanosleep(&ts, NULL);
	}
}

static void backoff(struct es_out *o, unsigned *attempt, const atomic_bool *stop)
{
	uint64_t d = es_backoff_ns(o->cfg->backoff_init, o->cfg->backoff_max, *attempt, rng_next(o));

	if (*attempt < 63)
		(*attempt)++;
	nap(d, stop);
}

static int chunk_add(struct chunk *c, size_t i)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		size_t *p = realloc(c->idx, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->idx = p;
		c->cap = cap;
	}
	c->idx[c->n++] = i;
	return 0;
}

/* ---- one event's fate ---- */

static void doc_done(struct ship_doc *d)
{
	d->done = true;
	free(d->dlq);
	d->dlq = NULL;
}

static void doc_failed(struct es_out *o, struct ship_doc *d, const struct es_item *it, int *logged)
{
	const struct es_cfg *cfg = o->cfg;

	if (cfg->dead_letter_index && !d->dlq) {
		char *dl =
			es_dead_letter_doc(d->line, d->len, it->status, it->type, it->reason, now_ns(CLOCK_REALTIME));

		if (dl &&
		    !es_index_format(cfg->dead_letter_index, now_ns(CLOCK_REALTIME), d->index, sizeof(d->index))) {
			d->dlq = dl;
			d->dlq_len = strlen(dl);
			d->tries = 0;
			return; /* sent again, to the dead-letter index */
		}
		free(dl);
	}
	if ((*logged)++ < ITEM_LOG_MAX)
		log_warn("elasticsearch: event %s by %s (status %d): %s%s%s",
			 d->dlq ? "rejected by the dead-letter index" : "rejected", d->index, it->status, it->type,
			 it->type[0] ? ": " : "", it->reason);
	stats_add(o->st, STAT_EVENTS_FAILED, 1);
	doc_done(d);
}

static void doc_acked(struct es_out *o, struct ship_doc *d, bool dup)
{
	/* stored in the dead-letter index: handled, but not acked as the event */
	stats_add(o->st, d->dlq ? STAT_EVENTS_DEAD_LETTER : STAT_EVENTS_ACKED, 1);
	if (dup)
		stats_add(o->st, STAT_EVENTS_DUPLICATES, 1);
	doc_done(d);
}

/* A retryable failure: true if the event stays pending. */
static bool doc_retry(struct es_out *o, struct ship_doc *d, const char *why, int *logged)
{
	struct es_item it = { .status = 0 };

	d->tries++;
	if (o->cfg->max_retries < 0 || d->tries <= (unsigned)o->cfg->max_retries) {
		stats_add(o->st, STAT_EVENTS_RETRIED, 1);
		return true;
	}
	snprintf(it.type, sizeof(it.type), "max_retries");
	snprintf(it.reason, sizeof(it.reason), "gave up after %u attempts: %s", d->tries, why);
	doc_failed(o, d, &it, logged);
	return false;
}

/* ---- bulk rounds ---- */

/*
 * Dead-letter documents keep the event's id, so a resend there is a 409 too.
 * In data stream mode everything is a create (the dead-letter index may be
 * a data stream as well).
 */
static enum es_op item_op(const struct es_cfg *cfg, const struct ship_doc *d)
{
	if (cfg->tpl.data_stream)
		return ES_OP_CREATE;
	if (d->dlq)
		return cfg->id_mode == ES_ID_CONTENT ? ES_OP_CREATE : ES_OP_INDEX;
	return cfg->op;
}

static int build_chunk(struct es_out *o, struct chunk *c, struct ship_doc *docs, size_t n, size_t *cursor, size_t limit)
{
	const struct es_cfg *cfg = o->cfg;

	c->n = 0;
	c->body.len = 0;
	for (; *cursor < n && c->n < limit; (*cursor)++) {
		struct ship_doc *d = &docs[*cursor];
		const char *line = d->dlq ? d->dlq : d->line;
		size_t len = d->dlq ? d->dlq_len : d->len;
		const char *id = cfg->id_mode == ES_ID_CONTENT ? d->id : NULL;

		if (d->done)
			continue;
		if (es_bulk_append(&c->body, item_op(cfg, d), d->index, id, d->dlq ? NULL : cfg->pipeline, line, len) ||
		    chunk_add(c, *cursor))
			return -ENOMEM;
	}
	c->req.method = "POST";
	snprintf(c->req.path, sizeof(c->req.path), "/_bulk");
	c->req.body = c->body.p;
	c->req.len = c->body.len;
	c->req.ctype = "application/x-ndjson";
	c->req.compress = true;
	return 0;
}

/* Read the per-item results of a 2xx answer. Returns true if something must be retried. */
static bool chunk_items(struct es_out *o, struct chunk *c, struct ship_doc *docs, int *logged)
{
	bool retry = false;

	if (c->items_cap < c->n) {
		struct es_item *p = realloc(c->items, c->n * sizeof(*p));

		if (!p)
			return true;
		c->items = p;
		c->items_cap = c->n;
	}
	if (es_bulk_parse(c->req.resp.p, c->req.resp.len, o->cfg->op, c->items, c->n)) {
		char head[200];

		es_error_summary(c->req.resp.p, c->req.resp.len, head, sizeof(head));
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		log_err(o, "malformed _bulk response from %s (%zu bytes: %s); retrying", c->req.host, c->req.resp.len,
			head);
		for (size_t i = 0; i < c->n; i++)
			retry |= doc_retry(o, &docs[c->idx[i]], "malformed response", logged);
		return retry;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct ship_doc *d = &docs[c->idx[i]];
		struct es_item *it = &c->items[i];
		enum es_verdict v = it->verdict;

		if (it->status) /* judged by the op this item was sent with */
			v = es_item_verdict(it->status, item_op(o->cfg, d));
		switch (v) {
		case ES_ACK:
			doc_acked(o, d, false);
			break;
		case ES_DUP:
			doc_acked(o, d, true);
			break;
		case ES_RETRY:
			retry |= doc_retry(o, d, it->reason, logged);
			break;
		case ES_FAIL:
			doc_failed(o, d, it, logged);
			break;
		}
	}
	return retry;
}

enum round_result {
	ROUND_OK,
	ROUND_RETRY, /* back off, then go again */
	ROUND_SPLIT, /* go again at once with smaller requests */
};

static enum round_result chunk_result(struct es_out *o, struct chunk *c, struct ship_doc *docs, size_t *limit,
				      int *logged)
{
	char why[300];
	bool retry = false;

	if (c->req.err == -ECANCELED)
		return ROUND_RETRY;
	log_debug("elasticsearch", "_bulk to %s: %zu events, %zu bytes, HTTP %ld%s%s in %" PRIu64 " us",
		  c->req.host ? c->req.host : "(no host)", c->n, c->req.sent_bytes, c->req.status,
		  c->req.err ? ", " : "", c->req.err ? c->req.errmsg : "", c->req.latency_us);
	stats_add(o->st, STAT_OUTPUT_BATCHES, 1);
	stats_add(o->st, STAT_OUTPUT_BULK_LATENCY_US, c->req.latency_us);
	stats_add(o->st, STAT_OUTPUT_BYTES, c->req.sent_bytes);
	if (c->req.err) {
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		log_err(o, "_bulk to %s failed: %s; will retry", c->req.host, c->req.errmsg);
		for (size_t i = 0; i < c->n; i++)
			retry |= doc_retry(o, &docs[c->idx[i]], c->req.errmsg, logged);
		return retry ? ROUND_RETRY : ROUND_OK;
	}
	switch (es_req_verdict(c->req.status)) {
	case ES_REQ_OK:
		return chunk_items(o, c, docs, logged) ? ROUND_RETRY : ROUND_OK;
	case ES_REQ_AUTH:
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		stats_add(o->st, STAT_OUTPUT_AUTH_ERRORS, 1);
		es_error_summary(c->req.resp.p, c->req.resp.len, why, sizeof(why));
		log_err(o,
			"%s rejected the credentials (HTTP %ld%s%s): check output.elasticsearch.username/"
			"password/api_key; events are kept and retried with backoff",
			c->req.host, c->req.status, why[0] ? ", " : "", why);
		for (size_t i = 0; i < c->n; i++)
			retry |= doc_retry(o, &docs[c->idx[i]], "authentication failed", logged);
		return retry ? ROUND_RETRY : ROUND_OK;
	case ES_REQ_RETRY:
		stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
		es_error_summary(c->req.resp.p, c->req.resp.len, why, sizeof(why));
		log_err(o, "_bulk to %s: HTTP %ld%s%s; retrying with backoff", c->req.host, c->req.status,
			why[0] ? ": " : "", why);
		for (size_t i = 0; i < c->n; i++)
			retry |= doc_retry(o, &docs[c->idx[i]], why, logged);
		return retry ? ROUND_RETRY : ROUND_OK;
	case ES_REQ_SPLIT:
		break;
	}
	stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
	es_error_summary(c->req.resp.p, c->req.resp.len, why, sizeof(why));
	if (c->n > 1) {
		/* find the event the server does not like: smaller requests */
		*limit = c->n / 2;
		log_err(o, "_bulk to %s: HTTP %ld%s%s; splitting into requests of %zu events", c->req.host,
			c->req.status, why[0] ? ": " : "", why, *limit);
		return ROUND_SPLIT;
	}
	{
		struct es_item it = { .status = (int)c->req.status };

		snprintf(it.type, sizeof(it.type), "request_rejected");
		snprintf(it.reason, sizeof(it.reason), "%.200s", why);
		doc_failed(o, &docs[c->idx[0]], &it, logged);
	}
	return ROUND_OK;
}

/* Template before the first bulk. false = not yet (backoff and try again). */
static bool ensure_template(struct es_out *o, const atomic_bool *stop)
{
	char err[600];
	int rc;

	if (o->tpl_done)
		return true;
	rc = es_template_ensure(o->client, o->tpl, o->cfg->tpl_body, stop, err, sizeof(err));
	if (rc == -EAGAIN) {
		if (!(stop && atomic_load(stop))) {
			stats_add(o->st, STAT_OUTPUT_ERRORS, 1);
			log_err(o, "%s; will retry before sending events", err);
		}
		return false;
	}
	if (rc)
		log_error("elasticsearch: %s; sending events without the template", err);
	else if (err[0])
		log_warn("elasticsearch: %s", err);
	if (!rc)
		log_info("elasticsearch: index template %s ready%s%s", o->tpl->name,
			 o->tpl->data_stream && !err[0] ? ", data stream " : "",
			 o->tpl->data_stream && !err[0] ? o->cfg->index : "");
	o->tpl_done = true;
	return true;
}

/* After a failure: true if another host is up and gets one try at once. */
static bool other_host_now(struct es_out *o)
{
	if (o->cfg->hosts.n < 2 || o->all_hosts_tried || !es_client_hosts_up(o->client))
		return false;
	o->all_hosts_tried = true;
	return true;
}

/* Events handled for good, counted from the first. */
static size_t done_prefix(const struct ship_doc *docs, size_t n)
{
	size_t k = 0;

	while (k < n && docs[k].done)
		k++;
	return k;
}

static enum round_result ship_round(struct es_out *o, struct ship_doc *docs, size_t n, size_t *limit,
				    const atomic_bool *stop)
{
	enum round_result res = ROUND_OK;
	size_t cursor = 0;
	int used = 0, logged = 0;

	for (; used < o->nchunks; used++) {
		if (build_chunk(o, &o->chunks[used], docs, n, &cursor, *limit))
			return ROUND_RETRY; /* out of memory: try again later */
		if (!o->chunks[used].n)
			break;
	}
	if (!used)
		return ROUND_OK;
	for (int i = 0; i < used; i++)
		es_req_reset(&o->chunks[i].req);
	for (int i = 0; i < used; i++)
		o->reqs[i] = &o->chunks[i].req;
	es_client_run(o->client, o->reqs, (size_t)used, stop);
	for (int i = 0; i < used; i++) {
		enum round_result r = chunk_result(o, &o->chunks[i], docs, limit, &logged);

		if (r > res)
			res = r;
	}
	if (logged > ITEM_LOG_MAX)
		log_warn("elasticsearch: %d more events rejected (see events.failed)", logged - ITEM_LOG_MAX);
	return res;
}

/*
 * An event with @metadata of its own (a protocol's index): the document
 * without it, and its raw_index in raw (the index pattern for this event).
 * 1 when d->line now points at the stripped copy, 0 (nothing to take out),
 * -ENOMEM.
 */
static int take_metadata(struct ship_doc *d, char *raw, size_t rawlen)
{
	struct json_buf b = { 0 };
	int rc = event_strip_metadata(d->line, d->len, d->plain, &b, raw, rawlen);

	if (rc <= 0) {
		json_buf_free(&b);
		return rc;
	}
	d->own = b.p; /* the buffer's malloc'ed text, now the document's */
	d->line = d->own;
	d->len = b.len;
	return 1;
}

/* Send docs until each is acknowledged or failed for good, or *stop. */
static size_t ship(struct es_out *o, struct ship_doc *docs, size_t n, const atomic_bool *stop)
{
	size_t limit = (size_t)o->cfg->bulk_max_size;
	const char *prev = NULL;
	uint64_t prev_sec = 0;
	unsigned attempt = 0;

	/* with several workers, a batch is spread over them */
	if (o->nchunks > 1 && (n + (size_t)o->nchunks - 1) / (size_t)o->nchunks < limit)
		limit = (n + (size_t)o->nchunks - 1) / (size_t)o->nchunks;
	if (!limit)
		limit = 1;

	for (size_t i = 0; i < n; i++) {
		uint64_t sec = docs[i].ts / 1000000000ULL;
		char raw[ES_INDEX_MAX] = "";
		int own = docs[i].bad ? 0 : take_metadata(&docs[i], raw, sizeof(raw));

		if (own < 0)
			docs[i].bad = true;
		/* same second as the last formatted name of the configured index: same index */
		if (!docs[i].bad && !raw[0] && prev && sec == prev_sec) {
			memcpy(docs[i].index, prev, sizeof(docs[i].index));
		} else if (docs[i].bad || es_index_format(raw[0] ? raw : o->cfg->index, docs[i].ts, docs[i].index,
							  sizeof(docs[i].index))) {
			struct es_item it = { .status = 0 };
			int logged = 0;

			snprintf(it.type, sizeof(it.type), "client_error");
			snprintf(it.reason, sizeof(it.reason), "%s",
				 docs[i].bad ? "event could not be serialized" : "index name could not be formatted");
			doc_failed(o, &docs[i], &it, &logged);
			continue;
		} else if (!raw[0]) {
			prev = docs[i].index;
			prev_sec = sec;
		}
		if (o->cfg->id_mode == ES_ID_CONTENT)
			es_doc_id(docs[i].line, docs[i].len, docs[i].id);
	}
	while (done_prefix(docs, n) < n && !(stop && atomic_load(stop))) {
		enum round_result r;

		if (!ensure_template(o, stop)) {
			if (!other_host_now(o))
				backoff(o, &attempt, stop);
			continue;
		}
		r = ship_round(o, docs, n, &limit, stop);
		if (r == ROUND_RETRY && other_host_now(o))
			continue;
		o->all_hosts_tried = false;
		if (r == ROUND_RETRY)
			backoff(o, &attempt, stop);
		else if (r == ROUND_OK)
			attempt = 0;
	}
	for (size_t i = 0; i < n; i++) {
		free(docs[i].dlq);
		docs[i].dlq = NULL;
		free(docs[i].own);
		docs[i].own = NULL;
	}
	return done_prefix(docs, n);
}

/* ---- spool mode ---- */

static void *sender_main(void *arg)
{
	struct es_out *o = arg;
	struct es_spool_batch b = { 0 };
	size_t max = (size_t)(o->cfg->bulk_max_size * o->cfg->worker);
	struct ship_doc *docs = calloc(max, sizeof(*docs));

	if (!docs) {
		log_error("elasticsearch: sender: out of memory");
		return NULL;
	}
	while (!atomic_load(&o->sender_stop)) {
		int n = es_spool_read(o->spool, &b, max, 200000000ULL);
		size_t k;

		if (n < 0) {
			log_err(o, "reading the disk queue: %s", strerror(-n));
			nap(1000000000ULL, &o->sender_stop);
			continue;
		}
		if (n == 0)
			continue;
		memset(docs, 0, (size_t)n * sizeof(*docs));
		for (int i = 0; i < n; i++) {
			docs[i].line = b.docs[i].line;
			docs[i].len = b.docs[i].len;
			docs[i].ts = b.docs[i].ts;
		}
		k = ship(o, docs, (size_t)n, &o->sender_stop);
		if (es_spool_ack(o->spool, &b, k))
			log_err(o, "writing the disk queue ack file failed: %s", strerror(errno));
	}
	es_spool_batch_free(&b);
	free(docs);
	return NULL;
}

static size_t publish_spool(struct es_out *o, struct event *ev, size_t n, const atomic_bool *stop)
{
	size_t i = 0;
	int rc = 0;

	while (i < n && !(stop && atomic_load(stop))) {
		const char *line = event_line(&ev[i]);

		if (!line) {
			stats_add(o->st, STAT_EVENTS_FAILED, 1);
			i++;
			continue;
		}
		rc = es_spool_append(o->spool, line, ev[i].len, ev[i].ts);
		if (rc == -ENOSPC) {
			es_spool_commit(o->spool);
			es_spool_wait_space(o->spool, ev[i].len, 200000000ULL);
			continue;
		}
		if (rc) {
			log_err(o, "appending to the disk queue failed: %s", strerror(-rc));
			break;
		}
		i++;
	}
	rc = es_spool_commit(o->spool);
	if (rc)
		log_err(o, "syncing the disk queue failed: %s", strerror(-rc));
	if (i < n && !(stop && atomic_load(stop)))
		nap(1000000000ULL, stop); /* disk trouble: don't spin */
	return i;
}

/* ---- ops ---- */

static size_t es_publish(void *out, struct event *ev, size_t n, const atomic_bool *stop)
{
	struct es_out *o = out;
	struct ship_doc *docs;
	size_t k;

	if (!n)
		return 0;
	if (o->spool)
		return publish_spool(o, ev, n, stop);
	docs = calloc(n, sizeof(*docs));
	if (!docs) {
		nap(100000000ULL, stop);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		docs[i].line = event_line(&ev[i]);
		docs[i].len = ev[i].len;
		docs[i].ts = ev[i].ts;
		docs[i].plain = ev[i].plain;
		docs[i].bad = !docs[i].line;
	}
	k = ship(o, docs, n, stop);
	free(docs);
	return k;
}

static void es_close(void *out);

static void *es_open(const void *priv, const struct config *cfg, struct stats *st)
{
	const struct es_cfg *c = priv;
	struct es_out *o = calloc(1, sizeof(*o));
	struct es_client_cfg cc = { 0 };
	char err[600];
	int rc;

	if (!o)
		return NULL;
	o->cfg = c;
	o->st = st;
	pthread_mutex_init(&o->log_mu, NULL);
	o->rng = now_ns(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)o;
	o->rng |= 1;
	o->shutdown_timeout = cfg->shutdown_timeout;
	if (!c->checked) { /* config_load runs es_check; nothing else makes a config */
		log_error("elasticsearch output settings were not checked");
		rc = -EINVAL;
		goto fail;
	}
	o->tpl = &c->tpl;
	o->tpl_done = !c->tpl.enabled;
	client_cfg(c, &cc);
	o->client = es_client_new(&cc, err, sizeof(err));
	if (!o->client) {
		log_error("%s", err);
		rc = -EINVAL;
		goto fail;
	}
	o->nchunks = (int)c->worker;
	o->chunks = calloc((size_t)o->nchunks, sizeof(*o->chunks));
	o->reqs = calloc((size_t)o->nchunks, sizeof(*o->reqs));
	if (!o->chunks || !o->reqs) {
		rc = -ENOMEM;
		goto fail;
	}
	if (cfg->queue.disk_path) {
		o->spool = es_spool_open(cfg->queue.disk_path, cfg->queue.disk_max_size, err, sizeof(err));
		if (!o->spool) {
			log_error("%s", err);
			rc = -EIO;
			goto fail;
		}
		if (es_spool_pending(o->spool))
			log_info("elasticsearch: disk queue %s: %" PRIu64 " events from before, sending them first",
				 cfg->queue.disk_path, es_spool_pending(o->spool));
		if (pthread_create(&o->sender, NULL, sender_main, o)) {
			rc = -EAGAIN;
			goto fail;
		}
		o->sender_started = true;
	}
	return o;
fail:
	es_close(o);
	errno = -rc;
	return NULL;
}

static void es_close(void *out)
{
	struct es_out *o = out;

	if (!o)
		return;
	if (o->sender_started) {
		/* let the sender empty the disk queue while it makes progress */
		uint64_t end = now_ns(CLOCK_MONOTONIC) + (o->shutdown_timeout ? o->shutdown_timeout : 5000000000ULL);

		while (es_spool_pending(o->spool) && now_ns(CLOCK_MONOTONIC) < end)
			nap(50000000ULL, NULL);
		if (es_spool_pending(o->spool))
			log_info("elasticsearch: %" PRIu64 " events stay in the disk queue for the next start",
				 es_spool_pending(o->spool));
		atomic_store(&o->sender_stop, true);
		pthread_join(o->sender, NULL);
	}
	es_spool_close(o->spool);
	for (int i = 0; o->chunks && i < o->nchunks; i++) {
		json_buf_free(&o->chunks[i].body);
		json_buf_free(&o->chunks[i].req.resp);
		free(o->chunks[i].idx);
		free(o->chunks[i].items);
	}
	free(o->chunks);
	free(o->reqs);
	es_client_free(o->client);
	pthread_mutex_destroy(&o->log_mu);
	free(o);
}

/* GET / on one host: "talk to server... OK" and the version, as `beat test output` prints them. */
static int test_host(const struct es_cfg *c, const char *host, FILE *out)
{
	char *one[] = { (char *)host };
	struct strlist hosts = { .v = one, .n = 1 };
	struct es_client_cfg cc = { 0 };
	struct es_req req = { .method = "GET", .path = "/" };
	struct es_req *reqs[] = { &req };
	atomic_bool stop = false;
	struct es_client *cl;
	char err[300];
	json_t *root;
	int rc = 1;

	client_cfg(c, &cc);
	cc.hosts = &hosts;
	cc.conns = 1;
	fprintf(out, "elasticsearch: %s...\n  parse url... ", host);
	if (!(cl = es_client_new(&cc, err, sizeof(err)))) {
		fprintf(out, "ERROR %s\n", err);
		return 1;
	}
	fprintf(out, "OK\n  connection... ");
	es_client_run(cl, reqs, 1, &stop);
	if (!req.status) {
		fprintf(out, "ERROR %s\n", req.errmsg[0] ? req.errmsg : strerror(-req.err));
	} else {
		fprintf(out, "OK\n  TLS... %s\n  talk to server... ",
			strncmp(es_client_host(cl, 0), "https:", 6) ? "WARN secure connection disabled" : "OK");
		root = req.status == 200 ? json_loadb(req.resp.p, req.resp.len, 0, NULL) : NULL;
		if (root && json_is_string(json_object_get(json_object_get(root, "version"), "number"))) {
			fprintf(out, "OK\n  version: %s\n",
				json_string_value(json_object_get(json_object_get(root, "version"), "number")));
			rc = 0;
		} else {
			fprintf(out, "ERROR HTTP %ld%s\n", req.status, root ? ", no version in the answer" : "");
		}
		json_decref(root);
	}
	es_req_reset(&req);
	json_buf_free(&req.resp);
	es_client_free(cl);
	return rc;
}

static int es_test(const void *priv, FILE *out)
{
	const struct es_cfg *c = priv;
	int rc = 0;

	for (size_t i = 0; i < c->hosts.n; i++)
		rc |= test_host(c, c->hosts.v[i], out);
	return rc;
}

static const char *es_template(const void *priv)
{
	return ((const struct es_cfg *)priv)->tpl_body;
}

const struct output_ops elasticsearch_output_ops = {
	.name = "elasticsearch",
	.cfg_fields = es_fields,
	.cfg_new = es_cfg_new,
	.cfg_free = es_cfg_free,
	.check = es_check,
	.open = es_open,
	.publish = es_publish,
	.close = es_close,
	.test = es_test,
	.template_body = es_template,
};
