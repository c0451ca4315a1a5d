/*
 * The daemon's configuration: tree (user/config_tree.c) -> struct config,
 * through field tables (user/config_values.c). Protocol and output sections
 * are handed to their modules' own field tables.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_priv.h"
#include "harden.h"
#include "netlist.h"
#include "output.h"
#include "processors.h"
#include "proto.h"

#define SEC 1000000000ull
#define KIB 1024ull
#define MIB (1024ull * 1024)
#define DEFAULT_NAME "xdpbeat.yml (built-in)"
#define MAX_QUEUE_EVENTS (1 << 22)
#define MAX_RING_SIZE (1ull << 30)
/* clang-format off */
#define CFG_END { 0 }
/* clang-format on */

static const uint16_t transport_bits[2] = { XB_TRANSPORT_TCP, XB_TRANSPORT_UDP };
static const char *const transport_names[2] = { "tcp", "udp" };

/* ---- small helpers ---- */

static void free_priv(void (*cfg_free)(void *), const struct cfg_field *fields, void *priv)
{
	if (!priv)
		return;
	if (cfg_free) {
		cfg_free(priv);
		return;
	}
	cfg_fields_free(fields, priv);
	free(priv);
}

static void proto_cfg_clear(struct proto_cfg *pc)
{
	free(pc->ports.v);
	pc->ports.v = NULL;
	pc->ports.n = 0;
	if (pc->ops)
		free_priv(pc->ops->cfg_free, pc->ops->cfg_fields, pc->priv);
	pc->priv = NULL;
	proc_chain_free(pc->processors);
	pc->processors = NULL;
	free(pc->index);
	pc->index = NULL;
	strlist_free(&pc->tags);
}

static void output_cfg_clear(struct output_cfg *oc)
{
	if (oc->ops)
		free_priv(oc->ops->cfg_free, oc->ops->cfg_fields, oc->priv);
	oc->priv = NULL;
}

/* "a, b" names of a NULL-terminated registry, through a name getter. */
static void proto_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; proto_registry[i] && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", proto_registry[i]->name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static void output_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; output_registry[i] && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", output_registry[i]->name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Unknown key of a module section: list the common keys and the module's. */
static int unknown_key(const struct cfg_node *c, const struct cfg_field *common, const struct cfg_field *mod,
		       struct cfg_err *err)
{
	char a[300], b[400];

	cfg_field_names(common, a, sizeof(a));
	cfg_field_names(mod, b, sizeof(b));
	return cfg_error(err, c, "unknown setting, expected one of: %s%s%s", a, b[0] ? ", " : "", b);
}

/* ---- xdpbeat.* ---- */

static int set_snaplen(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	uint64_t v;

	if (cfg_to_size(n, &v, err))
		return -EINVAL;
	if (v < 1 || v > XB_PAYLOAD_MAX)
		return cfg_error(err, n, "expected a size from 1 to %d bytes, got %s (%llu bytes)", XB_PAYLOAD_MAX,
				 n->value, (unsigned long long)v);
	((struct config *)base)->snaplen = (uint32_t)v;
	return 0;
}

static int set_ring_size(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	uint64_t v;

	if (cfg_to_size(n, &v, err))
		return -EINVAL;
	if (v < 4096 || v > MAX_RING_SIZE || (v & (v - 1)))
		return cfg_error(err, n, "expected a power of two from 4KiB to 1GiB, got %s (%llu bytes)", n->value,
				 (unsigned long long)v);
	((struct config *)base)->ring_size = v;
	return 0;
}

int config_set_capture_size(struct config *c, const struct cfg_node *n, struct cfg_err *err)
{
	return !strcmp(n->key, "snaplen") ? set_snaplen(c, n, err) : set_ring_size(c, n, err);
}

/* ---- xdpbeat.protocols ---- */

