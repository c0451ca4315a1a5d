/* Config: YAML tree, dotted keys, -E overrides, conversions, cfg_apply, config_load. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "output.h"
#include "proto.h"

#define NS 1ull
#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static struct cfg_node *parse(const char *text)
{
	struct cfg_err err = { { 0 } };
	struct cfg_node *t = cfg_parse_yaml(text, strlen(text), "t.yml", &err);

	cr_assert_not_null(t, "parse failed: %s", err.msg);
	return t;
}

/* Parse must fail; returns the message. */
static const char *parse_err(const char *text, struct cfg_err *err)
{
	struct cfg_node *t = cfg_parse_yaml(text, strlen(text), "t.yml", err);

	cr_assert_null(t, "parse of <<%s>> should fail", text);
	return err->msg;
}

static const char *val(const struct cfg_node *root, const char *path)
{
	const struct cfg_node *n = cfg_get(root, path);

	cr_assert_not_null(n, "%s missing", path);
	cr_assert_eq(n->kind, CFG_N_SCALAR, "%s not a scalar", path);
	return n->value;
}

/* Same shape, keys and scalar values (order included). */
static bool same_tree(const struct cfg_node *a, const struct cfg_node *b)
{
	for (; a && b; a = a->next, b = b->next) {
		if (a->kind != b->kind || !!a->key != !!b->key || (a->key && strcmp(a->key, b->key)))
			return false;
		if (a->kind == CFG_N_SCALAR && strcmp(a->value, b->value))
			return false;
		if ((a->path || b->path) && (!a->path || !b->path || strcmp(a->path, b->path)))
			return false;
		if (a->kind != CFG_N_SCALAR && !same_tree(a->child, b->child))
			return false;
	}
	return !a && !b;
}

static void assert_has(const char *msg, const char *want)
{
	cr_assert(strstr(msg, want), "message <<%s>> lacks <<%s>>", msg, want);
}

/* ---- tree ---- */

Test(config, dotted_equals_nested)
{
	struct cfg_node *a = parse("output.elasticsearch.backoff.init: 1s\n"
				   "output.elasticsearch.hosts: [x, y]\n");
	struct cfg_node *b = parse("output:\n"
				   "  elasticsearch:\n"
				   "    backoff:\n"
				   "      init: 1s\n"
				   "    hosts:\n"
				   "      - x\n"
				   "      - y\n");
	struct cfg_node *c = parse("output:\n"
				   "  elasticsearch.backoff.init: 1s\n"
				   "output.elasticsearch:\n"
				   "  hosts: [x, y]\n");

	cr_assert(same_tree(a->child, b->child));
	cr_assert(same_tree(a->child, c->child));
	cr_assert_str_eq(val(a, "output.elasticsearch.backoff.init"), "1s");
	cr_assert_str_eq(val(b, "output.elasticsearch.hosts.1"), "y");
	cr_assert_str_eq(cfg_get(b, "output.elasticsearch.hosts.1")->path, "output.elasticsearch.hosts.1");
	cfg_node_free(a);
	cfg_node_free(b);
	cfg_node_free(c);
}

Test(config, dotted_inside_sequence_items)
{
	struct cfg_node *t = parse("xdpbeat.protocols:\n"
				   "  - type: http\n"
				   "    a.b: 1\n"
				   "    a:\n"
				   "      c: 2\n");

	cr_assert_str_eq(val(t, "xdpbeat.protocols.0.a.b"), "1");
	cr_assert_str_eq(val(t, "xdpbeat.protocols.0.a.c"), "2");
	cr_assert_str_eq(cfg_get(t, "xdpbeat.protocols.0.a.c")->path, "xdpbeat.protocols.0.a.c");
	cfg_node_free(t);
}

Test(config, duplicate_keys_merge_later_wins)
{
	struct cfg_node *t = parse("a.x: 1\n"
				   "a.y: 2\n"
				   "a.x: 3\n"
				   "b: 1\n"
				   "b.c: 2\n");

	cr_assert_str_eq(val(t, "a.x"), "3");
	cr_assert_str_eq(val(t, "a.y"), "2");
	cr_assert_str_eq(val(t, "b.c"), "2");
	cfg_node_free(t);
}

Test(config, line_numbers_and_quoting)
{
	struct cfg_node *t = parse("# comment\n"
				   "a: 1\n"
				   "\n"
				   "b:\n"
				   "  c: \"80\"\n"
				   "  d:\n"
				   "    - x\n"
				   "    - y\n");

	cr_assert_eq(cfg_get(t, "a")->line, 2);
	cr_assert_eq(cfg_get(t, "b")->line, 4);
	cr_assert_eq(cfg_get(t, "b.c")->line, 5);
	cr_assert_eq(cfg_get(t, "b.d.1")->line, 8);
	cr_assert(cfg_get(t, "b.c")->quoted);
	cr_assert_not(cfg_get(t, "a")->quoted);
	cr_assert_str_eq(cfg_get(t, "a")->file, "t.yml");
	cfg_node_free(t);
}

