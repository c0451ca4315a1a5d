/* Offline input: read a pcap/pcapng file through the pipeline. */
#ifndef XDPBEAT_INPUT_H
#define XDPBEAT_INPUT_H

#include <stdatomic.h>

#include "capture.h"
#include "stats.h"

/*
 * Each TCP/UDP packet of the file goes to fn(ctx, pkt) (the payload is only
 * valid during the call); undecodable frames are counted in st. Returns 0 at end of file, -errno (message on stderr) when the file cannot
 * be opened or is damaged/cut (the packets before the damage are processed).
 */
int pcap_input_run(const char *path, packet_fn fn, void *ctx, struct stats *st, const atomic_bool *stop);

#endif
