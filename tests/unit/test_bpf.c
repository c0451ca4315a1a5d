/*
 * Kernel programs through BPF_PROG_TEST_RUN: crafted frames go into the XDP
 * and TC programs, the records they put in the ring buffer are read back
 * and compared field by field. Needs root (skipped otherwise).
 *
 * Limits of BPF_PROG_TEST_RUN (kernel 6.x): an skb test packet must fit in
 * one page (~3.7 KB), so the 64 KiB chunking is tested through XDP, whose
 * test run builds a multi-buffer packet (frags) for xdp.frags programs.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "capture/capture_int.h"
#include "config.h"
#include "flowhash.h"
#include "packet.h"
#include "record.h"
#include "xdpbeat.skel.h"

#define HDR_SZ sizeof(struct xb_record)
#define SMALL_ROOM 512
#define MAX_RECS 64
#define XDP_PASS_ 2
#define TC_ACT_UNSPEC_ 0xffffffffu /* -1: next filter / TCX_NEXT */

struct rec_copy {
	struct xb_record *r;
	size_t size;
	unsigned ring; /* the ring buffer it came from */
};

static struct {
	struct xdpbeat_bpf *skel;
	struct ring_buffer *rb;
	struct rec_copy recs[MAX_RECS];
	size_t n;
} fx;

static int collect(void *ctx, void *data, size_t size)
{
	if (fx.n < MAX_RECS) {
		fx.recs[fx.n].r = malloc(size);
		cr_assert_not_null(fx.recs[fx.n].r);
		memcpy(fx.recs[fx.n].r, data, size);
		fx.recs[fx.n].size = size;
		fx.recs[fx.n].ring = (unsigned)(uintptr_t)ctx;
	}
	fx.n++;
	return 0;
}

static void clear_recs(void)
{
	for (size_t i = 0; i < fx.n && i < MAX_RECS; i++)
		free(fx.recs[i].r);
	fx.n = 0;
}

static void set_port(const char *map, uint32_t port, uint16_t proto)
{
	struct bpf_map *m = strcmp(map, "tcp") ? fx.skel->maps.udp_ports : fx.skel->maps.tcp_ports;

	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(m), &port, &proto, BPF_ANY), 0);
}