Test(config, empty_document_is_empty_map)
{
	struct cfg_node *t = parse("# nothing\n");

	cr_assert_eq(t->kind, CFG_N_MAP);
	cr_assert_null(t->child);
	cfg_node_free(t);
}

Test(config, yaml_syntax_error_names_file_and_line)
{
	struct cfg_err err;
	const char *m = parse_err("a: 1\nb: [1, 2\nc: 3\n", &err);

	assert_has(m, "t.yml:");
	assert_has(m, "syntax error");
	m = parse_err("a: 1\n  b: 2\n", &err);
	assert_has(m, "t.yml:2:");
}

Test(config, anchors_rejected)
{
	struct cfg_err err;
	const char *m = parse_err("a: &x 1\nb: *x\n", &err);

	assert_has(m, "t.yml:1: a:");
	assert_has(m, "anchors");
}

Test(config, top_level_must_be_map)
{
	struct cfg_err err;

	assert_has(parse_err("- a\n- b\n", &err), "expected a map");
	assert_has(parse_err("just text\n", &err), "expected a map");
	assert_has(parse_err("a: 1\n---\nb: 2\n", &err), "single YAML document");
	assert_has(parse_err("a..b: 1\n", &err), "t.yml:1: a..b:");
}

Test(config, deep_nesting_capped)
{
	char buf[2048] = "";

	for (int i = 0; i < 200; i++)
		strcat(buf, "[");
	struct cfg_err err;

	assert_has(parse_err(buf, &err), "t.yml:");
	strcpy(buf, "a");
	for (int i = 0; i < 100; i++)
		strcat(buf, ".a");
	strcat(buf, ": 1\n");
	assert_has(parse_err(buf, &err), "t.yml:1:");
}

/* ---- -E ---- */

Test(config, override_scalar_sequence_and_index)
{
	struct cfg_node *t = parse("xdpbeat.interfaces: [lo]\n"
				   "xdpbeat.protocols:\n"
				   "  - type: http\n"
				   "    ports: [80]\n"
				   "output.console.enabled: true\n");
	struct cfg_err err;
	const struct cfg_node *n;

	cr_assert_eq(cfg_override(t, "output.console.enabled=false", &err), 0, "%s", err.msg);
	cr_assert_str_eq(val(t, "output.console.enabled"), "false");
	cr_assert_str_eq(cfg_get(t, "output.console.enabled")->file, "-E");

	cr_assert_eq(cfg_override(t, "xdpbeat.interfaces=[lo,eth0]", &err), 0, "%s", err.msg);
	n = cfg_get(t, "xdpbeat.interfaces");
	cr_assert_eq(n->kind, CFG_N_SEQ);
	cr_assert_str_eq(val(t, "xdpbeat.interfaces.1"), "eth0");

	cr_assert_eq(cfg_override(t, "xdpbeat.protocols.0.ports=[8080, 8081]", &err), 0, "%s", err.msg);
	cr_assert_str_eq(val(t, "xdpbeat.protocols.0.ports.0"), "8080");
	cr_assert_str_eq(val(t, "xdpbeat.protocols.0.type"), "http");
	cr_assert_str_eq(cfg_get(t, "xdpbeat.protocols.0.ports.1")->path, "xdpbeat.protocols.0.ports.1");

	/* append a new item at index == length, new keys anywhere */
	cr_assert_eq(cfg_override(t, "xdpbeat.protocols.1.type=dns", &err), 0, "%s", err.msg);
	cr_assert_str_eq(val(t, "xdpbeat.protocols.1.type"), "dns");
	cr_assert_eq(cfg_override(t, "queue.mem.events=10", &err), 0, "%s", err.msg);
	cr_assert_str_eq(val(t, "queue.mem.events"), "10");
	/* not YAML: kept as a string */
	cr_assert_eq(cfg_override(t, "output.file.filename=%{+yyyy}", &err), 0, "%s", err.msg);
	cr_assert_str_eq(val(t, "output.file.filename"), "%{+yyyy}");
	cr_assert(cfg_get(t, "output.file.filename")->quoted);
	cfg_node_free(t);
}

Test(config, override_errors)
{
	struct cfg_node *t = parse("xdpbeat.protocols:\n  - type: http\n");
	struct cfg_err err;

	cr_assert_neq(cfg_override(t, "novalue", &err), 0);
	assert_has(err.msg, "-E");
	cr_assert_neq(cfg_override(t, "xdpbeat.protocols.5.ports=[1]", &err), 0);
	assert_has(err.msg, "-E: xdpbeat.protocols.5.ports");
	assert_has(err.msg, "out of range");
	cr_assert_neq(cfg_override(t, "xdpbeat.protocols.x.ports=[1]", &err), 0);
	assert_has(err.msg, "index");
	cr_assert_neq(cfg_override(t, "a..b=1", &err), 0);
	cr_assert_neq(cfg_override(t, "a=[1, 2", &err), 0);
	assert_has(err.msg, "-E");
	cfg_node_free(t);
}

/* ---- conversions ---- */

