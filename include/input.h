/* Offline input: read a pcap/pcapng file through the pipeline. */
#ifndef XDPBEAT_INPUT_H
#define XDPBEAT_INPUT_H

#include <stdatomic.h>

#include "capture.h"
#include "stats.h"

/*
 * Opened before the privileges go (the file may be readable by root only,
 * as tcpdump -r -Z): NULL (message logged) when it cannot be opened or its
 * link type is not supported.
 */
struct pcap_input;
struct pcap_input *pcap_input_open(const char *path);
/*
 * Each TCP/UDP packet of the file goes to fn(ctx, pkt) (the payload is only
 * valid during the call); undecodable frames are counted in st. Returns 0
 * at end of file, -EIO (message logged) when the file is damaged or cut
 * (the packets before the damage are processed).
 */
int pcap_input_run(struct pcap_input *in, packet_fn fn, void *ctx, struct stats *st, const atomic_bool *stop);
void pcap_input_close(struct pcap_input *in);

#endif