/* Load the programs with this snaplen and nrings ring buffers; watch tcp/80 (http), udp/53 (dns), tcp/6379 (redis). */
static void load_rings(uint32_t snaplen, unsigned nrings)
{
	int fds[XB_MAX_RINGS];

	if (geteuid() != 0)
		cr_skip_test("BPF_PROG_TEST_RUN needs root");
	fx.skel = xdpbeat_bpf__open();
	cr_assert_not_null(fx.skel);
	fx.skel->rodata->snaplen = snaplen;
	cr_assert_eq(capture_rings_create(fx.skel, nrings, 4 << 20, fds), 0);
	cr_assert_eq(xdpbeat_bpf__load(fx.skel), 0, "load failed");
	cr_assert_eq(capture_rings_fill(fx.skel, nrings, fds), 0);
	fx.rb = ring_buffer__new(fds[0], collect, NULL, NULL);
	cr_assert_not_null(fx.rb);
	for (unsigned i = 1; i < nrings; i++)
		cr_assert_eq(ring_buffer__add(fx.rb, fds[i], collect, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < nrings; i++)
		close(fds[i]);
	set_port("tcp", 80, PROTO_HTTP);
	set_port("udp", 53, PROTO_DNS);
	set_port("tcp", 6379, PROTO_REDIS);
}

static void load(uint32_t snaplen)
{
	load_rings(snaplen, 1);
}

static void unload(void)
{
	clear_recs();
	ring_buffer__free(fx.rb);
	xdpbeat_bpf__destroy(fx.skel);
	memset(&fx, 0, sizeof(fx));
}

static void fini(void)
{
	unload();
}

TestSuite(bpf, .fini = fini);

/* ---- frame builder ---- */

struct frame {
	int family; /* 4 or 6 */
	int vlans; /* 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	int ip_opts; /* IPv4 option bytes (multiple of 4) */
	int v6_ext; /* IPv6: hop-by-hop + destination options headers (0..2) */
	bool v6_frag; /* IPv6 fragment header */
	bool v6_ah; /* IPv6 authentication header (12 bytes of ICV: 24 in all) */
	uint16_t frag_off; /* fragment offset in 8-byte units */
	bool more_frags;
	uint8_t l4; /* IPPROTO_TCP / IPPROTO_UDP */
	int tcp_opts; /* TCP option bytes (multiple of 4) */
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	const uint8_t *payload;
	uint32_t len;
	uint32_t pad_to; /* Ethernet padding up to this frame size */
	bool reverse; /* swap the source and destination addresses */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static const uint8_t v4_src[4] = { 10, 0, 0, 1 }, v4_dst[4] = { 10, 0, 0, 2 };
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static size_t put_l4(uint8_t *p, const struct frame *f)
{
	size_t hl;

	if (f->l4 == IPPROTO_UDP) {
		put16(p, f->sport);
		put16(p + 2, f->dport);
		put16(p + 4, 8 + f->len);
		put16(p + 6, 0);
		return 8;
	}
	hl = 20 + f->tcp_opts;
	memset(p, 0, hl);
	put16(p, f->sport);
	put16(p + 2, f->dport);
	put32(p + 4, f->seq);
	put32(p + 8, f->ack);
	p[12] = (uint8_t)(hl / 4) << 4;
	p[13] = f->flags;
	put16(p + 14, 65535);
	memset(p + 20, 1, f->tcp_opts); /* NOPs */
	return hl;
}

static size_t l4_len(const struct frame *f)
{
	return f->l4 == IPPROTO_UDP ? 8 : 20 + (size_t)f->tcp_opts;
}

static size_t put_ipv4(uint8_t *p, const struct frame *f)
{
	size_t hl = 20 + f->ip_opts;

	memset(p, 0, hl);
	p[0] = 0x40 | (uint8_t)(hl / 4);
	put16(p + 2, (uint16_t)(hl + l4_len(f) + f->len));
	put16(p + 6, (uint16_t)((f->more_frags ? 0x2000 : 0) | f->frag_off));
	p[8] = 64;
	p[9] = f->l4;
	memcpy(p + (f->reverse ? 16 : 12), v4_src, 4);
	memcpy(p + (f->reverse ? 12 : 16), v4_dst, 4);
	memset(p + 20, 1, f->ip_opts); /* NOPs */
	return hl;
}

static size_t put_ipv6(uint8_t *p, const struct frame *f)
{
	size_t ext = 0;
	uint8_t *nh = p + 6;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	memcpy(p + (f->reverse ? 24 : 8), v6_src, 16);
	memcpy(p + (f->reverse ? 8 : 24), v6_dst, 16);
	for (int i = 0; i < f->v6_ext; i++) {
		uint8_t *h = p + 40 + ext;
		size_t len = i == 0 ? 8 : 16; /* hop-by-hop 8 bytes, dest opts 16 */

		*nh = i == 0 ? 0 : 60;
		memset(h, 0, len);
		h[1] = (uint8_t)(len / 8 - 1);
		h[2] = 1; /* PadN */
		h[3] = (uint8_t)(len - 4);
		nh = h;
		ext += len;
	}
	if (f->v6_ah) {
		uint8_t *h = p + 40 + ext;

		*nh = 51;
		memset(h, 0, 24);
		h[1] = 24 / 4 - 2; /* AH length: 4-byte units minus 2 */
		put32(h + 4, 0x100); /* SPI */
		put32(h + 8, 7); /* sequence */
		nh = h;
		ext += 24;
	}
	if (f->v6_frag) {
		uint8_t *h = p + 40 + ext;

		*nh = 44;
		memset(h, 0, 8);
		put16(h + 2, (uint16_t)(f->frag_off << 3 | (f->more_frags ? 1 : 0)));
		put32(h + 4, 0x1234);
		nh = h;
		ext += 8;
	}
	*nh = f->l4;
	put16(p + 4, (uint16_t)(ext + l4_len(f) + f->len));
	return 40 + ext;
}

/* Build the frame into buf (cap bytes); returns its length and the payload offset. */
static size_t build(uint8_t *buf, size_t cap, const struct frame *f, size_t *payload_off)
{
	size_t off = 12;

	cr_assert(cap > 200 + f->len);
	memset(buf, 0, 12);
	buf[0] = 0x02;
	buf[6] = 0x02;
	buf[11] = 1;
	if (f->vlans == 2) {
		put16(buf + off, 0x88A8);
		put16(buf + off + 2, 100);
		off += 4;
	}
	if (f->vlans >= 1) {
		put16(buf + off, 0x8100);
		put16(buf + off + 2, 200);
		off += 4;
	}
	put16(buf + off, f->family == 6 ? 0x86DD : 0x0800);
	off += 2;
	off += f->family == 6 ? put_ipv6(buf + off, f) : put_ipv4(buf + off, f);
	off += put_l4(buf + off, f);
	*payload_off = off;
	if (f->len)
		memcpy(buf + off, f->payload, f->len);
	off += f->len;
	while (off < f->pad_to)
		buf[off++] = 0;
	return off;
}

static const uint8_t http_req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
#define HTTP_LEN ((uint32_t)sizeof(http_req) - 1)

static struct frame tcp4(uint16_t sport, uint16_t dport)
{
	return (struct frame){ .family = 4,
			       .l4 = IPPROTO_TCP,
			       .sport = sport,
			       .dport = dport,
			       .flags = XB_TCP_PSH | XB_TCP_ACK,
			       .seq = 1000,
			       .ack = 2000,
			       .payload = http_req,
			       .len = HTTP_LEN };
}

/* ---- running ---- */

static int run_prog(struct bpf_program *prog, const uint8_t *data, size_t len, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len, .repeat = 1);
	int ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	*retval = o.retval;
	return ret;
}

enum hook_sel { XDP, TC };

/* Run the frame through one hook and collect the records. */
static size_t run(enum hook_sel h, const uint8_t *data, size_t len)
{
	uint32_t retval = 99;
	int ret;

	clear_recs();
	if (h == XDP) {
		ret = run_prog(fx.skel->progs.xdpbeat_xdp, data, len, &retval);
		cr_assert_eq(ret, 0, "xdp test run: %d (%zu bytes)", ret, len);
		cr_assert_eq(retval, XDP_PASS_);
	} else {
		ret = run_prog(fx.skel->progs.xdpbeat_tc, data, len, &retval);
		cr_assert_eq(ret, 0, "tc test run: %d (%zu bytes)", ret, len);
		cr_assert_eq(retval, TC_ACT_UNSPEC_);
	}
	ring_buffer__consume(fx.rb);
	return fx.n;
}

static size_t run_frame(enum hook_sel h, const struct frame *f)
{
	static uint8_t buf[70000];
	size_t poff;
	size_t len = build(buf, sizeof(buf), f, &poff);

	return run(h, buf, len);
}

static uint64_t kstat(enum xb_stat id)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu], sum = 0;
	uint32_t k = id;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(fx.skel->maps.stats), &k, vals), 0);
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* Record i is the whole payload of f (one record), with these header facts. */
static void expect_single(const struct frame *f, enum hook_sel h, uint16_t proto, uint8_t match)
{
	const struct xb_record *r;

	cr_assert_eq(fx.n, 1, "records: %zu", fx.n);
	r = fx.recs[0].r;
	cr_assert_eq(r->hook, h == XDP ? XB_HOOK_XDP : XB_HOOK_TC);
	cr_assert_eq(r->family, f->family);
	cr_assert_eq(r->l4proto, f->l4);
	if (f->family == 4) {
		cr_assert_arr_eq(r->saddr, v4_src, 4);
		cr_assert_arr_eq(r->daddr, v4_dst, 4);
		for (int i = 4; i < 16; i++)
			cr_assert_eq(r->saddr[i] | r->daddr[i], 0);
	} else {
		cr_assert_arr_eq(r->saddr, v6_src, 16);
		cr_assert_arr_eq(r->daddr, v6_dst, 16);
	}
	cr_assert_eq(r->sport, f->sport);
	cr_assert_eq(r->dport, f->dport);
	if (f->l4 == IPPROTO_TCP) {
		cr_assert_eq(r->seq, f->seq);
		cr_assert_eq(r->ack, f->ack);
		cr_assert_eq(r->tcp_flags, f->flags);
	}
	cr_assert_eq(r->proto_id, proto);
	cr_assert_eq(r->match, match);
	cr_assert_eq(r->flags, 0);
	cr_assert_eq(r->wire_len, f->len);
	cr_assert_eq(r->offset, 0);
	cr_assert_eq(r->cap_len, f->len);
	cr_assert_geq(fx.recs[0].size, HDR_SZ + f->len);
	if (f->len)
		cr_assert_arr_eq(r->data, f->payload, f->len);
	cr_assert_neq(r->ts_ns, 0);
}