static struct cfg_node *scalar_doc(const char *v)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "v: %s\n", v);
	return parse(buf);
}

static int dur(const char *v, uint64_t *out, struct cfg_err *err)
{
	struct cfg_node *t = scalar_doc(v);
	int rc = cfg_to_duration(cfg_get(t, "v"), out, err);

	cfg_node_free(t);
	return rc;
}

static int size(const char *v, uint64_t *out, struct cfg_err *err)
{
	struct cfg_node *t = scalar_doc(v);
	int rc = cfg_to_size(cfg_get(t, "v"), out, err);

	cfg_node_free(t);
	return rc;
}

Test(config, durations)
{
	static const struct {
		const char *in;
		uint64_t ns;
	} ok[] = {
		{ "10s", 10 * SEC },
		{ "500ms", 500 * MS },
		{ "1m", 60 * SEC },
		{ "2h", 7200 * SEC },
		{ "250us", 250 * US },
		{ "7ns", 7 * NS },
		{ "0", 0 },
		{ "30", 30 * SEC },
		{ "1.5", 1500 * MS },
		{ "1m30s", 90 * SEC },
		{ "1.5s", 1500 * MS },
		{ "\"10s\"", 10 * SEC },
	};
	static const char *const bad[] = { "10x", "-1s", "-5", "s", "\"\"", "1s2", "[1]", "1e3", "10 s" };
	struct cfg_err err;
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(dur(ok[i].in, &v, &err), 0, "%s: %s", ok[i].in, err.msg);
		cr_assert_eq(v, ok[i].ns, "%s: got %llu", ok[i].in, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_neq(dur(bad[i], &v, &err), 0, "%s accepted", bad[i]);
		assert_has(err.msg, "t.yml:1: v: expected a duration");
	}
}

Test(config, sizes)
{
	static const struct {
		const char *in;
		uint64_t bytes;
	} ok[] = {
		{ "1024", 1024 },	{ "64KiB", 65536 }, { "10MB", 10000000 },
		{ "1GiB", 1ull << 30 }, { "1.5KB", 1500 },  { "8MiB", 8ull << 20 },
		{ "100B", 100 },	{ "2kb", 2000 },    { "3 MiB", 3ull << 20 },
	};
	static const char *const bad[] = { "10XB", "-1", "abc", "1KiBB", "{}", "99999999999999999999" };
	struct cfg_err err;
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(size(ok[i].in, &v, &err), 0, "%s: %s", ok[i].in, err.msg);
		cr_assert_eq(v, ok[i].bytes, "%s: got %llu", ok[i].in, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_neq(size(bad[i], &v, &err), 0, "%s accepted", bad[i]);
		assert_has(err.msg, "t.yml:1: v: expected a size");
	}
}

Test(config, bools_ints_strings)
{
	struct cfg_node *t = parse("a: true\nb: off\nc: \"true\"\nd: 42\ne: \"42\"\nf: -3\ng: [1]\nh: x y\n");
	struct cfg_err err;
	bool b;
	int64_t i;
	char *s;

	cr_assert_eq(cfg_to_bool(cfg_get(t, "a"), &b, &err), 0);
	cr_assert(b);
	cr_assert_eq(cfg_to_bool(cfg_get(t, "b"), &b, &err), 0);
	cr_assert_not(b);
	cr_assert_neq(cfg_to_bool(cfg_get(t, "c"), &b, &err), 0);
	assert_has(err.msg, "t.yml:3: c: expected a boolean");
	cr_assert_neq(cfg_to_bool(cfg_get(t, "d"), &b, &err), 0);

	cr_assert_eq(cfg_to_int(cfg_get(t, "d"), 0, 100, &i, &err), 0);
	cr_assert_eq(i, 42);
	cr_assert_eq(cfg_to_int(cfg_get(t, "f"), -10, 10, &i, &err), 0);
	cr_assert_eq(i, -3);
	cr_assert_neq(cfg_to_int(cfg_get(t, "d"), 0, 10, &i, &err), 0);
	assert_has(err.msg, "t.yml:4: d: expected an integer from 0 to 10, got \"42\"");
	cr_assert_neq(cfg_to_int(cfg_get(t, "e"), 0, 100, &i, &err), 0);
	assert_has(err.msg, "string \"42\"");
	cr_assert_neq(cfg_to_int(cfg_get(t, "g"), 0, 100, &i, &err), 0);
	assert_has(err.msg, "got a sequence");

	cr_assert_eq(cfg_to_string(cfg_get(t, "h"), &s, &err), 0);
	cr_assert_str_eq(s, "x y");
	free(s);
	cr_assert_neq(cfg_to_string(cfg_get(t, "g"), &s, &err), 0);
	cfg_node_free(t);
}

