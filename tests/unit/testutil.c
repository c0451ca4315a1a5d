/* Test helpers: see testutil.h. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../event_check.h"
#include "testutil.h"

#define ISN_C 1000
#define ISN_S 5000

static bool has_processors(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nprotos; i++)
		if (cfg->protos[i].processors)
			return true;
	return cfg->processors != NULL;
}

static void collect(void *ctx, const char *json, size_t len, uint64_t ts, bool plain)
{
	struct tp *tp = ctx;
	json_error_t err;
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	const char *why;

	(void)ts;
	cr_assert(doc, "event is not valid JSON: %s: %.*s", err.text, (int)len, json);
	why = has_processors(tp->cfg) ? NULL : event_check(tp->cfg, doc, plain, NULL);
	cr_assert_null(why, "%s: %.*s", why, (int)len, json);
	json_array_append_new(tp->events, doc);
}

struct tp *tp_new(const char *yaml, uint16_t server_port)
{
	char path[] = "/tmp/xdpbeat-test-XXXXXX";
	struct cfg_err err = { .msg = "" };
	struct tp *tp = calloc(1, sizeof(*tp));
	int fd = mkstemp(path);

	cr_assert(tp && fd >= 0);
	cr_assert(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
	close(fd);
	tp->cfg = config_load(path, NULL, 0, &err);
	unlink(path);
	cr_assert(tp->cfg, "config: %s", err.msg);
	tp->events = json_array();
	tp->pl = pipeline_new(tp->cfg, &tp->st, collect, tp);
	cr_assert(tp->pl);
	tp->port = server_port;
	tp->seq[0] = ISN_C + 1;
	tp->seq[1] = ISN_S + 1;
	tp->ts = 1700000000ull * 1000000000ull;
	return tp;
}

struct tp *tp_proto(const char *type, uint16_t server_port, const char *extra)
{
	struct tp *tp;
	char *yaml;

	cr_assert(asprintf(&yaml, "xdpbeat.protocols:\n  - type: %s\n    ports: [%u]\n%soutput.console.enabled: true\n",
			   type, server_port, extra ? extra : "") > 0);
	tp = tp_new(yaml, server_port);
	free(yaml);
	return tp;
}

void tp_free(struct tp *tp)
{
	if (!tp)
		return;
	pipeline_free(tp->pl);
	json_decref(tp->events);
	config_free(tp->cfg);
	free(tp);
}

static void fill(struct tp *tp, struct packet *p, int dir, uint8_t transport)
{
	static const uint8_t cli[4] = { 10, 0, 0, 1 }, srv[4] = { 10, 0, 0, 2 };

	memset(p, 0, sizeof(*p));
	p->src.family = p->dst.family = 4;
	memcpy(p->src.a, dir == 0 ? cli : srv, 4);
	memcpy(p->dst.a, dir == 0 ? srv : cli, 4);
	p->sport = dir == 0 ? 40000 : tp->port;
	p->dport = dir == 0 ? tp->port : 40000;
	p->transport = transport;
	tp->ts += 1000000;
	p->ts = tp->ts;
}

/* A segment of len bytes held of wire bytes on the wire (wire > len: the capture cut the rest). */
static void send_tcp(struct tp *tp, int dir, uint8_t flags, uint32_t seq, const void *data, size_t len, uint32_t wire)
{
	struct packet p;
	uint8_t *copy = len ? malloc(len) : NULL;

	fill(tp, &p, dir, IPPROTO_TCP);
	if (len)
		memcpy(copy, data, len); /* exact-size copy: ASan sees over-reads */
	p.tcp_flags = flags | ((flags & XB_TCP_SYN) && dir == 0 ? 0 : XB_TCP_ACK);
	p.seq = seq;
	p.ack = tp->seq[!dir];
	p.payload = copy;
	p.payload_len = (uint32_t)len;
	p.wire_len = wire;
	pipeline_packet(tp->pl, &p);
	free(copy);
}

void tp_tcp(struct tp *tp, int dir, uint8_t flags, const void *data, size_t len)
{
	send_tcp(tp, dir, flags, tp->seq[dir], data, len, (uint32_t)len);
	tp->seq[dir] += (uint32_t)len + ((flags & XB_TCP_FIN) ? 1 : 0);
}

void tp_tcp_at(struct tp *tp, int dir, uint8_t flags, uint32_t rel_seq, const void *data, size_t len)
{
	send_tcp(tp, dir, flags, (dir == 0 ? ISN_C + 1 : ISN_S + 1) + rel_seq, data, len, (uint32_t)len);
}

void tp_tcp_str(struct tp *tp, int dir, const char *s)
{
	tp_tcp(tp, dir, 0, s, strlen(s));
}

void tp_tcp_split(struct tp *tp, int dir, const void *data, size_t len, size_t cut)
{
	const uint8_t *d = data;

	if (cut == 0 || cut >= len) {
		tp_tcp(tp, dir, 0, d, len);
		return;
	}
	tp_tcp(tp, dir, 0, d, cut);
	tp_tcp(tp, dir, 0, d + cut, len - cut);
}

void tp_tcp_cut(struct tp *tp, int dir, const void *data, uint32_t cap, uint32_t wire)
{
	send_tcp(tp, dir, 0, tp->seq[dir], data, cap, wire);
	tp->seq[dir] += wire;
}

void tp_tcp_skipped(struct tp *tp, int dir, uint32_t wire)
{
	struct packet p;

	fill(tp, &p, dir, IPPROTO_TCP);
	p.tcp_flags = XB_TCP_ACK;
	p.seq = tp->seq[dir];
	p.ack = tp->seq[!dir];
	p.wire_len = wire;
	p.skipped = true;
	pipeline_packet(tp->pl, &p);
	tp->seq[dir] += wire;
}

