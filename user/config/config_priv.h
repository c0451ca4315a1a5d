/* Helpers shared by user/config*.c only (not part of the public interface). */
#ifndef XDPBEAT_CONFIG_PRIV_H
#define XDPBEAT_CONFIG_PRIV_H

#include "config.h"

/* Caps on hostile or mistaken input. */
#define CFG_MAX_FILE_BYTES (4u << 20)
#define CFG_MAX_DEPTH 32
#define CFG_MAX_NODES 100000

/* "a map", "a sequence", "null", "string \"x\"", "80" ... for messages. */
const char *cfg_describe(const struct cfg_node *n, char *buf, size_t len);
/* Keystore values of n and below it masked in msg (config_scrub.c). */
void cfg_scrub_secrets(char *msg, size_t cap, const struct cfg_node *n);
/* Plain empty, "~" or "null": an empty section. */
bool cfg_is_null(const struct cfg_node *n);
/* Apply one map child through a field table; -ENOENT (err untouched) if its key is not there. */
int cfg_apply_one(const struct cfg_field *fields, void *base, const struct cfg_node *child, struct cfg_err *err);
/* "a, b, c" of the keys of fields, into buf. */
void cfg_field_names(const struct cfg_field *fields, char *buf, size_t len);

/* `processors` at top level (base: struct config) and in a protocol (struct proto_cfg), config_processors.c. */
int config_set_processors(void *base, const struct cfg_node *n, struct cfg_err *err);
int config_set_proto_processors(void *base, const struct cfg_node *n, struct cfg_err *err);

/* Packetbeat compatibility, config_compat.c. */
void config_warn(struct config *c, const struct cfg_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int config_alias_packetbeat(struct cfg_node *root, struct cfg_err *err);
char *config_alias_override(const char *assignment); /* malloc'ed, "packetbeat." -> "xdpbeat." */
/* icmp, dhcpv4, amqp, cassandra, nfs, sip, tls: ignored, named in one warning. */
bool config_skip_protocol(const struct cfg_node *item);
void config_warn_skipped(struct config *c, const struct cfg_node *protocols, const char *names);
bool config_other_beats_output(struct config *c, const struct cfg_node *sec);
int config_unused_section(void *base, const struct cfg_node *n, struct cfg_err *err);
int config_set_interfaces(void *base, const struct cfg_node *n, struct cfg_err *err);
int config_set_top_fields(void *base, const struct cfg_node *n, struct cfg_err *err);
int config_set_proto_fields(void *base, const struct cfg_node *n, struct cfg_err *err);
/* snaplen / ring_size by n->key, config.c */
int config_set_capture_size(struct config *c, const struct cfg_node *n, struct cfg_err *err);
/* name, tags, fields as processors in front of the configured ones, config_general.c */
int config_general_processors(struct config *c, struct cfg_err *err);
/* setup.*: template keys checked, the rest warned, config_setup.c */
int config_set_setup(void *base, const struct cfg_node *n, struct cfg_err *err);

#endif
