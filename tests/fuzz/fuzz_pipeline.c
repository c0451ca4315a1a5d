/*
 * Pipeline fuzzer: protocol-shaped payloads (HTTP, DNS, memcache, redis, thrift, MySQL,
 * PostgreSQL, noise),
 * mutated, cut into segments with random order, loss and direction flips,
 * wrapped in random or damaged IPv4/IPv6 frames and fed through
 * decode_frame() and the whole pipeline with the default configuration.
 * Each frame is an exactly-sized allocation so ASan catches over-reads.
 *
 *   fuzz_pipeline [-n iterations] [-t seconds] [-s seed] [file...]
 * Files are replayed as raw payloads (crash reproducers) before the loop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../event_check.h"

#include "config.h"
#include "pipeline.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* A seed message: its bytes, the protocol's port and which side sends it (0 client, 1 server). */
/* clang-format off */
#define SEED(port, dir, s) { s, sizeof(s) - 1, port, dir }
/* clang-format on */
static const struct {
	const char *p;
	size_t n;
	uint16_t port;
	int dir;
} seeds[] = {
	SEED(80, 0,
	     "GET /index.html?a=1&pass=x HTTP/1.1\r\nHost: example\r\nCookie: a=b; c=d\r\nUser-Agent: fz\r\n\r\n"),
	SEED(80, 1, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello"),
	SEED(80, 1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n"),
	SEED(80, 0, "POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"),
	SEED(80, 1, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nbody until close"),
	SEED(80, 0, "HEAD / HTTP/1.1\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
	SEED(11211, 0, "set k 0 0 5\r\nhello\r\nget k j\r\nVALUE k 0 5\r\nhello\r\nEND\r\nincr n 5 noreply\r\n"),
	SEED(11211, 0,
	     "\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	     "k"),
	SEED(53, 0,
	     "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07"
	     "example\x03"
	     "com\x00\x00\x01\x00\x01"),
	SEED(53, 1,
	     "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07"
	     "example\x03"
	     "com\x00\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01"),
	/* compression loop */
	SEED(53, 1, "\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"),
	/* DNS over TCP: length prefix + query */
	SEED(53, 0,
	     "\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07"
	     "example\x03"
	     "com\x00\x00\x01\x00\x01"),
	/* MongoDB: an OP_MSG find and its reply */
	SEED(27017, 0,
	     "\x39\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00"
	     "\x24\x00\x00\x00\x02"
	     "find"
	     "\x00\x07\x00\x00\x00"
	     "people"
	     "\x00\x02"
	     "$db"
	     "\x00\x05\x00\x00\x00"
	     "test"
	     "\x00\x00"),
	SEED(27017, 1,
	     "\x22\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00"
	     "\x0d\x00\x00\x00\x10"
	     "ok"
	     "\x00\x01\x00\x00\x00\x00"),
	/* Redis: multibulk and inline commands; RESP2/RESP3 replies, an attribute and a push */
	SEED(6379, 0, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\nSUBSCRIBE \"a b\" c\r\n"),
	SEED(6379, 1,
	     "+OK\r\n*2\r\n$1\r\na\r\n*1\r\n:-1\r\n%1\r\n+k\r\n~1\r\n,1.5\r\n|1\r\n+t\r\n:1\r\n"
	     "=8\r\ntxt:abcd\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$0\r\n\r\n-ERR x\r\n$-1\r\n_\r\n#t\r\n"),
	/* Thrift: binary call with a struct, list and map; its reply; compact framed call and an exception */
	SEED(9090, 0,
	     "\x80\x01\x00\x01\x00\x00\x00\x03put\x00\x00\x00\x01\x0c\x00\x01\x08\x00\x01\xff\xff\xff\xf9"
	     "\x0f\x00\x03\x0b\x00\x00\x00\x01\x00\x00\x00\x01"
	     "a\x0d\x00\x04\x0b\x08\x00\x00\x00\x01\x00\x00\x00\x01k"
	     "\x00\x00\x00\x03\x00\x00"),
	SEED(9090, 1,
	     "\x80\x01\x00\x02\x00\x00\x00\x03put\x00\x00\x00\x01\x02\x00\x00\x01\x00"
	     "\x80\x01\x00\x03\x00\x00\x00\x03put\x00\x00\x00\x02\x0b\x00\x01\x00\x00\x00\x01x\x08\x00\x02\x00\x00\x00\x06\x00"),
	SEED(9090, 0,
	     "\x00\x00\x00\x11\x82\x21\x01\x03"
	     "add\x15\x14\x15\x06\x19\x25\x02\x04\x00\x00"),
	/* MySQL: COM_QUERY, PREPARE, EXECUTE with two parameters, CLOSE, PING; a text result set,
	 * PREPARE_OK with its definitions, a binary result, an OK, an ERR */
	SEED(3306, 0,
	     "\x10\x00\x00\x00\x03\x53\x45\x4c\x45\x43\x54\x20\x61\x20\x46\x52\x4f\x4d\x20\x74\x0c\x00\x00\x00"
	     "\x16\x53\x45\x4c\x45\x43\x54\x20\x3f\x2c\x20\x3f\x1c\x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00"
	     "\x00\x00\x00\x01\x08\x00\xfe\x00\x07\x00\x00\x00\x00\x00\x00\x00\x03\x61\x62\x63\x05\x00\x00\x00"
	     "\x19\x01\x00\x00\x00\x01\x00\x00\x00\x0e"),
	SEED(3306, 1,
	     "\x01\x00\x00\x01\x01\x1c\x00\x00\x02\x03\x64\x65\x66\x02\x64\x62\x01\x74\x01\x74\x01\x61\x01\x61"
	     "\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00\x05\x00\x00\x03\xfe\x00\x00\x22\x00\x02\x00"
	     "\x00\x04\x01\x31\x01\x00\x00\x05\xfb\x05\x00\x00\x06\xfe\x00\x00\x02\x00\x0c\x00\x00\x01\x00\x01"
	     "\x00\x00\x00\x01\x00\x02\x00\x00\x00\x00\x1c\x00\x00\x02\x03\x64\x65\x66\x02\x64\x62\x01\x74\x01"
	     "\x74\x01\x61\x01\x61\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00\x1c\x00\x00\x03\x03\x64"
	     "\x65\x66\x02\x64\x62\x01\x74\x01\x74\x01\x61\x01\x61\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00"
	     "\x00\x00\x05\x00\x00\x04\xfe\x00\x00\x02\x00\x1c\x00\x00\x05\x03\x64\x65\x66\x02\x64\x62\x01\x74"
	     "\x01\x74\x01\x61\x01\x61\x0c\x21\x00\x0b\x00\x00\x00\x03\x00\x00\x00\x00\x00\x05\x00\x00\x06\xfe"
	     "\x00\x00\x02\x00\x02\x00\x00\x01\x01\x00\x06\x00\x00\x02\x00\x00\x03\x00\x00\x00\x07\x00\x00\x03"
	     "\xfe\x00\x00\x02\x00\x00\x00\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x16\x00\x00\x01\xff\x7a"
	     "\x04\x23\x34\x32\x53\x30\x32\x6e\x6f\x20\x73\x75\x63\x68\x20\x74\x61\x62\x6c\x65"),
	/* PostgreSQL: SSLRequest, startup, a two-statement Query, Parse/Bind/Describe/Execute/Sync; the answers */
	SEED(5432, 0,
	     "\x00\x00\x00\x08\x04\xd2\x16\x2f\x00\x00\x00\x1b\x00\x03\x00\x00\x75\x73\x65\x72\x00\x75\x00\x64"
	     "\x61\x74\x61\x62\x61\x73\x65\x00\x64\x00\x00\x51\x00\x00\x00\x1d\x73\x65\x6c\x65\x63\x74\x20\x27"
	     "\x61\x3b\x62\x27\x3b\x20\x73\x65\x6c\x65\x63\x74\x20\x31\x2f\x30\x00\x50\x00\x00\x00\x1c\x73\x00"
	     "\x73\x65\x6c\x65\x63\x74\x20\x24\x31\x3a\x3a\x69\x6e\x74\x34\x00\x00\x01\x00\x00\x00\x17\x42\x00"
	     "\x00\x00\x17\x00\x73\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07\x00\x00\x44\x00"
	     "\x00\x00\x06\x50\x00\x45\x00\x00\x00\x09\x00\x00\x00\x00\x00\x53\x00\x00\x00\x04"),
	SEED(5432, 1,
	     "\x4e\x52\x00\x00\x00\x08\x00\x00\x00\x00\x5a\x00\x00\x00\x05\x49\x54\x00\x00\x00\x1a\x00\x01\x61"
	     "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x44\x00\x00\x00\x0d"
	     "\x00\x01\x00\x00\x00\x03\x61\x3b\x62\x43\x00\x00\x00\x0d\x53\x45\x4c\x45\x43\x54\x20\x31\x00\x45"
	     "\x00\x00\x00\x25\x53\x45\x52\x52\x4f\x52\x00\x43\x32\x32\x30\x31\x32\x00\x4d\x64\x69\x76\x69\x73"
	     "\x69\x6f\x6e\x20\x62\x79\x20\x7a\x65\x72\x6f\x00\x00\x5a\x00\x00\x00\x05\x49\x31\x00\x00\x00\x04"
	     "\x32\x00\x00\x00\x04\x54\x00\x00\x00\x1d\x00\x01\x69\x6e\x74\x34\x00\x00\x00\x00\x00\x00\x00\x00"
	     "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x44\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x01\x37\x43"
	     "\x00\x00\x00\x0d\x53\x45\x4c\x45\x43\x54\x20\x31\x00\x5a\x00\x00\x00\x05\x49"),
};
static const uint16_t ports[] = { 80, 80, 80, 53, 53, 11211, 11211, 6379, 3306, 9090, 5432, 27017, 1234 };

#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

/* A seed for port and dir (any seed now and then, or when none fits). */
static size_t pick_seed(uint16_t port, int dir)
{
	size_t start = rnd() % NSEEDS;

	if (rnd() % 8 == 0)
		return start;
	for (size_t k = 0; k < NSEEDS; k++) {
		size_t i = (start + k) % NSEEDS;

		if (seeds[i].port == port && seeds[i].dir == dir)
			return i;
	}
	return start;
}

static size_t make_payload(uint8_t *buf, size_t cap, uint16_t port, int dir)
{
	size_t i = pick_seed(port, dir);
	size_t len = seeds[i].n;
	size_t n;

	if (rnd() % 8 == 0) { /* pure noise */
		n = rnd() % cap;
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)rnd();
		return n;
	}
	n = len < cap ? len : cap;
	memcpy(buf, seeds[i].p, n);
	for (int m = rnd() % 4; m > 0 && n; m--) {
		switch (rnd() % 4) {
		case 0:
			buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			buf[rnd() % n] = (uint8_t)rnd();
			break;
		case 2:
			n = rnd() % n;
			break;
		default: /* repeat a piece (pipelining / huge lengths) */
			if (n * 2 < cap) {
				memcpy(buf + n, buf, n);
				n *= 2;
			}
		}
	}
	return n;
}

/* IPv4 or IPv6 + TCP/UDP header in front of payload, possibly damaged. */
static size_t make_frame(uint8_t *f, const uint8_t *pl, size_t plen, int dir, uint16_t port, uint32_t seq, bool udp,
			 bool v6, uint8_t flags)
{
	size_t ip = v6 ? 40 : 20, l4 = udp ? 8 : 20, total = ip + l4 + plen;
	uint16_t sp = dir ? port : 40000 + (rnd() % 3), dp = dir ? 40000 + (rnd() % 3) : port;
	uint8_t *h = f + ip;

	memset(f, 0, ip + l4);
	if (v6) {
		f[0] = 0x60;
		f[4] = (uint8_t)((total - 40) >> 8), f[5] = (uint8_t)(total - 40);
		f[6] = udp ? IPPROTO_UDP : IPPROTO_TCP;
		f[23] = dir ? 2 : 1, f[39] = dir ? 1 : 2;
	} else {
		f[0] = 0x45;
		f[2] = (uint8_t)(total >> 8), f[3] = (uint8_t)total;
		f[9] = udp ? IPPROTO_UDP : IPPROTO_TCP;
		f[12] = 127, f[15] = dir ? 2 : 1;
		f[16] = 127, f[19] = dir ? 1 : 2;
	}
	h[0] = (uint8_t)(sp >> 8), h[1] = (uint8_t)sp;
	h[2] = (uint8_t)(dp >> 8), h[3] = (uint8_t)dp;
	if (udp) {
		h[4] = (uint8_t)((8 + plen) >> 8), h[5] = (uint8_t)(8 + plen);
	} else {
		h[4] = (uint8_t)(seq >> 24), h[5] = (uint8_t)(seq >> 16), h[6] = (uint8_t)(seq >> 8),
		h[7] = (uint8_t)seq;
		h[12] = 5 << 4;
		h[13] = flags;
	}
	if (plen)
		memcpy(f + ip + l4, pl, plen);
	if (rnd() % 16 == 0)
		f[rnd() % (ip + l4)] = (uint8_t)rnd(); /* damaged header */
	return total;
}

static const struct config *check_cfg;
/* what the default config's processors add */
static const char *const added_keys[] = { "host", NULL };

static void sink(void *ctx, const char *json, size_t len, uint64_t ts, bool plain)
{
	json_error_t err;
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	const char *why;

	if (!doc) {
		fprintf(stderr, "fuzz: event is not valid JSON (%s): %.*s\n", err.text, (int)len, json);
		abort();
	}
	if ((why = event_check(check_cfg, doc, plain, added_keys))) {
		fprintf(stderr, "fuzz: %s: %.*s\n", why, (int)len, json);
		abort();
	}
	(*(size_t *)ctx)++;
	json_decref(doc);
}

static void feed_frame(struct pipeline *pl, const uint8_t *f, size_t len, uint64_t ts)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct packet pkt;
	size_t cap = len;

	memcpy(copy, f, len);
	if (rnd() % 16 == 0 && cap)
		cap = rnd() % cap; /* snaplen cut */
	if (decode_frame(LINK_RAW, copy, (uint32_t)cap, (uint32_t)len, &pkt) == 0) {
		pkt.ts = ts;
		pkt.ifindex = 0;
		pkt.proto_hint = 0;
		pkt.server_is_dst = 0;
		pipeline_packet(pl, &pkt);
	}
	free(copy);
}

/* One conversation: payloads in both directions, cut into segments, shuffled a little. */
static void conversation(struct pipeline *pl, const uint8_t *fixed, size_t fixed_len, uint64_t *ts)
{
	static uint8_t pl_buf[8192], frame[8192 + 100];
	uint16_t port = ports[rnd() % (sizeof(ports) / sizeof(ports[0]))];
	bool udp = (port == 53 || port == 11211) ? rnd() % 2 == 0 : rnd() % 8 == 0, v6 = rnd() % 4 == 0;
	uint32_t seq[2] = { rnd(), rnd() };
	int msgs = 1 + rnd() % 6;

	if (!udp && rnd() % 2) {
		size_t n = make_frame(frame, NULL, 0, 0, port, seq[0]++, false, v6, 0x02);

		feed_frame(pl, frame, n, (*ts)++);
		n = make_frame(frame, NULL, 0, 1, port, seq[1]++, false, v6, 0x12);
		feed_frame(pl, frame, n, (*ts)++);
	}
	for (int m = 0; m < msgs; m++) {
		int dir = (m + (rnd() % 8 == 0)) & 1;
		size_t len = fixed ? fixed_len : make_payload(pl_buf, sizeof(pl_buf) / 2, port, dir);
		const uint8_t *p = fixed ? fixed : pl_buf;
		size_t off = 0;

		if (fixed && len > sizeof(pl_buf) / 2)
			len = sizeof(pl_buf) / 2;
		while (off < len || (len == 0 && off == 0)) {
			size_t seg = 1 + rnd() % (len - off + 1);
			uint32_t s = seq[dir] + (rnd() % 32 == 0 ? rnd() % 64 : 0); /* out of order / gap */
			size_t n;

			if (seg > len - off)
				seg = len - off;
			n = make_frame(frame, p + off, seg, dir, port, s, udp, v6, 0x18);
			if (rnd() % 32 != 0) /* loss */
				feed_frame(pl, frame, n, (*ts) += 1000 + rnd() % 100000);
			if (rnd() % 32 == 0) /* retransmission */
				feed_frame(pl, frame, n, (*ts)++);
			seq[dir] += (uint32_t)seg;
			off += seg;
			if (len == 0)
				break;
		}
		if (fixed)
			break;
	}
	if (!udp && rnd() % 2) {
		size_t n = make_frame(frame, NULL, 0, rnd() % 2, port, seq[0], false, v6, rnd() % 2 ? 0x11 : 0x04);

		feed_frame(pl, frame, n, (*ts)++);
	}
	if (rnd() % 64 == 0) { /* random garbage frame */
		size_t n = rnd() % 200;

		for (size_t i = 0; i < n; i++)
			frame[i] = (uint8_t)rnd();
		feed_frame(pl, frame, n, (*ts)++);
	}
}

static int replay_file(struct pipeline *pl, const char *path, uint64_t *ts)
{
	static uint8_t buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (int i = 0; i < 32; i++)
		conversation(pl, buf, n, ts);
	return 0;
}

int main(int argc, char **argv)
{
	long iters = 20000, seconds = 0;
	uint64_t seed = (uint64_t)time(NULL);
	uint64_t ts = 1700000000ull * 1000000000ull;
	struct cfg_err err;
	struct stats st = { 0 };
	struct config *cfg;
	struct pipeline *pl;
	size_t events = 0;
	time_t start = time(NULL);
	int c;

	while ((c = getopt(argc, argv, "n:t:s:")) != -1) {
		if (c == 'n')
			iters = atol(optarg);
		else if (c == 't')
			seconds = atol(optarg);
		else if (c == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	rng_state = seed ? seed : 1;
	cfg = config_load(NULL, NULL, 0, &err);
	if (!cfg) {
		fprintf(stderr, "fuzz: config: %s\n", err.msg);
		return 1;
	}
	cfg->tcp.max_stream_bytes = 16384; /* reach the caps often */
	cfg->tcp.max_ooo_segments = 4;
	check_cfg = cfg;
	pl = pipeline_new(cfg, &st, sink, &events);
	for (int i = optind; i < argc; i++)
		if (replay_file(pl, argv[i], &ts))
			fprintf(stderr, "fuzz: %s: %s\n", argv[i], strerror(errno));
	for (long i = 0; i < iters || (seconds && time(NULL) - start < seconds); i++) {
		conversation(pl, NULL, 0, &ts);
		if (i % 1000 == 999)
			pipeline_tick(pl, ts += 20000000000ull);
		if (seconds && time(NULL) - start >= seconds && i >= iters)
			break;
	}
	pipeline_flush(pl);
	pipeline_free(pl);
	printf("fuzz: seed %llu, %llu packets, %zu events, %llu parse errors dropped\n", (unsigned long long)seed,
	       (unsigned long long)st.v[STAT_PACKETS], events, (unsigned long long)st.v[STAT_DROP_PARSE]);
	config_free(cfg);
	return 0;
}
