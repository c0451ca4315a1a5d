/*
 * Beats processors (user/processors/): a list parsed from a `processors:`
 * config sequence, run in order on an event held as a jansson tree. Each
 * processor may carry a `when` condition (equals, contains, regexp, range,
 * network, has_fields, and, or, not). A chain with no processors is NULL, so
 * the event writer's text goes out untouched when none are configured.
 */
#ifndef XDPBEAT_PROCESSORS_H
#define XDPBEAT_PROCESSORS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "stats.h"

struct proc_chain;

/*
 * Parse the sequence n (NULL or null = no processors). *out is NULL when
 * nothing is left to run (empty list, only processors that do nothing here).
 * 0 or -EINVAL with err naming file:line and the key.
 */
int proc_chain_parse(const struct cfg_node *n, struct proc_chain **out, struct cfg_err *err);
void proc_chain_free(struct proc_chain *c);
/* Move front's processors before *dst's (front is consumed; *dst may be NULL). 0 or -ENOMEM (front untouched). */
int proc_chain_prepend(struct proc_chain **dst, struct proc_chain *front);

enum proc_verdict {
	PROC_KEEP,
	PROC_DROP, /* drop_event matched: the event is not published */
};

/*
 * Run every processor on ev in order. A processor that fails leaves the
 * event as it was (rename with fail_on_error sets error.message) and the
 * chain goes on, as in libbeat; each failure counts STAT_PROC_ERRORS, a
 * drop STAT_PROC_DROPPED. st may be NULL.
 */
enum proc_verdict proc_chain_run(const struct proc_chain *c, json_t *ev, struct stats *st);

/*
 * Whether an event of a protocol can hold the top-level member key (n
 * bytes) before the processors run: the event writer's knowledge.
 */
typedef bool (*proc_key_fn)(void *ctx, const char *key, size_t n);

/*
 * What the text fast path (chain.c) can decide once for every event of a
 * protocol whose members may_have tells, with the protocol's chain and the
 * global one: NULL on ENOMEM (proc_apply_text then decides per event).
 */
struct proc_plan;
struct proc_plan *proc_plan_new(const struct proc_chain *proto, const struct proc_chain *global, proc_key_fn may_have,
				void *ctx);
void proc_plan_free(struct proc_plan *plan);

/*
 * The event text in b through the protocol's chain, then the global one
 * (either may be NULL): parsed once, run, written back into b once; with
 * plan (from proc_plan_new for these chains, or NULL) an event the plan
 * covers is not looked at. PROC_KEEP (b holds the new text), PROC_DROP,
 * -EINVAL (text that is not a JSON object: b unchanged, publish it as it
 * is) or -ENOMEM (b incomplete); both errors count STAT_PROC_ERRORS.
 * *meta: b may hold a top-level @metadata now (false: it surely does not).
 */
struct json_buf;
int proc_apply_text(const struct proc_plan *plan, const struct proc_chain *proto, const struct proc_chain *global,
		    struct json_buf *b, struct stats *st, bool *meta);

#endif
