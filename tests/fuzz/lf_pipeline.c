/*
 * libFuzzer target: the protocol parsers through the real TCP and UDP layers.
 *
 * Input: byte 0 picks the server port (which parser), UDP and IPv6; then
 * records of [control][length][length bytes of payload]. control bit 0 is
 * the direction, bits 1-3 the segment kind (data, SYN, SYN-ACK, FIN, RST,
 * data with a sequence jump, a clock tick), bits 4-7 the size of the jump.
 * Every frame is built in its own exact-size allocation so ASan sees
 * over-reads, decoded by decode_frame() and fed to the pipeline; the
 * pipeline is flushed and freed at the end of each input, and its TCP
 * bytes must balance (delivered = consumed + dropped by reason). LF_PRINT=1 in
 * the environment prints the events (to check what a corpus file reaches).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "pipeline.h"

#include "../event_check.h"

static const uint16_t ports[] = { 80, 53, 11211, 6379, 3306, 9090, 5432, 27017, 1234 };

static struct config *cfg;
static bool print_events;

/* what the default config's processors add */
static const char *const added_keys[] = { "host", NULL };

static void sink(void *ctx, const char *json, size_t len, uint64_t ts, bool plain)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	const char *why;

	if (!doc)
		abort(); /* every event must be valid JSON */
	if ((why = event_check(cfg, doc, plain, added_keys))) {
		fprintf(stderr, "lf_pipeline: %s: %.*s\n", why, (int)len, json);
		abort();
	}
	if (print_events)
		printf("%.*s\n", (int)len, json);
	json_decref(doc);
	(void)ctx;
	(void)ts;
}

struct lf_flow {
	uint16_t port;
	bool udp, v6;
	uint32_t seq[2];
};

static void send_frame(struct pipeline *pl, const struct lf_flow *fl, int dir, uint32_t seq, uint8_t flags,
		       const uint8_t *data, size_t plen, uint64_t ts)
{
	size_t ip = fl->v6 ? 40 : 20, l4 = fl->udp ? 8 : 20, total = ip + l4 + plen;
	uint16_t sp = dir ? fl->port : 40000, dp = dir ? 40000 : fl->port;
	uint8_t *f = calloc(1, total), *h = f + ip;
	struct packet pkt;

	if (!f)
		return;
	if (fl->v6) {
		f[0] = 0x60;
		f[4] = (uint8_t)((total - 40) >> 8), f[5] = (uint8_t)(total - 40);
		f[6] = fl->udp ? IPPROTO_UDP : IPPROTO_TCP;
		f[7] = 64;
		f[23] = dir ? 2 : 1, f[39] = dir ? 1 : 2;
	} else {
		f[0] = 0x45;
		f[2] = (uint8_t)(total >> 8), f[3] = (uint8_t)total;
		f[8] = 64;
		f[9] = fl->udp ? IPPROTO_UDP : IPPROTO_TCP;
		f[12] = 127, f[15] = dir ? 2 : 1;
		f[16] = 127, f[19] = dir ? 1 : 2;
	}
	h[0] = (uint8_t)(sp >> 8), h[1] = (uint8_t)sp;
	h[2] = (uint8_t)(dp >> 8), h[3] = (uint8_t)dp;
	if (fl->udp) {
		h[4] = (uint8_t)((8 + plen) >> 8), h[5] = (uint8_t)(8 + plen);
	} else {
		h[4] = (uint8_t)(seq >> 24), h[5] = (uint8_t)(seq >> 16);
		h[6] = (uint8_t)(seq >> 8), h[7] = (uint8_t)seq;
		h[12] = 5 << 4;
		h[13] = flags;
	}
	if (plen)
		memcpy(f + ip + l4, data, plen);
	if (decode_frame(LINK_RAW, f, (uint32_t)total, (uint32_t)total, &pkt) == 0) {
		pkt.ts = ts;
		pkt.ifindex = 0;
		pkt.proto_hint = 0;
		pkt.server_is_dst = 0;
		pipeline_packet(pl, &pkt);
	}
	free(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cfg_err err;

	cfg = config_load(NULL, NULL, 0, &err);
	if (!cfg)
		abort();
	cfg->tcp.max_stream_bytes = 16384; /* reach the caps often */
	cfg->tcp.max_ooo_segments = 4;
	print_events = getenv("LF_PRINT") != NULL;
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats st = { 0 };
	struct pipeline *pl;
	struct lf_flow fl = { 0 };
	uint64_t ts = 1700000000ull * 1000000000ull;
	size_t off = 1;

	if (size < 1)
		return 0;
	fl.port = ports[(data[0] & 0x0f) % (sizeof(ports) / sizeof(ports[0]))];
	fl.udp = data[0] & 0x10;
	fl.v6 = data[0] & 0x20;
	fl.seq[0] = 1000;
	fl.seq[1] = 5000000;
	pl = pipeline_new(cfg, &st, sink, NULL);
	while (off + 2 <= size) {
		uint8_t ctl = data[off], len = data[off + 1];
		int dir = ctl & 1, kind = (ctl >> 1) & 7;
		uint32_t jump = (uint32_t)(ctl >> 4) * 97;
		size_t n = len < size - off - 2 ? len : size - off - 2;
		/* each chunk in its own exact-size allocation */
		uint8_t *chunk = malloc(n ? n : 1);

		memcpy(chunk, data + off + 2, n);
		off += 2 + n;
		ts += 1000000;
		switch (kind) {
		case 1:
			send_frame(pl, &fl, 0, fl.seq[0]++, 0x02, NULL, 0, ts);
			break;
		case 2:
			send_frame(pl, &fl, 1, fl.seq[1]++, 0x12, NULL, 0, ts);
			break;
		case 3:
			send_frame(pl, &fl, dir, fl.seq[dir], 0x11, chunk, n, ts);
			fl.seq[dir] += (uint32_t)n + 1;
			break;
		case 4:
			send_frame(pl, &fl, dir, fl.seq[dir], 0x04, NULL, 0, ts);
			break;
		case 5: /* gap, or with the top bit an old (retransmitted / overlapping) sequence */
			if (ctl & 0x80)
				send_frame(pl, &fl, dir, fl.seq[dir] - jump, 0x18, chunk, n, ts);
			else {
				fl.seq[dir] += jump;
				send_frame(pl, &fl, dir, fl.seq[dir], 0x18, chunk, n, ts);
				fl.seq[dir] += (uint32_t)n;
			}
			break;
		case 6:
			pipeline_tick(pl, ts += (uint64_t)(ctl >> 4) * 2000000000ull);
			break;
		default:
			send_frame(pl, &fl, dir, fl.seq[dir], 0x18, chunk, n, ts);
			fl.seq[dir] += (uint32_t)n;
		}
		free(chunk);
	}
	pipeline_flush(pl);
	pipeline_free(pl);
	/* no silent loss: every byte delivered is consumed or dropped under a reason */
	if (stats_get(&st, STAT_TCP_BYTES_DELIVERED) !=
		    stats_get(&st, STAT_TCP_BYTES_CONSUMED) + stats_get(&st, STAT_TCP_BYTES_DROP_GAP) +
			    stats_get(&st, STAT_TCP_BYTES_DROP_PARSE) + stats_get(&st, STAT_TCP_BYTES_DROP_CAP) +
			    stats_get(&st, STAT_TCP_BYTES_DROP_CLOSE) ||
	    stats_get(&st, STAT_TCP_BYTES_UNBALANCED))
		abort();
	return 0;
}
