/*
 * Live capture: load the xdpbeat programs (skeleton), fill the ports maps
 * from the config, attach (user/capture_attach.c), read the ring buffer and
 * turn each record into a struct packet.
 *
 * open -> set .rodata knobs (snaplen, wake-up threshold) -> ring size ->
 * load (verifier log tail on failure) -> ports maps -> attach -> ring buffer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "capture_int.h"
#include "proto.h"
#include "record.h"
#include "xdpbeat.skel.h"

#define CAPTURE_RING_DEFAULT (8u << 20)
#define CAPTURE_RING_MIN (64u << 10)
#define CAPTURE_RING_MAX (1u << 30)
#define CAPTURE_WAKEUP_MAX (256u << 10)
/* Records are submitted without wake-ups: never sleep longer than this. */
#define CAPTURE_POLL_MAX_MS 100
#define CAPTURE_LOG_TAIL 8192

/*
 * A UDP datagram larger than one record arrives as several chunks (the
 * records of one program run, possibly interleaved with other CPUs'
 * records): they are put back together before the datagram is parsed.
 */
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

struct capture {
	struct xdpbeat_bpf *skel;
	struct udp_asm *udp; /* UDP_ASM_SLOTS, allocated on first use */
	unsigned udp_next; /* slot to evict next */
	struct ring_buffer *rb;
	struct capture_ifaces ifaces;
	struct stats *st;
	int64_t clock_off;
	packet_fn fn;
	void *fn_ctx;
	int handled;
	uint16_t tcp_ports[XB_PORTS_ENTRIES]; /* what the maps hold now */
	uint16_t udp_ports[XB_PORTS_ENTRIES];
};

/* ---- libbpf log: debug lines only with -d, warnings kept for the verifier tail ---- */

/* libbpf's print callback takes no context: capture_open() sets these from its options. */
static bool log_debug;
static char log_tail[CAPTURE_LOG_TAIL];
static size_t log_tail_len;

static void log_keep(const char *s, size_t n)
{
	if (n >= sizeof(log_tail)) {
		s += n - (sizeof(log_tail) - 1);
		n = sizeof(log_tail) - 1;
	}
	if (log_tail_len + n >= sizeof(log_tail)) {
		size_t drop = log_tail_len + n - (sizeof(log_tail) - 1);

		memmove(log_tail, log_tail + drop, log_tail_len - drop);
		log_tail_len -= drop;
	}
	memcpy(log_tail + log_tail_len, s, n);
	log_tail_len += n;
	log_tail[log_tail_len] = '\0';
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024], *text = line;
	va_list ap2;
	int n;

	if (level == LIBBPF_DEBUG && !log_debug)
		return 0;
	va_copy(ap2, ap);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	/* The verifier log comes in one piece, often megabytes: keep its end. */
	if (n >= (int)sizeof(line)) {
		text = malloc((size_t)n + 1);
		if (text) {
			vsnprintf(text, (size_t)n + 1, fmt, ap2);
		} else {
			text = line;
			n = sizeof(line) - 1;
		}
	}
	va_end(ap2);
	if (n > 0) {
		if (log_debug)
			fputs(text, stderr);
		else
			log_keep(text, (size_t)n);
	}
	if (text != line)
		free(text);
	return n;
}

static void log_tail_print(void)
{
	const char *p = log_tail;
	size_t len = log_tail_len;

	if (!len)
		return;
	/* Show the last ~30 lines: where the verifier gave up. */
	for (int lines = 0; len > 0; len--) {
		if (p[len - 1] == '\n' && ++lines > 30)
			break;
	}
	fprintf(stderr, "xdpbeat: libbpf/verifier log (tail):\n%s", p + len);
}

/* ---- helpers ---- */

int64_t capture_clock_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + ((int64_t)rt.tv_nsec - mono.tv_nsec);
}

static uint32_t ring_size_of(uint64_t want)
{
	uint64_t sz = CAPTURE_RING_MIN;
	long page = sysconf(_SC_PAGESIZE);

	if (want == 0)
		want = CAPTURE_RING_DEFAULT;
	if (want > CAPTURE_RING_MAX)
		want = CAPTURE_RING_MAX;
	while (sz < want || (page > 0 && sz < (uint64_t)page))
		sz <<= 1;
	return (uint32_t)sz;
}