Test(config, ints_octal_and_hex_as_yaml_1_1)
{
	struct cfg_node *t = parse("perm: 0600\nhex: 0x1F\nzero: 0\nbad: 0800\n");
	struct cfg_err err;
	int64_t i;

	cr_assert_eq(cfg_to_int(cfg_get(t, "perm"), 0, 07777, &i, &err), 0);
	cr_assert_eq(i, 0600, "file permissions as Beats write them");
	cr_assert_eq(cfg_to_int(cfg_get(t, "hex"), 0, 100, &i, &err), 0);
	cr_assert_eq(i, 31);
	cr_assert_eq(cfg_to_int(cfg_get(t, "zero"), 0, 100, &i, &err), 0);
	cr_assert_eq(i, 0);
	cr_assert_neq(cfg_to_int(cfg_get(t, "bad"), 0, 10000, &i, &err), 0);
	assert_has(err.msg, "t.yml:4: bad: expected an integer");
	cfg_node_free(t);
}

/* ---- cfg_apply ---- */

struct sample {
	bool on;
	int64_t n;
	uint64_t d, sz;
	char *name;
	struct strlist hosts;
	struct portlist ports;
	int64_t inner;
	int custom_calls;
};

static int sample_custom(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	((struct sample *)base)->custom_calls++;
	return 0;
}

/* clang-format off */
#define S(k, t, m) { .key = k, .type = t, .offset = offsetof(struct sample, m) }
/* clang-format on */
static const struct cfg_field sample_inner[] = {
	{ .key = "x", .type = CFG_INT, .offset = offsetof(struct sample, inner), .min = 0, .max = 9 },
	{ 0 },
};
static const struct cfg_field sample_fields[] = {
	S("on", CFG_BOOL, on),
	{ .key = "n", .type = CFG_INT, .offset = offsetof(struct sample, n), .min = 1, .max = 100 },
	S("d", CFG_DURATION, d),
	S("sz", CFG_SIZE, sz),
	S("name", CFG_STRING, name),
	S("hosts", CFG_STRLIST, hosts),
	S("ports", CFG_PORTS, ports),
	{ .key = "inner", .type = CFG_SECTION, .sub = sample_inner },
	{ .key = "c", .type = CFG_CUSTOM, .custom = sample_custom },
	{ 0 },
};

static int apply(const char *text, struct sample *s, struct cfg_err *err)
{
	struct cfg_node *t = parse(text);
	int rc = cfg_apply(sample_fields, s, t, err);

	cfg_node_free(t);
	return rc;
}

Test(config, apply_table)
{
	struct sample s = { .name = strdup("old") };
	struct cfg_err err;

	cr_assert_eq(apply("on: yes\nn: 5\nd: 2s\nsz: 1KiB\nname: new\nhosts: h1\nports: [80, 443]\n"
			   "inner.x: 3\nc: whatever\n",
			   &s, &err),
		     0, "%s", err.msg);
	cr_assert(s.on);
	cr_assert_eq(s.n, 5);
	cr_assert_eq(s.d, 2 * SEC);
	cr_assert_eq(s.sz, 1024);
	cr_assert_str_eq(s.name, "new");
	cr_assert_eq(s.hosts.n, 1);
	cr_assert_str_eq(s.hosts.v[0], "h1");
	cr_assert(strlist_has(&s.hosts, "H1", true));
	cr_assert_not(strlist_has(&s.hosts, "H1", false));
	cr_assert_eq(s.ports.n, 2);
	cr_assert_eq(s.ports.v[1], 443);
	cr_assert_eq(s.inner, 3);
	cr_assert_eq(s.custom_calls, 1);
	/* a second apply replaces lists and strings without leaking */
	cr_assert_eq(apply("hosts: [a, b]\nports: 8080\nname: z\n", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.hosts.n, 2);
	cr_assert_eq(s.ports.n, 1);
	cr_assert_eq(s.ports.v[0], 8080);
	cfg_fields_free(sample_fields, &s);
	cr_assert_null(s.name);
	cr_assert_eq(s.hosts.n, 0);
	cfg_fields_free(sample_fields, NULL);
}

Test(config, apply_errors)
{
	struct sample s = { 0 };
	struct cfg_err err;

	cr_assert_neq(apply("on: true\nbogus: 1\n", &s, &err), 0);
	assert_has(err.msg, "t.yml:2: bogus: unknown setting");
	assert_has(err.msg, "hosts");
	cr_assert_neq(apply("inner:\n  y: 1\n", &s, &err), 0);
	assert_has(err.msg, "t.yml:2: inner.y: unknown setting, expected one of: x");
	cr_assert_neq(apply("n: abc\n", &s, &err), 0);
	assert_has(err.msg, "t.yml:1: n: expected an integer");
	cr_assert_neq(apply("ports: [80, 0]\n", &s, &err), 0);
	assert_has(err.msg, "t.yml:1: ports.1: expected a port number from 1 to 65535, got \"0\"");
	cr_assert_neq(apply("ports:\n  - 80\n  - 70000\n", &s, &err), 0);
	assert_has(err.msg, "t.yml:3: ports.1:");
	cr_assert_neq(apply("ports: [http]\n", &s, &err), 0);
	assert_has(err.msg, "ports.0");
	cr_assert_neq(apply("ports: [80, 80]\n", &s, &err), 0);
	assert_has(err.msg, "listed twice");
	cr_assert_neq(apply("hosts: [[a]]\n", &s, &err), 0);
	assert_has(err.msg, "hosts.0: expected a string, got a sequence");
	cr_assert_neq(apply("inner: 5\n", &s, &err), 0);
	assert_has(err.msg, "inner: expected a map");
	cr_assert_neq(apply("name: {a: 1}\n", &s, &err), 0);
	assert_has(err.msg, "name: expected a string, got a map");
	cfg_fields_free(sample_fields, &s);
}

/* ---- config_load ---- */

static struct config *load(const char *text, char *const *ov, size_t nov, struct cfg_err *err)
{
	return config_load_string(text, strlen(text), "x.yml", ov, nov, err);
}

static struct config *load_ok(const char *text, char *const *ov, size_t nov)
{
	struct cfg_err err = { { 0 } };
	struct config *c = load(text, ov, nov, &err);

	cr_assert_not_null(c, "load failed: %s", err.msg);
	return c;
}

static void load_fails(const char *text, const char *want1, const char *want2)
{
	struct cfg_err err = { { 0 } };
	struct config *c = load(text, NULL, 0, &err);

	cr_assert_null(c, "<<%s>> should not load", text);
	assert_has(err.msg, want1);
	if (want2)
		assert_has(err.msg, want2);
}

static const struct output_cfg *find_output(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->noutputs; i++)
		if (!strcmp(c->outputs[i].ops->name, name))
			return &c->outputs[i];
	return NULL;
}