/* ---- matching ---- */

Test(bpf, xdp_dst_port_match)
{
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	cr_assert_eq(fx.recs[0].size, HDR_SZ + SMALL_ROOM, "small record class");
	cr_assert_eq(kstat(XB_STAT_SEEN), 1);
	cr_assert_eq(kstat(XB_STAT_MATCHED), 1);
	cr_assert_eq(kstat(XB_STAT_SENT), 1);
}

/* Flow hash of the one record the frame gave through hook h; also checks the pcap side agrees. */
static uint32_t frame_flow_hash(enum hook_sel h, const struct frame *f)
{
	static uint8_t buf[4096];
	struct packet p;
	size_t poff;
	size_t len = build(buf, sizeof(buf), f, &poff);
	uint32_t hash;

	cr_assert_eq(run(h, buf, len), 1);
	hash = fx.recs[0].r->flow_hash;
	cr_assert_eq(decode_frame(LINK_ETHERNET, buf, (uint32_t)len, (uint32_t)len, &p), 0);
	cr_assert_eq(packet_flow_hash(&p), hash, "pcap reader and kernel hash a packet alike");
	return hash;
}

Test(bpf, flow_hash_same_both_directions)
{
	load(XB_PAYLOAD_MAX);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct frame req = tcp4(40000, 80), resp = tcp4(80, 40000), other = tcp4(40001, 80);
		struct frame udp_q = tcp4(5353, 53), udp_r = tcp4(53, 5353);
		uint32_t hreq, hresp;

		req.family = resp.family = other.family = udp_q.family = udp_r.family = fam;
		resp.reverse = udp_r.reverse = true;
		udp_q.l4 = udp_r.l4 = IPPROTO_UDP;
		for (enum hook_sel h = XDP; h <= TC; h++) {
			hreq = frame_flow_hash(h, &req);
			hresp = frame_flow_hash(h == XDP ? TC : XDP, &resp);
			cr_assert_eq(hreq, hresp, "IPv%d: request and response hash alike", fam);
			cr_assert_neq(frame_flow_hash(h, &other), hreq, "IPv%d: another client port, another flow",
				      fam);
			cr_assert_eq(frame_flow_hash(h, &udp_q), frame_flow_hash(h, &udp_r), "IPv%d UDP", fam);
			cr_assert_neq(frame_flow_hash(h, &udp_q), hreq);
		}
	}
}

/* With several rings, every record of a flow (both directions, both hooks) lands in ring flow_hash % n. */
Test(bpf, flow_records_reach_one_ring)
{
	static uint8_t buf[4096];
	unsigned seen[4] = { 0 };

	load_rings(XB_PAYLOAD_MAX, 4);
	for (uint16_t port = 40000; port < 40064; port++) {
		struct frame req = tcp4(port, 80), resp = tcp4(80, port);
		unsigned ring;
		size_t poff;

		resp.reverse = true;
		cr_assert_eq(run(XDP, buf, build(buf, sizeof(buf), &req, &poff)), 1);
		ring = fx.recs[0].ring;
		cr_assert_eq(ring, fx.recs[0].r->flow_hash % 4);
		cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &resp, &poff)), 1);
		cr_assert_eq(fx.recs[0].ring, ring, "port %u: the response is in the request's ring", port);
		seen[ring]++;
	}
	for (unsigned i = 0; i < 4; i++)
		cr_assert_gt(seen[i], 0, "64 flows reach every one of 4 rings (ring %u got none)", i);
}

/* Heads-only: a segment wholly before a direction's skip end goes without payload; the one past it, whole. */
Test(bpf, skip_map_leaves_out_segments_inside_a_body)
{
	static uint8_t buf[4096];
	struct frame f = tcp4(80, 40000);
	struct xb_skip_key k = { 0 };
	const struct xb_record *r;
	uint32_t end;
	size_t poff;
	int fd;

	load(XB_PAYLOAD_MAX);
	fd = bpf_map__fd(fx.skel->maps.skips);
	cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &f, &poff)), 1);
	r = fx.recs[0].r;
	k.family = r->family;
	k.sport = r->sport;
	k.dport = r->dport;
	memcpy(k.saddr, r->saddr, 16);
	memcpy(k.daddr, r->daddr, 16);
	end = f.seq + f.len + f.len / 2;
	/* An entry written behind the programs' back is not looked up: no skip was asked through capture. */
	cr_assert_eq(bpf_map_update_elem(fd, &k, &end, BPF_ANY), 0);
	cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &f, &poff)), 1);
	cr_assert_eq(fx.recs[0].r->cap_len, f.len, "not armed: sent whole");
	cr_assert_eq(capture_skel_skip(fx.skel, &k, end), 0);

	cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &f, &poff)), 1);
	r = fx.recs[0].r;
	cr_assert(r->flags & XB_F_SKIPPED);
	cr_assert_eq(r->cap_len, 0);
	cr_assert_eq(r->wire_len, f.len);
	cr_assert_eq(fx.recs[0].size, HDR_SZ, "no payload room reserved");

	f.seq += f.len; /* ends past the skip: sent whole, and the skip is over */
	cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &f, &poff)), 1);
	r = fx.recs[0].r;
	cr_assert_eq(r->flags & XB_F_SKIPPED, 0);
	cr_assert_eq(r->cap_len, f.len);
	cr_assert_neq(bpf_map_lookup_elem(fd, &k, &end), 0, "entry deleted");
	f.seq = 1000; /* a retransmission from before the skip now goes whole too */
	cr_assert_eq(run(TC, buf, build(buf, sizeof(buf), &f, &poff)), 1);
	cr_assert_eq(fx.recs[0].r->cap_len, f.len);
}