void capture_ports_from_config(const struct config *cfg, uint16_t *tcp, uint16_t *udp)
{
	memset(tcp, 0, XB_PORTS_ENTRIES * sizeof(*tcp));
	memset(udp, 0, XB_PORTS_ENTRIES * sizeof(*udp));
	for (size_t i = 0; i < cfg->nprotos; i++) {
		const struct proto_cfg *p = &cfg->protos[i];

		if (!p->enabled || !p->ops)
			continue;
		for (size_t j = 0; j < p->ports.n; j++) {
			uint16_t port = p->ports.v[j];

			if ((p->ops->transports & XB_TRANSPORT_TCP) && !tcp[port])
				tcp[port] = (uint16_t)p->ops->id;
			if ((p->ops->transports & XB_TRANSPORT_UDP) && !udp[port])
				udp[port] = (uint16_t)p->ops->id;
		}
	}
}

/* Make map (a ports array) hold want; cur is what it holds. New entries first, then removals. */
static int ports_sync(int map_fd, uint16_t *cur, const uint16_t *want)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t port = 0; port < XB_PORTS_ENTRIES; port++) {
			if (cur[port] == want[port] || (pass == 0) != (want[port] != 0))
				continue;
			if (bpf_map_update_elem(map_fd, &port, &want[port], BPF_ANY))
				return -errno;
			cur[port] = want[port];
		}
	}
	return 0;
}

int capture_set_ports(struct capture *c, const struct config *cfg)
{
	uint16_t *tcp, *udp;
	int ret;

	tcp = malloc(2 * XB_PORTS_ENTRIES * sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	udp = tcp + XB_PORTS_ENTRIES;
	capture_ports_from_config(cfg, tcp, udp);
	ret = ports_sync(bpf_map__fd(c->skel->maps.tcp_ports), c->tcp_ports, tcp);
	if (!ret)
		ret = ports_sync(bpf_map__fd(c->skel->maps.udp_ports), c->udp_ports, udp);
	free(tcp);
	return ret;
}

/* ---- records ---- */

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
	return 0;
}

static void deliver(struct capture *c, const struct packet *pkt)
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

static void count_error(struct capture *c)
{
	if (c->st)
		stats_add(c->st, STAT_DECODE_ERRORS, 1);
}

/* Hand over what a slot holds (a cut datagram if not complete: its parser counts it) and free it. */
static void asm_flush(struct capture *c, struct udp_asm *a)
{
	a->pkt.payload = a->buf;
	a->pkt.payload_len = a->have;
	a->pkt.wire_len = a->wire_len;
	a->used = false;
	deliver(c, &a->pkt);
}

/* One chunk (pkt, from record r) of a UDP datagram split over records. */
static void udp_chunk(struct capture *c, const struct xb_record *r, const struct packet *pkt)
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