Test(config, defaults)
{
	struct config *c = load_ok("", NULL, 0);

	cr_assert_eq(c->interfaces.n, 1);
	cr_assert_str_eq(c->interfaces.v[0], "lo");
	cr_assert_eq(c->snaplen, 65535);
	cr_assert_eq(c->ring_size, 8u << 20);
	cr_assert_eq(c->stats_period, 30 * SEC);
	cr_assert_eq(c->shutdown_timeout, 5 * SEC);
	cr_assert_eq(c->tcp.idle_timeout, 60 * SEC);
	cr_assert_eq(c->tcp.max_connections, 65536);
	cr_assert_eq(c->tcp.max_stream_bytes, 10u << 20);
	cr_assert_eq(c->tcp.max_total_bytes, 512u << 20);
	cr_assert_eq(c->tcp.max_ooo_segments, 64);
	cr_assert_eq(c->queue.events, 4096);
	cr_assert_eq(c->queue.flush_min_events, 512);
	cr_assert_eq(c->queue.flush_timeout, 1 * SEC);
	cr_assert_null(c->queue.disk_path);
	cr_assert_eq(c->nprotos, 0);
	/* no output section: console */
	cr_assert_eq(c->noutputs, 1);
	cr_assert_str_eq(c->outputs[0].ops->name, "console");
	cr_assert(c->outputs[0].enabled);
	cr_assert_null(c->setup);
	cr_assert_str_eq(c->file, "x.yml");
	config_free(c);
	config_free(NULL);
}

Test(config, full_settings)
{
	struct config *c = load_ok("xdpbeat:\n"
				   "  interfaces: [lo, eth0]\n"
				   "  snaplen: 1500\n"
				   "  ring_size: 16MiB\n"
				   "  stats_period: 0\n"
				   "  shutdown_timeout: 2s\n"
				   "  tcp.idle_timeout: 5m\n"
				   "  tcp.max_connections: 10\n"
				   "  tcp.max_stream_bytes: 1MB\n"
				   "  tcp.max_total_bytes: 2MB\n"
				   "  tcp.max_ooo_segments: 3\n"
				   "  protocols:\n"
				   "    - type: http\n"
				   "      ports: [8080, 9090]\n"
				   "      send_request: true\n"
				   "      transaction_timeout: 2s\n"
				   "queue.mem:\n"
				   "  events: 100\n"
				   "  flush.min_events: 10\n"
				   "  flush.timeout: 50ms\n"
				   "queue.disk.path: /tmp/q\n"
				   "queue.disk.max_size: 1GB\n"
				   "setup.template.enabled: false\n"
				   "logging.level: debug\n"
				   "logging.to_stderr: true\n"
				   "output.file:\n"
				   "  path: /tmp/out\n",
				   NULL, 0);
	const struct proto_cfg *pc;

	cr_assert_eq(c->interfaces.n, 2);
	cr_assert_eq(c->snaplen, 1500);
	cr_assert_eq(c->ring_size, 16u << 20);
	cr_assert_eq(c->stats_period, 0);
	cr_assert_eq(c->shutdown_timeout, 2 * SEC);
	cr_assert_eq(c->tcp.idle_timeout, 300 * SEC);
	cr_assert_eq(c->tcp.max_connections, 10);
	cr_assert_eq(c->tcp.max_stream_bytes, 1000000);
	cr_assert_eq(c->tcp.max_total_bytes, 2000000);
	cr_assert_eq(c->tcp.max_ooo_segments, 3);
	cr_assert_eq(c->queue.events, 100);
	cr_assert_eq(c->queue.flush_min_events, 10);
	cr_assert_eq(c->queue.flush_timeout, 50 * MS);
	cr_assert_str_eq(c->queue.disk_path, "/tmp/q");
	cr_assert_eq(c->queue.disk_max_size, 1000000000);
	cr_assert_not_null(c->setup);
	cr_assert_str_eq(val(c->setup, "template.enabled"), "false");

	cr_assert_eq(c->nprotos, 1);
	pc = &c->protos[0];
	cr_assert_str_eq(pc->ops->name, "http");
	cr_assert(pc->enabled);
	cr_assert(pc->send_request);
	cr_assert_not(pc->send_response);
	cr_assert_eq(pc->transaction_timeout, 2 * SEC);
	cr_assert_eq(pc->ports.n, 2);
	cr_assert_eq(config_proto_for_port(c, IPPROTO_TCP, 8080), pc);
	cr_assert_eq(config_proto_for_port(c, IPPROTO_TCP, 9090), pc);
	cr_assert_null(config_proto_for_port(c, IPPROTO_TCP, 80));
	cr_assert_null(config_proto_for_port(c, IPPROTO_UDP, 8080));
	cr_assert_null(config_proto_for_port(c, IPPROTO_ICMP, 8080));

	/* an output section present: only the outputs listed */
	cr_assert_eq(c->noutputs, 1);
	cr_assert_not_null(find_output(c, "file"));
	config_free(c);
}

