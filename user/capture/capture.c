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
#include "log.h"
#include "proto.h"
#include "record.h"
#include "xdpbeat.skel.h"

#define CAPTURE_RING_DEFAULT (8u << 20)
#define CAPTURE_RING_MIN (64u << 10)
#define CAPTURE_RING_MAX (1u << 30)
#define CAPTURE_WAKEUP_MAX (256u << 10)
#define CAPTURE_LOG_TAIL 8192

struct capture {
	struct xdpbeat_bpf *skel;
	struct capture_ring *rings[XB_MAX_RINGS];
	unsigned nrings;
	struct capture_ifaces ifaces;
	struct stats *st;
	int64_t clock_off;
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
			log_text(LOG_LVL_DEBUG, text);
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
	size_t len = log_tail_len, n;

	if (!len)
		return;
	/* Show the last ~30 lines: where the verifier gave up. */
	for (int lines = 0; len > 0; len--) {
		if (p[len - 1] == '\n' && ++lines > 30)
			break;
	}
	n = log_tail_len - len;
	if (n && p[len + n - 1] == '\n')
		n--; /* log_error ends the line */
	log_error("libbpf/verifier log (tail):\n%.*s", (int)n, p + len);
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
	log_debug("capture", "ports maps updated: %s", ret ? strerror(-ret) : "ok");
	return ret;
}

/* ---- polling ---- */

int capture_poll(struct capture *c, unsigned ring, int timeout_ms, packet_fn fn, void *ctx)
{
	if (ring >= c->nrings)
		return -EINVAL;
	return capture_ring_poll(c->rings[ring], timeout_ms, fn, ctx);
}

int capture_skel_skip(struct xdpbeat_bpf *skel, const struct xb_skip_key *k, uint32_t end_seq)
{
	skel->bss->skips_armed = 1; /* before the entry: the programs look entries up from now on */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.skips), k, &end_seq, BPF_ANY))
		return -errno;
	return 0;
}

int capture_skip(struct capture *c, const struct xb_skip_key *k, uint32_t end_seq)
{
	return capture_skel_skip(c->skel, k, end_seq);
}

unsigned capture_rings(const struct capture *c)
{
	return c->nrings;
}