static int on_record(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct xb_record *r = data;
	struct packet pkt;

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

int capture_poll(struct capture *c, int timeout_ms, packet_fn fn, void *ctx)
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

void capture_read_stats(struct capture *c, struct stats *st)
{
	static const enum stat_id map[XB_STAT_MAX] = {
		[XB_STAT_SEEN] = STAT_KERN_SEEN,
		[XB_STAT_MATCHED] = STAT_KERN_MATCHED,
		[XB_STAT_SENT] = STAT_KERN_SENT,
		[XB_STAT_RB_FULL] = STAT_KERN_RB_FULL,
		[XB_STAT_TRUNC_BYTES] = STAT_KERN_TRUNC_BYTES,
	};
	int ncpu = libbpf_num_possible_cpus();
	int fd;

	if (!c || ncpu <= 0)
		return;
	fd = bpf_map__fd(c->skel->maps.stats);
	{
		uint64_t vals[ncpu];

		for (uint32_t k = 0; k < XB_STAT_MAX; k++) {
			uint64_t sum = 0;

			if (bpf_map_lookup_elem(fd, &k, vals))
				continue;
			for (int i = 0; i < ncpu; i++)
				sum += vals[i];
			stats_set(st, map[k], sum);
		}
	}
}

/* ---- open / close ---- */

static int load_error(int ret, char *err, size_t errlen)
{
	if ((ret == -EPERM || ret == -EACCES) && geteuid() != 0) {
		snprintf(err, errlen,
			 "loading BPF programs: permission denied: live capture needs root "
			 "(CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON); use -I file.pcap to read a capture");
		return ret;
	}
	log_tail_print();
	snprintf(err, errlen, "loading BPF programs failed: %s (the kernel refused them; log above)", strerror(-ret));
	return ret;
}

static int capture_load(struct capture *c, const struct config *cfg, char *err, size_t errlen)
{
	uint32_t ring = ring_size_of(cfg->ring_size);
	uint32_t snap = cfg->snaplen && cfg->snaplen < XB_PAYLOAD_MAX ? cfg->snaplen : XB_PAYLOAD_MAX;
	int ret;

	if (cfg->ring_size && ring != cfg->ring_size)
		fprintf(stderr, "xdpbeat: ring_size %llu raised to %u bytes (a record can be 4 KiB)\n",
			(unsigned long long)cfg->ring_size, ring);
	c->skel = xdpbeat_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "opening BPF object: %s", strerror(errno));
		return -errno;
	}
	c->skel->rodata->snaplen = snap;
	c->skel->rodata->wakeup_bytes = ring / 4 < CAPTURE_WAKEUP_MAX ? ring / 4 : CAPTURE_WAKEUP_MAX;
	ret = bpf_map__set_max_entries(c->skel->maps.rb, ring);
	if (ret) {
		snprintf(err, errlen, "ring buffer size %u: %s", ring, strerror(-ret));
		return ret;
	}
	log_tail_len = 0;
	log_tail[0] = '\0';
	ret = xdpbeat_bpf__load(c->skel);
	if (ret)
		return load_error(ret, err, errlen);
	return 0;
}

struct capture *capture_open(const struct config *cfg, struct stats *st, const struct capture_opts *opts, char *err,
			     size_t errlen)
{
	struct capture *c;
	int ret;

	log_debug = opts && opts->debug;
	libbpf_set_print(libbpf_log);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "kernel BTF missing (/sys/kernel/btf/vmlinux): live capture needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF; use -I file.pcap to read a capture");
		errno = ENOTSUP;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->st = st;
	c->clock_off = capture_clock_offset();
	ret = capture_ifaces_resolve(&c->ifaces, &cfg->interfaces, err, errlen);
	if (ret)
		goto out_free;
	ret = capture_load(c, cfg, err, errlen);
	if (ret)
		goto out_free;
	ret = capture_set_ports(c, cfg);
	if (ret) {
		snprintf(err, errlen, "writing the ports maps: %s", strerror(-ret));
		goto out_free;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.rb), on_record, c, NULL);
	if (!c->rb) {
		ret = -errno;
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		goto out_free;
	}
	ret = capture_ifaces_attach(&c->ifaces, bpf_program__fd(c->skel->progs.xdpbeat_xdp),
				    bpf_program__fd(c->skel->progs.xdpbeat_tc), err, errlen);
	if (ret)
		goto out_free;
	return c;

out_free:
	capture_close(c);
	errno = ret < 0 ? -ret : EINVAL;
	return NULL;
}

size_t capture_describe(const struct capture *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->ifaces.n && n < len; i++) {
		const struct capture_iface *it = &c->ifaces.v[i];
		bool xdp = it->xdp_link >= 0;
		bool in = it->tc[CAPTURE_TC_IN].link >= 0 || it->tc[CAPTURE_TC_IN].netlink;
		bool out = it->tc[CAPTURE_TC_OUT].link >= 0 || it->tc[CAPTURE_TC_OUT].netlink;
		int w = snprintf(buf + n, len - n, "%s%s (%s%s%s)", i ? ", " : "", it->name,
				 xdp  ? "xdp"
				 : in ? "tc ingress"
				      : "",
				 (xdp || in) && out ? ", " : "", out ? "tc egress" : "");

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return c->ifaces.n;
}

uint64_t capture_now(const struct capture *c)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint64_t)mono.tv_sec * 1000000000u + (uint64_t)mono.tv_nsec + (uint64_t)c->clock_off;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	capture_ifaces_free(&c->ifaces);
	ring_buffer__free(c->rb);
	xdpbeat_bpf__destroy(c->skel);
	free(c->udp);
	free(c);
}