Test(bpf, tc_src_port_match)
{
	struct frame f = tcp4(80, 40000);

	load(XB_PAYLOAD_MAX);
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_SRC);
}

Test(bpf, both_ports_watched_prefers_dst)
{
	struct frame f = tcp4(6379, 80);

	load(XB_PAYLOAD_MAX);
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	f = tcp4(80, 6379);
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_REDIS, XB_MATCH_DST);
}

Test(bpf, non_matching_sends_nothing)
{
	struct frame f = tcp4(40000, 81);

	load(XB_PAYLOAD_MAX);
	cr_assert_eq(run_frame(XDP, &f), 0);
	cr_assert_eq(run_frame(TC, &f), 0);
	f.l4 = IPPROTO_UDP;
	f.dport = 80; /* watched for TCP only */
	cr_assert_eq(run_frame(XDP, &f), 0);
	cr_assert_eq(kstat(XB_STAT_SEEN), 3);
	cr_assert_eq(kstat(XB_STAT_MATCHED), 0);
	cr_assert_eq(kstat(XB_STAT_SENT), 0);
}

Test(bpf, udp_match)
{
	static const uint8_t q[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	struct frame f = { .family = 4, .l4 = IPPROTO_UDP, .sport = 5353, .dport = 53, .payload = q, .len = sizeof(q) };

	load(XB_PAYLOAD_MAX);
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_DNS, XB_MATCH_DST);
	cr_assert_eq(fx.recs[0].r->seq, 0);
	cr_assert_eq(fx.recs[0].r->tcp_flags, 0);
}

Test(bpf, udp_length_mismatch_uses_the_shorter)
{
	static uint8_t buf[256];
	static const uint8_t q[] = "0123456789abcdefghij";
	struct frame f = { .family = 4,
			   .l4 = IPPROTO_UDP,
			   .sport = 5353,
			   .dport = 53,
			   .payload = q,
			   .len = 20,
			   .pad_to = 120 /* trailer bytes after the datagram */ };
	size_t poff, len;

	load(XB_PAYLOAD_MAX);
	len = build(buf, sizeof(buf), &f, &poff);
	put16(buf + poff - 4, 8 + 12); /* UDP says 12 bytes of payload, IP 20 */
	cr_assert_eq(run(XDP, buf, len), 1);
	cr_assert_eq(fx.recs[0].r->wire_len, 12);
	put16(buf + poff - 4, 8 + 200); /* UDP says more than IP carries */
	cr_assert_eq(run(TC, buf, len), 1);
	cr_assert_eq(fx.recs[0].r->wire_len, 20);
}

/* ---- headers ---- */

Test(bpf, ipv6)
{
	struct frame f = tcp4(40000, 80);

	f.family = 6;
	load(XB_PAYLOAD_MAX);
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
}

Test(bpf, ipv6_extension_headers)
{
	struct frame f = tcp4(40000, 80);

	f.family = 6;
	f.v6_ext = 2;
	load(XB_PAYLOAD_MAX);
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	/* + a first fragment (offset 0, more fragments) */
	f.v6_frag = true;
	f.more_frags = true;
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
	/* + an authentication header (IPsec AH, length counted in 4-byte units) */
	f.v6_ah = true;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
}

Test(bpf, ipv6_non_first_fragment)
{
	struct frame f = tcp4(40000, 80);

	f.family = 6;
	f.v6_frag = true;
	f.frag_off = 185;
	load(XB_PAYLOAD_MAX);
	cr_assert_eq(run_frame(XDP, &f), 0);
	cr_assert_eq(kstat(XB_STAT_MATCHED), 0);
}

Test(bpf, vlan_and_qinq)
{
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.vlans = 1;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	f.vlans = 2;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	f.family = 6;
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
}

Test(bpf, ipv4_and_tcp_options)
{
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.ip_opts = 12;
	f.tcp_opts = 12;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
	f.ip_opts = 40; /* IHL 15 */
	f.tcp_opts = 40; /* doff 15 */
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
}

Test(bpf, ipv4_fragments)
{
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.frag_off = 100;
	cr_assert_eq(run_frame(XDP, &f), 0, "non-first fragment");
	f.more_frags = true;
	cr_assert_eq(run_frame(TC, &f), 0, "non-first fragment");
	f.frag_off = 0;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
}

/* The skb test run refuses frames too short for the IP header their ethertype announces (-EINVAL). */
static bool tc_accepts(const uint8_t *buf, size_t len)
{
	uint32_t retval;
	int ret = run_prog(fx.skel->progs.xdpbeat_tc, buf, len, &retval);

	ring_buffer__consume(fx.rb);
	clear_recs();
	return ret == 0;
}