void capture_read_stats(struct capture *c, struct stats *st)
{
	static const enum stat_id map[XB_STAT_MAX] = {
		[XB_STAT_SEEN] = STAT_KERN_SEEN,
		[XB_STAT_MATCHED] = STAT_KERN_MATCHED,
		[XB_STAT_SENT] = STAT_KERN_SENT,
		[XB_STAT_RB_FULL] = STAT_KERN_RB_FULL,
		[XB_STAT_TRUNC_BYTES] = STAT_KERN_TRUNC_BYTES,
		[XB_STAT_SKIPPED_BYTES] = STAT_KERN_SKIPPED_BYTES,
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

int capture_rings_create(struct xdpbeat_bpf *skel, unsigned n, uint32_t bytes, int *fds)
{
	if (n == 0 || n > XB_MAX_RINGS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "xdpbeat_ring", 0, 0, bytes, NULL);
		if (fds[i] < 0)
			return -errno;
	}
	skel->rodata->nrings = n;
	/* The first ring is the rings map's prototype (libbpf would make an 8 MiB one). */
	return bpf_map__set_inner_map_fd(skel->maps.rings, fds[0]);
}

int capture_rings_fill(struct xdpbeat_bpf *skel, unsigned n, const int *fds)
{
	int outer = bpf_map__fd(skel->maps.rings);

	for (uint32_t i = 0; i < n; i++)
		if (bpf_map_update_elem(outer, &i, &fds[i], BPF_ANY))
			return -errno;
	return 0;
}

/* Each ring's share of ring_size (a power of two, at least CAPTURE_RING_MIN and a page). */
static uint32_t ring_share(const struct config *cfg, unsigned n)
{
	uint32_t total = ring_size_of(cfg->ring_size), each = ring_size_of(total / n);

	if (cfg->ring_size && total != cfg->ring_size)
		log_warn("ring_size %llu raised to %u bytes (a record can be 4 KiB)",
			 (unsigned long long)cfg->ring_size, total);
	while ((uint64_t)each * n > total && each > CAPTURE_RING_MIN)
		each >>= 1;
	return each;
}

static int capture_load(struct capture *c, const struct config *cfg, uint32_t ring, int *fds, char *err, size_t errlen)
{
	uint32_t snap = cfg->snaplen && cfg->snaplen < XB_PAYLOAD_MAX ? cfg->snaplen : XB_PAYLOAD_MAX;
	int ret;

	c->skel = xdpbeat_bpf__open();
	if (!c->skel) {
		snprintf(err, errlen, "opening BPF object: %s", strerror(errno));
		return -errno;
	}
	c->skel->rodata->snaplen = snap;
	c->skel->rodata->wakeup_bytes = ring / 4 < CAPTURE_WAKEUP_MAX ? ring / 4 : CAPTURE_WAKEUP_MAX;
	ret = capture_rings_create(c->skel, c->nrings, ring, fds);
	if (ret == -EPERM || ret == -EACCES)
		return load_error(ret, err, errlen);
	if (ret) {
		snprintf(err, errlen, "ring buffers (%u of %u bytes): %s", c->nrings, ring, strerror(-ret));
		return ret;
	}
	log_tail_len = 0;
	log_tail[0] = '\0';
	ret = xdpbeat_bpf__load(c->skel);
	if (ret)
		return load_error(ret, err, errlen);
	log_debug("capture", "BPF programs loaded: %u ring buffer(s) of %u bytes, snaplen %u, wakeup every %u bytes",
		  c->nrings, ring, snap, c->skel->rodata->wakeup_bytes);
	return 0;
}

/* The rings (created before load) into the rings map, each with its reader. */
static int open_rings(struct capture *c, const int *fds, char *err, size_t errlen)
{
	int ret = capture_rings_fill(c->skel, c->nrings, fds);

	for (unsigned i = 0; i < c->nrings && !ret; i++) {
		c->rings[i] = capture_ring_new(fds[i], c->clock_off, c->st);
		if (!c->rings[i])
			ret = -errno;
	}
	if (ret)
		snprintf(err, errlen, "ring buffers: %s", strerror(-ret));
	return ret;
}

/* The rings map and the readers' mappings keep the ring buffers. */
static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

struct capture *capture_open(const struct config *cfg, struct stats *st, const struct capture_opts *opts, char *err,
			     size_t errlen)
{
	int fds[XB_MAX_RINGS];
	struct capture *c;
	uint32_t ring;
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
	c->nrings = cfg->workers > 0 && cfg->workers <= XB_MAX_RINGS ? (unsigned)cfg->workers : 1;
	for (unsigned i = 0; i < c->nrings; i++)
		fds[i] = -1;
	ring = ring_share(cfg, c->nrings);
	ret = capture_ifaces_resolve(&c->ifaces, &cfg->interfaces, err, errlen);
	if (ret)
		goto out_free;
	ret = capture_load(c, cfg, ring, fds, err, errlen);
	if (ret)
		goto out_free;
	ret = capture_set_ports(c, cfg);
	if (ret) {
		snprintf(err, errlen, "writing the ports maps: %s", strerror(-ret));
		goto out_free;
	}
	ret = open_rings(c, fds, err, errlen);
	close_fds(fds, c->nrings);
	if (ret)
		goto out_free;
	ret = capture_ifaces_attach(&c->ifaces, bpf_program__fd(c->skel->progs.xdpbeat_xdp),
				    bpf_program__fd(c->skel->progs.xdpbeat_tc), err, errlen);
	if (ret)
		goto out_free;
	return c;

out_free:
	close_fds(fds, c->nrings);
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
	for (unsigned i = 0; i < c->nrings; i++)
		capture_ring_free(c->rings[i]);
	xdpbeat_bpf__destroy(c->skel);
	free(c);
}
