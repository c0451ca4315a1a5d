/* Offline input: libpcap reads the file, decode_frame() each packet, hand it on (to the workers). */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "log.h"

struct pcap_input {
	pcap_t *p;
	int linktype;
	char path[];
};

struct pcap_input *pcap_input_open(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_input *in;
	pcap_t *p;
	int linktype;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		log_error("%s: %s", path, errbuf);
		return NULL;
	}
	linktype = pcap_datalink(p);
	if (!decode_link_supported(linktype)) {
		const char *name = pcap_datalink_val_to_name(linktype);

		log_error("%s: link type %d (%s) is not supported; expected Ethernet, Linux cooked (SLL, SLL2), "
			  "raw IP or loopback",
			  path, linktype, name ? name : "unknown");
		pcap_close(p);
		return NULL;
	}
	in = malloc(sizeof(*in) + strlen(path) + 1);
	if (!in) {
		log_error("%s: out of memory", path);
		pcap_close(p);
		return NULL;
	}
	in->p = p;
	in->linktype = linktype;
	strcpy(in->path, path);
	return in;
}

void pcap_input_close(struct pcap_input *in)
{
	if (!in)
		return;
	pcap_close(in->p);
	free(in);
}

int pcap_input_run(struct pcap_input *in, packet_fn fn, void *ctx, struct stats *st, const atomic_bool *stop)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p = in->p;
	const char *path = in->path;
	int linktype = in->linktype, rc = 0;

	while (!atomic_load(stop) && (rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		struct packet pkt;
		int err = decode_frame(linktype, data, hdr->caplen, hdr->len, &pkt);

		if (err == -EINVAL)
			stats_add(st, STAT_DECODE_ERRORS, 1);
		else if (err)
			stats_add(st, STAT_SKIPPED, 1); /* not TCP/UDP over IP (ARP, ICMP...) or a later fragment */
		if (err)
			continue;
		pkt.ts = (uint64_t)hdr->ts.tv_sec * 1000000000u + (uint64_t)hdr->ts.tv_usec;
		pkt.ifindex = 0;
		pkt.proto_hint = 0;
		pkt.server_is_dst = 0;
		fn(ctx, &pkt);
	}
	if (!atomic_load(stop) && rc == -1) {
		/* A damaged or cut file: what was read is processed, and the exit status says so. */
		log_error("%s: %s", path, pcap_geterr(p));
		stats_add(st, STAT_DECODE_ERRORS, 1);
		return -EIO;
	}
	return 0;
}
