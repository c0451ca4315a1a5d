/*
 * One worker's ring buffer: poll it, turn each record into a struct packet
 * and hand it to the worker's callback. A UDP datagram split over records is
 * put back together here; every record of a flow is in the same ring (the
 * kernel picks the ring by the flow's symmetric hash), so each ring keeps
 * its own reassembly slots and needs no lock.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "capture.h"
#include "capture_int.h"
#include "proto.h"
#include "record.h"
#include "stats.h"

/* Records are submitted without wake-ups: never sleep longer than this. */
#define CAPTURE_POLL_MAX_MS 100

#define UDP_ASM_SLOTS 4

struct udp_asm {
	bool used;
	uint64_t ts_ns;
	uint32_t ifindex, wire_len, have;
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	struct packet pkt; /* from the first chunk */
	uint8_t buf[XB_PAYLOAD_MAX];
};

struct capture_ring {
	struct ring_buffer *rb;
	struct udp_asm *udp; /* UDP_ASM_SLOTS, allocated on first use */
	unsigned udp_next; /* slot to evict next */
	struct stats *st;
	int64_t clock_off;
	packet_fn fn;
	void *fn_ctx;
	int handled;
};

int capture_record_to_packet(const void *data, size_t size, int64_t clock_off, struct packet *pkt)
{
	const struct xb_record *r = data;
	bool last;

	if (size < sizeof(*r) || r->cap_len > size - sizeof(*r))
		return -EINVAL;
	if ((r->family != 4 && r->family != 6) || r->offset > r->wire_len || r->cap_len > r->wire_len - r->offset)
		return -EINVAL;
	memset(pkt, 0, sizeof(*pkt));
	pkt->ts = r->ts_ns + (uint64_t)clock_off;
	pkt->ifindex = r->ifindex;
	pkt->src.family = r->family;
	pkt->dst.family = r->family;
	memcpy(pkt->src.a, r->saddr, r->family == 4 ? 4 : 16);
	memcpy(pkt->dst.a, r->daddr, r->family == 4 ? 4 : 16);
	pkt->sport = r->sport;
	pkt->dport = r->dport;
	pkt->transport = r->l4proto;
	pkt->seq = r->seq + r->offset;
	pkt->ack = r->ack;
	pkt->payload = r->data;
	pkt->payload_len = r->cap_len;
	/* A middle chunk is whole: the next record carries what follows. */
	last = (r->flags & XB_F_TRUNCATED) || r->offset + r->cap_len >= r->wire_len;
	pkt->wire_len = last ? r->wire_len - r->offset : r->cap_len;
	pkt->tcp_flags = r->tcp_flags;
	if (r->offset)
		pkt->tcp_flags &= (uint8_t)~XB_TCP_SYN;
	if (!last)
		pkt->tcp_flags &= (uint8_t)(~(XB_TCP_FIN | XB_TCP_RST));
	pkt->proto_hint = r->proto_id < PROTO_MAX ? r->proto_id : 0;
	pkt->server_is_dst = r->match;
	pkt->skipped = r->flags & XB_F_SKIPPED && r->l4proto == IPPROTO_TCP && r->cap_len == 0;
	return 0;
}

static void deliver(struct capture_ring *c, const struct packet *pkt)
{
	c->handled++;
	if (c->fn)
		c->fn(c->fn_ctx, pkt);
}

static bool asm_is(const struct udp_asm *a, const struct xb_record *r)
{
	return a->used && a->ts_ns == r->ts_ns && a->ifindex == r->ifindex && a->sport == r->sport &&
	       a->dport == r->dport && a->wire_len == r->wire_len && !memcmp(a->saddr, r->saddr, 16) &&
	       !memcmp(a->daddr, r->daddr, 16);
}

static void count_error(struct capture_ring *c)
{
	if (c->st)
		stats_add(c->st, STAT_DECODE_ERRORS, 1);
}

/* Hand over what a slot holds (a cut datagram if not complete: its parser counts it) and free it. */
static void asm_flush(struct capture_ring *c, struct udp_asm *a)
{
	a->pkt.payload = a->buf;
	a->pkt.payload_len = a->have;
	a->pkt.wire_len = a->wire_len;
	a->used = false;
	deliver(c, &a->pkt);
}

