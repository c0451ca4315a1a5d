/*
 * Cost of the capture programs per packet, measured with BPF_PROG_TEST_RUN
 * (the kernel runs the program `repeat` times on one frame and reports the
 * mean time). Baseline: an empty XDP / TC program. Cases: a packet on an
 * unwatched port (the cost every other packet of the host pays), matching
 * packets of 64 B and 1514 B frames (record + payload copy into the ring
 * buffer, consumed between runs so the ring never fills).
 *
 * Usage: bpf_cost [packets]   (default 2000000 per case; needs root)
 * Prints a markdown table; exit 1 if non-matching XDP costs > 1.5x empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "empty.skel.h"
#include "record.h"
#include "xdpbeat.skel.h"

#define TRIALS 5
/* Matching runs: packets per test-run call, so that one call's records fit the ring. */
#define MATCH_BATCH 4096
#define RING_SIZE (64u << 20)

struct bench {
	struct empty_bpf *empty;
	struct xdpbeat_bpf *xb;
	struct ring_buffer *rb;
	uint64_t records;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Ethernet + IPv4 + TCP (PSH|ACK) frame of frame_len bytes to dport. */
static size_t build_frame(uint8_t *buf, size_t frame_len, uint16_t dport)
{
	size_t payload = frame_len - 54;

	memset(buf, 0, frame_len);
	buf[0] = 2;
	buf[6] = 2;
	put16(buf + 12, 0x0800);
	buf[14] = 0x45;
	put16(buf + 16, (uint16_t)(40 + payload));
	buf[22] = 64;
	buf[23] = 6;
	buf[26] = 10, buf[29] = 1;
	buf[30] = 10, buf[33] = 2;
	put16(buf + 34, 40000);
	put16(buf + 36, dport);
	buf[38 + 3] = 1; /* seq */
	buf[46] = 0x50;
	buf[47] = 0x18;
	put16(buf + 48, 65535);
	for (size_t i = 0; i < payload; i++)
		buf[54 + i] = (uint8_t)('a' + i % 26);
	return frame_len;
}

static int count_record(void *ctx, void *data, size_t size)
{
	((struct bench *)ctx)->records++;
	return 0;
}

/* Mean ns per run of prog over total packets, in calls of batch repeats. */
static double run_case(struct bench *b, struct bpf_program *prog, const uint8_t *frame, size_t len, long total,
		       long batch)
{
	double sum = 0;
	long done = 0;

	while (done < total) {
		long n = total - done < batch ? total - done : batch;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
			    .repeat = (int)n);
		int ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

		if (ret) {
			fprintf(stderr, "bpf_cost: test run of %s: %s\n", bpf_program__name(prog), strerror(-ret));
			exit(2);
		}
		sum += (double)o.duration * (double)n;
		done += n;
		if (b->rb)
			ring_buffer__consume(b->rb);
	}
	return sum / (double)total;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of TRIALS runs. */
static double measure(struct bench *b, struct bpf_program *prog, const uint8_t *frame, size_t len, long total,
		      long batch)
{
	double v[TRIALS];

	for (int i = 0; i < TRIALS; i++)
		v[i] = run_case(b, prog, frame, len, total, batch);
	qsort(v, TRIALS, sizeof(v[0]), cmp_double);
	return v[TRIALS / 2];
}

static uint64_t kstat(struct bench *b, enum xb_stat id)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu], sum = 0;
	uint32_t k = id;

	if (bpf_map_lookup_elem(bpf_map__fd(b->xb->maps.stats), &k, vals))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

static int setup(struct bench *b)
{
	uint32_t port = 80;
	uint16_t proto = PROTO_HTTP;

	b->empty = empty_bpf__open_and_load();
	if (!b->empty)
		return -errno;
	b->xb = xdpbeat_bpf__open();
	if (!b->xb)
		return -errno;
	bpf_map__set_max_entries(b->xb->maps.rb, RING_SIZE);
	/* Never wake a consumer: the bench consumes between runs. */
	b->xb->rodata->wakeup_bytes = RING_SIZE;
	if (xdpbeat_bpf__load(b->xb))
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(b->xb->maps.tcp_ports), &port, &proto, BPF_ANY))
		return -errno;
	b->rb = ring_buffer__new(bpf_map__fd(b->xb->maps.rb), count_record, b, NULL);
	return b->rb ? 0 : -errno;
}

