/* Daemon counters: one struct, updated atomically, printed by stats_log(). */
#ifndef XDPBEAT_STATS_H
#define XDPBEAT_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "record.h"

#define STAT_LIST(X)                                                   \
	X(PACKETS, "packets")                                          \
	X(BYTES, "bytes")                                              \
	X(DECODE_ERRORS, "decode_errors")                              \
	X(SKIPPED, "skipped")                                          \
	X(NOT_WATCHED, "not_watched")                                  \
	X(TCP_CONNS, "tcp.connections")                                \
	X(TCP_CONNS_OPEN, "tcp.open")                                  \
	X(TCP_OOO, "tcp.out_of_order")                                 \
	X(TCP_RETRANS, "tcp.retransmits")                              \
	X(TCP_GAPS, "tcp.gaps")                                        \
	X(TCP_GAP_BYTES, "tcp.gap_bytes")                              \
	X(TCP_CLOSED_FIN, "tcp.closed_fin")                            \
	X(TCP_CLOSED_RST, "tcp.closed_rst")                            \
	X(TCP_CLOSED_IDLE, "tcp.closed_idle")                          \
	X(DROP_CONN_LIMIT, "drops.connection_limit")                   \
	X(TCP_EVICTED, "tcp.evicted_without_data")                     \
	X(DROP_STREAM_LIMIT, "drops.stream_limit")                     \
	X(DROP_TOTAL_LIMIT, "drops.total_limit")                       \
	X(DROP_OOO_LIMIT, "drops.ooo_limit")                           \
	X(DROP_PARSE, "drops.parse_error")                             \
	X(DROP_GAP, "drops.gap")                                       \
	X(DROP_QUEUE, "drops.queue_full")                              \
	X(TCP_BYTES_DELIVERED, "tcp.bytes.delivered")                  \
	X(TCP_BYTES_CONSUMED, "tcp.bytes.consumed")                    \
	X(TCP_BYTES_DROP_GAP, "tcp.bytes.dropped_gap")                 \
	X(TCP_BYTES_DROP_PARSE, "tcp.bytes.dropped_parse_error")       \
	X(TCP_BYTES_DROP_CAP, "tcp.bytes.dropped_cap")                 \
	X(TCP_BYTES_DROP_CLOSE, "tcp.bytes.unparsed_at_close")         \
	X(TCP_BYTES_UNBALANCED, "tcp.bytes.unbalanced_streams")        \
	X(TCP_BYTES_SKIPPED, "tcp.bytes.skipped")                      \
	X(UDP_PACKETS, "udp.packets")                                  \
	X(TXN, "transactions")                                         \
	X(TXN_UNANSWERED, "transactions.unanswered")                   \
	X(TXN_UNMATCHED_RESP, "transactions.unmatched_responses")      \
	X(TXN_GIVEN_UP_MEMORY, "transactions.given_up_for_memory")     \
	X(TXN_GIVEN_UP_QUEUE, "transactions.given_up_for_queue_limit") \
	X(EVENTS_PUBLISHED, "events.published")                        \
	X(EVENTS_ACKED, "events.acked")                                \
	X(EVENTS_FAILED, "events.failed")                              \
	X(EVENTS_RETRIED, "events.retried")                            \
	X(EVENTS_DUPLICATES, "events.duplicates")                      \
	X(OUTPUT_BATCHES, "output.batches")                            \
	X(OUTPUT_ERRORS, "output.errors")                              \
	X(OUTPUT_BULK_LATENCY_US, "output.bulk_latency_us_total")      \
	X(PROC_DROPPED, "events.dropped_by_processors")                \
	X(PROC_ERRORS, "processors.errors")                            \
	X(EVENTS_DEAD_LETTER, "events.dead_letter")                    \
	X(OUTPUT_BYTES, "output.bytes")                                \
	X(OUTPUT_AUTH_ERRORS, "output.auth_errors")                    \
	X(KERN_SEEN, "kernel.seen")                                    \
	X(KERN_MATCHED, "kernel.matched")                              \
	X(KERN_SENT, "kernel.sent")                                    \
	X(KERN_RB_FULL, "kernel.ringbuf_full")                         \
	X(KERN_TRUNC_BYTES, "kernel.truncated_bytes")                  \
	X(KERN_SKIPPED_BYTES, "kernel.skipped_bytes")

enum stat_id {
#define X(id, name) STAT_##id,
	STAT_LIST(X)
#undef X
		STAT_MAX,
};

/* Per-protocol counters. */
#define PSTAT_LIST(X)                       \
	X(REQUESTS, "requests")             \
	X(RESPONSES, "responses")           \
	X(TXN, "transactions")              \
	X(UNANSWERED, "unanswered")         \
	X(UNMATCHED, "unmatched_responses") \
	X(PARSE_ERRORS, "parse_errors")     \
	X(GAPS, "gaps")                     \
	X(TOO_LARGE, "too_large")           \
	X(QUEUE_LIMIT, "queue_limit")

enum pstat_id {
#define X(id, name) PSTAT_##id,
	PSTAT_LIST(X)
#undef X
		PSTAT_MAX,
};

struct stats {
	uint64_t v[STAT_MAX];
	uint64_t proto[PROTO_MAX][PSTAT_MAX];
};

static inline void stats_add(struct stats *s, enum stat_id id, uint64_t n)
{
	__atomic_fetch_add(&s->v[id], n, __ATOMIC_RELAXED);
}

static inline void stats_set(struct stats *s, enum stat_id id, uint64_t n)
{
	__atomic_store_n(&s->v[id], n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const struct stats *s, enum stat_id id)
{
	return __atomic_load_n(&s->v[id], __ATOMIC_RELAXED);
}

static inline void stats_proto_add(struct stats *s, int proto, enum pstat_id id, uint64_t n)
{
	__atomic_fetch_add(&s->proto[proto][id], n, __ATOMIC_RELAXED);
}

/* One line "xdpbeat stats: k=v k=v ..." with the non-zero counters. */
void stats_log(const struct stats *s, FILE *f, const char *label);
/* Counter by its printed name ("tcp.gaps", "http.transactions"); -1 if none. */
int64_t stats_lookup(const struct stats *s, const char *name);

#endif