Test(bpf, truncated_headers_send_nothing)
{
	static uint8_t buf[512];
	struct frame frames[4] = { tcp4(40000, 80), tcp4(40000, 80), tcp4(40000, 80), tcp4(40000, 80) };
	size_t poff, len;

	frames[1].family = 6;
	frames[1].v6_ext = 2;
	frames[2].vlans = 2;
	frames[2].ip_opts = 8;
	frames[3].l4 = IPPROTO_UDP;
	frames[3].dport = 53;
	load(XB_PAYLOAD_MAX);
	for (int i = 0; i < 4; i++) {
		len = build(buf, sizeof(buf), &frames[i], &poff);
		cr_assert_gt(len, poff);
		/* Every cut inside the headers (the test run needs an Ethernet header). */
		for (size_t cut = 14; cut < poff; cut++) {
			cr_assert_eq(run(XDP, buf, cut), 0, "frame %d cut at %zu", i, cut);
			if (tc_accepts(buf, cut))
				cr_assert_eq(run(TC, buf, cut), 0, "frame %d cut at %zu", i, cut);
		}
	}
	cr_assert_eq(kstat(XB_STAT_MATCHED), 0);
}

Test(bpf, malformed_headers_send_nothing)
{
	static uint8_t buf[512];
	struct frame f = tcp4(40000, 80);
	size_t poff, len;
	size_t ip = 14, tcp = 34;

	load(XB_PAYLOAD_MAX);
	len = build(buf, sizeof(buf), &f, &poff);
	buf[ip] = 0x44; /* IHL 4 < 5 */
	cr_assert_eq(run(XDP, buf, len), 0);
	buf[ip] = 0x45;
	buf[tcp + 12] = 0x40; /* doff 4 < 5 */
	cr_assert_eq(run(XDP, buf, len), 0);
	buf[tcp + 12] = 0xf0; /* doff 15: a 60-byte header, cut after 40 */
	cr_assert_eq(run(TC, buf, tcp + 40), 0);
	buf[tcp + 12] = 0x50;
	put16(buf + ip + 2, 10); /* tot_len shorter than the IP header */
	cr_assert_eq(run(XDP, buf, len), 0);
	buf[ip] = 0x65; /* version 6 in an IPv4 ethertype */
	put16(buf + ip + 2, (uint16_t)(len - ip));
	cr_assert_eq(run(XDP, buf, len), 0);
}

/* ---- TCP flags ---- */

Test(bpf, syn_fin_rst_without_payload)
{
	static const uint8_t flags[] = { XB_TCP_SYN, XB_TCP_SYN | XB_TCP_ACK, XB_TCP_FIN | XB_TCP_ACK, XB_TCP_RST };
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.len = 0;
	f.payload = NULL;
	for (size_t i = 0; i < sizeof(flags); i++) {
		f.flags = flags[i];
		run_frame(i % 2 ? TC : XDP, &f);
		expect_single(&f, i % 2 ? TC : XDP, PROTO_HTTP, XB_MATCH_DST);
		cr_assert_eq(fx.recs[0].size, HDR_SZ, "header-only record");
	}
}

Test(bpf, pure_ack_sends_nothing)
{
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.len = 0;
	f.flags = XB_TCP_ACK;
	cr_assert_eq(run_frame(XDP, &f), 0);
	f.pad_to = 60; /* Ethernet padding is not payload */
	cr_assert_eq(run_frame(XDP, &f), 0);
	cr_assert_eq(run_frame(TC, &f), 0);
	cr_assert_eq(kstat(XB_STAT_MATCHED), 3);
	cr_assert_eq(kstat(XB_STAT_SENT), 0);
}

Test(bpf, padding_not_payload)
{
	static const uint8_t one[] = "x";
	struct frame f = tcp4(40000, 80);

	load(XB_PAYLOAD_MAX);
	f.payload = one;
	f.len = 1;
	f.pad_to = 60;
	run_frame(XDP, &f);
	expect_single(&f, XDP, PROTO_HTTP, XB_MATCH_DST);
}

/* ---- payload size, chunks, snaplen ---- */

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	return p;
}

/* Records are consecutive chunks of f's payload covering [0, sent); the last flagged if sent < wire. */
static void expect_chunks(const struct frame *f, uint32_t sent)
{
	uint32_t off = 0;

	cr_assert_eq(fx.n, sent ? (sent + XB_CHUNK_MAX - 1) / XB_CHUNK_MAX : 1, "records: %zu", fx.n);
	for (size_t i = 0; i < fx.n; i++) {
		const struct xb_record *r = fx.recs[i].r;
		uint32_t want = sent - off < XB_CHUNK_MAX ? sent - off : XB_CHUNK_MAX;
		bool last = i + 1 == fx.n;

		cr_assert_eq(r->offset, off, "chunk %zu offset %u", i, r->offset);
		cr_assert_eq(r->cap_len, want, "chunk %zu cap_len %u", i, r->cap_len);
		cr_assert_eq(r->wire_len, f->len);
		cr_assert_eq(r->seq, f->seq);
		cr_assert_eq(r->flags, last && sent < f->len ? XB_F_TRUNCATED : 0, "chunk %zu flags", i);
		cr_assert_arr_eq(r->data, f->payload + off, want, "chunk %zu data", i);
		cr_assert_geq(fx.recs[i].size, HDR_SZ + want);
		off += want;
	}
	cr_assert_eq(off, sent);
}

Test(bpf, xdp_64k_payload_in_chunks)
{
	struct frame f = tcp4(40000, 80);
	uint8_t *p = pattern(65495);

	load(XB_PAYLOAD_MAX);
	f.payload = p;
	f.len = 65495; /* the largest IPv4 TCP payload: 16 chunks */
	run_frame(XDP, &f);
	expect_chunks(&f, f.len);
	cr_assert_eq(fx.n, 16);
	cr_assert_eq(kstat(XB_STAT_SENT), 16);
	cr_assert_eq(kstat(XB_STAT_TRUNC_BYTES), 0);
	free(p);
}

