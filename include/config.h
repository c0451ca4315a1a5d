/*
 * Configuration: a YAML file (libyaml) shaped like packetbeat.yml, turned
 * into a tree where dotted keys and nested maps mean the same thing at every
 * level, plus -E key=value overrides. Modules (protocols, outputs) describe
 * their settings with a table of struct cfg_field; cfg_apply() fills their
 * struct from the tree and reports unknown keys and wrong types with file,
 * line and key.
 */
#ifndef XDPBEAT_CONFIG_H
#define XDPBEAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

enum cfg_kind {
	CFG_N_SCALAR,
	CFG_N_MAP,
	CFG_N_SEQ,
};

/* One node of the config tree. Map children carry their (single-segment) key. */
struct cfg_node {
	enum cfg_kind kind;
	char *key; /* key in the parent map, NULL in sequences / root */
	char *value; /* scalar text (CFG_N_SCALAR) */
	bool quoted; /* scalar was quoted: never a number/bool/null */
	char *path; /* full dotted path for messages: "xdpbeat.protocols.0.ports" */
	const char *file; /* config file name, or "-E" for overrides */
	int line; /* 1-based source line */
	bool secret; /* value came from the keystore: masked by export config */
	struct cfg_node *child; /* first child (maps, sequences) */
	struct cfg_node *next; /* next sibling */
};

struct cfg_err {
	char msg[512];
};