int main(int argc, char **argv)
{
	static uint8_t f_miss[64], f_64[64], f_1514[1514];
	struct bench b = { 0 };
	long total = argc > 1 ? atol(argv[1]) : 2000000;
	double empty_xdp, empty_tc, miss_xdp, miss_tc, m64_xdp, m1514_xdp, m64_tc, m1514_tc;
	int ret;

	if (total < 1000)
		total = 1000;
	ret = setup(&b);
	if (ret) {
		fprintf(stderr, "bpf_cost: loading programs: %s%s\n", strerror(-ret),
			geteuid() ? " (needs root)" : "");
		return 2;
	}
	build_frame(f_miss, sizeof(f_miss), 81);
	build_frame(f_64, sizeof(f_64), 80);
	build_frame(f_1514, sizeof(f_1514), 80);

	empty_xdp = measure(&b, b.empty->progs.empty_xdp, f_miss, sizeof(f_miss), total, total);
	miss_xdp = measure(&b, b.xb->progs.xdpbeat_xdp, f_miss, sizeof(f_miss), total, total);
	m64_xdp = measure(&b, b.xb->progs.xdpbeat_xdp, f_64, sizeof(f_64), total, MATCH_BATCH);
	m1514_xdp = measure(&b, b.xb->progs.xdpbeat_xdp, f_1514, sizeof(f_1514), total, MATCH_BATCH);
	empty_tc = measure(&b, b.empty->progs.empty_tc, f_miss, sizeof(f_miss), total, total);
	miss_tc = measure(&b, b.xb->progs.xdpbeat_tc, f_miss, sizeof(f_miss), total, total);
	m64_tc = measure(&b, b.xb->progs.xdpbeat_tc, f_64, sizeof(f_64), total, MATCH_BATCH);
	m1514_tc = measure(&b, b.xb->progs.xdpbeat_tc, f_1514, sizeof(f_1514), total, MATCH_BATCH);

	printf("BPF_PROG_TEST_RUN, %ld packets per case, median of %d trials\n\n", total, TRIALS);
	printf("| program | case | ns/packet | ratio to empty |\n|---|---|---:|---:|\n");
	printf("| XDP | empty program | %.1f | 1.00 |\n", empty_xdp);
	printf("| XDP | xdpbeat, port not watched | %.1f | %.2f |\n", miss_xdp, miss_xdp / empty_xdp);
	printf("| XDP | xdpbeat, matching, 64 B frame | %.1f | %.2f |\n", m64_xdp, m64_xdp / empty_xdp);
	printf("| XDP | xdpbeat, matching, 1514 B frame | %.1f | %.2f |\n", m1514_xdp, m1514_xdp / empty_xdp);
	printf("| TC | empty program | %.1f | 1.00 |\n", empty_tc);
	printf("| TC | xdpbeat, port not watched | %.1f | %.2f |\n", miss_tc, miss_tc / empty_tc);
	printf("| TC | xdpbeat, matching, 64 B frame | %.1f | %.2f |\n", m64_tc, m64_tc / empty_tc);
	printf("| TC | xdpbeat, matching, 1514 B frame | %.1f | %.2f |\n", m1514_tc, m1514_tc / empty_tc);
	printf("\nrecords read: %llu, kernel: sent=%llu ringbuf_full=%llu\n", (unsigned long long)b.records,
	       (unsigned long long)kstat(&b, XB_STAT_SENT), (unsigned long long)kstat(&b, XB_STAT_RB_FULL));
	printf("target: non-matching XDP <= 1.5x empty: %s (%.2fx)\n", miss_xdp / empty_xdp <= 1.5 ? "PASS" : "FAIL",
	       miss_xdp / empty_xdp);

	ring_buffer__free(b.rb);
	xdpbeat_bpf__destroy(b.xb);
	empty_bpf__destroy(b.empty);
	return miss_xdp / empty_xdp <= 1.5 ? 0 : 1;
}