Test(config, protocol_defaults_and_disabled)
{
	const struct proto_ops *http = proto_find("http");
	struct config *c;

	cr_assert_not_null(http);
	c = load_ok("xdpbeat.protocols:\n  - type: http\n", NULL, 0);
	cr_assert_eq(c->nprotos, 1);
	cr_assert_eq(c->protos[0].ports.n, http->ndefault_ports);
	cr_assert_eq(c->protos[0].transaction_timeout, 10 * SEC);
	cr_assert_not(c->protos[0].send_request);
	cr_assert_not(c->protos[0].send_response);
	if (http->ndefault_ports)
		cr_assert_eq(config_proto_for_port(c, IPPROTO_TCP, http->default_ports[0]), &c->protos[0]);
	config_free(c);

	c = load_ok("xdpbeat.protocols:\n  - type: http\n    enabled: false\n    ports: [80]\n", NULL, 0);
	cr_assert_eq(c->nprotos, 0);
	cr_assert_null(config_proto_for_port(c, IPPROTO_TCP, 80));
	config_free(c);
}

Test(config, outputs_enabled_flag)
{
	char *ov[] = { "output.console.enabled=false" };
	struct config *c = load_ok("output.console:\noutput.file.enabled: true\n", NULL, 0);

	cr_assert_eq(c->noutputs, 2);
	cr_assert_not_null(find_output(c, "console"));
	cr_assert_not_null(find_output(c, "file"));
	config_free(c);
	c = load_ok("output.console: {}\noutput.file.enabled: true\n", ov, 1);
	cr_assert_eq(c->noutputs, 1);
	cr_assert_null(find_output(c, "console"));
	config_free(c);
	load_fails("output.console.enabled: false\n", "x.yml:1: output: expected at least one enabled output", NULL);
}

Test(config, overrides_in_load)
{
	char *ov[] = {
		"xdpbeat.interfaces=[lo,eth0]", "xdpbeat.protocols.0.ports=[8080]", "xdpbeat.snaplen=128",
		"output.console.enabled=false", "output.file.enabled=true",
	};
	struct config *c = load_ok("xdpbeat.protocols:\n  - type: http\n    ports: [80]\noutput.console: {}\n", ov, 5);

	cr_assert_eq(c->interfaces.n, 2);
	cr_assert_str_eq(c->interfaces.v[1], "eth0");
	cr_assert_eq(c->snaplen, 128);
	cr_assert_eq(c->nprotos, 1);
	cr_assert_eq(c->protos[0].ports.n, 1);
	cr_assert_eq(c->protos[0].ports.v[0], 8080);
	cr_assert_null(config_proto_for_port(c, IPPROTO_TCP, 80));
	cr_assert_eq(c->noutputs, 1);
	cr_assert_str_eq(c->outputs[0].ops->name, "file");
	config_free(c);
}

Test(config, override_errors_in_load)
{
	char *ov[] = { "xdpbeat.snaplen=big" };
	struct cfg_err err;

	cr_assert_null(load("", ov, 1, &err));
	assert_has(err.msg, "-E: xdpbeat.snaplen: expected a size");
}