/* clang-format off */
#define PC_FIELD(k, t, m) { .key = k, .type = t, .offset = offsetof(struct proto_cfg, m) }
/* clang-format on */
static const struct cfg_field proto_common_fields[] = {
	{ .key = "type", .type = CFG_CUSTOM }, /* handled before the table; listed for messages */
	PC_FIELD("ports", CFG_PORTS, ports),
	PC_FIELD("enabled", CFG_BOOL, enabled),
	PC_FIELD("send_request", CFG_BOOL, send_request),
	PC_FIELD("send_response", CFG_BOOL, send_response),
	{ .key = "transaction_timeout",
	  .type = CFG_DURATION,
	  .offset = offsetof(struct proto_cfg, transaction_timeout),
	  .min = 1000000 }, /* 1 ms: 0 would expire every request before its answer */
	/* requests waiting for their responses per connection (0 = no limit), enforced by the correlator */
	PC_FIELD("queue_max_bytes", CFG_SIZE, queue_max_bytes),
	{ .key = "processors", .type = CFG_CUSTOM, .custom = config_set_proto_processors },
	PC_FIELD("index", CFG_STRING, index),
	PC_FIELD("tags", CFG_STRLIST, tags),
	PC_FIELD("keep_null", CFG_BOOL, keep_null),
	{ .key = "fields", .type = CFG_CUSTOM, .custom = config_set_proto_fields },
	{ .key = "queue_max_messages",
	  .type = CFG_INT,
	  .offset = offsetof(struct proto_cfg, queue_max_messages),
	  .min = 0,
	  .max = INT32_MAX },
	CFG_END,
};

static int proto_type(const struct cfg_node *item, const struct proto_ops **out, struct cfg_err *err)
{
	const struct cfg_node *t = cfg_get(item, "type");
	char names[300], got[96];

	proto_names(names, sizeof(names));
	if (!t)
		return cfg_error(err, item, "missing setting \"type\", expected one of: %s", names);
	if (t->kind != CFG_N_SCALAR || !(*out = proto_find(t->value)))
		return cfg_error(err, t, "unknown protocol type, expected one of: %s, got %s", names,
				 cfg_describe(t, got, sizeof(got)));
	return 0;
}

static int proto_defaults(struct proto_cfg *pc, const struct proto_ops *ops, const struct cfg_node *item,
			  struct cfg_err *err)
{
	memset(pc, 0, sizeof(*pc));
	pc->ops = ops;
	pc->enabled = true;
	pc->transaction_timeout = 10 * SEC;
	pc->queue_max_messages = ops->queue_max_messages ? ops->queue_max_messages : PROTO_QUEUE_MAX_MESSAGES;
	pc->queue_max_bytes = ops->queue_max_bytes;
	if (ops->ndefault_ports) {
		pc->ports.v = calloc(ops->ndefault_ports, sizeof(*pc->ports.v));
		if (!pc->ports.v)
			return cfg_error(err, item, "out of memory");
		memcpy(pc->ports.v, ops->default_ports, ops->ndefault_ports * sizeof(*pc->ports.v));
		pc->ports.n = ops->ndefault_ports;
	}
	if (ops->cfg_new && !(pc->priv = ops->cfg_new()))
		return cfg_error(err, item, "out of memory");
	return 0;
}

static int proto_settings(struct proto_cfg *pc, const struct cfg_node *item, struct cfg_err *err)
{
	const struct cfg_field *mod = pc->priv ? pc->ops->cfg_fields : NULL;

	for (const struct cfg_node *c = item->child; c; c = c->next) {
		int rc;

		if (!strcmp(c->key, "type"))
			continue;
		rc = cfg_apply_one(proto_common_fields, pc, c, err);
		if (rc == -ENOENT && mod)
			rc = cfg_apply_one(mod, pc->priv, c, err);
		if (rc == -ENOENT)
			return unknown_key(c, proto_common_fields, mod, err);
		if (rc)
			return rc;
	}
	if (!pc->ports.n)
		return cfg_error(err, cfg_get(item, "ports") ? cfg_get(item, "ports") : item,
				 "expected at least one port, got none");
	return 0;
}