Test(bpf, xdp_multi_buffer_ipv6)
{
	struct frame f = tcp4(40000, 80);
	uint8_t *p = pattern(20000);

	load(XB_PAYLOAD_MAX);
	f.family = 6;
	f.v6_ext = 1;
	f.payload = p;
	f.len = 20000;
	run_frame(XDP, &f);
	expect_chunks(&f, f.len);
	free(p);
}

Test(bpf, tc_largest_skb)
{
	struct frame f = tcp4(80, 40000);
	uint8_t *p = pattern(3000);

	load(XB_PAYLOAD_MAX);
	f.payload = p;
	f.len = 3000; /* an skb test packet must fit in one page */
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_SRC);
	cr_assert_eq(fx.recs[0].size, HDR_SZ + XB_CHUNK_MAX, "big record class");
	free(p);
}

/* The last record of a packet is sized to its payload: 512, 1024, 2048 or XB_CHUNK_MAX bytes of room. */
Test(bpf, record_room_classes)
{
	static const struct {
		uint32_t len, room;
	} cases[] = { { 1, 512 },     { 512, 512 },   { 513, 1024 },  { 1024, 1024 }, { 1025, 2048 },
		      { 1460, 2048 }, { 2048, 2048 }, { 2049, 4096 }, { 3000, 4096 } };

	load(XB_PAYLOAD_MAX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int h = 0; h < 2; h++) {
			struct frame f = tcp4(80, 40000);
			uint8_t *p = pattern(cases[i].len);

			f.payload = p;
			f.len = cases[i].len;
			run_frame(h ? TC : XDP, &f);
			expect_single(&f, h ? TC : XDP, PROTO_HTTP, XB_MATCH_SRC);
			cr_assert_eq(fx.recs[0].size, HDR_SZ + cases[i].room, "%u payload bytes: room %u", cases[i].len,
				     cases[i].room);
			free(p);
		}
	}
}

Test(bpf, snaplen_truncates)
{
	struct frame f = tcp4(40000, 80);
	uint8_t *p = pattern(10000);

	load(100);
	f.payload = p;
	f.len = 1000;
	run_frame(XDP, &f);
	expect_chunks(&f, 100);
	cr_assert_eq(fx.recs[0].r->flags, XB_F_TRUNCATED);
	cr_assert_eq(kstat(XB_STAT_TRUNC_BYTES), 900);
	f.len = 60; /* under snaplen: whole */
	run_frame(TC, &f);
	expect_single(&f, TC, PROTO_HTTP, XB_MATCH_DST);
	unload();

	load(5000);
	f.len = 10000;
	run_frame(XDP, &f);
	expect_chunks(&f, 5000);
	cr_assert_eq(fx.n, 2);
	cr_assert_eq(kstat(XB_STAT_TRUNC_BYTES), 5000);
	free(p);
}

Test(bpf, snaplen_zero_sends_header_with_gap)
{
	struct frame f = tcp4(40000, 80);

	load(0);
	run_frame(XDP, &f);
	cr_assert_eq(fx.n, 1);
	cr_assert_eq(fx.recs[0].r->cap_len, 0);
	cr_assert_eq(fx.recs[0].r->wire_len, HTTP_LEN);
	cr_assert_eq(fx.recs[0].r->flags, XB_F_TRUNCATED);
}

Test(bpf, ring_full_counted)
{
	struct frame f = tcp4(40000, 80);
	uint8_t *p = pattern(65495);
	uint64_t sent;
	int i;

	load(XB_PAYLOAD_MAX);
	f.payload = p;
	f.len = 65495;
	/* 4 MiB ring, ~67 KiB per packet: fills up without a consumer. */
	for (i = 0; i < 80; i++) {
		uint32_t retval;
		static uint8_t buf[70000];
		size_t poff, len = build(buf, sizeof(buf), &f, &poff);

		cr_assert_eq(run_prog(fx.skel->progs.xdpbeat_xdp, buf, len, &retval), 0);
		cr_assert_eq(retval, XDP_PASS_);
	}
	sent = kstat(XB_STAT_SENT);
	cr_assert_gt(kstat(XB_STAT_RB_FULL), 0);
	cr_assert_lt(sent, 80 * 16);
	ring_buffer__consume(fx.rb);
	cr_assert_eq(fx.n, sent);
	free(p);
}

/* ---- hostile input ---- */

static uint32_t rnd_state = 0x2545F491;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A valid frame with random bytes flipped in its headers, cut at a random length. */
static size_t mutated_frame(uint8_t *buf, size_t cap)
{
	struct frame f = tcp4(rnd() % 2 ? 80 : 40000, rnd() % 2 ? 80 : 40001);
	size_t poff, len, cut;

	f.family = rnd() % 2 ? 4 : 6;
	f.l4 = rnd() % 4 ? IPPROTO_TCP : IPPROTO_UDP;
	f.vlans = rnd() % 3;
	f.ip_opts = f.family == 4 ? 4 * (rnd() % 11) : 0;
	f.v6_ext = f.family == 6 ? rnd() % 3 : 0;
	f.v6_frag = f.family == 6 && rnd() % 4 == 0;
	f.tcp_opts = 4 * (rnd() % 11);
	f.flags = (uint8_t)rnd();
	len = build(buf, cap, &f, &poff);
	for (int i = rnd() % 6; i > 0; i--)
		buf[12 + rnd() % (poff - 12)] = (uint8_t)rnd();
	cut = 14 + rnd() % (len - 13);
	return cut;
}