Test(config, errors_unknown_keys)
{
	load_fails("xdpbeat.interfaces: [lo]\nfoo: 1\n", "x.yml:2: foo: unknown setting", "xdpbeat");
	load_fails("xdpbeat:\n  interfacez: [lo]\n", "x.yml:2: xdpbeat.interfacez: unknown setting", NULL);
	load_fails("xdpbeat.tcp.idle: 1s\n", "x.yml:1: xdpbeat.tcp.idle: unknown setting", "idle_timeout");
	load_fails("xdpbeat.protocols:\n  - type: http\n    portz: [80]\n",
		   "x.yml:3: xdpbeat.protocols.0.portz: unknown setting", "ports");
	load_fails("output.console:\n  enabled: true\n  colour: red\n",
		   "x.yml:3: output.console.colour: unknown setting", "enabled");
	load_fails("output.kafka.hosts: [a]\n", "x.yml:1: output.kafka: unknown output", "console");
	load_fails("logging.filez.path: /x\n", "x.yml:1: logging.filez: unknown setting", NULL);
	load_fails("logging.files.pth: /x\n", "x.yml:1: logging.files.pth: unknown setting", NULL);
	load_fails("queue.mem.flush.max: 1\n", "x.yml:1: queue.mem.flush.max: unknown setting", NULL);
}

Test(config, errors_types_and_values)
{
	load_fails("xdpbeat.snaplen: [1]\n", "x.yml:1: xdpbeat.snaplen: expected a size", "got a sequence");
	load_fails("xdpbeat.snaplen: 0\n", "x.yml:1: xdpbeat.snaplen:", NULL);
	load_fails("xdpbeat.ring_size: 5000\n", "x.yml:1: xdpbeat.ring_size: expected a power of two", NULL);
	load_fails("xdpbeat.ring_size: 1KiB\n", "x.yml:1: xdpbeat.ring_size:", NULL);
	load_fails("xdpbeat.stats_period: 10x\n", "x.yml:1: xdpbeat.stats_period: expected a duration", "\"10x\"");
	load_fails("xdpbeat.shutdown_timeout: -1s\n", "x.yml:1: xdpbeat.shutdown_timeout: expected a duration", NULL);
	load_fails("xdpbeat.tcp.max_stream_bytes: 10XB\n", "x.yml:1: xdpbeat.tcp.max_stream_bytes: expected a size",
		   NULL);
	load_fails("xdpbeat.tcp.max_connections: 0\n", "x.yml:1: xdpbeat.tcp.max_connections: expected an integer",
		   NULL);
	load_fails("xdpbeat.interfaces: []\n", "x.yml:1: xdpbeat.interfaces: expected at least one interface", NULL);
	load_fails("xdpbeat.interfaces: {a: 1}\n", "x.yml:1: xdpbeat.interfaces.a: unknown setting", NULL);
	load_fails("xdpbeat: 5\n", "x.yml:1: xdpbeat: expected a map", NULL);
	load_fails("xdpbeat.protocols: http\n", "x.yml:1: xdpbeat.protocols: expected a list of protocols", NULL);
	load_fails("xdpbeat.protocols:\n  - http\n", "x.yml:2: xdpbeat.protocols.0: expected a protocol", NULL);
	load_fails("xdpbeat.protocols:\n  - ports: [80]\n", "x.yml:2: xdpbeat.protocols.0: missing setting \"type\"",
		   NULL);
	load_fails("xdpbeat.protocols:\n  - type: http\n    send_request: maybe\n",
		   "x.yml:3: xdpbeat.protocols.0.send_request: expected a boolean", "\"maybe\"");
	load_fails("xdpbeat.protocols:\n  - type: http\n    transaction_timeout: soon\n",
		   "x.yml:3: xdpbeat.protocols.0.transaction_timeout: expected a duration", NULL);
	load_fails("logging.level: loud\n", "x.yml:1: logging.level: expected a log level", NULL);
	load_fails("queue.mem.events: 10\nqueue.mem.flush.min_events: 20\n",
		   "x.yml:2: queue.mem.flush.min_events:", NULL);
	load_fails("output.console.enabled: 1\n", "x.yml:1: output.console.enabled: expected a boolean", NULL);
	load_fails("output: [console]\n", "x.yml:1: output: expected a map of outputs", NULL);
}

Test(config, errors_ports)
{
	load_fails("xdpbeat.protocols:\n  - type: http\n    ports: [0]\n",
		   "x.yml:3: xdpbeat.protocols.0.ports.0: expected a port number from 1 to 65535", "\"0\"");
	load_fails("xdpbeat.protocols:\n  - type: http\n    ports: [80, 65536]\n",
		   "x.yml:3: xdpbeat.protocols.0.ports.1:", "\"65536\"");
	load_fails("xdpbeat.protocols:\n  - type: http\n    ports:\n      - 80\n      - web\n",
		   "x.yml:5: xdpbeat.protocols.0.ports.1:", "\"web\"");
	load_fails("xdpbeat.protocols:\n  - type: http\n    ports: []\n",
		   "x.yml:3: xdpbeat.protocols.0.ports: expected at least one port", NULL);
}

Test(config, errors_protocol_types)
{
	load_fails("xdpbeat.protocols:\n  - type: gopher\n", "x.yml:2: xdpbeat.protocols.0.type: unknown protocol type",
		   "http");
	load_fails("xdpbeat.protocols:\n  - type: http\n  - type: http\n    enabled: false\n",
		   "x.yml:3: xdpbeat.protocols.1.type: expected each protocol once", NULL);
}

