/*
 * Test helpers: a pipeline built from a YAML string whose events are
 * collected in a JSON array, and builders for TCP/UDP packets between a
 * fixed client (10.0.0.1:40000) and server (10.0.0.2:<port>).
 */
#ifndef XDPBEAT_TESTUTIL_H
#define XDPBEAT_TESTUTIL_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"
#include "pipeline.h"
#include "stats.h"

struct tp {
	struct config *cfg;
	struct stats st;
	struct pipeline *pl;
	json_t *events; /* array of published events */
	uint16_t port; /* server port */
	uint32_t seq[2]; /* next sequence number per direction (DIR_C2S, DIR_S2C) */
	uint64_t ts; /* advanced 1 ms per packet */
};

/* Config from YAML text (written to a temp file, loaded with config_load); aborts the test on error. */
struct tp *tp_new(const char *yaml, uint16_t server_port);
/*
 * One protocol of type on server_port, console output on; extra (may be
 * NULL) is more YAML: lines indented by 4 add protocol options, others
 * top-level settings.
 */
struct tp *tp_proto(const char *type, uint16_t server_port, const char *extra);
void tp_free(struct tp *tp);
/* TCP segment in dir carrying data (flags XB_TCP_*; ACK added). Advances seq by len. */
void tp_tcp(struct tp *tp, int dir, uint8_t flags, const void *data, size_t len);
/* Same with an explicit sequence offset relative to the stream start (ISN + 1); does not advance seq. */
void tp_tcp_at(struct tp *tp, int dir, uint8_t flags, uint32_t rel_seq, const void *data, size_t len);
/* The string s (without its NUL) as one segment in dir, no flags. */
void tp_tcp_str(struct tp *tp, int dir, const char *s);
/* data[0..len) in dir as two segments cut at cut; one segment when cut is 0 or >= len. */
void tp_tcp_split(struct tp *tp, int dir, const void *data, size_t len, size_t cut);
/* A segment whose capture was cut: cap bytes of data held of wire bytes; the rest is a gap. Advances seq by wire. */
void tp_tcp_cut(struct tp *tp, int dir, const void *data, uint32_t cap, uint32_t wire);
/* A segment of wire bytes the kernel left out on request (heads-only: packet.skipped). Advances seq. */
void tp_tcp_skipped(struct tp *tp, int dir, uint32_t wire);
/* SYN, SYN/ACK handshake (sets the sequence bases). */
void tp_handshake(struct tp *tp);
/* Handshake, c2s cut at cq, s2c cut at cr (tp_tcp_split), flush. */
void tp_exchange(struct tp *tp, const void *c2s, size_t nc, const void *s2c, size_t ns, size_t cq, size_t cr);
/* UDP datagram in dir. */
void tp_udp(struct tp *tp, int dir, const void *data, size_t len);
/* End of input: flush the pipeline (closes connections, expires pending). */
void tp_flush(struct tp *tp);
/*
 * No silent loss: every TCP byte handed to a parser was consumed or dropped
 * under one reason, and every stream freed balanced; the test fails if not.
 */
void tp_assert_bytes_balance(const struct tp *tp);
/* The same, and the TCP bytes consumed and dropped by parse errors, gaps and at close are these. */
void tp_assert_tcp_bytes(const struct tp *tp, uint64_t consumed, uint64_t parse_error, uint64_t gap, uint64_t at_close);
size_t tp_count(const struct tp *tp);
json_t *tp_event(const struct tp *tp, size_t i);
/*
 * Value at dotted path in event i ("http.response.status_code"), or NULL.
 * A number indexes an array ("memcache.request.keys.0").
 */
json_t *tp_get(const struct tp *tp, size_t i, const char *dotted);
/* The string / integer at dotted path in event i; the test fails when it is missing or of another type. */
const char *tp_str(const struct tp *tp, size_t i, const char *dotted);
json_int_t tp_int(const struct tp *tp, size_t i, const char *dotted);
/* The strings of array a joined with commas ("a,b"; "" for none), in a static buffer. */
const char *json_joined(const json_t *a);
/* All events as a compact JSON array with sorted keys (caller frees). */
char *tp_dump(const struct tp *tp);
/*
 * The top-level keys (NULL-terminated list) that event i has, as a compact
 * JSON object with sorted keys (caller frees): the fields that must not
 * depend on segmentation or timing.
 */
char *tp_fields(const struct tp *tp, size_t i, const char *const *keys);
/* The same for every event, as a JSON array. */
char *tp_fields_all(const struct tp *tp, const char *const *keys);

#endif