Test(bpf, mutated_frames_are_harmless)
{
	static uint8_t buf[1024];
	size_t records = 0;

	load(XB_PAYLOAD_MAX);
	for (int i = 0; i < 3000; i++) {
		size_t len = mutated_frame(buf, sizeof(buf));
		uint32_t retval = 99;

		cr_assert_eq(run_prog(fx.skel->progs.xdpbeat_xdp, buf, len, &retval), 0);
		cr_assert_eq(retval, XDP_PASS_);
		if (run_prog(fx.skel->progs.xdpbeat_tc, buf, len, &retval) == 0)
			cr_assert_eq(retval, TC_ACT_UNSPEC_);
		clear_recs();
		ring_buffer__consume(fx.rb);
		for (size_t j = 0; j < fx.n; j++) {
			const struct xb_record *r = fx.recs[j].r;

			cr_assert(r->family == 4 || r->family == 6);
			cr_assert(r->l4proto == IPPROTO_TCP || r->l4proto == IPPROTO_UDP);
			cr_assert(r->sport == 80 || r->dport == 80 || r->dport == 53 || r->sport == 53 ||
				  r->sport == 6379 || r->dport == 6379);
			cr_assert_leq(r->wire_len, len);
			cr_assert_leq(r->cap_len, r->wire_len);
			/* The payload is bytes of the frame. */
			if (r->cap_len)
				cr_assert_not_null(memmem(buf, len, r->data, r->cap_len), "frame %d", i);
		}
		records += fx.n;
	}
	cr_assert_gt(records, 100, "some mutated frames still match (%zu)", records);
}

/* ---- records -> struct packet (no root needed) ---- */

static struct xb_record *mkrec(uint32_t offset, uint32_t cap, uint32_t wire, uint8_t tcpf, uint8_t flags)
{
	struct xb_record *r = calloc(1, HDR_SZ + cap);

	r->ts_ns = 1000;
	r->ifindex = 7;
	r->family = 4;
	r->l4proto = IPPROTO_TCP;
	r->tcp_flags = tcpf;
	memcpy(r->saddr, v4_src, 4);
	memcpy(r->daddr, v4_dst, 4);
	r->sport = 80;
	r->dport = 40000;
	r->seq = 5000;
	r->ack = 6000;
	r->proto_id = PROTO_HTTP;
	r->match = XB_MATCH_SRC;
	r->flags = flags;
	r->wire_len = wire;
	r->offset = offset;
	r->cap_len = cap;
	return r;
}

Test(bpf, record_to_packet_single)
{
	struct xb_record *r = mkrec(0, 10, 10, XB_TCP_PSH | XB_TCP_ACK | XB_TCP_FIN, 0);
	struct packet p;

	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 10, 500, &p), 0);
	cr_assert_eq(p.ts, 1500);
	cr_assert_eq(p.ifindex, 7);
	cr_assert_eq(p.src.family, 4);
	cr_assert_arr_eq(p.src.a, v4_src, 4);
	cr_assert_arr_eq(p.dst.a, v4_dst, 4);
	cr_assert_eq(p.sport, 80);
	cr_assert_eq(p.dport, 40000);
	cr_assert_eq(p.transport, IPPROTO_TCP);
	cr_assert_eq(p.seq, 5000);
	cr_assert_eq(p.ack, 6000);
	cr_assert_eq(p.payload, r->data);
	cr_assert_eq(p.payload_len, 10);
	cr_assert_eq(p.wire_len, 10);
	cr_assert_eq(p.tcp_flags, XB_TCP_PSH | XB_TCP_ACK | XB_TCP_FIN);
	cr_assert_eq(p.proto_hint, PROTO_HTTP);
	cr_assert_eq(p.server_is_dst, XB_MATCH_SRC);
	free(r);
}

Test(bpf, record_to_packet_chunks)
{
	uint8_t flags = XB_TCP_SYN | XB_TCP_FIN | XB_TCP_ACK;
	struct xb_record *first = mkrec(0, 4096, 10000, flags, 0);
	struct xb_record *mid = mkrec(4096, 4096, 10000, flags, 0);
	struct xb_record *last = mkrec(8192, 1808, 10000, flags, 0);
	struct packet p;

	cr_assert_eq(capture_record_to_packet(first, HDR_SZ + 4096, 0, &p), 0);
	cr_assert_eq(p.seq, 5000);
	cr_assert_eq(p.wire_len, 4096, "a middle piece is whole");
	cr_assert_eq(p.tcp_flags, XB_TCP_SYN | XB_TCP_ACK);
	cr_assert_eq(capture_record_to_packet(mid, HDR_SZ + 4096, 0, &p), 0);
	cr_assert_eq(p.seq, 5000 + 4096);
	cr_assert_eq(p.wire_len, 4096);
	cr_assert_eq(p.tcp_flags, XB_TCP_ACK);
	cr_assert_eq(capture_record_to_packet(last, HDR_SZ + 1808, 0, &p), 0);
	cr_assert_eq(p.seq, 5000 + 8192);
	cr_assert_eq(p.payload_len, 1808);
	cr_assert_eq(p.wire_len, 1808);
	cr_assert_eq(p.tcp_flags, XB_TCP_FIN | XB_TCP_ACK);
	free(first);
	free(mid);
	free(last);
}

Test(bpf, record_to_packet_truncated_is_gap)
{
	struct xb_record *r = mkrec(4096, 904, 10000, XB_TCP_ACK | XB_TCP_FIN, XB_F_TRUNCATED);
	struct packet p;

	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 904, 0, &p), 0);
	cr_assert_eq(p.payload_len, 904);
	cr_assert_eq(p.wire_len, 10000 - 4096, "the cut tail is reported as missing");
	cr_assert_eq(p.tcp_flags, XB_TCP_ACK | XB_TCP_FIN);
	free(r);
}

Test(bpf, record_to_packet_rejects_bad_records)
{
	struct xb_record *r = mkrec(0, 10, 10, XB_TCP_ACK, 0);
	struct packet p;

	cr_assert_eq(capture_record_to_packet(r, HDR_SZ - 1, 0, &p), -EINVAL);
	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 9, 0, &p), -EINVAL, "cap_len past the record");
	r->family = 5;
	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 10, 0, &p), -EINVAL);
	r->family = 6;
	r->offset = 20;
	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 10, 0, &p), -EINVAL, "offset past wire_len");
	r->offset = 0;
	r->wire_len = 5;
	cr_assert_eq(capture_record_to_packet(r, HDR_SZ + 10, 0, &p), -EINVAL, "cap_len > wire_len");
	free(r);
}

