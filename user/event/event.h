/*
 * The event writer: one JSON object per transaction, written as text with
 * the ECS fields Packetbeat 8 uses — the generic members from the messages'
 * slots, the protocol's own object by its ops->write_fields.
 */
#ifndef XDPBEAT_EVENT_H
#define XDPBEAT_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

struct json_buf;
struct event_writer;
struct netlist;

/* The writer caches per-flow strings (addresses, Community ID, direction) between events. */
struct event_writer *event_writer_new(void);
void event_writer_free(struct event_writer *w);
/*
 * network.direction from now on also from internal_networks (not copied:
 * it must outlive the writer or the next call; NULL: none). The host's own
 * addresses are read once, by event_writer_new.
 */
void event_writer_set_networks(struct event_writer *w, const struct netlist *internal);
/* Append agent (a JSON fragment ",\"agent\":{...}", copied) to every event; len 0 = none. */
void event_writer_set_agent(struct event_writer *w, const char *json, size_t len);
/* The transaction as one compact JSON object in b (b is reset first); 0 or -ENOMEM (incomplete). */
int event_write(struct event_writer *ew, struct json_buf *b, const struct proto_cfg *cfg, const struct flow *f,
		const struct msg *req, const struct msg *resp);
/*
 * Whether event_write can give an event of protocol pc (a const struct
 * proto_cfg *) the top-level member key (n bytes): a proc_key_fn.
 */
bool event_may_have(void *pc, const char *key, size_t n);
/* Community ID v1 ("1:base64") of the flow. */
void community_id(const struct flow *f, char *buf, size_t len);

#endif
