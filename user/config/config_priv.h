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
/* Plain empty, "~" or "null": an empty section. */
bool cfg_is_null(const struct cfg_node *n);
/* Apply one map child through a field table; -ENOENT (err untouched) if its key is not there. */
int cfg_apply_one(const struct cfg_field *fields, void *base, const struct cfg_node *child, struct cfg_err *err);
/* "a, b, c" of the keys of fields, into buf. */
void cfg_field_names(const struct cfg_field *fields, char *buf, size_t len);

/* `processors` at top level (base: struct config) and in a protocol (struct proto_cfg), config_processors.c. */
int config_set_processors(void *base, const struct cfg_node *n, struct cfg_err *err);
int config_set_proto_processors(void *base, const struct cfg_node *n, struct cfg_err *err);

#endif