void tp_handshake(struct tp *tp)
{
	send_tcp(tp, 0, XB_TCP_SYN, ISN_C, NULL, 0, 0);
	send_tcp(tp, 1, XB_TCP_SYN, ISN_S, NULL, 0, 0);
}

void tp_exchange(struct tp *tp, const void *c2s, size_t nc, const void *s2c, size_t ns, size_t cq, size_t cr)
{
	tp_handshake(tp);
	tp_tcp_split(tp, 0, c2s, nc, cq);
	tp_tcp_split(tp, 1, s2c, ns, cr);
	tp_flush(tp);
}

void tp_udp(struct tp *tp, int dir, const void *data, size_t len)
{
	struct packet p;
	uint8_t *copy = malloc(len ? len : 1);

	fill(tp, &p, dir, IPPROTO_UDP);
	memcpy(copy, data, len);
	p.payload = copy;
	p.payload_len = p.wire_len = (uint32_t)len;
	pipeline_packet(tp->pl, &p);
	free(copy);
}

void tp_flush(struct tp *tp)
{
	pipeline_flush(tp->pl);
}

size_t tp_count(const struct tp *tp)
{
	return json_array_size(tp->events);
}

json_t *tp_event(const struct tp *tp, size_t i)
{
	return json_array_get(tp->events, i);
}

json_t *tp_get(const struct tp *tp, size_t i, const char *dotted)
{
	json_t *v = tp_event(tp, i);
	const char *seg = dotted;
	char key[128];

	while (v) {
		size_t n = strcspn(seg, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, seg, n);
		key[n] = '\0';
		if (json_is_array(v))
			v = json_array_get(v, strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		if (!seg[n])
			return v;
		seg += n + 1;
	}
	return NULL;
}

const char *tp_str(const struct tp *tp, size_t i, const char *dotted)
{
	json_t *v = tp_get(tp, i, dotted);

	cr_assert(json_is_string(v), "event %zu: %s missing or not a string", i, dotted);
	return json_string_value(v);
}

json_int_t tp_int(const struct tp *tp, size_t i, const char *dotted)
{
	json_t *v = tp_get(tp, i, dotted);

	cr_assert(json_is_integer(v), "event %zu: %s missing or not an integer", i, dotted);
	return json_integer_value(v);
}

char *tp_dump(const struct tp *tp)
{
	return json_dumps(tp->events, JSON_COMPACT | JSON_SORT_KEYS);
}

/* The keys of event i that it has, in a new object. */
static json_t *pick(const struct tp *tp, size_t i, const char *const *keys)
{
	json_t *e = tp_event(tp, i), *o = json_object();

	cr_assert(e && o);
	for (; *keys; keys++) {
		json_t *v = json_object_get(e, *keys);

		if (v)
			json_object_set(o, *keys, v);
	}
	return o;
}

/* Compact JSON with sorted keys of v, which is released. */
static char *dump_free(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(v);
	cr_assert(s);
	return s;
}

char *tp_fields(const struct tp *tp, size_t i, const char *const *keys)
{
	return dump_free(pick(tp, i, keys));
}

char *tp_fields_all(const struct tp *tp, const char *const *keys)
{
	json_t *a = json_array();

	for (size_t i = 0; i < tp_count(tp); i++)
		json_array_append_new(a, pick(tp, i, keys));
	return dump_free(a);
}

void tp_assert_bytes_balance(const struct tp *tp)
{
	const struct stats *st = &tp->st;
	uint64_t in = stats_get(st, STAT_TCP_BYTES_DELIVERED);
	uint64_t out = stats_get(st, STAT_TCP_BYTES_CONSUMED) + stats_get(st, STAT_TCP_BYTES_DROP_GAP) +
		       stats_get(st, STAT_TCP_BYTES_DROP_PARSE) + stats_get(st, STAT_TCP_BYTES_DROP_CAP) +
		       stats_get(st, STAT_TCP_BYTES_DROP_CLOSE);

	cr_assert_eq(in, out, "delivered %llu, consumed + dropped %llu", (unsigned long long)in,
		     (unsigned long long)out);
	cr_assert_eq(stats_get(st, STAT_TCP_BYTES_UNBALANCED), 0);
}

void tp_assert_tcp_bytes(const struct tp *tp, uint64_t consumed, uint64_t parse_error, uint64_t gap, uint64_t at_close)
{
	const struct stats *st = &tp->st;

	tp_assert_bytes_balance(tp);
	cr_assert_eq(stats_get(st, STAT_TCP_BYTES_CONSUMED), consumed, "consumed %llu",
		     (unsigned long long)stats_get(st, STAT_TCP_BYTES_CONSUMED));
	cr_assert_eq(stats_get(st, STAT_TCP_BYTES_DROP_PARSE), parse_error, "dropped_parse_error %llu",
		     (unsigned long long)stats_get(st, STAT_TCP_BYTES_DROP_PARSE));
	cr_assert_eq(stats_get(st, STAT_TCP_BYTES_DROP_GAP), gap, "dropped_gap %llu",
		     (unsigned long long)stats_get(st, STAT_TCP_BYTES_DROP_GAP));
	cr_assert_eq(stats_get(st, STAT_TCP_BYTES_DROP_CLOSE), at_close, "unparsed_at_close %llu",
		     (unsigned long long)stats_get(st, STAT_TCP_BYTES_DROP_CLOSE));
}

const char *json_joined(const json_t *a)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
				      json_string_value(json_array_get(a, i)));
	return buf;
}
