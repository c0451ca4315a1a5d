/* Baseline for the benchmarks: a bare libpcap read loop over a file (touches every byte). */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long long pkts = 0, sum = 0;
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_read file.pcap\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (!p) {
		fprintf(stderr, "%s\n", errbuf);
		return 1;
	}
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		for (bpf_u_int32 i = 0; i < hdr->caplen; i++)
			sum += data[i];
		pkts++;
	}
	pcap_close(p);
	printf("%llu packets (checksum %llu)\n", pkts, sum);
	return 0;
}