/* One chunk (pkt, from record r) of a UDP datagram split over records. */
static void udp_chunk(struct capture_ring *c, const struct xb_record *r, const struct packet *pkt)
{
	struct udp_asm *a = NULL;

	if (!c->udp && !(c->udp = calloc(UDP_ASM_SLOTS, sizeof(*c->udp)))) {
		count_error(c);
		return;
	}
	for (int i = 0; i < UDP_ASM_SLOTS && !a; i++)
		if (asm_is(&c->udp[i], r))
			a = &c->udp[i];
	if (!a && r->offset == 0) {
		a = &c->udp[c->udp_next++ % UDP_ASM_SLOTS];
		if (a->used)
			asm_flush(c, a); /* evicted: reaches the parser cut, and is counted there */
		memset(a, 0, offsetof(struct udp_asm, buf));
		a->pkt = *pkt;
		a->used = true;
		a->ts_ns = r->ts_ns;
		a->ifindex = r->ifindex;
		a->wire_len = r->wire_len;
		a->sport = r->sport;
		a->dport = r->dport;
		memcpy(a->saddr, r->saddr, 16);
		memcpy(a->daddr, r->daddr, 16);
	}
	if (!a || r->offset != a->have || r->offset + r->cap_len > sizeof(a->buf)) {
		/* A chunk without its start, or out of order: the datagram cannot be rebuilt. */
		count_error(c);
		return;
	}
	memcpy(a->buf + a->have, r->data, r->cap_len);
	a->have += r->cap_len;
	if (a->have >= a->wire_len || (r->flags & XB_F_TRUNCATED))
		asm_flush(c, a);
}

/*
 * The kernel wrote the ring on other CPUs: its lines are cold here. While
 * this record is parsed, the next one (after its 8-byte header, 8-aligned)
 * is fetched; a prefetch of a line not written yet costs nothing.
 */
#define PREFETCH_BYTES 512

static void prefetch_next(const void *data, size_t size)
{
	const char *next = (const char *)data + ((size + 7) & ~(size_t)7);

	for (size_t off = 0; off < PREFETCH_BYTES; off += 64)
		__builtin_prefetch(next + off, 0, 3);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct capture_ring *c = ctx;
	const struct xb_record *r = data;
	struct packet pkt;

	prefetch_next(data, size);
	if (capture_record_to_packet(data, size, c->clock_off, &pkt)) {
		count_error(c);
		return 0;
	}
	if (pkt.transport == IPPROTO_UDP &&
	    (r->offset || (r->offset + r->cap_len < r->wire_len && !(r->flags & XB_F_TRUNCATED)))) {
		udp_chunk(c, r, &pkt);
		return 0;
	}
	deliver(c, &pkt);
	return 0;
}

int capture_ring_poll(struct capture_ring *c, int timeout_ms, packet_fn fn, void *ctx)
{
	int ret, ret2;

	c->fn = fn;
	c->fn_ctx = ctx;
	c->handled = 0;
	if (timeout_ms < 0 || timeout_ms > CAPTURE_POLL_MAX_MS)
		timeout_ms = CAPTURE_POLL_MAX_MS;
	ret = ring_buffer__poll(c->rb, timeout_ms);
	if (ret < 0 && ret != -EINTR)
		return ret;
	/* Records submitted with BPF_RB_NO_WAKEUP wait for us: take them now. */
	ret2 = ring_buffer__consume(c->rb);
	if (ret == -EINTR)
		return -EINTR;
	if (ret2 < 0)
		return ret2;
	return c->handled;
}

struct capture_ring *capture_ring_new(int map_fd, int64_t clock_off, struct stats *st)
{
	struct capture_ring *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->st = st;
	c->clock_off = clock_off;
	c->rb = ring_buffer__new(map_fd, on_record, c, NULL);
	if (!c->rb) {
		int err = errno;

		free(c);
		errno = err;
		return NULL;
	}
	return c;
}

void capture_ring_free(struct capture_ring *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	free(c->udp);
	free(c);
}