Test(config, errors_duplicate_port_across_protocols)
{
	const struct proto_ops *a = NULL, *b = NULL;
	char text[512];

	for (size_t i = 0; proto_registry[i] && !b; i++) {
		if (!(proto_registry[i]->transports & XB_TRANSPORT_TCP))
			continue;
		if (!a)
			a = proto_registry[i];
		else
			b = proto_registry[i];
	}
	if (!b)
		cr_skip_test("needs two TCP protocols in the registry");
	snprintf(text, sizeof(text),
		 "xdpbeat.protocols:\n"
		 "  - type: %s\n"
		 "    ports: [1000, 2000]\n"
		 "  - type: %s\n"
		 "    ports: [3000, 2000]\n",
		 a->name, b->name);
	load_fails(text, "x.yml:5: xdpbeat.protocols.1.ports:", "2000/tcp");
	/* disabled protocols do not claim ports */
	snprintf(text, sizeof(text),
		 "xdpbeat.protocols:\n"
		 "  - type: %s\n"
		 "    ports: [2000]\n"
		 "    enabled: false\n"
		 "  - type: %s\n"
		 "    ports: [2000]\n",
		 a->name, b->name);
	struct config *c = load_ok(text, NULL, 0);

	cr_assert_eq(config_proto_for_port(c, IPPROTO_TCP, 2000)->ops, b);
	config_free(c);
}

Test(config, embedded_default_loads)
{
	struct cfg_err err = { { 0 } };
	struct config *c;

	cr_assert_gt(config_default_yml_len, 100);
	cr_assert_eq(strlen(config_default_yml), config_default_yml_len);
	c = config_load(NULL, NULL, 0, &err);
	cr_assert_not_null(c, "built-in config: %s", err.msg);
	cr_assert_eq(c->interfaces.n, 1);
	cr_assert_str_eq(c->interfaces.v[0], "lo");
	cr_assert_geq(c->nprotos, 1);
	cr_assert_str_eq(c->protos[0].ops->name, "http");
	cr_assert_not_null(config_proto_for_port(c, IPPROTO_TCP, 8080));
	cr_assert_not_null(find_output(c, "console"));
	cr_assert_not_null(find_output(c, "file"));
	config_free(c);
}

Test(config, embedded_default_with_overrides)
{
	char *ov[] = { "output.file.enabled=false", "xdpbeat.protocols.0.ports=[9999]" };
	struct cfg_err err = { { 0 } };
	struct config *c = config_load(NULL, ov, 2, &err);

	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_null(find_output(c, "file"));
	cr_assert_not_null(config_proto_for_port(c, IPPROTO_TCP, 9999));
	cr_assert_null(config_proto_for_port(c, IPPROTO_TCP, 8080));
	config_free(c);
}

/* ---- files ---- */

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/xdpbeat-test-config-XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(config, file_load_and_errors)
{
	char *path = write_temp("xdpbeat.interfaces: [lo]\nxdpbeat.snaplen: huge\n");
	struct cfg_err err;
	struct config *c = config_load(path, NULL, 0, &err);
	char want[128];

	cr_assert_null(c);
	snprintf(want, sizeof(want), "%s:2: xdpbeat.snaplen: expected a size", path);
	assert_has(err.msg, want);
	unlink(path);
	free(path);

	path = write_temp("xdpbeat.interfaces: [lo, eth1]\n");
	c = config_load(path, NULL, 0, &err);
	cr_assert_not_null(c, "%s", err.msg);
	cr_assert_str_eq(c->file, path);
	cr_assert_eq(c->interfaces.n, 2);
	unlink(path);
	free(path);
	/* the tree keeps its own copy of the file name */
	cr_assert_str_eq(cfg_get(c->tree, "xdpbeat.interfaces")->file, c->file);
	config_free(c);

	cr_assert_null(config_load("/nonexistent/xdpbeat.yml", NULL, 0, &err));
	assert_has(err.msg, "/nonexistent/xdpbeat.yml");
}

Test(config, fixtures_fail_with_location)
{
	static const struct {
		const char *file, *want;
	} cases[] = {
		{ "configs/bad_unknown_key.yml", "bad_unknown_key.yml:4: xdpbeat.protocols.0.bogus: unknown setting" },
		{ "configs/bad_port.yml", "bad_port.yml:3: xdpbeat.protocols.0.ports.1:" },
		{ "configs/bad_syntax.yml", "bad_syntax.yml:3: syntax error" },
	};
	struct cfg_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];
		struct config *c;

		/* run from tests/ (make unit) or from the top of the tree */
		snprintf(path, sizeof(path), "%s%s", access(cases[i].file, R_OK) ? "tests/" : "", cases[i].file);
		c = config_load(path, NULL, 0, &err);

		cr_assert_null(c, "%s loaded", cases[i].file);
		assert_has(err.msg, cases[i].want);
	}
}
