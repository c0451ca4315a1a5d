/* Interfaces between the core modules of the daemon (not for parsers). */
#ifndef XDPBEAT_INTERNAL_H
#define XDPBEAT_INTERNAL_H

#include "pipeline.h"
#include "proto.h"

/* FNV-1a over n bytes, continuing from h (start with FNV_SEED). */
#define FNV_SEED 2166136261u
static inline uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* Correlator, per TCP connection. */
void corr_conn_expire(struct conn *c, uint64_t now);
void corr_conn_close(struct conn *c);

/* Correlator, UDP table keyed by flow + protocol + id. */
struct corr_udp;
struct corr_udp *corr_udp_new(void);
void corr_udp_expire(struct pipeline *pl, struct corr_udp *u, uint64_t now);
void corr_udp_free(struct pipeline *pl, struct corr_udp *u);
struct corr_udp *pipeline_udp(struct pipeline *pl);
/* Bytes kept by requests waiting for their responses, over every TCP connection (add a negative to release). */
uint64_t pipeline_pending(struct pipeline *pl, int64_t delta);

/* Faster small allocations for jansson (user/json_alloc.c): call before any JSON is made. */
void json_alloc_install(void);

/* Event writing (user/event.c): caches per-flow strings between events. */
struct json_buf;
struct event_writer;
struct event_writer *event_writer_new(void);
void event_writer_free(struct event_writer *w);
/* The transaction as one compact JSON object in b (b is reset first). */
int event_write(struct event_writer *ew, struct json_buf *b, const struct proto_cfg *cfg, const struct flow *f,
		const struct msg *req, const struct msg *resp);
/* "2026-11-25T14:18:09.123Z" */
void format_timestamp(uint64_t ns, char *buf, size_t len);
/* Community ID v1 ("1:base64") of the flow. */
void community_id(const struct flow *f, char *buf, size_t len);
void sha1(const void *data, size_t len, uint8_t out[20]);

#endif