/* Fill err->msg with "FILE:LINE: KEY: <formatted>" for node n; returns -EINVAL. */
int cfg_error(struct cfg_err *err, const struct cfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Parse YAML text into a tree (dotted keys expanded, duplicate keys merged:
 * later wins for scalars, maps merged). NULL + err on syntax errors.
 */
struct cfg_node *cfg_parse_yaml(const char *text, size_t len, const char *file, struct cfg_err *err);
struct cfg_node *cfg_load_file(const char *path, struct cfg_err *err);
/* Apply "a.b.c=value" (value parsed as a YAML flow value) onto root. */
int cfg_override(struct cfg_node *root, const char *assignment, struct cfg_err *err);
void cfg_node_free(struct cfg_node *n);

/* Where ${NAME} looks first (Beats order: keystore, then environment). */
struct cfg_resolver {
	const char *(*keystore)(void *ctx, const char *name); /* NULL: not in the keystore */
	void *ctx;
};
/* Expand ${VAR}, ${VAR:default}, ${VAR:?message} in every scalar (user/config/config_env.c). */
int cfg_expand_vars(struct cfg_node *root, const struct cfg_resolver *r, struct cfg_err *err);
/* Child of a map by dotted path ("output.file.path"), or NULL. */
const struct cfg_node *cfg_get(const struct cfg_node *map, const char *dotted);

/* The children of map (or a scalar) as block YAML; mask: password, api_key... and keystore values as "xxxxx". */
void cfg_write_yaml(FILE *f, const struct cfg_node *map, bool mask);

/* Scalar conversions: 0 or -EINVAL with err filled. */
int cfg_to_bool(const struct cfg_node *n, bool *out, struct cfg_err *err);
int cfg_to_int(const struct cfg_node *n, int64_t min, int64_t max, int64_t *out, struct cfg_err *err);
/* "10s", "500ms", "1m", "2h", "250us", "0" -> ns */
int cfg_to_duration(const struct cfg_node *n, uint64_t *out_ns, struct cfg_err *err);
/* "10MB", "64KiB", "1024" -> bytes */
int cfg_to_size(const struct cfg_node *n, uint64_t *out, struct cfg_err *err);
int cfg_to_string(const struct cfg_node *n, char **out, struct cfg_err *err);

struct strlist {
	char **v;
	size_t n;
};
void strlist_free(struct strlist *l);
bool strlist_has(const struct strlist *l, const char *s, bool nocase);

struct portlist {
	uint16_t *v;
	size_t n;
};

/* ---- table-driven settings ---- */

enum cfg_type {
	CFG_BOOL, /* bool */
	CFG_INT, /* int64_t, within [min, max] */
	CFG_DURATION, /* uint64_t ns */
	CFG_SIZE, /* uint64_t bytes */
	CFG_STRING, /* char * (strdup'ed; previous value freed) */
	CFG_STRLIST, /* struct strlist: a sequence or a single scalar */
	CFG_PORTS, /* struct portlist: sequence of 1..65535 (or one port) */
	CFG_SECTION, /* nested map described by .sub, same base */
	CFG_CUSTOM, /* .custom(base, node, err) */
};

struct cfg_field {
	const char *key; /* single segment, e.g. "send_request" */
	enum cfg_type type;
	size_t offset; /* offsetof() into the module's struct */
	int64_t min, max; /* CFG_INT bounds; CFG_DURATION: min is the shortest allowed, in ns */
	const struct cfg_field *sub; /* CFG_SECTION: fields of the nested map */
	int (*custom)(void *base, const struct cfg_node *n, struct cfg_err *err);
};

/*
 * Set the fields of base from map node n (a CFG_N_MAP; NULL = nothing to do).
 * Unknown keys and wrong types are errors naming file, line and key.
 */
int cfg_apply(const struct cfg_field *fields, void *base, const struct cfg_node *n, struct cfg_err *err);
/* Free what cfg_apply allocated (strings, lists) in base. */
void cfg_fields_free(const struct cfg_field *fields, void *base);

/* ---- the daemon's configuration ---- */

struct proto_ops;
struct output_ops;
struct proc_chain;

/* One configured protocol (xdpbeat.protocols[i]). */
struct proto_cfg {
	const struct proto_ops *ops;
	bool enabled;
	struct portlist ports;
	bool send_request;
	bool send_response;
	uint64_t transaction_timeout; /* ns */
	int64_t queue_max_messages; /* requests waiting per connection (0 = no limit) */
	uint64_t queue_max_bytes; /* their queue_size in all (0 = no limit) */
	char *index; /* Beats' per-protocol index, fields, tags, keep_null (applied to events) */
	const struct cfg_node *fields; /* a map in the config tree, or NULL */
	struct strlist tags;
	bool keep_null;
	void *priv; /* ops->cfg_new(), filled from ops->cfg_fields */
	struct proc_chain *processors; /* this protocol's processors, run before the global ones (NULL: none) */
};

/* Default queue_max_messages of a protocol that sets none. */
#define PROTO_QUEUE_MAX_MESSAGES 1024

/* One configured output (output.<name>). */
struct output_cfg {
	const struct output_ops *ops;
	bool enabled;
	void *priv; /* ops->cfg_new(), filled from ops->cfg_fields */
};

struct tcp_cfg {
	uint64_t idle_timeout; /* ns: connection without packets is closed */
	int64_t max_connections;
	uint64_t max_stream_bytes; /* buffered per direction */
	uint64_t max_total_bytes; /* buffered over all streams */
	int64_t max_ooo_segments; /* out-of-order segments held per direction */
	uint64_t skip_body_bytes; /* live: bodies a parser passes over, at least this long, stay in the kernel (0 = off) */
};

struct queue_cfg {
	int64_t events; /* capacity of the in-memory queue */
	int64_t flush_min_events;
	uint64_t flush_timeout; /* ns */
	char *disk_path; /* queue.disk.path: spool for outages (NULL = off) */
	uint64_t disk_max_size;
};

/* Least privilege after start-up (include/harden.h). */
struct run_as_cfg {
	bool enabled; /* xdpbeat.run_as.enabled (default true; only acts when started as root) */
	char *user; /* xdpbeat.run_as.user, NULL = "nobody" */
	char *group; /* xdpbeat.run_as.group, NULL = the user's primary group */
};

enum seccomp_action {
	SECCOMP_ACT_ERRNO, /* refused with EPERM (default) */
	SECCOMP_ACT_KILL, /* the whole process is killed */
	SECCOMP_ACT_TRAP, /* SIGSYS */
	SECCOMP_ACT_LOG, /* allowed and logged by the kernel */
	SECCOMP_ACT_ALLOW,
};

struct seccomp_cfg {
	bool enabled; /* seccomp.enabled (default true) */
	char *default_action; /* seccomp.default_action: errno, kill, kill_process, trap, log */
	struct strlist allow; /* seccomp.syscalls entries with action allow: added to the default policy */
	struct strlist deny; /* entries with another action: removed from it */
};

/* logging.* (applied by user/cli/cli_log.c) */
struct log_cfg {
	char *level; /* debug, info, warning, error, critical */
	bool to_stderr, to_files;
	struct strlist selectors;
	char *files_path, *files_name;
	int64_t keepfiles, permissions;
	uint64_t rotateeverybytes;
};

struct config {
	char *file;
	struct strlist interfaces; /* "lo", "eth0", or "any" */
	uint32_t snaplen; /* payload bytes the kernel sends per packet */
	uint64_t ring_size; /* bytes, power of two; shared out between the workers' ring buffers */
	int64_t workers; /* pipeline threads, 1..XB_MAX_RINGS (0 in the file: one per online CPU, capped) */
	uint64_t stats_period; /* ns, 0 = only at exit */
	uint64_t shutdown_timeout; /* ns */
	struct tcp_cfg tcp;
	struct queue_cfg queue;
	struct proto_cfg protos[PROTO_MAX];
	size_t nprotos;
	struct output_cfg outputs[4];
	size_t noutputs;
	struct run_as_cfg run_as; /* xdpbeat.run_as */
	struct seccomp_cfg seccomp; /* seccomp.* */
	struct proc_chain *processors; /* top-level processors (NULL: none), include/processors.h */
	struct cfg_node *setup; /* setup.* subtree, read by outputs that need it */
	/* Beats' general settings: name, tags, fields, fields_under_root (applied to events) */
	char *name;
	struct strlist tags;
	const struct cfg_node *fields; /* a map in tree, or NULL */
	bool fields_under_root;
	struct netlist *internal_networks; /* xdpbeat.interfaces.internal_networks, include/netlist.h */
	struct log_cfg log;
	struct strlist warnings; /* accepted Packetbeat settings xdpbeat does not use, "file:line: key: why" */
	struct cfg_node *tree; /* whole tree (owned) */
	/* [0] TCP, [1] UDP: port -> index + 1 into protos, 0 = not watched */
	uint8_t port_map[2][65536];
};

/*
 * Load path (NULL = built-in default config), apply overrides (n "k=v"
 * strings), validate. NULL + err on any error; nothing is started.
 */
struct config *config_load(const char *path, char *const *overrides, size_t noverrides, struct cfg_err *err);
/* Same as config_load, from YAML text named `file` in messages. */
struct config *config_load_string(const char *text, size_t len, const char *file, char *const *overrides,
				  size_t noverrides, struct cfg_err *err);
void config_free(struct config *c);
/* ${NAME} lookups of later loads go through r first (the keystore); NULL: environment only. */
void config_set_resolver(const struct cfg_resolver *r);
/* Protocol config owning port on transport (IPPROTO_TCP/UDP), or NULL. */
const struct proto_cfg *config_proto_for_port(const struct config *c, uint8_t transport, uint16_t port);

/* The default config/xdpbeat.yml, embedded at build time (user/config_default.c). */
extern const char config_default_yml[]; /* NUL-terminated */
extern const size_t config_default_yml_len; /* without the NUL */

#endif