/* Claim pc's ports in c->port_map for protocol index idx. */
static int proto_claim_ports(struct config *c, const struct proto_cfg *pc, size_t idx, const struct cfg_node *item,
			     struct cfg_err *err)
{
	const struct cfg_node *where = cfg_get(item, "ports") ? cfg_get(item, "ports") : item;

	for (int t = 0; t < 2; t++) {
		if (!(pc->ops->transports & transport_bits[t]))
			continue;
		for (size_t i = 0; i < pc->ports.n; i++) {
			uint8_t *slot = &c->port_map[t][pc->ports.v[i]];

			if (*slot)
				return cfg_error(
					err, where,
					"expected ports not used by another protocol, got %u/%s which is already "
					"watched for %s",
					pc->ports.v[i], transport_names[t], c->protos[*slot - 1].ops->name);
			*slot = (uint8_t)(idx + 1);
		}
	}
	return 0;
}

static int parse_protocol(struct config *c, const struct cfg_node *item, const struct proto_ops **seen, size_t *nseen,
			  struct cfg_err *err)
{
	const struct proto_ops *ops;
	struct proto_cfg pc;
	char got[96];

	if (item->kind != CFG_N_MAP)
		return cfg_error(err, item, "expected a protocol (a map with a type), got %s",
				 cfg_describe(item, got, sizeof(got)));
	if (proto_type(item, &ops, err))
		return -EINVAL;
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i] == ops)
			return cfg_error(err, cfg_get(item, "type"),
					 "expected each protocol once, got \"%s\" a second time", ops->name);
	if (*nseen == PROTO_MAX || c->nprotos == PROTO_MAX)
		return cfg_error(err, item, "too many protocols (at most %d)", PROTO_MAX);
	seen[(*nseen)++] = ops;
	if (proto_defaults(&pc, ops, item, err) || proto_settings(&pc, item, err))
		goto fail;
	if (!pc.enabled) {
		proto_cfg_clear(&pc);
		return 0;
	}
	if (proto_claim_ports(c, &pc, c->nprotos, item, err))
		goto fail;
	c->protos[c->nprotos++] = pc;
	return 0;
fail:
	proto_cfg_clear(&pc);
	return -EINVAL;
}

static int set_protocols(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	const struct proto_ops *seen[PROTO_MAX];
	size_t nseen = 0;
	char got[96], skipped[200];

	if (cfg_is_null(n))
		return 0;
	if (n->kind != CFG_N_SEQ)
		return cfg_error(err, n, "expected a list of protocols (- type: http ...), got %s",
				 cfg_describe(n, got, sizeof(got)));
	skipped[0] = '\0';
	for (const struct cfg_node *item = n->child; item; item = item->next) {
		if (config_skip_protocol(item)) {
			size_t l = strlen(skipped);

			snprintf(skipped + l, sizeof(skipped) - l, "%s%s", l ? ", " : "", cfg_get(item, "type")->value);
			continue;
		}
		if (parse_protocol(base, item, seen, &nseen, err))
			return -EINVAL;
	}
	config_warn_skipped(base, n, skipped);
	return 0;
}

/* ---- output.* ---- */

static const struct cfg_field output_common_fields[] = {
	{ .key = "enabled", .type = CFG_BOOL, .offset = offsetof(struct output_cfg, enabled) },
	CFG_END,
};

