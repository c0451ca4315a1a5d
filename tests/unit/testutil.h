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
void tp_free(struct tp *tp);
/* TCP segment in dir carrying data (flags XB_TCP_*; ACK added). Advances seq by len. */
void tp_tcp(struct tp *tp, int dir, uint8_t flags, const void *data, size_t len);
/* Same with an explicit sequence offset relative to the stream start (ISN + 1); does not advance seq. */
void tp_tcp_at(struct tp *tp, int dir, uint8_t flags, uint32_t rel_seq, const void *data, size_t len);
/* SYN, SYN/ACK handshake (sets the sequence bases). */
void tp_handshake(struct tp *tp);
/* UDP datagram in dir. */
void tp_udp(struct tp *tp, int dir, const void *data, size_t len);
/* End of input: flush the pipeline (closes connections, expires pending). */
void tp_flush(struct tp *tp);
size_t tp_count(const struct tp *tp);
json_t *tp_event(const struct tp *tp, size_t i);
/* Value at dotted path in event i ("http.response.status_code"), or NULL. */
json_t *tp_get(const struct tp *tp, size_t i, const char *dotted);
/* All events as a compact JSON array with sorted keys (caller frees). */
char *tp_dump(const struct tp *tp);

#endif