/* ---- the whole capture module on loopback ---- */

static struct config *config_yaml(const char *yaml)
{
	char path[] = "/tmp/xdpbeat-bpf-test-XXXXXX";
	struct cfg_err err = { { 0 } };
	struct config *cfg;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	cfg = config_load(path, NULL, 0, &err);
	unlink(path);
	cr_assert_not_null(cfg, "config: %s", err.msg);
	return cfg;
}

Test(bpf, ports_from_config)
{
	struct config *cfg = config_yaml("xdpbeat.protocols:\n"
					 "  - type: http\n    ports: [80, 8080]\n"
					 "  - type: dns\n    ports: [53]\n");
	static uint16_t tcp[XB_PORTS_ENTRIES], udp[XB_PORTS_ENTRIES];
	size_t ntcp = 0, nudp = 0;

	capture_ports_from_config(cfg, tcp, udp);
	cr_assert_eq(tcp[80], PROTO_HTTP);
	cr_assert_eq(tcp[8080], PROTO_HTTP);
	cr_assert_eq(udp[53], PROTO_DNS);
	cr_assert_eq(udp[80], 0);
	for (size_t i = 0; i < XB_PORTS_ENTRIES; i++) {
		ntcp += tcp[i] != 0;
		nudp += udp[i] != 0;
	}
	cr_assert_eq(nudp, 1);
	cr_assert_eq(ntcp, 3, "http 80, 8080 and dns over tcp 53");
	config_free(cfg);
}

struct got {
	struct packet p;
	uint8_t data[64];
	int n;
};

static void on_pkt(void *ctx, const struct packet *p)
{
	struct got *g = ctx;

	if (p->transport != IPPROTO_UDP || p->payload_len > sizeof(g->data))
		return;
	g->p = *p;
	memcpy(g->data, p->payload, p->payload_len);
	g->p.payload = g->data;
	g->n++;
}

static void send_udp(uint16_t port, const char *msg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(s, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)strlen(msg));
	close(s);
}

/* Poll every ring until fn saw a packet or 20 rounds (2 s at most) passed. */
static void poll_some(struct capture *c, struct got *g)
{
	for (int i = 0; i < 20 && !g->n; i++)
		for (unsigned r = 0; r < capture_rings(c); r++)
			cr_assert_geq(capture_poll(c, r, 100 / capture_rings(c), on_pkt, g), 0);
}

Test(bpf, live_loopback_udp_and_set_ports)
{
	struct config *cfg, *cfg2;
	struct stats st = {};
	struct capture *c = NULL;
	struct got g = { 0 };
	char err[512];

	if (geteuid() != 0)
		cr_skip_test("live capture needs root");
	cfg = config_yaml("xdpbeat.interfaces: [lo]\nxdpbeat.protocols:\n  - type: dns\n    ports: [53531]\n");
	cfg2 = config_yaml("xdpbeat.interfaces: [lo]\nxdpbeat.protocols:\n  - type: dns\n    ports: [53532]\n");
	/* A concurrent live test may hold lo for a moment: retry, 10 s at most. */
	for (int i = 0; i < 10; i++) {
		c = capture_open(cfg, &st, NULL, err, sizeof(err));
		if (c || errno != EBUSY)
			break;
		sleep(1);
	}
	cr_assert_not_null(c, "capture_open: %s", err);

	send_udp(53531, "hello-xdpbeat");
	poll_some(c, &g);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.p.dport, 53531);
	cr_assert_eq(g.p.payload_len, 13);
	cr_assert_arr_eq(g.data, "hello-xdpbeat", 13);
	cr_assert_eq(g.p.proto_hint, PROTO_DNS);
	cr_assert_eq(g.p.server_is_dst, XB_MATCH_DST);
	cr_assert_eq(g.p.src.a[0], 127);

	cr_assert_eq(capture_set_ports(c, cfg2), 0);
	g.n = 0;
	send_udp(53531, "not-watched-now");
	send_udp(53532, "watched-now");
	poll_some(c, &g);
	for (int i = 0; i < 3; i++)
		for (unsigned r = 0; r < capture_rings(c); r++)
			capture_poll(c, r, 10, on_pkt, &g);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.p.dport, 53532);

	capture_read_stats(c, &st);
	cr_assert_eq(stats_get(&st, STAT_KERN_SENT), 2);
	cr_assert_eq(stats_get(&st, STAT_KERN_MATCHED), 2);
	cr_assert_geq(stats_get(&st, STAT_KERN_SEEN), 3);
	capture_close(c);
	config_free(cfg);
	config_free(cfg2);
}

Test(bpf, open_errors_are_clear)
{
	struct config *cfg = config_yaml("xdpbeat.interfaces: [xb-no-such-if]\n");
	struct stats st = {};
	char err[512] = "";

	cr_assert_null(capture_open(cfg, &st, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "xb-no-such-if") && strstr(err, "not found"), "err: %s", err);
	config_free(cfg);
}

Test(bpf, resolve_any_lists_up_interfaces)
{
	char *names[] = { "any" };
	struct strlist any = { .v = names, .n = 1 };
	struct capture_ifaces l = { 0 };
	char err[256] = "";
	bool lo = false;

	cr_assert_eq(capture_ifaces_resolve(&l, &any, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < l.n; i++) {
		cr_assert_eq(if_nametoindex(l.v[i].name), (unsigned)l.v[i].ifindex);
		cr_assert_eq(l.v[i].xdp_link, -1);
		if (l.v[i].loopback) {
			lo = true;
			cr_assert_not(l.v[i].physical, "lo is virtual");
		}
	}
	cr_assert(lo, "any includes lo");
	capture_ifaces_free(&l);
}