static int output_settings(struct output_cfg *oc, const struct cfg_node *sec, struct cfg_err *err)
{
	const struct cfg_field *mod = oc->priv ? oc->ops->cfg_fields : NULL;
	char got[96];

	if (cfg_is_null(sec))
		return 0;
	if (sec->kind != CFG_N_MAP)
		return cfg_error(err, sec, "expected a map of settings, got %s", cfg_describe(sec, got, sizeof(got)));
	for (const struct cfg_node *c = sec->child; c; c = c->next) {
		int rc = cfg_apply_one(output_common_fields, oc, c, err);

		if (rc == -ENOENT && mod)
			rc = cfg_apply_one(mod, oc->priv, c, err);
		if (rc == -ENOENT)
			return unknown_key(c, output_common_fields, mod, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_output(struct config *c, const struct output_ops *ops, const struct cfg_node *sec, struct cfg_err *err)
{
	struct output_cfg oc = { .ops = ops, .enabled = true };
	size_t max = sizeof(c->outputs) / sizeof(c->outputs[0]);

	if (ops->cfg_new && !(oc.priv = ops->cfg_new()))
		return cfg_error(err, sec, "out of memory");
	if (sec && output_settings(&oc, sec, err))
		goto fail;
	if (!oc.enabled) {
		output_cfg_clear(&oc);
		return 0;
	}
	if (c->noutputs == max) {
		cfg_error(err, sec, "too many outputs enabled (at most %zu)", max);
		goto fail;
	}
	c->outputs[c->noutputs++] = oc;
	return 0;
fail:
	output_cfg_clear(&oc);
	return -EINVAL;
}

static int set_outputs(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct config *c = base;
	char names[200], got[96];

	output_names(names, sizeof(names));
	if (n->kind != CFG_N_MAP)
		return cfg_error(err, n, "expected a map of outputs (%s), got %s", names,
				 cfg_describe(n, got, sizeof(got)));
	for (const struct cfg_node *sec = n->child; sec; sec = sec->next) {
		const struct output_ops *ops = output_find(sec->key);

		if (!ops && config_other_beats_output(c, sec))
			continue;
		if (!ops)
			return cfg_error(err, sec, "unknown output, expected one of: %s, got \"%s\"", names, sec->key);
		if (add_output(c, ops, sec, err))
			return -EINVAL;
	}
	if (!c->noutputs)
		return cfg_error(err, n, "expected at least one enabled output, got none (all have enabled: false)");
	return 0;
}

/* ---- logging.* ---- */

static int check_log_level(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	static const char *const levels[] = { "debug", "info", "warning", "error", "critical" };
	const char *what = "a log level (debug, info, warning, error, critical)";
	char got[96];

	if (n->kind == CFG_N_SCALAR)
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (!strcmp(n->value, levels[i]))
				return 0;
	return cfg_error(err, n, "expected %s, got %s", what, cfg_describe(n, got, sizeof(got)));
}

/* ---- the tables ---- */

/* clang-format off */
#define C_FIELD(k, t, m) { .key = k, .type = t, .offset = offsetof(struct config, m) }
#define C_INT(k, m, lo, hi) { .key = k, .type = CFG_INT, .offset = offsetof(struct config, m), .min = lo, .max = hi }
#define C_CUSTOM(k, fn) { .key = k, .type = CFG_CUSTOM, .custom = fn }
#define C_SECTION(k, s) { .key = k, .type = CFG_SECTION, .sub = s }
/* clang-format on */

static const struct cfg_field tcp_fields[] = {
	{ .key = "idle_timeout",
	  .type = CFG_DURATION,
	  .offset = offsetof(struct config, tcp.idle_timeout),
	  .min = 1000000000 }, /* 1 s */
	C_INT("max_connections", tcp.max_connections, 1, 1 << 24),
	C_FIELD("max_stream_bytes", CFG_SIZE, tcp.max_stream_bytes),
	C_FIELD("max_total_bytes", CFG_SIZE, tcp.max_total_bytes),
	C_INT("max_ooo_segments", tcp.max_ooo_segments, 0, 65536),
	C_FIELD("skip_body_bytes", CFG_SIZE, tcp.skip_body_bytes),
	CFG_END,
};

static const struct cfg_field run_as_fields[] = {
	C_FIELD("enabled", CFG_BOOL, run_as.enabled),
	C_FIELD("user", CFG_STRING, run_as.user),
	C_FIELD("group", CFG_STRING, run_as.group),
	CFG_END,
};

static int set_seccomp_syscalls(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	return config_set_seccomp_syscalls(&((struct config *)base)->seccomp, n, err);
}

static const struct cfg_field seccomp_fields[] = {
	C_FIELD("enabled", CFG_BOOL, seccomp.enabled),
	C_FIELD("default_action", CFG_STRING, seccomp.default_action),
	C_CUSTOM("syscalls", set_seccomp_syscalls),
	CFG_END,
};

static const struct cfg_field xdpbeat_fields[] = {
	C_CUSTOM("interfaces", config_set_interfaces),
	C_CUSTOM("snaplen", set_snaplen),
	C_CUSTOM("ring_size", set_ring_size),
	C_INT("workers", workers, 0, XB_MAX_RINGS),
	C_FIELD("stats_period", CFG_DURATION, stats_period),
	C_FIELD("shutdown_timeout", CFG_DURATION, shutdown_timeout),
	C_SECTION("tcp", tcp_fields),
	C_SECTION("run_as", run_as_fields),
	C_CUSTOM("protocols", set_protocols),
	C_CUSTOM("flows", config_unused_section),
	C_CUSTOM("procs", config_unused_section),
	C_CUSTOM("ignore_outgoing", config_unused_section),
	CFG_END,
};

static const struct cfg_field queue_flush_fields[] = {
	C_INT("min_events", queue.flush_min_events, 0, MAX_QUEUE_EVENTS),
	C_FIELD("timeout", CFG_DURATION, queue.flush_timeout),
	CFG_END,
};

static const struct cfg_field queue_mem_fields[] = {
	C_INT("events", queue.events, 1, MAX_QUEUE_EVENTS),
	C_SECTION("flush", queue_flush_fields),
	CFG_END,
};

static const struct cfg_field queue_disk_fields[] = {
	C_FIELD("path", CFG_STRING, queue.disk_path),
	C_FIELD("max_size", CFG_SIZE, queue.disk_max_size),
	CFG_END,
};

static const struct cfg_field queue_fields[] = {
	C_SECTION("mem", queue_mem_fields),
	C_SECTION("disk", queue_disk_fields),
	CFG_END,
};

static int set_log_level(void *base, const struct cfg_node *n, struct cfg_err *err)
{
	struct config *c = base;

	if (check_log_level(base, n, err))
		return -EINVAL;
	free(c->log.level);
	c->log.level = strdup(n->value);
	return c->log.level ? 0 : cfg_error(err, n, "out of memory");
}

static const struct cfg_field logging_files_fields[] = {
	C_FIELD("path", CFG_STRING, log.files_path),
	C_FIELD("name", CFG_STRING, log.files_name),
	C_INT("keepfiles", log.keepfiles, 2, 1024),
	C_INT("permissions", log.permissions, 0, 0777),
	C_FIELD("rotateeverybytes", CFG_SIZE, log.rotateeverybytes),
	C_CUSTOM("interval", config_unused_section),
	C_CUSTOM("rotateonstartup", config_unused_section),
	C_CUSTOM("redirect_stderr", config_unused_section),
	CFG_END,
};

static const struct cfg_field logging_fields[] = {
	C_CUSTOM("level", set_log_level),
	C_FIELD("to_stderr", CFG_BOOL, log.to_stderr),
	C_FIELD("to_files", CFG_BOOL, log.to_files),
	C_FIELD("selectors", CFG_STRLIST, log.selectors),
	C_SECTION("files", logging_files_fields),
	C_CUSTOM("to_syslog", config_unused_section),
	C_CUSTOM("to_eventlog", config_unused_section),
	C_CUSTOM("metrics", config_unused_section),
	C_CUSTOM("json", config_unused_section),
	C_CUSTOM("ecs", config_unused_section),
	C_CUSTOM("event_data", config_unused_section),
	CFG_END,
};

static const struct cfg_field top_fields[] = {
	C_SECTION("xdpbeat", xdpbeat_fields),
	C_SECTION("queue", queue_fields),
	C_CUSTOM("output", set_outputs),
	C_CUSTOM("setup", config_set_setup),
	C_FIELD("name", CFG_STRING, name),
	C_FIELD("tags", CFG_STRLIST, tags),
	C_CUSTOM("fields", config_set_top_fields),
	C_FIELD("fields_under_root", CFG_BOOL, fields_under_root),
	C_CUSTOM("monitoring", config_unused_section),
	C_CUSTOM("http", config_unused_section),
	C_CUSTOM("instrumentation", config_unused_section),
	C_CUSTOM("path", config_unused_section),
	C_CUSTOM("max_procs", config_unused_section),
	C_CUSTOM("timestamp", config_unused_section),
	C_CUSTOM("cloud", config_unused_section),
	C_CUSTOM("processors", config_set_processors),
	C_SECTION("logging", logging_fields),
	C_SECTION("seccomp", seccomp_fields),
	CFG_END,
};

/* ---- load ---- */

static int set_defaults(struct config *c)
{
	c->interfaces.v = calloc(1, sizeof(*c->interfaces.v));
	if (!c->interfaces.v || !(c->interfaces.v[0] = strdup("lo")))
		return -ENOMEM;
	c->interfaces.n = 1;
	c->snaplen = 65535;
	c->ring_size = 8 * MIB;
	c->stats_period = 30 * SEC;
	c->run_as.enabled = true;
	c->seccomp.enabled = true;
	c->shutdown_timeout = 5 * SEC;
	c->tcp.idle_timeout = 60 * SEC;
	c->tcp.max_connections = 65536;
	c->tcp.max_stream_bytes = 10 * MIB;
	c->tcp.max_total_bytes = 512 * MIB;
	c->tcp.max_ooo_segments = 64;
	c->tcp.skip_body_bytes = 64 * KIB;
	c->queue.events = 4096;
	c->queue.flush_min_events = 512;
	c->queue.flush_timeout = 1 * SEC;
	c->queue.disk_max_size = 10ull * 1000 * 1000 * 1000;
	c->log.to_stderr = true;
	c->log.keepfiles = 7;
	c->log.permissions = 0600;
	c->log.rotateeverybytes = 10 * MIB;
	return 0;
}

/*
 * Setting a (value av) must be at most setting b (bv); either may be a
 * default. The error points at whichever of the two the file sets (a first)
 * and names both, saying which value is the default.
 */
static int bound_error(struct cfg_err *err, const struct cfg_node *tree, const char *a, unsigned long long av,
		       const char *b, unsigned long long bv)
{
	const struct cfg_node *na = cfg_get(tree, a), *nb = cfg_get(tree, b);

	return cfg_error(err, na ? na : nb, "%s (%llu%s) must be at most %s (%llu%s)", a, av, na ? "" : ", the default",
			 b, bv, nb ? "" : ", the default");
}

/* xdpbeat.workers 0 (the default): one per online CPU, at most DEFAULT_WORKERS_MAX. */
#define DEFAULT_WORKERS_MAX 8

static void resolve_workers(struct config *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (c->workers)
		return;
	c->workers = ncpu < 1 ? 1 : ncpu > DEFAULT_WORKERS_MAX ? DEFAULT_WORKERS_MAX : (int64_t)ncpu;
}

static int check_config(struct config *c, struct cfg_err *err)
{
	const struct cfg_node *tree = c->tree;

	resolve_workers(c);
	if (c->queue.flush_min_events > c->queue.events)
		return bound_error(err, tree, "queue.mem.flush.min_events",
				   (unsigned long long)c->queue.flush_min_events, "queue.mem.events",
				   (unsigned long long)c->queue.events);
	if (c->tcp.max_stream_bytes > c->tcp.max_total_bytes)
		return bound_error(err, tree, "xdpbeat.tcp.max_stream_bytes",
				   (unsigned long long)c->tcp.max_stream_bytes, "xdpbeat.tcp.max_total_bytes",
				   (unsigned long long)c->tcp.max_total_bytes);
	if (!cfg_get(tree, "output")) {
		if (add_output(c, output_find("console") ? output_find("console") : output_registry[0], NULL, err))
			return -EINVAL;
	}
	for (size_t i = 0; i < c->noutputs; i++) {
		const struct output_cfg *oc = &c->outputs[i];

		if (oc->ops->check && oc->ops->check(oc->priv, c, err))
			return -EINVAL;
	}
	return 0;
}

static int apply_overrides(struct cfg_node *tree, char *const *overrides, size_t noverrides, struct cfg_err *err)
{
	for (size_t i = 0; i < noverrides; i++) {
		char *ov = config_alias_override(overrides[i]);
		int rc = ov ? cfg_override(tree, ov, err) : -ENOMEM;

		if (rc == -ENOMEM && !ov && err)
			snprintf(err->msg, sizeof(err->msg), "-E: out of memory");
		free(ov);
		if (rc)
			return rc;
	}
	return 0;
}

/* ${NAME} resolver for every load (keystore), NULL: environment only. */
static const struct cfg_resolver *resolver;

void config_set_resolver(const struct cfg_resolver *r)
{
	resolver = r;
}

/* Takes tree (freed on error). */
static struct config *config_from_tree(struct cfg_node *tree, const char *file, char *const *overrides,
				       size_t noverrides, struct cfg_err *err)
{
	struct config *c;

	if (!tree)
		return NULL;
	if (config_alias_packetbeat(tree, err) || apply_overrides(tree, overrides, noverrides, err) ||
	    cfg_expand_vars(tree, resolver, err)) {
		cfg_node_free(tree);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		cfg_node_free(tree);
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", file);
		return NULL;
	}
	c->tree = tree;
	if (set_defaults(c) || !(c->file = strdup(file))) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory", file);
		goto fail;
	}
	if (cfg_apply(top_fields, c, tree, err) || check_config(c, err) || config_general_processors(c, err))
		goto fail;
	return c;
fail:
	config_free(c);
	return NULL;
}

struct config *config_load_string(const char *text, size_t len, const char *file, char *const *overrides,
				  size_t noverrides, struct cfg_err *err)
{
	if (!file)
		file = "(config)";
	return config_from_tree(cfg_parse_yaml(text, len, file, err), file, overrides, noverrides, err);
}

struct config *config_load(const char *path, char *const *overrides, size_t noverrides, struct cfg_err *err)
{
	if (!path)
		return config_load_string(config_default_yml, config_default_yml_len, DEFAULT_NAME, overrides,
					  noverrides, err);
	return config_from_tree(cfg_load_file(path, err), path, overrides, noverrides, err);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nprotos; i++)
		proto_cfg_clear(&c->protos[i]);
	for (size_t i = 0; i < c->noutputs; i++)
		output_cfg_clear(&c->outputs[i]);
	strlist_free(&c->interfaces);
	strlist_free(&c->tags);
	strlist_free(&c->warnings);
	netlist_free(c->internal_networks);
	free(c->name);
	free(c->log.level);
	free(c->log.files_path);
	free(c->log.files_name);
	strlist_free(&c->log.selectors);
	proc_chain_free(c->processors);
	harden_cfg_free(&c->run_as, &c->seccomp);
	free(c->queue.disk_path);
	cfg_node_free(c->tree);
	free(c->file);
	free(c);
}

const struct proto_cfg *config_proto_for_port(const struct config *c, uint8_t transport, uint16_t port)
{
	uint8_t idx;

	if (!c)
		return NULL;
	if (transport == IPPROTO_TCP)
		idx = c->port_map[0][port];
	else if (transport == IPPROTO_UDP)
		idx = c->port_map[1][port];
	else
		return NULL;
	return idx ? &c->protos[idx - 1] : NULL;
}
