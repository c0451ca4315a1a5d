/*
 * Private interface of the processors (the files of user/processors/): the ops table
 * each processor family fills, conditions, dotted field paths, networks.
 */
#ifndef XDPBEAT_PROC_H
#define XDPBEAT_PROC_H

#include <jansson.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "json_buf.h"
#include "processors.h"

/* What a processor's run returns: PROC_KEEP, PROC_DROP or a negative error (event left as it was). */
struct proc_ops {
	const char *name; /* the key under processors: "add_fields" */
	/* args: the node under the name: a map, or a null scalar for `~`; its `when` is not theirs (proc_args skips it). */
	int (*parse)(const struct cfg_node *args, void **state, struct cfg_err *err);
	int (*run)(void *state, json_t *ev);
	void (*free)(void *state);
	/*
	 * Optional text fast path, for a processor that only adds one top-level
	 * member: its key (NULL when this configuration of it does more, e.g. a
	 * dotted or root target), and the member `"key":value` appended to b.
	 * Used when every processor that runs on an event has one and the event
	 * holds none of their keys (chain.c).
	 */
	const char *(*text_key)(void *state);
	int (*append)(void *state, struct json_buf *b);
};

extern const struct proc_ops proc_add_fields, proc_add_tags, proc_add_labels;
extern const struct proc_ops proc_drop_fields, proc_drop_event, proc_include_fields;
extern const struct proc_ops proc_rename, proc_add_host_metadata, proc_add_locale;
extern const struct proc_ops proc_add_network_direction, proc_community_id, proc_detect_mime_type;

/* ---- argument helpers (chain.c) ---- */

/*
 * Apply args' children (skipping `when`) through a cfg_field table; unknown
 * keys are errors naming the processor and the keys it takes.
 */
int proc_args(const char *name, const struct cfg_field *fields, void *base, const struct cfg_node *args,
	      struct cfg_err *err);
/* A config subtree as JSON: unquoted scalars typed as YAML does (int, float, bool, null). NULL on ENOMEM. */
json_t *proc_cfg_json(const struct cfg_node *n);
/* The scalar as JSON (typed as above). */
json_t *proc_cfg_scalar(const struct cfg_node *n);

/* ---- dotted field paths (field.c) ---- */

/* Value at "a.b.c" (nested objects, or a key with dots at some level), or NULL. */
json_t *field_get(json_t *ev, const char *path);
/* Set path to value (steals it), creating objects; a non-object on the way is replaced. 0 or -ENOMEM. */
int field_put(json_t *ev, const char *path, json_t *value);
/* Remove path; -ENOENT if it is not there. Parents left empty stay, as in Beats. */
int field_delete(json_t *ev, const char *path);
/* Merge src's members into dst recursively (objects merged, other values replaced). 0 or -ENOMEM. */
int field_merge(json_t *dst, json_t *src);

/* ---- networks (net.c): CIDRs and Beats' named networks ---- */

struct net_addr {
	int family; /* 4 or 6 */
	uint8_t a[16];
};

struct net_match {
	int named; /* >0: a named network (NET_*), 0: a CIDR */
	struct net_addr addr;
	unsigned prefix;
};

/* Parse "10.0.0.0/8", "fe80::/10", a bare address, or a name (private, loopback, ...). 0 or -EINVAL. */
int net_match_parse(const char *s, struct net_match *m);
bool net_addr_parse(const char *s, struct net_addr *a);
bool net_match_has(const struct net_match *m, const struct net_addr *a);
/* Names accepted by net_match_parse, for messages. */
extern const char net_names[];

struct net_list {
	struct net_match *v;
	size_t n;
};
/* A scalar or a sequence of networks. */
int net_list_parse(const struct cfg_node *n, struct net_list *l, struct cfg_err *err);
bool net_list_has(const struct net_list *l, const struct net_addr *a);
void net_list_free(struct net_list *l);

/* ---- conditions (cond.c) ---- */

struct cond;
/* The map under `when` (or under if:). NULL + err on error. */
struct cond *cond_parse(const struct cfg_node *n, struct cfg_err *err);
/* ev may be NULL: an event without any field. */
bool cond_eval(const struct cond *c, json_t *ev);
/* No field the condition reads passes may_exist(ctx, path): its answer is the same as on an empty event. */
bool cond_fields_absent(const struct cond *c, bool (*may_exist)(void *ctx, const char *path), void *ctx);
void cond_free(struct cond *c);

/* ---- shared by several processors ---- */

/* An RE2-style pattern as POSIX ERE (cond.c: \d \w \s translated, (?i)); errors name node n. */
int proc_regcomp(regex_t *re, const char *pattern, const struct cfg_node *n, struct cfg_err *err);

/* error.message gets msg: set, or added to what is there (a string becomes a list). 0 or -ENOMEM. */
int proc_error_message(json_t *ev, const char *msg);
/* add_host_metadata's host object, read from the system now (NULL on ENOMEM). */
json_t *proc_host_collect(bool netinfo);
/* "+05:30" / "-07:00" for a UTC offset in seconds (add_locale). */
void proc_tz_offset(long gmtoff, char *buf, size_t len);
/* Community ID v1 of a flow into out ("1:..."); ports only for TCP, UDP, SCTP. */
void proc_community_id_v1(uint16_t seed, const struct net_addr *sa, uint16_t sp, const struct net_addr *da, uint16_t dp,
			  uint8_t proto, bool ports, char *out, size_t len);
/* JSON text as a tree (json_parse.c; strict, faster than json_loadb); NULL if invalid. */
json_t *proc_json_parse(const char *text, size_t len);
/* Media type of data as Go's http.DetectContentType names it (mime_sniff.c). */
const char *mime_sniff(const void *data, size_t len);

#endif
